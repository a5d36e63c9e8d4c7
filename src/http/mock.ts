import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import Negotiator from 'negotiator'
import { ApiError, validationError } from '../platform/errors.ts'
import { etagOf } from './list-query.ts'
import { SampleGenerator } from './sample-data.ts'
import type { JsonSchema } from './sample-data.ts'

/**
 * ?mock=true (API.md §9): with a test token, any operation of the partner surfaces answers a
 * realistic sample of its documented success response instead of running: nothing is read from or
 * written to the database. The answer is built from the route's own response schema, so a route
 * added tomorrow (v2, the External API) is covered without anyone writing a sample for it.
 *
 * Authentication, the rate limit, Accept and the permission run first (the app's onRequest), then
 * the input guard, this hook's mode check, and the route's validation: a mock answer is what a
 * valid request would get, and an invalid request gets the same 400 as without mock. The answer is
 * sent before the idempotency stage, so it is never stored under an Idempotency-Key.
 */
declare module 'fastify' {
  interface FastifyInstance {
    /** Whether this server answers mock=true (Config.mockResponses). */
    mockResponsesEnabled: boolean
  }
  interface FastifyRequest {
    /** mock=true was asked for and allowed: the preHandler answers with a sample. */
    mockAnswer: boolean
  }
}

const MOCKABLE_PATH = /^\/(v1|v2|api\/v1\/external)(\/|$)/

/** Operations that take mock=: every authenticated operation of /v1, /v2 and the External API. */
export function isMockable(route: { url: string; public: boolean }): boolean {
  return !route.public && MOCKABLE_PATH.test(route.url)
}

export const MOCK_PARAMETER = {
  name: 'mock',
  in: 'query',
  required: false,
  description:
    'true: answer a realistic, schema-valid sample of this operation\'s success response (the same bytes every time) without reading or ' +
    'changing any data. Test tokens only (400 MOCK_NOT_ALLOWED_IN_LIVE_MODE with a live token; 400 MOCK_RESPONSES_DISABLED where the server ' +
    'turns mock answers off). The request is still authenticated, rate limited and validated; the answer is never stored under an Idempotency-Key.',
  schema: { type: 'string', enum: ['true', 'false'] },
} as const

const JSON_TYPE = 'application/json'
const CSV_TYPE = 'text/csv'

interface Success {
  status: number
  /** The JSON body's schema; null when the answer has no body (204). */
  schema: JsonSchema | null
  /** The route can also answer in CSV (a report). */
  csv: boolean
}

/** The operation's documented success: its lowest 2xx response. */
function successOf(request: FastifyRequest): Success | null {
  const responses = (request.routeOptions.schema?.response ?? {}) as Record<string, JsonSchema>
  const statuses = Object.keys(responses).map(Number).filter((s) => s >= 200 && s < 300).sort((a, b) => a - b)
  const status = statuses[0]
  if (status === undefined) return null
  const response = responses[String(status)]!
  const content = response.content as Record<string, { schema?: JsonSchema }> | undefined
  const schema = content ? (content[JSON_TYPE]?.schema ?? null) : response
  const empty = status === 204 || !schema || schema.type === 'null'
  return { status, schema: empty ? null : schema, csv: Boolean(content?.[CSV_TYPE]) }
}

function wantsCsv(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? ''
  if (path.endsWith('.csv')) return true
  const accept = request.headers.accept
  const produces = request.routeOptions.config.produces ?? [JSON_TYPE]
  return Boolean(accept) && new Negotiator({ headers: { accept } }).mediaType(produces) === CSV_TYPE
}

function csvCell(value: unknown): string {
  const text = value !== null && typeof value === 'object' && 'amount' in value ? String((value as { amount: unknown }).amount) : value === null || value === undefined ? '' : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** A report's rows as CSV, as the real answer has them: a header of the columns, CRLF line ends, money as its decimal amount. */
function csvOf(sample: unknown): string {
  const rows = (sample && typeof sample === 'object' && Array.isArray((sample as { data?: unknown }).data) ? (sample as { data: unknown[] }).data : [sample]) as Record<string, unknown>[]
  const columns = Object.keys(rows[0] ?? {}).filter((c) => !Array.isArray(rows[0]![c]))
  return [columns.join(','), ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(','))].map((line) => `${line}\r\n`).join('')
}

function scalarsOf(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {}
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
}

function sampleFor(request: FastifyRequest, schema: JsonSchema): unknown {
  const schemas = request.server.getSchemas() as Record<string, JsonSchema>
  const generator = new SampleGenerator({
    seed: `${request.method} ${request.routeOptions.url}`,
    params: Object.fromEntries(Object.entries((request.params ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string')),
    // the body's own values (a new customer's name, a stay's dates), then the query's (filters)
    given: { ...scalarsOf(request.body), ...((request.query ?? {}) as Record<string, unknown>) },
    action: /::([a-z-]+)$/.exec(request.routeOptions.url ?? '')?.[1],
    resolve: (ref) => schemas[ref.replace(/#.*$/, '')],
  })
  return generator.sample(schema)
}

function sendMock(request: FastifyRequest, reply: FastifyReply, publicBaseUrl: string): FastifyReply {
  const success = successOf(request)
  if (!success) throw new ApiError('INTERNAL_ERROR', 'This operation documents no success response to sample.')
  reply.header('x-mock-response', 'true')
  if (!success.schema) return reply.code(success.status).send()
  const sample = sampleFor(request, success.schema)
  const id = (sample as { id?: unknown } | null)?.id
  if (success.status === 201 && typeof id === 'string') {
    // where the created resource would live: the collection the POST went to, then its id
    reply.header('location', `${publicBaseUrl}${request.url.split('?')[0]}/${id}`)
  }
  if (success.csv && wantsCsv(request)) {
    const named = sample as { report?: string; from?: string; to?: string }
    reply.header('content-disposition', `attachment; filename="${[named.report ?? 'sample', named.from, named.to].filter(Boolean).join('-')}.csv"`)
    return reply.code(success.status).type(`${CSV_TYPE}; charset=utf-8`).send(csvOf(sample))
  }
  const body = JSON.stringify(sample)
  if ((request.method === 'GET' || request.method === 'HEAD') && (request.routeOptions.schema?.response as Record<string, unknown> | undefined)?.['304']) reply.header('etag', etagOf(sample as object))
  return reply.code(success.status).type(`${JSON_TYPE}; charset=utf-8`).send(body)
}

export function installMockResponses(app: FastifyInstance, options: { enabled: boolean; publicBaseUrl: string }): void {
  app.decorate('mockResponsesEnabled', options.enabled)
  app.decorateRequest('mockAnswer', false)

  // before the route's validation: mock is taken out of the query whatever its value, so that no
  // route's closed query schema (additionalProperties: false) ever sees it
  app.addHook('preValidation', async (request) => {
    if (request.is404 || !request.auth || !isMockable({ url: request.routeOptions.url ?? '', public: Boolean(request.routeOptions.config.public) })) return
    const query = request.query as Record<string, unknown> | undefined
    if (!query || !Object.hasOwn(query, 'mock')) return
    const value = query.mock
    delete query.mock
    if (value !== 'true' && value !== 'false') {
      throw validationError([{ field: 'mock', location: 'query', code: 'enum', message: 'must be true or false' }])
    }
    if (value === 'false') return
    if (!options.enabled) throw new ApiError('MOCK_RESPONSES_DISABLED', 'This server does not give mock answers: send the request without mock=true.')
    if (request.auth.mode !== 'test') {
      throw new ApiError('MOCK_NOT_ALLOWED_IN_LIVE_MODE', 'mock=true is for test tokens (tvb_test_…) only: a live token always gets real answers.', { mode: request.auth.mode })
    }
    request.mockAnswer = true
  })

  // after validation, before the idempotency stage opens a transaction: no data is touched
  app.addHook('preHandler', async (request, reply) => {
    if (!request.mockAnswer) return
    return sendMock(request, reply, options.publicBaseUrl)
  })
}
