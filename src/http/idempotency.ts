import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import type { Clock } from '../platform/clock.ts'
import type { Db, OpenTransaction, RequestScopedDb } from '../platform/db.ts'
import type { Services } from '../modules/services.ts'
import { ApiError, errorEnvelope } from '../platform/errors.ts'
import { findStoredResponse, storeResponse, tryLockKey } from '../modules/idempotency/repository.ts'

/**
 * Idempotency-Key on every POST (API.md §8). The request runs in one transaction that first takes
 * an advisory lock on (partner, mode, key) — a second request with the key while the first runs
 * gets 409 IDEMPOTENCY_REQUEST_IN_PROGRESS — and finally stores the response next to the business
 * writes, committing both together. A crash leaves neither; the lock dies with the transaction
 * (at the latest when PostgreSQL's idle_in_transaction_session_timeout, 60 s, ends it).
 */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000
export const KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$'

// Headers that describe this exchange, not the stored result: never replayed.
const NOT_REPLAYED = new Set([
  'x-request-id', 'date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'retry-after',
  'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-bucket', 'ratelimit', 'ratelimit-policy',
  'strict-transport-security', 'x-content-type-options', 'referrer-policy', 'x-frame-options', 'cache-control',
])

interface InFlight {
  tx: OpenTransaction
  /** Services whose database is this transaction. */
  services: Services
  key: string
  fingerprint: string
  done: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: InFlight | null
  }
}

/** JSON with sorted keys: the same body in another key order is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export function fingerprintOf(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${body === undefined ? '' : canonicalJson(body)}`).digest('base64url')
}

export function installIdempotency(app: FastifyInstance, db: RequestScopedDb, clock: Clock, publicBaseUrl: string, servicesOn: (db: Db) => Services): void {
  app.decorateRequest('idempotency', null)

  // every POST documents (and validates) the header
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (!methods.includes('POST')) return
    const schema = (route.schema ??= {}) as { headers?: { type?: string; properties?: Record<string, unknown> } }
    if (!(schema as { hide?: boolean }).hide) {
      const required = (route.config as { idempotencyKeyRequired?: boolean } | undefined)?.idempotencyKeyRequired === true
      const headers = (schema.headers ??= { type: 'object', properties: {} }) as { properties?: Record<string, unknown>; required?: string[] }
      headers.properties ??= {}
      headers.properties['idempotency-key'] = {
        type: 'string',
        pattern: KEY_PATTERN,
        maxLength: 255,
        description: required
          ? 'Required here: this POST moves money. Makes it safe to retry for 24 h: the same key and request replay the first response (Idempotent-Replayed: true).'
          : 'Makes the POST safe to retry for 24 h: the same key and request replay the first response (Idempotent-Replayed: true).',
      }
      if (required) headers.required = [...(headers.required ?? []), 'idempotency-key']
    }
  })

  // a POST that moves money says so before its body is even validated: no key, no work
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.routeOptions.config.idempotencyKeyRequired && request.headers['idempotency-key'] === undefined) {
      throw new ApiError('IDEMPOTENCY_KEY_REQUIRED', 'POST with an Idempotency-Key header (1–255 printable characters, e.g. a UUID you keep with the payment): a retry with the same key can never record the payment twice.', {
        fields: [{ field: 'Idempotency-Key', location: 'header', code: 'required', message: 'is required on this route' }],
      })
    }
  })

  // after auth, rate limit and validation: a request refused before any work stores nothing
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !request.auth) return
    const key = request.headers['idempotency-key']
    if (key === undefined) return
    if (typeof key !== 'string' || !new RegExp(KEY_PATTERN).test(key)) {
      throw new ApiError('VALIDATION_ERROR', 'Idempotency-Key must be 1–255 printable ASCII characters.', {
        fields: [{ field: 'Idempotency-Key', location: 'header', code: 'pattern', message: 'must be 1–255 printable ASCII characters' }],
      })
    }
    const { partnerId, mode } = request.auth
    const path = request.url.split('?')[0] ?? '/'
    const fingerprint = fingerprintOf(request.method, path, request.body)
    const tx = await db.begin()
    try {
      if (!(await tryLockKey(tx, partnerId, mode, key))) {
        throw new ApiError('IDEMPOTENCY_REQUEST_IN_PROGRESS', 'A request with this Idempotency-Key is still running.', { idempotency_key: key }, { 'retry-after': '1' })
      }
      const stored = await findStoredResponse(tx, partnerId, mode, key, clock.now())
      if (stored && stored.fingerprint !== fingerprint) {
        throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request.', { idempotency_key: key })
      }
      if (stored) {
        await tx.rollback()
        return reply.code(stored.response_status).headers(stored.response_headers).header('idempotent-replayed', 'true').send(stored.response_body)
      }
    } catch (error) {
      await tx.rollback()
      throw error
    }
    request.idempotency = { tx, key, fingerprint, done: false, services: servicesOn(db.joined(tx)) }
  })

  app.addHook('onSend', async (request, reply, payload) => {
    const inFlight = request.idempotency
    if (!inFlight || inFlight.done) return payload
    inFlight.done = true
    // a 400 is a refused request (the route's own field checks), not work done: nothing is kept,
    // so the corrected request may reuse the key; a 5xx is kept neither
    if (reply.statusCode === 400 || reply.statusCode >= 500 || (payload !== null && typeof payload !== 'string')) {
      await inFlight.tx.rollback()
      return payload
    }
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined && !NOT_REPLAYED.has(name.toLowerCase())) headers[name.toLowerCase()] = String(value)
    }
    const now = clock.now()
    try {
      await storeResponse(inFlight.tx, {
        partnerId: request.auth!.partnerId,
        mode: request.auth!.mode,
        key: inFlight.key,
        fingerprint: inFlight.fingerprint,
        response_status: reply.statusCode,
        response_headers: headers,
        response_body: payload ?? '',
        createdAt: now,
        expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
      })
      await inFlight.tx.commit()
      return payload
    } catch (error) {
      // neither the key nor the writes were kept: say so rather than report a success that did not happen
      await inFlight.tx.rollback()
      request.log.error({ err: error }, 'idempotent request failed to commit')
      const failure = new ApiError('INTERNAL_ERROR')
      reply.code(500).type('application/json; charset=utf-8')
      reply.removeHeader('location')
      return JSON.stringify(
        request.routeOptions.config.flatErrors ? { code: failure.code, message: failure.message, details: {} } : errorEnvelope(failure, String(request.id), publicBaseUrl),
      )
    }
  })

  const release = async (request: FastifyRequest) => {
    const inFlight = request.idempotency
    if (inFlight && !inFlight.done) {
      inFlight.done = true
      await inFlight.tx.rollback()
    }
  }
  app.addHook('onResponse', release)
  app.addHook('onRequestAbort', release)
}
