import type { InjectOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { newId } from '../src/platform/ids.ts'
import { guestDetailsBody } from './helpers/bodies.ts'
import { LISTING, START, act, apr, book, booked, createCustomer, createListing, eventsOf, expectError, get, liveBookingsInDb, world } from './helpers/bookings.ts'
import type { World } from './helpers/bookings.ts'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'
import type { TestApp } from './helpers/harness.ts'

/**
 * Bookings (API.md §10), who sees and does what: tenancy (§5) across partners, teams and modes,
 * and permissions.
 *
 * Time: most tests run on a ManualClock in 2031, far from the real clock. On PostgreSQL every test
 * file shares one database, and hold sweeps (BookingService.expireLapsed, the server process's
 * HoldSweeper) expire every lapsed hold of every tenant: a far-future hold is safe from sweeps made
 * with the real clock. The tests that run a sweep themselves (in bookings-lifecycle.test.ts) use a
 * clock close to the real one, so their sweeps cannot expire the (real-clock) holds of test files
 * running beside them.
 */

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
