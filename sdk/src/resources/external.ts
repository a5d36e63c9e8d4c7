import type { TravobooksCore } from '../core.ts'
import { NumberedList } from '../pagination.ts'
import type { NumberedPage } from '../pagination.ts'
import type { ExternalBooking, ExternalListing, QueryOf, RequestBody, ResponseBody } from '../types.ts'
import { keyHeader } from './request-options.ts'
import type { PostOptions } from './request-options.ts'

type ExternalQuery<P extends '/api/v1/external/listings' | '/api/v1/external/bookings'> = Omit<QueryOf<P, 'get'>, 'mock' | 'cursor'>

function numberedList<T, Q extends { page?: number | undefined }>(query: Q, fetchPage: (query: Q) => Promise<unknown>): NumberedList<T> {
  return new NumberedList<T>((page) => fetchPage({ ...query, page }) as Promise<NumberedPage<T>>, query.page ?? 1)
}

/** The External API (/api/v1/external): page-numbered lists and flat errors, both handled here. */
export class ExternalListings {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ExternalQuery<'/api/v1/external/listings'> = {}): NumberedList<ExternalListing> {
    return numberedList(query, (q) => this.core.GET('/api/v1/external/listings', { params: { query: q } }))
  }
  get(id: string): Promise<ExternalListing> {
    return this.core.GET('/api/v1/external/listings/{id}', { params: { path: { id } } })
  }
}

export class ExternalBookings {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ExternalQuery<'/api/v1/external/bookings'> = {}): NumberedList<ExternalBooking> {
    return numberedList(query, (q) => this.core.GET('/api/v1/external/bookings', { params: { query: q } }))
  }
  get(id: string): Promise<ExternalBooking> {
    return this.core.GET('/api/v1/external/bookings/{id}', { params: { path: { id } } })
  }
  create(body: RequestBody<'/api/v1/external/bookings', 'post'>, options?: PostOptions): Promise<ResponseBody<'/api/v1/external/bookings', 'post'>> {
    return this.core.POST('/api/v1/external/bookings', { params: { header: keyHeader(options) }, body })
  }
}
