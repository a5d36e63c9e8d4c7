import type { FastifyInstance, FastifyRequest } from 'fastify'
import Negotiator from 'negotiator'
import { ApiError } from '../platform/errors.ts'
import { newId } from '../platform/ids.ts'
import type { Metrics } from './metrics.ts'

const SANE_REQUEST_ID = /^[A-Za-z0-9_.:@-]{1,128}$/
const TOKEN_IN_TEXT = /tvb_(live|test)_[0-9A-Za-z]+/g

/** A client's X-Request-Id is echoed when it is sane; otherwise the server makes a req_ id. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : newId('request')
}

/** Anything that looks like a token is masked before it reaches a log line. */
export function maskSecrets(text: string): string {
  return text.includes('tvb_') ? text.replace(TOKEN_IN_TEXT, 'tvb_$1_[redacted]') : text
}

/** Refuses (406) what the route cannot answer in; after the rate limit, so the 406 carries its headers. */
export function checkAccept(request: FastifyRequest): void {
  if (request.is404) return
  const produces = request.routeOptions.config.produces ?? JSON_ONLY
  const accept = request.headers.accept
  if (accept && accept !== '*/*' && !new Negotiator({ headers: { accept } }).mediaType(produces)) {
    throw new ApiError('NOT_ACCEPTABLE', `This route answers with ${produces.join(' or ')}; the Accept header allows none of them.`, { available: produces })
  }
}

const JSON_ONLY = ['application/json']

/** The headers every response carries, whoever raises it (API, docs, framework and parser errors). */
export function standardHeaders(url: string): Record<string, string> {
  const headers: Record<string, string> = {
    'strict-transport-security': 'max-age=63072000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  }
  if (!url.startsWith('/docs')) {
    headers['x-frame-options'] = 'DENY'
    headers['cache-control'] = 'no-store'
  }
  return headers
}

export function installRequestContext(app: FastifyInstance, metrics: Metrics, isClosing: () => boolean): void {
  app.addHook('onSend', async (request, reply) => {
    // during shutdown, responses close their connection: a keep-alive client must not hold the exit
    if (isClosing()) reply.header('connection', 'close')
    reply.headers(standardHeaders(request.url))
  })

  // one access-log line per request (Fastify's two default lines are turned off)
  app.addHook('onResponse', async (request, reply) => {
    const route = request.is404 ? 'not_found' : (request.routeOptions.url ?? 'not_found')
    const seconds = reply.elapsedTime / 1000
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode })
    metrics.httpDuration.observe({ method: request.method, route }, seconds)
    request.log.info({ method: request.method, url: maskSecrets(request.url), route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed')
  })
}
