import { describe, expect, it } from 'vitest'
import { guestDetailsBody, listingReplacement } from './helpers/bodies.ts'
import { LISTING, act, apr, book, booked, eventsOf, expectError, expectFieldError, get, liveBookingsInDb, world } from './helpers/bookings.ts'

/**
 * Bookings (API.md §10), changing one: the sub-resource PUTs of the guest details and of the stay
 * (re-pricing, availability, If-Match).
 *
 * Time: most tests run on a ManualClock in 2031, far from the real clock. On PostgreSQL every test
 * file shares one database, and hold sweeps (BookingService.expireLapsed, the server process's
 * HoldSweeper) expire every lapsed hold of every tenant: a far-future hold is safe from sweeps made
 * with the real clock. The tests that run a sweep themselves (in bookings-lifecycle.test.ts) use a
 * clock close to the real one, so their sweeps cannot expire the (real-clock) holds of test files
 * running beside them.
 */

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
