import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { buildApp, createLogger } from '../src/app.ts'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import type { Db } from '../src/platform/db.ts'
import { ApiError } from '../src/platform/errors.ts'
import { HOLD_MS, LISTING, START, apr } from './helpers/bookings.ts'
import { ManualClock, makeTenant, ownDatabaseOnPostgres, testApp, testConfig } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * The External API (API.md §13, seed 000_…): every request example of the partner guide with real
 * ids, the page/limit envelope (total, total_pages, next_cursor walking), the guide's flat errors
 * and codes, tenancy (unknown and foreign ids byte for byte alike), rate-limit headers,
 * idempotency, events, and the counts behind `total` (migration 0009) kept exact through every
 * change of a booking.
 *
 * Its own database on PostgreSQL: the count tests run the hold sweeper, which expires every lapsed
 * hold of every tenant (on a shared database, those of the files running beside this one).
 */
await ownDatabaseOnPostgres('external_api')

const X = '/api/v1/external'
const clock = new ManualClock(START)
const h = await testApp({ clock, config: { holdMinutes: 15 } })

/* eslint-disable @typescript-eslint/no-explicit-any */
async function post(token: string, url: string, body: unknown): Promise<any> {
  const res = await h.call(token, 'POST', url, body)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

function ok(res: LightMyRequestResponse): any {
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** A flat error: exactly code, message, details; the request id in the header only. */
function flat(res: LightMyRequestResponse, status: number, code: string): any {
  expect(res.statusCode, res.body).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
  const body = res.json()
  expect(Object.keys(body).sort(), res.body).toEqual(['code', 'details', 'message'])
  expect(body.code, res.body).toBe(code)
  expect(typeof body.message).toBe('string')
  expect(typeof body.details).toBe('object')
  expect(res.headers['x-request-id']).toMatch(/./)
  return body
}

const ids = (page: { items: { id: string }[] }) => page.items.map((i) => i.id)

interface Fixture {
  t: Tenant
  other: Tenant
  listings: { sg: string; hn: string; inactive: string; th: string }
  customers: { first: string; second: string }
  otherListing: string
  otherCustomer: string
}

let made: Promise<Fixture> | undefined
/** Tenant t: two teams; listings in Saigon and Bangkok (team 1), Hanoi and an inactive one (team 2). Another tenant beside it. */
function fixture(): Promise<Fixture> {
  made ??= (async () => {
    const t = await makeTenant(h.db, { clock, teams: 2 })
    const other = await makeTenant(h.db, { clock, teams: 1 })
    const [t1, t2] = t.teamIds as [string, string]
    const listing = async (team: string, extra: Record<string, unknown>) => {
      clock.advance(1000)
      return (await post(t.token, '/v1/listings', { ...LISTING, team_id: team, ...extra })).id as string
    }
    const sg = await listing(t1, { name: 'Villa Đà Lạt' })
    const hn = await listing(t2, { name: 'Hanoi loft', address: { country_code: 'VN', province_code: 'HN', city: 'Hanoi', line1: '2 Hang Bac' } })
    const inactive = await listing(t2, { name: 'Closed', state: 'INACTIVE' })
    const th = await listing(t1, { name: 'Bangkok flat', address: { country_code: 'TH', province_code: '10', city: 'Bangkok', line1: '3 Sukhumvit' }, timezone: 'Asia/Bangkok' })
    const first = (await post(t.token, '/v1/customers', { name: 'An', team_id: t1 })).id
    const second = (await post(t.token, '/v1/customers', { name: 'Binh', team_id: t2 })).id
    const otherListing = (await post(other.token, '/v1/listings', LISTING)).id
    const otherCustomer = (await post(other.token, '/v1/customers', { name: 'Chi' })).id
    return { t, other, listings: { sg, hn, inactive, th }, customers: { first, second }, otherListing, otherCustomer }
  })()
  return made
}

describe('the guide\'s listing examples', () => {
  it('GET /listings: every team of the token, v1\'s representation, the envelope', async () => {
    const f = await fixture()
    const page = ok(await h.call(f.t.token, 'GET', `${X}/listings`))
    expect(Object.keys(page).sort()).toEqual(['items', 'limit', 'next_cursor', 'page', 'total', 'total_pages'])
    expect(page).toMatchObject({ total: 4, page: 1, limit: 20, total_pages: 1, next_cursor: null })
    // newest first by default
    expect(ids(page)).toEqual([f.listings.th, f.listings.inactive, f.listings.hn, f.listings.sg])
    const v1 = ok(await h.call(f.t.token, 'GET', `/v1/listings/${f.listings.sg}`))
    expect(page.items[3]).toEqual(v1)
    // headers of the guide's rate-limit section
    for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) expect(Number((await h.call(f.t.token, 'GET', `${X}/listings`)).headers[name])).toBeGreaterThan(0)
  })

  it('?page=1&limit=20 and smaller pages: total, total_pages and pages agree with each other and with next_cursor walking', async () => {
    const f = await fixture()
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?page=1&limit=20`))).toMatchObject({ total: 4, page: 1, limit: 20, total_pages: 1 })
    const byNumber: string[][] = []
    for (let p = 1; p <= 3; p++) {
      const page = ok(await h.call(f.t.token, 'GET', `${X}/listings?page=${p}&limit=3`))
      expect(page).toMatchObject({ total: 4, page: p, limit: 3, total_pages: 2 })
      expect(page.next_cursor === null).toBe(p >= 2)
      byNumber.push(ids(page))
    }
    expect(byNumber.map((p) => p.length)).toEqual([3, 1, 0])
    // by cursor: the same items in the same order; page says which page the cursor leads to
    const walked: string[] = []
    let url = `${X}/listings?limit=3`
    for (let p = 1; ; p++) {
      const page = ok(await h.call(f.t.token, 'GET', url))
      expect(page).toMatchObject({ total: 4, page: p, total_pages: 2 })
      walked.push(...ids(page))
      if (!page.next_cursor) break
      // with a cursor, page is not used
      url = `${X}/listings?limit=3&page=7&cursor=${encodeURIComponent(page.next_cursor)}`
    }
    expect(walked).toEqual(byNumber.flat())
    // limit=1 walks one by one, each page numbered
    const singles = []
    for (let p = 1; p <= 4; p++) singles.push(ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?limit=1&page=${p}`)))[0])
    expect(singles).toEqual(walked)
  })

  it('team_ids=[…]: only the token\'s teams are used, another tenant\'s team is dropped silently; malformed JSON is EXTERNAL_INVALID_REQUEST', async () => {
    const f = await fixture()
    const [t1, t2] = f.t.teamIds
    const q = (value: string) => h.call(f.t.token, 'GET', `${X}/listings?team_ids=${encodeURIComponent(value)}`)
    expect(ids(ok(await q(JSON.stringify([t1]))))).toEqual([f.listings.th, f.listings.sg])
    expect(ok(await q(JSON.stringify([t1, t2])))).toMatchObject({ total: 4 })
    // the other tenant's team: dropped; t2's listings only
    expect(ok(await q(JSON.stringify([t2, f.other.teamIds[0]])))).toMatchObject({ total: 2, items: [{ id: f.listings.inactive }, { id: f.listings.hn }] })
    // nothing left: an empty list, total 0
    expect(ok(await q(JSON.stringify([f.other.teamIds[0]])))).toEqual({ items: [], total: 0, page: 1, limit: 20, total_pages: 0, next_cursor: null })
    // the guide's literal placeholder parses, and names no team of the token
    expect(ok(await q('[1,2,3]'))).toMatchObject({ items: [], total: 0 })
    expect(ok(await q('[]'))).toMatchObject({ items: [], total: 0 })
    for (const bad of ['[1,2', 'team_x', '{"a":1}', '[[1]]', '[null]', '']) flat(await q(bad), 400, 'EXTERNAL_INVALID_REQUEST')
  })

  it('?state=ACTIVE (and a comma list), an unknown state is EXTERNAL_INVALID_STATE', async () => {
    const f = await fixture()
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?state=ACTIVE`))).toMatchObject({ total: 3 })
    expect(ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?state=INACTIVE`)))).toEqual([f.listings.inactive])
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?state=INACTIVE,ARCHIVED`))).toMatchObject({ total: 1 })
    for (const bad of ['active', 'OPEN', 'ACTIVE,NOPE', '']) flat(await h.call(f.t.token, 'GET', `${X}/listings?state=${bad}`), 400, 'EXTERNAL_INVALID_STATE')
  })

  it('?country_code=VN&province_code=SG', async () => {
    const f = await fixture()
    expect(ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?country_code=VN&province_code=SG`)))).toEqual([f.listings.inactive, f.listings.sg])
    expect(ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?country_code=VN&province_code=SG&state=ACTIVE`)))).toEqual([f.listings.sg])
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?country_code=VN`))).toMatchObject({ total: 3 })
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?country_code=TH&state=ACTIVE`))).toMatchObject({ total: 1, items: [{ id: f.listings.th }] })
    const bad = flat(await h.call(f.t.token, 'GET', `${X}/listings?country_code=vn`), 400, 'VALIDATION_ERROR')
    expect(bad.details.fields[0]).toMatchObject({ field: 'country_code', location: 'query' })
  })

  it('?sort_by=created_at&sort_order=desc (and asc, updated_at); an unknown sort_by is VALIDATION_ERROR', async () => {
    const f = await fixture()
    const desc = ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?sort_by=created_at&sort_order=desc`)))
    const asc = ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?sort_by=created_at&sort_order=asc`)))
    expect(desc).toEqual([f.listings.th, f.listings.inactive, f.listings.hn, f.listings.sg])
    expect(asc).toEqual([...desc].reverse())
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?sort_by=updated_at&sort_order=asc`)).total).toBe(4)
    const bad = flat(await h.call(f.t.token, 'GET', `${X}/listings?sort_by=name`), 400, 'VALIDATION_ERROR')
    expect(bad.details.fields.map((x: { field: string }) => x.field)).toEqual(['sort_by'])
    flat(await h.call(f.t.token, 'GET', `${X}/listings?sort_order=up`), 400, 'VALIDATION_ERROR')
  })

  it('created_after/created_before take a date-time or a calendar date; anything else is EXTERNAL_INVALID_DATE_FORMAT', async () => {
    const f = await fixture()
    const hn = ok(await h.call(f.t.token, 'GET', `/v1/listings/${f.listings.hn}`))
    expect(ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?created_after=${encodeURIComponent(hn.created_at)}`)))).toEqual([f.listings.th, f.listings.inactive])
    expect(ids(ok(await h.call(f.t.token, 'GET', `${X}/listings?created_before=${encodeURIComponent(hn.created_at)}`)))).toEqual([f.listings.sg])
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?created_after=2031-02-28&created_before=2031-03-02`)).total).toBe(4)
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?created_after=2031-03-01T10:00:00%2B07:00`)).total).toBe(4)
    for (const bad of ['2031-02-30', 'yesterday', '2031-03-01T25:00:00Z', '01/03/2031', '2031-03-01T10:00:00']) {
      const body = flat(await h.call(f.t.token, 'GET', `${X}/listings?created_after=${encodeURIComponent(bad)}`), 400, 'EXTERNAL_INVALID_DATE_FORMAT')
      expect(body.details).toMatchObject({ field: 'created_after', value: bad })
    }
  })

  it('limit 1–100 and page ≥ 1, else VALIDATION_ERROR; a tampered cursor or one of another list is INVALID_CURSOR', async () => {
    const f = await fixture()
    for (const q of ['limit=0', 'limit=101', 'page=0', 'page=x', 'unknown=1']) flat(await h.call(f.t.token, 'GET', `${X}/listings?${q}`), 400, 'VALIDATION_ERROR')
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings?limit=100`)).limit).toBe(100)
    const cursor = ok(await h.call(f.t.token, 'GET', `${X}/listings?limit=1`)).next_cursor as string
    flat(await h.call(f.t.token, 'GET', `${X}/listings?limit=1&cursor=${cursor.slice(0, -2)}xx`), 400, 'INVALID_CURSOR')
    // bound to its filters and sort
    flat(await h.call(f.t.token, 'GET', `${X}/listings?limit=1&state=ACTIVE&cursor=${cursor}`), 400, 'INVALID_CURSOR')
    flat(await h.call(f.t.token, 'GET', `${X}/listings?limit=1&sort_order=asc&cursor=${cursor}`), 400, 'INVALID_CURSOR')
    // a /v1 cursor is not one of these, nor the other way round
    const v1 = ok(await h.call(f.t.token, 'GET', '/v1/listings?limit=1')).pagination.next_cursor
    flat(await h.call(f.t.token, 'GET', `${X}/listings?limit=1&cursor=${v1}`), 400, 'INVALID_CURSOR')
    expect((await h.call(f.t.token, 'GET', `/v1/listings?limit=1&cursor=${cursor}`)).statusCode).toBe(400)
  })

  it('GET /listings/{id}: v1\'s representation; unknown and foreign ids get byte-identical 404s', async () => {
    const f = await fixture()
    expect(ok(await h.call(f.t.token, 'GET', `${X}/listings/${f.listings.hn}`))).toEqual(ok(await h.call(f.t.token, 'GET', `/v1/listings/${f.listings.hn}`)))
    const headers = { 'x-request-id': 'external-tenancy-1' }
    const foreign = await h.call(f.t.token, 'GET', `${X}/listings/${f.otherListing}`, undefined, headers)
    const unknown = await h.call(f.t.token, 'GET', `${X}/listings/lst_01jq3v5x7e8f9g0h1j2k3m4n5p`, undefined, headers)
    flat(foreign, 404, 'EXTERNAL_LISTING_NOT_ACCESSIBLE')
    expect(foreign.body).toBe(unknown.body)
    expect(foreign.body).toBe('{"code":"EXTERNAL_LISTING_NOT_ACCESSIBLE","message":"The listing does not exist or does not belong to the token\'s teams.","details":{}}')
    // the other mode's token sees nothing of test mode either
    const live = await f.t.addToken({ mode: 'live' })
    expect((await h.call(live.token, 'GET', `${X}/listings/${f.listings.hn}`, undefined, headers)).body).toBe(unknown.body)
    expect(ok(await h.call(live.token, 'GET', `${X}/listings`))).toMatchObject({ total: 0, items: [] })
  })
})

describe('the guide\'s booking examples', () => {
  it('POST /bookings (v1\'s body) → 201 with Location; booking.created is emitted; GET /bookings/{id}; the lists', async () => {
    const f = await fixture()
    const [t1, t2] = f.t.teamIds
    const created = await post(f.t.token, `${X}/bookings`, { listing_id: f.listings.sg, customer_id: f.customers.first, check_in: apr(1), check_out: apr(3), guests: 2 })
    expect(created).toMatchObject({ status: 'HELD', team_id: t1, listing_id: f.listings.sg, customer_id: f.customers.first, price: { nights: 2, total: { amount: '200.00', currency: 'USD' } } })
    const res = await h.call(f.t.token, 'POST', `${X}/bookings`, { listing_id: f.listings.hn, customer_id: f.customers.second, check_in: apr(1), check_out: apr(2), guests: 1, external_system: 'ota', external_booking_id: 'ota-1' })
    expect(res.statusCode, res.body).toBe(201)
    const second = res.json()
    expect(res.headers.location).toBe(`http://api.test${X}/bookings/${second.id}`)
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings/${second.id}`))).toEqual(ok(await h.call(f.t.token, 'GET', `/v1/bookings/${second.id}`)))
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings/${second.id}`))).toEqual(second)

    const events = ok(await h.call(f.t.token, 'GET', '/v1/events?limit=100&event_type=booking.created')).data as { event_type: string; data: { id: string } }[]
    expect(events.find((e) => e.data.id === second.id)).toMatchObject({ event_type: 'booking.created', data: second })

    expect(ok(await h.call(f.t.token, 'POST', `/v1/bookings/${created.id}:confirm`)).status).toBe('CONFIRMED')
    // GET /bookings, ?state=CONFIRMED, ?team_ids=[…]&user_id=…
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings`))).toMatchObject({ total: 2, items: [{ id: second.id }, { id: created.id }] })
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?state=CONFIRMED`))).toMatchObject({ total: 1, items: [{ id: created.id, status: 'CONFIRMED' }] })
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?state=HELD,CONFIRMED`)).total).toBe(2)
    const teamsAndUser = (teams: unknown[], user: string) => h.call(f.t.token, 'GET', `${X}/bookings?team_ids=${encodeURIComponent(JSON.stringify(teams))}&user_id=${user}`)
    expect(ok(await teamsAndUser([t1, t2], f.customers.second))).toMatchObject({ total: 1, items: [{ id: second.id }] })
    expect(ok(await teamsAndUser([t1], f.customers.second))).toMatchObject({ total: 0, items: [] })
    expect(ok(await teamsAndUser([t2, f.other.teamIds[0]], f.customers.second))).toMatchObject({ total: 1 })
    expect(ok(await teamsAndUser([1, 2], f.customers.second))).toMatchObject({ total: 0 })
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?user_id=${f.otherCustomer}`))).toMatchObject({ total: 0 })
    // the listing's place, check-in dates, created dates, sorting
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?country_code=VN&province_code=HN`))).toMatchObject({ total: 1, items: [{ id: second.id }] })
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?country_code=TH`)).total).toBe(0)
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?check_in_from=${apr(1)}&check_in_to=${apr(1)}`)).total).toBe(2)
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?check_in_from=${apr(2)}`)).total).toBe(0)
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?created_after=${encodeURIComponent(created.created_at)}`)).total).toBe(0)
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?created_before=2031-03-02`)).total).toBe(2)
    expect(ids(ok(await h.call(f.t.token, 'GET', `${X}/bookings?sort_by=check_in&sort_order=asc`))).sort()).toEqual([created.id, second.id].sort())
    flat(await h.call(f.t.token, 'GET', `${X}/bookings?state=ACTIVE`), 400, 'EXTERNAL_INVALID_STATE')
    flat(await h.call(f.t.token, 'GET', `${X}/bookings?check_in_from=april`), 400, 'EXTERNAL_INVALID_DATE_FORMAT')
    flat(await h.call(f.t.token, 'GET', `${X}/bookings?team_ids=[1,2`), 400, 'EXTERNAL_INVALID_REQUEST')

    // tenancy: the other tenant sees none of it, and its ids are this token's unknown ids
    expect(ok(await h.call(f.other.token, 'GET', `${X}/bookings`))).toMatchObject({ total: 0 })
    const headers = { 'x-request-id': 'external-tenancy-2' }
    const foreign = await h.call(f.other.token, 'GET', `${X}/bookings/${second.id}`, undefined, headers)
    const unknown = await h.call(f.other.token, 'GET', `${X}/bookings/bkg_01jq3v5x7e8f9g0h1j2k3m4n5p`, undefined, headers)
    flat(foreign, 404, 'EXTERNAL_BOOKING_NOT_ACCESSIBLE')
    expect(foreign.body).toBe(unknown.body)
  })

  it('POST /bookings errors: VALIDATION_ERROR, EXTERNAL_BOOKING_ID_REQUIRED, listings and customers the token cannot see, 409s', async () => {
    const f = await fixture()
    const body = { listing_id: f.listings.th, customer_id: f.customers.first, check_in: apr(10), check_out: apr(12), guests: 2 }
    const invalid = flat(await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, guests: 0, check_out: 'soon' }), 400, 'VALIDATION_ERROR')
    expect(invalid.details.fields.map((x: { field: string }) => x.field).sort()).toEqual(['check_out', 'guests'])
    flat(await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, external_system: 'ota' }), 400, 'EXTERNAL_BOOKING_ID_REQUIRED')

    const headers = { 'x-request-id': 'external-tenancy-3' }
    const foreignCustomer = await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, customer_id: f.otherCustomer }, headers)
    const unknownCustomer = await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, customer_id: 'cus_01jq3v5x7e8f9g0h1j2k3m4n5p' }, headers)
    flat(foreignCustomer, 403, 'EXTERNAL_CUSTOMER_NOT_ACCESSIBLE')
    expect(foreignCustomer.body).toBe(unknownCustomer.body)
    const foreignListing = await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, listing_id: f.otherListing }, headers)
    const unknownListing = await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, listing_id: 'lst_01jq3v5x7e8f9g0h1j2k3m4n5p' }, headers)
    flat(foreignListing, 404, 'EXTERNAL_LISTING_NOT_ACCESSIBLE')
    expect(foreignListing.body).toBe(unknownListing.body)

    flat(await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, listing_id: f.listings.inactive, customer_id: f.customers.second }), 409, 'LISTING_NOT_BOOKABLE')
    flat(await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, expected_total: { amount: '1.00', currency: 'USD' } }), 409, 'PRICE_CHANGED')
    await post(f.t.token, `${X}/bookings`, body)
    flat(await h.call(f.t.token, 'POST', `${X}/bookings`, body), 409, 'LISTING_UNAVAILABLE')
    // nothing was written by the refusals
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?check_in_from=${apr(10)}`)).total).toBe(1)
  })

  it('Idempotency-Key: the same request replays the first response; another request with the key is 422', async () => {
    const f = await fixture()
    const body = { listing_id: f.listings.sg, customer_id: f.customers.first, check_in: apr(20), check_out: apr(21), guests: 1 }
    const key = { 'idempotency-key': `external-${Date.now()}` }
    const first = await h.call(f.t.token, 'POST', `${X}/bookings`, body, key)
    expect(first.statusCode, first.body).toBe(201)
    const again = await h.call(f.t.token, 'POST', `${X}/bookings`, body, key)
    expect(again.statusCode).toBe(201)
    expect(again.body).toBe(first.body)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.headers.location).toBe(first.headers.location)
    flat(await h.call(f.t.token, 'POST', `${X}/bookings`, { ...body, guests: 2 }, key), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect(ok(await h.call(f.t.token, 'GET', `${X}/bookings?check_in_from=${apr(20)}&check_in_to=${apr(20)}`)).total).toBe(1)
  })
})

describe('platform errors under the prefix are flat too', () => {
  it('401, 403, 404 route, 405 with Allow, OPTIONS, 406, 413, 414, 415, 429 with Retry-After', async () => {
    const f = await fixture()
    const anonymous = flat(await h.call(null, 'GET', `${X}/listings`), 401, 'UNAUTHENTICATED')
    expect(anonymous.message).toMatch(/token/i)
    expect((await h.call(null, 'GET', `${X}/bookings/bkg_x`)).headers['www-authenticate']).toMatch(/^Bearer/)
    flat(await h.call('tvb_test_nope', 'GET', `${X}/bookings`), 401, 'UNAUTHENTICATED')

    const viewer = await f.t.addUser('VIEWER')
    const denied = flat(await h.call(viewer.token, 'POST', `${X}/bookings`, { listing_id: f.listings.sg }), 403, 'PERMISSION_DENIED')
    expect(denied.details).toEqual({ required_permission: 'booking.create.partner' })
    expect(ok(await h.call(viewer.token, 'GET', `${X}/bookings`)).total).toBeGreaterThanOrEqual(0)
    const accountant = await f.t.addUser('ACCOUNTANT')
    expect(flat(await h.call(accountant.token, 'GET', `${X}/listings`), 403, 'PERMISSION_DENIED').details).toEqual({ required_permission: 'listing.read' })

    const route = flat(await h.call(f.t.token, 'GET', `${X}/customers`), 404, 'ROUTE_NOT_FOUND')
    expect(route.message).toContain(`${X}/customers`)
    flat(await h.call(f.t.token, 'GET', `${X}/listings/${f.listings.sg}/calendar`), 404, 'ROUTE_NOT_FOUND')
    flat(await h.call(f.t.token, 'GET', X), 404, 'ROUTE_NOT_FOUND')
    // outside the prefix, the envelope
    expect((await h.call(f.t.token, 'GET', '/api/v1/externals')).json().error.code).toBe('ROUTE_NOT_FOUND')
    const wrong = await h.call(f.t.token, 'DELETE', `${X}/listings/${f.listings.sg}`)
    expect(flat(wrong, 405, 'METHOD_NOT_ALLOWED').details.allowed_methods).toEqual(['GET', 'HEAD', 'OPTIONS'])
    expect(wrong.headers.allow).toBe('GET, HEAD, OPTIONS')
    expect(wrong.headers['x-ratelimit-limit']).toBeDefined()
    const options = await h.call(null, 'OPTIONS', `${X}/bookings`)
    expect(options.statusCode).toBe(204)
    expect(options.headers.allow).toBe('GET, HEAD, POST, OPTIONS')

    flat(await h.call(f.t.token, 'GET', `${X}/listings`, undefined, { accept: 'text/csv' }), 406, 'NOT_ACCEPTABLE')
    flat(await h.call(f.t.token, 'POST', `${X}/bookings`, JSON.stringify({ pad: 'x'.repeat(1_100_000) })), 413, 'PAYLOAD_TOO_LARGE')
    flat(await h.call(f.t.token, 'GET', `${X}/bookings/${'b'.repeat(3000)}`), 414, 'URI_TOO_LONG')
    flat(await h.call(f.t.token, 'GET', `${X}/bookings/%E0%A4%A`), 400, 'INVALID_REQUEST')
    flat(await h.inject({ method: 'POST', url: `${X}/bookings`, headers: { authorization: `Bearer ${f.t.token}`, 'content-type': 'text/plain' }, payload: 'hi' }), 415, 'UNSUPPORTED_MEDIA_TYPE')
    flat(await h.call(f.t.token, 'POST', `${X}/bookings`, '{"listing_id":'), 400, 'INVALID_JSON')

    // a bucket at its limit: 429 with Retry-After and the rate-limit headers, flat
    const limited = await makeTenant(h.db, { clock })
    await setPartnerLimit(h.db, limited.partnerId, 'read', 2)
    for (let i = 0; i < 2; i++) expect((await h.call(limited.token, 'GET', `${X}/listings`)).statusCode).toBe(200)
    const over = await h.call(limited.token, 'GET', `${X}/listings`)
    flat(over, 429, 'RATE_LIMIT_EXCEEDED')
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0)
    expect(over.headers['x-ratelimit-limit']).toBe('2')
    expect(over.headers['x-ratelimit-remaining']).toBe('0')
    expect(over.headers['x-ratelimit-bucket']).toBe('read')
  })

  it('500 and 503: a failure inside is INTERNAL_ERROR with nothing of its cause, a dependency down SERVICE_UNAVAILABLE with Retry-After; HEAD answers like GET', async () => {
    const f = await fixture()
    // the same database, except that reading the counts fails: bookings' with a crash, listings' as unavailable
    const fail = (sql: string) =>
      sql.includes(`resource = 'bookings'`) ? new Error('disk on fire at 10.0.0.7') : new ApiError('SERVICE_UNAVAILABLE', 'The database is not reachable.', { dependency: 'database' }, { 'retry-after': '1' })
    const failing = new Proxy(h.db, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown
        if (prop === 'query') return (sql: string, params?: unknown[]) => (sql.includes('list_counts') ? Promise.reject(fail(sql)) : target.query(sql, params))
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as Db
    const broken = await buildApp({ config: testConfig(), db: failing, clock, logger: createLogger('silent') })
    try {
      const res = await broken.app.inject({ method: 'GET', url: `${X}/bookings`, headers: { authorization: `Bearer ${f.t.token}` } })
      const body = flat(res, 500, 'INTERNAL_ERROR')
      expect(res.body).not.toContain('disk')
      expect(body.details).toEqual({})
      const unavailable = await broken.app.inject({ method: 'GET', url: `${X}/listings`, headers: { authorization: `Bearer ${f.t.token}` } })
      expect(flat(unavailable, 503, 'SERVICE_UNAVAILABLE').details).toEqual({ dependency: 'database' })
      expect(unavailable.headers['retry-after']).toBe('1')
    } finally {
      await broken.app.close()
    }
    const head = await h.call(f.t.token, 'HEAD', `${X}/listings?state=ACTIVE`)
    expect(head.statusCode).toBe(200)
    expect(head.body).toBe('')
    expect(head.headers['x-ratelimit-bucket']).toBe('read')
  })

  it('the catalogue lists the guide\'s codes; /openapi.json has the routes under "External API" with the flat error schema', async () => {
    const catalogue = ok(await h.call(null, 'GET', '/v1/errors')).data as { code: string; status: number }[]
    const status = Object.fromEntries(catalogue.map((c) => [c.code, c.status]))
    expect(status).toMatchObject({
      VALIDATION_ERROR: 400,
      EXTERNAL_INVALID_REQUEST: 400,
      EXTERNAL_INVALID_STATE: 400,
      EXTERNAL_INVALID_DATE_FORMAT: 400,
      EXTERNAL_LISTING_NOT_ACCESSIBLE: 404,
      EXTERNAL_BOOKING_NOT_ACCESSIBLE: 404,
      EXTERNAL_CUSTOMER_NOT_ACCESSIBLE: 403,
      EXTERNAL_BOOKING_ID_REQUIRED: 400,
      RATE_LIMIT_EXCEEDED: 429,
    })
    const doc = ok(await h.call(null, 'GET', '/openapi.json'))
    const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).filter(([path]) => path.startsWith(X))
    expect(ops.flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort()).toEqual(
      [`GET ${X}/bookings`, `GET ${X}/bookings/{id}`, `GET ${X}/listings`, `GET ${X}/listings/{id}`, `POST ${X}/bookings`].sort(),
    )
    for (const [, item] of ops) {
      for (const op of Object.values(item)) {
        expect(op.tags).toEqual(['External API'])
        for (const [code, response] of Object.entries(op.responses as Record<string, any>)) {
          if (Number(code) >= 400) expect(response.content['application/json'].schema.$ref).toBe('#/components/schemas/FlatError')
        }
      }
    }
    expect(doc.paths[`${X}/bookings/{id}`].get.responses['404']['x-error-codes']).toEqual(['EXTERNAL_BOOKING_NOT_ACCESSIBLE'])
    expect(doc.paths[`${X}/bookings`].post.responses['403']['x-error-codes']).toEqual(['PERMISSION_DENIED', 'EXTERNAL_CUSTOMER_NOT_ACCESSIBLE'])
    expect(doc.paths[`${X}/bookings`].get.responses['400']['x-error-codes']).toEqual(expect.arrayContaining(['VALIDATION_ERROR', 'EXTERNAL_INVALID_REQUEST', 'EXTERNAL_INVALID_STATE', 'EXTERNAL_INVALID_DATE_FORMAT', 'INVALID_CURSOR']))
    expect(doc.components.schemas.FlatError.required.sort()).toEqual(['code', 'details', 'message'])
  })
})

describe('total is kept exact by the counts (migration 0009)', () => {
  /** Every status filter's total against the list itself, walked whole. */
  async function expectExact(app: TestApp, token: string, teams?: string[]) {
    const team = teams ? `&team_ids=${encodeURIComponent(JSON.stringify(teams))}` : ''
    const all: { status: string }[] = []
    let url = `${X}/bookings?limit=100${team}`
    for (;;) {
      const page = ok(await app.call(token, 'GET', url))
      all.push(...page.items)
      if (!page.next_cursor) break
      url = `${X}/bookings?limit=100${team}&cursor=${encodeURIComponent(page.next_cursor)}`
    }
    const totals: Record<string, number> = { '': ok(await app.call(token, 'GET', `${X}/bookings?limit=1${team}`)).total }
    const counted: Record<string, number> = { '': all.length }
    for (const state of ['HELD', 'CONFIRMED', 'ISSUED', 'CANCELLED', 'EXPIRED', 'HELD,EXPIRED', 'CONFIRMED,CANCELLED']) {
      totals[state] = ok(await app.call(token, 'GET', `${X}/bookings?limit=1&state=${state}${team}`)).total
      counted[state] = all.filter((b) => state.split(',').includes(b.status)).length
    }
    expect(totals).toEqual(counted)
    return counted
  }

  it('through create, confirm, issue, cancel, a lapsed hold not yet swept, the sweeper; across teams and modes', async () => {
    // near the real clock: the sweeper run below expires holds of every tenant of this database
    const near = new ManualClock(new Date(Date.now() + 3_600_000))
    const app = await testApp({ clock: near, config: { holdMinutes: 15 } })
    const t = await makeTenant(app.db, { clock: near, teams: 2 })
    const live = await t.addToken({ mode: 'live' })
    const [t1, t2] = t.teamIds as [string, string]
    const make = async (token: string, team: string) => {
      const listing = (await app.call(token, 'POST', '/v1/listings', { ...LISTING, team_id: team })).json().id
      const customer = (await app.call(token, 'POST', '/v1/customers', { name: 'Count', team_id: team })).json().id
      let night = 0
      return async () => {
        night++
        const day = new Date(Date.now() + (30 + night) * 86_400_000).toISOString().slice(0, 10)
        const next = new Date(Date.now() + (31 + night) * 86_400_000).toISOString().slice(0, 10)
        const res = await app.call(token, 'POST', `${X}/bookings`, { listing_id: listing, customer_id: customer, check_in: day, check_out: next, guests: 1 })
        expect(res.statusCode, res.body).toBe(201)
        return res.json().id as string
      }
    }
    const act = async (token: string, id: string, action: string) => expect((await app.call(token, 'POST', `/v1/bookings/${id}:${action}`, action === 'cancel' ? { reason: 'count' } : undefined)).statusCode).toBe(200)
    const book1 = await make(t.token, t1)
    const book2 = await make(t.token, t2)
    const bookLive = await make(live.token, t1)

    const a = await book1()
    const b = await book1()
    const c = await book1()
    const d = await book2()
    expect(await expectExact(app, t.token)).toMatchObject({ '': 4, HELD: 4 })
    // concurrent creates in one team (each its own transaction, on PostgreSQL its own connection), then cancelled
    const burst = await Promise.all(Array.from({ length: 6 }, () => book1()))
    expect(await expectExact(app, t.token)).toMatchObject({ '': 10, HELD: 10 })
    await Promise.all(burst.map((id) => act(t.token, id, 'cancel')))
    expect(await expectExact(app, t.token)).toMatchObject({ '': 10, HELD: 4, CANCELLED: 6 })
    await act(t.token, a, 'confirm')
    await act(t.token, b, 'confirm')
    await act(t.token, b, 'issue')
    await act(t.token, c, 'cancel')
    await act(t.token, d, 'confirm')
    await act(t.token, d, 'cancel')
    const l1 = await bookLive()
    await act(live.token, l1, 'confirm')
    expect(await expectExact(app, t.token)).toMatchObject({ '': 10, HELD: 0, CONFIRMED: 1, ISSUED: 1, CANCELLED: 8 })
    expect(await expectExact(app, t.token, [t1])).toMatchObject({ '': 9, CANCELLED: 7 })
    expect(await expectExact(app, t.token, [t2])).toMatchObject({ '': 1, CANCELLED: 1 })
    expect(await expectExact(app, live.token)).toMatchObject({ '': 1, CONFIRMED: 1 })

    // two fresh holds; one lapses — EXPIRED before any sweep
    const e = await book1()
    near.advance(HOLD_MS / 2)
    await book2()
    near.advance(HOLD_MS / 2 + 1000)
    expect(await expectExact(app, t.token)).toMatchObject({ '': 12, HELD: 1, EXPIRED: 1 })
    expect(ok(await app.call(t.token, 'GET', `${X}/bookings/${e}`)).status).toBe('EXPIRED')
    // the sweeper rewrites it: the same totals
    expect(await app.bookings.expireLapsed()).toBeGreaterThanOrEqual(1)
    expect(await expectExact(app, t.token)).toMatchObject({ '': 12, HELD: 1, EXPIRED: 1 })
    near.advance(HOLD_MS)
    expect(await expectExact(app, t.token)).toMatchObject({ '': 12, HELD: 0, EXPIRED: 2 })
    await app.bookings.expireLapsed()
    expect(await expectExact(app, t.token)).toMatchObject({ '': 12, HELD: 0, EXPIRED: 2, CONFIRMED: 1, ISSUED: 1, CANCELLED: 8 })
    expect(await expectExact(app, t.token, [t2])).toMatchObject({ '': 2, EXPIRED: 1, CANCELLED: 1 })

    // the stored counts are the rows, per team, mode and stored status
    const { rows } = await app.db.query<{ team_id: string; mode: string; status: string; n: number; counted: number }>(
      `SELECT k.team_id, k.mode, k.status, k.n::int, (SELECT count(*)::int FROM bookings b WHERE b.team_id = k.team_id AND b.mode = k.mode AND b.status = k.status) AS counted
       FROM (SELECT team_id, mode, status, sum(n) AS n FROM list_counts WHERE resource = 'bookings' AND team_id = ANY($1) GROUP BY 1, 2, 3) k`,
      [t.teamIds],
    )
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) expect(row.n, `${row.team_id} ${row.mode} ${row.status}`).toBe(row.counted)

    // listings' counts follow their states (archiving included)
    const listingTotal = async (state: string) => ok(await app.call(t.token, 'GET', `${X}/listings?state=${state}`)).total
    expect([await listingTotal('ACTIVE'), await listingTotal('ARCHIVED')]).toEqual([2, 0])
    const spare = (await app.call(t.token, 'POST', '/v1/listings', { ...LISTING, team_id: t2 })).json().id
    expect((await app.call(t.token, 'DELETE', `/v1/listings/${spare}`)).statusCode).toBe(204)
    expect([await listingTotal('ACTIVE'), await listingTotal('ARCHIVED'), ok(await app.call(t.token, 'GET', `${X}/listings`)).total]).toEqual([2, 1, 3])
  })
})
