import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { newId } from '../src/platform/ids.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { TestApp } from './helpers/harness.ts'

/**
 * API.md §5: a resource outside the token's tenancy is indistinguishable from one that does not
 * exist — same status, same headers that matter, same body byte for byte.
 */
let probe = 0

async function sameNotFound(
  h: TestApp,
  token: string,
  method: InjectOptions['method'],
  hiddenUrl: string,
  unknownUrl: string,
  body?: unknown,
): Promise<LightMyRequestResponse> {
  // one request id for both requests, so that the bodies can be compared byte for byte
  const headers = { 'x-request-id': `tenancy-probe-${process.pid}-${++probe}` }
  const hidden = await h.call(token, method, hiddenUrl, body, headers)
  const unknown = await h.call(token, method, unknownUrl, body, headers)
  expect(unknown.statusCode, unknown.body).toBe(404)
  expect(unknown.json().error.code).toBe('NOT_FOUND')
  expect(hidden.statusCode, hidden.body).toBe(unknown.statusCode)
  expect(hidden.body).toBe(unknown.body)
  for (const header of ['content-type', 'content-length', 'cache-control', 'x-request-id', 'www-authenticate', 'location', 'allow']) {
    expect(hidden.headers[header], header).toEqual(unknown.headers[header])
  }
  expect(hidden.headers['x-request-id']).toBe(headers['x-request-id'])
  return hidden
}

describe('another partner', () => {
  it("B's token is a 404 for A, byte-identical to an unknown id (GET, DELETE, :rotate)", async () => {
    const h = await testApp()
    const a = await makeTenant(h.db)
    const b = await makeTenant(h.db)
    const unknown = newId('token')

    await sameNotFound(h, a.token, 'GET', `/v1/tokens/${b.tokenId}`, `/v1/tokens/${unknown}`)
    await sameNotFound(h, a.token, 'DELETE', `/v1/tokens/${b.tokenId}`, `/v1/tokens/${unknown}`)
    await sameNotFound(h, a.token, 'POST', `/v1/tokens/${b.tokenId}:rotate`, `/v1/tokens/${unknown}:rotate`, { grace_period_seconds: 0 })

    // nothing happened to B's token
    const bMe = await h.call(b.token, 'GET', '/v1/me')
    expect(bMe.statusCode).toBe(200)
    const bView = await h.call(b.token, 'GET', `/v1/tokens/${b.tokenId}`)
    expect(bView.json()).toMatchObject({ status: 'ACTIVE', revoked_at: null, previous_secret_expires_at: null })
    // and A's list does not show it
    const list = await h.call(a.token, 'GET', '/v1/tokens')
    expect(list.json().data.map((x: { id: string }) => x.id)).toEqual([a.tokenId])
  })

  it("B's team is a 404 for A, byte-identical to an unknown team, and absent from A's list", async () => {
    const h = await testApp()
    const a = await makeTenant(h.db)
    const b = await makeTenant(h.db)
    await sameNotFound(h, a.token, 'GET', `/v1/teams/${b.teamIds[0]}`, `/v1/teams/${newId('team')}`)
    // also through the .json alias
    await sameNotFound(h, a.token, 'GET', `/v1/teams/${b.teamIds[0]}.json`, `/v1/teams/${newId('team')}.json`)

    const list = await h.call(a.token, 'GET', '/v1/teams')
    expect(list.statusCode).toBe(200)
    const ids = list.json().data.map((x: { id: string }) => x.id)
    expect(ids.sort()).toEqual([...a.teamIds].sort())
    for (const id of b.teamIds) expect(ids).not.toContain(id)
    // B sees its own team
    expect((await h.call(b.token, 'GET', `/v1/teams/${b.teamIds[0]}`)).statusCode).toBe(200)
  })

  it("B's team in team_ids is refused exactly like an unknown team", async () => {
    const h = await testApp()
    const a = await makeTenant(h.db)
    const b = await makeTenant(h.db)
    const unknown = newId('team')
    const headers = { 'x-request-id': `tenancy-team-ids-${process.pid}` }
    const foreign = await h.call(a.token, 'POST', '/v1/tokens', { name: 'x', team_ids: [b.teamIds[0]] }, headers)
    const missing = await h.call(a.token, 'POST', '/v1/tokens', { name: 'x', team_ids: [unknown] }, headers)
    expect(foreign.statusCode).toBe(400)
    expect(missing.statusCode).toBe(400)
    expect(foreign.json().error.code).toBe('INVALID_TEAM_IDS')
    expect(foreign.json().error.details.invalid_team_ids).toEqual([b.teamIds[0]])
    expect(missing.json().error.details.invalid_team_ids).toEqual([unknown])
    // identical except for the id each one names
    expect(foreign.body.replaceAll(b.teamIds[0]!, 'ID')).toBe(missing.body.replaceAll(unknown, 'ID'))
  })
})

describe('within one partner', () => {
  it("another user's token is a 404 for me (tokens are personal), even for an OWNER", async () => {
    const h = await testApp()
    const me = await makeTenant(h.db, { role: 'OWNER' })
    const colleague = await me.addUser('ADMIN')
    const unknown = newId('token')

    await sameNotFound(h, me.token, 'GET', `/v1/tokens/${colleague.tokenId}`, `/v1/tokens/${unknown}`)
    await sameNotFound(h, me.token, 'DELETE', `/v1/tokens/${colleague.tokenId}`, `/v1/tokens/${unknown}`)
    await sameNotFound(h, me.token, 'POST', `/v1/tokens/${colleague.tokenId}:rotate`, `/v1/tokens/${unknown}:rotate`, { grace_period_seconds: 0 })

    expect((await h.call(colleague.token, 'GET', '/v1/me')).statusCode).toBe(200)
    const mine = await h.call(me.token, 'GET', '/v1/tokens')
    expect(mine.json().data.map((x: { id: string }) => x.id)).toEqual([me.tokenId])
    const theirs = await h.call(colleague.token, 'GET', '/v1/tokens')
    expect(theirs.json().data.map((x: { id: string }) => x.id)).toEqual([colleague.tokenId])
  })

  it('a team of my partner that my token does not cover is a 404 and absent from GET /v1/teams', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { teams: 3 })
    const created = await h.call(t.token, 'POST', '/v1/tokens', { name: 'narrow', team_ids: [t.teamIds[0]] })
    expect(created.statusCode, created.body).toBe(201)
    const narrow = created.json().secret as string

    const list = await h.call(narrow, 'GET', '/v1/teams')
    expect(list.statusCode).toBe(200)
    expect(list.json().data.map((x: { id: string }) => x.id)).toEqual([t.teamIds[0]])
    expect((await h.call(narrow, 'GET', `/v1/teams/${t.teamIds[0]}`)).statusCode).toBe(200)
    for (const hidden of t.teamIds.slice(1)) {
      await sameNotFound(h, narrow, 'GET', `/v1/teams/${hidden}`, `/v1/teams/${newId('team')}`)
    }
    const me = await h.call(narrow, 'GET', '/v1/me')
    expect(me.json().teams.map((x: { id: string }) => x.id)).toEqual([t.teamIds[0]])
    // the broad token of the same user does see them
    expect((await h.call(t.token, 'GET', `/v1/teams/${t.teamIds[2]}`)).statusCode).toBe(200)
  })

  it('a team the user does not belong to is a 404, even for a token created without team_ids', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { teams: 2 })
    const member = await t.addUser('TRAVEL_AGENT', { teamIds: [t.teamIds[1]!] })
    const list = await h.call(member.token, 'GET', '/v1/teams')
    expect(list.json().data.map((x: { id: string }) => x.id)).toEqual([t.teamIds[1]])
    await sameNotFound(h, member.token, 'GET', `/v1/teams/${t.teamIds[0]}`, `/v1/teams/${newId('team')}`)
  })
})

describe('modes', () => {
  it('a live token sees only live tokens of its user, and a test token only test tokens', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { mode: 'live' })
    const liveExtra = await t.addToken({ name: 'live extra', mode: 'live' })
    const testTok = await t.addToken({ name: 'test one', mode: 'test' })
    expect(t.token).toMatch(/^tvb_live_/)
    expect(testTok.token).toMatch(/^tvb_test_/)

    const live = await h.call(t.token, 'GET', '/v1/tokens')
    expect(live.statusCode).toBe(200)
    expect(live.json().data.map((x: { id: string }) => x.id).sort()).toEqual([t.tokenId, liveExtra.tokenId].sort())
    for (const item of live.json().data) expect(item.mode).toBe('live')

    const test = await h.call(testTok.token, 'GET', '/v1/tokens')
    expect(test.statusCode).toBe(200)
    expect(test.json().data.map((x: { id: string }) => x.id)).toEqual([testTok.tokenId])
    expect(test.json().data[0].mode).toBe('test')

    // across modes, a token id is a 404 like any unknown id
    await sameNotFound(h, t.token, 'GET', `/v1/tokens/${testTok.tokenId}`, `/v1/tokens/${newId('token')}`)
    await sameNotFound(h, t.token, 'DELETE', `/v1/tokens/${testTok.tokenId}`, `/v1/tokens/${newId('token')}`)
    await sameNotFound(h, testTok.token, 'GET', `/v1/tokens/${t.tokenId}`, `/v1/tokens/${newId('token')}`)
    await sameNotFound(h, testTok.token, 'POST', `/v1/tokens/${t.tokenId}:rotate`, `/v1/tokens/${newId('token')}:rotate`, {})
    expect((await h.call(testTok.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200)
  })
})

describe('malformed ids', () => {
  it('a malformed id is the same 404 as a well-formed unknown one', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    await sameNotFound(h, t.token, 'GET', '/v1/tokens/not-an-id', `/v1/tokens/${newId('token')}`)
    await sameNotFound(h, t.token, 'GET', `/v1/tokens/${t.teamIds[0]}`, `/v1/tokens/${newId('token')}`)
    await sameNotFound(h, t.token, 'GET', `/v1/teams/${t.tokenId}`, `/v1/teams/${newId('team')}`)
  })
})
