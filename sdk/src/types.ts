import type { paths } from './generated/openapi.ts'

/**
 * Types derived from the generated document by path and method, never by hand, so they follow the
 * server: when the document changes, `npm run generate` changes these with it.
 */

export type HttpMethod = 'get' | 'put' | 'post' | 'delete'

type IdempotencyHeader = { 'idempotency-key': string }

/** The SDK always sends an Idempotency-Key on POST, so a key the document requires becomes optional to pass. */
type KeyOptional<Op> = Op extends { parameters: { header: infer H extends IdempotencyHeader } }
  ? Omit<Op, 'parameters'> & { parameters: Omit<Op['parameters'], 'header'> & { header?: Omit<H, 'idempotency-key'> & Partial<IdempotencyHeader> } }
  : Op

/** The document's paths as the SDK's low-level calls accept them. */
export type SdkPaths = {
  [P in keyof paths]: { [M in keyof paths[P]]: M extends 'post' ? KeyOptional<paths[P][M]> : paths[P][M] }
}

type Operation<P extends keyof paths, M extends HttpMethod> = NonNullable<paths[P][M & keyof paths[P]]>

type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never
type SuccessStatus = 200 | 201 | 202 | 203
type SuccessOf<Op> = Op extends { responses: infer R } ? { [S in keyof R]: S extends SuccessStatus ? JsonOf<R[S]> : never }[keyof R] : never

/** The success body of an operation (void for 204-only operations). */
export type Success<Op> = [SuccessOf<Op>] extends [never] ? void : SuccessOf<Op>

/**
 * A whole resource. Single-resource GETs are documented as "the resource, or some of its fields"
 * (for `?fields=`); the SDK never sends `fields` on its resource methods, so it is the whole one.
 */
export type Whole<T> = [Extract<T, { id: unknown }>] extends [never] ? T : Extract<T, { id: unknown }>

export type ResponseBody<P extends keyof paths, M extends HttpMethod> = Success<Operation<P, M>>
export type RequestBody<P extends keyof paths, M extends HttpMethod> =
  Operation<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never
export type QueryOf<P extends keyof paths, M extends HttpMethod> = Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never

/** List filters as the resource methods take them: no `fields` (items stay whole) and no `mock`. */
export type ListQuery<P extends keyof paths> = Omit<QueryOf<P, 'get'>, 'fields' | 'mock'>

type ItemsOf<B> = B extends { data: (infer I)[] } ? I : B extends { items: (infer I)[] } ? I : never
export type ListItem<P extends keyof paths> = Whole<ItemsOf<ResponseBody<P, 'get'>>>

export type Me = ResponseBody<'/v1/me', 'get'>
export type Team = Whole<ResponseBody<'/v1/teams/{id}', 'get'>>
export type Listing = Whole<ResponseBody<'/v1/listings/{id}', 'get'>>
export type ListingCalendar = ResponseBody<'/v1/listings/{id}/calendar', 'get'>
export type AvailabilityResult = ListItem<'/v1/availability'>
export type Customer = Whole<ResponseBody<'/v1/customers/{id}', 'get'>>
export type Booking = Whole<ResponseBody<'/v1/bookings/{id}', 'get'>>
export type BookingV2 = Whole<ResponseBody<'/v2/bookings/{id}', 'get'>>
export type Invoice = Whole<ResponseBody<'/v1/invoices/{id}', 'get'>>
export type Payment = Whole<ResponseBody<'/v1/payments/{id}', 'get'>>
export type Event = Whole<ResponseBody<'/v1/events/{id}', 'get'>>
export type Token = Whole<ResponseBody<'/v1/tokens/{id}', 'get'>>
export type CreatedToken = ResponseBody<'/v1/tokens', 'post'>
export type WebhookEndpoint = Whole<ResponseBody<'/v1/webhooks/{id}', 'get'>>
export type WebhookDelivery = ListItem<'/v1/webhooks/{id}/deliveries'>
export type TestClock = ResponseBody<'/v1/test-clock', 'get'>
export type Sandbox = ResponseBody<'/v1/sandbox', 'get'>
export type ExternalListing = ResponseBody<'/api/v1/external/listings/{id}', 'get'>
export type ExternalBooking = ResponseBody<'/api/v1/external/bookings/{id}', 'get'>
export type PathParamsOf<P extends keyof paths, M extends HttpMethod> = Operation<P, M> extends { parameters: { path: infer A } } ? A : never

/** The JSON reports (their `.csv` twins are text, for spreadsheets). */
export type ReportType = Exclude<PathParamsOf<'/v1/reports/{type}', 'get'> extends { type: infer T } ? T : string, `${string}.csv`>

/**
 * What a replacing PUT takes: its documented body, or the resource as a GET returned it with some
 * fields changed (API.md §3: read-only fields are accepted when unchanged). The server still
 * decides: an ARCHIVED state, say, is refused with a 400 naming the field.
 */
export type Replacement<P extends keyof paths, R> = { [K in keyof RequestBody<P, 'put'>]: K extends keyof R ? RequestBody<P, 'put'>[K] | R[K] : RequestBody<P, 'put'>[K] }
