import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { addDays } from '../src/platform/dates.ts'
import { newId } from '../src/platform/ids.ts'
import { guestDetailsBody, listingReplacement } from './helpers/bodies.ts'
import { ManualClock, makeTenant, onPostgres, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * Bookings (API.md §10): the hold, its life (HELD → CONFIRMED → ISSUED, → CANCELLED, → EXPIRED),
 * prices, availability, error order (§6), external ids, sub-resource PUTs, tenancy (§5),
 * permissions, events and conditional GET.
 *
 * Time: most tests run on a ManualClock in 2031, far from the real clock. On PostgreSQL every test
 * file shares one database, and hold sweeps (BookingService.expireLapsed, the server process's
 * HoldSweeper) expire every lapsed hold of every tenant: a far-future hold is safe from sweeps made
 * with the real clock. The one test that runs a sweep itself uses a clock close to the real one, so
 * its sweep cannot expire the (real-clock) holds of test files running beside it.
 */

const START = '2031-03-01T10:00:00.000Z'
const HOLD_MS = 15 * 60_000
/** A night of April 2031. */
const apr = (d: number) => `2031-04-${String(d).padStart(2, '0')}`

const LISTING = {
  name: 'Villa',
  address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
  max_guests: 4,
  bedrooms: 2,
  nightly_rate: { amount: '100.00', currency: 'USD' },
  timezone: 'Asia/Ho_Chi_Minh',
}

interface World {
  h: TestApp
  clock: ManualClock
  t: Tenant
  listingId: string
  customerId: string
}

async function createListing(h: TestApp, token: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call(token, 'POST', '/v1/listings', { ...LISTING, ...overrides })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

async function createCustomer(h: TestApp, token: string, name = 'An'): Promise<string> {
  const res = await h.call(token, 'POST', '/v1/customers', { name })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

async function world(start: string | Date = START): Promise<World> {
  const clock = new ManualClock(start)
  const h = await testApp({ clock, config: { holdMinutes: 15 } })
  const t = await makeTenant(h.db, { clock, teams: 1 })
  return { h, clock, t, listingId: await createListing(h, t.token), customerId: await createCustomer(h, t.token) }
}

function book(w: World, checkIn: string, checkOut: string, extra: Record<string, unknown> = {}, token = w.t.token): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', '/v1/bookings', { listing_id: w.listingId, customer_id: w.customerId, check_in: checkIn, check_out: checkOut, guests: 2, ...extra })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function booked(w: World, checkIn: string, checkOut: string, extra: Record<string, unknown> = {}, token = w.t.token): Promise<any> {
  const res = await book(w, checkIn, checkOut, extra, token)
  // on a 5xx, the server's log says why
  expect(res.statusCode, res.statusCode >= 500 ? w.h.logs.lines.filter((l) => l.includes('"level":50')).join('\n') : res.body).toBe(201)
  return res.json()
}

function act(w: World, id: string, action: 'confirm' | 'issue' | 'cancel', token = w.t.token): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', `/v1/bookings/${id}:${action}`, action === 'cancel' ? { reason: 'guest asked' } : undefined)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function get(w: World, id: string, token = w.t.token): Promise<any> {
  const res = await w.h.call(token, 'GET', `/v1/bookings/${id}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function expectError(res: LightMyRequestResponse, status: number, code: string): any {
  expect(res.statusCode, res.body).toBe(status)
  const error = res.json().error
  expect(error.code, res.body).toBe(code)
  expect(error.request_id).toBe(res.headers['x-request-id'])
  return error
}

function expectFieldError(res: LightMyRequestResponse, ...fields: string[]): void {
  const error = expectError(res, 400, 'VALIDATION_ERROR')
  const named = (error.details.fields as { field: string }[]).map((f) => f.field)
  for (const field of fields) expect(named, res.body).toContain(field)
}

async function expectInvalidTransition(w: World, res: LightMyRequestResponse, id: string, status: string): Promise<void> {
  const before = await get(w, id)
  const error = expectError(res, 409, 'BOOKING_INVALID_TRANSITION')
  expect(error.details.status).toBe(status)
  expect(error.retry_advice).toBe('non_retryable')
  // nothing changed
  expect(await get(w, id)).toEqual(before)
  expect(before.status).toBe(status)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function eventsOf(w: World, bookingId: string, types: string): Promise<any[]> {
  const res = await w.h.call(w.t.token, 'GET', `/v1/events?limit=100&event_type=${types}`)
  expect(res.statusCode, res.body).toBe(200)
  return (res.json().data as { data: { id: string }; sequence: number }[]).filter((e) => e.data.id === bookingId).sort((a, b) => a.sequence - b.sequence)
}

async function liveBookingsInDb(w: World, listingId = w.listingId): Promise<number> {
  const { rows } = await w.h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE listing_id = $1 AND status IN ('HELD', 'CONFIRMED', 'ISSUED')`, [listingId])
  return rows[0]!.n
}

let probe = 0

/** Same 404 for a hidden resource and an unknown one: status, headers that matter, body byte for byte. */
async function sameNotFound(h: TestApp, token: string, method: InjectOptions['method'], hiddenUrl: string, unknownUrl: string, hiddenBody?: unknown, unknownBody?: unknown): Promise<void> {
  const headers = { 'x-request-id': `bookings-probe-${process.pid}-${++probe}` }
  const hidden = await h.call(token, method, hiddenUrl, hiddenBody, headers)
  const unknown = await h.call(token, method, unknownUrl, unknownBody ?? hiddenBody, headers)
  expect(unknown.statusCode, unknown.body).toBe(404)
  if (method !== 'HEAD') expect(unknown.json().error.code).toBe('NOT_FOUND')
  expect(hidden.statusCode, hidden.body).toBe(404)
  expect(hidden.body).toBe(unknown.body)
  for (const header of ['content-type', 'content-length', 'cache-control', 'x-request-id', 'etag', 'location']) {
    expect(hidden.headers[header], header).toEqual(unknown.headers[header])
  }
  expect(hidden.headers['x-request-id']).toBe(headers['x-request-id'])
}

describe('creating a booking', () => {
  it('returns 201, a Location, status HELD, a 15-minute hold and the price nights × rate', async () => {
    const w = await world()
    const res = await book(w, apr(10), apr(13), { guests: 3 })
    expect(res.statusCode, res.body).toBe(201)
    const b = res.json()
    expect(b.id).toMatch(/^bkg_[0-7][0-9a-hjkmnp-tv-z]{25}$/)
    expect(res.headers.location).toBe(`http://api.test/v1/bookings/${b.id}`)
    expect(b).toMatchObject({
      status: 'HELD',
      team_id: w.t.teamIds[0],
      mode: 'test',
      listing_id: w.listingId,
      customer_id: w.customerId,
      check_in: apr(10),
      check_out: apr(13),
      guests: 3,
      price: { nightly_rate: { amount: '100.00', currency: 'USD' }, nights: 3, total: { amount: '300.00', currency: 'USD' } },
      hold_expires_at: new Date(Date.parse(START) + HOLD_MS).toISOString(),
      confirmed_at: null,
      issued_at: null,
      voucher_number: null,
      cancelled_at: null,
      cancellation_reason: null,
      expired_at: null,
      external_system: null,
      external_booking_id: null,
      guest_details: null,
      created_at: START,
      updated_at: START,
    })
    // the resource exists at once, in the same shape as GET
    const again = await w.h.call(w.t.token, 'GET', new URL(res.headers.location as string).pathname)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual(b)
  })

  it('the hold length follows config.holdMinutes', async () => {
    const clock = new ManualClock(START)
    const h = await testApp({ clock, config: { holdMinutes: 7 } })
    const t = await makeTenant(h.db, { clock, teams: 1 })
    const w: World = { h, clock, t, listingId: await createListing(h, t.token), customerId: await createCustomer(h, t.token) }
    const b = await booked(w, apr(1), apr(2))
    expect(b.hold_expires_at).toBe(new Date(Date.parse(START) + 7 * 60_000).toISOString())
  })

  it('prices in the currency minor unit (VND has none)', async () => {
    const w = await world()
    const vnd = await createListing(w.h, w.t.token, { nightly_rate: { amount: '1500000', currency: 'VND' } })
    const b = await booked({ ...w, listingId: vnd }, apr(1), apr(3))
    expect(b.price).toEqual({ nightly_rate: { amount: '1500000', currency: 'VND' }, nights: 2, total: { amount: '3000000', currency: 'VND' } })
  })
})

describe('legal transitions', () => {
  it('HELD → CONFIRMED → ISSUED → CANCELLED, each stamped with the time', async () => {
    const w = await world()
    const b = await booked(w, apr(10), apr(13))

    w.clock.advance(60_000)
    const confirmed = await act(w, b.id, 'confirm')
    expect(confirmed.statusCode, confirmed.body).toBe(200)
    expect(confirmed.json()).toMatchObject({ id: b.id, status: 'CONFIRMED', confirmed_at: w.clock.now().toISOString(), updated_at: w.clock.now().toISOString() })
    // a confirmed booking does not expire with its hold
    w.clock.advance(HOLD_MS)
    expect((await get(w, b.id)).status).toBe('CONFIRMED')

    const issued = await act(w, b.id, 'issue')
    expect(issued.statusCode, issued.body).toBe(200)
    expect(issued.json()).toMatchObject({ status: 'ISSUED', issued_at: w.clock.now().toISOString() })
    expect(issued.json().voucher_number).toMatch(/^VCH-\d{4}-\d{6}$/)
    expect(issued.json().confirmed_at).toBe(confirmed.json().confirmed_at)

    w.clock.advance(60_000)
    const cancelled = await w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:cancel`, { reason: 'guest is ill' })
    expect(cancelled.statusCode, cancelled.body).toBe(200)
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', cancelled_at: w.clock.now().toISOString(), cancellation_reason: 'guest is ill' })
    // the voucher stays on the cancelled booking
    expect(cancelled.json().voucher_number).toBe(issued.json().voucher_number)
    expect(await get(w, b.id)).toEqual(cancelled.json())
  })

  it('vouchers are distinct', async () => {
    const w = await world()
    const vouchers = new Set<string>()
    for (const d of [1, 3, 5]) {
      const b = await booked(w, apr(d), apr(d + 1))
      expect((await act(w, b.id, 'confirm')).statusCode).toBe(200)
      const issued = await act(w, b.id, 'issue')
      expect(issued.statusCode).toBe(200)
      vouchers.add(issued.json().voucher_number)
    }
    expect(vouchers.size).toBe(3)
  })

  it('HELD and CONFIRMED bookings can be cancelled', async () => {
    const w = await world()
    const held = await booked(w, apr(1), apr(2))
    const res1 = await act(w, held.id, 'cancel')
    expect(res1.statusCode, res1.body).toBe(200)
    expect(res1.json()).toMatchObject({ status: 'CANCELLED', cancellation_reason: 'guest asked', confirmed_at: null })

    const confirmed = await booked(w, apr(3), apr(4))
    expect((await act(w, confirmed.id, 'confirm')).statusCode).toBe(200)
    const res2 = await act(w, confirmed.id, 'cancel')
    expect(res2.statusCode, res2.body).toBe(200)
    expect(res2.json().status).toBe('CANCELLED')
  })

  it(':cancel needs a reason', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(2))
    expectFieldError(await w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:cancel`, {}), 'reason')
    expectFieldError(await w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:cancel`, { reason: '' }), 'reason')
    expectError(await w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:cancel`), 400, 'VALIDATION_ERROR')
    expect((await get(w, b.id)).status).toBe('HELD')
  })

  it('HELD → EXPIRED when the hold lapses: exactly at hold_expires_at, not a millisecond before', async () => {
    const w = await world()
    const b = await booked(w, apr(10), apr(13))
    w.clock.advance(HOLD_MS - 1)
    expect((await get(w, b.id)).status).toBe('HELD')
    w.clock.advance(1)
    const expired = await get(w, b.id)
    expect(expired).toMatchObject({ status: 'EXPIRED', expired_at: b.hold_expires_at, hold_expires_at: b.hold_expires_at })
    expectError(await act(w, b.id, 'confirm'), 409, 'BOOKING_HOLD_EXPIRED')
  })
})

describe('illegal transitions: 409 BOOKING_INVALID_TRANSITION with the current status, and nothing changes', () => {
  it('from HELD: :issue', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(2))
    await expectInvalidTransition(w, await act(w, b.id, 'issue'), b.id, 'HELD')
  })

  it('from CONFIRMED: :confirm', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(2))
    expect((await act(w, b.id, 'confirm')).statusCode).toBe(200)
    await expectInvalidTransition(w, await act(w, b.id, 'confirm'), b.id, 'CONFIRMED')
  })

  it('from ISSUED: :confirm, :issue, PUT stay', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(2))
    expect((await act(w, b.id, 'confirm')).statusCode).toBe(200)
    expect((await act(w, b.id, 'issue')).statusCode).toBe(200)
    await expectInvalidTransition(w, await act(w, b.id, 'confirm'), b.id, 'ISSUED')
    await expectInvalidTransition(w, await act(w, b.id, 'issue'), b.id, 'ISSUED')
    await expectInvalidTransition(w, await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/stay`, { check_in: apr(2), check_out: apr(3), guests: 2 }), b.id, 'ISSUED')
  })

  it('from CANCELLED: :confirm, :issue, :cancel, PUT stay, PUT guest-details', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(2))
    expect((await act(w, b.id, 'cancel')).statusCode).toBe(200)
    await expectInvalidTransition(w, await act(w, b.id, 'confirm'), b.id, 'CANCELLED')
    await expectInvalidTransition(w, await act(w, b.id, 'issue'), b.id, 'CANCELLED')
    await expectInvalidTransition(w, await act(w, b.id, 'cancel'), b.id, 'CANCELLED')
    await expectInvalidTransition(w, await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/stay`, { check_in: apr(1), check_out: apr(3), guests: 2 }), b.id, 'CANCELLED')
    await expectInvalidTransition(w, await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'Binh' })), b.id, 'CANCELLED')
  })

  it('from EXPIRED (lapsed hold): :issue, :cancel, PUT stay', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(2))
    w.clock.advance(HOLD_MS + 1000)
    await expectInvalidTransition(w, await act(w, b.id, 'issue'), b.id, 'EXPIRED')
    await expectInvalidTransition(w, await act(w, b.id, 'cancel'), b.id, 'EXPIRED')
    await expectInvalidTransition(w, await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/stay`, { check_in: apr(1), check_out: apr(3), guests: 2 }), b.id, 'EXPIRED')
  })
})

describe('hold expiry', () => {
  it('a lapsed hold reads EXPIRED before the sweeper runs, cannot be confirmed, and the sweeper records it once', async () => {
    // a clock near the real one (see the top of the file): the sweep below then only reaches holds
    // that lapsed by about real time + 5 minutes
    const w = await world(new Date(Date.now() - 10 * 60_000))
    const today = w.clock.now().toISOString().slice(0, 10)
    const b = await booked(w, addDays(today, 30), addDays(today, 33))
    const other = await booked(w, addDays(today, 40), addDays(today, 41))
    expect((await act(w, other.id, 'confirm')).statusCode).toBe(200)

    w.clock.advance(HOLD_MS + 1000)
    const shown = await get(w, b.id)
    expect(shown).toMatchObject({ status: 'EXPIRED', expired_at: b.hold_expires_at })

    const confirm = expectError(await act(w, b.id, 'confirm'), 409, 'BOOKING_HOLD_EXPIRED')
    expect(confirm.details.hold_expires_at).toBe(b.hold_expires_at)
    expect(confirm.retry_advice).toBe('non_retryable')

    const ids = async (query: string) => {
      const res = await w.h.call(w.t.token, 'GET', `/v1/bookings?${query}`)
      expect(res.statusCode, res.body).toBe(200)
      return (res.json().data as { id: string; status: string }[]).map((x) => `${x.id}:${x.status}`)
    }
    expect(await ids('status=HELD')).toEqual([])
    expect(await ids('status=EXPIRED')).toEqual([`${b.id}:EXPIRED`])
    expect(await ids('status=HELD,EXPIRED')).toEqual([`${b.id}:EXPIRED`])
    expect((await ids('status=EXPIRED,CONFIRMED')).sort()).toEqual([`${b.id}:EXPIRED`, `${other.id}:CONFIRMED`].sort())
    expect(await ids('')).toContain(`${b.id}:EXPIRED`)
    // reads wrote nothing
    expect(await eventsOf(w, b.id, 'booking.expired')).toEqual([])

    const first = await w.h.bookings.expireLapsed()
    expect(first).toBeGreaterThanOrEqual(1)
    if (!onPostgres) expect(first).toBe(1) // this file's own database: only that hold lapsed
    const events = await eventsOf(w, b.id, 'booking.expired')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ event_type: 'booking.expired', sequence: 2, team_id: w.t.teamIds[0], mode: 'test' })
    expect(events[0].data).toMatchObject({ id: b.id, status: 'EXPIRED', expired_at: b.hold_expires_at })

    const second = await w.h.bookings.expireLapsed()
    if (!onPostgres) expect(second).toBe(0)
    expect(await eventsOf(w, b.id, 'booking.expired')).toHaveLength(1)
    expect(await get(w, b.id)).toMatchObject({ status: 'EXPIRED', expired_at: b.hold_expires_at })
    // the confirmed booking was left alone
    expect((await get(w, other.id)).status).toBe('CONFIRMED')
    expect(await eventsOf(w, other.id, 'booking.expired')).toEqual([])
  })

  // Regression (fixed in 7041dd3): :confirm of a lapsed hold answered BOOKING_HOLD_EXPIRED before the
  // sweeper ran and BOOKING_INVALID_TRANSITION after; the client sees the same EXPIRED booking either way.
  it(':confirm after the sweeper ran still answers BOOKING_HOLD_EXPIRED', async () => {
    const w = await world(new Date(Date.now() - 10 * 60_000))
    const today = w.clock.now().toISOString().slice(0, 10)
    const b = await booked(w, addDays(today, 50), addDays(today, 51))
    w.clock.advance(HOLD_MS + 1000)
    await w.h.bookings.expireLapsed()
    const error = expectError(await act(w, b.id, 'confirm'), 409, 'BOOKING_HOLD_EXPIRED')
    expect(error.details.hold_expires_at).toBe(b.hold_expires_at)
  })

  it('a lapsed hold never blocks a new booking of the same nights, and is recorded as expired', async () => {
    const w = await world()
    const old = await booked(w, apr(10), apr(13))
    expectError(await book(w, apr(11), apr(12)), 409, 'LISTING_UNAVAILABLE')
    w.clock.advance(HOLD_MS + 1000)
    const fresh = await booked(w, apr(10), apr(13))
    expect(fresh.status).toBe('HELD')
    expect(await get(w, old.id)).toMatchObject({ status: 'EXPIRED', expired_at: old.hold_expires_at })
    // expired in the database, in the transaction of the new booking, with its event
    const { rows } = await w.h.db.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [old.id])
    expect(rows[0]!.status).toBe('EXPIRED')
    const events = await eventsOf(w, old.id, 'booking.expired')
    expect(events.map((e) => e.sequence)).toEqual([2])
    expect(await liveBookingsInDb(w)).toBe(1)
    // the new one holds the nights
    expectError(await book(w, apr(12), apr(14)), 409, 'LISTING_UNAVAILABLE')
  })
})

describe('availability', () => {
  it('adjacent stays both succeed; overlapping ones do not; a cancelled booking frees its nights', async () => {
    const w = await world()
    const a = await booked(w, apr(10), apr(13))
    const b = await booked(w, apr(13), apr(15))
    const before = await booked(w, apr(8), apr(10))
    expect([a.status, b.status, before.status]).toEqual(['HELD', 'HELD', 'HELD'])

    for (const [checkIn, checkOut] of [
      [apr(12), apr(14)], // straddles A and B
      [apr(10), apr(13)], // the same nights
      [apr(11), apr(12)], // inside A
      [apr(5), apr(20)], // around everything
      [apr(14), apr(16)], // overlaps B's last night
    ] as const) {
      const error = expectError(await book(w, checkIn, checkOut), 409, 'LISTING_UNAVAILABLE')
      expect(error.retry_advice).toBe('retry_after_fix')
    }
    // another listing is not affected
    const other = await createListing(w.h, w.t.token, { name: 'Other villa' })
    await booked({ ...w, listingId: other }, apr(10), apr(13))

    // a confirmed or issued booking blocks too
    expect((await act(w, a.id, 'confirm')).statusCode).toBe(200)
    expectError(await book(w, apr(12), apr(13)), 409, 'LISTING_UNAVAILABLE')
    expect((await act(w, a.id, 'issue')).statusCode).toBe(200)
    expectError(await book(w, apr(12), apr(13)), 409, 'LISTING_UNAVAILABLE')

    expect((await act(w, a.id, 'cancel')).statusCode).toBe(200)
    const again = await booked(w, apr(10), apr(13))
    expect(again.status).toBe('HELD')
    expect(await liveBookingsInDb(w)).toBe(3)
  })
})

describe('expected_total and the order of errors', () => {
  it('equal → 201; another amount or currency → 409 PRICE_CHANGED with the actual total', async () => {
    const w = await world()
    const ok = await book(w, apr(1), apr(4), { expected_total: { amount: '300.00', currency: 'USD' } })
    expect(ok.statusCode, ok.body).toBe(201)
    expect(ok.json().price.total).toEqual({ amount: '300.00', currency: 'USD' })

    for (const expected of [
      { amount: '299.99', currency: 'USD' },
      { amount: '300.00', currency: 'EUR' },
      { amount: '0', currency: 'USD' },
    ]) {
      const error = expectError(await book(w, apr(10), apr(13), { expected_total: expected }), 409, 'PRICE_CHANGED')
      expect(error.details.actual_total).toEqual({ amount: '300.00', currency: 'USD' })
      expect(error.retry_advice).toBe('retry_after_fix')
    }
    // nothing was held by the refused requests
    await booked(w, apr(10), apr(13), { expected_total: { amount: '300.00', currency: 'USD' } })
    expect(await liveBookingsInDb(w)).toBe(2)
  })

  it('an expected_total that is not money for its currency is a 400', async () => {
    const w = await world()
    expectFieldError(await book(w, apr(1), apr(2), { expected_total: { amount: '100.001', currency: 'USD' } }), 'expected_total.amount')
    expectFieldError(await book(w, apr(1), apr(2), { expected_total: { amount: '100.00', currency: 'XXY' } }), 'expected_total.currency')
    expectError(await book(w, apr(1), apr(2), { expected_total: { amount: '-1', currency: 'USD' } }), 400, 'VALIDATION_ERROR')
  })

  it('an INACTIVE listing is reported before a changed price (LISTING_NOT_BOOKABLE)', async () => {
    const w = await world()
    const put = await w.h.call(w.t.token, 'PUT', `/v1/listings/${w.listingId}`, listingReplacement(LISTING, { state: 'INACTIVE' }))
    expect(put.statusCode, put.body).toBe(200)
    const error = expectError(await book(w, apr(1), apr(3), { expected_total: { amount: '1.00', currency: 'USD' } }), 409, 'LISTING_NOT_BOOKABLE')
    expect(error.retry_advice).toBe('non_retryable')
    expectError(await book(w, apr(1), apr(3)), 409, 'LISTING_NOT_BOOKABLE')
    // and an archived one
    const archived = await createListing(w.h, w.t.token)
    expect((await w.h.call(w.t.token, 'DELETE', `/v1/listings/${archived}`)).statusCode).toBe(204)
    expectError(await book({ ...w, listingId: archived }, apr(1), apr(3), { expected_total: { amount: '1.00', currency: 'USD' } }), 409, 'LISTING_NOT_BOOKABLE')
    expect(await liveBookingsInDb(w)).toBe(0)
  })

  it('unavailable nights are reported before a changed price (LISTING_UNAVAILABLE)', async () => {
    const w = await world()
    await booked(w, apr(10), apr(13))
    expectError(await book(w, apr(11), apr(14), { expected_total: { amount: '1.00', currency: 'USD' } }), 409, 'LISTING_UNAVAILABLE')
  })
})

describe('external ids', () => {
  it('external_system needs external_booking_id', async () => {
    const w = await world()
    const error = expectError(await book(w, apr(1), apr(2), { external_system: 'channel-x' }), 400, 'EXTERNAL_BOOKING_ID_REQUIRED')
    expect(error.retry_advice).toBe('retry_after_fix')
    expectError(await book(w, apr(1), apr(2), { external_system: 'channel-x', external_booking_id: null }), 400, 'EXTERNAL_BOOKING_ID_REQUIRED')
    // and the other way round
    expectFieldError(await book(w, apr(1), apr(2), { external_booking_id: 'X-1' }), 'external_system')
    expect(await liveBookingsInDb(w)).toBe(0)
  })

  it('a pair is unique per partner: the second is a 409 naming the first; another partner may reuse it; the filter finds it', async () => {
    const w = await world()
    const ext = { external_system: 'channel-x', external_booking_id: `X-${process.pid}-1` }
    const first = await booked(w, apr(1), apr(2), ext)
    expect(first).toMatchObject(ext)

    const error = expectError(await book(w, apr(5), apr(6), ext), 409, 'EXTERNAL_BOOKING_DUPLICATE')
    expect(error.details.existing_booking_id).toBe(first.id)
    // even after the first is cancelled: the pair names that booking
    expect((await act(w, first.id, 'cancel')).statusCode).toBe(200)
    expect(expectError(await book(w, apr(5), apr(6), ext), 409, 'EXTERNAL_BOOKING_DUPLICATE').details.existing_booking_id).toBe(first.id)

    // the same id in another system is another pair
    const otherSystem = await booked(w, apr(7), apr(8), { ...ext, external_system: 'channel-y' })

    // another partner
    const t2 = await makeTenant(w.h.db, { clock: w.clock, teams: 1 })
    const w2: World = { ...w, t: t2, listingId: await createListing(w.h, t2.token), customerId: await createCustomer(w.h, t2.token) }
    const theirs = await booked(w2, apr(1), apr(2), ext)
    expect(theirs.id).not.toBe(first.id)

    const found = await w.h.call(w.t.token, 'GET', `/v1/bookings?external_booking_id=${ext.external_booking_id}`)
    expect(found.statusCode).toBe(200)
    expect(found.json().data.map((x: { id: string; external_system: string }) => `${x.id}:${x.external_system}`).sort()).toEqual(
      [`${first.id}:channel-x`, `${otherSystem.id}:channel-y`].sort(),
    )
    const foundByThem = await w.h.call(t2.token, 'GET', `/v1/bookings?external_booking_id=${ext.external_booking_id}`)
    expect(foundByThem.json().data.map((x: { id: string }) => x.id)).toEqual([theirs.id])
    const none = await w.h.call(w.t.token, 'GET', '/v1/bookings?external_booking_id=nope')
    expect(none.statusCode).toBe(200)
    expect(none.json()).toEqual({ data: [], pagination: { next_cursor: null, has_more: false } })
  })
})

describe('validation (400, every field at once)', () => {
  it('guests over the listing capacity', async () => {
    const w = await world()
    expectFieldError(await book(w, apr(1), apr(2), { guests: 5 }), 'guests')
    await booked(w, apr(1), apr(2), { guests: 4 })
    expectFieldError(await book(w, apr(3), apr(4), { guests: 0 }), 'guests')
  })

  it('stay dates: order, length, calendar, past', async () => {
    const w = await world()
    expectFieldError(await book(w, apr(10), apr(10)), 'check_out')
    expectFieldError(await book(w, apr(10), apr(9)), 'check_out')
    expectFieldError(await book(w, '2031-04-01', '2031-07-01'), 'check_out') // 91 nights
    await booked(w, '2031-04-01', '2031-06-30') // 90 nights is the maximum
    expectFieldError(await book(w, '2031-02-30', '2031-03-02'), 'check_in')
    expectFieldError(await book(w, '2031-04-10', '2031-04-31'), 'check_out')
    expectFieldError(await book(w, '10/04/2031', '2031-04-12'), 'check_in')
    expectFieldError(await book(w, '2031-02-20', '2031-02-22'), 'check_in') // in the past
    // every problem at once
    const both = expectError(await book(w, '2031-02-30', '2031-13-01', { guests: 0, surprise: 1 }), 400, 'VALIDATION_ERROR')
    const named = (both.details.fields as { field: string }[]).map((f) => f.field)
    expect(named).toEqual(expect.arrayContaining(['check_in', 'check_out', 'guests', 'surprise']))
  })

  it('date errors are reported together', async () => {
    const w = await world()
    const error = expectError(await book(w, '2031-02-30', '2031-13-01'), 400, 'VALIDATION_ERROR')
    expect((error.details.fields as { field: string }[]).map((f) => f.field).sort()).toEqual(['check_in', 'check_out'])
  })

  it('unknown and missing body fields', async () => {
    const w = await world()
    expectFieldError(await book(w, apr(1), apr(2), { price: { amount: '1.00', currency: 'USD' } }), 'price')
    expectFieldError(await w.h.call(w.t.token, 'POST', '/v1/bookings', { listing_id: w.listingId }), 'customer_id', 'check_in', 'check_out', 'guests')
    expectError(await book(w, apr(1), apr(2), { guests: '2x' }), 400, 'VALIDATION_ERROR')
    expect(await liveBookingsInDb(w)).toBe(0)
  })
})

describe('GET /v1/bookings filters', () => {
  it('status (stored and time-dependent), listing_id, customer_id, check_in_from/to, created_after/before', async () => {
    const w = await world()
    const otherListing = await createListing(w.h, w.t.token, { name: 'Other' })
    const otherCustomer = await createCustomer(w.h, w.t.token, 'Binh')
    const held = await booked(w, apr(1), apr(2))
    w.clock.advance(1000)
    const confirmed = await booked(w, apr(3), apr(4))
    expect((await act(w, confirmed.id, 'confirm')).statusCode).toBe(200)
    w.clock.advance(1000)
    const issued = await booked({ ...w, listingId: otherListing }, apr(5), apr(6))
    expect((await act(w, issued.id, 'confirm')).statusCode).toBe(200)
    expect((await act(w, issued.id, 'issue')).statusCode).toBe(200)
    w.clock.advance(1000)
    const cancelled = await booked({ ...w, customerId: otherCustomer }, apr(7), apr(8))
    expect((await act(w, cancelled.id, 'cancel')).statusCode).toBe(200)

    const ids = async (query: string) => {
      const res = await w.h.call(w.t.token, 'GET', `/v1/bookings?sort=check_in&${query}`)
      expect(res.statusCode, res.body).toBe(200)
      return (res.json().data as { id: string }[]).map((x) => x.id)
    }
    expect(await ids('status=CONFIRMED')).toEqual([confirmed.id])
    expect(await ids('status=ISSUED,CANCELLED')).toEqual([issued.id, cancelled.id])
    expect(await ids('status=ISSUED&status=CANCELLED')).toEqual([issued.id, cancelled.id])
    expect(await ids('status=HELD')).toEqual([held.id])
    expect(await ids('status=HELD,CONFIRMED')).toEqual([held.id, confirmed.id])
    expect(await ids('status=EXPIRED')).toEqual([])
    expect(await ids(`listing_id=${otherListing}`)).toEqual([issued.id])
    expect(await ids(`customer_id=${otherCustomer}`)).toEqual([cancelled.id])
    expect(await ids(`check_in_from=${apr(3)}&check_in_to=${apr(5)}`)).toEqual([confirmed.id, issued.id])
    expect(await ids(`created_after=${encodeURIComponent(confirmed.created_at)}`)).toEqual([issued.id, cancelled.id])
    expect(await ids(`created_before=${encodeURIComponent(confirmed.created_at)}`)).toEqual([held.id])
    expect(await ids(`status=CONFIRMED,ISSUED&listing_id=${w.listingId}`)).toEqual([confirmed.id])
    expect(await ids(`customer_id=${otherCustomer}&status=HELD`)).toEqual([])

    // once the hold lapses it moves from HELD to EXPIRED, in filters too
    w.clock.advance(HOLD_MS)
    expect(await ids('status=HELD')).toEqual([])
    expect(await ids('status=EXPIRED')).toEqual([held.id])
    expect(await ids('status=CONFIRMED,EXPIRED')).toEqual([held.id, confirmed.id])

    expectFieldError(await w.h.call(w.t.token, 'GET', '/v1/bookings?status=PENDING'), 'status')
    expectFieldError(await w.h.call(w.t.token, 'GET', '/v1/bookings?status=held'), 'status')
    expectFieldError(await w.h.call(w.t.token, 'GET', '/v1/bookings?check_in_from=2031-02-30'), 'check_in_from')
    expectFieldError(await w.h.call(w.t.token, 'GET', '/v1/bookings?created_after=yesterday'), 'created_after')
    expectFieldError(await w.h.call(w.t.token, 'GET', '/v1/bookings?guests=2'), 'guests')
  })
})

describe('PUT /v1/bookings/{id}/guest-details', () => {
  it('replaces the guest details; validates the phone; honours If-Match', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(3))
    const details = { lead_guest_name: 'Binh', lead_guest_email: 'binh@example.com', lead_guest_phone: '+84901234567', additional_guest_names: ['Chi'], special_requests: 'late arrival' }
    const put = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, details)
    expect(put.statusCode, put.body).toBe(200)
    expect(put.json().guest_details).toEqual(details)
    expect(put.json().status).toBe('HELD')
    const read = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`)
    expect(read.json()).toEqual(put.json())
    expect(put.headers.etag).toBe(read.headers.etag)

    // a replacement, not a merge: an omitted field is a 400 naming it and changes nothing ...
    const partial = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, { lead_guest_name: 'Dung' })
    expectFieldError(partial, 'lead_guest_email', 'lead_guest_phone', 'additional_guest_names', 'special_requests')
    expect(await get(w, b.id)).toEqual(put.json())
    // ... and explicit null / [] clear
    const minimal = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'Dung' }))
    expect(minimal.statusCode, minimal.body).toBe(200)
    expect(minimal.json().guest_details).toEqual({ lead_guest_name: 'Dung', lead_guest_email: null, lead_guest_phone: null, additional_guest_names: [], special_requests: null })

    expectFieldError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'X', lead_guest_phone: '0901234567' })), 'lead_guest_phone')
    expectFieldError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'X', nickname: 'x' })), 'nickname')
    expectFieldError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, {}), 'lead_guest_name')

    const current = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`)
    const etag = current.headers.etag as string
    expect(etag).toMatch(/^"[^"]+"$/)
    const stale = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'Stale' }), { 'if-match': read.headers.etag as string })
    expectError(stale, 412, 'PRECONDITION_FAILED')
    expectError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'Stale' }), { 'if-match': '"nope"' }), 412, 'PRECONDITION_FAILED')
    expect((await get(w, b.id)).guest_details.lead_guest_name).toBe('Dung')

    const fresh = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'Em' }), { 'if-match': etag })
    expect(fresh.statusCode, fresh.body).toBe(200)
    expect(fresh.json().guest_details.lead_guest_name).toBe('Em')
    // the old ETag is stale now
    expectError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'Fa' }), { 'if-match': etag }), 412, 'PRECONDITION_FAILED')
    // a booking.updated event per change
    expect((await eventsOf(w, b.id, 'booking.updated')).length).toBe(3)
  })

  it('guest details can be given at creation, and are validated there too', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(2), { guest_details: { lead_guest_name: 'Giang', lead_guest_phone: '+84901234567' } })
    expect(b.guest_details).toEqual({ lead_guest_name: 'Giang', lead_guest_email: null, lead_guest_phone: '+84901234567', additional_guest_names: [], special_requests: null })
    expectFieldError(await book(w, apr(3), apr(4), { guest_details: { lead_guest_name: 'Giang', lead_guest_phone: 'call me' } }), 'guest_details.lead_guest_phone')
  })
})

describe('PUT /v1/bookings/{id}/stay', () => {
  it('re-prices, lets the booking overlap its own old nights, refuses another booking\'s nights and leaves the booking unchanged', async () => {
    const w = await world()
    const a = await booked(w, apr(10), apr(13))
    const other = await booked(w, apr(20), apr(22))

    w.clock.advance(1000)
    const longer = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(10), check_out: apr(14), guests: 3 })
    expect(longer.statusCode, longer.body).toBe(200)
    expect(longer.json()).toMatchObject({
      id: a.id,
      status: 'HELD',
      check_in: apr(10),
      check_out: apr(14),
      guests: 3,
      price: { nightly_rate: { amount: '100.00', currency: 'USD' }, nights: 4, total: { amount: '400.00', currency: 'USD' } },
      hold_expires_at: a.hold_expires_at, // a stay change does not extend the hold
      updated_at: w.clock.now().toISOString(),
    })

    const shifted = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(11), check_out: apr(15), guests: 3 })
    expect(shifted.statusCode, shifted.body).toBe(200)
    expect(shifted.json()).toMatchObject({ check_in: apr(11), check_out: apr(15), price: { nights: 4, total: { amount: '400.00', currency: 'USD' } } })
    // the nights it left are free again
    await booked(w, apr(10), apr(11))

    const before = await get(w, a.id)
    expectError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(19), check_out: apr(21), guests: 2 }), 409, 'LISTING_UNAVAILABLE')
    expectError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(14), check_out: apr(23), guests: 2 }), 409, 'LISTING_UNAVAILABLE')
    expect(await get(w, a.id)).toEqual(before)
    expect((await get(w, other.id)).check_in).toBe(apr(20))

    // a confirmed booking can change too
    expect((await act(w, a.id, 'confirm')).statusCode).toBe(200)
    const moved = await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(24), check_out: apr(25), guests: 1 })
    expect(moved.statusCode, moved.body).toBe(200)
    expect(moved.json()).toMatchObject({ status: 'CONFIRMED', price: { nights: 1, total: { amount: '100.00', currency: 'USD' } } })
    expect(await liveBookingsInDb(w)).toBe(3)
  })

  it('uses the listing\'s current rate; checks expected_total, capacity and If-Match', async () => {
    const w = await world()
    const a = await booked(w, apr(10), apr(13))
    expect(a.price.total).toEqual({ amount: '300.00', currency: 'USD' })
    const put = await w.h.call(w.t.token, 'PUT', `/v1/listings/${w.listingId}`, listingReplacement(LISTING, { nightly_rate: { amount: '150.00', currency: 'USD' } }))
    expect(put.statusCode, put.body).toBe(200)
    // the booking keeps the price it was made with
    expect((await get(w, a.id)).price.total).toEqual({ amount: '300.00', currency: 'USD' })

    const before = await get(w, a.id)
    const priceChanged = expectError(
      await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(10), check_out: apr(13), guests: 2, expected_total: { amount: '300.00', currency: 'USD' } }),
      409,
      'PRICE_CHANGED',
    )
    expect(priceChanged.details.actual_total).toEqual({ amount: '450.00', currency: 'USD' })
    expectFieldError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(10), check_out: apr(13), guests: 9 }), 'guests')
    expectFieldError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(13), check_out: apr(10), guests: 2 }), 'check_out')
    expectFieldError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(10), check_out: apr(13) }), 'guests')
    expectError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(10), check_out: apr(13), guests: 2 }, { 'if-match': '"stale"' }), 412, 'PRECONDITION_FAILED')
    expect(await get(w, a.id)).toEqual(before)

    const etag = (await w.h.call(w.t.token, 'GET', `/v1/bookings/${a.id}`)).headers.etag as string
    const repriced = await w.h.call(
      w.t.token,
      'PUT',
      `/v1/bookings/${a.id}/stay`,
      { check_in: apr(10), check_out: apr(13), guests: 2, expected_total: { amount: '450.00', currency: 'USD' } },
      { 'if-match': etag },
    )
    expect(repriced.statusCode, repriced.body).toBe(200)
    expect(repriced.json().price).toEqual({ nightly_rate: { amount: '150.00', currency: 'USD' }, nights: 3, total: { amount: '450.00', currency: 'USD' } })
    const updates = await eventsOf(w, a.id, 'booking.updated')
    expect(updates).toHaveLength(1)
    expect(updates[0].data.price.total).toEqual({ amount: '450.00', currency: 'USD' })

    // an inactive listing: no stay change
    expect((await w.h.call(w.t.token, 'PUT', `/v1/listings/${w.listingId}`, listingReplacement(LISTING, { state: 'INACTIVE' }))).statusCode).toBe(200)
    expectError(await w.h.call(w.t.token, 'PUT', `/v1/bookings/${a.id}/stay`, { check_in: apr(10), check_out: apr(12), guests: 2 }), 409, 'LISTING_NOT_BOOKABLE')
  })
})

describe('tenancy', () => {
  it("another partner's listing_id or customer_id in the body is a 404 identical to an unknown id", async () => {
    const w = await world()
    const other = await makeTenant(w.h.db, { clock: w.clock, teams: 1 })
    const theirListing = await createListing(w.h, other.token)
    const theirCustomer = await createCustomer(w.h, other.token)
    const body = (listing: string, customer: string) => ({ listing_id: listing, customer_id: customer, check_in: apr(1), check_out: apr(3), guests: 2 })

    await sameNotFound(w.h, w.t.token, 'POST', '/v1/bookings', '/v1/bookings', body(theirListing, w.customerId), body(newId('listing'), w.customerId))
    await sameNotFound(w.h, w.t.token, 'POST', '/v1/bookings', '/v1/bookings', body(w.listingId, theirCustomer), body(w.listingId, newId('customer')))
    expect(await liveBookingsInDb(w, theirListing)).toBe(0)
    expect(await liveBookingsInDb(w)).toBe(0)
  })

  it("another partner's booking is a 404 identical to an unknown id on GET, :confirm, :issue, :cancel and both PUTs", async () => {
    const w = await world()
    const other = await makeTenant(w.h.db, { clock: w.clock, teams: 1 })
    const ow: World = { ...w, t: other, listingId: await createListing(w.h, other.token), customerId: await createCustomer(w.h, other.token) }
    const theirs = await booked(ow, apr(1), apr(3))
    const snapshot = await get(ow, theirs.id, other.token)
    const unknown = newId('booking')

    await sameNotFound(w.h, w.t.token, 'GET', `/v1/bookings/${theirs.id}`, `/v1/bookings/${unknown}`)
    await sameNotFound(w.h, w.t.token, 'HEAD', `/v1/bookings/${theirs.id}`, `/v1/bookings/${unknown}`)
    await sameNotFound(w.h, w.t.token, 'POST', `/v1/bookings/${theirs.id}:confirm`, `/v1/bookings/${unknown}:confirm`)
    await sameNotFound(w.h, w.t.token, 'POST', `/v1/bookings/${theirs.id}:issue`, `/v1/bookings/${unknown}:issue`)
    await sameNotFound(w.h, w.t.token, 'POST', `/v1/bookings/${theirs.id}:cancel`, `/v1/bookings/${unknown}:cancel`, { reason: 'x' })
    await sameNotFound(w.h, w.t.token, 'PUT', `/v1/bookings/${theirs.id}/guest-details`, `/v1/bookings/${unknown}/guest-details`, guestDetailsBody({ lead_guest_name: 'X' }))
    await sameNotFound(w.h, w.t.token, 'PUT', `/v1/bookings/${theirs.id}/stay`, `/v1/bookings/${unknown}/stay`, { check_in: apr(5), check_out: apr(6), guests: 1 })
    await sameNotFound(w.h, w.t.token, 'GET', `/v1/customers/${ow.customerId}/bookings`, `/v1/customers/${newId('customer')}/bookings`)

    // nothing happened to it, and it is in no list of mine
    expect(await get(ow, theirs.id, other.token)).toEqual(snapshot)
    expect((await w.h.call(w.t.token, 'GET', '/v1/bookings')).json().data).toEqual([])
    expect((await w.h.call(w.t.token, 'GET', `/v1/bookings?listing_id=${ow.listingId}`)).json().data).toEqual([])
    expect((await eventsOf(w, theirs.id, 'booking.created'))).toEqual([])
  })

  it('a token narrowed to one team cannot book or see the other team', async () => {
    const clock = new ManualClock(START)
    const h = await testApp({ clock, config: { holdMinutes: 15 } })
    const t = await makeTenant(h.db, { clock, teams: 2 })
    const listing2 = (await h.call(t.token, 'POST', '/v1/listings', { ...LISTING, team_id: t.teamIds[1] })).json().id as string
    const customer2 = (await h.call(t.token, 'POST', '/v1/customers', { name: 'An', team_id: t.teamIds[1] })).json().id as string
    const w2: World = { h, clock, t, listingId: listing2, customerId: customer2 }
    const theirs = await booked(w2, apr(1), apr(2))
    expect(theirs.team_id).toBe(t.teamIds[1])

    const narrow = await h.call(t.token, 'POST', '/v1/tokens', { name: 'narrow', team_ids: [t.teamIds[0]] })
    expect(narrow.statusCode, narrow.body).toBe(201)
    const token = narrow.json().secret as string
    const customer1 = (await h.call(token, 'POST', '/v1/customers', { name: 'Bao' })).json().id as string
    await sameNotFound(h, token, 'GET', `/v1/bookings/${theirs.id}`, `/v1/bookings/${newId('booking')}`)
    await sameNotFound(h, token, 'POST', `/v1/bookings/${theirs.id}:cancel`, `/v1/bookings/${newId('booking')}:cancel`, { reason: 'x' })
    const body = (listing: string) => ({ listing_id: listing, customer_id: customer1, check_in: apr(5), check_out: apr(6), guests: 1 })
    await sameNotFound(h, token, 'POST', '/v1/bookings', '/v1/bookings', body(listing2), body(newId('listing')))
    expect((await h.call(token, 'GET', '/v1/bookings')).json().data).toEqual([])
  })

  it('a test token does not see live bookings, nor book live listings (and the other way round)', async () => {
    const w = await world()
    const live = await w.t.addToken({ name: 'live', mode: 'live' })
    const lw: World = { ...w, t: { ...w.t, token: live.token }, listingId: await createListing(w.h, live.token), customerId: await createCustomer(w.h, live.token) }
    const liveBooking = await booked(lw, apr(1), apr(3))
    expect(liveBooking.mode).toBe('live')
    const testBooking = await booked(w, apr(1), apr(3))
    expect(testBooking.mode).toBe('test')

    await sameNotFound(w.h, w.t.token, 'GET', `/v1/bookings/${liveBooking.id}`, `/v1/bookings/${newId('booking')}`)
    await sameNotFound(w.h, live.token, 'GET', `/v1/bookings/${testBooking.id}`, `/v1/bookings/${newId('booking')}`)
    await sameNotFound(w.h, w.t.token, 'POST', `/v1/bookings/${liveBooking.id}:confirm`, `/v1/bookings/${newId('booking')}:confirm`)
    const body = (listing: string, customer: string) => ({ listing_id: listing, customer_id: customer, check_in: apr(5), check_out: apr(6), guests: 1 })
    await sameNotFound(w.h, w.t.token, 'POST', '/v1/bookings', '/v1/bookings', body(lw.listingId, w.customerId), body(newId('listing'), w.customerId))

    const testList = (await w.h.call(w.t.token, 'GET', '/v1/bookings')).json().data.map((x: { id: string }) => x.id)
    expect(testList).toEqual([testBooking.id])
    const liveList = (await w.h.call(live.token, 'GET', '/v1/bookings')).json().data.map((x: { id: string }) => x.id)
    expect(liveList).toEqual([liveBooking.id])
    expect((await get(w, liveBooking.id, live.token)).status).toBe('HELD')
  })
})

describe('permissions', () => {
  it('TRAVEL_AGENT creates, confirms and cancels, but :issue needs booking.issue', async () => {
    const w = await world()
    const agent = await w.t.addUser('TRAVEL_AGENT')
    const customer = await createCustomer(w.h, agent.token, 'Agent customer')
    const aw: World = { ...w, customerId: customer }
    const b = await booked(aw, apr(1), apr(3), {}, agent.token)
    expect((await act(aw, b.id, 'confirm', agent.token)).statusCode).toBe(200)
    const denied = expectError(await act(aw, b.id, 'issue', agent.token), 403, 'PERMISSION_DENIED')
    expect(denied.details.required_permission).toBe('booking.issue')
    expect((await get(w, b.id)).status).toBe('CONFIRMED')
    const put = await w.h.call(agent.token, 'PUT', `/v1/bookings/${b.id}/guest-details`, guestDetailsBody({ lead_guest_name: 'Hoa' }))
    expect(put.statusCode, put.body).toBe(200)
    expect((await act(aw, b.id, 'cancel', agent.token)).statusCode).toBe(200)
    expect((await get(w, b.id, agent.token)).status).toBe('CANCELLED')
  })

  it('VIEWER reads but cannot create, confirm or cancel; ACCOUNTANT reads', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(3))
    const viewer = await w.t.addUser('VIEWER')
    const accountant = await w.t.addUser('ACCOUNTANT')

    const denied = expectError(await book(w, apr(5), apr(6), {}, viewer.token), 403, 'PERMISSION_DENIED')
    expect(denied.details.required_permission).toBe('booking.create.partner')
    expect(expectError(await act(w, b.id, 'confirm', viewer.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('booking.create.partner')
    expect(expectError(await act(w, b.id, 'cancel', viewer.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('booking.create.partner')
    expect(expectError(await act(w, b.id, 'issue', viewer.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('booking.issue')
    expect((await get(w, b.id, viewer.token)).status).toBe('HELD')

    expect(await get(w, b.id, accountant.token)).toEqual(await get(w, b.id))
    const list = await w.h.call(accountant.token, 'GET', '/v1/bookings')
    expect(list.statusCode).toBe(200)
    expect(list.json().data.map((x: { id: string }) => x.id)).toEqual([b.id])
    expect(expectError(await book(w, apr(5), apr(6), {}, accountant.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('booking.create.partner')
    expect(await liveBookingsInDb(w)).toBe(1)
  })

  it('a token scoped without booking.issue cannot issue, even for an OWNER', async () => {
    const w = await world()
    const scoped = await w.t.addToken({ name: 'no issue', scopes: ['booking.read', 'booking.create.partner', 'listing.read', 'customer.read'] })
    const b = await booked(w, apr(1), apr(2), {}, scoped.token)
    expect((await act(w, b.id, 'confirm', scoped.token)).statusCode).toBe(200)
    expect(expectError(await act(w, b.id, 'issue', scoped.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('booking.issue')
    expect((await act(w, b.id, 'issue')).statusCode).toBe(200)
  })
})

describe('events', () => {
  it("a booking's life writes created, confirmed, issued, cancelled with sequence 1..4 and the resource as it was", async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(3))
    w.clock.advance(1000)
    expect((await act(w, b.id, 'confirm')).statusCode).toBe(200)
    w.clock.advance(1000)
    expect((await act(w, b.id, 'issue')).statusCode).toBe(200)
    w.clock.advance(1000)
    expect((await act(w, b.id, 'cancel')).statusCode).toBe(200)

    const types = ['booking.created', 'booking.confirmed', 'booking.issued', 'booking.cancelled']
    const events = await eventsOf(w, b.id, types.join(','))
    expect(events.map((e) => [e.sequence, e.event_type, e.data.status])).toEqual([
      [1, 'booking.created', 'HELD'],
      [2, 'booking.confirmed', 'CONFIRMED'],
      [3, 'booking.issued', 'ISSUED'],
      [4, 'booking.cancelled', 'CANCELLED'],
    ])
    for (const e of events) {
      expect(e.id).toMatch(/^evt_/)
      expect(e).toMatchObject({ mode: 'test', team_id: w.t.teamIds[0] })
      expect(e.data.id).toBe(b.id)
    }
    expect(events[0].data).toEqual(b)
    expect(events.map((e) => e.created_at)).toEqual([0, 1, 2, 3].map((s) => new Date(Date.parse(START) + s * 1000).toISOString()))
    expect(events[3].data).toEqual(await get(w, b.id))

    // each type filters alone
    for (const type of types) {
      const only = await eventsOf(w, b.id, type)
      expect(only.map((e) => e.event_type)).toEqual([type])
    }
    // a refused change writes nothing
    await act(w, b.id, 'confirm')
    expect(await eventsOf(w, b.id, [...types, 'booking.updated', 'booking.expired'].join(','))).toHaveLength(4)
  })
})

describe('GET /v1/bookings/{id}', () => {
  it('sends an ETag; If-None-Match → 304; the ETag changes with the booking', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(3))
    const first = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`)
    const etag = first.headers.etag as string
    expect(etag).toBeTruthy()
    const again = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`)
    expect(again.headers.etag).toBe(etag)

    const notModified = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`, undefined, { 'if-none-match': etag })
    expect(notModified.statusCode).toBe(304)
    expect(notModified.body).toBe('')
    expect(notModified.headers.etag).toBe(etag)
    expect((await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`, undefined, { 'if-none-match': `"other", ${etag}` })).statusCode).toBe(304)
    expect((await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`, undefined, { 'if-none-match': '"other"' })).statusCode).toBe(200)

    expect((await act(w, b.id, 'confirm')).statusCode).toBe(200)
    const changed = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`, undefined, { 'if-none-match': etag })
    expect(changed.statusCode).toBe(200)
    expect(changed.headers.etag).not.toBe(etag)
    expect(changed.json().status).toBe('CONFIRMED')
  })

  it('the ETag changes when a hold lapses, though the row did not', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(3))
    const etag = (await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`)).headers.etag as string
    w.clock.advance(HOLD_MS)
    const lapsed = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}`, undefined, { 'if-none-match': etag })
    expect(lapsed.statusCode).toBe(200)
    expect(lapsed.json().status).toBe('EXPIRED')
  })

  it('fields=id,status returns only those; an unknown field is a 400', async () => {
    const w = await world()
    const b = await booked(w, apr(1), apr(3))
    const res = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}?fields=id,status`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toEqual({ id: b.id, status: 'HELD' })
    const price = await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}?fields=price`)
    expect(price.json()).toEqual({ price: b.price })
    expectError(await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}?fields=id,nope`), 400, 'VALIDATION_ERROR')
    expectError(await w.h.call(w.t.token, 'GET', `/v1/bookings/${b.id}?fields=`), 400, 'VALIDATION_ERROR')
  })
})
