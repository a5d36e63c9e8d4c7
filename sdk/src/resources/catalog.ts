import type { TravobooksCore } from '../core.ts'
import type { ReplaceOptions } from '../etag.ts'
import type { CursorList } from '../pagination.ts'
import type { AvailabilityResult, Booking, Customer, Invoice, ListItem, ListQuery, Listing, ListingCalendar, QueryOf, Replacement, RequestBody, Team } from '../types.ts'
import { cursorList, ifMatchHeader, keyHeader, signalOf, withEtag } from './request-options.ts'
import type { PostOptions, RequestOptions, WithEtag } from './request-options.ts'

export class Teams {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/teams'> = {}, options?: RequestOptions): CursorList<ListItem<'/v1/teams'>> {
    return cursorList(query, (q) => this.core.GET('/v1/teams', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Team> {
    return (await this.core.GET('/v1/teams/{id}', { params: { path: { id } }, ...signalOf(options) })) as Team
  }
}

export class Listings {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/listings'> = {}, options?: RequestOptions): CursorList<Listing> {
    return cursorList(query, (q) => this.core.GET('/v1/listings', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Listing> {
    return (await this.core.GET('/v1/listings/{id}', { params: { path: { id } }, ...signalOf(options) })) as Listing
  }
  getWithEtag(id: string, options?: RequestOptions): Promise<WithEtag<Listing>> {
    return withEtag(this.get(id, options))
  }
  create(body: RequestBody<'/v1/listings', 'post'>, options?: PostOptions): Promise<Listing> {
    return this.core.POST('/v1/listings', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  replace(id: string, body: Replacement<'/v1/listings/{id}', Listing>, options?: ReplaceOptions): Promise<Listing> {
    return this.core.PUT('/v1/listings/{id}', { params: { path: { id }, header: ifMatchHeader(options) }, body: body as RequestBody<'/v1/listings/{id}', 'put'>, ...signalOf(options) })
  }
  /** Listings are archived, not deleted: bookings keep pointing at them. */
  async archive(id: string, options?: RequestOptions): Promise<void> {
    await this.core.DELETE('/v1/listings/{id}', { params: { path: { id } }, ...signalOf(options) })
  }
  calendar(id: string, query: QueryOf<'/v1/listings/{id}/calendar', 'get'>, options?: RequestOptions): Promise<ListingCalendar> {
    return this.core.GET('/v1/listings/{id}/calendar', { params: { path: { id }, query }, ...signalOf(options) })
  }
}

export class Availability {
  constructor(private readonly core: TravobooksCore) {}
  /** Bookable listings for those nights, with the quoted total; iterate for all of them. */
  search(query: ListQuery<'/v1/availability'>, options?: RequestOptions): CursorList<AvailabilityResult> {
    return cursorList(query, (q) => this.core.GET('/v1/availability', { params: { query: q }, ...signalOf(options) }))
  }
}

export class Customers {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/customers'> = {}, options?: RequestOptions): CursorList<Customer> {
    return cursorList(query, (q) => this.core.GET('/v1/customers', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Customer> {
    return (await this.core.GET('/v1/customers/{id}', { params: { path: { id } }, ...signalOf(options) })) as Customer
  }
  getWithEtag(id: string, options?: RequestOptions): Promise<WithEtag<Customer>> {
    return withEtag(this.get(id, options))
  }
  create(body: RequestBody<'/v1/customers', 'post'>, options?: PostOptions): Promise<Customer> {
    return this.core.POST('/v1/customers', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  replace(id: string, body: Replacement<'/v1/customers/{id}', Customer>, options?: ReplaceOptions): Promise<Customer> {
    return this.core.PUT('/v1/customers/{id}', { params: { path: { id }, header: ifMatchHeader(options) }, body: body as RequestBody<'/v1/customers/{id}', 'put'>, ...signalOf(options) })
  }
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.core.DELETE('/v1/customers/{id}', { params: { path: { id } }, ...signalOf(options) })
  }
  listBookings(id: string, query: ListQuery<'/v1/customers/{id}/bookings'> = {}, options?: RequestOptions): CursorList<Booking> {
    return cursorList(query, (q) => this.core.GET('/v1/customers/{id}/bookings', { params: { path: { id }, query: q }, ...signalOf(options) }))
  }
  listInvoices(id: string, query: ListQuery<'/v1/customers/{id}/invoices'> = {}, options?: RequestOptions): CursorList<Invoice> {
    return cursorList(query, (q) => this.core.GET('/v1/customers/{id}/invoices', { params: { path: { id }, query: q }, ...signalOf(options) }))
  }
}
