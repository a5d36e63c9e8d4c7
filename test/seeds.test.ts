import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import { HOLD_MS, LISTING, START, apr } from './helpers/bookings.ts'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant } from './helpers/harness.ts'

/**
 * The request examples of the documents partners hold (../shared/seeds/), run as written: 000 (the
 * External API guide), 002 (the public API chapter) and 003 (the web API standards the contract
 * drew on). Placeholders — the guide's team ids [1,2,3], user_id=200, "uuid", 002's cursor
 * eyJpZCI6MTAwMH0, 003's example.gov magazines — become this tenant's real ids and resources;
 * everything else (paths, parameter names, values, headers) is the document's text. A test per
 * example, named after it.
 */
const clock = new ManualClock(START)
const h = await testApp({ clock, config: { holdMinutes: 15 } })

/* eslint-disable @typescript-eslint/no-explicit-any */
interface World {
  t: Tenant
  live: { token: string }
  foreignTeam: string
  teams: [string, string]
  listings: string[]
  customer: string
  bookings: { held: string; confirmed: string; issued: string }
}

let made: Promise<World> | undefined
function world(): Promise<World> {
  made ??= (async () => {
    const t = await makeTenant(h.db, { clock, teams: 2 })
    const foreign = await makeTenant(h.db, { clock, teams: 1 })
    const teams = t.teamIds as [string, string]
    const post = async (url: string, body: unknown) => {
      const res = await h.call(t.token, 'POST', url, body)
      expect(res.statusCode, res.body).toBe(201)
      return res.json()
    }
    const listings = [
      (await post('/v1/listings', { ...LISTING, team_id: teams[0], name: 'Villa Đà Lạt' })).id,
      (await post('/v1/listings', { ...LISTING, team_id: teams[1], name: 'Hanoi loft', address: { country_code: 'VN', province_code: 'HN', city: 'Hanoi', line1: '2 Hang Bac' } })).id,
    ]
    const customer = (await post('/v1/customers', { name: 'An', team_id: teams[0] })).id
    const hold = (d: number, listing = listings[0]) => post('/v1/bookings', { listing_id: listing, customer_id: customer, check_in: apr(d), check_out: apr(d + 2), guests: 2 })
    const confirmed = (await hold(1)).id
    expect((await h.call(t.token, 'POST', `/v1/bookings/${confirmed}:confirm`)).statusCode).toBe(200)
    const issued = (await hold(5)).id
    await h.call(t.token, 'POST', `/v1/bookings/${issued}:confirm`)
    expect((await h.call(t.token, 'POST', `/v1/bookings/${issued}:issue`)).statusCode).toBe(200)
    const held = (await hold(10)).id
    const live = await t.addToken({ mode: 'live' })
    return { t, live, foreignTeam: foreign.teamIds[0]!, teams, listings, customer, bookings: { held, confirmed, issued } }
  })()
  return made
}

async function get(token: string, url: string): Promise<any> {
  const res = await h.call(token, 'GET', url)
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200)
  return res.json()
}

/** The External API's page envelope, as the guide prints it (plus the additive next_cursor). */
function expectPage(page: any, limit: number): void {
  expect(Object.keys(page)).toEqual(expect.arrayContaining(['items', 'total', 'page', 'limit', 'total_pages']))
  expect(page.limit).toBe(limit)
  expect(page.total_pages).toBe(Math.ceil(page.total / limit))
  expect(page.items.length).toBe(Math.min(limit, page.total - (page.page - 1) * limit))
}

const X = '/api/v1/external'

describe('seed 000: the External API guide', () => {
  it('GET /api/v1/external/listings?page=1&limit=20', async () => {
    const w = await world()
    const page = await get(w.t.token, `${X}/listings?page=1&limit=20`)
    expect(page).toMatchObject({ total: 2, page: 1, limit: 20, total_pages: 1 })
    expectPage(page, 20)
    expect(page.items.map((l: any) => l.name).sort()).toEqual(['Hanoi loft', 'Villa Đà Lạt'])
    expect(page.items[0].id).toMatch(/^lst_/)
  })

  it('GET /api/v1/external/listings (all the token\'s teams)', async () => {
    const w = await world()
    expect((await get(w.t.token, `${X}/listings`)).items.map((l: any) => l.id).sort()).toEqual([...w.listings].sort())
  })

  it('GET /api/v1/external/listings?team_ids=[1,2,3]: only the token\'s teams are used', async () => {
    const w = await world()
    // the guide's three ids, as this tenant's: its two teams and a third that is not the token's
    const page = await get(w.t.token, `${X}/listings?team_ids=["${w.teams[0]}","${w.teams[1]}","${w.foreignTeam}"]`)
    expect(page.total).toBe(2)
    expect((await get(w.t.token, `${X}/listings?team_ids=["${w.teams[1]}"]`)).items.map((l: any) => l.name)).toEqual(['Hanoi loft'])
    // and literally [1,2,3]: well-formed, but no team of the token, so nothing
    expect(await get(w.t.token, `${X}/listings?team_ids=[1,2,3]`)).toMatchObject({ items: [], total: 0 })
  })

  it('GET /api/v1/external/bookings (all teams)', async () => {
    const w = await world()
    const page = await get(w.t.token, `${X}/bookings`)
    expect(page.total).toBe(3)
    expectPage(page, 20)
  })

  it('GET /api/v1/external/bookings?team_ids=[1,2]&user_id=200', async () => {
    const w = await world()
    const page = await get(w.t.token, `${X}/bookings?team_ids=["${w.teams[0]}","${w.teams[1]}"]&user_id=${w.customer}`)
    expect(page.total).toBe(3)
    expect(page.items.every((b: any) => b.customer_id === w.customer)).toBe(true)
    expect((await get(w.t.token, `${X}/bookings?team_ids=["${w.teams[1]}"]&user_id=${w.customer}`)).total).toBe(0)
  })

  it('GET /api/v1/external/listings?state=ACTIVE', async () => {
    const w = await world()
    const page = await get(w.t.token, `${X}/listings?state=ACTIVE`)
    expect(page.total).toBe(2)
    expect(page.items.every((l: any) => l.state === 'ACTIVE')).toBe(true)
  })

  it('GET /api/v1/external/bookings?state=CONFIRMED', async () => {
    const w = await world()
    expect((await get(w.t.token, `${X}/bookings?state=CONFIRMED`)).items.map((b: any) => b.id)).toEqual([w.bookings.confirmed])
  })

  it('GET /api/v1/external/listings?country_code=VN&province_code=SG', async () => {
    const w = await world()
    expect((await get(w.t.token, `${X}/listings?country_code=VN&province_code=SG`)).items.map((l: any) => l.name)).toEqual(['Villa Đà Lạt'])
  })

  it('GET /api/v1/external/listings?sort_by=created_at&sort_order=desc', async () => {
    const w = await world()
    const items = (await get(w.t.token, `${X}/listings?sort_by=created_at&sort_order=desc`)).items
    expect(items.map((l: any) => l.created_at)).toEqual(items.map((l: any) => l.created_at).sort().reverse())
  })

  it('error response format {"code", "message", "details"} and the table\'s codes', async () => {
    const w = await world()
    const expectFlat = (res: LightMyRequestResponse, status: number, code: string) => {
      expect(res.statusCode, res.body).toBe(status)
      expect(Object.keys(res.json()).sort()).toEqual(['code', 'details', 'message'])
      expect(res.json().code).toBe(code)
    }
    expectFlat(await h.call(w.t.token, 'POST', `${X}/bookings`, { listing_id: w.listings[0] }), 400, 'VALIDATION_ERROR')
    expectFlat(await h.call(w.t.token, 'GET', `${X}/listings?team_ids=[1,2`), 400, 'EXTERNAL_INVALID_REQUEST')
    expectFlat(await h.call(w.t.token, 'GET', `${X}/bookings?state=PAID`), 400, 'EXTERNAL_INVALID_STATE')
    expectFlat(await h.call(w.t.token, 'GET', `${X}/bookings?created_after=yesterday`), 400, 'EXTERNAL_INVALID_DATE_FORMAT')
    expectFlat(await h.call(w.t.token, 'GET', `${X}/listings/lst_unknown`), 404, 'EXTERNAL_LISTING_NOT_ACCESSIBLE')
    expectFlat(await h.call(w.t.token, 'GET', `${X}/bookings/bkg_unknown`), 404, 'EXTERNAL_BOOKING_NOT_ACCESSIBLE')
    expectFlat(await h.call(w.t.token, 'POST', `${X}/bookings`, { listing_id: w.listings[0], customer_id: 'cus_unknown', check_in: apr(20), check_out: apr(21), guests: 1 }), 403, 'EXTERNAL_CUSTOMER_NOT_ACCESSIBLE')
    expectFlat(
      await h.call(w.t.token, 'POST', `${X}/bookings`, { listing_id: w.listings[0], customer_id: w.customer, check_in: apr(20), check_out: apr(21), guests: 1, external_system: 'pms' }),
      400,
      'EXTERNAL_BOOKING_ID_REQUIRED',
    )
  })

  it('rate limiting: X-RateLimit-Limit, -Remaining, -Reset; 429 RATE_LIMIT_EXCEEDED over the limit', async () => {
    const w = await world()
    const res = await h.call(w.t.token, 'GET', `${X}/listings`)
    expect(Number(res.headers['x-ratelimit-limit'])).toBeGreaterThan(0)
    expect(Number(res.headers['x-ratelimit-remaining'])).toBeLessThan(Number(res.headers['x-ratelimit-limit']))
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(1_700_000_000)
    const small = await makeTenant(h.db, { clock, teams: 1 })
    await setPartnerLimit(h.db, small.partnerId, 'read', 2)
    for (let i = 0; i < 2; i++) expect((await h.call(small.token, 'GET', `${X}/listings`)).statusCode).toBe(200)
    const over = await h.call(small.token, 'GET', `${X}/listings`)
    expect(over.statusCode).toBe(429)
    expect(over.json().code).toBe('RATE_LIMIT_EXCEEDED')
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0)
  })

  it('webhooks: payload.event_type == "booking.created" and payload.data.id (the event a webhook carries)', async () => {
    const w = await world()
    const created = await h.call(w.t.token, 'POST', `${X}/bookings`, { listing_id: w.listings[1], customer_id: w.customer, check_in: apr(15), check_out: apr(17), guests: 2 })
    expect(created.statusCode, created.body).toBe(201)
    const events = (await get(w.t.token, '/v1/events?event_type=booking.created&limit=100')).data
    const payload = events.find((e: any) => e.data.id === created.json().id)
    expect(payload.event_type).toBe('booking.created')
    expect(payload.data.id).toBe(created.json().id)
  })
})

describe('seed 002: the public API chapter', () => {
  it('Authorization: Bearer tvb_live_… (production) and tvb_test_… (sandbox)', async () => {
    const w = await world()
    expect(w.live.token).toMatch(/^tvb_live_/)
    expect(w.t.token).toMatch(/^tvb_test_/)
    expect((await get(w.live.token, '/v1/me')).mode).toBe('live')
    expect((await get(w.t.token, '/v1/me')).mode).toBe('test')
  })

  it('/v1/bookings, /v1/bookings/{id} and /v2/bookings (a breaking change gets /v2)', async () => {
    const w = await world()
    expect((await get(w.t.token, '/v1/bookings')).data.length).toBeGreaterThanOrEqual(3)
    expect((await get(w.t.token, `/v1/bookings/${w.bookings.issued}`)).status).toBe('ISSUED')
    expect((await get(w.t.token, '/v2/bookings')).data[0]).toHaveProperty('stay')
  })

  it('the core endpoints: /v1/bookings, /v1/customers, /v1/invoices, /v1/payments, /v1/reports/{type}, /v1/webhooks, each with its {id}', async () => {
    const w = await world()
    const invoice = (await get(w.t.token, '/v1/invoices')).data[0]
    expect(invoice.booking_id).toEqual(expect.any(String))
    const payment = await h.call(w.t.token, 'POST', '/v1/payments', { invoice_id: invoice.id, amount: invoice.amount_due, method: 'CARD', reference: 'r-1' }, { 'idempotency-key': 'seed-002-payment' })
    expect(payment.statusCode, payment.body).toBe(201)
    const webhook = await h.call(w.t.token, 'POST', '/v1/webhooks', { url: 'https://hooks.example.com/travobooks' })
    expect(webhook.statusCode, webhook.body).toBe(201)
    for (const url of [
      '/v1/bookings', `/v1/bookings/${w.bookings.confirmed}`,
      '/v1/customers', `/v1/customers/${w.customer}`,
      '/v1/invoices', `/v1/invoices/${invoice.id}`,
      '/v1/payments', `/v1/payments/${payment.json().id}`,
      '/v1/reports/bookings-summary?from=2031-03-01&to=2031-03-31',
      '/v1/webhooks', `/v1/webhooks/${webhook.json().id}`,
    ]) await get(w.t.token, url)
  })

  it('rate limits: X-RateLimit-Limit: 600 on search, and the others per bucket', async () => {
    const w = await world()
    const res = await h.call(w.t.token, 'GET', `/v1/availability?check_in=${apr(20)}&check_out=${apr(22)}&guests=2`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['x-ratelimit-limit']).toBe('600')
    expect(Number(res.headers['x-ratelimit-remaining'])).toBeLessThan(600)
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(1_700_000_000)
  })

  it('Idempotency-Key: client-generated-uuid — same key + same payload → same response; different payload → 422', async () => {
    const w = await world()
    const body = { name: 'Idempotent guest', team_id: w.teams[0] }
    const first = await h.call(w.t.token, 'POST', '/v1/customers', body, { 'idempotency-key': 'client-generated-uuid' })
    const again = await h.call(w.t.token, 'POST', '/v1/customers', body, { 'idempotency-key': 'client-generated-uuid' })
    expect(first.statusCode).toBe(201)
    expect(again.body).toBe(first.body)
    expect(again.headers['idempotent-replayed']).toBe('true')
    const other = await h.call(w.t.token, 'POST', '/v1/customers', { name: 'Someone else', team_id: w.teams[0] }, { 'idempotency-key': 'client-generated-uuid' })
    expect(other.statusCode).toBe(422)
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED')
  })

  it('the error format: {"error": {"code": "BOOKING_HOLD_EXPIRED", "message", "request_id", "retry_advice": "non_retryable"}}', async () => {
    const w = await world()
    const hold = await h.call(w.t.token, 'POST', '/v1/bookings', { listing_id: w.listings[1], customer_id: w.customer, check_in: apr(25), check_out: apr(26), guests: 1 })
    clock.advance(HOLD_MS + 1000)
    const res = await h.call(w.t.token, 'POST', `/v1/bookings/${hold.json().id}:confirm`)
    expect(res.statusCode).toBe(409)
    expect(res.json().error).toMatchObject({ code: 'BOOKING_HOLD_EXPIRED', message: expect.any(String), request_id: res.headers['x-request-id'], retry_advice: 'non_retryable' })
    expect(res.json().error.request_id).toMatch(/^req_/)
  })

  it('GET /v1/bookings?limit=50&cursor=eyJpZCI6MTAwMH0 → {"data", "pagination": {"next_cursor", "has_more"}}', async () => {
    const w = await world()
    const first = await get(w.t.token, '/v1/bookings?limit=1')
    expect(first.pagination).toMatchObject({ next_cursor: expect.any(String), has_more: true })
    // the document's cursor is a placeholder: the real one comes from the page before
    const rest = await get(w.t.token, `/v1/bookings?limit=50&cursor=${encodeURIComponent(first.pagination.next_cursor)}`)
    expect(rest.data.length).toBeGreaterThan(0)
    expect(rest.pagination).toEqual({ next_cursor: null, has_more: false })
    // and the placeholder itself is refused, as a forged cursor must be
    const forged = await h.call(w.t.token, 'GET', '/v1/bookings?limit=50&cursor=eyJpZCI6MTAwMH0')
    expect(forged.statusCode).toBe(400)
    expect(forged.json().error.code).toBe('INVALID_CURSOR')
  })

  it('GET /v1/bookings?status=ISSUED&created_after=2026-01-01&sort=-created_at', async () => {
    const w = await world()
    const page = await get(w.t.token, '/v1/bookings?status=ISSUED&created_after=2026-01-01&sort=-created_at')
    expect(page.data.map((b: any) => b.id)).toEqual([w.bookings.issued])
  })

  it('webhooks integration: register webhook endpoints with the API', async () => {
    const w = await world()
    const res = await h.call(w.t.token, 'POST', '/v1/webhooks', { url: 'https://hooks.example.com/seed-002' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().secret).toMatch(/^whsec_/)
  })
})

describe('seed 003: web API standards (magazines → bookings and customers)', () => {
  it('api/v2/resource/{id}.json and magazines.json: the .json suffix on every version', async () => {
    const w = await world()
    expect((await get(w.t.token, `/v2/bookings/${w.bookings.confirmed}.json`)).id).toBe(w.bookings.confirmed)
    expect((await get(w.t.token, `/v1/bookings/${w.bookings.confirmed}.json`)).id).toBe(w.bookings.confirmed)
    expect((await get(w.t.token, '/v1/customers.json')).data.length).toBeGreaterThan(0)
    expect((await get(w.t.token, `${X}/listings.json`)).total).toBe(2)
  })

  it('?fields=username,age: a comma-separated list of optional fields', async () => {
    const w = await world()
    expect(await get(w.t.token, `/v1/customers/${w.customer}?fields=name,language`)).toEqual({ name: 'An', language: null })
  })

  it('all articles of this magazine: /v1/customers/{id}/bookings', async () => {
    const w = await world()
    expect((await get(w.t.token, `/v1/customers/${w.customer}/bookings`)).data.length).toBeGreaterThanOrEqual(3)
  })

  it('HTTP verbs: POST creates, GET lists and shows, PUT updates, DELETE deletes; POST on an element and bulk PUT/DELETE are errors', async () => {
    const w = await world()
    const created = await h.call(w.t.token, 'POST', '/v1/customers', { name: 'Bo', team_id: w.teams[0] })
    expect(created.statusCode).toBe(201)
    const bo = created.json()
    const put = await h.call(w.t.token, 'PUT', `/v1/customers/${bo.id}`, { name: 'Bo', email: 'bo@example.com', phone: null, language: 'vi', country_code: 'VN' })
    expect(put.statusCode, put.body).toBe(200)
    for (const [method, url] of [['POST', `/v1/customers/${bo.id}`], ['PUT', '/v1/customers'], ['DELETE', '/v1/customers']] as const) {
      const res = await h.call(w.t.token, method, url, method === 'POST' || method === 'PUT' ? {} : undefined)
      expect(res.statusCode, `${method} ${url}`).toBe(405)
      expect(res.headers.allow).toEqual(expect.any(String))
    }
    expect((await h.call(w.t.token, 'DELETE', `/v1/customers/${bo.id}`)).statusCode).toBe(204)
    expect((await h.call(w.t.token, 'GET', `/v1/customers/${bo.id}`)).statusCode).toBe(404)
  })

  it('without a limit, a default one (limit = 20)', async () => {
    const w = await world()
    for (let i = 0; i < 21; i++) expect((await h.call(w.t.token, 'POST', '/v1/customers', { name: `Guest ${i}`, team_id: w.teams[1] })).statusCode).toBe(201)
    const page = await get(w.t.token, '/v1/customers')
    expect(page.data).toHaveLength(20)
    expect(page.pagination.has_more).toBe(true)
  })

  it('mock responses: a mock parameter gives sample data on a test server, and an error in production', async () => {
    const w = await world()
    const mocked = await h.call(w.t.token, 'GET', '/v1/bookings?mock=true')
    expect(mocked.statusCode, mocked.body).toBe(200)
    expect(mocked.json().data.length).toBeGreaterThan(0)
    expect(mocked.json().data.map((b: any) => b.id)).not.toContain(w.bookings.confirmed)
    expect(mocked.body).toBe((await h.call(w.t.token, 'GET', '/v1/bookings?mock=true')).body)
    const live = await h.call(w.live.token, 'GET', '/v1/bookings?mock=true')
    expect(live.statusCode).toBe(400)
    expect(live.json().error.code).toBe('MOCK_NOT_ALLOWED_IN_LIVE_MODE')
  })
})
