import { beforeAll, describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'
import { listingBody } from './helpers/listings.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/** Action routes forgive the usual client habits; a near-miss URL says what it probably meant. */
let h: TestApp
let t: Tenant
let listingId: string
let customerId: string

beforeAll(async () => {
  h = await testApp()
  t = await makeTenant(h.db, { teams: 1 })
  const listing = await h.call(t.token, 'POST', '/v1/listings', listingBody({ name: 'Forgiving villa' }))
  listingId = listing.json().id
  customerId = (await h.call(t.token, 'POST', '/v1/customers', { name: 'Axios user' })).json().id
})

async function hold(checkIn: string, checkOut: string): Promise<string> {
  const res = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: checkIn, check_out: checkOut, guests: 2 })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

describe('actions without a required body', () => {
  it('accept no body, {}, and an empty body sent with Content-Type: application/json', async () => {
    const cases: [string, Record<string, string>, string | undefined][] = [
      ['no body', {}, undefined],
      ['{}', { 'content-type': 'application/json' }, '{}'],
      ['empty body with application/json (axios, got)', { 'content-type': 'application/json' }, ''],
      ['empty body with application/json; charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }, ''],
    ]
    let night = 1
    for (const [name, headers, payload] of cases) {
      const id = await hold(`2031-02-${String(night).padStart(2, '0')}`, `2031-02-${String(night + 1).padStart(2, '0')}`)
      night += 2
      const res = await h.inject({ method: 'POST', url: `/v1/bookings/${id}:confirm`, headers: { authorization: `Bearer ${t.token}`, ...headers }, ...(payload !== undefined ? { payload } : {}) })
      expect(res.statusCode, `${name}: ${res.body}`).toBe(200)
      expect(res.json().status).toBe('CONFIRMED')
    }
  })
})

describe('a near-miss URL names the route it probably meant', () => {
  it("'/' instead of ':' before an action, and back", async () => {
    const id = await hold('2031-03-01', '2031-03-03')
    const slash = await h.call(t.token, 'POST', `/v1/bookings/${id}/confirm`)
    expect(slash.statusCode).toBe(404)
    expect(slash.json().error).toMatchObject({ code: 'ROUTE_NOT_FOUND', details: { did_you_mean: `POST /v1/bookings/${id}:confirm` } })
    const colon = await h.call(t.token, 'PUT', `/v1/bookings/${id}:stay`, { check_in: '2031-03-01', check_out: '2031-03-02', guests: 1 })
    expect(colon.json().error.details).toMatchObject({ did_you_mean: `PUT /v1/bookings/${id}/stay` })
  })

  it('another method: PATCH where only PUT replaces', async () => {
    const res = await h.call(t.token, 'PATCH', `/v1/customers/${customerId}`, { name: 'x' })
    expect(res.statusCode).toBe(405)
    expect(res.headers.allow).toContain('PUT')
    expect(res.json().error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { did_you_mean: `PUT /v1/customers/${customerId}` } })
  })

  it('no guess when nothing is near', async () => {
    const res = await h.call(t.token, 'GET', '/v1/nothing-here')
    expect(res.statusCode).toBe(404)
    expect(res.json().error.details).toBeUndefined()
  })
})
