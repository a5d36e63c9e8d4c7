import type { TravobooksCore } from '../core.ts'
import type { ReplaceOptions } from '../etag.ts'
import type { CursorList } from '../pagination.ts'
import type { AvailabilityResult, Booking, Customer, Invoice, ListItem, ListQuery, Listing, ListingCalendar, QueryOf, Replacement, RequestBody, Team } from '../types.ts'
import { cursorList, ifMatchHeader, withEtag } from './request-options.ts'
import type { WithEtag } from './request-options.ts'

export class Teams {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/teams'> = {}): CursorList<ListItem<'/v1/teams'>> {
    return cursorList(query, (q) => this.core.GET('/v1/teams', { params: { query: q } }))
  }
  async get(id: string): Promise<Team> {
    return (await this.core.GET('/v1/teams/{id}', { params: { path: { id } } })) as Team
  }
}

export class Listings {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/listings'> = {}): CursorList<Listing> {
    return cursorList(query, (q) => this.core.GET('/v1/listings', { params: { query: q } }))
  }
  async get(id: string): Promise<Listing> {
    return (await this.core.GET('/v1/listings/{id}', { params: { path: { id } } })) as Listing
  }
  getWithEtag(id: string): Promise<WithEtag<Listing>> {
    return withEtag(this.get(id))
  }
  create(body: RequestBody<'/v1/listings', 'post'>): Promise<Listing> {
    return this.core.POST('/v1/listings', { body })
  }
  replace(id: string, body: Replacement<'/v1/listings/{id}', Listing>, options?: ReplaceOptions): Promise<Listing> {
    return this.core.PUT('/v1/listings/{id}', { params: { path: { id }, header: ifMatchHeader(options) }, body: body as RequestBody<'/v1/listings/{id}', 'put'> })
  }
  /** Listings are archived, not deleted: bookings keep pointing at them. */
  async archive(id: string): Promise<void> {
    await this.core.DELETE('/v1/listings/{id}', { params: { path: { id } } })
  }
  calendar(id: string, query: QueryOf<'/v1/listings/{id}/calendar', 'get'>): Promise<ListingCalendar> {
    return this.core.GET('/v1/listings/{id}/calendar', { params: { path: { id }, query } })
  }
}

export class Availability {
  constructor(private readonly core: TravobooksCore) {}
  /** Bookable listings for those nights, with the quoted total; iterate for all of them. */
  search(query: ListQuery<'/v1/availability'>): CursorList<AvailabilityResult> {
    return cursorList(query, (q) => this.core.GET('/v1/availability', { params: { query: q } }))
  }
}

export class Customers {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/customers'> = {}): CursorList<Customer> {
    return cursorList(query, (q) => this.core.GET('/v1/customers', { params: { query: q } }))
  }
  async get(id: string): Promise<Customer> {
    return (await this.core.GET('/v1/customers/{id}', { params: { path: { id } } })) as Customer
  }
  getWithEtag(id: string): Promise<WithEtag<Customer>> {
    return withEtag(this.get(id))
  }
  create(body: RequestBody<'/v1/customers', 'post'>): Promise<Customer> {
    return this.core.POST('/v1/customers', { body })
  }
  replace(id: string, body: Replacement<'/v1/customers/{id}', Customer>, options?: ReplaceOptions): Promise<Customer> {
    return this.core.PUT('/v1/customers/{id}', { params: { path: { id }, header: ifMatchHeader(options) }, body: body as RequestBody<'/v1/customers/{id}', 'put'> })
  }
  async delete(id: string): Promise<void> {
    await this.core.DELETE('/v1/customers/{id}', { params: { path: { id } } })
  }
  listBookings(id: string, query: ListQuery<'/v1/customers/{id}/bookings'> = {}): CursorList<Booking> {
    return cursorList(query, (q) => this.core.GET('/v1/customers/{id}/bookings', { params: { path: { id }, query: q } }))
  }
  listInvoices(id: string, query: ListQuery<'/v1/customers/{id}/invoices'> = {}): CursorList<Invoice> {
    return cursorList(query, (q) => this.core.GET('/v1/customers/{id}/invoices', { params: { path: { id }, query: q } }))
  }
}
