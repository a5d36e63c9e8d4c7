import type { InjectOptions } from 'fastify'
import { describe, expect, it } from 'vitest'
import { newId } from '../src/platform/ids.ts'
import { listingReplacement } from './helpers/bodies.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import { day, listingBody, listingHelpers } from './helpers/listings.ts'

/** Listings (API.md §5, §10), who sees and does what: permissions and tenancy. */
const h = await testApp()
const { createListing, listIds } = listingHelpers(h)

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
