import { describe, expect, it } from 'vitest'
import { newId } from '../src/platform/ids.ts'
import { listingReplacement } from './helpers/bodies.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import { ISO, day, expectValidation, listingHelpers, sleep } from './helpers/listings.ts'

/** Listings (API.md §3, §10), changing them: PUT as a full replacement (If-Match) and DELETE (archive). */
const h = await testApp()
const { createListing, createCustomer, createBooking, listIds } = listingHelpers(h)

describe('PUT /v1/listings/{id}', () => {
  it('replaces every writable field; updated_at moves, created_at, id and team_id do not', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { description: 'old' })
    await sleep(5)
    const replacement = {
      name: 'Villa Ha Noi',
      description: 'new',
      address: { country_code: 'VN', province_code: 'HN', city: 'Hanoi', line1: '2 Trang Tien' },
      max_guests: 6,
      bedrooms: 3,
      nightly_rate: { amount: '99.9', currency: 'USD' },
      timezone: 'Asia/Bangkok',
      state: 'INACTIVE',
    }
    const res = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, replacement)
    expect(res.statusCode, res.body).toBe(200)
    const updated = res.json()
    expect(updated).toEqual({
      ...listing,
      ...replacement,
      nightly_rate: { amount: '99.90', currency: 'USD' },
      updated_at: expect.stringMatching(ISO),
    })
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(listing.updated_at))
    expect(res.headers.etag).toBeDefined()
    const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(got.json()).toEqual(updated)
    expect(got.headers.etag).toBe(res.headers.etag)
  })

  it('an omitted writable field is a 400 naming it and changes nothing; explicit null clears province_code', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { description: 'old' })
    const { description: _description, state: _state, ...partial } = listingReplacement(listing, { name: 'Partial' })
    const address = { country_code: 'VN', city: 'HCMC', line1: '1 Le Loi' }
    expectValidation(await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, { ...partial, address }), ['address.province_code', 'description', 'state'])
    expect((await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)).json()).toEqual(listing)

    const cleared = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { description: '', address: { ...address, province_code: null } }))
    expect(cleared.statusCode, cleared.body).toBe(200)
    expect(cleared.json()).toEqual({ ...listing, description: '', address: { ...address, province_code: null }, updated_at: expect.stringMatching(ISO) })
  })

  it('If-Match with the current ETag succeeds; a stale one is 412 and changes nothing', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const first = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    const etag1 = first.headers.etag as string
    const ok = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Second' }), { 'if-match': etag1 })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().name).toBe('Second')
    const etag2 = ok.headers.etag as string
    expect(etag2).not.toBe(etag1)

    const stale = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Third' }), { 'if-match': etag1 })
    expect(stale.statusCode, stale.body).toBe(412)
    expect(stale.json().error.code).toBe('PRECONDITION_FAILED')
    const after = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(after.json()).toEqual(ok.json())
    expect(after.headers.etag).toBe(etag2)
  })

  it('accepts team_id (and the other read-only fields) unchanged, refuses a different team_id (read_only), and validates like POST', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    // the resource as GET returned it, one field changed
    const echoed = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, { ...listing, name: 'Echoed' })
    expect(echoed.statusCode, echoed.body).toBe(200)
    expect(echoed.json()).toEqual({ ...listing, name: 'Echoed', updated_at: expect.stringMatching(ISO) })
    const same = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { team_id: t.teamIds[0] }))
    expect(same.statusCode, same.body).toBe(200)
    const current = same.json()

    const moved = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Moved', team_id: newId('team') }))
    expectValidation(moved, ['team_id'])
    expect(moved.json().error.details.fields[0].code).toBe('read_only')
    expectValidation(await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { timezone: 'Mars/Base', nightly_rate: { amount: '10.5', currency: 'VND' } })), ['nightly_rate.amount', 'timezone'])
    expect((await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)).json()).toEqual(current)
  })
})

describe('DELETE /v1/listings/{id}', () => {
  it('archives: 204, then ARCHIVED, not bookable, not replaceable; a second DELETE is 204 too', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const customer = await createCustomer(t.token)
    const del = await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)
    expect(del.statusCode).toBe(204)
    expect(del.body).toBe('')

    const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json().state).toBe('ARCHIVED')

    const booking = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: day(0), check_out: day(2), guests: 2 })
    expect(booking.statusCode, booking.body).toBe(409)
    expect(booking.json().error.code).toBe('LISTING_NOT_BOOKABLE')

    const put = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Revived' }))
    expect(put.statusCode, put.body).toBe(409)
    expect((await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)).json()).toMatchObject({ state: 'ARCHIVED', name: 'Villa Da Lat' })

    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    expect(await listIds(t.token, '?state=ARCHIVED')).toEqual([listing.id])
  })

  it('an existing booking survives the archive', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const customer = await createCustomer(t.token)
    const booking = await createBooking(t.token, listing.id, customer.id, day(0), day(3))
    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    const got = await h.call(t.token, 'GET', `/v1/bookings/${booking.id}`)
    expect(got.json().status).toBe('HELD')
  })
})
