import { describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { TestApp } from './helpers/harness.ts'
import { TEST_SECRET, expectError, flipRandomChar, settle } from './helpers/tokens.ts'

/**
 * Tokens (API.md §4), making them: POST /v1/tokens and reads, no escalation beyond the calling
 * token, and secrets that never leak.
 */

describe('POST /v1/tokens and reads', () => {
  it('returns the secret once, with a Location; reads never include it; the secret works', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const res = await h.call(t.token, 'POST', '/v1/tokens', { name: 'ci deploy' })
    expect(res.statusCode, res.body).toBe(201)
    const created = res.json()
    expect(created.secret).toMatch(TEST_SECRET)
    expect(created.id).toMatch(/^tok_/)
    expect(res.headers.location).toBe(`${h.config.publicBaseUrl}/v1/tokens/${created.id}`)
    expect(created).toMatchObject({ name: 'ci deploy', mode: 'test', status: 'ACTIVE', partner_id: t.partnerId, user_id: t.userId, last_used_at: null, revoked_at: null })
    expect(created.team_ids.sort()).toEqual([...t.teamIds].sort())
    expect(created.secret.startsWith(created.prefix)).toBe(true)

    const one = await h.call(t.token, 'GET', `/v1/tokens/${created.id}`)
    expect(one.statusCode).toBe(200)
    expect(one.json()).not.toHaveProperty('secret')
    expect(one.body).not.toContain(created.secret)
    expect(one.json().id).toBe(created.id)

    const list = await h.call(t.token, 'GET', '/v1/tokens')
    expect(list.statusCode).toBe(200)
    const ids = list.json().data.map((x: { id: string }) => x.id)
    expect(ids).toEqual(expect.arrayContaining([t.tokenId, created.id]))
    for (const item of list.json().data) expect(item).not.toHaveProperty('secret')
    expect(list.body).not.toContain(created.secret)
    expect(list.body).not.toContain(t.token)

    const me = await h.call(created.secret, 'GET', '/v1/me')
    expect(me.statusCode).toBe(200)
    expect(me.json().token.id).toBe(created.id)
    expect(me.json().user.id).toBe(t.userId)
  })

  it('validates the body: every field error at once', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const res = await h.call(t.token, 'POST', '/v1/tokens', { name: '', scopes: ['nope'], extra: 1 })
    const err = expectError(res, 400, 'VALIDATION_ERROR')
    const fields = (err.details!.fields as { field: string }[]).map((f) => f.field)
    expect(fields).toEqual(expect.arrayContaining(['name', 'extra']))
    expect(fields.some((f) => f.startsWith('scopes'))).toBe(true)
  })
})

describe('no escalation through tokens', () => {
  it('team_ids outside the calling token → 400 INVALID_TEAM_IDS listing them', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { teams: 3 })
    const narrow = await t.addToken({ name: 'narrow', team_ids: [t.teamIds[0]!] })
    const other = await makeTenant(h.db)

    const err = expectError(await h.call(narrow.token, 'POST', '/v1/tokens', { name: 'x', team_ids: [t.teamIds[0], t.teamIds[1]] }), 400, 'INVALID_TEAM_IDS')
    expect(err.details!.invalid_team_ids).toEqual([t.teamIds[1]])

    const foreign = expectError(await h.call(narrow.token, 'POST', '/v1/tokens', { name: 'x', team_ids: [other.teamIds[0], t.teamIds[2]] }), 400, 'INVALID_TEAM_IDS')
    expect(foreign.details!.invalid_team_ids).toEqual([other.teamIds[0], t.teamIds[2]])

    const ok = await h.call(narrow.token, 'POST', '/v1/tokens', { name: 'ok' })
    expect(ok.statusCode, ok.body).toBe(201)
    expect(ok.json().team_ids).toEqual([t.teamIds[0]])
  })

  it('scopes beyond the calling token → 403 TOKEN_SCOPE_EXCEEDED; another mode → 403 TOKEN_SCOPE_EXCEEDED', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role: 'ADMIN', token: { scopes: ['token.read', 'token.manage'] } })
    const err = expectError(await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', scopes: ['token.read', 'listing.read'] }), 403, 'TOKEN_SCOPE_EXCEEDED')
    expect(err.details).toMatchObject({ not_allowed: ['listing.read'] })

    const narrower = await h.call(t.token, 'POST', '/v1/tokens', { name: 'read only', scopes: ['token.read'] })
    expect(narrower.statusCode, narrower.body).toBe(201)
    expect(narrower.json().permissions).toEqual(['token.read'])

    const mode = expectError(await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', mode: 'live' }), 403, 'TOKEN_SCOPE_EXCEEDED')
    expect(mode.details).toMatchObject({ field: 'mode' })
    const same = await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', mode: 'test', scopes: ['token.read'] })
    expect(same.statusCode, same.body).toBe(201)
    expect(same.json().mode).toBe('test')
  })

  // KNOWN BUG (see the report): createForCaller/create checks `(scopes ?? permissions)` against the
  // caller, i.e. the user's whole role when no scopes are sent, so a scoped caller gets 403 instead
  // of the documented default ("Default: the calling token's permissions"). Turn this into it(...)
  // once src/modules/tokens/service.ts only checks explicit scopes.
  it('a scoped caller that sends no scopes gets a token with its own permissions', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role: 'ADMIN', token: { scopes: ['token.read', 'token.manage'] } })
    const res = await h.call(t.token, 'POST', '/v1/tokens', { name: 'inherits' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json().scopes).toEqual(['token.manage', 'token.read'])
    expect(res.json().permissions.sort()).toEqual(['token.manage', 'token.read'])
    const me = await h.call(res.json().secret, 'GET', '/v1/me')
    expect(me.json().permissions.sort()).toEqual(['token.manage', 'token.read'])
  })

  it('a token with scopes [token.read] cannot create tokens (403 PERMISSION_DENIED token.manage)', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const created = await h.call(t.token, 'POST', '/v1/tokens', { name: 'reader', scopes: ['token.read'] })
    expect(created.statusCode, created.body).toBe(201)
    const reader = created.json().secret as string
    const err = expectError(await h.call(reader, 'POST', '/v1/tokens', { name: 'escalate' }), 403, 'PERMISSION_DENIED')
    expect(err.details).toEqual({ required_permission: 'token.manage' })
    expectError(await h.call(reader, 'POST', '/v1/tokens', { name: 'escalate', scopes: ['token.manage'] }), 403, 'PERMISSION_DENIED')
    expect((await h.call(reader, 'GET', '/v1/tokens')).statusCode).toBe(200)
  })
})

describe('secrets never leak', () => {
  it('no log line holds a secret or a hash; no response holds a hash', async () => {
    const h = await testApp({ logLevel: 'trace' })
    const t = await makeTenant(h.db)
    const secrets = [t.token]
    const bodies: string[] = []
    const call = async (...args: Parameters<TestApp['call']>) => {
      const res = await h.call(...args)
      bodies.push(res.body)
      return res
    }

    const created = await call(t.token, 'POST', '/v1/tokens', { name: 'leak check' })
    expect(created.statusCode).toBe(201)
    const createdSecret = created.json().secret as string
    secrets.push(createdSecret)
    const id = created.json().id as string
    await call(createdSecret, 'GET', '/v1/me')
    const rotated = await call(t.token, 'POST', `/v1/tokens/${id}:rotate`, { grace_period_seconds: 60 })
    expect(rotated.statusCode).toBe(200)
    const rotatedSecret = rotated.json().secret as string
    secrets.push(rotatedSecret)
    await call(createdSecret, 'GET', '/v1/me')
    await call(rotatedSecret, 'GET', '/v1/tokens')
    await call(t.token, 'GET', `/v1/tokens/${id}`)
    await call(null, 'GET', `/v1/me?access_token=${rotatedSecret}`)
    await call(flipRandomChar(rotatedSecret), 'GET', '/v1/me')
    await call(t.token, 'POST', '/v1/tokens', { name: '', secret: rotatedSecret })
    await call(null, 'GET', '/v1/me', undefined, { authorization: `Basic ${rotatedSecret}` })
    await call(t.token, 'GET', `/v1/nope/${rotatedSecret}`)
    expect((await call(t.token, 'DELETE', `/v1/tokens/${id}`)).statusCode).toBe(204)
    await call(rotatedSecret, 'GET', '/v1/me')
    await settle()

    // the database keeps only Argon2id hashes
    const { rows } = await h.db.query<{ hash: string }>('SELECT hash FROM token_secrets WHERE token_id = $1', [id])
    expect(rows).toHaveLength(2)
    for (const row of rows) {
      expect(row.hash.startsWith('$argon2id$')).toBe(true)
      for (const secret of secrets) expect(row.hash).not.toContain(secret.slice(9))
    }

    const logs = h.logs.text
    expect(logs).toContain('request completed') // the capture works, so the checks below mean something
    expect(h.logs.lines.length).toBeGreaterThan(10)
    expect(logs).not.toContain('$argon2id$')
    for (const secret of secrets) {
      expect(logs).not.toContain(secret)
      expect(logs).not.toContain(secret.slice(9, 35)) // not even the random part
    }
    for (const body of bodies) expect(body).not.toContain('$argon2id$')
  })
})
