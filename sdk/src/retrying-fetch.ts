import { networkError, timeoutError } from './errors.ts'

export type FetchLike = (request: Request) => Promise<Response>

export interface RetryPolicy {
  /** Retries after the first attempt (0 disables retrying). */
  maxRetries: number
  /** The first back-off ceiling; each retry doubles it, up to maxDelayMs. */
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this is not waited for: the error goes back to the caller. */
  maxRetryAfterMs: number
  /** How long each attempt waits for the answer to start (status and headers) before it counts as lost. */
  timeoutMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 60_000, timeoutMs: 60_000 }

/** Waits, unless the signal aborts first: then it rejects with the abort's reason and drops its timer. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((done, fail) => {
    if (signal?.aborted) return fail(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      fail(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      done()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** AbortSignal.any where it exists (Node 20.3+, current browsers); elsewhere the same by listeners. */
function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b])
  const controller = new AbortController()
  for (const signal of [a, b]) {
    if (signal.aborted) {
      controller.abort(signal.reason)
      break
    }
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
  }
  return controller.signal
}

/**
 * One attempt's signal: the caller's, or the attempt's own deadline, whichever comes first. The
 * timer is ours (not AbortSignal.timeout) so that it stops once the answer starts, and does not
 * keep a Node process alive for timeoutMs after its last request.
 */
function attemptSignal(caller: AbortSignal, timeoutMs: number) {
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(new DOMException(`No answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
  return {
    signal: eitherSignal(caller, deadline.signal),
    timedOut: () => deadline.signal.aborted && !caller.aborted,
    stop: () => clearTimeout(timer),
  }
}

/** A fetch passed in as an option may ignore the signal: the attempt ends on time all the same. */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error as Error)
      },
    )
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
}

const HEX = '0123456789abcdef'

/**
 * A random (version 4) UUID. crypto.randomUUID exists only in secure contexts (https, localhost),
 * and a page served over plain http elsewhere still needs Idempotency-Keys: getRandomValues
 * exists everywhere.
 */
export function randomUuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  let text = ''
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text += '-'
    text += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 0x0f]!
  }
  return text
}

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
 * (Retry-After wins), and so are network failures and timeouts of GETs (safe) and POSTs (keyed).
 * A PUT or DELETE whose answer was lost is not resent: its second answer (412, 404) would misreport
 * the first. The caller's abort signal stops everything at once, back-off sleeps included.
 */
export function retryingFetch(send: FetchLike, policy: RetryPolicy): FetchLike {
  return async (request) => {
    // Set once, before the first attempt: every clone sent below carries this same key.
    if (request.method === 'POST' && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', randomUuid())
    const resendable = request.method === 'GET' || request.method === 'HEAD' || request.method === 'POST'
    const caller = request.signal
    for (let retry = 0; ; retry++) {
      const canRetry = retry < policy.maxRetries && !caller.aborted
      const attempt = attemptSignal(caller, policy.timeoutMs)
      let response: Response
      try {
        response = await untilAborted(send(new Request(canRetry ? request.clone() : request, { signal: attempt.signal })), attempt.signal)
      } catch (error) {
        if (caller.aborted) throw caller.reason ?? error
        const lost = attempt.timedOut() ? timeoutError(policy.timeoutMs, error) : networkError(error)
        if (!canRetry || !resendable) throw lost
        await sleep(backoffMs(retry, policy), caller)
        continue
      } finally {
        attempt.stop()
      }
      if (!canRetry || !(await isRetryableAnswer(response))) return response
      const told = retryAfterMs(response.headers)
      if (told !== undefined && told > policy.maxRetryAfterMs) return response
      await response.body?.cancel()
      await sleep(told ?? backoffMs(retry, policy), caller)
    }
  }
}
