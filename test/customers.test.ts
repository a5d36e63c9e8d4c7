import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { addDays } from '../src/platform/dates.ts'
import { newId } from '../src/platform/ids.ts'
import { customerReplacement } from './helpers/bodies.ts'
import { makeTenant, testApp } from './helpers/harness.ts'

/** Customers (API.md §3, §5, §7, §10): CRUD, validation, deletion rules, their bookings, tenancy. */
const h = await testApp()

const ID = /^cus_[0-7][0-9a-hjkmnp-tv-z]{25}$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

type Body = Record<string, unknown>
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies under test
type Json = Record<string, any>

function customerBody(overrides: Body = {}): Body {
  return { name: 'An Nguyen', email: 'an@example.com', phone: '+84901234567', language: 'vi', country_code: 'VN', ...overrides }
}

const listingBody = {
  name: 'Villa Da Lat',
  address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
  max_guests: 4,
  bedrooms: 2,
  nightly_rate: { amount: '1500000', currency: 'VND' },
  timezone: 'Asia/Ho_Chi_Minh',
}

const BASE = new Date(Date.now() + 140 * 86_400_000).toISOString().slice(0, 10)
const day = (n: number) => addDays(BASE, n)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function createCustomer(token: string, overrides: Body = {}): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/customers', customerBody(overrides))
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function createListing(token: string): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/listings', listingBody)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function createBooking(token: string, listingId: string, customerId: string, checkIn: string, checkOut: string): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: checkIn, check_out: checkOut, guests: 2 })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

function fieldNames(res: LightMyRequestResponse): string[] {
  return [...new Set((res.json().error.details.fields as { field: string }[]).map((f) => f.field))].sort()
}

function expectValidation(res: LightMyRequestResponse, fields: string[]): void {
  expect(res.statusCode, res.body).toBe(400)
  expect(res.json().error.code).toBe('VALIDATION_ERROR')
  expect(fieldNames(res)).toEqual([...fields].sort())
}

async function listIds(token: string, query = ''): Promise<string[]> {
  const res = await h.call(token, 'GET', `/v1/customers${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data.map((x: { id: string }) => x.id)
}

let probe = 0
async function sameNotFound(token: string, method: InjectOptions['method'], hiddenUrl: string, unknownUrl: string, body?: unknown): Promise<void> {
  const headers = { 'x-request-id': `customers-probe-${process.pid}-${++probe}` }
  const hidden = await h.call(token, method, hiddenUrl, body, headers)
  const unknown = await h.call(token, method, unknownUrl, body, headers)
  expect(unknown.statusCode, unknown.body).toBe(404)
  expect(unknown.json().error.code).toBe('NOT_FOUND')
  expect(hidden.statusCode, hidden.body).toBe(404)
  expect(hidden.body).toBe(unknown.body)
  for (const header of ['content-type', 'content-length', 'etag', 'location']) expect(hidden.headers[header], header).toEqual(unknown.headers[header])
}

describe('POST /v1/customers', () => {
  it('creates: 201, Location, the full resource; GET returns the same', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/customers', customerBody())
    expect(res.statusCode, res.body).toBe(201)
    const customer = res.json()
    expect(customer).toEqual({
      id: expect.stringMatching(ID),
      team_id: t.teamIds[0],
      mode: 'test',
      name: 'An Nguyen',
      email: 'an@example.com',
      phone: '+84901234567',
      language: 'vi',
      country_code: 'VN',
      created_at: expect.stringMatching(ISO),
      updated_at: customer.created_at,
    })
    expect(res.headers.location).toBe(`http://api.test/v1/customers/${customer.id}`)
    const got = await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json()).toEqual(customer)
  })

  it('only name is required (the rest are null); a language tag is canonicalised', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/customers', { name: 'Bare' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({ name: 'Bare', email: null, phone: null, language: null, country_code: null })
    expect((await createCustomer(t.token, { language: 'en-us' })).language).toBe('en-US')
    expectValidation(await h.call(t.token, 'POST', '/v1/customers', { email: 'x@example.com' }), ['name'])
  })

  it('reports every semantic problem at once: phone not E.164, language, country', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/customers', customerBody({ phone: '0901234567', language: 'not a tag!!', country_code: 'XX' }))
    expectValidation(res, ['country_code', 'language', 'phone'])
    expectValidation(await h.call(t.token, 'POST', '/v1/customers', customerBody({ phone: '+1555' })), ['phone'])
    expectValidation(await h.call(t.token, 'POST', '/v1/customers', customerBody({ email: 'nope' })), ['email'])
    expectValidation(await h.call(t.token, 'POST', '/v1/customers', customerBody({ country_code: 'vn' })), ['country_code'])
    expectValidation(await h.call(t.token, 'POST', '/v1/customers', customerBody({ nickname: 'An' })), ['nickname'])
    expect(await listIds(t.token)).toEqual([])
  })

  // BUG: a schema error (email 'nope', checked by Ajv) hides the semantic ones (phone, language,
  // country, checked in CustomerService): only email is reported (API.md §6: all field errors at once).
  it('reports a bad email together with a bad phone, language and country', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/customers', customerBody({ email: 'nope', phone: '0901234567', language: 'not a tag!!', country_code: 'XX' }))
    expectValidation(res, ['country_code', 'email', 'language', 'phone'])
  })

  // BUG: a nullable field (email: string | null) that fails its format gets three entries in
  // details.fields: 'must match format "email"', 'must be null' and 'must match a schema in anyOf'.
  // The second is misleading; src/http/errors.ts says the anyOf summary should stand alone.
  it('a bad nullable field is reported once, without a misleading "must be null"', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/customers', customerBody({ email: 'nope' }))
    expect(res.statusCode).toBe(400)
    const entries = res.json().error.details.fields as { field: string; message: string }[]
    expect(entries.filter((f) => f.field === 'email')).toHaveLength(1)
    expect(entries.map((f) => f.message).join(' ')).not.toContain('must be null')
  })

  it('requires team_id with two teams; a foreign team is INVALID_TEAM_IDS', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const other = await makeTenant(h.db, { teams: 1 })
    expectValidation(await h.call(t.token, 'POST', '/v1/customers', customerBody()), ['team_id'])
    const foreign = await h.call(t.token, 'POST', '/v1/customers', customerBody({ team_id: other.teamIds[0] }))
    expect(foreign.statusCode).toBe(400)
    expect(foreign.json().error.code).toBe('INVALID_TEAM_IDS')
    expect(foreign.json().error.details.invalid_team_ids).toEqual([other.teamIds[0]])
    expect((await createCustomer(t.token, { team_id: t.teamIds[1] })).team_id).toBe(t.teamIds[1])
    expect(await listIds(other.token)).toEqual([])
  })
})

describe('GET and PUT /v1/customers/{id}', () => {
  it('ETag and If-None-Match → 304; fields= selects keys; unknown field → 400; .json alias', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    const res = await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)
    const etag = res.headers.etag as string
    expect(etag).toMatch(/^"[^"]+"$/)
    const cached = await h.call(t.token, 'GET', `/v1/customers/${customer.id}`, undefined, { 'if-none-match': etag })
    expect(cached.statusCode).toBe(304)
    expect(cached.body).toBe('')

    const some = await h.call(t.token, 'GET', `/v1/customers/${customer.id}?fields=id,email`)
    expect(some.json()).toEqual({ id: customer.id, email: 'an@example.com' })
    const bad = await h.call(t.token, 'GET', `/v1/customers/${customer.id}?fields=nope`)
    expectValidation(bad, ['fields'])
    expect((await h.call(t.token, 'GET', `/v1/customers/${customer.id}.json`)).json()).toEqual(customer)
    expect((await h.call(t.token, 'GET', '/v1/customers?fields=name')).json().data).toEqual([{ name: 'An Nguyen' }])
  })

  it('PUT replaces the whole customer: an omitted field is a 400 naming it, null clears; updated_at moves', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    await sleep(5)
    // every writable field is required: a partial body is refused and changes nothing
    expectValidation(await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, { name: 'An Tran', email: 'tran@example.com' }), ['country_code', 'language', 'phone'])
    expect((await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).json()).toEqual(customer)
    // explicit nulls clear the nullable fields
    const res = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerReplacement(customer, { name: 'An Tran', email: 'tran@example.com', phone: null, language: null, country_code: null }))
    expect(res.statusCode, res.body).toBe(200)
    const updated = res.json()
    expect(updated).toEqual({ ...customer, name: 'An Tran', email: 'tran@example.com', phone: null, language: null, country_code: null, updated_at: expect.stringMatching(ISO) })
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(customer.updated_at))
    const got = await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)
    expect(got.json()).toEqual(updated)
    expect(got.headers.etag).toBe(res.headers.etag)
    // validation as on POST
    expectValidation(await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerBody({ phone: '+1555', country_code: 'XX' })), ['country_code', 'phone'])
    expect((await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).json()).toEqual(updated)
  })

  it('PUT accepts the read-only fields as GET returned them, and refuses a changed one (read_only)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    // the resource sent back whole, one field changed
    const echoed = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, { ...customer, name: 'An Tran' })
    expect(echoed.statusCode, echoed.body).toBe(200)
    const updated = echoed.json()
    expect(updated).toEqual({ ...customer, name: 'An Tran', updated_at: expect.stringMatching(ISO) })
    // team_id equal to the stored one is accepted; another one is a 400 naming it, and nothing changes
    expect((await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerReplacement(updated, { team_id: t.teamIds[0] }))).statusCode).toBe(200)
    const current = (await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).json()
    const moved = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerReplacement(current, { name: 'Moved', team_id: newId('team') }))
    expectValidation(moved, ['team_id'])
    expect(moved.json().error.details.fields[0].code).toBe('read_only')
    expect((await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).json()).toEqual(current)
  })

  it('PUT with If-Match: current ETag → 200, stale → 412 and nothing changes', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    const etag1 = (await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).headers.etag as string
    const ok = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerBody({ name: 'Second' }), { 'if-match': etag1 })
    expect(ok.statusCode, ok.body).toBe(200)
    const stale = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerBody({ name: 'Third' }), { 'if-match': etag1 })
    expect(stale.statusCode).toBe(412)
    expect(stale.json().error.code).toBe('PRECONDITION_FAILED')
    const got = await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)
    expect(got.json().name).toBe('Second')
    expect(got.headers.etag).toBe(ok.headers.etag)
  })
})

describe('DELETE /v1/customers/{id}', () => {
  it('204, then 404 on GET, PUT and DELETE, and gone from the list', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    const keep = await createCustomer(t.token, { name: 'Keep' })
    const del = await h.call(t.token, 'DELETE', `/v1/customers/${customer.id}`)
    expect(del.statusCode).toBe(204)
    expect(del.body).toBe('')
    await sameNotFound(t.token, 'GET', `/v1/customers/${customer.id}`, `/v1/customers/${newId('customer')}`)
    await sameNotFound(t.token, 'PUT', `/v1/customers/${customer.id}`, `/v1/customers/${newId('customer')}`, customerBody())
    await sameNotFound(t.token, 'DELETE', `/v1/customers/${customer.id}`, `/v1/customers/${newId('customer')}`)
    expect(await listIds(t.token)).toEqual([keep.id])
  })

  it('refuses while a booking is live (HELD, CONFIRMED), and works once it is cancelled', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    const listing = await createListing(t.token)
    const booking = await createBooking(t.token, listing.id, customer.id, day(0), day(2))

    const held = await h.call(t.token, 'DELETE', `/v1/customers/${customer.id}`)
    expect(held.statusCode, held.body).toBe(409)
    expect(held.json().error.code).toBe('CUSTOMER_HAS_LIVE_BOOKINGS')
    expect(held.json().error.details.live_bookings).toBe(1)
    expect((await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).statusCode).toBe(200)

    expect((await h.call(t.token, 'POST', `/v1/bookings/${booking.id}:confirm`)).statusCode).toBe(200)
    const confirmed = await h.call(t.token, 'DELETE', `/v1/customers/${customer.id}`)
    expect(confirmed.statusCode).toBe(409)
    expect(confirmed.json().error.code).toBe('CUSTOMER_HAS_LIVE_BOOKINGS')
    expect((await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).json()).toEqual(customer)

    expect((await h.call(t.token, 'POST', `/v1/bookings/${booking.id}:cancel`, { reason: 'trip off' })).statusCode).toBe(200)
    expect((await h.call(t.token, 'DELETE', `/v1/customers/${customer.id}`)).statusCode).toBe(204)
    expect((await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).statusCode).toBe(404)
    // the past booking still names its customer
    expect((await h.call(t.token, 'GET', `/v1/bookings/${booking.id}`)).json()).toMatchObject({ customer_id: customer.id, status: 'CANCELLED' })
    // and a deleted customer cannot be booked
    const again = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: day(0), check_out: day(2), guests: 2 })
    expect(again.statusCode).toBe(404)
  })
})

describe('GET /v1/customers/{id}/bookings', () => {
  it("lists only that customer's bookings, and walks them one per page", async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const mine = await createCustomer(t.token, { name: 'Mine' })
    const other = await createCustomer(t.token, { name: 'Other' })
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await createBooking(t.token, listing.id, mine.id, day(i * 3), day(i * 3 + 2))).id)
    const foreign = await createBooking(t.token, listing.id, other.id, day(20), day(21))

    const all = await h.call(t.token, 'GET', `/v1/customers/${mine.id}/bookings`)
    expect(all.statusCode, all.body).toBe(200)
    expect(all.json().data.map((b: { id: string }) => b.id).sort()).toEqual([...ids].sort())
    for (const b of all.json().data) expect(b.customer_id).toBe(mine.id)
    expect(all.json().pagination).toEqual({ next_cursor: null, has_more: false })

    const walked: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: LightMyRequestResponse = await h.call(t.token, 'GET', `/v1/customers/${mine.id}/bookings?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().data).toHaveLength(1)
      walked.push(res.json().data[0].id)
      cursor = res.json().pagination.next_cursor
      expect(res.json().pagination.has_more).toBe(cursor !== null)
      pages++
    } while (cursor && pages < 10)
    expect(pages).toBe(3)
    expect(walked).toEqual([...ids].reverse())

    const theirs = await h.call(t.token, 'GET', `/v1/customers/${other.id}/bookings`)
    expect(theirs.json().data.map((b: { id: string }) => b.id)).toEqual([foreign.id])

    // a cursor of one customer's walk does not continue another's
    const first = (await h.call(t.token, 'GET', `/v1/customers/${mine.id}/bookings?limit=1`)).json()
    const crossed = await h.call(t.token, 'GET', `/v1/customers/${other.id}/bookings?limit=1&cursor=${encodeURIComponent(first.pagination.next_cursor)}`)
    expect(crossed.statusCode).toBe(400)
    expect(crossed.json().error.code).toBe('INVALID_CURSOR')

    // filters apply within the customer
    expect((await h.call(t.token, 'GET', `/v1/customers/${mine.id}/bookings?status=HELD,CONFIRMED`)).json().data).toHaveLength(3)
    expect((await h.call(t.token, 'GET', `/v1/customers/${mine.id}/bookings?status=EXPIRED`)).json().data).toEqual([])
    const none = await h.call(t.token, 'GET', `/v1/customers/${newId('customer')}/bookings`)
    expect(none.statusCode).toBe(404)
  })

  // BUG: a status filter naming neither HELD nor EXPIRED (status=CANCELLED, status=CONFIRMED,ISSUED)
  // is a 500: statusSql (src/modules/bookings/repository.ts:189) always pushes `now` as a parameter
  // but only references it for HELD/EXPIRED, and Postgres cannot type an unreferenced $n
  // ("could not determine data type of parameter $4"). Same on GET /v1/bookings.
  it("status=CANCELLED filters a customer's bookings", async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const customer = await createCustomer(t.token)
    const live = await createBooking(t.token, listing.id, customer.id, day(0), day(2))
    const cancelled = await createBooking(t.token, listing.id, customer.id, day(5), day(6))
    expect((await h.call(t.token, 'POST', `/v1/bookings/${cancelled.id}:cancel`, { reason: 'no' })).statusCode).toBe(200)
    const res = await h.call(t.token, 'GET', `/v1/customers/${customer.id}/bookings?status=CANCELLED`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().data.map((b: { id: string }) => b.id)).toEqual([cancelled.id])
    const held = await h.call(t.token, 'GET', `/v1/customers/${customer.id}/bookings?status=HELD`)
    expect(held.json().data.map((b: { id: string }) => b.id)).toEqual([live.id])
  })

  it("another partner's customer is a 404 byte-identical to an unknown id", async () => {
    const a = await makeTenant(h.db, { teams: 1 })
    const b = await makeTenant(h.db, { teams: 1 })
    const theirs = await createCustomer(b.token)
    await createBooking(b.token, (await createListing(b.token)).id, theirs.id, day(0), day(1))
    await sameNotFound(a.token, 'GET', `/v1/customers/${theirs.id}/bookings`, `/v1/customers/${newId('customer')}/bookings`)
    expect((await h.call(b.token, 'GET', `/v1/customers/${theirs.id}/bookings`)).json().data).toHaveLength(1)
  })
})

describe('GET /v1/customers', () => {
  it('filters by email (exact, case-insensitive) and q (name or email)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const an = await createCustomer(t.token, { name: 'An Nguyen', email: 'An.Nguyen@Example.com' })
    const binh = await createCustomer(t.token, { name: 'Binh Tran', email: 'binh@travel.vn' })
    const chi = await createCustomer(t.token, { name: 'Chi Le', email: null })

    expect(await listIds(t.token, '?email=an.nguyen@example.com')).toEqual([an.id])
    expect(await listIds(t.token, `?email=${encodeURIComponent('AN.NGUYEN@EXAMPLE.COM')}`)).toEqual([an.id])
    expect(await listIds(t.token, '?email=an@example.com')).toEqual([]) // exact, not a substring
    expect(await listIds(t.token, '?q=tran')).toEqual([binh.id])
    expect(await listIds(t.token, '?q=travel.vn')).toEqual([binh.id])
    expect(await listIds(t.token, '?q=CHI')).toEqual([chi.id])
    expect(await listIds(t.token, '?q=%25')).toEqual([])
    expect((await listIds(t.token)).sort()).toEqual([an.id, binh.id, chi.id].sort())
    expectValidation(await h.call(t.token, 'GET', '/v1/customers?colour=red'), ['colour'])
    expectValidation(await h.call(t.token, 'GET', '/v1/customers?limit=101'), ['limit'])
    expectValidation(await h.call(t.token, 'GET', '/v1/customers?sort=name'), ['sort'])
  })

  it('sorts by created_at either way and pages with a cursor', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      ids.push((await createCustomer(t.token, { name: `C${i}` })).id)
      await sleep(3)
    }
    expect(await listIds(t.token)).toEqual([...ids].reverse())
    expect(await listIds(t.token, '?sort=created_at')).toEqual(ids)
    const first = (await h.call(t.token, 'GET', '/v1/customers?sort=created_at&limit=2')).json()
    expect(first.data.map((c: { id: string }) => c.id)).toEqual(ids.slice(0, 2))
    const second = (await h.call(t.token, 'GET', `/v1/customers?sort=created_at&limit=2&cursor=${encodeURIComponent(first.pagination.next_cursor)}`)).json()
    expect(second.data.map((c: { id: string }) => c.id)).toEqual(ids.slice(2))
    expect(second.pagination.has_more).toBe(false)
  })

  it('team_ids narrows; a team outside the token is INVALID_TEAM_IDS', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const other = await makeTenant(h.db, { teams: 1 })
    const one = await createCustomer(t.token, { team_id: t.teamIds[0] })
    const two = await createCustomer(t.token, { team_id: t.teamIds[1] })
    expect(await listIds(t.token, `?team_ids=${encodeURIComponent(JSON.stringify([t.teamIds[1]]))}`)).toEqual([two.id])
    expect(await listIds(t.token, `?team_ids=${t.teamIds[0]}`)).toEqual([one.id])
    const bad = await h.call(t.token, 'GET', `/v1/customers?team_ids=${encodeURIComponent(JSON.stringify([other.teamIds[0]]))}`)
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.details.invalid_team_ids).toEqual([other.teamIds[0]])
    expect((await h.call(t.token, 'GET', '/v1/customers?team_ids=%5Boops')).json().error.code).toBe('INVALID_TEAM_IDS')
  })
})

describe('permissions', () => {
  it('a TRAVEL_AGENT creates customers; an ACCOUNTANT cannot (403 customer.write) nor read them', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const agent = await t.addUser('TRAVEL_AGENT')
    const accountant = await t.addUser('ACCOUNTANT')
    const created = await h.call(agent.token, 'POST', '/v1/customers', customerBody())
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id

    const denied = await h.call(accountant.token, 'POST', '/v1/customers', customerBody())
    expect(denied.statusCode).toBe(403)
    expect(denied.json().error.code).toBe('PERMISSION_DENIED')
    expect(denied.json().error.details.required_permission).toBe('customer.write')
    const put = await h.call(accountant.token, 'PUT', `/v1/customers/${id}`, customerBody({ name: 'X' }))
    expect(put.json().error.details.required_permission).toBe('customer.write')
    const del = await h.call(accountant.token, 'DELETE', `/v1/customers/${id}`)
    expect(del.json().error.details.required_permission).toBe('customer.write')
    const read = await h.call(accountant.token, 'GET', `/v1/customers/${id}`)
    expect(read.statusCode).toBe(403)
    expect(read.json().error.details.required_permission).toBe('customer.read')
    expect(await listIds(t.token)).toEqual([id])

    const viewer = await t.addUser('VIEWER')
    expect((await h.call(viewer.token, 'GET', `/v1/customers/${id}`)).statusCode).toBe(200)
    expect((await h.call(viewer.token, 'POST', '/v1/customers', customerBody())).statusCode).toBe(403)
  })
})

describe('tenancy', () => {
  it("another partner's customer is a 404 byte-identical to an unknown id and absent from lists", async () => {
    const a = await makeTenant(h.db, { teams: 1 })
    const b = await makeTenant(h.db, { teams: 1 })
    const theirs = await createCustomer(b.token, { email: 'shared@example.com' })
    const mine = await createCustomer(a.token, { email: 'mine@example.com' })
    const unknown = newId('customer')
    await sameNotFound(a.token, 'GET', `/v1/customers/${theirs.id}`, `/v1/customers/${unknown}`)
    await sameNotFound(a.token, 'PUT', `/v1/customers/${theirs.id}`, `/v1/customers/${unknown}`, customerBody({ name: 'Hijacked' }))
    await sameNotFound(a.token, 'DELETE', `/v1/customers/${theirs.id}`, `/v1/customers/${unknown}`)
    expect(await listIds(a.token)).toEqual([mine.id])
    expect(await listIds(a.token, '?email=shared@example.com')).toEqual([])
    expect((await h.call(b.token, 'GET', `/v1/customers/${theirs.id}`)).json()).toEqual(theirs)
    // nor can A book B's customer
    const listing = await createListing(a.token)
    const booking = await h.call(a.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: theirs.id, check_in: day(0), check_out: day(1), guests: 1 })
    expect(booking.statusCode).toBe(404)
  })

  it("a test-mode token does not see the partner's live customers", async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const live = await t.addToken({ mode: 'live' })
    const liveCustomer = await createCustomer(live.token, { name: 'Live' })
    expect(liveCustomer.mode).toBe('live')
    const testCustomer = await createCustomer(t.token, { name: 'Test' })
    await sameNotFound(t.token, 'GET', `/v1/customers/${liveCustomer.id}`, `/v1/customers/${newId('customer')}`)
    await sameNotFound(t.token, 'GET', `/v1/customers/${liveCustomer.id}/bookings`, `/v1/customers/${newId('customer')}/bookings`)
    expect(await listIds(t.token)).toEqual([testCustomer.id])
    expect(await listIds(live.token)).toEqual([liveCustomer.id])
  })
})
