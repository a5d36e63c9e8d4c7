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
  EXTERNAL_BOOKING_ID_REQUIRED: { status: 400, retry_advice: 'retry_after_fix', title: 'external_booking_id is required when external_system is given.' },
  EXTERNAL_INVALID_REQUEST: { status: 400, retry_advice: 'retry_after_fix', title: 'External API: the request is malformed (e.g. team_ids is not a JSON array of team ids).' },
  EXTERNAL_INVALID_STATE: { status: 400, retry_advice: 'retry_after_fix', title: 'External API: state is not one of the resource\'s states (details.allowed_states).' },
  EXTERNAL_INVALID_DATE_FORMAT: { status: 400, retry_advice: 'retry_after_fix', title: 'External API: a date filter is neither an ISO 8601 date-time nor a calendar date YYYY-MM-DD.' },
  MOCK_NOT_ALLOWED_IN_LIVE_MODE: { status: 400, retry_advice: 'retry_after_fix', title: 'mock=true answers sample data, and only to test-mode tokens (tvb_test_…); drop mock or use a test token.' },
  MOCK_RESPONSES_DISABLED: { status: 400, retry_advice: 'retry_after_fix', title: 'This server does not give mock answers (mock=true); drop the parameter, or use a sandbox server.' },
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, retry_advice: 'retry_after_fix', title: 'This POST moves money: it requires an Idempotency-Key header (1–255 printable characters), so a retry can never record it twice.' },
  TEST_CLOCK_LIVE_MODE: { status: 400, retry_advice: 'retry_after_fix', title: 'The test clock exists in test mode only (live mode always runs on real time); call it with a test token (tvb_test_…).' },
  UNAUTHENTICATED: { status: 401, retry_advice: 'retry_after_fix', title: 'A valid bearer token is required (Authorization: Bearer tvb_live_… or tvb_test_…).' },
  TOKEN_EXPIRED: { status: 401, retry_advice: 'retry_after_fix', title: 'The token has expired; create a new one.' },
  TOKEN_REVOKED: { status: 401, retry_advice: 'retry_after_fix', title: 'The token has been revoked, or its rotated secret is past its grace period.' },
  TOKEN_MODE_NOT_ALLOWED: { status: 401, retry_advice: 'retry_after_fix', title: 'This server does not accept tokens of this mode.' },
  PERMISSION_DENIED: { status: 403, retry_advice: 'retry_after_fix', title: 'The token lacks the permission this operation requires (details.required_permission).' },
  TOKEN_SCOPE_EXCEEDED: { status: 403, retry_advice: 'retry_after_fix', title: 'A token can only create tokens for its own user and mode, over a subset of its own teams and permissions, expiring no later than itself.' },
  EXTERNAL_CUSTOMER_NOT_ACCESSIBLE: { status: 403, retry_advice: 'retry_after_fix', title: 'External API: the customer does not exist or does not belong to the token\'s teams.' },
  NOT_FOUND: { status: 404, retry_advice: 'non_retryable', title: 'The resource does not exist, or is not visible to this token.' },
  EXTERNAL_LISTING_NOT_ACCESSIBLE: { status: 404, retry_advice: 'non_retryable', title: 'External API: the listing does not exist or does not belong to the token\'s teams.' },
  EXTERNAL_BOOKING_NOT_ACCESSIBLE: { status: 404, retry_advice: 'non_retryable', title: 'External API: the booking does not exist or does not belong to the token\'s teams.' },
  ROUTE_NOT_FOUND: { status: 404, retry_advice: 'non_retryable', title: 'No such route; see /openapi.json for the routes that exist.' },
  METHOD_NOT_ALLOWED: { status: 405, retry_advice: 'retry_after_fix', title: 'The route exists but not for this method; the Allow header lists the methods it takes.' },
  NOT_ACCEPTABLE: { status: 406, retry_advice: 'retry_after_fix', title: 'The route cannot answer in any media type the Accept header allows.' },
  REQUEST_TIMEOUT: { status: 408, retry_advice: 'retryable', title: 'The request was not received in time.' },
  LISTING_NOT_BOOKABLE: { status: 409, retry_advice: 'non_retryable', title: 'The listing is not ACTIVE (inactive or archived) and cannot be booked.' },
  LISTING_UNAVAILABLE: { status: 409, retry_advice: 'retry_after_fix', title: 'The listing is already booked for some of these nights; choose other dates or another listing.' },
  PRICE_CHANGED: { status: 409, retry_advice: 'retry_after_fix', title: 'The total differs from expected_total; details.actual_total has the current total.' },
  BOOKING_HOLD_EXPIRED: { status: 409, retry_advice: 'non_retryable', title: 'The booking hold expired; create a new booking.' },
  BOOKING_INVALID_TRANSITION: { status: 409, retry_advice: 'non_retryable', title: 'The booking\'s current status does not allow this action; details.status has the current status.' },
  EXTERNAL_BOOKING_DUPLICATE: { status: 409, retry_advice: 'non_retryable', title: 'A booking with this external_system and external_booking_id already exists; details.existing_booking_id names it.' },
  CUSTOMER_HAS_LIVE_BOOKINGS: { status: 409, retry_advice: 'retry_after_fix', title: 'The customer has live bookings (held, confirmed or issued); cancel them first.' },
  INVOICE_VOID: { status: 409, retry_advice: 'non_retryable', title: 'The invoice is VOID: it cannot be paid or voided again.' },
  INVOICE_HAS_PAYMENTS: { status: 409, retry_advice: 'retry_after_fix', title: 'Money is paid on the invoice (details.amount_paid_net); refund its payments before voiding it.' },
  PAYMENT_EXCEEDS_AMOUNT_DUE: { status: 409, retry_advice: 'retry_after_fix', title: 'The payment is more than the invoice\'s amount due (details.amount_due).' },
  PAYMENT_NOT_REFUNDABLE: { status: 409, retry_advice: 'non_retryable', title: 'The payment FAILED: no money was received, so nothing can be refunded.' },
  REFUND_EXCEEDS_PAYMENT: { status: 409, retry_advice: 'retry_after_fix', title: 'The refund is more than is left to refund of the payment (details.refundable_amount).' },
  IDEMPOTENCY_REQUEST_IN_PROGRESS: { status: 409, retry_advice: 'retryable', title: 'A request with this Idempotency-Key is still running; retry after Retry-After seconds to get its response.' },
  WEBHOOK_LIMIT_REACHED: { status: 409, retry_advice: 'retry_after_fix', title: 'The partner has the most webhook endpoints a mode may have (details.limit); delete one first.' },
  WEBHOOK_DISABLED: { status: 409, retry_advice: 'retry_after_fix', title: 'The webhook endpoint is disabled (details.disabled_reason); enable it first.' },
  CONFLICT: { status: 409, retry_advice: 'retry_after_fix', title: 'The request conflicts with the current state of the resource.' },
  PRECONDITION_FAILED: { status: 412, retry_advice: 'retry_after_fix', title: 'If-Match does not match the current ETag; fetch the resource again and retry.' },
  URI_TOO_LONG: { status: 414, retry_advice: 'retry_after_fix', title: 'A path segment of the URL is longer than the server takes (2,048 characters); ids are at most 128.' },
  PAYLOAD_TOO_LARGE: { status: 413, retry_advice: 'retry_after_fix', title: 'The request body is larger than 1 MiB.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retry_advice: 'retry_after_fix', title: 'Request bodies must be application/json.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, retry_advice: 'retry_after_fix', title: 'This Idempotency-Key was used with a different request (method, path or body); use a new key.' },
  HEADERS_TOO_LARGE: { status: 431, retry_advice: 'retry_after_fix', title: 'The request line and headers together exceed 16 KiB.' },
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

/** One problem with one input field, as listed in details.fields of a 400 VALIDATION_ERROR. */
export interface FieldError {
  field: string
  location: 'path' | 'body' | 'query' | 'header'
  code: string
  message: string
}

/** At most this many field errors are listed; details.truncated says when there were more. */
export const MAX_FIELD_ERRORS = 50

/** The 400 for a list of field errors, capped so that a hostile request cannot amplify its answer. */
export function validationError(fields: readonly FieldError[]): ApiError {
  const listed = fields.slice(0, MAX_FIELD_ERRORS)
  const summary = listed.slice(0, 10).map((f) => `${f.field} ${f.message}`).join('; ')
  const count = `${fields.length} invalid field${fields.length === 1 ? '' : 's'}`
  const more = fields.length > 10 ? `; and ${fields.length - 10} more` : ''
  const details: Record<string, unknown> = { fields: listed }
  if (fields.length > MAX_FIELD_ERRORS) {
    details.truncated = true
    details.total_errors = fields.length
  }
  return new ApiError('VALIDATION_ERROR', `The request has ${count}: ${summary}${more}.${fields.length > MAX_FIELD_ERRORS ? ` Only the first ${MAX_FIELD_ERRORS} are listed in details.fields.` : ''}`, details)
}

/** Collects semantic field errors so a request learns every problem at once (400, details.fields). */
export class FieldErrors {
  readonly fields: FieldError[] = []
  /** skip: fields already reported (by the schema); nothing more is said about them or inside them. */
  constructor(private readonly skip: ReadonlySet<string> = new Set()) {}
  add(field: string, code: string, message: string, location: FieldError['location'] = 'body'): this {
    for (const reported of this.skip) if (field === reported || field.startsWith(`${reported}.`)) return this
    this.fields.push({ field, location, code, message })
    return this
  }
  throwIfAny(): void {
    if (this.fields.length > 0) throw validationError(this.fields)
  }
}

/** Splits a comma-separated or repeated filter and checks each value; unknown ones are field errors. */
export function parseCommaList<T extends string>(raw: string[] | undefined, allowed: readonly T[], field: string, errors: FieldErrors): T[] | undefined {
  if (!raw) return undefined
  const values = [...new Set(raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))]
  const unknown = values.filter((v) => !(allowed as readonly string[]).includes(v))
  if (unknown.length > 0 || values.length === 0) {
    errors.add(field, 'enum', `must be among ${allowed.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`, 'query')
    return undefined
  }
  return (values as T[]).sort()
}

/** Reads a nested value from input that may not have the expected shape (field checks on raw input). */
export function field(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) current = current && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined
  return current
}

export function textField(value: unknown, ...path: string[]): string | undefined {
  const v = field(value, ...path)
  return typeof v === 'string' ? v : undefined
}
