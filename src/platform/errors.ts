/**
 * The one catalogue of error codes: code → HTTP status, retry advice and a default message.
 * Every error the server sends is an ApiError with a code from here; the OpenAPI document and
 * GET /v1/errors are generated from this table, and a test keeps them in step.
 */
export type RetryAdvice = 'retryable' | 'retry_after_fix' | 'non_retryable'

interface CatalogueEntry {
  status: number
  retry_advice: RetryAdvice
  title: string
}

export const ERROR_CATALOGUE = {
  VALIDATION_ERROR: { status: 400, retry_advice: 'retry_after_fix', title: 'The request has invalid fields; every problem is listed in details.fields.' },
  INVALID_JSON: { status: 400, retry_advice: 'retry_after_fix', title: 'The request body is not valid JSON, or uses a forbidden key (__proto__, constructor).' },
  INVALID_REQUEST: { status: 400, retry_advice: 'retry_after_fix', title: 'The HTTP request is malformed.' },
  INVALID_TEAM_IDS: { status: 400, retry_advice: 'retry_after_fix', title: 'team_ids names teams outside the token, or is not a JSON array of team ids.' },
  INVALID_CURSOR: { status: 400, retry_advice: 'retry_after_fix', title: 'The cursor is malformed, tampered with, or was made for other filters or sort.' },
  UNAUTHENTICATED: { status: 401, retry_advice: 'retry_after_fix', title: 'A valid bearer token is required (Authorization: Bearer tvb_live_… or tvb_test_…).' },
  TOKEN_EXPIRED: { status: 401, retry_advice: 'retry_after_fix', title: 'The token has expired; create a new one.' },
  TOKEN_REVOKED: { status: 401, retry_advice: 'retry_after_fix', title: 'The token has been revoked, or its rotated secret is past its grace period.' },
  TOKEN_MODE_NOT_ALLOWED: { status: 401, retry_advice: 'retry_after_fix', title: 'This server does not accept tokens of this mode.' },
  PERMISSION_DENIED: { status: 403, retry_advice: 'retry_after_fix', title: 'The token lacks the permission this operation requires (details.required_permission).' },
  TOKEN_SCOPE_EXCEEDED: { status: 403, retry_advice: 'retry_after_fix', title: 'A token can only create tokens for its own user and mode, over a subset of its own teams and permissions, expiring no later than itself.' },
  NOT_FOUND: { status: 404, retry_advice: 'non_retryable', title: 'The resource does not exist, or is not visible to this token.' },
  ROUTE_NOT_FOUND: { status: 404, retry_advice: 'non_retryable', title: 'No such route; see /openapi.json for the routes that exist.' },
  METHOD_NOT_ALLOWED: { status: 405, retry_advice: 'retry_after_fix', title: 'The route exists but not for this method; the Allow header lists the methods it takes.' },
  NOT_ACCEPTABLE: { status: 406, retry_advice: 'retry_after_fix', title: 'The route cannot answer in any media type the Accept header allows.' },
  REQUEST_TIMEOUT: { status: 408, retry_advice: 'retryable', title: 'The request was not received in time.' },
  CONFLICT: { status: 409, retry_advice: 'retry_after_fix', title: 'The request conflicts with the current state of the resource.' },
  PRECONDITION_FAILED: { status: 412, retry_advice: 'retry_after_fix', title: 'If-Match does not match the current ETag; fetch the resource again and retry.' },
  PAYLOAD_TOO_LARGE: { status: 413, retry_advice: 'retry_after_fix', title: 'The request body is larger than 1 MiB.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retry_advice: 'retry_after_fix', title: 'Request bodies must be application/json.' },
  RATE_LIMIT_EXCEEDED: { status: 429, retry_advice: 'retryable', title: 'Too many requests; retry after the number of seconds in Retry-After.' },
  INTERNAL_ERROR: { status: 500, retry_advice: 'retryable', title: 'Something went wrong on our side; the request id identifies it in our logs.' },
  SERVICE_UNAVAILABLE: { status: 503, retry_advice: 'retryable', title: 'A dependency of the API (the database) is unavailable, or the server is shutting down.' },
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[]

export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: Record<string, unknown> | undefined
  readonly headers: Record<string, string> | undefined

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, headers?: Record<string, string>) {
    super(message ?? ERROR_CATALOGUE[code].title)
    this.name = 'ApiError'
    this.code = code
    this.status = ERROR_CATALOGUE[code].status
    this.details = details
    this.headers = headers
  }
}

/** The one error envelope (API.md §6). */
export interface ErrorEnvelope {
  error: {
    code: ErrorCode
    message: string
    details?: Record<string, unknown>
    request_id: string
    retry_advice: RetryAdvice
    doc_url: string
  }
}

export function errorEnvelope(error: ApiError, requestId: string, publicBaseUrl: string): ErrorEnvelope {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      request_id: requestId,
      retry_advice: ERROR_CATALOGUE[error.code].retry_advice,
      doc_url: `${publicBaseUrl}/docs/errors#${error.code}`,
    },
  }
}

/** The 404 for any resource that does not exist or lies outside the caller's tenancy: one body for both. */
export function notFound(resource: string): ApiError {
  return new ApiError('NOT_FOUND', `No such ${resource}.`, { resource })
}
