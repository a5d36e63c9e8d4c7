import { describe, expect, it } from 'vitest'
import { HOLD_MS, act, apr, booked, createCustomer, createListing, expectError, expectFieldError, world } from './helpers/bookings.ts'

/**
 * Bookings (API.md §10), reading them: the filters of GET /v1/bookings, and GET of one booking
 * with its ETag (conditional GET) and fields=.
 *
 * Time: most tests run on a ManualClock in 2031, far from the real clock. On PostgreSQL every test
 * file shares one database, and hold sweeps (BookingService.expireLapsed, the server process's
 * HoldSweeper) expire every lapsed hold of every tenant: a far-future hold is safe from sweeps made
 * with the real clock. The tests that run a sweep themselves (in bookings-lifecycle.test.ts) use a
 * clock close to the real one, so their sweeps cannot expire the (real-clock) holds of test files
 * running beside them.
 */

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
    // a calendar date is midnight UTC (API.md §14): all four were made on 2031-03-01
    expect(await ids('created_after=2031-03-01')).toEqual([held.id, confirmed.id, issued.id, cancelled.id])
    expect(await ids('created_before=2031-03-01')).toEqual([])
    expect(await ids('created_after=2031-02-28&created_before=2031-03-02')).toHaveLength(4)
    expectFieldError(await w.h.call(w.t.token, 'GET', '/v1/bookings?created_after=2031-02-30'), 'created_after')
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
