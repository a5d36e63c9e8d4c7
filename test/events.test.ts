import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { addDays } from '../src/platform/dates.ts'
import { newId } from '../src/platform/ids.ts'
import { customerReplacement, listingReplacement } from './helpers/bodies.ts'
import { makeTenant, testApp } from './helpers/harness.ts'

/** The events outbox (API.md §10, §11): written with the change, listable, scoped like everything else. */
const h = await testApp()

const EVT = /^evt_[0-7][0-9a-hjkmnp-tv-z]{25}$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

type Body = Record<string, unknown>
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies under test
type Json = Record<string, any>
type Event = { id: string; event_type: string; created_at: string; mode: string; team_id: string; sequence: number; data: Json }

const listingBody = {
  name: 'Villa Da Lat',
  address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
  max_guests: 4,
  bedrooms: 2,
  nightly_rate: { amount: '1500000', currency: 'VND' },
  timezone: 'Asia/Ho_Chi_Minh',
}

const BASE = new Date(Date.now() + 160 * 86_400_000).toISOString().slice(0, 10)
const day = (n: number) => addDays(BASE, n)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function createCustomer(token: string, overrides: Body = {}): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/customers', { name: 'An Nguyen', email: 'an@example.com', phone: '+84901234567', language: 'vi', country_code: 'VN', ...overrides })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function createListing(token: string, overrides: Body = {}): Promise<Json> {
  const res = await h.call(token, 'POST', '/v1/listings', { ...listingBody, ...overrides })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function events(token: string, query = ''): Promise<Event[]> {
  const res = await h.call(token, 'GET', `/v1/events${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data
}

/** Every event the token can see (all pages). */
async function allEvents(token: string, query = ''): Promise<Event[]> {
  const out: Event[] = []
  let cursor: string | null = null
  for (let page = 0; page < 50; page++) {
    const sep = query ? '&' : '?'
    const res: LightMyRequestResponse = await h.call(token, 'GET', `/v1/events${query}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    expect(res.statusCode, res.body).toBe(200)
    out.push(...res.json().data)
    cursor = res.json().pagination.next_cursor
    if (!cursor) return out
  }
  throw new Error('too many pages')
}

function expectValidation(res: LightMyRequestResponse, fields: string[]): void {
  expect(res.statusCode, res.body).toBe(400)
  expect(res.json().error.code).toBe('VALIDATION_ERROR')
  const names = (res.json().error.details.fields as { field: string }[]).map((f) => f.field)
  expect([...new Set(names)].sort()).toEqual([...fields].sort())
}

describe('events written with the change', () => {
  it('customer.created carries the full resource, the team, mode test and sequence 1; later changes count on', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    const list = await events(t.token)
    expect(list).toHaveLength(1)
    expect(list[0]).toEqual({
      id: expect.stringMatching(EVT),
      event_type: 'customer.created',
      created_at: expect.stringMatching(ISO),
      mode: 'test',
      team_id: t.teamIds[0],
      sequence: 1,
      data: customer,
    })

    const updated = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerReplacement(customer, { name: 'An Tran' }))
    expect(updated.statusCode).toBe(200)
    expect((await h.call(t.token, 'DELETE', `/v1/customers/${customer.id}`)).statusCode).toBe(204)
    const mine = (await allEvents(t.token)).filter((e) => e.data.id === customer.id).sort((a, b) => a.sequence - b.sequence)
    expect(mine.map((e) => [e.event_type, e.sequence])).toEqual([
      ['customer.created', 1],
      ['customer.updated', 2],
      ['customer.deleted', 3],
    ])
    expect(mine[1]!.data).toEqual(updated.json())
  })

  it("a booking's life writes booking.created/confirmed/issued/cancelled with sequence 1..4 and the resource as it was", async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const customer = await createCustomer(t.token)
    const created = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: day(0), check_out: day(2), guests: 2 })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id
    const confirmed = await h.call(t.token, 'POST', `/v1/bookings/${id}:confirm`)
    expect(confirmed.statusCode, confirmed.body).toBe(200)
    const issued = await h.call(t.token, 'POST', `/v1/bookings/${id}:issue`)
    expect(issued.statusCode, issued.body).toBe(200)
    const cancelled = await h.call(t.token, 'POST', `/v1/bookings/${id}:cancel`, { reason: 'guest ill' })
    expect(cancelled.statusCode, cancelled.body).toBe(200)

    const mine = (await allEvents(t.token, '?event_type=booking.created,booking.confirmed,booking.issued,booking.cancelled')).filter((e) => e.data.id === id)
    mine.sort((a, b) => a.sequence - b.sequence)
    expect(mine.map((e) => [e.event_type, e.sequence, e.data.status])).toEqual([
      ['booking.created', 1, 'HELD'],
      ['booking.confirmed', 2, 'CONFIRMED'],
      ['booking.issued', 3, 'ISSUED'],
      ['booking.cancelled', 4, 'CANCELLED'],
    ])
    expect(mine.map((e) => e.data)).toEqual([created.json(), confirmed.json(), issued.json(), cancelled.json()])
    for (const e of mine) expect(e).toMatchObject({ mode: 'test', team_id: t.teamIds[0] })
    // newest first by default: the cancellation is listed before the creation
    const ordered = (await allEvents(t.token)).filter((e) => e.data.id === id).map((e) => e.event_type)
    expect(ordered).toEqual(['booking.cancelled', 'booking.issued', 'booking.confirmed', 'booking.created'])
  })

  it('listing changes write listing.created and listing.updated (the archive too)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    expect((await h.call(t.token, 'PUT', `/v1/listings/${listing.id}`, listingReplacement(listing, { name: 'Renamed' }))).statusCode).toBe(200)
    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    const mine = (await allEvents(t.token)).filter((e) => e.data.id === listing.id).sort((a, b) => a.sequence - b.sequence)
    expect(mine.map((e) => [e.event_type, e.sequence, e.data.state, e.data.name])).toEqual([
      ['listing.created', 1, 'ACTIVE', 'Villa Da Lat'],
      ['listing.updated', 2, 'ACTIVE', 'Renamed'],
      ['listing.updated', 3, 'ARCHIVED', 'Renamed'],
    ])
    expect(mine[0]!.data).toEqual(listing)
  })

  it('a refused change leaves no event: PRICE_CHANGED, LISTING_UNAVAILABLE, LISTING_NOT_BOOKABLE, a validation error', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token)
    const customer = await createCustomer(t.token)
    const first = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: day(10), check_out: day(12), guests: 2 })
    expect(first.statusCode).toBe(201)
    const before = await allEvents(t.token)

    const priceChanged = await h.call(t.token, 'POST', '/v1/bookings', {
      listing_id: listing.id,
      customer_id: customer.id,
      check_in: day(0),
      check_out: day(2),
      guests: 2,
      expected_total: { amount: '1', currency: 'VND' },
    })
    expect(priceChanged.statusCode, priceChanged.body).toBe(409)
    expect(priceChanged.json().error.code).toBe('PRICE_CHANGED')
    expect(priceChanged.json().error.details.actual_total).toEqual({ amount: '3000000', currency: 'VND' })

    const unavailable = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: day(11), check_out: day(13), guests: 2 })
    expect(unavailable.statusCode, unavailable.body).toBe(409)
    expect(unavailable.json().error.code).toBe('LISTING_UNAVAILABLE')

    const invalid = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerReplacement(customer, { name: 'X', phone: '+1555' }))
    expect(invalid.statusCode).toBe(400)
    const stale = await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerReplacement(customer, { name: 'X' }), { 'if-match': '"stale"' })
    expect(stale.statusCode).toBe(412)

    const after = await allEvents(t.token)
    expect(after).toEqual(before)
    expect(after.filter((e) => e.event_type === 'booking.created').map((e) => e.data.id)).toEqual([first.json().id])
    // and no booking came into being either
    const bookings = await h.call(t.token, 'GET', '/v1/bookings')
    expect(bookings.json().data.map((b: { id: string }) => b.id)).toEqual([first.json().id])

    // the archive is an event; a booking refused on the archived listing is not
    expect((await h.call(t.token, 'DELETE', `/v1/listings/${listing.id}`)).statusCode).toBe(204)
    const archivedCount = (await allEvents(t.token)).length
    expect(archivedCount).toBe(before.length + 1)
    const notBookable = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: day(20), check_out: day(21), guests: 2 })
    expect(notBookable.json().error.code).toBe('LISTING_NOT_BOOKABLE')
    expect((await allEvents(t.token)).length).toBe(archivedCount)
  })
})

describe('GET /v1/events/{id}', () => {
  it('returns the event with an ETag; If-None-Match → 304; fields= selects', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    await createCustomer(t.token)
    const [event] = await events(t.token)
    const res = await h.call(t.token, 'GET', `/v1/events/${event!.id}`)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual(event)
    const etag = res.headers.etag as string
    expect(etag).toMatch(/^"[^"]+"$/)
    const cached = await h.call(t.token, 'GET', `/v1/events/${event!.id}`, undefined, { 'if-none-match': etag })
    expect(cached.statusCode).toBe(304)
    expect(cached.body).toBe('')
    expect((await h.call(t.token, 'GET', `/v1/events/${event!.id}?fields=id,sequence`)).json()).toEqual({ id: event!.id, sequence: 1 })
    expectValidation(await h.call(t.token, 'GET', `/v1/events/${event!.id}?fields=nope`), ['fields'])
    expect((await h.call(t.token, 'GET', `/v1/events/${event!.id}.json`)).json()).toEqual(event)
    expect((await h.call(t.token, 'GET', `/v1/events/${newId('event')}`)).statusCode).toBe(404)
  })
})

describe('GET /v1/events', () => {
  it('filters by event_type (comma list or repeated); an unknown type is 400', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const customer = await createCustomer(t.token)
    const listing = await createListing(t.token)
    expect((await h.call(t.token, 'PUT', `/v1/customers/${customer.id}`, customerReplacement(customer, { name: 'B' }))).statusCode).toBe(200)

    const types = async (q: string) => (await events(t.token, q)).map((e) => e.event_type).sort()
    expect(await types('')).toEqual(['customer.created', 'customer.updated', 'listing.created'])
    expect(await types('?event_type=customer.created')).toEqual(['customer.created'])
    expect(await types('?event_type=customer.created,listing.created')).toEqual(['customer.created', 'listing.created'])
    expect(await types('?event_type=customer.updated&event_type=listing.created')).toEqual(['customer.updated', 'listing.created'])
    expect(await types('?event_type=booking.created')).toEqual([])
    expect((await events(t.token, '?event_type=listing.created'))[0]!.data.id).toBe(listing.id)
    expectValidation(await h.call(t.token, 'GET', '/v1/events?event_type=customer.created,customer.exploded'), ['event_type'])
  })

  it('after=evt_… lists the later events oldest first, across pages', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      ids.push((await createCustomer(t.token, { name: `C${i}` })).id)
      await sleep(3)
    }
    const oldestFirst = (await events(t.token, '?sort=created_at')).map((e) => e.id)
    expect((await events(t.token, '?sort=created_at')).map((e) => e.data.id)).toEqual(ids)
    expect((await events(t.token)).map((e) => e.id)).toEqual([...oldestFirst].reverse())

    const after = await events(t.token, `?after=${oldestFirst[0]}`)
    expect(after.map((e) => e.id)).toEqual(oldestFirst.slice(1))
    expect(await events(t.token, `?after=${oldestFirst[3]}`)).toEqual([])

    // paging an after= walk keeps its order and its anchor
    const page1 = await h.call(t.token, 'GET', `/v1/events?after=${oldestFirst[0]}&limit=2`)
    expect(page1.json().data.map((e: Event) => e.id)).toEqual(oldestFirst.slice(1, 3))
    const cursor = encodeURIComponent(page1.json().pagination.next_cursor)
    const page2 = await h.call(t.token, 'GET', `/v1/events?after=${oldestFirst[0]}&limit=2&cursor=${cursor}`)
    expect(page2.json().data.map((e: Event) => e.id)).toEqual(oldestFirst.slice(3))
    expect(page2.json().pagination.has_more).toBe(false)

    expectValidation(await h.call(t.token, 'GET', `/v1/events?after=${oldestFirst[0]}&sort=-created_at`), ['sort'])
    expectValidation(await h.call(t.token, 'GET', `/v1/events?after=${newId('event')}`), ['after'])
  })

  it('created_after and created_before are strict bounds', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    for (let i = 0; i < 3; i++) {
      await createCustomer(t.token, { name: `C${i}` })
      await sleep(5)
    }
    const [e0, e1, e2] = await events(t.token, '?sort=created_at')
    expect(new Set([e0!.created_at, e1!.created_at, e2!.created_at]).size).toBe(3)
    const ids = async (q: string) => (await events(t.token, q)).map((e) => e.id)
    expect(await ids(`?created_after=${encodeURIComponent(e0!.created_at)}&sort=created_at`)).toEqual([e1!.id, e2!.id])
    expect(await ids(`?created_after=${encodeURIComponent(e1!.created_at)}`)).toEqual([e2!.id])
    expect(await ids(`?created_before=${encodeURIComponent(e1!.created_at)}`)).toEqual([e0!.id])
    expect(await ids(`?created_after=${encodeURIComponent(e0!.created_at)}&created_before=${encodeURIComponent(e2!.created_at)}`)).toEqual([e1!.id])
    expectValidation(await h.call(t.token, 'GET', '/v1/events?created_after=yesterday'), ['created_after'])
  })

  it('pages with a cursor: no event repeated or skipped; a cursor is bound to its filters', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    for (let i = 0; i < 5; i++) await createCustomer(t.token, { name: `C${i}` })
    const everything = (await events(t.token)).map((e) => e.id)
    expect(everything).toHaveLength(5)
    const walked: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: LightMyRequestResponse = await h.call(t.token, 'GET', `/v1/events?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      walked.push(...res.json().data.map((e: Event) => e.id))
      cursor = res.json().pagination.next_cursor
      pages++
    } while (cursor && pages < 10)
    expect(pages).toBe(3)
    expect(walked).toEqual(everything)

    const first = (await h.call(t.token, 'GET', '/v1/events?limit=2')).json()
    const c = encodeURIComponent(first.pagination.next_cursor)
    const rebound = await h.call(t.token, 'GET', `/v1/events?limit=2&event_type=customer.created&cursor=${c}`)
    expect(rebound.statusCode).toBe(400)
    expect(rebound.json().error.code).toBe('INVALID_CURSOR')
    expectValidation(await h.call(t.token, 'GET', '/v1/events?limit=0'), ['limit'])
    expectValidation(await h.call(t.token, 'GET', '/v1/events?limit=101'), ['limit'])
  })
})

describe('tenancy', () => {
  it("another partner's events are invisible: absent from the list, GET is a 404 identical to an unknown id", async () => {
    const a = await makeTenant(h.db, { teams: 1 })
    const b = await makeTenant(h.db, { teams: 1 })
    await createCustomer(a.token)
    await createCustomer(b.token)
    const [theirs] = await events(b.token)
    const mine = await events(a.token)
    expect(mine).toHaveLength(1)
    expect(mine.map((e) => e.id)).not.toContain(theirs!.id)

    const headers = { 'x-request-id': `events-probe-${process.pid}-1` }
    const hidden = await h.call(a.token, 'GET', `/v1/events/${theirs!.id}`, undefined, headers)
    const unknown = await h.call(a.token, 'GET', `/v1/events/${newId('event')}`, undefined, headers)
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().error.code).toBe('NOT_FOUND')
    expect(hidden.statusCode).toBe(404)
    expect(hidden.body).toBe(unknown.body)

    // after= another partner's event is refused exactly like an unknown event
    const headers2 = { 'x-request-id': `events-probe-${process.pid}-2` }
    const hiddenAfter = await h.call(a.token, 'GET', `/v1/events?after=${theirs!.id}`, undefined, headers2)
    const unknownAfter = await h.call(a.token, 'GET', `/v1/events?after=${newId('event')}`, undefined, headers2)
    expect(hiddenAfter.statusCode).toBe(400)
    expect(hiddenAfter.body).toBe(unknownAfter.body)
  })

  it("a team outside the token and the partner's live mode are invisible", async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    await createCustomer(t.token, { team_id: t.teamIds[0] })
    await createCustomer(t.token, { team_id: t.teamIds[1] })
    const member = await t.addUser('ADMIN', { teamIds: [t.teamIds[0]!] })
    const seen = await events(member.token)
    expect(seen.map((e) => e.team_id)).toEqual([t.teamIds[0]])
    const other = (await events(t.token)).find((e) => e.team_id === t.teamIds[1])!
    expect((await h.call(member.token, 'GET', `/v1/events/${other.id}`)).statusCode).toBe(404)
    expect((await events(t.token, `?team_ids=${t.teamIds[1]}`)).map((e) => e.id)).toEqual([other.id])
    const bad = await h.call(member.token, 'GET', `/v1/events?team_ids=${t.teamIds[1]}`)
    expect(bad.json().error.code).toBe('INVALID_TEAM_IDS')

    const live = await t.addToken({ mode: 'live' })
    const liveCustomer = await createCustomer(live.token, { name: 'Live', team_id: t.teamIds[0] })
    const liveEvents = await events(live.token)
    expect(liveEvents.map((e) => [e.mode, e.data.id])).toEqual([['live', liveCustomer.id]])
    expect((await events(t.token)).every((e) => e.mode === 'test')).toBe(true)
    expect((await h.call(t.token, 'GET', `/v1/events/${liveEvents[0]!.id}`)).statusCode).toBe(404)
  })
})

describe('permissions', () => {
  it('a VIEWER reads events (event.read); a TRAVEL_AGENT cannot (403)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    await createCustomer(t.token)
    const [event] = await events(t.token)
    const viewer = await t.addUser('VIEWER')
    expect((await events(viewer.token)).map((e) => e.id)).toEqual([event!.id])
    expect((await h.call(viewer.token, 'GET', `/v1/events/${event!.id}`)).statusCode).toBe(200)
    const agent = await t.addUser('TRAVEL_AGENT')
    for (const url of ['/v1/events', `/v1/events/${event!.id}`]) {
      const res = await h.call(agent.token, 'GET', url)
      expect(res.statusCode, url).toBe(403)
      expect(res.json().error.code).toBe('PERMISSION_DENIED')
      expect(res.json().error.details.required_permission).toBe('event.read')
    }
  })
})
