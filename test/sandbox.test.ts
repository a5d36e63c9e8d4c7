import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { LightMyRequestResponse } from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { ALWAYS_UNAVAILABLE_LISTING_ID, PRICE_CHANGES_LISTING_ID } from '../src/modules/sandbox/magic-values.ts'
import { isIdOf } from '../src/platform/ids.ts'
import { apr, book, booked, createCustomer, expectError, expectFieldError, world } from './helpers/bookings.ts'
import type { World } from './helpers/bookings.ts'
import { makeTenant } from './helpers/harness.ts'

/** Test mode's magic values (API.md §9): GET /v1/sandbox, and the listings that always fail a booking the same way. */
type Json = Record<string, unknown>

let w: World
let doc: { paths: Record<string, Record<string, { operationId: string; tags: string[]; responses: Record<string, { content: Record<string, { schema: Json }> }> }>>; components: { schemas: Record<string, Json> } }

beforeAll(async () => {
  w = await world()
  doc = (await w.h.inject({ method: 'GET', url: '/openapi.json' })).json()
})

function validate(path: string, method: string, status: string, body: unknown): void {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  for (const [name, component] of Object.entries(doc.components.schemas)) ajv.addSchema(component, `#/components/schemas/${name}`)
  const check = ajv.compile(doc.paths[path]![method]!.responses[status]!.content['application/json']!.schema)
  expect(check(body), JSON.stringify(check.errors)).toBe(true)
}

/** An answer without what differs per request (its request id), to compare two answers' bodies. */
function withoutRequestId(res: LightMyRequestResponse): Json {
  const body = res.json()
  delete body.error.request_id
  return body
}

function bookMagic(listingId: string, extra: Json = {}, token = w.t.token, customerId = w.customerId): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: apr(10), check_out: apr(13), guests: 2, ...extra })
}

async function bookingCount(): Promise<number> {
  const { rows } = await w.h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE partner_id = $1', [w.t.partnerId])
  return rows[0]!.n
}

async function eventCount(): Promise<number> {
  const { rows } = await w.h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE partner_id = $1', [w.t.partnerId])
  return rows[0]!.n
}

describe('GET /v1/sandbox', () => {
  it('lists the magic listings, the payment reference and the pointers, valid against its documented schema', async () => {
    const res = await w.h.call(w.t.token, 'GET', '/v1/sandbox')
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-ratelimit-bucket']).toBe('read')
    const body = res.json()
    validate('/v1/sandbox', 'get', '200', body)
    expect(body).toMatchObject({ mode: 'test', magic_values_active: true, docs_url: 'http://api.test/docs/guides/sandbox' })
    expect(body.listings.map((l: Json) => [l.id, l.behaviour, l.expect])).toEqual([
      [ALWAYS_UNAVAILABLE_LISTING_ID, 'ALWAYS_UNAVAILABLE', [{ operation: 'createBooking', status: 409, code: 'LISTING_UNAVAILABLE' }]],
      [PRICE_CHANGES_LISTING_ID, 'PRICE_CHANGES', [{ operation: 'createBooking', status: 409, code: 'PRICE_CHANGED' }]],
    ])
    expect(body.payment_references).toEqual([expect.objectContaining({ reference: 'DECLINE', expect: { status: 'FAILED', failure_code: 'DECLINED' } })])
    expect(body.test_clock).toMatchObject({ read: 'GET /v1/test-clock', advance: 'POST /v1/test-clock:advance' })
    expect(body.mock_responses).toMatchObject({ enabled: true, parameter: 'mock=true' })
  })

  it('answers a live token too, saying the values do nothing there; needs a token but no permission', async () => {
    const live = await makeTenant(w.h.db, { teams: 1, mode: 'live', clock: w.clock })
    const res = await w.h.call(live.token, 'GET', '/v1/sandbox')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ mode: 'live', magic_values_active: false })
    expect(res.json().note).toMatch(/test mode only/)
    const viewer = await w.t.addUser('VIEWER')
    expect((await w.h.call(viewer.token, 'GET', '/v1/sandbox')).statusCode).toBe(200)
    expect((await w.h.call(null, 'GET', '/v1/sandbox')).statusCode).toBe(401)
  })

  it('is in the document, with its operationId and tag', () => {
    const op = doc.paths['/v1/sandbox']!.get!
    expect(op.operationId).toBe('getSandbox')
    expect(op.tags).toEqual(['Sandbox'])
  })
})

describe('the magic listings', () => {
  it('have well-formed listing ids that no real listing can have', () => {
    for (const id of [ALWAYS_UNAVAILABLE_LISTING_ID, PRICE_CHANGES_LISTING_ID]) expect(isIdOf('listing', id), id).toBe(true)
  })

  it('read as ACTIVE listings in the caller\'s first team, for any partner, valid against the listing schema', async () => {
    const other = await makeTenant(w.h.db, { teams: 3, clock: w.clock })
    for (const [tenant, teams] of [[w.t, w.t.teamIds], [other, other.teamIds]] as const) {
      for (const id of [ALWAYS_UNAVAILABLE_LISTING_ID, PRICE_CHANGES_LISTING_ID]) {
        const res = await w.h.call(tenant.token, 'GET', `/v1/listings/${id}`)
        expect(res.statusCode, res.body).toBe(200)
        validate('/v1/listings/{id}', 'get', '200', res.json())
        expect(res.json()).toMatchObject({ id, state: 'ACTIVE', mode: 'test', team_id: [...teams].sort()[0] })
        expect(res.headers.etag).toBeDefined()
      }
    }
    // virtual and read-only: never in a list of the partner's own listings, and not theirs to change
    const unknown = await w.h.call(w.t.token, 'DELETE', '/v1/listings/lst_01kq3v5x7e8f9g0h1j2k3m4n5p')
    const archived = await w.h.call(w.t.token, 'DELETE', `/v1/listings/${ALWAYS_UNAVAILABLE_LISTING_ID}`)
    expect(withoutRequestId(archived)).toEqual(withoutRequestId(unknown))
    const current = (await w.h.call(w.t.token, 'GET', `/v1/listings/${PRICE_CHANGES_LISTING_ID}`)).json()
    const replaced = await w.h.call(w.t.token, 'PUT', `/v1/listings/${PRICE_CHANGES_LISTING_ID}`, { ...current, name: 'Mine now' })
    expectError(replaced, 404, 'NOT_FOUND')
    expect((await w.h.call(w.t.token, 'GET', `/v1/listings/${PRICE_CHANGES_LISTING_ID}`)).json()).toEqual(current)
    const listed = (await w.h.call(w.t.token, 'GET', '/v1/listings?limit=100')).json().data.map((l: Json) => l.id)
    expect(listed).not.toContain(ALWAYS_UNAVAILABLE_LISTING_ID)
  })

  it('are unknown ids in live mode: the same 404 as any unknown id', async () => {
    const live = await makeTenant(w.h.db, { teams: 1, mode: 'live', clock: w.clock })
    const unknown = await w.h.call(live.token, 'GET', '/v1/listings/lst_01kq3v5x7e8f9g0h1j2k3m4n5p')
    for (const id of [ALWAYS_UNAVAILABLE_LISTING_ID, PRICE_CHANGES_LISTING_ID]) {
      const res = await w.h.call(live.token, 'GET', `/v1/listings/${id}`)
      expectError(res, 404, 'NOT_FOUND')
      expect(withoutRequestId(res)).toEqual(withoutRequestId(unknown))
      expectError(await w.h.call(live.token, 'GET', `/v1/listings/${id}/calendar?from=${apr(1)}&to=${apr(3)}`), 404, 'NOT_FOUND')
      const customer = await createCustomer(w.h, live.token)
      expect(withoutRequestId(await bookMagic(id, {}, live.token, customer))).toEqual(withoutRequestId(await bookMagic('lst_01kq3v5x7e8f9g0h1j2k3m4n5p', {}, live.token, customer)))
    }
  })

  it('calendars: the unavailable one has no free night, the price one quotes every night; ranges are checked as for any listing', async () => {
    const taken = (await w.h.call(w.t.token, 'GET', `/v1/listings/${ALWAYS_UNAVAILABLE_LISTING_ID}/calendar?from=${apr(10)}&to=${apr(13)}`)).json()
    validate('/v1/listings/{id}/calendar', 'get', '200', taken)
    expect(taken.nights).toEqual([apr(10), apr(11), apr(12)].map((date) => ({ date, available: false, price: { amount: '150.00', currency: 'USD' } })))
    const priced = (await w.h.call(w.t.token, 'GET', `/v1/listings/${PRICE_CHANGES_LISTING_ID}/calendar?from=${apr(10)}&to=${apr(12)}`)).json()
    expect(priced.nights.map((n: Json) => [n.available, n.price])).toEqual([[true, { amount: '120.00', currency: 'USD' }], [true, { amount: '120.00', currency: 'USD' }]])
    expectFieldError(await w.h.call(w.t.token, 'GET', `/v1/listings/${PRICE_CHANGES_LISTING_ID}/calendar?from=${apr(12)}&to=${apr(10)}`), 'to')
  })

  it('the unavailable one refuses a booking exactly as a real conflict does, and writes nothing', async () => {
    // a real conflict, to compare with
    await booked(w, apr(20), apr(23))
    const real = expectError(await book(w, apr(21), apr(22)), 409, 'LISTING_UNAVAILABLE')
    const bookings = await bookingCount()
    const events = await eventCount()
    const magic = expectError(await bookMagic(ALWAYS_UNAVAILABLE_LISTING_ID), 409, 'LISTING_UNAVAILABLE')
    expect({ ...magic, request_id: null }).toEqual({ ...real, request_id: null })
    // even when the total it is sent is right
    expectError(await bookMagic(ALWAYS_UNAVAILABLE_LISTING_ID, { expected_total: { amount: '450.00', currency: 'USD' } }), 409, 'LISTING_UNAVAILABLE')
    expect(await bookingCount()).toBe(bookings)
    expect(await eventCount()).toBe(events)
  })

  it('the price one always answers PRICE_CHANGED with the new total, with or without expected_total, and writes nothing', async () => {
    const bookings = await bookingCount()
    // no expected_total: the quote (3 nights × 120.00) has risen by 10%
    const bare = expectError(await bookMagic(PRICE_CHANGES_LISTING_ID), 409, 'PRICE_CHANGED')
    expect(bare.details).toEqual({ actual_total: { amount: '396.00', currency: 'USD' }, expected_total: { amount: '360.00', currency: 'USD' } })
    expect(bare.message).toBe('The total is 396.00 USD, not 360.00 USD.')
    const quoted = expectError(await bookMagic(PRICE_CHANGES_LISTING_ID, { expected_total: { amount: '360.00', currency: 'USD' } }), 409, 'PRICE_CHANGED')
    expect(quoted.details.actual_total).toEqual({ amount: '396.00', currency: 'USD' })
    // a retry with the new total: the price has moved again
    const retried = expectError(await bookMagic(PRICE_CHANGES_LISTING_ID, { expected_total: { amount: '396.00', currency: 'USD' } }), 409, 'PRICE_CHANGED')
    expect(retried.details).toEqual({ actual_total: { amount: '435.60', currency: 'USD' }, expected_total: { amount: '396.00', currency: 'USD' } })
    // another currency: the quote is the base, as a real listing reports the total in its own currency
    const euros = expectError(await bookMagic(PRICE_CHANGES_LISTING_ID, { expected_total: { amount: '330.00', currency: 'EUR' } }), 409, 'PRICE_CHANGED')
    expect(euros.details).toEqual({ actual_total: { amount: '396.00', currency: 'USD' }, expected_total: { amount: '330.00', currency: 'EUR' } })
    // a real PRICE_CHANGED has the same details
    const real = expectError(await book(w, apr(5), apr(6), { expected_total: { amount: '1.00', currency: 'USD' } }), 409, 'PRICE_CHANGED')
    expect(Object.keys(real.details)).toEqual(Object.keys(bare.details))
    expect(real.retry_advice).toBe(bare.retry_advice)
    expect(await bookingCount()).toBe(bookings)
  })

  it('the checks a real booking passes first come first, in the same order: input, customer, external id, capacity', async () => {
    expectFieldError(await bookMagic(PRICE_CHANGES_LISTING_ID, { check_out: apr(9) }), 'check_out')
    const unknownCustomer = await bookMagic(ALWAYS_UNAVAILABLE_LISTING_ID, {}, w.t.token, 'cus_01kq3v5x7e8f9g0h1j2k3m4n5p')
    expect(expectError(unknownCustomer, 404, 'NOT_FOUND').details).toEqual({ resource: 'customer' })
    // another partner's customer is an unknown customer
    const other = await makeTenant(w.h.db, { teams: 1, clock: w.clock })
    const foreign = await createCustomer(w.h, other.token)
    expect(withoutRequestId(await bookMagic(ALWAYS_UNAVAILABLE_LISTING_ID, {}, w.t.token, foreign))).toEqual(withoutRequestId(unknownCustomer))
    const existing = await booked(w, apr(1), apr(2), { external_system: 'cm', external_booking_id: 'X-1' })
    const duplicate = expectError(await bookMagic(PRICE_CHANGES_LISTING_ID, { external_system: 'cm', external_booking_id: 'X-1' }), 409, 'EXTERNAL_BOOKING_DUPLICATE')
    expect(duplicate.details.existing_booking_id).toBe(existing.id)
    expectFieldError(await bookMagic(ALWAYS_UNAVAILABLE_LISTING_ID, { guests: 5 }), 'guests')
  })

  it('work through /v2/bookings too', async () => {
    const res = await w.h.call(w.t.token, 'POST', '/v2/bookings', { listing_id: PRICE_CHANGES_LISTING_ID, customer_id: w.customerId, stay: { check_in: apr(10), check_out: apr(12), guests: 2 } })
    expect(expectError(res, 409, 'PRICE_CHANGED').details.actual_total).toEqual({ amount: '264.00', currency: 'USD' })
  })

  it('work through the External API\'s POST /bookings too, in its flat error shape', async () => {
    const res = await w.h.call(w.t.token, 'POST', '/api/v1/external/bookings', { listing_id: ALWAYS_UNAVAILABLE_LISTING_ID, customer_id: w.customerId, check_in: apr(10), check_out: apr(13), guests: 2 })
    expect(res.statusCode, res.body).toBe(409)
    expect(res.json()).toMatchObject({ code: 'LISTING_UNAVAILABLE' })
    const price = await w.h.call(w.t.token, 'POST', '/api/v1/external/bookings', { listing_id: PRICE_CHANGES_LISTING_ID, customer_id: w.customerId, check_in: apr(10), check_out: apr(13), guests: 2 })
    expect(price.json()).toMatchObject({ code: 'PRICE_CHANGED', details: { actual_total: { amount: '396.00', currency: 'USD' } } })
  })
})
