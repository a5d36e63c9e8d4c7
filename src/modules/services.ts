import type { FastifyRequest } from 'fastify'
import type { BookingService } from './bookings/service.ts'
import type { CustomerService } from './customers/service.ts'
import type { EventService } from './events/service.ts'
import type { InvoiceService } from './invoices/service.ts'
import type { ListingService } from './listings/service.ts'
import type { PaymentService } from './payments/service.ts'
import type { ReportService } from './reports/service.ts'
import type { TeamService } from './partners/service.ts'
import type { TokenService } from './tokens/service.ts'
import type { WebhookService } from './webhooks/service.ts'
import type { TestClockService } from './test-clock/service.ts'

/** The domain services a handler calls. */
export interface Services {
  tokens: TokenService
  listings: ListingService
  customers: CustomerService
  bookings: BookingService
  events: EventService
  teams: TeamService
  webhooks: WebhookService
  invoices: InvoiceService
  payments: PaymentService
  reports: ReportService
  testClock: TestClockService
}

/**
 * The services for one request: the shared ones, or — for a POST with an Idempotency-Key — ones
 * whose database is that request's transaction, so the key commits with the writes.
 */
export type ServicesFor = (request: FastifyRequest) => Services
