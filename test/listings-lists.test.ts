import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { newId } from '../src/platform/ids.ts'
import { listingReplacement } from './helpers/bodies.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import { expectValidation, fieldNames, listingHelpers, sleep } from './helpers/listings.ts'

/** Listings (API.md §7, §10), reading them: GET of one (ETag, fields=, .json) and lists (pages, cursors, filters, sort, team_ids). */
const h = await testApp()
const { createListing, listIds } = listingHelpers(h)

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
