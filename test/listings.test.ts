import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { addDays } from '../src/platform/dates.ts'
import { newId } from '../src/platform/ids.ts'
import { listingReplacement } from './helpers/bodies.ts'
import { makeTenant, testApp } from './helpers/harness.ts'

/** Listings (API.md §3, §5, §7, §10): CRUD, validation, lists, calendar, permissions, tenancy. */
const h = await testApp()

const ID = /^lst_[0-7][0-9a-hjkmnp-tv-z]{25}$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

type Body = Record<string, unknown>
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies under test
type Json = Record<string, any>

function listingBody(overrides: Body = {}): Body {
  return {
    name: 'Villa Da Lat',
    address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
    max_guests: 4,
    bedrooms: 2,
    nightly_rate: { amount: '1500000', currency: 'VND' },
    timezone: 'Asia/Ho_Chi_Minh',
    ...overrides,
  }
}

const customerBody = { name: 'An Nguyen', email: 'an@example.com', phone: '+84901234567', language: 'vi', country_code: 'VN' }

/** A stay date some months ahead (computed once per call site from one base, so it never straddles midnight). */
const BASE = new Date(Date.now() + 150 * 86_400_000).toISOString().slice(0, 10)
const day = (n: number) => addDays(BASE, n)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function createListing(token: string, overrides: Body = {}): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/listings', listingBody(overrides))
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function createCustomer(token: string): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/customers', customerBody)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function createBooking(token: string, listingId: string, customerId: string, checkIn: string, checkOut: string): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: checkIn, check_out: checkOut, guests: 2 })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

function fieldNames(res: LightMyRequestResponse): string[] {
  return (res.json().error.details.fields as { field: string }[]).map((f) => f.field).sort()
}

function expectValidation(res: LightMyRequestResponse, fields: string[]): void {
  expect(res.statusCode, res.body).toBe(400)
  expect(res.json().error.code).toBe('VALIDATION_ERROR')
  expect(fieldNames(res)).toEqual([...fields].sort())
}

async function listIds(token: string, query = ''): Promise<string[]> {
  const res = await h.call(token, 'GET', `/v1/listings${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data.map((x: { id: string }) => x.id)
}

let probe = 0
/** The hidden resource's answer is byte-identical to an unknown id's (same request id on both). */
async function sameNotFound(token: string, method: InjectOptions['method'], hiddenUrl: string, unknownUrl: string, body?: unknown): Promise<void> {
  const headers = { 'x-request-id': `listings-probe-${process.pid}-${++probe}` }
  const hidden = await h.call(token, method, hiddenUrl, body, headers)
  const unknown = await h.call(token, method, unknownUrl, body, headers)
  expect(unknown.statusCode, unknown.body).toBe(404)
  expect(unknown.json().error.code).toBe('NOT_FOUND')
  expect(hidden.statusCode, hidden.body).toBe(404)
  expect(hidden.body).toBe(unknown.body)
  for (const header of ['content-type', 'content-length', 'etag', 'location']) expect(hidden.headers[header], header).toEqual(unknown.headers[header])
}

describe('POST /v1/listings', () => {
  it('creates: 201, Location, the full resource, and GET returns the same', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/listings', listingBody({ description: 'Pine views' }))
    expect(res.statusCode, res.body).toBe(201)
    const listing = res.json()
    expect(listing).toEqual({
      id: expect.stringMatching(ID),
      team_id: t.teamIds[0],
      mode: 'test',
      name: 'Villa Da Lat',
      description: 'Pine views',
      state: 'ACTIVE',
      address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
      max_guests: 4,
      bedrooms: 2,
      nightly_rate: { amount: '1500000', currency: 'VND' },
      timezone: 'Asia/Ho_Chi_Minh',
      created_at: expect.stringMatching(ISO),
      updated_at: listing.created_at,
    })
    expect(res.headers.location).toBe(`http://api.test/v1/listings/${listing.id}`)

    const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json()).toEqual(listing)
  })

  it('renders money in the currency exponent: USD 120.00, EUR 12.50, VND 1500000', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const cases: [Body, Body][] = [
      [{ amount: '120', currency: 'USD' }, { amount: '120.00', currency: 'USD' }],
      [{ amount: '120.00', currency: 'USD' }, { amount: '120.00', currency: 'USD' }],
      [{ amount: '12.5', currency: 'EUR' }, { amount: '12.50', currency: 'EUR' }],
      [{ amount: '1500000', currency: 'VND' }, { amount: '1500000', currency: 'VND' }],
      [{ amount: '0.05', currency: 'USD' }, { amount: '0.05', currency: 'USD' }],
    ]
    for (const [sent, shown] of cases) {
      const listing = await createListing(t.token, { nightly_rate: sent })
      expect(listing.nightly_rate, JSON.stringify(sent)).toEqual(shown)
      const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
      expect(got.json().nightly_rate).toEqual(shown)
    }
  })

  it('state INACTIVE can be given at creation; province_code may be omitted (null)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { state: 'INACTIVE', address: { country_code: 'SG', city: 'Singapore', line1: '1 Orchard Rd' } })
    expect(listing.state).toBe('INACTIVE')
    expect(listing.address.province_code).toBeNull()
    // ARCHIVED is reached with DELETE only
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ state: 'ARCHIVED' })), ['state'])
  })

  it('reports every semantic problem at once: country, currency, time zone', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(
      t.token,
      'POST',
      '/v1/listings',
      listingBody({
        address: { country_code: 'XX', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
        nightly_rate: { amount: '100', currency: 'ABC' },
        timezone: 'Mars/Base',
      }),
    )
    expectValidation(res, ['address.country_code', 'nightly_rate.currency', 'timezone'])
    for (const f of res.json().error.details.fields) expect(f.location).toBe('body')
    expect(await listIds(t.token)).toEqual([])
  })

  it('reports a province of another country and too many decimals together', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    expectValidation(
      await h.call(t.token, 'POST', '/v1/listings', listingBody({ address: { country_code: 'VN', province_code: 'ZZ', city: 'HCMC', line1: '1 Le Loi' }, nightly_rate: { amount: '10.5', currency: 'VND' } })),
      ['address.province_code', 'nightly_rate.amount'],
    )
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ nightly_rate: { amount: '1.234', currency: 'USD' } })), ['nightly_rate.amount'])
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ nightly_rate: { amount: '0', currency: 'USD' } })), ['nightly_rate.amount'])
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ max_guests: 0 })), ['max_guests'])
    // a real US subdivision is accepted for US, and the same code is refused for VN
    expect((await createListing(t.token, { address: { country_code: 'US', province_code: 'CA', city: 'LA', line1: '1 Main St' } })).address.province_code).toBe('CA')
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ address: { country_code: 'VN', province_code: 'CA', city: 'HCMC', line1: '1 Le Loi' } })), ['address.province_code'])
  })

  // BUG: schema errors (max_guests 0, checked by Ajv) and semantic errors (country, currency,
  // time zone, checked in ListingService) are never reported together: a schema failure stops the
  // request before the service runs, so only max_guests is listed (API.md §6: all field errors at once).
  it('reports schema and semantic problems in one answer (max_guests 0 with XX, ABC, Mars/Base, 10.5 VND)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(
      t.token,
      'POST',
      '/v1/listings',
      listingBody({
        address: { country_code: 'XX', city: 'HCMC', line1: '1 Le Loi' },
        nightly_rate: { amount: '100', currency: 'ABC' },
        timezone: 'Mars/Base',
        max_guests: 0,
      }),
    )
    expectValidation(res, ['address.country_code', 'nightly_rate.currency', 'timezone', 'max_guests'])
  })

  it('refuses unknown fields, at the top level and nested', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/listings', { ...listingBody(), colour: 'blue', address: { country_code: 'VN', city: 'HCMC', line1: '1', zip: '7000' } })
    expectValidation(res, ['colour', 'address.zip'])
    expect(res.json().error.details.fields.every((f: { code: string }) => f.code === 'additionalProperties')).toBe(true)
    expect(await listIds(t.token)).toEqual([])
  })

  it('requires team_id when the token covers two teams, and puts the listing in the named one', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody()), ['team_id'])
    // team_id missing and a semantic error: both reported
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ timezone: 'Mars/Base' })), ['team_id', 'timezone'])
    const listing = await createListing(t.token, { team_id: t.teamIds[1] })
    expect(listing.team_id).toBe(t.teamIds[1])
  })

  it("refuses another partner's team (and an unknown team) with INVALID_TEAM_IDS", async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const other = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/listings', listingBody({ team_id: other.teamIds[0] }))
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().error.code).toBe('INVALID_TEAM_IDS')
    expect(res.json().error.details.invalid_team_ids).toEqual([other.teamIds[0]])
    const unknown = newId('team')
    const res2 = await h.call(t.token, 'POST', '/v1/listings', listingBody({ team_id: unknown }))
    expect(res2.json().error.details.invalid_team_ids).toEqual([unknown])
    expect(await listIds(other.token)).toEqual([])
    expect(await listIds(t.token)).toEqual([])
  })
})

describe('GET /v1/listings/{id}', () => {
  it('sends an ETag and answers If-None-Match with 304', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const res = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(res.statusCode).toBe(200)
    const etag = res.headers.etag as string
    expect(etag).toMatch(/^"[^"]+"$/)
    const again = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`, undefined, { 'if-none-match': etag })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
    const other = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`, undefined, { 'if-none-match': '"something-else"' })
    expect(other.statusCode).toBe(200)
    expect(other.json()).toEqual(listing)
  })

  it('fields=id,name returns only those keys; an unknown field is a 400', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const res = await h.call(t.token, 'GET', `/v1/listings/${listing.id}?fields=id,name`)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ id: listing.id, name: 'Villa Da Lat' })
    const bad = await h.call(t.token, 'GET', `/v1/listings/${listing.id}?fields=id,nope`)
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('VALIDATION_ERROR')
    expect(fieldNames(bad)).toEqual(['fields'])
    const list = await h.call(t.token, 'GET', '/v1/listings?fields=id,state')
    expect(list.json().data).toEqual([{ id: listing.id, state: 'ACTIVE' }])
    expect((await h.call(t.token, 'GET', '/v1/listings?fields=nope')).statusCode).toBe(400)
  })

  it('answers the .json alias like the plain path', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const res = await h.call(t.token, 'GET', `/v1/listings/${listing.id}.json`)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual(listing)
    const withQuery = await h.call(t.token, 'GET', `/v1/listings/${listing.id}.json?fields=id`)
    expect(withQuery.json()).toEqual({ id: listing.id })
    expect((await h.call(t.token, 'GET', `/v1/listings/${newId('listing')}.json`)).statusCode).toBe(404)
  })
})

describe('PUT /v1/listings/{id}', () => {
  it('replaces every writable field; updated_at moves, created_at, id and team_id do not', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { description: 'old' })
    await sleep(5)
    const replacement = {
      name: 'Villa Ha Noi',
      description: 'new',
      address: { country_code: 'VN', province_code: 'HN', city: 'Hanoi', line1: '2 Trang Tien' },
      max_guests: 6,
      bedrooms: 3,
      nightly_rate: { amount: '99.9', currency: 'USD' },
      timezone: 'Asia/Bangkok',
      state: 'INACTIVE',
    }
    const res = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, replacement)
    expect(res.statusCode, res.body).toBe(200)
    const updated = res.json()
    expect(updated).toEqual({
      ...listing,
      ...replacement,
      nightly_rate: { amount: '99.90', currency: 'USD' },
      updated_at: expect.stringMatching(ISO),
    })
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(listing.updated_at))
    expect(res.headers.etag).toBeDefined()
    const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(got.json()).toEqual(updated)
    expect(got.headers.etag).toBe(res.headers.etag)
  })

  it('an omitted writable field is a 400 naming it and changes nothing; explicit null clears province_code', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { description: 'old' })
    const { description: _description, state: _state, ...partial } = listingReplacement(listing, { name: 'Partial' })
    const address = { country_code: 'VN', city: 'HCMC', line1: '1 Le Loi' }
    expectValidation(await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, { ...partial, address }), ['address.province_code', 'description', 'state'])
    expect((await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)).json()).toEqual(listing)

    const cleared = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { description: '', address: { ...address, province_code: null } }))
    expect(cleared.statusCode, cleared.body).toBe(200)
    expect(cleared.json()).toEqual({ ...listing, description: '', address: { ...address, province_code: null }, updated_at: expect.stringMatching(ISO) })
  })

  it('If-Match with the current ETag succeeds; a stale one is 412 and changes nothing', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const first = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    const etag1 = first.headers.etag as string
    const ok = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Second' }), { 'if-match': etag1 })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().name).toBe('Second')
    const etag2 = ok.headers.etag as string
    expect(etag2).not.toBe(etag1)

    const stale = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Third' }), { 'if-match': etag1 })
    expect(stale.statusCode, stale.body).toBe(412)
    expect(stale.json().error.code).toBe('PRECONDITION_FAILED')
    const after = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(after.json()).toEqual(ok.json())
    expect(after.headers.etag).toBe(etag2)
  })

  it('accepts team_id (and the other read-only fields) unchanged, refuses a different team_id (read_only), and validates like POST', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    // the resource as GET returned it, one field changed
    const echoed = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, { ...listing, name: 'Echoed' })
    expect(echoed.statusCode, echoed.body).toBe(200)
    expect(echoed.json()).toEqual({ ...listing, name: 'Echoed', updated_at: expect.stringMatching(ISO) })
    const same = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { team_id: t.teamIds[0] }))
    expect(same.statusCode, same.body).toBe(200)
    const current = same.json()

    const moved = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Moved', team_id: newId('team') }))
    expectValidation(moved, ['team_id'])
    expect(moved.json().error.details.fields[0].code).toBe('read_only')
    expectValidation(await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { timezone: 'Mars/Base', nightly_rate: { amount: '10.5', currency: 'VND' } })), ['nightly_rate.amount', 'timezone'])
    expect((await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)).json()).toEqual(current)
  })
})

describe('DELETE /v1/listings/{id}', () => {
  it('archives: 204, then ARCHIVED, not bookable, not replaceable; a second DELETE is 204 too', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const customer = await createCustomer(t.token)
    const del = await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)
    expect(del.statusCode).toBe(204)
    expect(del.body).toBe('')

    const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json().state).toBe('ARCHIVED')

    const booking = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: day(0), check_out: day(2), guests: 2 })
    expect(booking.statusCode, booking.body).toBe(409)
    expect(booking.json().error.code).toBe('LISTING_NOT_BOOKABLE')

    const put = await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Revived' }))
    expect(put.statusCode, put.body).toBe(409)
    expect((await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)).json()).toMatchObject({ state: 'ARCHIVED', name: 'Villa Da Lat' })

    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    expect(await listIds(t.token, '?state=ARCHIVED')).toEqual([listing.id])
  })

  it('an existing booking survives the archive', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const customer = await createCustomer(t.token)
    const booking = await createBooking(t.token, listing.id, customer.id, day(0), day(3))
    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    const got = await h.call(t.token, 'GET', `/v1/bookings/${booking.id}`)
    expect(got.json().status).toBe('HELD')
  })
})

describe('GET /v1/listings', () => {
  it('pages 20 items by default; limit 0 and 101 are 400', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    for (let i = 0; i < 21; i++) await createListing(t.token, { name: `L${i}` })
    const first = await h.call(t.token, 'GET', '/v1/listings')
    expect(first.statusCode).toBe(200)
    const page = first.json()
    expect(page.data).toHaveLength(20)
    expect(page.pagination.has_more).toBe(true)
    expect(typeof page.pagination.next_cursor).toBe('string')
    const second = await h.call(t.token, 'GET', `/v1/listings?cursor=${encodeURIComponent(page.pagination.next_cursor)}`)
    expect(second.json().data).toHaveLength(1)
    expect(second.json().pagination).toEqual({ next_cursor: null, has_more: false })
    const ids = [...page.data, ...second.json().data].map((x: { id: string }) => x.id)
    expect(new Set(ids).size).toBe(21)

    expect((await h.call(t.token, 'GET', '/v1/listings?limit=100')).json().data).toHaveLength(21)
    for (const limit of ['0', '101', 'x']) {
      const res = await h.call(t.token, 'GET', `/v1/listings?limit=${limit}`)
      expectValidation(res, ['limit'])
    }
  })

  it('an empty list is 200 with data []', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'GET', '/v1/listings')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ data: [], pagination: { next_cursor: null, has_more: false } })
  })

  it('walks with a cursor without repeating or skipping; a cursor is bound to its filters', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const created = []
    for (let i = 0; i < 5; i++) created.push((await createListing(t.token, { name: `Walk ${i}` })).id)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: LightMyRequestResponse = await h.call(t.token, 'GET', `/v1/listings?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      seen.push(...res.json().data.map((x: { id: string }) => x.id))
      cursor = res.json().pagination.next_cursor
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual([...created].reverse())

    const first = (await h.call(t.token, 'GET', '/v1/listings?limit=2')).json()
    const c = encodeURIComponent(first.pagination.next_cursor)
    const rebound = await h.call(t.token, 'GET', `/v1/listings?limit=2&q=Walk&cursor=${c}`)
    expect(rebound.statusCode).toBe(400)
    expect(rebound.json().error.code).toBe('INVALID_CURSOR')
    const resorted = await h.call(t.token, 'GET', `/v1/listings?limit=2&sort=created_at&cursor=${c}`)
    expect(resorted.json().error.code).toBe('INVALID_CURSOR')
    const tampered = await h.call(t.token, 'GET', `/v1/listings?limit=2&cursor=${c.slice(0, -2)}xx`)
    expect(tampered.json().error.code).toBe('INVALID_CURSOR')
    // another tenant cannot continue this walk
    const other = await makeTenant(h.db, { teams: 1 })
    expect((await h.call(other.token, 'GET', `/v1/listings?limit=2&cursor=${c}`)).json().error.code).toBe('INVALID_CURSOR')
  })

  it('filters by state (comma list), country_code, province_code and q', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const active = await createListing(t.token, { name: 'Saigon Loft', address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1' } })
    const inactive = await createListing(t.token, { name: 'Hanoi House', state: 'INACTIVE', address: { country_code: 'VN', province_code: 'HN', city: 'Hanoi', line1: '2' } })
    const archived = await createListing(t.token, { name: 'Malibu Shack', address: { country_code: 'US', province_code: 'CA', city: 'Malibu', line1: '3' }, nightly_rate: { amount: '300', currency: 'USD' } })
    expect((await h.call(t.token, 'DELETE', `/v1/listings/${archived.id}`)).statusCode).toBe(204)

    const sorted = (ids: string[]) => [...ids].sort()
    expect(sorted(await listIds(t.token))).toEqual(sorted([active.id, inactive.id, archived.id]))
    expect(sorted(await listIds(t.token, '?state=ACTIVE,INACTIVE'))).toEqual(sorted([active.id, inactive.id]))
    expect(sorted(await listIds(t.token, '?state=ACTIVE&state=ARCHIVED'))).toEqual(sorted([active.id, archived.id]))
    expect(await listIds(t.token, '?state=INACTIVE')).toEqual([inactive.id])
    expectValidation(await h.call(t.token, 'GET', '/v1/listings?state=ACTIVE,DELETED'), ['state'])

    expect(await listIds(t.token, '?country_code=US')).toEqual([archived.id])
    expect(sorted(await listIds(t.token, '?country_code=VN'))).toEqual(sorted([active.id, inactive.id]))
    expect(await listIds(t.token, '?country_code=VN&province_code=HN')).toEqual([inactive.id])
    expect(await listIds(t.token, '?province_code=SG')).toEqual([active.id])
    expect(await listIds(t.token, '?country_code=FR')).toEqual([])
    expectValidation(await h.call(t.token, 'GET', '/v1/listings?country_code=vn'), ['country_code'])

    expect(await listIds(t.token, '?q=loft')).toEqual([active.id])
    expect(await listIds(t.token, '?q=malibu')).toEqual([archived.id]) // the city
    expect(await listIds(t.token, '?q=%25')).toEqual([]) // a literal %, not a wildcard
    expect(await listIds(t.token, '?q=_')).toEqual([])
    expect(await listIds(t.token, '?q=hanoi&state=ACTIVE')).toEqual([])
  })

  it('sorts by -created_at (default), created_at and updated_at; sort=name is 400', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const a = await createListing(t.token, { name: 'A' })
    await sleep(3)
    const b = await createListing(t.token, { name: 'B' })
    await sleep(3)
    const c = await createListing(t.token, { name: 'C' })
    await sleep(3)
    expect((await h.call(t.token, 'PUT', `/v1/listings/${a.id}`, listingReplacement(a, { name: 'A2' }))).statusCode).toBe(200)

    expect(await listIds(t.token)).toEqual([c.id, b.id, a.id])
    expect(await listIds(t.token, '?sort=-created_at')).toEqual([c.id, b.id, a.id])
    expect(await listIds(t.token, '?sort=created_at')).toEqual([a.id, b.id, c.id])
    expect(await listIds(t.token, '?sort=updated_at')).toEqual([b.id, c.id, a.id])
    expect(await listIds(t.token, '?sort=-updated_at')).toEqual([a.id, c.id, b.id])
    expectValidation(await h.call(t.token, 'GET', '/v1/listings?sort=name'), ['sort'])
    expectValidation(await h.call(t.token, 'GET', '/v1/listings?sort=-name'), ['sort'])
  })

  it('team_ids narrows (JSON array string or repeated); a foreign team or malformed JSON is INVALID_TEAM_IDS', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const other = await makeTenant(h.db, { teams: 1 })
    const [team1, team2] = t.teamIds as [string, string]
    const one = await createListing(t.token, { team_id: team1 })
    const two = await createListing(t.token, { team_id: team2 })

    const json = (ids: string[]) => encodeURIComponent(JSON.stringify(ids))
    expect(await listIds(t.token, `?team_ids=${json([team1])}`)).toEqual([one.id])
    expect(await listIds(t.token, `?team_ids=${json([team2])}`)).toEqual([two.id])
    expect((await listIds(t.token, `?team_ids=${json([team1, team2])}`)).sort()).toEqual([one.id, two.id].sort())
    expect(await listIds(t.token, `?team_ids=${team2}`)).toEqual([two.id])
    expect((await listIds(t.token, `?team_ids=${team1}&team_ids=${team2}`)).sort()).toEqual([one.id, two.id].sort())

    const foreign = await h.call(t.token, 'GET', `/v1/listings?team_ids=${json([team1, other.teamIds[0]!])}`)
    expect(foreign.statusCode).toBe(400)
    expect(foreign.json().error.code).toBe('INVALID_TEAM_IDS')
    expect(foreign.json().error.details.invalid_team_ids).toEqual([other.teamIds[0]])
    const repeated = await h.call(t.token, 'GET', `/v1/listings?team_ids=${team1}&team_ids=${other.teamIds[0]}`)
    expect(repeated.json().error.details.invalid_team_ids).toEqual([other.teamIds[0]])

    const malformed = await h.call(t.token, 'GET', `/v1/listings?team_ids=${encodeURIComponent('[oops')}`)
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json().error.code).toBe('INVALID_TEAM_IDS')
    const notStrings = await h.call(t.token, 'GET', `/v1/listings?team_ids=${encodeURIComponent('[1,2]')}`)
    expect(notStrings.json().error.code).toBe('INVALID_TEAM_IDS')
  })
})

describe('GET /v1/listings/{id}/calendar', () => {
  it('each night with its price; booked nights are unavailable until the booking is cancelled', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { nightly_rate: { amount: '80', currency: 'EUR' } })
    const customer = await createCustomer(t.token)
    const booking = await createBooking(t.token, listing.id, customer.id, day(1), day(4))

    const url = `/v1/listings/${listing.id}/calendar?from=${day(0)}&to=${day(6)}`
    const res = await h.call(t.token, 'GET', url)
    expect(res.statusCode, res.body).toBe(200)
    const price = { amount: '80.00', currency: 'EUR' }
    expect(res.json()).toEqual({
      listing_id: listing.id,
      from: day(0),
      to: day(6),
      nights: [
        { date: day(0), available: true, price },
        { date: day(1), available: false, price },
        { date: day(2), available: false, price },
        { date: day(3), available: false, price },
        { date: day(4), available: true, price },
        { date: day(5), available: true, price },
      ],
    })
    // a confirmed booking blocks too
    expect((await h.call(t.token, 'POST', `/v1/bookings/${booking.id}:confirm`)).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', url)).json().nights.map((n: { available: boolean }) => n.available)).toEqual([true, false, false, false, true, true])

    const cancel = await h.call(t.token, 'POST', `/v1/bookings/${booking.id}:cancel`, { reason: 'guest changed plans' })
    expect(cancel.statusCode, cancel.body).toBe(200)
    const after = await h.call(t.token, 'GET', url)
    expect(after.json().nights.map((n: { available: boolean }) => n.available)).toEqual([true, true, true, true, true, true])
  })

  it('an archived listing has no available night', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    const res = await h.call(t.token, 'GET', `/v1/listings/${listing.id}/calendar?from=${day(0)}&to=${day(2)}`)
    expect(res.json().nights.map((n: { available: boolean }) => n.available)).toEqual([false, false])
  })

  it('validates the range: to <= from, an impossible date, a missing parameter', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const base = `/v1/listings/${listing.id}/calendar`
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(3)}&to=${day(3)}`), ['to'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(3)}&to=${day(1)}`), ['to'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=2027-02-30&to=2027-03-05`), ['from'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=2027-02-30&to=2027-13-01`), ['from', 'to'])
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(0)}`), ['to'])
    expect((await h.call(t.token, 'GET', `${base}?from=${day(0)}&to=${day(1)}`)).json().nights).toHaveLength(1)
    // at most 366 nights
    expect((await h.call(t.token, 'GET', `${base}?from=${day(0)}&to=${day(366)}`)).json().nights).toHaveLength(366)
    expectValidation(await h.call(t.token, 'GET', `${base}?from=${day(0)}&to=${day(367)}`), ['to'])
  })
})

describe('permissions', () => {
  it('a VIEWER reads listings but cannot write them (403 listing.write)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const viewer = await t.addUser('VIEWER')
    expect((await h.call(viewer.token, 'GET', `/v1/listings/${listing.id}`)).statusCode).toBe(200)
    expect(await listIds(viewer.token)).toEqual([listing.id])
    expect((await h.call(viewer.token, 'GET', `/v1/listings/${listing.id}/calendar?from=${day(0)}&to=${day(1)}`)).statusCode).toBe(200)

    const attempts: [InjectOptions['method'], string, unknown][] = [
      ['POST', '/v1/listings', listingBody()],
      ['PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Hijacked' })],
      ['DELETE', `/v1/listings/${listing.id}`, undefined],
    ]
    for (const [method, url, body] of attempts) {
      const res = await h.call(viewer.token, method, url, body)
      expect(res.statusCode, `${method} ${url}`).toBe(403)
      expect(res.json().error.code).toBe('PERMISSION_DENIED')
      expect(res.json().error.details.required_permission).toBe('listing.write')
    }
    expect((await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)).json()).toEqual(listing)
    expect(await listIds(t.token)).toEqual([listing.id])
  })

  it('an ACCOUNTANT cannot read listings (403 listing.read); a token scoped to listing.read cannot write', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const accountant = await t.addUser('ACCOUNTANT')
    const res = await h.call(accountant.token, 'GET', '/v1/listings')
    expect(res.statusCode).toBe(403)
    expect(res.json().error.details.required_permission).toBe('listing.read')
    const scoped = await t.addToken({ scopes: ['listing.read'] })
    expect((await h.call(scoped.token, 'GET', '/v1/listings')).statusCode).toBe(200)
    const write = await h.call(scoped.token, 'POST', '/v1/listings', listingBody())
    expect(write.statusCode).toBe(403)
    expect(write.json().error.details.required_permission).toBe('listing.write')
  })
})

describe('tenancy', () => {
  it("another partner's listing is a 404 byte-identical to an unknown id (GET, PUT, DELETE, calendar) and absent from lists", async () => {
    const a = await makeTenant(h.db, { teams: 1 })
    const b = await makeTenant(h.db, { teams: 1 })
    const theirs = await createListing(b.token, { name: 'Theirs' })
    const mine = await createListing(a.token, { name: 'Mine' })
    const unknown = newId('listing')

    await sameNotFound(a.token, 'GET', `/v1/listings/${theirs.id}`, `/v1/listings/${unknown}`)
    await sameNotFound(a.token, 'GET', `/v1/listings/${theirs.id}.json`, `/v1/listings/${unknown}.json`)
    await sameNotFound(a.token, 'PUT', `/v1/listings/${theirs.id}`, `/v1/listings/${unknown}`, listingReplacement(theirs, { name: 'Hijacked' }))
    await sameNotFound(a.token, 'DELETE', `/v1/listings/${theirs.id}`, `/v1/listings/${unknown}`)
    await sameNotFound(a.token, 'GET', `/v1/listings/${theirs.id}/calendar?from=${day(0)}&to=${day(2)}`, `/v1/listings/${unknown}/calendar?from=${day(0)}&to=${day(2)}`)
    await sameNotFound(a.token, 'GET', '/v1/listings/not-an-id', `/v1/listings/${unknown}`)

    expect(await listIds(a.token)).toEqual([mine.id])
    expect(await listIds(a.token, '?q=Theirs')).toEqual([])
    // B's listing is untouched
    expect((await h.call(b.token, 'GET', `/v1/listings/${theirs.id}`)).json()).toEqual(theirs)
  })

  it('a team of the same partner outside the token is invisible', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const inTeam2 = await createListing(t.token, { team_id: t.teamIds[1] })
    const member = await t.addUser('ADMIN', { teamIds: [t.teamIds[0]!] })
    await sameNotFound(member.token, 'GET', `/v1/listings/${inTeam2.id}`, `/v1/listings/${newId('listing')}`)
    await sameNotFound(member.token, 'PUT', `/v1/listings/${inTeam2.id}`, `/v1/listings/${newId('listing')}`, listingReplacement(inTeam2))
    expect(await listIds(member.token)).toEqual([])
    // and the member creates in its own (only) team without naming it
    expect((await createListing(member.token)).team_id).toBe(t.teamIds[0])
  })

  it("a test-mode token does not see the same partner's live listings, and the other way round", async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const live = await t.addToken({ mode: 'live' })
    const liveListing = await createListing(live.token, { name: 'Live one' })
    expect(liveListing.mode).toBe('live')
    const testListing = await createListing(t.token, { name: 'Test one' })
    expect(testListing.mode).toBe('test')

    await sameNotFound(t.token, 'GET', `/v1/listings/${liveListing.id}`, `/v1/listings/${newId('listing')}`)
    await sameNotFound(t.token, 'DELETE', `/v1/listings/${liveListing.id}`, `/v1/listings/${newId('listing')}`)
    await sameNotFound(live.token, 'GET', `/v1/listings/${testListing.id}`, `/v1/listings/${newId('listing')}`)
    expect(await listIds(t.token)).toEqual([testListing.id])
    expect(await listIds(live.token)).toEqual([liveListing.id])
    expect((await h.call(live.token, 'GET', `/v1/listings/${liveListing.id}`)).json().state).toBe('ACTIVE')
  })
})
