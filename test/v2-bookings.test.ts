import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it } from 'vitest'
import { jobRegistry } from '../src/jobs/registry.ts'
import { JobRunner } from '../src/jobs/runner.ts'
import { ManualClock, makeTenant, ownDatabaseOnPostgres, testApp } from './helpers/harness.ts'
import { LISTING, START, apr, createCustomer, createListing, expectError, expectFieldError } from './helpers/bookings.ts'

/**
 * /v2/bookings (docs/migrating-to-v2.md): the same bookings as /v1 in v2's representation; v1's
 * booking routes deprecated (headers, OpenAPI, counts in GET /v1/me); webhook bodies per the
 * endpoint's api_version. The file runs a webhook dispatcher: on PostgreSQL it takes a database of
 * its own, so it claims no other file's deliveries.
 */
await ownDatabaseOnPostgres('v2_bookings')
const clock = new ManualClock(START)
const h = await testApp({ clock, config: { holdMinutes: 15, webhookAllowPrivateTargets: true } })

async function tenant() {
  const t = await makeTenant(h.db, { clock, teams: 1 })
  return { t, listingId: await createListing(h, t.token), customerId: await createCustomer(h, t.token) }
}

const stay = (checkIn: string, checkOut: string, guests = 2) => ({ check_in: checkIn, check_out: checkOut, guests })

const V2_KEYS = [
  'id', 'status', 'team_id', 'mode', 'listing_id', 'customer_id', 'stay', 'price', 'hold_expires_at', 'confirmed_at', 'issued_at', 'voucher_number',
  'cancelled_at', 'cancellation_reason', 'expired_at', 'external_reference', 'guest_details', 'created_at', 'updated_at',
]

describe('/v2/bookings: the same bookings in v2\'s representation', () => {
  it('creates a hold: 201, Location under /v2, the stay and a nightly breakdown that adds up to the total', async () => {
    const { t, listingId, customerId } = await tenant()
    const res = await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay(apr(1), apr(4)), external_reference: { system: 'pms', booking_id: 'R-1' } })
    expect(res.statusCode, res.body).toBe(201)
    const b = res.json()
    expect(res.headers.location).toBe(`${h.config.publicBaseUrl}/v2/bookings/${b.id}`)
    expect(Object.keys(b)).toEqual(V2_KEYS)
    expect(b).toMatchObject({
      status: 'HELD',
      stay: { check_in: apr(1), check_out: apr(4), nights: 3, guests: 2 },
      price: {
        total: { amount: '300.00', currency: 'USD' },
        nightly: [1, 2, 3].map((d) => ({ date: apr(d), rate: LISTING.nightly_rate })),
      },
      external_reference: { system: 'pms', booking_id: 'R-1' },
    })
    expect(res.headers.deprecation).toBeUndefined()

    // v1 reads the same booking in v1's representation
    const v1 = await h.call(t.token, 'GET', `/v1/bookings/${b.id}`)
    expect(v1.json()).toMatchObject({ id: b.id, check_in: apr(1), check_out: apr(4), guests: 2, price: { nights: 3, total: { amount: '300.00', currency: 'USD' } }, external_system: 'pms', external_booking_id: 'R-1' })
  })

  it('both versions act on the same bookings: made in v1, confirmed and issued in v2, cancelled in v1', async () => {
    const { t, listingId, customerId } = await tenant()
    const made = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: apr(5), check_out: apr(7), guests: 1 })
    expect(made.statusCode).toBe(201)
    const id = made.json().id
    const confirmed = await h.call(t.token, 'POST', `/v2/bookings/${id}:confirm`)
    expect(confirmed.statusCode, confirmed.body).toBe(200)
    expect(confirmed.json()).toMatchObject({ status: 'CONFIRMED', stay: { nights: 2, guests: 1 }, external_reference: null })
    const issued = await h.call(t.token, 'POST', `/v2/bookings/${id}:issue`)
    expect(issued.json().voucher_number).toEqual(expect.any(String))
    const cancelled = await h.call(t.token, 'POST', `/v1/bookings/${id}:cancel`, { reason: 'guest asked' })
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', voucher_number: issued.json().voucher_number })
    expect((await h.call(t.token, 'GET', `/v2/bookings/${id}`)).json()).toMatchObject({ status: 'CANCELLED', cancellation_reason: 'guest asked' })
    // a cancelled booking cannot be confirmed: the same conflict on both versions
    expectError(await h.call(t.token, 'POST', `/v2/bookings/${id}:confirm`), 409, 'BOOKING_INVALID_TRANSITION')
  })

  it('lists with v1\'s filters and cursors; fields= names v2\'s fields', async () => {
    const { t, listingId, customerId } = await tenant()
    for (const d of [1, 3, 5]) {
      expect((await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay(apr(d), apr(d + 1)) })).statusCode).toBe(201)
    }
    const first = await h.call(t.token, 'GET', '/v2/bookings?limit=2&sort=check_in')
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json().data.map((b: { stay: { check_in: string } }) => b.stay.check_in)).toEqual([apr(1), apr(3)])
    const next = await h.call(t.token, 'GET', `/v2/bookings?limit=2&sort=check_in&cursor=${encodeURIComponent(first.json().pagination.next_cursor)}`)
    expect(next.json()).toMatchObject({ data: [{ stay: { check_in: apr(5) } }], pagination: { has_more: false } })

    const sparse = await h.call(t.token, 'GET', '/v2/bookings?fields=id,stay&status=HELD')
    expect(sparse.statusCode, sparse.body).toBe(200)
    expect(Object.keys(sparse.json().data[0])).toEqual(['id', 'stay'])
    expectFieldError(await h.call(t.token, 'GET', '/v2/bookings?fields=check_in'), 'fields')
    expectFieldError(await h.call(t.token, 'GET', '/v2/bookings?status=PENDING'), 'status')

    const byCustomer = await h.call(t.token, 'GET', `/v2/customers/${customerId}/bookings`)
    expect(byCustomer.json().data).toHaveLength(3)
    expect(byCustomer.json().data[0]).toHaveProperty('stay')
  })

  it('refuses bad bodies naming v2\'s fields, and writes nothing', async () => {
    const { t, listingId, customerId } = await tenant()
    const before = (await h.call(t.token, 'GET', '/v2/bookings')).json().data.length
    expectFieldError(await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay('2020-01-01', '2020-01-03') }), 'stay.check_in')
    expectFieldError(await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay(apr(3), apr(1)) }), 'stay.check_out')
    expectFieldError(await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, check_in: apr(1), check_out: apr(2), guests: 1 }), 'stay', 'check_in')
    expectFieldError(await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay(apr(1), apr(2)), external_reference: { system: 'pms' } }), 'external_reference.booking_id')
    expect((await h.call(t.token, 'GET', '/v2/bookings')).json().data.length).toBe(before)
  })

  it('PUT stay takes the stay a GET returned, nights included when it matches the dates; ETags are per representation', async () => {
    const { t, listingId, customerId } = await tenant()
    const b = (await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay(apr(10), apr(12)) })).json()
    const got = await h.call(t.token, 'GET', `/v2/bookings/${b.id}`)
    const etag = got.headers.etag as string

    // the v1 ETag of the same booking is not the v2 one
    const v1etag = (await h.call(t.token, 'GET', `/v1/bookings/${b.id}`)).headers.etag as string
    expect(v1etag).not.toBe(etag)
    expectError(await h.call(t.token, 'PUT', `/v2/bookings/${b.id}/stay`, { ...got.json().stay, check_out: apr(13), nights: 3 }, { 'if-match': v1etag }), 412, 'PRECONDITION_FAILED')

    expectFieldError(await h.call(t.token, 'PUT', `/v2/bookings/${b.id}/stay`, { ...got.json().stay, check_out: apr(13) }), 'nights')
    const moved = await h.call(t.token, 'PUT', `/v2/bookings/${b.id}/stay`, { ...got.json().stay, check_out: apr(13), nights: 3 }, { 'if-match': etag })
    expect(moved.statusCode, moved.body).toBe(200)
    expect(moved.json()).toMatchObject({ stay: { check_in: apr(10), check_out: apr(13), nights: 3 }, price: { total: { amount: '300.00' } } })
    expect(moved.json().price.nightly).toHaveLength(3)
    expect(moved.headers.etag).toBe((await h.call(t.token, 'GET', `/v2/bookings/${b.id}`)).headers.etag)

    const guests = await h.call(t.token, 'PUT', `/v2/bookings/${b.id}/guest-details`, { lead_guest_name: 'Lan', lead_guest_email: null, lead_guest_phone: null, additional_guest_names: [], special_requests: null })
    expect(guests.statusCode, guests.body).toBe(200)
    expect(guests.json().guest_details).toMatchObject({ lead_guest_name: 'Lan' })
  })

  it('another tenant\'s booking is exactly an unknown id', async () => {
    const a = await tenant()
    const b = await tenant()
    const theirs = (await h.call(b.t.token, 'POST', '/v2/bookings', { listing_id: b.listingId, customer_id: b.customerId, stay: stay(apr(1), apr(2)) })).json().id
    const unknown = 'bkg_00000000000000000000000000'
    for (const [method, path] of [['GET', ''], ['POST', ':confirm'], ['POST', ':issue']] as const) {
      const foreign = await h.call(a.t.token, method, `/v2/bookings/${theirs}${path}`)
      const none = await h.call(a.t.token, method, `/v2/bookings/${unknown}${path}`)
      expect(foreign.statusCode).toBe(404)
      expect(foreign.json().error.message).toBe(none.json().error.message)
      expect({ ...foreign.json().error, request_id: null }).toEqual({ ...none.json().error, request_id: null })
    }
    // nor can it be booked against another tenant's listing or customer
    expectError(await h.call(a.t.token, 'POST', '/v2/bookings', { listing_id: b.listingId, customer_id: a.customerId, stay: stay(apr(1), apr(2)) }), 404, 'NOT_FOUND')
  })
})

describe('v1\'s booking routes are deprecated', () => {
  it('answer with Deprecation, Sunset (12 months and more later) and Link to the migration guide, errors included', async () => {
    const { t, listingId, customerId } = await tenant()
    const created = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: apr(20), check_out: apr(21), guests: 1 })
    const id = created.json().id
    for (const res of [created, await h.call(t.token, 'GET', '/v1/bookings'), await h.call(t.token, 'GET', `/v1/bookings/${id}`), await h.call(t.token, 'GET', '/v1/bookings/bkg_unknown'), await h.call(null, 'GET', '/v1/bookings')]) {
      expect(res.headers.deprecation).toMatch(/^@\d+$/)
      const deprecatedAt = Number(String(res.headers.deprecation).slice(1)) * 1000
      const sunsetAt = Date.parse(String(res.headers.sunset))
      expect(sunsetAt - deprecatedAt).toBeGreaterThanOrEqual(365 * 86_400_000)
      expect(res.headers.link).toContain(`<${h.config.publicBaseUrl}/docs/guides/migrating-to-v2>; rel="deprecation"`)
    }
    expect((await h.call(t.token, 'GET', `/v1/bookings/${id}`)).headers.link).toContain(`<${h.config.publicBaseUrl}/v2/bookings/${id}>; rel="successor-version"`)
    // the routes v2 does not replace are not deprecated
    for (const path of ['/v1/customers', `/v2/bookings/${id}`, '/v1/me']) expect((await h.call(t.token, 'GET', path)).headers.deprecation).toBeUndefined()
    // the guide the Link names is served
    const guide = await h.call(null, 'GET', '/docs/guides/migrating-to-v2')
    expect(guide.statusCode).toBe(200)
    expect(guide.headers['content-type']).toContain('text/html')
    expect(guide.body).toContain('external_reference')
    expectError(await h.call(null, 'GET', '/docs/guides/nope'), 404, 'NOT_FOUND')
  })

  it('are marked deprecated in the OpenAPI document; their v2 replacements are not', async () => {
    const doc = (await h.call(null, 'GET', '/openapi.json')).json()
    const ops = Object.entries(doc.paths as Record<string, Record<string, { operationId: string; deprecated?: boolean }>>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, ...op })))
    const deprecated = ops.filter((o) => o.deprecated).map((o) => o.operationId).sort()
    expect(deprecated).toEqual(['cancelBooking', 'confirmBooking', 'createBooking', 'getBooking', 'issueBooking', 'listBookings', 'listCustomerBookings', 'replaceBookingGuestDetails', 'replaceBookingStay'])
    for (const id of deprecated) {
      const replacement = ops.find((o) => o.operationId === `${id}V2`)
      expect(replacement, id).toBeDefined()
      expect(replacement!.deprecated, id).toBeFalsy()
    }
  })

  it('GET /v1/me counts this token\'s deprecated calls of the last 30 days, without a write per request', async () => {
    const { t, listingId, customerId } = await tenant()
    const other = await t.addToken()
    const me = async (token: string) => (await h.call(token, 'GET', '/v1/me')).json().deprecated_operations
    expect(await me(t.token)).toEqual([])

    for (let i = 0; i < 3; i++) await h.call(t.token, 'GET', '/v1/bookings')
    await h.call(t.token, 'GET', '/v1/bookings/bkg_unknown')
    await h.call(t.token, 'GET', '/v2/bookings')
    const stored = async () => (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM deprecated_calls WHERE token_id = $1', [t.tokenId])).rows[0]!.n
    expect(await stored()).toBe(0)

    const expected = [
      { operation_id: 'listBookings', method: 'GET', path: '/v1/bookings', calls: 3, replaced_by: 'GET /v2/bookings', sunset_at: '2027-12-01T00:00:00.000Z', last_called_at: clock.now().toISOString() },
      { operation_id: 'getBooking', method: 'GET', path: '/v1/bookings/{id}', calls: 1, replaced_by: 'GET /v2/bookings/{id}', sunset_at: '2027-12-01T00:00:00.000Z', last_called_at: clock.now().toISOString() },
    ]
    expect(await me(t.token)).toEqual(expected)
    expect(await me(other.token)).toEqual([])
    // an action: its path as the document writes it
    const held = (await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay(apr(1), apr(2)) })).json()
    expect((await h.call(t.token, 'POST', `/v1/bookings/${held.id}:confirm`)).statusCode).toBe(200)
    expected.splice(1, 0, { operation_id: 'confirmBooking', method: 'POST', path: '/v1/bookings/{id}:confirm', calls: 1, replaced_by: 'POST /v2/bookings/{id}:confirm', sunset_at: '2027-12-01T00:00:00.000Z', last_called_at: clock.now().toISOString() })
    expect(await me(t.token)).toEqual(expected)

    // flushed (as every minute): stored once, and still counted once
    await h.deprecatedCalls.flush()
    expect(await stored()).toBe(3)
    expect(await me(t.token)).toEqual(expected)
    await h.call(t.token, 'GET', '/v1/bookings')
    expect((await me(t.token))[0]).toMatchObject({ operation_id: 'listBookings', calls: 4 })
    await h.deprecatedCalls.flush()
    expect((await me(t.token))[0]).toMatchObject({ operation_id: 'listBookings', calls: 4 })

    // 31 days later the calls have left the window
    clock.advance(31 * 86_400_000)
    await h.deprecatedCalls.flush()
    const later = await makeTenant(h.db, { clock, teams: 1 })
    expect(await me(later.token)).toEqual([])
    const { rows } = await h.db.query<{ calls: string }>('SELECT sum(calls)::text AS calls FROM deprecated_calls WHERE token_id = $1 AND day >= $2', [t.tokenId, new Date(clock.now().getTime() - 30 * 86_400_000).toISOString().slice(0, 10)])
    expect(rows[0]!.calls).toBeNull()
  })
})

describe('webhook bodies follow the endpoint\'s api_version', () => {
  it('a v2 endpoint receives bookings as /v2 shows them, a v1 endpoint as /v1 does; customers are the same in both', async () => {
    const jobs = new JobRunner(jobRegistry({ db: h.db, clock, holdMinutes: 15, holdSweepSeconds: 0, webhookAllowPrivateTargets: true, webhookPollMs: 50 }), h.app.log)
    jobs.start()
    const received: { path: string; body: string; headers: Record<string, string> }[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers as Record<string, string> })
        res.end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    afterAll(async () => {
      await jobs.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const { t, listingId, customerId } = await tenant()
    const secrets: Record<string, string> = {}
    for (const version of ['v1', 'v2']) {
      const res = await h.call(t.token, 'POST', '/v1/webhooks', { url: `${base}/${version}`, api_version: version, event_types: ['booking.created', 'customer.created'] })
      expect(res.statusCode, res.body).toBe(201)
      expect(res.json().api_version).toBe(version)
      secrets[version] = res.json().secret
    }
    const booking = (await h.call(t.token, 'POST', '/v2/bookings', { listing_id: listingId, customer_id: customerId, stay: stay(apr(1), apr(3)) })).json()
    const customer = (await h.call(t.token, 'POST', '/v1/customers', { name: 'Minh' })).json()

    const end = Date.now() + 5000
    while (received.length < 4 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(received).toHaveLength(4)
    const payload = (version: string, type: string) => {
      const r = received.find((x) => x.path === `/${version}` && x.body.includes(`"${type}"`))!
      // signed like any delivery (the file's clock is in 2031, so the library's freshness check is left out here)
      expect(r.headers['webhook-signature']).toContain(new Webhook(secrets[version]!).sign(r.headers['webhook-id']!, new Date(Number(r.headers['webhook-timestamp']) * 1000), r.body))
      return JSON.parse(r.body) as { event_type: string; data: Record<string, unknown> }
    }
    expect(payload('v2', 'booking.created').data).toEqual((await h.call(t.token, 'GET', `/v2/bookings/${booking.id}`)).json())
    expect(payload('v1', 'booking.created').data).toEqual((await h.call(t.token, 'GET', `/v1/bookings/${booking.id}`)).json())
    expect(payload('v2', 'customer.created').data).toEqual(customer)
    expect(payload('v1', 'customer.created').data).toEqual(customer)
  })
})
