import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * Lists (API.md §7): keyset cursors that are opaque, signed, bound to the filters, sort and scope
 * they were made for, and stable under concurrent inserts and deletes; limit 1–100, default 20;
 * fields=.
 *
 * A ManualClock far from the real one (see bookings-lifecycle.test.ts): on PostgreSQL a hold sweep
 * run by another test file with the real clock never reaches these holds.
 */

const START = '2031-07-01T09:00:00.000Z'
/** A night counted from 2031-09-01 (two months after the clock's today: room for nights before it). */
const night = (n: number) => new Date(Date.UTC(2031, 8, 1) + n * 86_400_000).toISOString().slice(0, 10)

const LISTING = {
  name: 'Villa',
  address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
  max_guests: 4,
  bedrooms: 2,
  nightly_rate: { amount: '100.00', currency: 'USD' },
  timezone: 'Asia/Ho_Chi_Minh',
}

interface Item {
  id: string
  created_at: string
  updated_at: string
  check_in?: string
  status?: string
}

interface World {
  h: TestApp
  clock: ManualClock
  t: Tenant
}

async function world(teams = 1): Promise<World> {
  const clock = new ManualClock(START)
  const h = await testApp({ clock, config: { holdMinutes: 15 } })
  const t = await makeTenant(h.db, { clock, teams })
  return { h, clock, t }
}

async function create<T = Item>(w: World, url: string, body: unknown, token = w.t.token): Promise<T> {
  const res = await w.h.call(token, 'POST', url, body)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

const listing = (w: World, extra: Record<string, unknown> = {}, token?: string) => create(w, '/v1/listings', { ...LISTING, ...extra }, token)
const customer = (w: World, name = 'An', token?: string) => create(w, '/v1/customers', { name }, token)
const booking = (w: World, listingId: string, customerId: string, checkIn: string, checkOut: string) =>
  create(w, '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: checkIn, check_out: checkOut, guests: 2 })

function expectError(res: LightMyRequestResponse, status: number, code: string): { details?: Record<string, unknown> } {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.json().error.code, res.body).toBe(code)
  return res.json().error
}

function withQuery(url: string, query: string): string {
  return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url
}

interface Walk {
  items: Item[]
  pages: { data: Item[]; pagination: { next_cursor: string | null; has_more: boolean } }[]
}

/** Follows next_cursor to the end; `between(n)` runs after page n is read, before page n + 1. */
async function walk(w: World, url: string, limit: number, between?: (page: number, seen: Item[]) => Promise<void>, token = w.t.token): Promise<Walk> {
  const result: Walk = { items: [], pages: [] }
  let cursor: string | null = null
  for (let page = 0; page < 200; page++) {
    const res = await w.h.call(token, 'GET', withQuery(url, `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`))
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json() as Walk['pages'][number]
    result.pages.push(body)
    result.items.push(...body.data)
    expect(body.data.length).toBeLessThanOrEqual(limit)
    if (!body.pagination.has_more) {
      expect(body.pagination.next_cursor).toBeNull()
      return result
    }
    expect(body.data).toHaveLength(limit)
    expect(typeof body.pagination.next_cursor).toBe('string')
    cursor = body.pagination.next_cursor
    await between?.(page, result.items)
  }
  throw new Error('the walk never ended')
}

type Key = (item: Item) => string

/** The expected order: by key then id, both ascending or both descending. */
function ordered(items: Item[], key: Key, desc: boolean): string[] {
  const sorted = [...items].sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    const c = ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
    return desc ? -c : c
  })
  return sorted.map((x) => x.id)
}

function expectMonotonic(items: Item[], key: Key, desc: boolean): void {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1]!, items[i]!]
    const forward = key(a) < key(b) || (key(a) === key(b) && a.id < b.id)
    expect(desc ? !forward && a.id !== b.id : forward, `${a.id} (${key(a)}) then ${b.id} (${key(b)})`).toBe(true)
  }
}

function expectNoRepeats(items: Item[]): void {
  const ids = items.map((x) => x.id)
  expect(new Set(ids).size, `repeated: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`).toBe(ids.length)
}

/**
 * 21 bookings over 3 listings, created out of check_in order, some in the same millisecond (equal
 * created_at) and some on the same check_in (another listing): ties are broken by id.
 */
async function bookingsWorld(): Promise<World & { listings: string[]; customerId: string; created: Item[] }> {
  const w = await world()
  const listings = [(await listing(w)).id, (await listing(w, { name: 'B' })).id, (await listing(w, { name: 'C' })).id]
  const customerId = (await customer(w)).id
  const created: Item[] = []
  const slots = [5, 0, 3, 6, 1, 4, 2]
  for (const [i, slot] of slots.entries()) {
    for (const [l, listingId] of listings.entries()) {
      if ((i + l) % 3 !== 0) w.clock.advance(1000) // one in three shares the previous created_at
      // listings 0 and 1 share check_in; listing 2 starts a night later
      const checkIn = night(slot * 3 + (l === 2 ? 1 : 0))
      created.push(await booking(w, listingId, customerId, checkIn, night(slot * 3 + 2 + (l === 2 ? 1 : 0))))
    }
  }
  return { ...w, listings, customerId, created }
}

describe('walking a list through next_cursor returns every row once, in order', () => {
  it('bookings, limit=7, for sort=-created_at, created_at, check_in, -check_in and the default', async () => {
    const w = await bookingsWorld()
    expect(w.created).toHaveLength(21)
    expect(new Set(w.created.map((b) => b.created_at)).size).toBeLessThan(21) // there are ties
    const byCreated: Key = (x) => x.created_at
    const byCheckIn: Key = (x) => x.check_in!
    for (const [sort, key, desc] of [
      ['-created_at', byCreated, true],
      ['created_at', byCreated, false],
      ['check_in', byCheckIn, false],
      ['-check_in', byCheckIn, true],
      ['', byCreated, true], // the default is -created_at
    ] as const) {
      const url = withQuery('/v1/bookings', sort ? `sort=${sort}` : '')
      const { items, pages } = await walk(w, url, 7)
      expect(pages.map((p) => p.data.length), sort).toEqual([7, 7, 7])
      expect(items.map((x) => x.id), sort).toEqual(ordered(w.created, key, desc))
      expectMonotonic(items, key, desc)
      // the same as one big page
      const whole = await w.h.call(w.t.token, 'GET', withQuery(url, 'limit=100'))
      expect(whole.json().data.map((x: Item) => x.id)).toEqual(items.map((x) => x.id))
      expect(whole.json().pagination).toEqual({ next_cursor: null, has_more: false })
    }
    // other page sizes, including 1 and one that does not divide the count
    for (const limit of [1, 5, 20, 21, 22]) {
      const { items } = await walk(w, '/v1/bookings?sort=check_in', limit)
      expect(items.map((x) => x.id), `limit ${limit}`).toEqual(ordered(w.created, byCheckIn, false))
    }
    // with a filter: one listing's bookings
    const { items } = await walk(w, `/v1/bookings?listing_id=${w.listings[1]}&sort=check_in`, 2)
    expect(items.map((x) => x.id)).toEqual(ordered(w.created.filter((_, i) => i % 3 === 1), byCheckIn, false))
    // and a customer's, through the nested route
    const nested = await walk(w, `/v1/customers/${w.customerId}/bookings?sort=created_at`, 7)
    expect(nested.items.map((x) => x.id)).toEqual(ordered(w.created, byCreated, false))
  })

  it('customers and listings, limit=7, for sort=-created_at, created_at and -updated_at', async () => {
    const w = await world()
    const customers: Item[] = []
    const listings: Item[] = []
    for (let i = 0; i < 22; i++) {
      if (i % 4 !== 0) w.clock.advance(1000)
      customers.push(await customer(w, `Customer ${i}`))
      listings.push(await listing(w, { name: `Listing ${i}` }))
    }
    for (const [url, rows] of [
      ['/v1/customers', customers],
      ['/v1/listings', listings],
    ] as const) {
      for (const [sort, desc] of [
        ['-created_at', true],
        ['created_at', false],
        ['', true],
      ] as const) {
        const { items, pages } = await walk(w, withQuery(url, sort ? `sort=${sort}` : ''), 7)
        expect(pages.map((p) => p.data.length), `${url} ${sort}`).toEqual([7, 7, 7, 1])
        expect(items.map((x) => x.id), `${url} ${sort}`).toEqual(ordered(rows, (x) => x.created_at, desc))
      }
      const { items } = await walk(w, `${url}?sort=-updated_at`, 7)
      expect(items.map((x) => x.id)).toEqual(ordered(rows, (x) => x.updated_at, true))
    }
  })
})

describe('walking while rows come and go', () => {
  it('customers: inserts and deletes between pages never repeat or skip a row that existed throughout', async () => {
    for (const sort of ['-created_at', 'created_at']) {
      const w = await world()
      const initial: Item[] = []
      for (let i = 0; i < 25; i++) {
        if (i % 3 !== 0) w.clock.advance(1000)
        initial.push(await customer(w, `C${i}`))
      }
      const deletedBefore = new Map<string, number>() // id → the page after which it was deleted
      const inserted: string[] = []
      const desc = sort.startsWith('-')
      const { items, pages } = await walk(w, `/v1/customers?sort=${sort}`, 7, async (page, seen) => {
        const seenIds = new Set(seen.map((x) => x.id))
        const ahead = ordered(initial, (x) => x.created_at, desc).filter((id) => !seenIds.has(id) && !deletedBefore.has(id))
        const behind = seen.map((x) => x.id).filter((id) => !deletedBefore.has(id))
        // delete two rows not reached yet, and one already read
        for (const id of [ahead[0], ahead[ahead.length - 1], behind[0]]) {
          if (!id) continue
          const res = await w.h.call(w.t.token, 'DELETE', `/v1/customers/${id}`)
          expect(res.statusCode, res.body).toBe(204)
          deletedBefore.set(id, page)
        }
        // insert two: one in the same millisecond as the newest row, one later
        inserted.push((await customer(w, `new ${page}a`)).id)
        w.clock.advance(1000)
        inserted.push((await customer(w, `new ${page}b`)).id)
      })
      expect(pages.length).toBeGreaterThan(2)
      expectNoRepeats(items)
      expectMonotonic(items, (x) => x.created_at, desc)
      const walked = new Set(items.map((x) => x.id))
      const stable = initial.filter((x) => !deletedBefore.has(x.id))
      for (const row of stable) expect(walked.has(row.id), `${row.id} existed throughout the walk but was skipped (${sort})`).toBe(true)
      // a row deleted before its page was read is not returned
      for (const [pageIndex, body] of pages.entries()) {
        for (const item of body.data) {
          const deletedAfter = deletedBefore.get(item.id)
          if (deletedAfter !== undefined) expect(deletedAfter, `${item.id} was read after it was deleted`).toBeGreaterThanOrEqual(pageIndex)
        }
      }
      // ascending walks reach the rows inserted meanwhile (they sort last); descending ones do not
      if (desc) for (const id of inserted) expect(walked.has(id)).toBe(false)
      else for (const id of inserted) expect(walked.has(id)).toBe(true)
    }
  })

  it('bookings: new bookings and cancellations between pages never repeat or skip a booking that existed throughout', async () => {
    const w = await bookingsWorld()
    let nextSlot = 100
    let earlySlot = -1
    for (const [query, key, desc] of [
      ['sort=check_in', (x: Item) => x.check_in!, false],
      ['sort=-created_at', (x: Item) => x.created_at, true],
      ['sort=check_in&status=HELD', (x: Item) => x.check_in!, false],
    ] as const) {
      const live = (await w.h.call(w.t.token, 'GET', '/v1/bookings?status=HELD&limit=100')).json().data as Item[]
      const cancelled = new Set<string>()
      const { items } = await walk(w, `/v1/bookings?${query}`, 4, async (_page, seen) => {
        const seenIds = new Set(seen.map((x) => x.id))
        // cancel one held booking not read yet and one already read
        const ahead = live.find((b) => !seenIds.has(b.id) && !cancelled.has(b.id))
        const behind = seen.find((b) => !cancelled.has(b.id) && live.some((l) => l.id === b.id))
        for (const b of [ahead, behind]) {
          if (!b) continue
          const res = await w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:cancel`, { reason: 'walk' })
          expect(res.statusCode, res.body).toBe(200)
          cancelled.add(b.id)
        }
        // new bookings: one before everything (by check_in), one after
        w.clock.advance(1000)
        await booking(w, w.listings[2]!, w.customerId, night(earlySlot), night(earlySlot + 1))
        await booking(w, w.listings[2]!, w.customerId, night(nextSlot), night(nextSlot + 1))
        earlySlot -= 1
        nextSlot += 2
      })
      expectNoRepeats(items)
      expectMonotonic(items, key, desc)
      const walked = new Set(items.map((x) => x.id))
      const filtered = query.includes('status=HELD')
      const stable = (filtered ? live : w.created).filter((b) => !cancelled.has(b.id) || !filtered)
      for (const b of stable) expect(walked.has(b.id), `${b.id} existed throughout but was skipped (${query})`).toBe(true)
      if (filtered) for (const item of items) expect(item.status).toBe('HELD')
    }
  })
})

describe('cursors are tamper-proof and bound to what they were made for', () => {
  async function firstCursor(w: World, url: string, token = w.t.token): Promise<string> {
    const res = await w.h.call(token, 'GET', withQuery(url, 'limit=2'))
    expect(res.statusCode, res.body).toBe(200)
    const cursor = res.json().pagination.next_cursor as string
    expect(cursor).toEqual(expect.any(String))
    return cursor
  }

  /** The same string with the character at `index` replaced by another base64url character. */
  function flip(s: string, index: number): string {
    const c = s[index]!
    return s.slice(0, index) + (c === 'A' ? 'B' : 'A') + s.slice(index + 1)
  }

  it('a cursor with any character changed is a 400 INVALID_CURSOR, in its body or its signature', async () => {
    const w = await bookingsWorld()
    const url = '/v1/bookings?sort=check_in'
    const cursor = await firstCursor(w, url)
    const dot = cursor.indexOf('.')
    expect(dot).toBeGreaterThan(0)
    const next = (c: string) => w.h.call(w.t.token, 'GET', `${url}&limit=2&cursor=${encodeURIComponent(c)}`)
    // the untouched cursor works
    expect((await next(cursor)).statusCode).toBe(200)

    const tampered = [
      flip(cursor, 0),
      flip(cursor, Math.floor(dot / 2)),
      flip(cursor, dot - 1),
      flip(cursor, dot + 1), // the signature
      flip(cursor, cursor.length - 1),
      cursor.slice(0, dot), // no signature
      cursor.slice(0, dot + 1),
      cursor.slice(dot), // no body
      `${cursor.slice(0, dot)}.${cursor.slice(0, dot)}`,
      cursor.slice(0, -1),
      'abc',
      'abc.def',
      '.',
      // a well-formed cursor for another position, signed with a made-up key
      `${Buffer.from(JSON.stringify({ k: night(0), i: w.created[0]!.id, b: 'x' })).toString('base64url')}.${cursor.slice(dot + 1)}`,
    ]
    for (const bad of tampered) {
      const res = await next(bad)
      const error = expectError(res, 400, 'INVALID_CURSOR')
      expect(res.json().error.retry_advice).toBe('retry_after_fix')
      expect(error.details ?? {}).not.toHaveProperty('key')
    }
    // nothing is leaked in the cursor but a position: the body is not the signed data of another page
    expect((await next(cursor)).json().data).toHaveLength(2)
  })

  it('a cursor reused with another filter, sort, resource, team_ids, partner or mode is a 400 INVALID_CURSOR', async () => {
    const w = await world(2)
    const [team1, team2] = w.t.teamIds as [string, string]
    const l1 = (await listing(w, { team_id: team1 })).id
    const l2 = (await listing(w, { team_id: team2 })).id
    const c1 = (await create<Item>(w, '/v1/customers', { name: 'An', team_id: team1 })).id
    for (let i = 0; i < 4; i++) {
      w.clock.advance(1000)
      await booking(w, l1, c1, night(i * 2), night(i * 2 + 1))
      await booking(w, l2, c1, night(i * 2), night(i * 2 + 1))
      await create(w, '/v1/customers', { name: `C${i}`, team_id: team1 })
    }
    const base = '/v1/bookings?sort=check_in'
    const cursor = await firstCursor(w, base)
    const use = (url: string, token = w.t.token) => w.h.call(token, 'GET', withQuery(url, `limit=2&cursor=${encodeURIComponent(cursor)}`))
    expect((await use(base)).statusCode).toBe(200)
    // limit and fields are not part of the walk
    expect((await w.h.call(w.t.token, 'GET', `${base}&limit=5&fields=id&cursor=${encodeURIComponent(cursor)}`)).statusCode).toBe(200)

    for (const other of [
      '/v1/bookings?sort=check_in&status=HELD',
      '/v1/bookings?sort=check_in&status=CONFIRMED,ISSUED',
      `/v1/bookings?sort=check_in&listing_id=${l1}`,
      `/v1/bookings?sort=check_in&customer_id=${c1}`,
      '/v1/bookings?sort=check_in&check_in_from=2031-09-02',
      '/v1/bookings?sort=-check_in',
      '/v1/bookings?sort=created_at',
      '/v1/bookings', // the default sort
      `/v1/bookings?sort=check_in&team_ids=${encodeURIComponent(JSON.stringify([team1]))}`,
      `/v1/bookings?sort=check_in&team_ids=${team2}`,
      `/v1/customers/${c1}/bookings?sort=check_in`,
      '/v1/customers',
      '/v1/listings',
      '/v1/events',
    ]) {
      expectError(await use(other), 400, 'INVALID_CURSOR')
    }

    // a cursor made with a filter does not work without it
    const filtered = await firstCursor(w, `/v1/bookings?sort=check_in&team_ids=${team1}`)
    expectError(await w.h.call(w.t.token, 'GET', `${base}&limit=2&cursor=${encodeURIComponent(filtered)}`), 400, 'INVALID_CURSOR')
    expect((await w.h.call(w.t.token, 'GET', `${base}&team_ids=${team1}&limit=2&cursor=${encodeURIComponent(filtered)}`)).statusCode).toBe(200)

    // another partner with the very same query
    const other = await makeTenant(w.h.db, { clock: w.clock, teams: 1 })
    expectError(await use(base, other.token), 400, 'INVALID_CURSOR')
    // the same user with a live token
    const live = await w.t.addToken({ name: 'live', mode: 'live' })
    expectError(await use(base, live.token), 400, 'INVALID_CURSOR')
    // a colleague whose token covers only one of the teams
    const narrow = await w.t.addUser('VIEWER', { teamIds: [team1] })
    expectError(await use(base, narrow.token), 400, 'INVALID_CURSOR')
    // a colleague with the same teams continues the same walk (the cursor is bound to the scope, not the token)
    const colleague = await w.t.addUser('VIEWER')
    expect((await use(base, colleague.token)).statusCode).toBe(200)

    // customers' cursors are bound the same way
    const customerCursor = await firstCursor(w, '/v1/customers?sort=created_at')
    expect((await w.h.call(w.t.token, 'GET', `/v1/customers?sort=created_at&cursor=${encodeURIComponent(customerCursor)}`)).statusCode).toBe(200)
    expectError(await w.h.call(w.t.token, 'GET', `/v1/customers?sort=-created_at&cursor=${encodeURIComponent(customerCursor)}`), 400, 'INVALID_CURSOR')
    expectError(await w.h.call(w.t.token, 'GET', `/v1/customers?sort=created_at&q=C&cursor=${encodeURIComponent(customerCursor)}`), 400, 'INVALID_CURSOR')
    expectError(await w.h.call(other.token, 'GET', `/v1/customers?sort=created_at&cursor=${encodeURIComponent(customerCursor)}`), 400, 'INVALID_CURSOR')
  })

  it('limit is 1–100: 0, 101, -1, 1.5 and x are 400s naming limit', async () => {
    const w = await world()
    await customer(w)
    for (const limit of ['0', '101', '-1', '1.5', 'x', '']) {
      for (const url of ['/v1/bookings', '/v1/customers', '/v1/listings']) {
        const res = await w.h.call(w.t.token, 'GET', `${url}?limit=${limit}`)
        const error = expectError(res, 400, 'VALIDATION_ERROR')
        expect((error.details!.fields as { field: string; location: string }[]).map((f) => `${f.location}:${f.field}`), `${url}?limit=${limit}`).toContain('query:limit')
      }
    }
    for (const limit of ['1', '100']) expect((await w.h.call(w.t.token, 'GET', `/v1/customers?limit=${limit}`)).statusCode).toBe(200)
    expectError(await w.h.call(w.t.token, 'GET', '/v1/bookings?sort=nope'), 400, 'VALIDATION_ERROR')
    expectError(await w.h.call(w.t.token, 'GET', '/v1/bookings?sort=guests'), 400, 'VALIDATION_ERROR')
  })

  it('the default limit is 20; has_more and next_cursor are right on every page, the last one included', async () => {
    const w = await world()
    const empty = await w.h.call(w.t.token, 'GET', '/v1/customers')
    expect(empty.json()).toEqual({ data: [], pagination: { next_cursor: null, has_more: false } })

    const rows: Item[] = []
    for (let i = 0; i < 21; i++) {
      w.clock.advance(1000)
      rows.push(await customer(w, `C${i}`))
    }
    const first = await w.h.call(w.t.token, 'GET', '/v1/customers?sort=created_at')
    expect(first.json().data).toHaveLength(20)
    expect(first.json().pagination.has_more).toBe(true)
    const second = await w.h.call(w.t.token, 'GET', `/v1/customers?sort=created_at&cursor=${encodeURIComponent(first.json().pagination.next_cursor)}`)
    expect(second.statusCode).toBe(200)
    expect(second.json()).toEqual({ data: [expect.objectContaining({ id: rows[20]!.id })], pagination: { next_cursor: null, has_more: false } })

    // exactly a page of rows: no empty page after it
    expect((await w.h.call(w.t.token, 'DELETE', `/v1/customers/${rows[0]!.id}`)).statusCode).toBe(204)
    const exact = await w.h.call(w.t.token, 'GET', '/v1/customers')
    expect(exact.json().data).toHaveLength(20)
    expect(exact.json().pagination).toEqual({ next_cursor: null, has_more: false })
    const { pages } = await walk(w, '/v1/customers', 10)
    expect(pages.map((p) => [p.data.length, p.pagination.has_more])).toEqual([
      [10, true],
      [10, false],
    ])
    // a filter that matches nothing
    expect((await w.h.call(w.t.token, 'GET', '/v1/customers?q=nobody')).json()).toEqual({ data: [], pagination: { next_cursor: null, has_more: false } })
  })
})

describe('fields=', () => {
  it('fields=id,status returns only those keys for each item, page after page; unknown fields are a 400', async () => {
    const w = await bookingsWorld()
    const { items, pages } = await walk(w, '/v1/bookings?sort=check_in&fields=id,status', 8)
    expect(pages).toHaveLength(3)
    expect(items).toHaveLength(21)
    for (const item of items) expect(Object.keys(item).sort()).toEqual(['id', 'status'])
    expect(items.map((x) => x.id)).toEqual(ordered(w.created, (x) => x.check_in!, false))

    const spaced = await w.h.call(w.t.token, 'GET', `/v1/bookings?fields=${encodeURIComponent('price, id')}&limit=1`)
    expect(spaced.statusCode).toBe(200)
    expect(Object.keys(spaced.json().data[0]).sort()).toEqual(['id', 'price'])
    expect(spaced.json().pagination.has_more).toBe(true)

    const customers = await w.h.call(w.t.token, 'GET', '/v1/customers?fields=id,name')
    expect(customers.json().data).toEqual([{ id: w.customerId, name: 'An' }])

    for (const bad of ['nope', 'id,nope', '', ',', 'ID']) {
      const res = await w.h.call(w.t.token, 'GET', `/v1/bookings?fields=${bad}`)
      expectError(res, 400, 'VALIDATION_ERROR')
    }
    expectError(await w.h.call(w.t.token, 'GET', '/v1/customers?fields=status'), 400, 'VALIDATION_ERROR')
  })
})
