import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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

/** First step of every request: echo the request id, and refuse (406) what the route cannot answer in. */
export function checkRequest(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id)
  if (request.is404) return
  const produces = request.routeOptions.config.produces ?? JSON_ONLY
  const accept = request.headers.accept
  if (accept && accept !== '*/*' && !new Negotiator({ headers: { accept } }).mediaType(produces)) {
    throw new ApiError('NOT_ACCEPTABLE', `This route answers with ${produces.join(' or ')}; the Accept header allows none of them.`, { available: produces })
  }
}

const JSON_ONLY = ['application/json']

export function installRequestContext(app: FastifyInstance, metrics: Metrics, isClosing: () => boolean): void {
  app.addHook('onSend', async (request, reply) => {
    // during shutdown, responses close their connection: a keep-alive client must not hold the exit
    if (isClosing()) reply.header('connection', 'close')
    reply.header('strict-transport-security', 'max-age=63072000; includeSubDomains')
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    if (!request.url.startsWith('/docs')) {
      reply.header('x-frame-options', 'DENY')
      reply.header('cache-control', 'no-store')
    }
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
