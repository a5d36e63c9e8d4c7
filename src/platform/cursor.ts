import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.ts'

/**
 * Opaque, signed keyset cursors (API.md §7). A cursor carries the last row's sort key and id and a
 * hash of what it was made for (route, scope, filters, sort); it is HMAC-signed with a key every
 * instance shares (server_secrets), so it cannot be forged, edited, or reused with other filters.
 */
export interface CursorPosition {
  /** The sort column's value of the last row, as Postgres text (exact: no µs lost). */
  key: string
  id: string
}

export class CursorCodec {
  readonly #key: Buffer
  constructor(signingKeyHex: string) {
    this.#key = Buffer.from(signingKeyHex, 'hex')
  }

  encode(position: CursorPosition, binding: string): string {
    const body = Buffer.from(JSON.stringify({ k: position.key, i: position.id, b: binding })).toString('base64url')
    return `${body}.${this.#sign(body)}`
  }

  decode(cursor: string, binding: string): CursorPosition {
    const invalid = () => new ApiError('INVALID_CURSOR', 'The cursor is malformed, was tampered with, or was made for other filters or sort; start again without it.')
    const dot = cursor.indexOf('.')
    if (dot <= 0 || cursor.length > 1024) throw invalid()
    const body = cursor.slice(0, dot)
    const signature = Buffer.from(cursor.slice(dot + 1), 'base64url')
    const expected = Buffer.from(this.#sign(body), 'base64url')
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw invalid()
    let parsed: { k?: unknown; i?: unknown; b?: unknown }
    try {
      parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    } catch {
      throw invalid()
    }
    if (typeof parsed.k !== 'string' || typeof parsed.i !== 'string' || parsed.b !== binding) throw invalid()
    return { key: parsed.k, id: parsed.i }
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, 18).toString('base64url')
  }
}

/** A short, stable hash of what a cursor is bound to. */
export function bindingOf(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22)
}
