import { describe, expect, it } from 'vitest'
import { listingReplacement } from './helpers/bodies.ts'
import { HOLD_MS, LISTING, START, act, apr, book, booked, createCustomer, createListing, expectError, expectFieldError, liveBookingsInDb, world } from './helpers/bookings.ts'
import type { World } from './helpers/bookings.ts'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'

/**
 * Bookings (API.md §10), creating one: status HELD, the hold and the price, availability,
 * expected_total and the order of errors (§6), external ids, and validation.
 *
 * Time: most tests run on a ManualClock in 2031, far from the real clock. On PostgreSQL every test
 * file shares one database, and hold sweeps (BookingService.expireLapsed, the server process's
 * HoldSweeper) expire every lapsed hold of every tenant: a far-future hold is safe from sweeps made
 * with the real clock. The tests that run a sweep themselves (in bookings-lifecycle.test.ts) use a
 * clock close to the real one, so their sweeps cannot expire the (real-clock) holds of test files
 * running beside them.
 */

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
