import { ERROR_ADVICE } from './generated/error-advice.ts'

/** What the server says about repeating a failed request (API.md §6). */
export type RetryAdvice = 'retryable' | 'retry_after_fix' | 'non_retryable'

export interface TravobooksErrorInit {
  code: string
  message: string
  status: number
  request_id?: string | undefined
  retry_advice: RetryAdvice
  details?: Record<string, unknown> | undefined
  doc_url?: string | undefined
  headers?: Headers | undefined
  cause?: unknown
}

/**
 * Every failure the SDK reports: an error answer from any surface (v1/v2's `{"error": {…}}` and the
 * External API's flat `{"code", "message", "details"}` alike), or a network failure that outlived
 * its retries (`status` 0, code `NETWORK_ERROR`, or `TIMEOUT` when the last attempt ran out of
 * `timeoutMs`).
 */
export class TravobooksError extends Error {
  readonly code: string
  readonly status: number
  readonly request_id: string | undefined
  readonly retry_advice: RetryAdvice
  readonly details: Record<string, unknown>
  readonly doc_url: string | undefined
  /** The response's headers (Retry-After, X-RateLimit-*, …); empty for a network failure. */
  readonly headers: Headers

  constructor(init: TravobooksErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'TravobooksError'
    this.code = init.code
    this.status = init.status
    this.request_id = init.request_id
    this.retry_advice = init.retry_advice
    this.details = init.details ?? {}
    this.doc_url = init.doc_url
    this.headers = init.headers ?? new Headers()
  }
}

const ADVICE = new Set<string>(['retryable', 'retry_after_fix', 'non_retryable'])

/**
 * The External API's flat errors carry no retry advice: the server's catalogue (generated into
 * ERROR_ADVICE) knows each code's. Only a code it does not list (a newer server, a proxy's answer)
 * falls back to the status.
 */
export function adviceFor(status: number, code: string): RetryAdvice {
  const known = Object.hasOwn(ERROR_ADVICE, code) ? ERROR_ADVICE[code] : undefined
  if (known) return known
  if (status === 408 || status === 429 || status >= 500) return 'retryable'
  return 'retry_after_fix'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

/** Builds the error from a non-2xx answer and its parsed body (whatever shape, or none). */
export function errorFromResponse(response: Response, body: unknown): TravobooksError {
  const headerRequestId = response.headers.get('x-request-id') ?? undefined
  const envelope = isRecord(body) && isRecord(body.error) ? body.error : isRecord(body) && typeof body.code === 'string' ? body : undefined
  if (!envelope) {
    return new TravobooksError({
      code: 'UNEXPECTED_RESPONSE',
      message: `HTTP ${response.status} ${response.statusText}`.trim(),
      status: response.status,
      request_id: headerRequestId,
      retry_advice: adviceFor(response.status, ''),
      headers: response.headers,
    })
  }
  const code = text(envelope.code) ?? 'UNEXPECTED_RESPONSE'
  const advice = text(envelope.retry_advice)
  return new TravobooksError({
    code,
    message: text(envelope.message) ?? `HTTP ${response.status}`,
    status: response.status,
    request_id: text(envelope.request_id) ?? headerRequestId,
    retry_advice: advice && ADVICE.has(advice) ? (advice as RetryAdvice) : adviceFor(response.status, code),
    details: isRecord(envelope.details) ? envelope.details : {},
    doc_url: text(envelope.doc_url),
    headers: response.headers,
  })
}

export function networkError(cause: unknown): TravobooksError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new TravobooksError({ code: 'NETWORK_ERROR', message: `The request did not reach the server: ${reason}`, status: 0, retry_advice: 'retryable', cause })
}

/** No answer within timeoutMs. The request may still have been applied, as with any lost answer. */
export function timeoutError(timeoutMs: number, cause: unknown): TravobooksError {
  return new TravobooksError({ code: 'TIMEOUT', message: `No answer from the server within ${timeoutMs} ms.`, status: 0, retry_advice: 'retryable', cause })
}
