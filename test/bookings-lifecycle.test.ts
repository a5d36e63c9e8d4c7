import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { addDays } from '../src/platform/dates.ts'
import { guestDetailsBody } from './helpers/bodies.ts'
import { HOLD_MS, START, act, apr, book, booked, eventsOf, expectError, expectFieldError, get, liveBookingsInDb, world } from './helpers/bookings.ts'
import type { World } from './helpers/bookings.ts'
import { onPostgres } from './helpers/harness.ts'

/**
 * Bookings (API.md §10), their life: the hold, legal transitions (HELD → CONFIRMED → ISSUED,
 * → CANCELLED, → EXPIRED), illegal ones, hold expiry and the sweeper, and the events each step writes.
 *
 * Time: most tests run on a ManualClock in 2031, far from the real clock. On PostgreSQL every test
 * file shares one database, and hold sweeps (BookingService.expireLapsed, the server process's
 * HoldSweeper) expire every lapsed hold of every tenant: a far-future hold is safe from sweeps made
 * with the real clock. The one test that runs a sweep itself uses a clock close to the real one, so
 * its sweep cannot expire the (real-clock) holds of test files running beside it.
 */

async function expectInvalidTransition(w: World, res: LightMyRequestResponse, id: string, status: string): Promise<void> {
  const before = await get(w, id)
  const error = expectError(res, 409, 'BOOKING_INVALID_TRANSITION')
  expect(error.details.status).toBe(status)
  expect(error.retry_advice).toBe('non_retryable')
  // nothing changed
  expect(await get(w, id)).toEqual(before)
  expect(before.status).toBe(status)
}

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
    // the shared PostgreSQL database may hold other files' lapsed holds, oldest first (a sweep takes
    // 500 at a time): sweep until this one's turn has come
    for (let swept = first; swept === 500; ) swept = await w.h.bookings.expireLapsed()
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
