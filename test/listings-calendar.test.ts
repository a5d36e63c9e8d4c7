import { describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'
import { day, expectValidation, listingHelpers } from './helpers/listings.ts'

/** Listings (API.md §10): the calendar of nights, their prices and availability. */
const h = await testApp()
const { createListing, createCustomer, createBooking } = listingHelpers(h)

describe('GET /v1/listings/{id}/calendar', () => {
  it('each night with its price; booked nights are unavailable until the booking is cancelled', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { nightly_rate: { amount: '80', currency: 'EUR' } })
    const customer = await createCustomer(t.token)
    const booking = await createBooking(t.token, listing.id, customer.id, day(1), day(4))

    const url = `/v1/listings/${listing.id}/calendar?from=${day(0)}&to=${day(6)}`
    const res = await h.call(t.token, 'GET', url)
    expect(res.statusCode, res.body).toBe(200)
    const price = { amount: '80.00', currency: 'EUR' }
    expect(res.json()).toEqual({
      listing_id: listing.id,
      from: day(0),
      to: day(6),
      nights: [
        { date: day(0), available: true, price },
        { date: day(1), available: false, price },
        { date: day(2), available: false, price },
        { date: day(3), available: false, price },
        { date: day(4), available: true, price },
        { date: day(5), available: true, price },
      ],
    })
    // a confirmed booking blocks too
    expect((await h.call(t.token, 'POST', `/v1/bookings/${booking.id}:confirm`)).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', url)).json().nights.map((n: { available: boolean }) => n.available)).toEqual([true, false, false, false, true, true])

    const cancel = await h.call(t.token, 'POST', `/v1/bookings/${booking.id}:cancel`, { reason: 'guest changed plans' })
    expect(cancel.statusCode, cancel.body).toBe(200)
    const after = await h.call(t.token, 'GET', url)
    expect(after.json().nights.map((n: { available: boolean }) => n.available)).toEqual([true, true, true, true, true, true])
  })

  it('an archived listing has no available night', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    const res = await h.call(t.token, 'GET', `/v1/listings/${listing.id}/calendar?from=${day(0)}&to=${day(2)}`)
    expect(res.json().nights.map((n: { available: boolean }) => n.available)).toEqual([false, false])
  })

  it('validates the range: to <= from, an impossible date, a missing parameter', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const base = `/v1/listings/${listing.id}/calendar`
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(3)}&to=${day(3)}`), ['to'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(3)}&to=${day(1)}`), ['to'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=2027-02-30&to=2027-03-05`), ['from'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=2027-02-30&to=2027-13-01`), ['from', 'to'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(0)}`), ['to'])
    expect((await h.call(t.token, 'GET', `${base}?from=${day(0)}&to=${day(1)}`)).json().nights).toHaveLength(1)
    // at most 366 nights
    expect((await h.call(t.token, 'GET', `${base}?from=${day(0)}&to=${day(366)}`)).json().nights).toHaveLength(366)
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(0)}&to=${day(367)}`), ['to'])
  })
})
