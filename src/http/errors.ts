import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, FieldErrors, MAX_FIELD_ERRORS, errorEnvelope, validationError } from '../platform/errors.ts'
import type { FieldError } from '../platform/errors.ts'
import type { RouteTable } from './route-table.ts'

interface AjvError {
  instancePath: string
  schemaPath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}

/**
 * An anyOf (a nullable field, a union) reports every failed branch plus a summary; keep one entry,
 * the most telling branch error (format, pattern, range rather than "must be null").
 */
function collapseAnyOf(errors: AjvError[]): AjvError[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
  if (unions.length === 0) return errors
  const dropped = new Set<AjvError>()
  const replacement = new Map<AjvError, AjvError>()
  for (const union of unions) {
    const branches = errors.filter((e) => e !== union && e.schemaPath.startsWith(union.schemaPath.replace(/\/(anyOf|oneOf)$/, '/$1/')))
    for (const b of branches) dropped.add(b)
    const telling = branches.find((b) => b.instancePath === union.instancePath && !['type', 'const', 'enum', 'anyOf', 'oneOf'].includes(b.keyword)) ?? branches.find((b) => b.instancePath !== union.instancePath)
    if (telling) replacement.set(union, telling)
  }
  return errors.filter((e) => !dropped.has(e)).map((e) => replacement.get(e) ?? e)
}

const PARTS = [
  ['params', 'path'],
  ['body', 'body'],
  ['querystring', 'query'],
  ['headers', 'header'],
] as const

function fieldName(error: AjvError): string {
  let field = error.instancePath
    .split('/')
    .slice(1)
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')
    .replace(/^\./, '')
  const extra = (error.params.missingProperty ?? error.params.additionalProperty) as string | undefined
  if (extra !== undefined) field = field ? `${field}.${extra}` : extra
  return field || '(root)'
}

function messageOf(error: AjvError): string {
  if (error.instancePath === '' && error.keyword === 'type' && error.params.type === 'object') return 'must be a JSON object (the body is required)'
  if (error.keyword === 'additionalProperties') return 'is not a known field'
  if (error.keyword === 'required') return 'is required'
  if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues)) return `must be one of ${error.params.allowedValues.join(', ')}`
  return error.message ?? error.keyword
}

/**
 * Fastify stops at the first invalid part of a request; a partner wants every problem at once, so
 * on a validation failure every part is checked again and all field errors are reported together.
 */
export function allFieldErrors(request: FastifyRequest, first: FastifyError): FieldError[] {
  const fields: FieldError[] = []
  const seen = new Set<string>()
  const sources: Record<string, unknown> = { params: request.params, body: request.body, querystring: request.query, headers: request.headers }
  for (const [part, location] of PARTS) {
    let validate: ((data: unknown) => boolean) & { errors?: AjvError[] | null }
    try {
      validate = request.getValidationFunction(part) as typeof validate
    } catch {
      continue
    }
    if (!validate || validate(sources[part])) continue
    // bodies are bounded by the input guard; this bounds the work of reading their errors too
    const raw = (validate.errors ?? []).slice(0, MAX_FIELD_ERRORS * 4)
    // a closed object's maxProperties only repeats what additionalProperties says field by field
    const named = new Set(raw.filter((e) => e.keyword === 'additionalProperties').map((e) => e.instancePath))
    for (const error of collapseAnyOf(raw.filter((e) => !(e.keyword === 'maxProperties' && named.has(e.instancePath))))) {
      if (error.keyword === 'if' || error.keyword === 'then') continue
      const entry: FieldError = { field: fieldName(error), location, code: error.keyword, message: messageOf(error) }
      const key = `${entry.location}:${entry.field}:${entry.code}`
      if (!seen.has(key)) {
        seen.add(key)
        fields.push(entry)
      }
    }
  }
  if (fields.length === 0) {
    for (const error of (first.validation ?? []) as AjvError[]) {
      fields.push({ field: fieldName(error), location: 'body', code: error.keyword, message: messageOf(error) })
    }
  }
  return fields
}

/** Maps anything thrown to an ApiError; unknown errors become a 500 without internals. */
export function toApiError(error: unknown, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error
  const e = error as FastifyError
  if (e.validation) {
    const fields = allFieldErrors(request, e)
    // the route's own checks (country codes, dates, …) run on what the schema did not already refuse
    const fieldChecks = request.routeOptions.config.fieldChecks
    if (fieldChecks) {
      const more = new FieldErrors(new Set(fields.map((f) => f.field)))
      try {
        fieldChecks(request, more)
      } catch {
        // a check that trips over a malformed body adds nothing
      }
      fields.push(...(more.fields as FieldError[]))
    }
    return validationError(fields)
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported; send application/json.`)
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('PAYLOAD_TOO_LARGE', undefined, { limit_bytes: 1_048_576 })
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('INVALID_REQUEST', 'Content-Length does not match the body.')
    case 'FST_ERR_BAD_URL':
      return new ApiError('INVALID_REQUEST', 'The URL path is not valid percent-encoded UTF-8.')
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('URI_TOO_LONG', undefined, { max_param_length: MAX_PARAM_LENGTH })
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError('INVALID_REQUEST', 'The request could not be processed as sent.')
  }
  return new ApiError('INTERNAL_ERROR')
}

/**
 * Surfaces whose error body is not the envelope (the External API's flat one), by path prefix. A
 * surface renders its own errors (its encapsulated error and not-found handlers); this is for the
 * answers the router gives before any route or plugin is known (a path that is not valid
 * percent-encoding, an over-long segment), which reach sendError directly.
 */
const errorBodiesByPrefix = new Map<string, (reply: FastifyReply, error: ApiError) => FastifyReply>()

export function renderErrorsUnder(prefix: string, render: (reply: FastifyReply, error: ApiError) => FastifyReply): void {
  errorBodiesByPrefix.set(prefix, render)
}

export function sendError(reply: FastifyReply, error: ApiError, publicBaseUrl: string): FastifyReply {
  const url = reply.request.url
  for (const [prefix, render] of errorBodiesByPrefix) if (url.startsWith(prefix) && /^(\/|\?|$)/.test(url.slice(prefix.length))) return render(reply, error)
  if (error.headers) reply.headers(error.headers)
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="travoBooks"')
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(errorEnvelope(error, String(reply.request.id), publicBaseUrl)))
}

/** Path parameters longer than this are refused with 414 before routing (every documented id is ≤ 128). */
export const MAX_PARAM_LENGTH = 2048

/** Renders anything thrown as the catalogue's envelope (API.md §6), logging 5xx with their cause. */
export function envelopeErrorHandler(publicBaseUrl: string) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(error, request)
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: apiError.code }, 'request refused')
    return sendError(reply, apiError, publicBaseUrl)
  }
}

export function installErrorHandling(app: FastifyInstance, routes: RouteTable, publicBaseUrl: string): void {
  app.setErrorHandler(envelopeErrorHandler(publicBaseUrl))

  app.setNotFoundHandler((request, reply) => {
    const error = unroutedError(routes, request, reply)
    return error ? sendError(reply, error, publicBaseUrl) : reply
  })
}

/**
 * A request no route took: OPTIONS on a known path is answered here (204 with Allow; null
 * returned); otherwise the 405 (with Allow) or 404 to send, for the surface to render in its body.
 */
export function unroutedError(routes: RouteTable, request: FastifyRequest, reply: FastifyReply): ApiError | null {
  const path = request.url.split('?')[0] ?? '/'
  const allowed = routes.allowedMethods(path)
  if (allowed.length > 0 && request.method === 'OPTIONS') {
    reply.header('allow', allowed.join(', '))
    reply.code(204).send()
    return null
  }
  const meant = routes.suggestion(request.method, path)
  const hint = meant ? ` Did you mean ${meant}?` : ''
  const suggestion = meant ? { did_you_mean: meant } : {}
  if (allowed.length > 0) {
    reply.header('allow', allowed.join(', '))
    return new ApiError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}.${hint}`, { allowed_methods: allowed, ...suggestion })
  }
  return new ApiError('ROUTE_NOT_FOUND', `No route ${request.method} ${path}.${hint}`, meant ? suggestion : undefined)
}
