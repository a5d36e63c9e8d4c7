import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { purgeExpiredKeys } from '../src/modules/idempotency/repository.ts'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import { requestScoped } from '../src/platform/db.ts'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * Idempotency-Key (API.md §8): on any POST, scoped to partner + mode, kept 24 h. The same key and
 * request replay the first response byte for byte (Idempotent-Replayed: true); another request
 * with the key is a 422; requests refused before any work (auth, rate limit, validation) store
 * nothing; the stored response commits in the transaction of the request's writes.
 *
 * Time: tests that make bookings run on a ManualClock in 2031, so that the hold sweeps of server
 * processes run by other test files (on the real clock, on the shared PostgreSQL database) never
 * expire their holds.
 */

const START = '2031-03-01T10:00:00.000Z'
const apr = (d: number) => `2031-04-${String(d).padStart(2, '0')}`

const LISTING = {
  name: 'Villa',
  address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
  max_guests: 4,
  bedrooms: 2,
  nightly_rate: { amount: '100.00', currency: 'USD' },
  timezone: 'Asia/Ho_Chi_Minh',
}

/** Headers that describe the exchange, not the stored response: they may differ on a replay. */
const PER_EXCHANGE = new Set([
  'x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'retry-after', 'idempotent-replayed',
  'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-bucket', 'ratelimit', 'ratelimit-policy',
])

interface World {
  h: TestApp
  clock: ManualClock
  t: Tenant
  listingId: string
  customerId: string
}

let keys = 0
/** A key unique to this run (the PostgreSQL database outlives runs; keys are scoped per partner anyway). */
const newKey = (label = 'k') => `${label}-${process.pid}-${Date.now()}-${++keys}`

async function world(): Promise<World> {
  const clock = new ManualClock(START)
  const h = await testApp({ clock })
  const t = await makeTenant(h.db, { clock, teams: 1 })
  const listing = await h.call(t.token, 'POST', '/v1/listings', LISTING)
  expect(listing.statusCode, listing.body).toBe(201)
  const customer = await h.call(t.token, 'POST', '/v1/customers', { name: 'An' })
  expect(customer.statusCode, customer.body).toBe(201)
  return { h, clock, t, listingId: listing.json().id, customerId: customer.json().id }
}

function post(h: TestApp, token: string, url: string, body: unknown, key?: string): Promise<LightMyRequestResponse> {
  return h.call(token, 'POST', url, body, key === undefined ? {} : { 'idempotency-key': key })
}

function bookingBody(w: World, checkIn: string, checkOut: string, extra: Record<string, unknown> = {}) {
  return { listing_id: w.listingId, customer_id: w.customerId, check_in: checkIn, check_out: checkOut, guests: 2, ...extra }
}

/** The replay: same status, body byte for byte, same headers (except per-exchange ones), and the marker. */
function expectReplay(replay: LightMyRequestResponse, first: LightMyRequestResponse): void {
  expect(first.headers['idempotent-replayed']).toBeUndefined()
  expect(replay.statusCode, replay.body).toBe(first.statusCode)
  expect(replay.body).toBe(first.body)
  expect(replay.headers['idempotent-replayed']).toBe('true')
  for (const [name, value] of Object.entries(first.headers)) {
    if (PER_EXCHANGE.has(name)) continue
    expect(replay.headers[name], name).toEqual(value)
  }
  // a replay is a new exchange: its own request id (the body keeps the first one's)
  expect(replay.headers['x-request-id']).not.toBe(first.headers['x-request-id'])
}

function expectFresh(res: LightMyRequestResponse, status = 201): void {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['idempotent-replayed']).toBeUndefined()
}

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status)
  const error = res.json().error
  expect(error.code, res.body).toBe(code)
  return error
}

async function storedKey(h: TestApp, partnerId: string, key: string): Promise<{ response_status: number; response_body: string; mode: string } | undefined> {
  const { rows } = await h.db.query<{ response_status: number; response_body: string; mode: string }>(
    'SELECT response_status, response_body, mode FROM idempotency_keys WHERE partner_id = $1 AND key = $2',
    [partnerId, key],
  )
  return rows[0]
}

async function bookingCount(w: World, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const { rows } = await w.h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE listing_id = $1 AND ${where}`, [w.listingId, ...params])
  return rows[0]!.n
}

describe('the same key and the same request', () => {
  it('replays the 201: same status, body byte for byte, same Location, Idempotent-Replayed: true; one booking', async () => {
    const w = await world()
    const key = newKey()
    const body = bookingBody(w, apr(1), apr(3))
    const first = await post(w.h, w.t.token, '/v1/bookings', body, key)
    expectFresh(first)
    expect(first.headers.location).toBe(`http://api.test/v1/bookings/${first.json().id}`)
    const second = await post(w.h, w.t.token, '/v1/bookings', body, key)
    expectReplay(second, first)
    expect(second.headers.location).toBe(first.headers.location)
    const third = await post(w.h, w.t.token, '/v1/bookings', body, key)
    expectReplay(third, first)

    const list = await w.h.call(w.t.token, 'GET', '/v1/bookings')
    expect(list.statusCode).toBe(200)
    expect(list.json().data.map((b: { id: string }) => b.id)).toEqual([first.json().id])
    expect(await bookingCount(w)).toBe(1)
  })

  it('the same body with its keys in another order is the same request (replay)', async () => {
    const w = await world()
    const key = newKey()
    const guest = { lead_guest_name: 'An', additional_guest_names: ['Binh', 'Chi'], special_requests: 'late check-in' }
    const first = await post(w.h, w.t.token, '/v1/bookings', { listing_id: w.listingId, customer_id: w.customerId, check_in: apr(5), check_out: apr(6), guests: 2, guest_details: guest }, key)
    expectFresh(first)
    // every level in another order, array order kept
    const reordered = await post(
      w.h,
      w.t.token,
      '/v1/bookings',
      `{"guest_details":{"special_requests":"late check-in","additional_guest_names":["Binh","Chi"],"lead_guest_name":"An"},"guests":2,"check_out":"${apr(6)}","check_in":"${apr(5)}","customer_id":"${w.customerId}","listing_id":"${w.listingId}"}`,
      key,
    )
    expectReplay(reordered, first)
    // whereas another array order is another request
    const swapped = { listing_id: w.listingId, customer_id: w.customerId, check_in: apr(5), check_out: apr(6), guests: 2, guest_details: { ...guest, additional_guest_names: ['Chi', 'Binh'] } }
    expectError(await post(w.h, w.t.token, '/v1/bookings', swapped, key), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect(await bookingCount(w)).toBe(1)
  })

  it('errors are replayed too: a 404 (unknown listing) and a 409, byte for byte, even once the 409 would no longer happen', async () => {
    const w = await world()
    const notFoundKey = newKey('404')
    const missing = { ...bookingBody(w, apr(1), apr(2)), listing_id: 'lst_01jzzzzzzzzzzzzzzzzzzzzzzz' }
    const first404 = await post(w.h, w.t.token, '/v1/bookings', missing, notFoundKey)
    expectError(first404, 404, 'NOT_FOUND')
    expectReplay(await post(w.h, w.t.token, '/v1/bookings', missing, notFoundKey), first404)

    const blocker = await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(10), apr(12)))
    expectFresh(blocker)
    const conflictKey = newKey('409')
    const overlapping = bookingBody(w, apr(11), apr(13))
    const first409 = await post(w.h, w.t.token, '/v1/bookings', overlapping, conflictKey)
    expectError(first409, 409, 'LISTING_UNAVAILABLE')
    expectReplay(await post(w.h, w.t.token, '/v1/bookings', overlapping, conflictKey), first409)

    // the nights are free again: a retry with the key still gets the stored 409 (not a new attempt) …
    expect((await w.h.call(w.t.token, 'POST', `/v1/bookings/${blocker.json().id}:cancel`, { reason: 'guest asked' })).statusCode).toBe(200)
    expectReplay(await post(w.h, w.t.token, '/v1/bookings', overlapping, conflictKey), first409)
    expect(await bookingCount(w, 'check_in = $2', [apr(11)])).toBe(0)
    // … while the same request with a new key books them
    expectFresh(await post(w.h, w.t.token, '/v1/bookings', overlapping, newKey()))
  })
})

describe('the same key and another request', () => {
  it('a changed body is a 422 IDEMPOTENCY_KEY_REUSED, and the first response stays stored', async () => {
    const w = await world()
    const key = newKey()
    const first = await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(1), apr(2)), key)
    expectFresh(first)
    const changed = await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(1), apr(2), { guests: 3 }), key)
    const error = expectError(changed, 422, 'IDEMPOTENCY_KEY_REUSED')
    expect(error.details).toEqual({ idempotency_key: key })
    expect(changed.headers['idempotent-replayed']).toBeUndefined()
    expect(await bookingCount(w)).toBe(1)
    // the 422 replaced nothing
    expectReplay(await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(1), apr(2)), key), first)
  })

  it('the key on another path is a 422, whatever the body', async () => {
    const w = await world()
    const key = newKey()
    expectFresh(await post(w.h, w.t.token, '/v1/customers', { name: 'Binh' }, key))
    expectError(await post(w.h, w.t.token, '/v1/listings', { ...LISTING, name: 'Binh' }, key), 422, 'IDEMPOTENCY_KEY_REUSED')
    expectError(await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(1), apr(2)), key), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect(await bookingCount(w)).toBe(0)
  })
})

describe('the key itself', () => {
  it('1–255 printable ASCII characters: 256 characters, an empty key and a non-ASCII key are a 400 on the header', async () => {
    const w = await world()
    const body = { name: 'Chi' }
    for (const key of ['k'.repeat(256), '', 'clé-é', 'tab\there']) {
      const res = await post(w.h, w.t.token, '/v1/customers', body, key)
      const error = expectError(res, 400, 'VALIDATION_ERROR')
      expect(error.details.fields, JSON.stringify(key)).toContainEqual(expect.objectContaining({ field: 'idempotency-key', location: 'header' }))
    }
    // 255 characters, spaces and punctuation included, are fine
    const longest = ('a b~!' + newKey()).padEnd(255, 'x')
    expect(longest).toHaveLength(255)
    const first = await post(w.h, w.t.token, '/v1/customers', body, longest)
    expectFresh(first)
    expectReplay(await post(w.h, w.t.token, '/v1/customers', body, longest), first)
    const list = await w.h.call(w.t.token, 'GET', '/v1/customers')
    expect(list.json().data.filter((c: { name: string }) => c.name === 'Chi')).toHaveLength(1)
  })

  it('is ignored on a GET: no error, no replay', async () => {
    const w = await world()
    const key = newKey()
    for (const k of [key, key, 'k'.repeat(300)]) {
      const res = await w.h.call(w.t.token, 'GET', '/v1/me', undefined, { 'idempotency-key': k })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers['idempotent-replayed']).toBeUndefined()
    }
    expect(await storedKey(w.h, w.t.partnerId, key)).toBeUndefined()
  })
})

describe('requests refused before any work store nothing', () => {
  it('a 401 (bad token): the key then works for a real request', async () => {
    const w = await world()
    const key = newKey()
    const body = bookingBody(w, apr(1), apr(2))
    expectError(await post(w.h, 'tvb_test_not-a-real-token', '/v1/bookings', body, key), 401, 'UNAUTHENTICATED')
    expectFresh(await post(w.h, w.t.token, '/v1/bookings', body, key))
  })

  it('a 400 schema validation failure: the key then works with a valid body', async () => {
    const w = await world()
    const key = newKey()
    expectError(await post(w.h, w.t.token, '/v1/bookings', { ...bookingBody(w, apr(1), apr(2)), guests: 0 }, key), 400, 'VALIDATION_ERROR')
    expectError(await post(w.h, w.t.token, '/v1/bookings', { listing_id: w.listingId }, key), 400, 'VALIDATION_ERROR')
    expect(await storedKey(w.h, w.t.partnerId, key)).toBeUndefined()
    expectFresh(await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(1), apr(2)), key))
  })

  // BUG: src/http/idempotency.ts stores every non-5xx response of a request that reached the
  // preHandler. A VALIDATION_ERROR raised by the route's own checks (here checkStay in
  // BookingService.create: check_out not after check_in) is a validation failure that did no work,
  // yet it is stored and replayed, and the corrected body with the same key gets 422
  // IDEMPOTENCY_KEY_REUSED — contrary to API.md §8 ("Requests rejected before any work
  // (validation, …) are not stored"). Fix: in the onSend hook, roll back without storing when the
  // response is a 400 (VALIDATION_ERROR and the other 400 input errors).
  it('a 400 from the route\'s own field checks (check_out before check_in): the key then works with a valid body', async () => {
    const w = await world()
    const key = newKey()
    expectError(await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(3), apr(2)), key), 400, 'VALIDATION_ERROR')
    expect(await storedKey(w.h, w.t.partnerId, key)).toBeUndefined()
    expectFresh(await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(2), apr(3)), key))
  })

  it('a 429: nothing stored, the key then works (on a bucket that is not exhausted)', async () => {
    const w = await world()
    await setPartnerLimit(w.h.db, w.t.partnerId, 'write', 1)
    // a token verified after the override carries it
    const fresh = await w.t.addToken()
    expectFresh(await post(w.h, fresh.token, '/v1/customers', { name: 'Dung' }))
    const key = newKey()
    const refused = await post(w.h, fresh.token, '/v1/customers', { name: 'Dung' }, key)
    expectError(refused, 429, 'RATE_LIMIT_EXCEEDED')
    expect(refused.headers['x-ratelimit-bucket']).toBe('write')
    expect(await storedKey(w.h, w.t.partnerId, key)).toBeUndefined()
    // had the 429 been stored under the key, another path would be a 422
    const booked = await post(w.h, fresh.token, '/v1/bookings', bookingBody(w, apr(1), apr(2)), key)
    expectFresh(booked)
    expect((await storedKey(w.h, w.t.partnerId, key))?.response_status).toBe(201)
  })
})

describe('24 hours', () => {
  it('replays within 24 h; after 24 h the key starts a fresh request, and the purge deletes keys past their 24 h', async () => {
    // far from the real clock: hold sweeps of other test files (real clock) never purge these keys
    const clock = new ManualClock('2033-05-01T10:00:00.000Z')
    const h = await testApp({ clock })
    const t = await makeTenant(h.db, { clock, teams: 1 })
    const reused = newKey('reused')
    const left = newKey('left')
    const first = await post(h, t.token, '/v1/customers', { name: 'Em' }, reused)
    expectFresh(first)
    expectFresh(await post(h, t.token, '/v1/customers', { name: 'Gia' }, left))

    clock.advance(24 * 3_600_000 - 1000)
    expectReplay(await post(h, t.token, '/v1/customers', { name: 'Em' }, reused), first)
    expectError(await post(h, t.token, '/v1/customers', { name: 'Other' }, reused), 422, 'IDEMPOTENCY_KEY_REUSED')

    clock.advance(2000) // 24 h + 1 s
    const again = await post(h, t.token, '/v1/customers', { name: 'Other' }, reused)
    expectFresh(again)
    expect(again.json().id).not.toBe(first.json().id)
    expect(again.json().name).toBe('Other')
    // and it is the key's new first response
    expectReplay(await post(h, t.token, '/v1/customers', { name: 'Other' }, reused), again)

    // The purge deletes every key past its 24 h in the whole table: on the PostgreSQL database that
    // test files share, and with a clock in 2033, that would be every other file's keys. So it runs
    // in a transaction that is rolled back after looking at this partner's rows.
    const db = requestScoped(h.db)
    class Rollback extends Error {}
    let seen: { key: string }[] = []
    let purged = 0
    await db
      .transaction(async (tx) => {
        purged = await purgeExpiredKeys(tx, clock.now())
        seen = (await tx.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE partner_id = $1 ORDER BY key', [t.partnerId])).rows
        throw new Rollback()
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error
      })
    expect(purged).toBeGreaterThanOrEqual(1)
    expect(seen.map((r) => r.key)).toEqual([reused])
    // rolled back: both rows are still there
    expect(await storedKey(h, t.partnerId, left)).toBeDefined()
    expect(await storedKey(h, t.partnerId, reused)).toBeDefined()
  })
})

describe('scope', () => {
  it('the same key from another partner is an unrelated request', async () => {
    const w = await world()
    const other = await makeTenant(w.h.db, { clock: w.clock, teams: 1 })
    const key = newKey()
    const mine = await post(w.h, w.t.token, '/v1/customers', { name: 'Hoa' }, key)
    const theirs = await post(w.h, other.token, '/v1/customers', { name: 'Hoa' }, key)
    expectFresh(mine)
    expectFresh(theirs)
    expect(theirs.json().id).not.toBe(mine.json().id)
    expect((await w.h.call(other.token, 'GET', `/v1/customers/${theirs.json().id}`)).statusCode).toBe(200)
    expect((await w.h.call(other.token, 'GET', `/v1/customers/${mine.json().id}`)).statusCode).toBe(404)
  })

  it('the same key in live and test mode of one partner is unrelated', async () => {
    const w = await world()
    const live = await w.t.addToken({ mode: 'live' })
    const key = newKey()
    const inTest = await post(w.h, w.t.token, '/v1/customers', { name: 'Khoa' }, key)
    const inLive = await post(w.h, live.token, '/v1/customers', { name: 'Khoa' }, key)
    expectFresh(inTest)
    expectFresh(inLive)
    expect(inLive.json().id).not.toBe(inTest.json().id)
    const { rows } = await w.h.db.query<{ mode: string }>('SELECT mode FROM idempotency_keys WHERE partner_id = $1 AND key = $2 ORDER BY mode', [w.t.partnerId, key])
    expect(rows.map((r) => r.mode)).toEqual(['live', 'test'])
    // each mode replays its own
    expectReplay(await post(w.h, live.token, '/v1/customers', { name: 'Khoa' }, key), inLive)
    expectReplay(await post(w.h, w.t.token, '/v1/customers', { name: 'Khoa' }, key), inTest)
  })
})

describe('one transaction with the writes', () => {
  it('a successful POST /v1/bookings writes the booking, its booking.created event and the key together', async () => {
    const w = await world()
    const key = newKey()
    const res = await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(20), apr(22)), key)
    expectFresh(res)
    const id = res.json().id
    const { rows: bookings } = await w.h.db.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [id])
    expect(bookings).toEqual([{ status: 'HELD' }])
    const { rows: events } = await w.h.db.query<{ event_type: string }>('SELECT event_type FROM events WHERE resource_id = $1', [id])
    expect(events).toEqual([{ event_type: 'booking.created' }])
    const stored = await storedKey(w.h, w.t.partnerId, key)
    expect(stored?.response_status).toBe(201)
    expect(stored?.response_body).toBe(res.body)
  })

  it('a failed business write leaves no row: the 409 is stored, and writes made before the failure are undone', async () => {
    const w = await world()
    // a hold that lapses: the next booking over its nights first expires it (a write), then fails
    const lapsing = await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(10), apr(12)))
    expectFresh(lapsing)
    w.clock.advance(16 * 60_000)
    const key = newKey()
    const body = bookingBody(w, apr(11), apr(13), { expected_total: { amount: '1.00', currency: 'USD' } })
    const failed = await post(w.h, w.t.token, '/v1/bookings', body, key)
    expectError(failed, 409, 'PRICE_CHANGED')

    // no new booking, the lapsed hold untouched in the database (its expiry was rolled back), no event for it
    expect(await bookingCount(w, 'check_in = $2', [apr(11)])).toBe(0)
    const { rows } = await w.h.db.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [lapsing.json().id])
    expect(rows).toEqual([{ status: 'HELD' }])
    const { rows: expiredEvents } = await w.h.db.query('SELECT 1 FROM events WHERE resource_id = $1 AND event_type = $2', [lapsing.json().id, 'booking.expired'])
    expect(expiredEvents).toEqual([])
    // the 409 itself is stored and replayed
    const stored = await storedKey(w.h, w.t.partnerId, key)
    expect(stored?.response_status).toBe(409)
    expect(stored?.response_body).toBe(failed.body)
    expectReplay(await post(w.h, w.t.token, '/v1/bookings', body, key), failed)
  })

  it('a 409 LISTING_UNAVAILABLE: no booking row, the 409 stored and replayed', async () => {
    const w = await world()
    expectFresh(await post(w.h, w.t.token, '/v1/bookings', bookingBody(w, apr(1), apr(4))))
    const key = newKey()
    const body = bookingBody(w, apr(2), apr(3))
    const failed = await post(w.h, w.t.token, '/v1/bookings', body, key)
    expectError(failed, 409, 'LISTING_UNAVAILABLE')
    expect(await bookingCount(w)).toBe(1)
    expect((await storedKey(w.h, w.t.partnerId, key))?.response_status).toBe(409)
    expectReplay(await post(w.h, w.t.token, '/v1/bookings', body, key), failed)
    expect(await bookingCount(w)).toBe(1)
  })
})
