import { networkError } from './errors.ts'

export type FetchLike = (request: Request) => Promise<Response>

export interface RetryPolicy {
  /** Retries after the first attempt (0 disables retrying). */
  maxRetries: number
  /** The first back-off ceiling; each retry doubles it, up to maxDelayMs. */
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this is not waited for: the error goes back to the caller. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 60_000 }

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim()
  if (!value) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** "Full jitter": a uniform delay below an exponentially growing, capped ceiling, so clients that failed together spread out. */
export function backoffMs(retry: number, policy: RetryPolicy): number {
  return Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry)
}

/** Whether an error answer may succeed unchanged later; reads a copy of the body, leaving the original for the caller. */
async function isRetryableAnswer(response: Response): Promise<boolean> {
  if (response.status !== 429 && response.status !== 503 && response.status !== 409) return false
  let body: unknown
  try {
    body = await response.clone().json()
  } catch {
    body = undefined
  }
  const envelope = typeof body === 'object' && body !== null ? ('error' in body && typeof body.error === 'object' && body.error !== null ? body.error : body) : {}
  const code = 'code' in envelope ? envelope.code : undefined
  const advice = 'retry_advice' in envelope ? envelope.retry_advice : undefined
  if (advice === 'non_retryable') return false
  if (response.status === 409) return code === 'IDEMPOTENCY_REQUEST_IN_PROGRESS'
  return true
}

/**
 * Wraps fetch with the SDK's delivery guarantees: every POST carries an Idempotency-Key (the
 * caller's, or a fresh UUID) that stays the same on each retry of that call, so a retried POST can
 * never apply twice; 429, 503 and 409 IDEMPOTENCY_REQUEST_IN_PROGRESS are retried with back-off
 * (Retry-After wins), and so are network failures of GETs (safe) and POSTs (keyed). A PUT or
 * DELETE whose answer was lost is not resent: its second answer (412, 404) would misreport the first.
 */
export function retryingFetch(send: FetchLike, policy: RetryPolicy): FetchLike {
  return async (request) => {
    // Set once, before the first attempt: every clone sent below carries this same key.
    if (request.method === 'POST' && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', crypto.randomUUID())
    const resendable = request.method === 'GET' || request.method === 'HEAD' || request.method === 'POST'
    for (let retry = 0; ; retry++) {
      const canRetry = retry < policy.maxRetries && !request.signal.aborted
      let response: Response
      try {
        response = await send(canRetry ? request.clone() : request)
      } catch (error) {
        if (request.signal.aborted) throw error
        if (!canRetry || !resendable) throw networkError(error)
        await sleep(backoffMs(retry, policy))
        continue
      }
      if (!canRetry || !(await isRetryableAnswer(response))) return response
      const told = retryAfterMs(response.headers)
      if (told !== undefined && told > policy.maxRetryAfterMs) return response
      await response.body?.cancel()
      await sleep(told ?? backoffMs(retry, policy))
    }
  }
}
