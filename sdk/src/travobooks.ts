import { TravobooksCore } from './core.ts'
import type { TravobooksOptions } from './core.ts'
import { Invoices, Payments, Reports } from './resources/billing.ts'
import { Bookings, BookingsV2 } from './resources/bookings.ts'
import { Availability, Customers, Listings, Teams } from './resources/catalog.ts'
import { ExternalBookings, ExternalListings } from './resources/external.ts'
import { Events, SandboxResource, TestClockResource, Tokens, Webhooks } from './resources/platform.ts'
import { signalOf } from './resources/request-options.ts'
import type { RequestOptions } from './resources/request-options.ts'
import type { Me } from './types.ts'

/**
 * The travoBooks client: `tvb.GET/POST/PUT/DELETE` on any documented path, and a method per
 * operation grouped by resource. One instance per token; it holds no other state.
 */
export class Travobooks extends TravobooksCore {
  readonly teams = new Teams(this)
  readonly listings = new Listings(this)
  readonly availability = new Availability(this)
  readonly customers = new Customers(this)
  readonly bookings = new Bookings(this)
  readonly invoices = new Invoices(this)
  readonly payments = new Payments(this)
  readonly reports = new Reports(this)
  readonly events = new Events(this)
  readonly tokens = new Tokens(this)
  readonly webhooks = new Webhooks(this)
  readonly testClock = new TestClockResource(this)
  readonly sandbox = new SandboxResource(this)
  readonly v2 = { bookings: new BookingsV2(this) }
  readonly external = { listings: new ExternalListings(this), bookings: new ExternalBookings(this) }

  constructor(options: TravobooksOptions = {}) {
    super(options)
  }

  /** The calling token: partner, user, role, permissions, teams, mode, expiry, rate-limit buckets. */
  me(options?: RequestOptions): Promise<Me> {
    return this.GET('/v1/me', signalOf(options))
  }
}
