import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from '../platform/errors.ts'
import type { Clock } from '../platform/clock.ts'
import type { Charge, RateLimitStore } from '../modules/limits/store.ts'

/** X-RateLimit-* and the IETF RateLimit-Policy / RateLimit fields for one bucket's charge. */
export function rateLimitHeaders(bucket: string, charge: Charge, nowMs: number): Record<string, string> {
  const resetSeconds = Math.ceil(charge.resetMs / 1000)
  return {
    'x-ratelimit-limit': String(charge.limit),
    'x-ratelimit-remaining': String(charge.remaining),
    'x-ratelimit-reset': String(Math.ceil((nowMs + charge.resetMs) / 1000)),
    'x-ratelimit-bucket': bucket,
    'ratelimit-policy': `"${bucket}";q=${charge.limit};w=60`,
    ratelimit: `"${bucket}";r=${charge.remaining};t=${resetSeconds}`,
  }
}

export function rateLimitExceeded(bucket: string, charge: Charge, nowMs: number, message?: string): ApiError {
  const retryAfter = Math.max(1, Math.ceil(charge.resetMs / 1000))
  return new ApiError(
    'RATE_LIMIT_EXCEEDED',
    message ?? `The ${bucket} bucket allows ${charge.limit} requests a minute; retry after ${retryAfter} s.`,
    { bucket, limit: charge.limit, retry_after_seconds: retryAfter },
    { ...rateLimitHeaders(bucket, charge, nowMs), 'retry-after': String(retryAfter) },
  )
}

/**
 * Charges every authenticated request to its route's bucket, per partner × mode × bucket, and sets
 * the headers before anything else can fail, so errors and 429s carry them too.
 */
export function rateLimiter(store: RateLimitStore, clock: Clock): (request: FastifyRequest, reply: FastifyReply, unrouted?: boolean) => Promise<void> {
  return async (request, reply, unrouted = false) => {
    const auth = request.auth
    if (!auth) return
    // an unknown route (or a URL the router refused) with a token draws on the read bucket
    const bucket = unrouted || request.is404 ? 'read' : request.routeOptions.config.bucket
    if (!bucket) return
    const limit = auth.rateLimits[bucket]
    const charge = await store.consume(`${auth.partnerId}:${auth.mode}:${bucket}`, limit)
    const nowMs = clock.now().getTime()
    if (!charge.allowed) throw rateLimitExceeded(bucket, charge, nowMs)
    reply.headers(rateLimitHeaders(bucket, charge, nowMs))
  }
}
