import { describe, expect, it } from 'vitest'
import { TIMEOUT } from '../../test/helpers/processes.ts'
import { Travobooks, TravobooksError, etagOf } from '../src/index.ts'
import type { Booking } from '../src/index.ts'
import { newCustomer, newListing, sdkServer, stayDay } from './fixtures.ts'

/** Runs a call that must fail and returns its TravobooksError. */
async function failure(call: Promise<unknown>): Promise<TravobooksError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TravobooksError)
  return error as TravobooksError
}

describe('the SDK against a real server', () => {
  it('runs the partner flow and iterates every cursor page', { timeout: TIMEOUT }, async () => {
    const { tvb, teamId } = await sdkServer()
    const listing = await newListing(tvb, teamId, 'SDK Flow Lodge')
    const customer = await newCustomer(tvb, teamId)

    const listed: string[] = []
    for await (const l of tvb.listings.list({ state: ['ACTIVE'], team_ids: [teamId], limit: 2 })) {
      expect(l.state).toBe('ACTIVE')
      expect(l.team_id).toBe(teamId)
      listed.push(l.id)
    }
    expect(listed).toContain(listing.id)

    const offers = await tvb.availability.search({ check_in: stayDay(0), check_out: stayDay(3), guests: 2, q: 'SDK Flow Lodge' }).toArray()
    const offer = offers.find((o) => o.listing.id === listing.id)
    expect(offer, JSON.stringify(offers)).toBeDefined()

    const held = await tvb.bookings.create({ listing_id: listing.id, customer_id: customer.id, check_in: stayDay(0), check_out: stayDay(3), guests: 2, expected_total: offer!.quote.total })
    expect(held.status).toBe('HELD')
    const confirmed = await tvb.bookings.confirm(held.id)
    expect(confirmed.status).toBe('CONFIRMED')
    expect(confirmed.price.total).toEqual(offer!.quote.total)
    expect((await tvb.bookings.get(held.id)).status).toBe('CONFIRMED')

    // A second, held booking, so a status filter given as an array has two values to match.
    const second = await tvb.bookings.create({ listing_id: listing.id, customer_id: customer.id, check_in: stayDay(10), check_out: stayDay(12), guests: 1 })
    const statuses = new Map<string, string>()
    for await (const b of tvb.bookings.list({ status: ['HELD', 'CONFIRMED'], listing_id: listing.id, limit: 1 })) statuses.set(b.id, b.status)
    expect(statuses).toEqual(new Map([[held.id, 'CONFIRMED'], [second.id, 'HELD']]))
    const onlyHeld: Booking[] = await tvb.customers.listBookings(customer.id, { status: ['HELD'] }).toArray()
    expect(onlyHeld.map((b) => b.id)).toEqual([second.id])

    // Several pages: five more customers, read two at a time, nothing skipped or repeated.
    const made = new Set<string>()
    for (let i = 0; i < 5; i++) made.add((await newCustomer(tvb, teamId)).id)
    const pages = []
    for await (const page of tvb.customers.list({ limit: 2 }).pages()) pages.push(page)
    const ids = pages.flatMap((p) => p.data.map((c) => c.id))
    expect(pages.length).toBeGreaterThanOrEqual(3)
    expect(pages.every((p) => p.data.length <= 2)).toBe(true)
    expect(pages.at(-1)!.pagination).toEqual({ next_cursor: null, has_more: false })
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of made) expect(ids).toContain(id)
    const everyone = await tvb.customers.list({ limit: 100 }).toArray()
    expect(ids.sort()).toEqual(everyone.map((c) => c.id).sort())

    // The low-level call on the same path resolves to the page body itself.
    const raw = await tvb.GET('/v1/customers', { params: { query: { limit: 1 } } })
    expect(raw.data).toHaveLength(1)
    expect(raw.pagination.has_more).toBe(true)

    // group_by: [] is sent as group_by= ("group by nothing"): one period, the whole range.
    const from = stayDay(0)
    const to = stayDay(5)
    const whole = await tvb.reports.get('occupancy', { from, to, group_by: [] })
    expect(whole.group_by).toEqual([])
    expect(whole.data.length).toBeGreaterThanOrEqual(1)
    for (const row of whole.data) expect(row.period).toBe(`${from}/${to}`)
    const daily = await tvb.reports.get('occupancy', { from, to })
    expect(daily.group_by).toEqual(['day'])
    expect(daily.data.length).toBeGreaterThan(whole.data.length)
  })

  it('creates listings and customers under the caller\'s Idempotency-Key, and reads the sandbox', { timeout: TIMEOUT }, async () => {
    const { tvb, teamId } = await sdkServer()
    const listingBody = {
      team_id: teamId,
      name: 'SDK Keyed Lodge',
      address: { country_code: 'VN', province_code: 'SG', city: 'Ho Chi Minh City', line1: '2 Le Loi' },
      max_guests: 2,
      bedrooms: 1,
      nightly_rate: { amount: '900000', currency: 'VND' },
      timezone: 'Asia/Ho_Chi_Minh',
    }
    const first = await tvb.listings.create(listingBody, { idempotencyKey: 'sdk-keyed-listing-1' })
    const again = await tvb.listings.create(listingBody, { idempotencyKey: 'sdk-keyed-listing-1' })
    expect(again.id).toBe(first.id)
    expect((await tvb.listings.list({ q: 'SDK Keyed Lodge' }).toArray()).map((l) => l.id)).toEqual([first.id])

    const customerBody = { team_id: teamId, name: 'Binh Tran', email: 'binh@example.com' }
    const customer = await tvb.customers.create(customerBody, { idempotencyKey: 'sdk-keyed-customer-1' })
    expect((await tvb.customers.create(customerBody, { idempotencyKey: 'sdk-keyed-customer-1' })).id).toBe(customer.id)
    const reused = await failure(tvb.customers.create({ ...customerBody, name: 'Someone Else' }, { idempotencyKey: 'sdk-keyed-customer-1' }))
    expect(reused).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 })

    const sandbox = await tvb.sandbox.get()
    expect(sandbox).toMatchObject({ mode: 'test', magic_values_active: true })
    expect(sandbox.listings.length).toBeGreaterThan(0)
    expect(sandbox.test_clock.read).toBe('GET /v1/test-clock')
  })

  it('throws typed errors: 404, 400 with details, and the flat External API shape', { timeout: TIMEOUT }, async () => {
    const { tvb, teamId, token, server } = await sdkServer()

    const missing = await failure(tvb.bookings.get('bkg_01jq3v5x7e8f9g0h1j2k3m4n5p'))
    expect(missing).toMatchObject({ name: 'TravobooksError', code: 'NOT_FOUND', status: 404, retry_advice: 'non_retryable' })
    expect(missing.request_id).toMatch(/^req_/)
    expect(missing.doc_url).toMatch(/NOT_FOUND/)
    expect(missing.headers.get('x-request-id')).toBe(missing.request_id)

    const invalid = await failure(
      tvb.listings.create({
        team_id: teamId,
        name: '',
        address: { country_code: 'VN', province_code: 'SG', city: 'Hanoi', line1: '1 Trang Tien' },
        max_guests: 0,
        bedrooms: 1,
        nightly_rate: { amount: '100', currency: 'VND' },
        timezone: 'Asia/Ho_Chi_Minh',
      }),
    )
    expect(invalid).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, retry_advice: 'retry_after_fix' })
    const fields = (invalid.details.fields as { field: string }[]).map((f) => f.field).sort()
    expect(fields).toEqual(['max_guests', 'name'])

    const foreignTeam = await failure(tvb.listings.list({ team_ids: [teamId, 'team_01jq3v5x7e8f9g0h1j2k3m4n5p'] }).toArray())
    expect(foreignTeam).toMatchObject({ code: 'INVALID_TEAM_IDS', status: 400, details: { invalid_team_ids: ['team_01jq3v5x7e8f9g0h1j2k3m4n5p'] } })

    const flat = await failure(tvb.external.bookings.get('bkg_01jq3v5x7e8f9g0h1j2k3m4n5p'))
    // The flat shape carries no retry advice: the catalogue's (generated into the SDK) is filled in.
    expect(flat).toMatchObject({ code: 'EXTERNAL_BOOKING_NOT_ACCESSIBLE', status: 404, details: {}, retry_advice: 'non_retryable' })
    expect(flat.request_id).toMatch(/^req_/)
    const flatInvalid = await failure(tvb.external.listings.list({ state: 'SLEEPING' }).toArray())
    expect(flatInvalid).toMatchObject({ code: 'EXTERNAL_INVALID_STATE', status: 400 })

    const anonymous = new Travobooks({ token: 'tvb_test_00000000000000000000000000000000', baseUrl: server.base })
    const unauthenticated = await failure(anonymous.me())
    expect(unauthenticated).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 })
    expect(token).toMatch(/^tvb_test_/)
  })

  it('replaces conditionally with ETags: If-Match succeeds on the current version, 412 on a stale one', { timeout: TIMEOUT }, async () => {
    const { tvb, teamId } = await sdkServer()
    const created = await newListing(tvb, teamId, 'SDK ETag Cabin')

    const { data: current, etag } = await tvb.listings.getWithEtag(created.id)
    expect(etag).toMatch(/^"[^"]+"$/)
    expect(etagOf(current)).toBe(etag)

    const renamed = await tvb.listings.replace(current.id, { ...current, name: 'SDK ETag Cabin, renamed' }, { ifMatch: etag })
    expect(renamed.name).toBe('SDK ETag Cabin, renamed')
    const newEtag = etagOf(renamed)
    expect(newEtag).toBeDefined()
    expect(newEtag).not.toBe(etag)
    expect(etagOf(await tvb.listings.get(current.id))).toBe(newEtag)

    // The writable fields only: a stale copy's read-only updated_at would be refused (400) before If-Match is checked.
    const { id, team_id, mode, created_at, updated_at, ...writable } = current
    expect([id, team_id, mode, created_at, updated_at]).not.toContain(undefined)
    const stale = await failure(tvb.listings.replace(current.id, { ...writable, name: 'lost update' }, { ifMatch: etag }))
    expect(stale).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412 })
    expect((await tvb.listings.get(current.id)).name).toBe('SDK ETag Cabin, renamed')

    // Without ifMatch the PUT is unconditional, and archive is a DELETE answering 204.
    await tvb.listings.replace(current.id, { ...renamed, description: 'no precondition' })
    await tvb.listings.archive(current.id)
    expect((await tvb.listings.get(current.id)).state).toBe('ARCHIVED')
  })

  it('covers /v2 bookings and the External API, whose lists start by number and go on by cursor', { timeout: TIMEOUT }, async () => {
    const { tvb, teamId, client } = await sdkServer()
    const listing = await newListing(tvb, teamId, 'SDK V2 House')
    const customer = await newCustomer(tvb, teamId)

    const held = await tvb.v2.bookings.create({ listing_id: listing.id, customer_id: customer.id, stay: { check_in: stayDay(20), check_out: stayDay(22), guests: 2 } })
    expect(held.status).toBe('HELD')
    expect(held.stay).toMatchObject({ check_in: stayDay(20), check_out: stayDay(22), guests: 2 })
    expect((await tvb.v2.bookings.confirm(held.id)).status).toBe('CONFIRMED')
    const v2Listed = await tvb.v2.bookings.list({ listing_id: listing.id, status: ['CONFIRMED'] }).toArray()
    expect(v2Listed.map((b) => b.id)).toEqual([held.id])
    expect((await tvb.v2.bookings.listForCustomer(customer.id).toArray()).map((b) => b.id)).toEqual([held.id])
    const v1View = await tvb.bookings.get(held.id)
    expect(v1View.check_in).toBe(stayDay(20))
    const cancelled = await tvb.v2.bookings.cancel(held.id, { reason: 'customer changed plans' })
    expect(cancelled.status).toBe('CANCELLED')

    const external = await tvb.external.bookings.create({ listing_id: listing.id, customer_id: customer.id, check_in: stayDay(30), check_out: stayDay(31), guests: 1 })
    expect((await tvb.external.bookings.get(external.id)).id).toBe(external.id)
    for (let i = 0; i < 2; i++) await newListing(tvb, teamId, `SDK External ${i}`)

    const pages = []
    for await (const page of tvb.external.listings.list({ limit: 2 }).pages()) pages.push(page)
    const first = pages[0]!
    expect(first.page).toBe(1)
    expect(pages.map((p) => p.page)).toEqual(Array.from({ length: first.total_pages }, (_, i) => i + 1))
    const ids = pages.flatMap((p) => p.items.map((l) => l.id))
    expect(ids).toHaveLength(first.total)
    expect(new Set(ids).size).toBe(ids.length)
    expect(first.total).toBeGreaterThanOrEqual(3)
    const all = await tvb.external.listings.list({ limit: 2 }).toArray()
    expect(all.map((l) => l.id)).toEqual(ids)
    expect((await tvb.external.listings.get(listing.id)).id).toBe(listing.id)

    // Under concurrent writes: a listing created between pages would shift page numbers (the
    // newest come first) and repeat an item; the cursor continues right after the last one seen.
    const urls: URL[] = []
    const recording = client({
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init)
        if (request.method === 'GET') urls.push(new URL(request.url))
        return fetch(request)
      }) as typeof fetch,
    })
    const walked: string[] = []
    let created = 0
    for await (const page of recording.external.listings.list({ limit: 2 }).pages()) {
      walked.push(...page.items.map((l) => l.id))
      if (created++ < 2) await newListing(tvb, teamId, `SDK Concurrent ${created}`)
    }
    expect(new Set(walked).size).toBe(walked.length)
    expect(walked).toEqual(ids)
    expect(urls.length).toBe(first.total_pages)
    expect(urls[0]!.searchParams.get('page')).toBe('1')
    expect(urls[0]!.searchParams.has('cursor')).toBe(false)
    for (const url of urls.slice(1)) {
      expect(url.searchParams.get('cursor')).toMatch(/.+/)
      expect(url.searchParams.has('page')).toBe(false)
    }
    // A walk started at page 2 asks for page 2 first.
    const everything = await tvb.external.listings.list({ limit: 2 }).toArray()
    const fromSecond = await tvb.external.listings.list({ limit: 2, page: 2 }).toArray()
    expect(fromSecond.map((l) => l.id)).toEqual(everything.slice(2).map((l) => l.id))
    const externalBookings = await tvb.external.bookings.list({ team_ids: JSON.stringify([teamId]), limit: 1 }).toArray()
    expect(externalBookings.map((b) => b.id)).toContain(external.id)
  })
})
