import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { pino } from 'pino'
import type { Config } from './config.ts'
import { authenticator, checkPermission } from './http/auth.ts'
import { MAX_PARAM_LENGTH, installErrorHandling, sendError, toApiError } from './http/errors.ts'
import { guardPathAndQuery, parseJsonBody } from './http/input-guard.ts'
import { SchemaCompilers } from './http/validation.ts'
import { createMetrics } from './http/metrics.ts'
import type { Metrics } from './http/metrics.ts'
import { installOpenApi } from './http/openapi.ts'
import { guideRoutes } from './http/guides.ts'
import { installIdempotency } from './http/idempotency.ts'
import { installMockResponses } from './http/mock.ts'
import { rateLimiter } from './http/rate-limit.ts'
import { checkAccept, installRequestContext, maskSecrets, requestIdFor, standardHeaders } from './http/request-context.ts'
import { MemoryRateLimitStore, RedisRateLimitStore } from './modules/limits/store.ts'
import type { RateLimitStore } from './modules/limits/store.ts'
import { RouteTable } from './http/route-table.ts'
import { CursorCodec } from './platform/cursor.ts'
import { BookingService } from './modules/bookings/service.ts'
import { CustomerService } from './modules/customers/service.ts'
import { EventService } from './modules/events/service.ts'
import { TeamService } from './modules/partners/service.ts'
import { InvoiceService } from './modules/invoices/service.ts'
import { ListingService } from './modules/listings/service.ts'
import { PaymentService } from './modules/payments/service.ts'
import { ReportService } from './modules/reports/service.ts'
import type { Services, ServicesFor } from './modules/services.ts'
import { serviceRoutes } from './modules/service/routes.ts'
import { v1Surface } from './surfaces/v1/index.ts'
import { v2Surface } from './surfaces/v2/index.ts'
import { externalSurface } from './surfaces/external/index.ts'
import { readServerSecret } from './modules/service/repository.ts'
import { TokenService } from './modules/tokens/service.ts'
import { WebhookService } from './modules/webhooks/service.ts'
import { TestClockService } from './modules/test-clock/service.ts'
import { DeprecatedCalls } from './modules/usage/deprecated-calls.ts'
import { TokenVerifier } from './modules/tokens/verifier.ts'
import type { Clock } from './platform/clock.ts'
import { systemClock } from './platform/clock.ts'
import { requestScoped } from './platform/db.ts'
import type { Db } from './platform/db.ts'
import { ApiError, errorEnvelope } from './platform/errors.ts'

export interface AppDeps {
  config: Config
  db: Db
  clock?: Clock
  /** A pino logger; default: JSON to stdout at config.logLevel. */
  logger?: FastifyBaseLogger
  /** Where rate-limit counts live; default: Redis when config.redisUrl is set, else this process's memory. */
  rateLimitStore?: RateLimitStore
  /** The cursor signing key (hex); default: the one every instance shares in server_secrets. */
  cursorKey?: string
}

export interface App {
  app: FastifyInstance
  tokens: TokenService
  bookings: BookingService
  verifier: TokenVerifier
  metrics: Metrics
  routes: RouteTable
  /** Route validators and serializers, compiled on first use; warm() compiles the rest. */
  compilers: SchemaCompilers
  /** Calls of deprecated operations, counted in memory and flushed about once a minute. */
  deprecatedCalls: DeprecatedCalls
}

const BODY_LIMIT_BYTES = 1_048_576

export function createLogger(level: string, destination?: NodeJS.WritableStream): FastifyBaseLogger {
  const options = {
    level,
    // Authorization never reaches a log line; URLs are masked in the access log.
    // (explicit paths only: wildcard redaction costs on every line)
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'secret', 'hash', 'token.secret'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: maskSecrets(req.url) }),
    },
  }
  // stdout is written asynchronously in 4 KiB batches (one syscall per batch, not per line);
  // main flushes it on shutdown
  const sink = destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 })
  return pino(options, sink) as unknown as FastifyBaseLogger
}

/** Builds the whole HTTP app without listening: the server, the CLI and the tests all use it. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config } = deps
  const db = requestScoped(deps.db)
  const clock = deps.clock ?? systemClock
  const logger = deps.logger ?? createLogger(config.logLevel)
  const routes = new RouteTable()
  const metrics = createMetrics(db)
  const compilers = new SchemaCompilers()

  // set once the verifier and limiter exist (below); the router's own refusals use it
  let chargeUnrouted: (request: FastifyRequest, reply: FastifyReply) => Promise<void> = async () => {}
  const app = Fastify({
    loggerInstance: logger,
    schemaController: compilers.controller(),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: (req) => requestIdFor(req.headers['x-request-id']),
    bodyLimit: BODY_LIMIT_BYTES,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: config.trustProxy,
    // while closing, requests still arriving on open connections get the envelope (onRequest below),
    // not Fastify's own 503 body
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // a path that is not valid percent-encoded UTF-8, or a path segment over maxParamLength
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id)
      reply.headers(standardHeaders(request.url))
      // like an unknown route: with a token, authenticated and charged, so the answer has its headers
      void chargeUnrouted(request, reply).then(
        () => sendError(reply, toApiError(error, request), config.publicBaseUrl),
        (refusal: unknown) => sendError(reply, toApiError(refusal, request), config.publicBaseUrl),
      )
    },
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 72_000,
    // the .json alias (API.md §14, seed 003's api/v2/resource/{id}.json): /v1/teams/team_x.json is
    // /v1/teams/team_x, on every surface
    rewriteUrl: (req) => {
      const url = req.url ?? '/'
      const q = url.indexOf('?')
      const path = q === -1 ? url : url.slice(0, q)
      return /^\/(v1|v2|api\/v1\/external)\//.test(path) && path.endsWith('.json') ? path.slice(0, -5) + (q === -1 ? '' : url.slice(q)) : url
    },
    // malformed HTTP (oversized headers, CL+TE, a duplicate Content-Length, a request not received
    // in time) still gets the envelope and the headers every response carries
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy()
      const code = (error as NodeJS.ErrnoException).code
      const apiError =
        code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new ApiError('REQUEST_TIMEOUT')
          : code === 'HPE_HEADER_OVERFLOW'
            ? new ApiError('HEADERS_TOO_LARGE')
            : new ApiError('INVALID_REQUEST', 'The HTTP request is malformed.')
      const requestId = requestIdFor(undefined)
      // the External API's errors are flat even here: its path is read off the request line the
      // parser received (rawPacket), when it got that far
      const packet: unknown = (error as unknown as { rawPacket?: unknown }).rawPacket
      const requestLine = Buffer.isBuffer(packet) ? packet.toString('latin1', 0, 4096) : ''
      const external = /^[A-Z]+ \/api\/v1\/external(\/|\?|\s)/.test(requestLine)
      const body = JSON.stringify(external ? { code: apiError.code, message: apiError.message, details: {} } : errorEnvelope(apiError, requestId, config.publicBaseUrl))
      const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close', 'x-request-id': requestId, ...standardHeaders('/') }
      const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[apiError.status as 400 | 408 | 431]
      socket.end(`HTTP/1.1 ${apiError.status} ${reason}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`)
    },
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.server.headersTimeout = 10_000

  // Only JSON bodies exist in this API: a text/plain body is a 415, and the JSON parser tells a
  // syntax error from a forbidden key (__proto__, constructor.prototype) precisely.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) routes.add(method, route.url)
  })

  const rateLimitStore = deps.rateLimitStore ?? (await defaultRateLimitStore(config, metrics, logger))
  if (!deps.rateLimitStore) app.addHook('onClose', () => rateLimitStore.close())
  const verifier = new TokenVerifier({
    db,
    clock,
    cacheTtlSeconds: config.tokenCacheTtlSeconds,
    allowedModes: config.allowedModes,
    failureStore: rateLimitStore,
    failuresPerMinute: config.authFailuresPerMinute,
    metrics,
    onBackgroundError: (error) => app.log.warn({ err: error }, 'background token bookkeeping failed'),
  })
  const cursors = new CursorCodec(deps.cursorKey ?? (await loadCursorKey(db)))
  const servicesOn = (on: Db): Services => ({
    tokens: new TokenService({ db: on, clock, onTokenChanged: (id) => verifier.evictToken(id) }),
    listings: new ListingService({ db: on, clock, cursors }),
    customers: new CustomerService({ db: on, clock, cursors }),
    bookings: new BookingService({ db: on, clock, holdMinutes: config.holdMinutes, cursors }),
    events: new EventService({ db: on, clock, cursors }),
    teams: new TeamService({ db: on }),
    webhooks: new WebhookService({ db: on, clock, cursors, allowPrivateTargets: config.webhookAllowPrivateTargets }),
    invoices: new InvoiceService({ db: on, clock, cursors }),
    payments: new PaymentService({ db: on, clock, cursors }),
    reports: new ReportService({ db: on, clock }),
    testClock: new TestClockService({ db: on, clock, onOffsetSeen: (partnerId, offset) => verifier.testClockSeen(partnerId, offset) }),
  })
  const services = servicesOn(db)
  const svc: ServicesFor = (request) => request.idempotency?.services ?? services
  const { tokens, bookings } = services

  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  // One onRequest hook, in this order: request id, shutdown (503), token (401), rate limit (429,
  // and the headers every later answer carries), Accept (406), permission (403). Then the input
  // guard and validation (400).
  const authenticate = authenticator(app, verifier)
  const chargeRateLimit = rateLimiter(rateLimitStore, clock)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    if (closing) throw new ApiError('SERVICE_UNAVAILABLE', 'The server is shutting down; retry on another instance.', undefined, { 'retry-after': '1' })
    await authenticate(request)
    await chargeRateLimit(request, reply)
    checkAccept(request)
    checkPermission(request)
  })
  app.addHook('preValidation', async (request) => guardPathAndQuery(request))
  // ?mock=true: after the guard, before validation and idempotency (API.md §9)
  installMockResponses(app, { enabled: config.mockResponses, publicBaseUrl: config.publicBaseUrl })
  chargeUnrouted = async (request, reply) => {
    if (!request.headers.authorization) return
    request.auth = await verifier.authenticate(request.headers.authorization, request.ip)
    await chargeRateLimit(request, reply, true)
  }
  installRequestContext(app, metrics, () => closing)
  installIdempotency(app, db, clock, config.publicBaseUrl, servicesOn)
  installErrorHandling(app, routes, config.publicBaseUrl)
  await installOpenApi(app, { publicBaseUrl: config.publicBaseUrl })

  await app.register(serviceRoutes, { db, metrics })
  await app.register(guideRoutes)
  const deprecatedCalls = new DeprecatedCalls({ db, clock })
  deprecatedCalls.start(60_000, (error) => app.log.warn({ err: error }, 'counting deprecated calls failed; kept for the next try'))
  app.addHook('onClose', () => deprecatedCalls.stop().catch((error: unknown) => app.log.warn({ err: error }, 'the last count of deprecated calls was not stored')))
  await app.register(v1Surface, { clock, svc, publicBaseUrl: config.publicBaseUrl, deprecatedCalls })
  await app.register(v2Surface, { clock, svc, publicBaseUrl: config.publicBaseUrl })
  await app.register(externalSurface, { clock, svc, publicBaseUrl: config.publicBaseUrl })

  await app.ready()
  return { app, tokens, bookings, verifier, metrics, routes, compilers, deprecatedCalls }
}

async function defaultRateLimitStore(config: Config, metrics: Metrics, log: FastifyBaseLogger): Promise<RateLimitStore> {
  if (!config.redisUrl) return new MemoryRateLimitStore()
  const store = new RedisRateLimitStore(config.redisUrl, {
    onDegraded(degraded, error) {
      metrics.rateLimitDegraded.set(degraded ? 1 : 0)
      if (degraded) log.warn({ err: error }, 'Redis unreachable: rate limits fall back to this instance\'s memory until it returns')
      else log.info('Redis reachable again: rate limits are shared across instances')
    },
    onFallbackCharge: () => metrics.rateLimitFallbacks.inc(),
  })
  if (!(await store.ready())) log.warn('Redis not reachable at start: rate limits use this instance\'s memory until it is')
  return store
}

async function loadCursorKey(db: Db): Promise<string> {
  const key = await readServerSecret(db, 'cursor_signing_key')
  if (!key) throw new Error('server_secrets has no cursor_signing_key: run the migrations first')
  return key
}
