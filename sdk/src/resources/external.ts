import type { TravobooksCore } from '../core.ts'
import { NumberedList } from '../pagination.ts'
import type { NumberedPage } from '../pagination.ts'
import type { ExternalBooking, ExternalListing, QueryOf, RequestBody, ResponseBody } from '../types.ts'
import { keyHeader, signalOf } from './request-options.ts'
import type { PostOptions, RequestOptions } from './request-options.ts'

type ExternalQuery<P extends '/api/v1/external/listings' | '/api/v1/external/bookings'> = Omit<QueryOf<P, 'get'>, 'mock' | 'cursor'>

/** The list of a query: its `page` is where the walk starts; later pages go by cursor, without page. */
function numberedList<T, Q extends { page?: number | undefined }>(query: Q, fetchPage: (query: Q) => Promise<unknown>): NumberedList<T> {
  const { page: startPage, ...filters } = query
  return new NumberedList<T>((position) => fetchPage({ ...filters, ...position } as Q) as Promise<NumberedPage<T>>, startPage ?? 1)
}

/** The External API (/api/v1/external): numbered pages walked by cursor, and flat errors, both handled here. */
export class ExternalListings {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ExternalQuery<'/api/v1/external/listings'> = {}, options?: RequestOptions): NumberedList<ExternalListing> {
    return numberedList(query, (q) => this.core.GET('/api/v1/external/listings', { params: { query: q }, ...signalOf(options) }))
  }
  get(id: string, options?: RequestOptions): Promise<ExternalListing> {
    return this.core.GET('/api/v1/external/listings/{id}', { params: { path: { id } }, ...signalOf(options) })
  }
}

export class ExternalBookings {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ExternalQuery<'/api/v1/external/bookings'> = {}, options?: RequestOptions): NumberedList<ExternalBooking> {
    return numberedList(query, (q) => this.core.GET('/api/v1/external/bookings', { params: { query: q }, ...signalOf(options) }))
  }
  get(id: string, options?: RequestOptions): Promise<ExternalBooking> {
    return this.core.GET('/api/v1/external/bookings/{id}', { params: { path: { id } }, ...signalOf(options) })
  }
  create(body: RequestBody<'/api/v1/external/bookings', 'post'>, options?: PostOptions): Promise<ResponseBody<'/api/v1/external/bookings', 'post'>> {
    return this.core.POST('/api/v1/external/bookings', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
}
