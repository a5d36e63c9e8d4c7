import { ERROR_CATALOGUE } from '../platform/errors.ts'
import type { ErrorCode } from '../platform/errors.ts'
import { MOCK_PARAMETER } from './mock.ts'
import { requestExamples } from './request-examples.ts'
import type { RequestExample } from './request-examples.ts'
import { SampleGenerator } from './sample-data.ts'
import type { JsonSchema } from './sample-data.ts'

/**
 * Turns the document @fastify/swagger derives from the routes into one worth generating clients
 * from: every resource and request body a named component, filters as enums, calendar dates as
 * `format: date`, each operation's permission, bucket, response headers and error codes, and
 * examples — a request that works on a fresh demo server, the success answer, an error per code.
 * Everything here is derived from the routes, the error catalogue and the request examples;
 * nothing is a second hand-kept list of what the server does.
 */
export interface OperationExtras {
  /** The Fastify route url (the mock answers' seed: examples are the same bytes as ?mock=true). */
  routeUrl: string
  public: boolean
  optionalBody: boolean
  permissions: string[]
  errors: Map<number, ErrorCode[]>
  fieldsSelectable: boolean
  mockable: boolean
  flat: boolean
  deprecated: boolean
  bucket: string | undefined
}

export interface FinishOptions {
  publicBaseUrl: string
  /** The day the document is built (YYYY-MM-DD): request examples' stays are relative to it. */
  today: string
  /** x-codeSamples for an operation and its example request. */
  codeSamples?: (operation: { method: string; path: string; operationId: string; example: RequestExample; bodyIsOptional: boolean; parameters: Json[] }) => unknown[]
}

type Json = Record<string, unknown>
interface Operation extends Json {
  operationId?: string
  parameters?: Json[]
  requestBody?: { required?: boolean; content: Record<string, { schema?: Json; example?: unknown }> }
  responses: Record<string, Json & { content?: Record<string, { schema?: Json; example?: unknown; examples?: Json }>; headers?: Json }>
  description?: string
  security?: unknown[]
}
export interface OpenApiDocument extends Json {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Json>; headers?: Record<string, Json>; examples?: Record<string, Json> } & Json
}

const SCHEMA_REF = '#/components/schemas/'
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])
const SUCCESS_TEXT: Record<string, string> = { 200: 'OK.', 201: 'Created.', 202: 'Accepted: the work is queued.', 204: 'Done; no body.', 304: 'Not modified: If-None-Match names the current ETag.' }

export function finishDocument(input: OpenApiDocument, extras: Map<string, OperationExtras>, options: FinishOptions): OpenApiDocument {
  // the route schemas are live objects (validators, serializers): work on a copy
  const doc = structuredClone(input)
  const examples = requestExamples(options.today)
  doc.components.headers = RESPONSE_HEADERS
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!METHODS.has(method)) continue
      const extra = extras.get(`${method} ${path}`)
      if (!extra) continue
      annotate(operation, extra)
      documentParameters(operation)
      documentHeaders(operation, method, extra)
      nameAnonymousSchemas(operation)
    }
  }
  hoistNamedSchemas(doc)
  doc.components.examples = errorExamples(options.publicBaseUrl, extras)
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const extra = extras.get(`${method} ${path}`)
      if (!extra || !METHODS.has(method)) continue
      const example = examples[operation.operationId ?? '']
      if (example) addRequestExample(operation, example)
      addSuccessExample(doc, operation, method, extra, example ?? {})
      addErrorExamples(operation, extra)
      if (example && options.codeSamples) {
        operation['x-codeSamples'] = options.codeSamples({ method, path, operationId: operation.operationId ?? '', example, bodyIsOptional: operation.requestBody?.required === false, parameters: operation.parameters ?? [] })
      }
    }
  }
  return doc
}

/** Permission, bucket, error codes per status, the optional body, fields= answers and ?mock. */
function annotate(operation: Operation, extra: OperationExtras): void {
  const notes: string[] = []
  operation['x-required-permissions'] = extra.permissions
  operation['x-required-permission'] = extra.permissions.length === 0 ? null : extra.permissions.length === 1 ? extra.permissions[0] : extra.permissions
  if (extra.public) notes.push('**Permission:** none; no token needed.')
  else if (extra.permissions.length === 0) notes.push('**Permission:** any valid token.')
  else notes.push(`**Permission:** ${extra.permissions.map((p) => `\`${p}\``).join(' and ')} (a token without it gets 403 PERMISSION_DENIED).`)
  if (extra.bucket) {
    operation['x-rate-limit-bucket'] = extra.bucket
    notes.push(`**Rate-limit bucket:** \`${extra.bucket}\` (X-RateLimit-* headers on every answer; 429 with Retry-After past the limit).`)
  }
  for (const [status, codes] of extra.errors) if (operation.responses[status]) operation.responses[status]['x-error-codes'] = codes
  if (extra.optionalBody && operation.requestBody) operation.requestBody.required = false
  if (extra.fieldsSelectable) withPartialItems(operation.responses['200']?.content?.['application/json'])
  if (extra.mockable) operation.parameters = [...(operation.parameters ?? []), structuredClone(MOCK_PARAMETER) as Json]
  for (const [status, response] of Object.entries(operation.responses)) {
    if (response.description === 'Default Response') response.description = SUCCESS_TEXT[status] ?? 'OK.'
  }
  operation.description = [operation.description, notes.join('\n\n')].filter(Boolean).join('\n\n')
}

/** With fields=, an answer holds only the fields asked for: the document allows that shape too, named <Resource>Fields. */
function partialOf(schema: Json): Json {
  const { required: _required, title, ...rest } = schema
  return { ...rest, ...(title ? { title: `${String(title)}Fields` } : {}), minProperties: 1, description: 'With fields=: only the requested top-level fields.' }
}

function withPartialItems(media: { schema?: Json } | undefined): void {
  const full = media?.schema
  if (!media || !full) return
  const properties = full.properties as Record<string, Json> | undefined
  const data = properties?.data
  if (data && data.type === 'array' && properties?.pagination) {
    media.schema = { ...full, properties: { ...properties, data: { ...data, items: { anyOf: [data.items, partialOf(data.items as Json)] } } } }
  } else {
    media.schema = { anyOf: [full, partialOf(full)] }
  }
}

/**
 * What a parameter's schema says for the document only (x-openapi: the service checks those values
 * itself, to report every problem at once); comma lists are form arrays, not exploded.
 */
function documentParameters(operation: Operation): void {
  // a GET that answers 304 takes If-None-Match: say so, so a typed client can send it
  if (operation.responses['304'] && !(operation.parameters ?? []).some((p) => String(p.name).toLowerCase() === 'if-none-match')) {
    operation.parameters = [
      ...(operation.parameters ?? []),
      { name: 'if-none-match', in: 'header', required: false, description: 'An ETag this client holds: 304 Not Modified, with no body, while it is still current.', schema: { type: 'string', maxLength: 1024 } },
    ]
  }
  for (const parameter of operation.parameters ?? []) {
    const schema = parameter.schema as Json | undefined
    if (!schema) continue
    applyDocumentOnly(schema)
    if (parameter.in === 'query' && schema.type === 'array' && (schema.items as Json | undefined)?.enum) {
      parameter.style = 'form'
      parameter.explode = false
    }
    // Fastify writes a query's default into the schema; a parameter with a default is optional (it already is: say so)
    if (schema.default !== undefined) parameter.required = false
  }
  for (const media of Object.values(operation.requestBody?.content ?? {})) if (media.schema) walk(media.schema, applyDocumentOnly)
}

function applyDocumentOnly(schema: Json): void {
  const extra = schema['x-openapi'] as Json | undefined
  if (!extra) return
  delete schema['x-openapi']
  Object.assign(schema, extra)
}

/** Every node of a schema, depth first. */
function walk(schema: Json, visit: (node: Json) => void): void {
  visit(schema)
  for (const [key, child] of Object.entries(schema)) {
    if (key === 'properties' && child && typeof child === 'object') for (const prop of Object.values(child as Record<string, Json>)) walk(prop, visit)
    else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && child && typeof child === 'object') walk(child as Json, visit)
    else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(child)) for (const c of child as Json[]) walk(c, visit)
  }
}

const header = (name: string) => ({ $ref: `#/components/headers/${name}` })

/** Response headers, once each as components; which answer carries which follows from the route. */
const RESPONSE_HEADERS: Record<string, Json> = {
  'X-Request-Id': { description: 'This request\'s id (also error.request_id): quote it to support.', required: true, schema: { type: 'string', example: 'req_01jq3v5x7e8f9g0h1j2k3m4n5p' } },
  'X-RateLimit-Limit': { description: 'Requests a minute the bucket allows this partner and mode.', required: true, schema: { type: 'integer', example: 600 } },
  'X-RateLimit-Remaining': { description: 'Requests left in the bucket this minute.', required: true, schema: { type: 'integer', example: 599 } },
  'X-RateLimit-Reset': { description: 'When the bucket is full again, in Unix seconds.', required: true, schema: { type: 'integer', example: 1795305660 } },
  'X-RateLimit-Bucket': { description: 'The bucket this operation draws on (read, write, search, …).', required: true, schema: { type: 'string', example: 'read' } },
  RateLimit: { description: 'The same, as the IETF RateLimit field: "bucket";r=remaining;t=seconds-to-reset.', required: true, schema: { type: 'string', example: '"read";r=599;t=60' } },
  'RateLimit-Policy': { description: 'The bucket\'s policy as the IETF RateLimit-Policy field: "bucket";q=limit;w=60.', required: true, schema: { type: 'string', example: '"read";q=600;w=60' } },
  'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 1, example: 1 } },
  ETag: { description: 'The representation\'s version: send it back as If-None-Match (GET, 304) or If-Match (PUT, 412 when it changed).', required: true, schema: { type: 'string', example: '"3f2a9c1e7b"' } },
  Location: { description: 'The URL of the created resource.', required: true, schema: { type: 'string', format: 'uri' } },
  'Idempotent-Replayed': { description: 'true when this answer is the stored answer of an earlier request with the same Idempotency-Key (nothing was done again).', required: false, schema: { type: 'string', enum: ['true'] } },
  Deprecation: { description: 'This operation is deprecated (RFC 9745): the date it was, as @unix-seconds.', required: true, schema: { type: 'string', example: '@1795305600' } },
  Sunset: { description: 'When this operation stops working (RFC 8594), an HTTP date.', required: true, schema: { type: 'string', example: 'Wed, 01 Dec 2027 00:00:00 GMT' } },
  Link: { description: 'rel="deprecation": the migration guide; rel="successor-version": the operation that replaces this one.', required: true, schema: { type: 'string' } },
  'WWW-Authenticate': { description: 'The scheme to authenticate with (Bearer).', required: true, schema: { type: 'string', example: 'Bearer realm="travoBooks API"' } },
}

function documentHeaders(operation: Operation, method: string, extra: OperationExtras): void {
  const has304 = Boolean(operation.responses['304'])
  for (const [status, response] of Object.entries(operation.responses)) {
    const code = Number(status)
    const headers: Json = { 'X-Request-Id': header('X-Request-Id') }
    // every answer to a token carries the bucket's headers; the document names them where a client reads them
    if (!extra.public && (code < 400 || code === 429)) for (const name of ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'X-RateLimit-Bucket', 'RateLimit', 'RateLimit-Policy']) headers[name] = header(name)
    const codes = extra.errors.get(code) ?? []
    if (code === 429 || code === 503 || codes.includes('IDEMPOTENCY_REQUEST_IN_PROGRESS')) headers['Retry-After'] = { ...header('Retry-After') }
    if (code === 401) headers['WWW-Authenticate'] = header('WWW-Authenticate')
    if (code >= 200 && code < 300) {
      if ((has304 && method === 'get') || (method === 'put' && !extra.flat)) headers.ETag = header('ETag')
      if (code === 201) headers.Location = header('Location')
      if (method === 'post' && !extra.public) headers['Idempotent-Replayed'] = header('Idempotent-Replayed')
    }
    if (code === 304) headers.ETag = header('ETag')
    if (extra.deprecated) for (const name of ['Deprecation', 'Sunset', 'Link']) headers[name] = header(name)
    response.headers = { ...(response.headers ?? {}), ...headers }
  }
}

function pascal(operationId: string): string {
  return operationId.charAt(0).toUpperCase() + operationId.slice(1)
}

/**
 * Request bodies are named after their operation (CreateBookingRequest); success answers after the
 * resource they list (BookingList, BookingPage) or, when they are no resource, their operation.
 */
function nameAnonymousSchemas(operation: Operation): void {
  const id = pascal(operation.operationId ?? '')
  for (const media of Object.values(operation.requestBody?.content ?? {})) {
    if (media.schema && !media.schema.title && !media.schema.$ref) media.schema.title = `${id}Request`
  }
  for (const [status, response] of Object.entries(operation.responses)) {
    const code = Number(status)
    if (code < 200 || code >= 300) continue
    const media = response.content?.['application/json']
    const schema = media?.schema
    if (!schema || schema.title || schema.$ref || schema.anyOf || schema.type !== 'object') continue
    const properties = (schema.properties ?? {}) as Record<string, Json>
    const item = itemTitle(properties.data) ?? itemTitle(properties.items)
    if (item && properties.pagination) schema.title = `${item}List`
    else if (item && properties.total_pages) schema.title = `${item}Page`
    else if (Object.keys(properties).length > 0) schema.title = `${id}Response`
  }
}

function itemTitle(list: Json | undefined): string | undefined {
  const items = list?.items as Json | undefined
  if (!items) return undefined
  const first = (items.anyOf as Json[] | undefined)?.[0] ?? items
  return typeof first.title === 'string' ? first.title : undefined
}

/**
 * Every schema with a title becomes components.schemas[title] and a $ref in its place, innermost
 * first (a Booking's Money is a Money). Two different schemas under one name stop the server at
 * start-up: a name is a promise about a shape.
 */
function hoistNamedSchemas(doc: OpenApiDocument): void {
  const named = doc.components.schemas
  const hoist = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(hoist)
    if (!node || typeof node !== 'object') return node
    const out: Json = {}
    for (const [key, value] of Object.entries(node as Json)) {
      if (key === 'example' || key === 'examples' || key === 'x-codeSamples') out[key] = value
      else out[key] = hoist(value)
    }
    const title = out.title
    if (typeof title !== 'string' || !isSchema(out)) return out
    // what a use says of it (a Money that is a line's total) stays with the use, beside the $ref
    const { description, ...shape } = out
    if (shape.additionalProperties === false && typeof shape.maxProperties === 'number' && shape.maxProperties >= Object.keys((shape.properties as object | undefined) ?? {}).length) {
      // a closed object is bounded by its properties: requireBounds' explicit bound says nothing more
      delete shape.maxProperties
    }
    const existing = named[title]
    if (existing && JSON.stringify(existing) !== JSON.stringify(shape)) {
      throw new Error(`OpenAPI: two different schemas are named ${title}:\n${JSON.stringify(existing)}\n${JSON.stringify(shape)}`)
    }
    named[title] = shape
    return { $ref: `${SCHEMA_REF}${title}`, ...(typeof description === 'string' ? { description } : {}) }
  }
  for (const operations of Object.values(doc.paths)) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) if (parameter.schema) parameter.schema = hoist(parameter.schema)
      for (const media of Object.values(operation.requestBody?.content ?? {})) if (media.schema) media.schema = hoist(media.schema) as Json
      for (const response of Object.values(operation.responses ?? {})) for (const media of Object.values(response.content ?? {})) if (media.schema) media.schema = hoist(media.schema) as Json
    }
  }
  // the named components' own titles are their names: keep them (generators use them for doc comments)
  doc.components.schemas = Object.fromEntries(Object.entries(named).sort(([a], [b]) => a.localeCompare(b)))
}

function isSchema(node: Json): boolean {
  return 'type' in node || 'anyOf' in node || 'oneOf' in node || 'allOf' in node || 'properties' in node || 'enum' in node
}

function addRequestExample(operation: Operation, example: RequestExample): void {
  for (const parameter of operation.parameters ?? []) {
    const where = parameter.in as 'path' | 'query' | 'header'
    const value = example[where]?.[String(parameter.name)]
    // the parameters' examples together are the example request: one @fastify/swagger lifted from a
    // schema's examples would add a filter the request does not send
    delete parameter.examples
    if (value !== undefined) parameter.example = typedAs(parameter.schema as Json | undefined, value)
    else delete parameter.example
  }
  const media = operation.requestBody?.content['application/json']
  if (media && example.body !== undefined) media.example = example.body
}

/** A parameter's example in its schema's type: what a client passes, before it is written into the URL. */
function typedAs(schema: Json | undefined, value: string): unknown {
  switch (schema?.type) {
    case 'integer':
    case 'number':
      return Number(value)
    case 'boolean':
      return value === 'true'
    case 'array':
      return value.split(',')
    default:
      return value
  }
}

function resolver(doc: OpenApiDocument): (ref: string) => JsonSchema | undefined {
  return (ref) => (ref.startsWith(SCHEMA_REF) ? (doc.components.schemas[ref.slice(SCHEMA_REF.length)] as JsonSchema | undefined) : undefined)
}

/** The success answer's example: what ?mock=true answers to the example request (the same generator, seed and echoes). */
function addSuccessExample(doc: OpenApiDocument, operation: Operation, method: string, extra: OperationExtras, example: RequestExample): void {
  const status = Object.keys(operation.responses).map(Number).filter((s) => s >= 200 && s < 300).sort((a, b) => a - b)[0]
  if (status === undefined) return
  const media = operation.responses[String(status)]?.content?.['application/json']
  if (!media?.schema) return
  const body = example.body && typeof example.body === 'object' && !Array.isArray(example.body) ? (example.body as Json) : {}
  const scalars = Object.fromEntries(Object.entries(body).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)))
  const generator = new SampleGenerator({
    seed: `${method.toUpperCase()} ${extra.routeUrl}`,
    params: example.path ?? {},
    given: { ...scalars, ...(example.query ?? {}) },
    action: /::([a-z-]+)$/.exec(extra.routeUrl)?.[1],
    resolve: resolver(doc),
  })
  media.example = generator.sample(media.schema as JsonSchema)
}

/** details worth showing for some codes; the rest carry none. */
const ERROR_DETAILS: Partial<Record<ErrorCode, Json>> = {
  VALIDATION_ERROR: { fields: [{ field: 'check_in', location: 'body', code: 'date', message: 'must be a calendar date YYYY-MM-DD' }] },
  PERMISSION_DENIED: { required_permission: 'booking.create.partner' },
  RATE_LIMIT_EXCEEDED: { bucket: 'write', limit: 120, retry_after_seconds: 12 },
  INVALID_TEAM_IDS: { invalid_team_ids: ['team_01jq3v5x7e8f9g0h1j2k3m4n5p'] },
  LISTING_UNAVAILABLE: { conflicting_dates: ['2027-03-02', '2027-03-03'] },
  PRICE_CHANGED: { expected_total: { amount: '6600000', currency: 'VND' }, actual_total: { amount: '7260000', currency: 'VND' } },
  BOOKING_INVALID_TRANSITION: { status: 'CANCELLED' },
  PAYMENT_EXCEEDS_AMOUNT_DUE: { amount_due: { amount: '2400000', currency: 'VND' } },
  REFUND_EXCEEDS_PAYMENT: { refundable_amount: { amount: '1500000', currency: 'VND' } },
  IDEMPOTENCY_REQUEST_IN_PROGRESS: { idempotency_key: 'pay-inv1-2026-0001' },
  WEBHOOK_LIMIT_REACHED: { limit: 10 },
  EXTERNAL_INVALID_STATE: { allowed_states: ['HELD', 'CONFIRMED', 'ISSUED', 'CANCELLED', 'EXPIRED'] },
}

/** One example per error code an operation can answer, in each surface's body: components.examples.<CODE> and FlatError_<CODE>. */
function errorExamples(publicBaseUrl: string, extras: Map<string, OperationExtras>): Record<string, Json> {
  const out: Record<string, Json> = {}
  for (const extra of extras.values()) {
    for (const code of [...extra.errors.values()].flat()) {
      const entry = ERROR_CATALOGUE[code]
      const details = ERROR_DETAILS[code] ?? {}
      if (extra.flat) out[`FlatError_${code}`] = { summary: code, value: { code, message: entry.title, details } }
      else out[code] = { summary: code, value: { error: { code, message: entry.title, details, request_id: 'req_01jq3v5x7e8f9g0h1j2k3m4n5p', retry_advice: entry.retry_advice, doc_url: `${publicBaseUrl}/docs/errors#${code}` } } }
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))
}

function addErrorExamples(operation: Operation, extra: OperationExtras): void {
  for (const [status, codes] of extra.errors) {
    const media = operation.responses[String(status)]?.content?.['application/json']
    if (!media) continue
    media.examples = Object.fromEntries(codes.map((code) => [code, { $ref: `#/components/examples/${extra.flat ? 'FlatError_' : ''}${code}` }]))
  }
}
