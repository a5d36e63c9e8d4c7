import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { LightMyRequestResponse } from 'fastify'

/**
 * The OpenAPI document as the contract the fuzz suite and the route matrix check the server
 * against: operations enumerated from /openapi.json (so a new route is covered without touching
 * the tests), $refs resolved, and one checker for "is this response what the document promises".
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Schema = Record<string, any>

export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required: boolean
  schema: Schema
}

export interface ResponseSpec {
  status: string
  /** media type → schema; undefined: no body documented */
  content: Record<string, Schema> | undefined
  /** the error codes documented for this status (x-error-codes, else "Codes: A, B." in the description) */
  errorCodes: string[] | undefined
  errorCodesSource: 'x-error-codes' | 'description' | 'none'
}

export interface Operation {
  /** "GET /v1/teams/{id}" */
  key: string
  method: string
  path: string
  operationId: string
  parameters: Parameter[]
  body: { required: boolean; content: Record<string, Schema> } | undefined
  responses: Record<string, ResponseSpec>
  /** security: [] on the operation */
  public: boolean
  /** x-required-permissions; undefined when the document does not say */
  requiredPermissions: string[] | undefined
  bucket: string | undefined
  /**
   * The error body its error responses document: the envelope ({"error": {…}}), or the External
   * API's flat {"code", "message", "details"} (request id in X-Request-Id only).
   */
  errorBody: 'envelope' | 'flat'
}

export interface OpenApiDoc {
  openapi: string
  paths: Record<string, Record<string, any>>
  components?: { schemas?: Record<string, Schema> }
  security?: unknown[]
  [k: string]: unknown
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']

/** Resolves local $refs (#/components/…) recursively; a cycle keeps its $ref. */
export function deref(doc: OpenApiDoc, node: unknown, seen: string[] = []): any {
  if (Array.isArray(node)) return node.map((n) => deref(doc, n, seen))
  if (!node || typeof node !== 'object') return node
  const obj = node as Record<string, unknown>
  if (typeof obj.$ref === 'string') {
    const ref = obj.$ref
    if (!ref.startsWith('#/') || seen.includes(ref)) return node
    let target: unknown = doc
    for (const part of ref.slice(2).split('/')) target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
    if (target === undefined) throw new Error(`unresolvable $ref ${ref}`)
    const { $ref: _ignored, ...siblings } = obj
    const resolved = deref(doc, target, [...seen, ref])
    return Object.keys(siblings).length ? { ...resolved, ...deref(doc, siblings, seen) } : resolved
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) out[k] = deref(doc, v, seen)
  return out
}

export function parseCodesFromDescription(description: unknown): string[] | undefined {
  if (typeof description !== 'string') return undefined
  const m = /Codes:([^.]*)\./.exec(description)
  return m ? (m[1]!.match(/\b[A-Z][A-Z0-9_]+\b/g) ?? []) : undefined
}

export function operationsOf(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = []
  const docSecurity = doc.security ?? []
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const shared = (item.parameters ?? []) as unknown[]
    for (const method of METHODS) {
      const raw = item[method]
      if (!raw || typeof raw !== 'object') continue
      const op = deref(doc, raw)
      const params = new Map<string, Parameter>()
      for (const p of [...deref(doc, shared), ...(op.parameters ?? [])] as any[]) {
        // the parameter's description (where enum-like lists such as "any of A, B" live) travels with its schema
        const schema = { ...(p.description && !p.schema?.description ? { description: p.description } : {}), ...(p.schema ?? {}) }
        params.set(`${p.in}:${String(p.name).toLowerCase()}`, { name: p.name, in: p.in, required: Boolean(p.required) || p.in === 'path', schema })
      }
      const responses: Record<string, ResponseSpec> = {}
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, any>)) {
        const content = r.content ? Object.fromEntries(Object.entries(r.content as Record<string, any>).map(([mt, c]) => [mt.toLowerCase(), (c?.schema ?? {}) as Schema])) : undefined
        const x = r['x-error-codes']
        const fromDesc = parseCodesFromDescription(r.description)
        responses[status] = {
          status,
          content,
          errorCodes: Array.isArray(x) ? x : fromDesc,
          errorCodesSource: Array.isArray(x) ? 'x-error-codes' : fromDesc ? 'description' : 'none',
        }
      }
      const security = (op.security ?? docSecurity) as unknown[]
      const body = op.requestBody
        ? { required: Boolean(op.requestBody.required), content: Object.fromEntries(Object.entries((op.requestBody.content ?? {}) as Record<string, any>).map(([mt, c]) => [mt.toLowerCase(), (c?.schema ?? {}) as Schema])) }
        : undefined
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        operationId: op.operationId ?? `${method} ${path}`,
        parameters: [...params.values()],
        body,
        responses,
        public: Array.isArray(security) && security.length === 0,
        requiredPermissions: Array.isArray(op['x-required-permissions']) ? op['x-required-permissions'] : undefined,
        bucket: op['x-rate-limit-bucket'],
        errorBody: errorBodyOf(responses),
      })
    }
  }
  return ops
}

/** Flat when an error response's JSON schema has code at its top level (the envelope nests it in error). */
function errorBodyOf(responses: Record<string, ResponseSpec>): 'envelope' | 'flat' {
  const error = Object.values(responses).find((r) => Number(r.status) >= 400 && r.content?.['application/json'])
  return error?.content?.['application/json']?.properties?.code ? 'flat' : 'envelope'
}

/** The error object of an error body of the operation's kind: the envelope's error, or the flat body itself. */
export function errorOf(op: Pick<Operation, 'errorBody'>, body: unknown): Record<string, any> | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined
  return op.errorBody === 'flat' ? (body as Record<string, any>) : (body as { error?: Record<string, any> }).error
}

/** The code an operation answers an id the token cannot see with: NOT_FOUND, or the flat surface's *_NOT_ACCESSIBLE listed for 404. */
export function notFoundCodeOf(op: Operation): string {
  if (op.errorBody === 'envelope') return 'NOT_FOUND'
  return op.responses['404']?.errorCodes?.find((c) => c.endsWith('_NOT_ACCESSIBLE')) ?? 'NOT_FOUND'
}

export async function loadDocument(inject: (o: { method: 'GET'; url: string }) => Promise<LightMyRequestResponse>): Promise<OpenApiDoc> {
  const res = await inject({ method: 'GET', url: '/openapi.json' })
  if (res.statusCode !== 200) throw new Error(`GET /openapi.json → ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return res.json() as OpenApiDoc
}

/** The OpenAPI path template with its parameters filled in (values already URL-encoded). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = values[name]
    if (v === undefined) throw new Error(`no value for path parameter ${name} of ${path}`)
    return v
  })
}

export function mediaTypeOf(contentType: string | string[] | number | undefined): string | undefined {
  if (contentType === undefined) return undefined
  return String(Array.isArray(contentType) ? contentType[0] : contentType).split(';')[0]!.trim().toLowerCase()
}

/** One thing wrong with a response: kind is stable (for deduplication), detail is specific. */
export interface Problem {
  kind: string
  detail: string
}

/**
 * Bounds on an error answer: however broken the request (2,000 invalid array items), the list of
 * field errors and the body stay small. Generous on purpose: they catch "one entry per input",
 * not a particular cap.
 */
export const MAX_FIELD_ERRORS_LISTED = 100
export const MAX_ERROR_BODY_BYTES = 64 * 1024

const ENVELOPE_KEYS = new Set(['code', 'message', 'details', 'request_id', 'retry_advice', 'doc_url'])
const FLAT_KEYS = ['code', 'details', 'message']
const RETRY_ADVICE = new Set(['retryable', 'retry_after_fix', 'non_retryable'])

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020

export class ContractChecker {
  readonly ajv: Ajv2020
  readonly #cache = new Map<string, ValidateFunction>()

  constructor(readonly doc: OpenApiDoc) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true, allowUnionTypes: true })
    addFormats(this.ajv)
  }

  validator(schema: Schema): ValidateFunction {
    const key = JSON.stringify(schema)
    let v = this.#cache.get(key)
    if (!v) {
      v = this.ajv.compile(schema)
      this.#cache.set(key, v)
    }
    return v
  }

  /** The documented response for a status: exact, then 4XX-style ranges, then default. */
  responseFor(op: Operation, status: number): ResponseSpec | undefined {
    return op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses[`${String(status)[0]}xx`] ?? op.responses.default
  }

  /**
   * Everything the contract promises about one response: no 5xx, a documented status, a body
   * valid against the documented schema for its status and media type, the error envelope with
   * a listed code, and the standard headers.
   */
  check(op: Operation, res: LightMyRequestResponse, opts: { sentRequestId?: string } = {}): Problem[] {
    const problems: Problem[] = []
    const status = res.statusCode
    const h = res.headers
    if (status >= 500) problems.push({ kind: `5xx (${status})`, detail: `status ${status}` })

    // standard headers
    if (!h['x-request-id']) problems.push({ kind: 'missing header x-request-id', detail: '' })
    if (!h['strict-transport-security']) problems.push({ kind: 'missing header strict-transport-security', detail: '' })
    if (h['x-content-type-options'] !== 'nosniff') problems.push({ kind: 'missing header x-content-type-options: nosniff', detail: String(h['x-content-type-options']) })
    if (!op.path.startsWith('/docs') && h['cache-control'] !== 'no-store') problems.push({ kind: 'missing header cache-control: no-store', detail: String(h['cache-control']) })
    if (!op.public && status !== 401) {
      const missing = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-bucket'].filter((name) => h[name] === undefined)
      if (missing.length) problems.push({ kind: `missing rate-limit headers on ${status}`, detail: missing.join(', ') })
      // a URL the router itself refuses (bad percent-encoding, a path segment over the limit)
      // names no operation: like an unknown route, it is charged to the read bucket
      const errorCode = status >= 400 ? errorOf(op, safeJson(res.body))?.code : undefined
      const unrouted = errorCode === 'INVALID_REQUEST' || errorCode === 'URI_TOO_LONG'
      const expectedBucket = unrouted ? 'read' : op.bucket
      if (expectedBucket && h['x-ratelimit-bucket'] !== undefined && h['x-ratelimit-bucket'] !== expectedBucket) {
        problems.push({ kind: 'x-ratelimit-bucket differs from x-rate-limit-bucket', detail: `${h['x-ratelimit-bucket']} ≠ ${expectedBucket}` })
      }
    }
    if (opts.sentRequestId && h['x-request-id'] !== opts.sentRequestId) problems.push({ kind: 'sane X-Request-Id not echoed', detail: `${opts.sentRequestId} → ${h['x-request-id']}` })

    // documented status
    const spec = this.responseFor(op, status)
    if (!spec) problems.push({ kind: `undocumented status ${status}`, detail: `documented: ${Object.keys(op.responses).join(',')}` })

    // body against the documented schema for its status and media type
    const hasBody = res.rawPayload.length > 0
    const mt = mediaTypeOf(h['content-type'])
    let parsed: unknown
    let parsedOk = false
    if (hasBody && mt && (mt === 'application/json' || mt.endsWith('+json'))) {
      try {
        parsed = JSON.parse(res.body)
        parsedOk = true
      } catch {
        problems.push({ kind: 'body is not JSON despite a JSON content-type', detail: res.body.slice(0, 120) })
      }
    }
    if (spec) {
      if (!spec.content) {
        if (hasBody) problems.push({ kind: `body sent where ${status} documents none`, detail: res.body.slice(0, 120) })
      } else if (hasBody || Object.keys(spec.content).length > 0) {
        const schema = mt ? spec.content[mt] : undefined
        if (!hasBody) {
          problems.push({ kind: `empty body where ${status} documents ${Object.keys(spec.content).join(', ')}`, detail: '' })
        } else if (!mt || schema === undefined) {
          problems.push({ kind: `content-type ${mt ?? '(none)'} undocumented for ${status}`, detail: `documented: ${Object.keys(spec.content).join(', ')}` })
        } else if (parsedOk || !(mt === 'application/json' || mt.endsWith('+json'))) {
          const value = parsedOk ? parsed : res.body
          const validate = this.validator(schema)
          if (!validate(value)) {
            const errs = (validate.errors ?? []).slice(0, 3)
            const first = errs[0]
            const path = (first?.instancePath ?? '').replace(/\/\d+(?=\/|$)/g, '/*')
            problems.push({
              kind: `body fails the documented ${status} schema: ${first?.keyword ?? '?'} at ${path || '(root)'}`,
              detail: errs.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join('; '),
            })
          }
        }
      }
    }

    // the error envelope and its code
    if (status >= 400) {
      const env = parsedOk ? (parsed as Record<string, unknown>) : undefined
      const error = env && typeof env === 'object' && !Array.isArray(env) ? (env.error as Record<string, unknown> | undefined) : undefined
      const shapeOk =
        env !== undefined &&
        Object.keys(env).length === 1 &&
        error !== undefined &&
        typeof error === 'object' &&
        typeof error.code === 'string' &&
        typeof error.message === 'string' &&
        typeof error.request_id === 'string' &&
        typeof error.retry_advice === 'string' &&
        RETRY_ADVICE.has(error.retry_advice) &&
        typeof error.doc_url === 'string' &&
        (error.details === undefined || (typeof error.details === 'object' && error.details !== null && !Array.isArray(error.details))) &&
        Object.keys(error).every((k) => ENVELOPE_KEYS.has(k))
      if (op.errorBody === 'flat') {
        // exactly code, message and details (an object); the request id travels in X-Request-Id only
        const flatOk =
          env !== undefined && typeof env === 'object' && !Array.isArray(env) && Object.keys(env).sort().join() === FLAT_KEYS.join() &&
          typeof env.code === 'string' && typeof env.message === 'string' && typeof env.details === 'object' && env.details !== null && !Array.isArray(env.details)
        if (!flatOk) problems.push({ kind: `${status} body is not the flat error body`, detail: `${mt ?? '(no content-type)'} ${res.body.slice(0, 160)}` })
        else {
          const fields = (env.details as { fields?: unknown }).fields
          if (Array.isArray(fields) && fields.length > MAX_FIELD_ERRORS_LISTED) problems.push({ kind: `unbounded error list: details.fields has more than ${MAX_FIELD_ERRORS_LISTED} entries`, detail: `${fields.length} entries` })
          if (res.rawPayload.length > MAX_ERROR_BODY_BYTES) problems.push({ kind: `error body over ${MAX_ERROR_BODY_BYTES / 1024} KiB`, detail: `${res.rawPayload.length} bytes` })
          if (spec) {
            if (!spec.errorCodes) problems.push({ kind: `${status} response lists no error codes (x-error-codes)`, detail: '' })
            else if (!spec.errorCodes.includes(env.code as string)) problems.push({ kind: `code ${env.code} not listed for ${status}`, detail: `listed: ${spec.errorCodes.join(', ')}` })
          }
        }
      } else if (!shapeOk) {
        problems.push({ kind: `${status} body is not the error envelope`, detail: `${mt ?? '(no content-type)'} ${res.body.slice(0, 160)}` })
      } else {
        // a replay (Idempotent-Replayed) is the first answer byte for byte, its request id included
        if (error.request_id !== h['x-request-id'] && h['idempotent-replayed'] !== 'true') problems.push({ kind: 'error.request_id differs from X-Request-Id', detail: `${error.request_id} ≠ ${h['x-request-id']}` })
        const fields = (error.details as { fields?: unknown } | undefined)?.fields
        if (Array.isArray(fields) && fields.length > MAX_FIELD_ERRORS_LISTED) problems.push({ kind: `unbounded error list: details.fields has more than ${MAX_FIELD_ERRORS_LISTED} entries`, detail: `${fields.length} entries` })
        if (res.rawPayload.length > MAX_ERROR_BODY_BYTES) problems.push({ kind: `error body over ${MAX_ERROR_BODY_BYTES / 1024} KiB`, detail: `${res.rawPayload.length} bytes` })
        if (spec) {
          if (!spec.errorCodes) problems.push({ kind: `${status} response lists no error codes (x-error-codes)`, detail: '' })
          else if (!spec.errorCodes.includes(error.code as string)) problems.push({ kind: `code ${error.code} not listed for ${status}`, detail: `listed: ${spec.errorCodes.join(', ')}` })
        }
      }
    }
    return problems
  }
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** A short, printable preview of a request or response body. */
export function preview(body: unknown, max = 300): string {
  let text: string
  if (body === undefined) return '(none)'
  if (Buffer.isBuffer(body)) text = `<Buffer ${body.subarray(0, 120).toString('hex')}${body.length > 120 ? '…' : ''}> (${body.length} bytes)`
  else text = typeof body === 'string' ? body : JSON.stringify(body)
  // control characters and lone surrogates are shown escaped; everything else as is
  const escaped = (text.length > max ? text.slice(0, max) : text).replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return `${escaped.length > max ? escaped.slice(0, max) : escaped}${text.length > max ? `… (${text.length} chars)` : ''}`
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
