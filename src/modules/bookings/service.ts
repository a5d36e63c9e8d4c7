import type { Scope } from '../../platform/keyset.ts'
import type { CursorCodec } from '../../platform/cursor.ts'
import { planList, toPage } from '../../platform/pagination.ts'
import type { ListSpec, Page } from '../../platform/pagination.ts'
import { numberedPage } from '../../platform/numbered-pages.ts'
import { nowIn, todayIn } from '../test-clock/now.ts'
import type { NumberedPage, NumberedQuery } from '../../platform/numbered-pages.ts'
import { findCustomer } from '../customers/repository.ts'
import type { Clock } from '../../platform/clock.ts'
import { MAX_STAY_NIGHTS, addDays, checkRange, isCalendarDate } from '../../platform/dates.ts'
import type { Db, Queryable } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, parseCommaList } from '../../platform/errors.ts'
import { newId } from '../../platform/ids.ts'
import { formatMinor, isCurrency, parseAmount } from '../../platform/money.ts'
import type { Money } from '../../platform/money.ts'
import { isE164Phone } from '../../platform/reference-data.ts'
import { priceOfStay } from '../listings/pricing.ts'
import { recordEvent } from '../events/repository.ts'
import { invoiceBooking, reinvoiceStay, voidUnpaidInvoicesOfBooking } from '../invoices/service.ts'
import type { EventType } from '../events/service.ts'
import { findListing, lockListingWithCustomer } from '../listings/repository.ts'
import type { ListingRow } from '../listings/repository.ts'
import * as repo from './repository.ts'
import { refuseSandboxBooking, sandboxListingFor } from '../sandbox/magic-values.ts'
import type { BookingFilters, BookingRow, GuestDetails } from './repository.ts'
import { BOOKING_STATUSES, BookingSchema } from './schemas.ts'
import type { BookingStatus, CreateBookingInput, GuestDetailsInput, StayInput } from './schemas.ts'


/**
 * A booking as the domain knows it: version-neutral (money in minor units of its currency, times as
 * ISO 8601), JSON-safe, and what an event keeps as its snapshot. Each surface's presenter renders
 * it in that surface's representation.
 */
export interface Booking {
  id: string
  status: BookingStatus
  team_id: string
  mode: 'live' | 'test'
  listing_id: string
  customer_id: string
  check_in: string
  check_out: string
  guests: number
  nights: number
  nightly_rate_minor: number
  total_minor: number
  currency: string
  hold_expires_at: string
  confirmed_at: string | null
  issued_at: string | null
  voucher_number: string | null
  cancelled_at: string | null
  cancellation_reason: string | null
  expired_at: string | null
  external_system: string | null
  external_booking_id: string | null
  guest_details: GuestDetails | null
  created_at: string
  updated_at: string
}

/** A booking as a reader sees it: a HELD row whose hold has lapsed is EXPIRED, even before the sweeper runs. */
export function bookingOf(row: BookingRow, now: Date): Booking {
  const lapsed = row.status === 'HELD' && row.hold_expires_at.getTime() <= now.getTime()
  return {
    id: row.id,
    status: lapsed ? 'EXPIRED' : row.status,
    team_id: row.team_id,
    mode: row.mode,
    listing_id: row.listing_id,
    customer_id: row.customer_id,
    check_in: row.check_in,
    check_out: row.check_out,
    guests: row.guests,
    nights: row.nights,
    nightly_rate_minor: row.nightly_rate_minor,
    total_minor: row.total_minor,
    currency: row.currency,
    hold_expires_at: row.hold_expires_at.toISOString(),
    confirmed_at: row.confirmed_at?.toISOString() ?? null,
    issued_at: row.issued_at?.toISOString() ?? null,
    voucher_number: row.voucher_number,
    cancelled_at: row.cancelled_at?.toISOString() ?? null,
    cancellation_reason: row.cancellation_reason,
    expired_at: lapsed ? row.hold_expires_at.toISOString() : (row.expired_at?.toISOString() ?? null),
    external_system: row.external_system,
    external_booking_id: row.external_booking_id,
    guest_details: row.guest_details,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

/** booking.hold_expiring comes this long before a hold lapses (API.md §11: "a few minutes before"). */
export const HOLD_EXPIRING_LEAD_MINUTES = 5

export interface BookingServiceDeps {
  db: Db
  clock: Clock
  holdMinutes: number
  /** Needed by lists only (jobs and the demo seed never page). */
  cursors?: CursorCodec
}

/** A stay's dates (raw input: also run when the schema refused the body; missing ones are the schema's to report). */
export function checkStay(errors: FieldErrors, checkIn: unknown, checkOut: unknown, today: string): void {
  checkRange(errors, 'check_in', checkIn, 'check_out', checkOut, MAX_STAY_NIGHTS, 'body')
  // a day of slack: "today" in UTC may still be yesterday where the guest is
  if (typeof checkIn === 'string' && isCalendarDate(checkIn) && checkIn < addDays(today, -1)) errors.add('check_in', 'minimum', 'must not be in the past')
}

function checkExpectedTotal(errors: FieldErrors, expected: Money | null | undefined): void {
  if (!expected) return
  if (!isCurrency(expected.currency)) errors.add('expected_total.currency', 'iso4217', 'is not an ISO 4217 currency code')
  else if (parseAmount(expected.amount, expected.currency) === null) errors.add('expected_total.amount', 'minor_units', `has more decimals than ${expected.currency} allows`)
}

function guestDetailsOf(input: CreateBookingInput['guest_details'], errors: FieldErrors, prefix: string): GuestDetails | null {
  if (!input) return null
  if (input.lead_guest_phone && !isE164Phone(input.lead_guest_phone)) errors.add(`${prefix}lead_guest_phone`, 'e164', 'is not a valid E.164 phone number')
  return {
    lead_guest_name: input.lead_guest_name,
    lead_guest_email: input.lead_guest_email ?? null,
    lead_guest_phone: input.lead_guest_phone ?? null,
    additional_guest_names: input.additional_guest_names ?? [],
    special_requests: input.special_requests ?? null,
  }
}

/** The checks that depend on the listing, in the order API.md §6 asks: what no retry fixes comes first. */
async function priceStay(tx: Queryable, listing: ListingRow, stay: { checkIn: string; checkOut: string; guests: number; expected?: Money | null; exceptId: string | null }, now: Date) {
  if (listing.state !== 'ACTIVE') throw new ApiError('LISTING_NOT_BOOKABLE', `The listing is ${listing.state} and cannot be booked.`, { listing_id: listing.id, state: listing.state })
  if (stay.guests > listing.max_guests) {
    new FieldErrors().add('guests', 'maximum', `must be at most ${listing.max_guests}, the listing's capacity`).throwIfAny()
  }
  const inTheWay = await repo.bookingsInTheWay(tx, listing.id, stay.checkIn, stay.checkOut, now, stay.exceptId)
  if (inTheWay.live) throw repo.unavailable()
  if (inTheWay.lapsed) {
    // lapsed holds never block a new booking: expire the ones in the way, in this transaction
    const expired = await repo.expireLapsedHolds(tx, now, { listingId: listing.id, checkIn: stay.checkIn, checkOut: stay.checkOut })
    for (const row of expired) await bookingEvent(tx, row, 'booking.expired', now)
  }
  const { nights, totalMinor } = priceOfStay(listing, stay.checkIn, stay.checkOut)
  if (stay.expected) {
    const expectedMinor = parseAmount(stay.expected.amount, stay.expected.currency)
    if (stay.expected.currency !== listing.currency || expectedMinor !== totalMinor) {
      const actual = formatMinor(totalMinor, listing.currency)
      throw new ApiError('PRICE_CHANGED', `The total is ${actual.amount} ${actual.currency}, not ${stay.expected.amount} ${stay.expected.currency}.`, { actual_total: actual, expected_total: stay.expected })
    }
  }
  return { nights, totalMinor }
}

/** snapshotAt: when the event's snapshot is taken, if not `now` (a late hold_expiring shows the hold as it was before it lapsed). */
async function bookingEvent(tx: Queryable, row: BookingRow, type: EventType, now: Date, snapshotAt: Date = now): Promise<void> {
  await recordEvent(tx, { partnerId: row.partner_id, teamId: row.team_id, mode: row.mode, type, resourceType: 'booking', resourceId: row.id, sequence: row.version, data: bookingOf(row, snapshotAt), now })
}

/**
 * booking.hold_expiring for the test holds of partners whose test clock is ahead, at each partner's
 * time. An advance can jump past a hold's whole window: the hold still gets its hold_expiring
 * (before its booking.expired, which the sweeper writes after this in the same transaction), so a
 * partner rehearsing a lapse sees both, in order; that late event's snapshot shows the hold HELD.
 */
async function warnShiftedHolds(tx: Queryable, now: Date, limit: number): Promise<number> {
  if (limit <= 0) return 0
  const rows = await repo.markShiftedExpiringHolds(tx, now, HOLD_EXPIRING_LEAD_MINUTES * 60_000, limit)
  for (const row of rows) {
    await bookingEvent(tx, row, 'booking.hold_expiring', row.partner_now, new Date(Math.min(row.partner_now.getTime(), row.hold_expires_at.getTime() - 1)))
  }
  return rows.length
}

function invalidTransition(status: BookingStatus, action: string, allowedFrom: BookingStatus[]): ApiError {
  return new ApiError('BOOKING_INVALID_TRANSITION', `A ${status} booking cannot be ${action}; only ${allowedFrom.join(' or ')} bookings can.`, { status, action, allowed_from: allowedFrom })
}

export const bookingSpec: ListSpec = {
  resource: 'bookings',
  sortKeys: {
    created_at: { column: 'b.created_at', type: 'timestamptz' },
    updated_at: { column: 'b.updated_at', type: 'timestamptz' },
    check_in: { column: 'b.check_in', type: 'date' },
  },
  defaultSort: '-created_at',
  fields: Object.keys(BookingSchema.properties),
}

/** The filters of GET /v1/bookings (and a customer's bookings), as the request gives them. */
export interface BookingListQuery extends Omit<BookingFilters, 'status'> {
  limit?: number
  cursor?: string
  sort?: string
  fields?: string
  /** Comma-separated or repeated; checked against the statuses. */
  status?: string[]
}

function filtersOf(q: BookingListQuery): BookingFilters {
  const errors = new FieldErrors()
  if (q.check_in_from && !isCalendarDate(q.check_in_from)) errors.add('check_in_from', 'date', 'must be a calendar date YYYY-MM-DD', 'query')
  if (q.check_in_to && !isCalendarDate(q.check_in_to)) errors.add('check_in_to', 'date', 'must be a calendar date YYYY-MM-DD', 'query')
  const status = parseCommaList(q.status, BOOKING_STATUSES, 'status', errors)
  errors.throwIfAny()
  const filters: BookingFilters = {}
  if (status) filters.status = status
  for (const key of ['listing_id', 'customer_id', 'check_in_from', 'check_in_to', 'created_after', 'created_before', 'external_booking_id'] as const) {
    if (q[key] !== undefined) filters[key] = q[key]
  }
  return filters
}

export class BookingService {
  readonly #deps: BookingServiceDeps
  /**
   * Filters combine with AND; a lapsed hold reads EXPIRED here, whether or not the hold-expiry job
   * has rewritten it.
   */
  async list(scope: Scope, query: BookingListQuery): Promise<{ page: Page<Booking>; fields: string[] | null }> {
    return this.#page(scope, query, filtersOf(query))
  }

  /** A customer's bookings: the customer must be visible to the token (customerScope), the bookings are narrowed by team_ids (scope). */
  async listForCustomer(customerScope: Scope, customerId: string, scope: Scope, query: BookingListQuery): Promise<{ page: Page<Booking>; fields: string[] | null }> {
    const customer = await findCustomer(this.#deps.db, customerScope, customerId)
    if (!customer) throw notFound('customer')
    return this.#page(scope, query, { ...filtersOf(query), customer_id: customer.id })
  }

  async #page(scope: Scope, query: BookingListQuery, filters: BookingFilters): Promise<{ page: Page<Booking>; fields: string[] | null }> {
    const { db, clock, cursors } = this.#deps
    if (!cursors) throw new Error('BookingService was built without a cursor codec; lists need one')
    const plan = planList(bookingSpec, query, scope, filters, cursors)
    const now = nowIn(clock, scope)
    return { page: toPage(await repo.listBookings(db, scope, filters, plan, now), plan, cursors, (row) => bookingOf(row, now)), fields: plan.fields }
  }

  /** The External API's page/limit list: a page by number or by cursor, with the total (platform/numbered-pages.ts). */
  listNumbered(scope: Scope, query: NumberedQuery, filters: repo.NumberedBookingFilters): Promise<NumberedPage<Booking>> {
    const { db, clock, cursors } = this.#deps
    if (!cursors) throw new Error('BookingService was built without a cursor codec; lists need one')
    // a test-mode scope reads on its partner's test clock (a hold lapses on that time)
    const now = nowIn(clock, scope)
    return numberedPage({ ...bookingSpec, resource: 'external_bookings' }, query, scope, filters, cursors, {
      rows: (plan, offset) => repo.listBookingsNumbered(db, scope, filters, plan, offset, now),
      total: () => repo.countBookingsNumbered(db, scope, filters, now),
      present: (row) => bookingOf(row, now),
    })
  }

  constructor(deps: BookingServiceDeps) {
    this.#deps = deps
  }

  async create(scope: Scope, input: CreateBookingInput): Promise<Booking> {
    const { db, clock, holdMinutes } = this.#deps
    // test mode runs on the partner's test clock: the hold lapses, and "today" is, on that time
    const now = nowIn(clock, scope)
    if (input.external_system && !input.external_booking_id) {
      throw new ApiError('EXTERNAL_BOOKING_ID_REQUIRED', 'external_booking_id is required when external_system is given.', { fields: [{ field: 'external_booking_id', location: 'body', code: 'required', message: 'is required with external_system' }] })
    }
    const errors = new FieldErrors()
    if (input.external_booking_id && !input.external_system) errors.add('external_system', 'required', 'is required with external_booking_id')
    checkStay(errors, input.check_in, input.check_out, now.toISOString().slice(0, 10))
    checkExpectedTotal(errors, input.expected_total)
    const guestDetails = guestDetailsOf(input.guest_details, errors, 'guest_details.')
    errors.throwIfAny()
    // a test-mode magic listing (GET /v1/sandbox) refuses as a real one would, writing nothing
    const magic = sandboxListingFor(scope, input.listing_id)
    if (magic) return refuseSandboxBooking(db, scope, magic, input)

    return db.transaction(async (tx) => {
      // lock the listing: its bookings are made one at a time, so the exclusion constraint only ever
      // meets committed rows (two inserts waiting on each other's uncommitted row would deadlock)
      const { listing, customerFound } = await lockListingWithCustomer(tx, scope, input.listing_id, input.customer_id)
      if (!listing) throw notFound('listing')
      if (!customerFound) throw notFound('customer')
      if (input.external_system && input.external_booking_id) {
        const existing = await repo.findByExternalId(tx, scope, input.external_system, input.external_booking_id)
        if (existing) throw repo.duplicateExternal(existing.id, input.external_system, input.external_booking_id)
      }
      const { nights, totalMinor } = await priceStay(tx, listing, { checkIn: input.check_in, checkOut: input.check_out, guests: input.guests, expected: input.expected_total, exceptId: null }, now)
      // every value of the new row is known here, so the booking and its booking.created event
      // go to the database in one statement
      const draft: BookingRow = {
        id: newId('booking'),
        partner_id: scope.partnerId,
        team_id: listing.team_id,
        mode: scope.mode,
        listing_id: listing.id,
        customer_id: input.customer_id,
        status: 'HELD',
        check_in: input.check_in,
        check_out: input.check_out,
        guests: input.guests,
        nights,
        nightly_rate_minor: listing.nightly_rate_minor,
        total_minor: totalMinor,
        currency: listing.currency,
        hold_expires_at: new Date(now.getTime() + holdMinutes * 60_000),
        confirmed_at: null,
        issued_at: null,
        voucher_number: null,
        cancelled_at: null,
        cancellation_reason: null,
        expired_at: null,
        external_system: input.external_system ?? null,
        external_booking_id: input.external_booking_id ?? null,
        guest_details: guestDetails,
        version: 1,
        created_at: now,
        updated_at: now,
      }
      const booking = bookingOf(draft, now)
      await repo.insertBookingWithEvent(tx, draft, { id: newId('event'), type: 'booking.created', data: booking })
      return booking
    })
  }

  async get(scope: Scope, id: string): Promise<Booking> {
    const row = await repo.findBooking(this.#deps.db, scope, id)
    if (!row) throw notFound('booking')
    return bookingOf(row, nowIn(this.#deps.clock, scope))
  }

  /** Runs one state change on a locked booking, with its event, in one transaction. */
  async #change(
    scope: Scope,
    id: string,
    apply: (tx: Queryable, row: BookingRow, status: BookingStatus, now: Date) => Promise<{ row: BookingRow; event: EventType; afterEvent?: (tx: Queryable) => Promise<unknown> }>,
    precondition?: (current: Booking) => void,
  ): Promise<Booking> {
    const { db, clock } = this.#deps
    const now = nowIn(clock, scope)
    return db.transaction(async (tx) => {
      const current = await repo.findBooking(tx, scope, id, true)
      if (!current) throw notFound('booking')
      const shown = bookingOf(current, now)
      precondition?.(shown)
      const { row, event, afterEvent } = await apply(tx, current, shown.status, now)
      await bookingEvent(tx, row, event, now)
      // what the change brings with it (the invoice of a confirmation), after the booking's own event
      await afterEvent?.(tx)
      return bookingOf(row, now)
    })
  }

  confirm(scope: Scope, id: string): Promise<Booking> {
    return this.#change(scope, id, async (tx, row, status, now) => {
      // the same answer whether or not the sweeper has rewritten the lapsed row yet
      if (status === 'EXPIRED') {
        throw new ApiError('BOOKING_HOLD_EXPIRED', `The booking hold expired at ${row.hold_expires_at.toISOString()}.`, { hold_expires_at: row.hold_expires_at.toISOString(), status })
      }
      if (status !== 'HELD') throw invalidTransition(status, 'confirmed', ['HELD'])
      const confirmed = await repo.updateBooking(tx, scope, id, { status: 'CONFIRMED', confirmed_at: now }, now)
      return { row: confirmed, event: 'booking.confirmed', afterEvent: (tx) => invoiceBooking(tx, confirmed, now) }
    })
  }

  issue(scope: Scope, id: string): Promise<Booking> {
    return this.#change(scope, id, async (tx, _row, status, now) => {
      if (status !== 'CONFIRMED') throw invalidTransition(status, 'issued', ['CONFIRMED'])
      const voucher = await repo.nextVoucherNumber(tx, now)
      return { row: await repo.updateBooking(tx, scope, id, { status: 'ISSUED', issued_at: now, voucher_number: voucher }, now), event: 'booking.issued' }
    })
  }

  cancel(scope: Scope, id: string, reason: string): Promise<Booking> {
    return this.#change(scope, id, async (tx, _row, status, now) => {
      const from: BookingStatus[] = ['HELD', 'CONFIRMED', 'ISSUED']
      if (!from.includes(status)) throw invalidTransition(status, 'cancelled', from)
      const cancelled = await repo.updateBooking(tx, scope, id, { status: 'CANCELLED', cancelled_at: now, cancellation_reason: reason }, now)
      return { row: cancelled, event: 'booking.cancelled', afterEvent: (tx) => voidUnpaidInvoicesOfBooking(tx, cancelled, now) }
    })
  }

  replaceGuestDetails(scope: Scope, id: string, input: GuestDetailsInput, precondition: (current: Booking) => void): Promise<Booking> {
    const errors = new FieldErrors()
    const details = guestDetailsOf(input, errors, '')
    errors.throwIfAny()
    return this.#change(
      scope,
      id,
      async (tx, _row, status, now) => {
        const from: BookingStatus[] = ['HELD', 'CONFIRMED', 'ISSUED']
        if (!from.includes(status)) throw invalidTransition(status, 'changed', from)
        return { row: await repo.updateBooking(tx, scope, id, { guest_details: details }, now), event: 'booking.updated' }
      },
      precondition,
    )
  }

  replaceStay(scope: Scope, id: string, input: StayInput, precondition: (current: Booking) => void): Promise<Booking> {
    const errors = new FieldErrors()
    checkStay(errors, input.check_in, input.check_out, todayIn(this.#deps.clock, scope))
    checkExpectedTotal(errors, input.expected_total)
    errors.throwIfAny()
    return this.#change(
      scope,
      id,
      async (tx, row, status, now) => {
        const from: BookingStatus[] = ['HELD', 'CONFIRMED']
        if (!from.includes(status)) throw invalidTransition(status, 'changed', from)
        const listing = await findListing(tx, { ...scope, teamIds: [row.team_id] }, row.listing_id, true)
        if (!listing) throw notFound('listing')
        const { nights, totalMinor } = await priceStay(tx, listing, { checkIn: input.check_in, checkOut: input.check_out, guests: input.guests, expected: input.expected_total, exceptId: id }, now)
        const updated = await repo.updateStay(
          tx,
          scope,
          id,
          { check_in: input.check_in, check_out: input.check_out, guests: input.guests, nights, nightly_rate_minor: listing.nightly_rate_minor, total_minor: totalMinor, currency: listing.currency },
          now,
        )
        // a confirmed booking's invoices follow its stay; a held one has none yet
        return { row: updated, event: 'booking.updated', afterEvent: status === 'CONFIRMED' ? (tx) => reinvoiceStay(tx, updated, now) : undefined }
      },
      precondition,
    )
  }

  /**
   * booking.hold_expiring for holds lapsing within HOLD_EXPIRING_LEAD_MINUTES (any tenant), once
   * each; returns how many. Test holds of partners whose test clock is ahead go by that clock.
   */
  async notifyExpiringHolds(limit = 500): Promise<number> {
    const { db, clock } = this.#deps
    const now = clock.now()
    return db.transaction(async (tx) => {
      const rows = await repo.markExpiringHolds(tx, now, HOLD_EXPIRING_LEAD_MINUTES * 60_000, limit)
      for (const row of rows) await bookingEvent(tx, row, 'booking.hold_expiring', now)
      return rows.length + (await warnShiftedHolds(tx, now, limit - rows.length))
    })
  }

  /**
   * The sweeper's pass: expire lapsed holds (any tenant) with their events; returns how many. Test
   * holds of partners whose test clock is ahead lapse on that clock, and are stamped with its time.
   */
  async expireLapsed(limit = 500): Promise<number> {
    const { db, clock } = this.#deps
    const now = clock.now()
    return db.transaction(async (tx) => {
      const rows = await repo.expireLapsedHolds(tx, now, { limit })
      for (const row of rows) await bookingEvent(tx, row, 'booking.expired', now)
      if (rows.length >= limit) return rows.length
      // earliest first in both, so a hold expired here got its hold_expiring first (here or before)
      await warnShiftedHolds(tx, now, limit - rows.length)
      const shifted = await repo.expireShiftedLapsedHolds(tx, now, limit - rows.length)
      for (const row of shifted) await bookingEvent(tx, row, 'booking.expired', row.updated_at)
      return rows.length + shifted.length
    })
  }
}
