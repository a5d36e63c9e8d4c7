import type { TravobooksCore } from '../core.ts'
import type { ReplaceOptions } from '../etag.ts'
import type { CursorList } from '../pagination.ts'
import type { Booking, BookingV2, ListQuery, RequestBody } from '../types.ts'
import { cursorList, ifMatchHeader, keyHeader, signalOf, withEtag } from './request-options.ts'
import type { PostOptions, RequestOptions, WithEtag } from './request-options.ts'

/** /v1/bookings: a booking is held (15 minutes), then confirmed, issued, or cancelled. */
export class Bookings {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/bookings'> = {}, options?: RequestOptions): CursorList<Booking> {
    return cursorList(query, (q) => this.core.GET('/v1/bookings', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Booking> {
    return (await this.core.GET('/v1/bookings/{id}', { params: { path: { id } }, ...signalOf(options) })) as Booking
  }
  getWithEtag(id: string, options?: RequestOptions): Promise<WithEtag<Booking>> {
    return withEtag(this.get(id, options))
  }
  /** Holds the stay: the booking starts HELD, with hold_expires_at. */
  create(body: RequestBody<'/v1/bookings', 'post'>, options?: PostOptions): Promise<Booking> {
    return this.core.POST('/v1/bookings', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  confirm(id: string, options?: PostOptions): Promise<Booking> {
    return this.core.POST('/v1/bookings/{id}:confirm', { params: { path: { id }, header: keyHeader(options) }, ...signalOf(options) })
  }
  issue(id: string, options?: PostOptions): Promise<Booking> {
    return this.core.POST('/v1/bookings/{id}:issue', { params: { path: { id }, header: keyHeader(options) }, ...signalOf(options) })
  }
  cancel(id: string, body: RequestBody<'/v1/bookings/{id}:cancel', 'post'>, options?: PostOptions): Promise<Booking> {
    return this.core.POST('/v1/bookings/{id}:cancel', { params: { path: { id }, header: keyHeader(options) }, body, ...signalOf(options) })
  }
  replaceGuestDetails(id: string, body: RequestBody<'/v1/bookings/{id}/guest-details', 'put'>, options?: ReplaceOptions): Promise<Booking> {
    return this.core.PUT('/v1/bookings/{id}/guest-details', { params: { path: { id }, header: ifMatchHeader(options) }, body, ...signalOf(options) })
  }
  replaceStay(id: string, body: RequestBody<'/v1/bookings/{id}/stay', 'put'>, options?: ReplaceOptions): Promise<Booking> {
    return this.core.PUT('/v1/bookings/{id}/stay', { params: { path: { id }, header: ifMatchHeader(options) }, body, ...signalOf(options) })
  }
}

/** /v2/bookings: the same lifecycle with v2's representation (see the migration guide). */
export class BookingsV2 {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v2/bookings'> = {}, options?: RequestOptions): CursorList<BookingV2> {
    return cursorList(query, (q) => this.core.GET('/v2/bookings', { params: { query: q }, ...signalOf(options) }))
  }
  listForCustomer(customerId: string, query: ListQuery<'/v2/customers/{id}/bookings'> = {}, options?: RequestOptions): CursorList<BookingV2> {
    return cursorList(query, (q) => this.core.GET('/v2/customers/{id}/bookings', { params: { path: { id: customerId }, query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<BookingV2> {
    return (await this.core.GET('/v2/bookings/{id}', { params: { path: { id } }, ...signalOf(options) })) as BookingV2
  }
  getWithEtag(id: string, options?: RequestOptions): Promise<WithEtag<BookingV2>> {
    return withEtag(this.get(id, options))
  }
  create(body: RequestBody<'/v2/bookings', 'post'>, options?: PostOptions): Promise<BookingV2> {
    return this.core.POST('/v2/bookings', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  confirm(id: string, options?: PostOptions): Promise<BookingV2> {
    return this.core.POST('/v2/bookings/{id}:confirm', { params: { path: { id }, header: keyHeader(options) }, ...signalOf(options) })
  }
  issue(id: string, options?: PostOptions): Promise<BookingV2> {
    return this.core.POST('/v2/bookings/{id}:issue', { params: { path: { id }, header: keyHeader(options) }, ...signalOf(options) })
  }
  cancel(id: string, body: RequestBody<'/v2/bookings/{id}:cancel', 'post'>, options?: PostOptions): Promise<BookingV2> {
    return this.core.POST('/v2/bookings/{id}:cancel', { params: { path: { id }, header: keyHeader(options) }, body, ...signalOf(options) })
  }
  replaceGuestDetails(id: string, body: RequestBody<'/v2/bookings/{id}/guest-details', 'put'>, options?: ReplaceOptions): Promise<BookingV2> {
    return this.core.PUT('/v2/bookings/{id}/guest-details', { params: { path: { id }, header: ifMatchHeader(options) }, body, ...signalOf(options) })
  }
  replaceStay(id: string, body: RequestBody<'/v2/bookings/{id}/stay', 'put'>, options?: ReplaceOptions): Promise<BookingV2> {
    return this.core.PUT('/v2/bookings/{id}/stay', { params: { path: { id }, header: ifMatchHeader(options) }, body, ...signalOf(options) })
  }
}
