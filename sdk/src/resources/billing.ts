import type { TravobooksCore } from '../core.ts'
import type { CursorList } from '../pagination.ts'
import type { Invoice, ListQuery, Payment, QueryOf, ReportType, RequestBody, ResponseBody } from '../types.ts'
import { cursorList, keyHeader, signalOf } from './request-options.ts'
import type { PostOptions, RequestOptions } from './request-options.ts'

export class Invoices {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/invoices'> = {}, options?: RequestOptions): CursorList<Invoice> {
    return cursorList(query, (q) => this.core.GET('/v1/invoices', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Invoice> {
    return (await this.core.GET('/v1/invoices/{id}', { params: { path: { id } }, ...signalOf(options) })) as Invoice
  }
  create(body: RequestBody<'/v1/invoices', 'post'>, options?: PostOptions): Promise<Invoice> {
    return this.core.POST('/v1/invoices', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  void(id: string, body?: RequestBody<'/v1/invoices/{id}:void', 'post'>, options?: PostOptions): Promise<Invoice> {
    return this.core.POST('/v1/invoices/{id}:void', { params: { path: { id }, header: keyHeader(options) }, ...(body ? { body } : {}), ...signalOf(options) })
  }
}

/** Payments move money: every POST carries an Idempotency-Key (generated unless you pass one). */
export class Payments {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/payments'> = {}, options?: RequestOptions): CursorList<Payment> {
    return cursorList(query, (q) => this.core.GET('/v1/payments', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Payment> {
    return (await this.core.GET('/v1/payments/{id}', { params: { path: { id } }, ...signalOf(options) })) as Payment
  }
  /** A declined payment is created too, in status FAILED, and changes nothing on the invoice. */
  create(body: RequestBody<'/v1/payments', 'post'>, options?: PostOptions): Promise<Payment> {
    return this.core.POST('/v1/payments', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  refund(id: string, body: RequestBody<'/v1/payments/{id}:refund', 'post'>, options?: PostOptions): Promise<Payment> {
    return this.core.POST('/v1/payments/{id}:refund', { params: { path: { id }, header: keyHeader(options) }, body, ...signalOf(options) })
  }
}

export class Reports {
  constructor(private readonly core: TravobooksCore) {}
  /** A report as JSON (CSV is for browsers and spreadsheets: GET it with Accept: text/csv). */
  get(type: ReportType, query: QueryOf<'/v1/reports/{type}', 'get'>, options?: RequestOptions): Promise<ResponseBody<'/v1/reports/{type}', 'get'>> {
    return this.core.GET('/v1/reports/{type}', { params: { path: { type }, query }, ...signalOf(options) })
  }
}
