import type { ErrorCode } from './errors.ts'

/**
 * How a partner fixes each error: what to change in the request, which header to send, when a
 * retry helps. Shown on /docs/errors beside the code's meaning. Typed over every ErrorCode, so a
 * new code without a fix does not compile.
 */
export const ERROR_FIXES: Record<ErrorCode, string> = {
  VALIDATION_ERROR:
    'Read `details.fields`: each entry names the `field`, where it is (`location`: body, query, path or header) and what is wrong with it (`code`, `message`). Every problem is listed at once, so fix them all and send the request again. A `PUT` must carry every writable field (send `null` to clear one); read-only fields are accepted only when equal to the stored values.',
  INVALID_JSON:
    'Send a body that parses as JSON (check quoting, trailing commas and the encoding, which must be UTF-8), and rename any key called `__proto__` or `constructor`. Build the body with a JSON serializer rather than by string concatenation.',
  INVALID_REQUEST:
    'The HTTP request itself could not be read: check the request line, the percent-encoding of the path and query, and the headers your client sends. An HTTP library (curl, fetch, the SDK) produces valid requests; hand-written requests are the usual cause.',
  INVALID_TEAM_IDS:
    'Send `team_ids` as a JSON array of team ids (`team_ids=["team_…","team_…"]`, URL-encoded) or as repeated `team_ids=` parameters, naming only teams the token covers: `details` lists the offending ids, and `GET /v1/me` lists the token\'s teams. Leave `team_ids` out to use all of them.',
  INVALID_CURSOR:
    'Pass `cursor` exactly as the previous page returned it in `pagination.next_cursor`, with the same filters and `sort` as the request that produced it. To change filters or sort, start again from the first page without `cursor`.',
  EXTERNAL_BOOKING_ID_REQUIRED:
    'When you send `external_system`, also send `external_booking_id` (your own id for the booking); or leave both out.',
  EXTERNAL_INVALID_REQUEST:
    'Check the query against the External API guide (/docs/guides/external-api): `team_ids` must be a JSON array of team ids, `page` and `limit` positive integers. The message names the parameter at fault.',
  EXTERNAL_INVALID_STATE:
    'Use one of the states listed in `details.allowed_states`, spelled exactly as listed.',
  EXTERNAL_INVALID_DATE_FORMAT:
    'Send the date filter as an ISO 8601 date-time with an offset (`2026-05-01T00:00:00Z`) or as a calendar date (`2026-05-01`).',
  MOCK_NOT_ALLOWED_IN_LIVE_MODE:
    'Mock answers are for test mode only: call with a test token (`tvb_test_…`), or drop `mock=true` to get the real answer with your live token.',
  MOCK_RESPONSES_DISABLED:
    'This server does not serve sample answers: drop `mock=true`, or point your client at a sandbox server that allows them.',
  IDEMPOTENCY_KEY_REQUIRED:
    'Add an `Idempotency-Key` header (1–255 printable characters, e.g. a UUID you generate once per payment) and keep it for every retry of the same payment, so it can never be recorded twice.',
  TEST_CLOCK_LIVE_MODE:
    'Call the test clock with a test token (`tvb_test_…`). Live mode always runs on real time and has no clock to move.',
  UNAUTHENTICATED:
    'Send `Authorization: Bearer tvb_live_…` (or `tvb_test_…`) with the whole secret as it was shown at creation, 41 characters. Tokens are never accepted in the query string. A mistyped secret fails its checksum and is refused before any look-up; create a new token if the secret is lost.',
  TOKEN_EXPIRED:
    'The token passed its `expires_at`. Create a new token (`POST /v1/tokens` with another token that has `token.manage`, or the `tvb` command-line tool) and replace the secret in your configuration. Rotate tokens before they expire to avoid the gap.',
  TOKEN_REVOKED:
    'The token was revoked, or it was rotated and the old secret\'s grace period is over. Use the newest secret of the token (from `POST /v1/tokens/{id}:rotate`), or create a new token. Revocation reaches every server within the token cache\'s lifetime (30 seconds by default).',
  TOKEN_MODE_NOT_ALLOWED:
    'This server refuses tokens of this mode (`details.mode`): a sandbox or staging server takes only test tokens. Use a token of the other mode, or call the server meant for this one.',
  PERMISSION_DENIED:
    'The token lacks the permission named in `details.required_permission`. Use a token whose role has it (each operation in /docs states the permission it needs, and `GET /v1/me` lists the token\'s permissions), or create one whose `scopes` include it. Retrying with the same token fails the same way.',
  TOKEN_SCOPE_EXCEEDED:
    'Ask only for what the calling token has: the same user and mode, a subset of its `team_ids` and permissions, and an `expires_at` no later than its own. `GET /v1/me` shows the calling token\'s teams, permissions and expiry.',
  EXTERNAL_CUSTOMER_NOT_ACCESSIBLE:
    'Use the id of a customer in one of the token\'s teams and mode (`GET /v1/customers` lists them), or a token that covers the customer\'s team.',
  NOT_FOUND:
    'Check the id (its prefix names the resource: `bkg_` bookings, `lst_` listings, `cus_` customers …) and the token\'s mode and teams: a test token never sees live data, and a resource of another team is answered exactly like one that does not exist.',
  EXTERNAL_LISTING_NOT_ACCESSIBLE:
    'Check the listing id, and that the token covers the listing\'s team and mode; list what the token can see with `GET /api/v1/external/listings`.',
  EXTERNAL_BOOKING_NOT_ACCESSIBLE:
    'Check the booking id, and that the token covers the booking\'s team and mode; list what the token can see with `GET /api/v1/external/bookings`.',
  ROUTE_NOT_FOUND:
    'Check the method and path against the reference (/docs) or /openapi.json: paths start with `/v1/`, `/v2/` or `/api/v1/external/`, actions use a colon (`/v1/bookings/{id}:confirm`), and paths are case-sensitive.',
  METHOD_NOT_ALLOWED:
    'Use one of the methods in the `Allow` header. Changes are `PUT` of the whole resource (there is no `PATCH`), and actions are `POST` to a `:action` path.',
  NOT_ACCEPTABLE:
    'Send an `Accept` header that allows the media type in `details.available` (usually `application/json`; reports also answer `text/csv`), or send no `Accept` header at all.',
  REQUEST_TIMEOUT:
    'The request arrived too slowly. Retry it; if it keeps happening, check the network path and that your client sends the body right after the headers. POSTs are safe to retry with the same `Idempotency-Key`.',
  LISTING_NOT_BOOKABLE:
    'The listing is `INACTIVE` or `ARCHIVED`. Book another listing (`GET /v1/availability` returns only bookable ones), or set the listing\'s `state` to `ACTIVE` with `PUT /v1/listings/{id}` first.',
  LISTING_UNAVAILABLE:
    'Some of the nights are taken. Pick other dates or another listing: `GET /v1/listings/{id}/calendar` shows each night, and `GET /v1/availability` finds listings free for a stay.',
  PRICE_CHANGED:
    'The price moved since you quoted it. Show the customer the new total from `details.actual_total`, and, if they accept, send the request again with `expected_total` set to it.',
  BOOKING_HOLD_EXPIRED:
    'A hold lasts 15 minutes (`hold_expires_at`). Create a new booking for the stay and confirm it before its hold expires; the `booking.hold_expiring` webhook warns you in time.',
  BOOKING_INVALID_TRANSITION:
    'The booking is in `details.status`, which does not allow this action. Bookings move `HELD → CONFIRMED → ISSUED`, and any of those → `CANCELLED`; fetch the booking to see where it is before acting on it again.',
  EXTERNAL_BOOKING_DUPLICATE:
    'A booking with this `external_system` and `external_booking_id` already exists (`details.existing_booking_id`): fetch that one instead of creating it again, or use a new external id for a different booking.',
  CUSTOMER_HAS_LIVE_BOOKINGS:
    'Cancel the customer\'s held, confirmed and issued bookings first (`GET /v1/customers/{id}/bookings` lists them), then delete the customer.',
  INVOICE_VOID:
    'A void invoice takes no payments and cannot be voided again. Record the payment against the booking\'s current invoice, or create a new invoice.',
  INVOICE_HAS_PAYMENTS:
    'Refund the invoice\'s payments first (`POST /v1/payments/{id}:refund`, until `details.amount_paid_net` is zero), then void it.',
  PAYMENT_EXCEEDS_AMOUNT_DUE:
    'Record at most `details.amount_due`, in the invoice\'s currency; fetch the invoice for its current amount due if other payments were recorded meanwhile.',
  PAYMENT_NOT_REFUNDABLE:
    'The payment failed, so no money was taken and there is nothing to refund. Nothing needs to be done for it.',
  REFUND_EXCEEDS_PAYMENT:
    'Refund at most `details.refundable_amount`: the payment\'s amount less what was already refunded.',
  IDEMPOTENCY_REQUEST_IN_PROGRESS:
    'The first request with this `Idempotency-Key` is still running. Wait the number of seconds in `Retry-After` and send the same request again with the same key: you get its response, and it is applied only once.',
  WEBHOOK_LIMIT_REACHED:
    'Delete an endpoint you no longer use (`DELETE /v1/webhooks/{id}`), or point one endpoint at several event types (`event_types`) instead of creating one per type. The limit is in `details.limit`.',
  WEBHOOK_DISABLED:
    'Fix the reason in `details.disabled_reason` (usually the URL failing or answering `410 Gone`), then enable the endpoint again with `PUT /v1/webhooks/{id}` and `"enabled": true`, and retry.',
  CONFLICT:
    'The resource\'s current state forbids the change: the message and `details` say why (an archived listing, a revoked or expired token, too many active tokens). Fetch the resource, resolve that, then retry.',
  PRECONDITION_FAILED:
    'The resource changed since you read it. `GET` it again, apply your change to the fresh body, and send the `PUT` with the new `ETag` in `If-Match`.',
  URI_TOO_LONG:
    'Ids are at most 128 characters: check that the path holds an id and not, for example, a whole URL or a body. Send long inputs in a JSON body, not in the path.',
  PAYLOAD_TOO_LARGE:
    'Keep the body under 1 MiB. Create many resources with several requests, and send large lists in pages.',
  UNSUPPORTED_MEDIA_TYPE:
    'Send the body as JSON with `Content-Type: application/json`. Form encodings and `text/plain` are not accepted.',
  IDEMPOTENCY_KEY_REUSED:
    'Each `Idempotency-Key` belongs to one request (method, path and body) for 24 hours. Generate a new key for a different request; reuse a key only to retry the very same request.',
  HEADERS_TOO_LARGE:
    'Keep the request line and headers under 16 KiB together: drop unneeded cookies and custom headers, and move long inputs from the query string into a JSON body.',
  RATE_LIMIT_EXCEEDED:
    'Wait the number of seconds in `Retry-After`, then retry. `X-RateLimit-Bucket`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` on every response show how much of the bucket is left; spread requests out, or ask for a higher limit.',
  INTERNAL_ERROR:
    'Retry with exponential backoff (POSTs with the same `Idempotency-Key`, so nothing is applied twice). If it persists, contact travoBooks support with the `request_id`.',
  SERVICE_UNAVAILABLE:
    'Retry after `Retry-After` seconds, with exponential backoff; the server is shutting down or its database is briefly unreachable. POSTs are safe to retry with the same `Idempotency-Key`.',
}
