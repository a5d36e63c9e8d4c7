import { crc32 } from 'node:zlib'
import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { checksum, generateToken, parseToken } from '../src/modules/tokens/token-format.ts'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'
import type { TestApp } from './helpers/harness.ts'

const TEST_SECRET = /^tvb_test_[0-9A-Za-z]{32}$/
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const SECOND = 1000
const DAY = 86_400_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Lets fire-and-forget work of earlier requests (the last_used_at UPDATE) finish. */
const settle = () => sleep(50)

/** The tvb_token_argon2_verifications_total counter, read the way Prometheus would see it. */
async function argon2Runs(h: TestApp): Promise<number> {
  const text = await h.metrics.registry.getSingleMetricAsString('tvb_token_argon2_verifications_total')
  const line = text.split('\n').find((l) => l.startsWith('tvb_token_argon2_verifications_total '))
  expect(line, text).toBeDefined()
  return Number(line!.split(' ')[1])
}

/** Queries and Argon2id runs caused by fn. */
async function cost(h: TestApp, fn: () => Promise<unknown>): Promise<{ queries: number; argon2: number }> {
  await settle()
  const q0 = h.db.queryCount
  const a0 = await argon2Runs(h)
  await fn()
  return { queries: h.db.queryCount - q0, argon2: (await argon2Runs(h)) - a0 }
}

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = res.json()
  expect(body.error.code, res.body).toBe(code)
  expect(body.error.request_id).toBe(res.headers['x-request-id'])
  if (status === 401) expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer\b/)
  return body.error as { code: string; message: string; details?: Record<string, unknown> }
}

/** The same token with one character of its random part replaced by another base62 character. */
function flipRandomChar(secret: string, index = 12): string {
  const pos = 9 + index
  const c = secret[pos]!
  const replacement = BASE62[(BASE62.indexOf(c) + 1) % 62]!
  return secret.slice(0, pos) + replacement + secret.slice(pos + 1)
}

function decodeBase62(text: string): number {
  let n = 0
  for (const c of text) n = n * 62 + BASE62.indexOf(c)
  return n
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

describe('token format', () => {
  it('generates tvb_test_ + 26 random + 6-char base62 CRC32 of the random part', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const { secret, lookup } = generateToken('test')
      expect(secret).toMatch(TEST_SECRET)
      const random = secret.slice(9, 35)
      const sum = secret.slice(35)
      expect(sum).toHaveLength(6)
      expect(sum).toBe(checksum(random))
      // independently of checksum(): the 6 characters are CRC32(random) written in base62
      expect(decodeBase62(sum)).toBe(crc32(random))
      // the lookup prefix is a non-secret start of the token, not the token
      expect(secret.startsWith(lookup)).toBe(true)
      expect(lookup.length).toBeLessThan(secret.length - 20)
      seen.add(secret)
    }
    expect(seen.size).toBe(50)
    expect(generateToken('live').secret).toMatch(/^tvb_live_[0-9A-Za-z]{32}$/)
  })

  it('parseToken accepts a well-formed token and rejects flipped characters, wrong prefixes and wrong lengths', () => {
    const { secret, lookup } = generateToken('test')
    expect(parseToken(secret)).toEqual({ mode: 'test', lookup })
    // every single-character change of the random part or of the checksum is caught
    for (let i = 0; i < 26; i++) expect(parseToken(flipRandomChar(secret, i)), `random char ${i}`).toBeNull()
    for (let i = 35; i < 41; i++) {
      const c = secret[i]!
      const flipped = secret.slice(0, i) + BASE62[(BASE62.indexOf(c) + 7) % 62] + secret.slice(i + 1)
      expect(parseToken(flipped), `checksum char ${i}`).toBeNull()
    }
    const body = secret.slice(9)
    for (const prefix of ['tvb_prod_', 'tvx_test_', 'TVB_test_', 'tvb_TEST_', 'tvb-test-', 'tvbtest_', '']) {
      expect(parseToken(prefix + body), prefix).toBeNull()
    }
    expect(parseToken(secret.slice(0, -1))).toBeNull()
    expect(parseToken(secret + 'a')).toBeNull()
    expect(parseToken(`tvb_test_${body.slice(0, 25)}${checksum(body.slice(0, 25))}`)).toBeNull()
    expect(parseToken(` ${secret}`)).toBeNull()
    expect(parseToken(`${secret}\n`)).toBeNull()
    expect(parseToken(secret.replace(/.$/, '-'))).toBeNull()
  })
})

describe('authentication', () => {
  it('a bad-checksum or malformed token gets 401 UNAUTHENTICATED without a query or an Argon2id run', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const candidates = [
      flipRandomChar(t.token),
      t.token.slice(0, -1),
      `${t.token}x`,
      t.token.replace('tvb_test_', 'tvb_prod_'),
      'tvb_test_',
      'not-a-token',
    ]
    for (const candidate of candidates) {
      const spent = await cost(h, async () => {
        const res = await h.call(candidate, 'GET', '/v1/me')
        expectError(res, 401, 'UNAUTHENTICATED')
        expect(res.body).not.toContain(candidate)
      })
      expect(spent, candidate).toEqual({ queries: 0, argon2: 0 })
    }
    // the real token still works on the same app
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200)
  })

  it('refuses a missing Authorization header, the Basic scheme and a token in the query string', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    expectError(await h.call(null, 'GET', '/v1/me'), 401, 'UNAUTHENTICATED')
    const basic = Buffer.from(`user:${t.token}`).toString('base64')
    expectError(await h.call(null, 'GET', '/v1/me', undefined, { authorization: `Basic ${basic}` }), 401, 'UNAUTHENTICATED')
    expectError(await h.call(null, 'GET', '/v1/me', undefined, { authorization: t.token }), 401, 'UNAUTHENTICATED')
    expectError(await h.call(null, 'GET', '/v1/me', undefined, { authorization: 'Bearer' }), 401, 'UNAUTHENTICATED')
    expectError(await h.call(null, 'GET', `/v1/me?access_token=${t.token}`), 401, 'UNAUTHENTICATED')
    expectError(await h.call(null, 'GET', `/v1/tokens?access_token=${t.token}`), 401, 'UNAUTHENTICATED')
    expectError(await h.call(null, 'GET', `/v1/me?token=${t.token}`), 401, 'UNAUTHENTICATED')
    // the same token in the header is accepted
    const ok = await h.call(t.token, 'GET', '/v1/me')
    expect(ok.statusCode).toBe(200)
    expect(ok.headers['www-authenticate']).toBeUndefined()
  })

  it('serves a cached token with no query and no Argon2id run', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const first = await cost(h, async () => expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200))
    expect(first.argon2).toBe(1)
    expect(first.queries).toBeGreaterThanOrEqual(1)
    const second = await cost(h, async () => expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200))
    expect(second).toEqual({ queries: 0, argon2: 0 })
  })

  it('concurrent first requests with one new token share one Argon2id run', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const spent = await cost(h, async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => h.call(t.token, 'GET', '/v1/me')))
      for (const res of results) expect(res.statusCode).toBe(200)
    })
    expect(spent.argon2).toBe(1)
  })

  it('refuses a live token with 401 TOKEN_MODE_NOT_ALLOWED on a server that only allows test', async () => {
    const h = await testApp({ config: { allowedModes: ['test'] } })
    const live = await makeTenant(h.db, { mode: 'live' })
    const test = await makeTenant(h.db)
    expect(live.token).toMatch(/^tvb_live_/)
    const spent = await cost(h, async () => {
      const err = expectError(await h.call(live.token, 'GET', '/v1/me'), 401, 'TOKEN_MODE_NOT_ALLOWED')
      expect(err.details).toEqual({ mode: 'live' })
    })
    expect(spent).toEqual({ queries: 0, argon2: 0 })
    expect((await h.call(test.token, 'GET', '/v1/me')).statusCode).toBe(200)
  })
})

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

describe('expiry', () => {
  it('expires_at: at most 365 days ahead, in the future, default 90 days', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock })
    const now = clock.now().getTime()
    const t = await makeTenant(h.db, { clock, token: { expires_at: iso(now + 365 * DAY) } })

    const tooLate = expectError(await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', expires_at: iso(now + 365 * DAY + SECOND) }), 400, 'VALIDATION_ERROR')
    expect((tooLate.details!.fields as { field: string }[]).map((f) => f.field)).toContain('expires_at')
    const wayTooLate = expectError(await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', expires_at: iso(now + 400 * DAY) }), 400, 'VALIDATION_ERROR')
    expect((wayTooLate.details!.fields as { field: string }[]).map((f) => f.field)).toContain('expires_at')

    const past = expectError(await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', expires_at: iso(now - SECOND) }), 400, 'VALIDATION_ERROR')
    expect((past.details!.fields as { field: string }[]).map((f) => f.field)).toContain('expires_at')

    const notADate = expectError(await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', expires_at: 'next tuesday' }), 400, 'VALIDATION_ERROR')
    expect((notADate.details!.fields as { field: string }[]).map((f) => f.field)).toContain('expires_at')

    const exactlyMax = await h.call(t.token, 'POST', '/v1/tokens', { name: 'max', expires_at: iso(now + 365 * DAY) })
    expect(exactlyMax.statusCode, exactlyMax.body).toBe(201)
    expect(exactlyMax.json().expires_at).toBe(iso(now + 365 * DAY))

    const byDefault = await h.call(t.token, 'POST', '/v1/tokens', { name: 'default' })
    expect(byDefault.statusCode, byDefault.body).toBe(201)
    expect(byDefault.json().expires_at).toBe(iso(now + 90 * DAY))
  })

  it('a new token never outlives its caller: capped by default, 403 TOKEN_SCOPE_EXCEEDED when asked', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock })
    const now = clock.now().getTime()
    const callerExpiry = iso(now + 10 * DAY)
    const t = await makeTenant(h.db, { clock, token: { expires_at: callerExpiry } })

    const capped = await h.call(t.token, 'POST', '/v1/tokens', { name: 'capped' })
    expect(capped.statusCode, capped.body).toBe(201)
    expect(capped.json().expires_at).toBe(callerExpiry)

    const err = expectError(await h.call(t.token, 'POST', '/v1/tokens', { name: 'later', expires_at: iso(now + 20 * DAY) }), 403, 'TOKEN_SCOPE_EXCEEDED')
    expect(err.details).toMatchObject({ field: 'expires_at', latest_allowed: callerExpiry })

    const earlier = await h.call(t.token, 'POST', '/v1/tokens', { name: 'earlier', expires_at: iso(now + 5 * DAY) })
    expect(earlier.statusCode).toBe(201)
    expect(earlier.json().expires_at).toBe(iso(now + 5 * DAY))
  })

  it('an expired token gets 401 TOKEN_EXPIRED, even while it is cached', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock, config: { tokenCacheTtlSeconds: 30 } })
    const now = clock.now().getTime()
    const t = await makeTenant(h.db, { clock })
    const short = await t.addToken({ expires_at: iso(now + 10 * SECOND) })

    expect((await h.call(short.token, 'GET', '/v1/me')).statusCode).toBe(200)
    clock.advance(9 * SECOND)
    expect((await h.call(short.token, 'GET', '/v1/me')).statusCode).toBe(200)
    clock.advance(1 * SECOND) // exactly at expires_at: no longer valid
    const spent = await cost(h, async () => {
      const err = expectError(await h.call(short.token, 'GET', '/v1/me'), 401, 'TOKEN_EXPIRED')
      expect(err.details).toEqual({ expired_at: iso(now + 10 * SECOND) })
    })
    // refused from the cache: no query, no hash
    expect(spent).toEqual({ queries: 0, argon2: 0 })

    // after the cache entry is gone, still expired
    clock.advance(60 * SECOND)
    expectError(await h.call(short.token, 'GET', '/v1/me'), 401, 'TOKEN_EXPIRED')
    // and on a fresh instance that never cached it
    const h2 = await testApp({ clock })
    expectError(await h2.call(short.token, 'GET', '/v1/me'), 401, 'TOKEN_EXPIRED')

    // the owner sees it as EXPIRED (the default 90-day token is still valid)
    const view = await h.call(t.token, 'GET', `/v1/tokens/${short.tokenId}`)
    expect(view.statusCode).toBe(200)
    expect(view.json().status).toBe('EXPIRED')
  })
})

describe('revocation', () => {
  it('DELETE revokes at once on the same instance, even a cached token', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const victim = await t.addToken({ name: 'victim' })
    expect((await h.call(victim.token, 'GET', '/v1/me')).statusCode).toBe(200) // now cached

    const del = await h.call(t.token, 'DELETE', `/v1/tokens/${victim.tokenId}`)
    expect(del.statusCode).toBe(204)
    expect(del.body).toBe('')

    const err = expectError(await h.call(victim.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
    expect(err.details?.revoked_at).toEqual(expect.any(String))

    const view = await h.call(t.token, 'GET', `/v1/tokens/${victim.tokenId}`)
    expect(view.statusCode).toBe(200)
    expect(view.json().status).toBe('REVOKED')
    expect(view.json().revoked_at).toBe(err.details?.revoked_at)

    const list = await h.call(t.token, 'GET', '/v1/tokens')
    expect(list.json().data.map((x: { id: string }) => x.id)).not.toContain(victim.tokenId)
    // the caller itself is untouched
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200)
  })

  it('a token can revoke itself', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    expect((await h.call(t.token, 'DELETE', `/v1/tokens/${t.tokenId}`)).statusCode).toBe(204)
    expectError(await h.call(t.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
  })

  it('another instance honours a revoked token only until its cache TTL ends', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h1 = await testApp({ clock, config: { tokenCacheTtlSeconds: 30 } })
    const h2 = await testApp({ clock, config: { tokenCacheTtlSeconds: 30 } })
    expect(h2.db).toBe(h1.db)
    const t = await makeTenant(h1.db, { clock })
    const victim = await t.addToken({ name: 'victim' })

    expect((await h1.call(victim.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await h2.call(victim.token, 'GET', '/v1/me')).statusCode).toBe(200) // cached on h2 at t0
    expect((await h1.call(t.token, 'DELETE', `/v1/tokens/${victim.tokenId}`)).statusCode).toBe(204)

    expectError(await h1.call(victim.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
    // h2 does not know yet: within the stated bound it may still accept the token
    expect((await h2.call(victim.token, 'GET', '/v1/me')).statusCode).toBe(200)
    clock.advance(29 * SECOND)
    expect((await h2.call(victim.token, 'GET', '/v1/me')).statusCode).toBe(200)
    clock.advance(1 * SECOND) // 30 s after it was cached: the bound
    expectError(await h2.call(victim.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
    clock.advance(5 * SECOND)
    expectError(await h2.call(victim.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
  })
})

describe('rotation', () => {
  it('the old secret keeps working for the grace period, then 401 TOKEN_REVOKED; the new one works', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock })
    const now = clock.now().getTime()
    const t = await makeTenant(h.db, { clock })
    const target = await t.addToken({ name: 'rotating' })
    expect((await h.call(target.token, 'GET', '/v1/me')).statusCode).toBe(200) // cached before rotation

    const res = await h.call(t.token, 'POST', `/v1/tokens/${target.tokenId}:rotate`, { grace_period_seconds: 60 })
    expect(res.statusCode, res.body).toBe(200)
    const rotated = res.json()
    expect(rotated.id).toBe(target.tokenId)
    expect(rotated.secret).toMatch(TEST_SECRET)
    expect(rotated.secret).not.toBe(target.token)
    expect(rotated.secret.startsWith(rotated.prefix)).toBe(true)
    expect(rotated.previous_secret_expires_at).toBe(iso(now + 60 * SECOND))
    expect(rotated.status).toBe('ACTIVE')

    expect((await h.call(target.token, 'GET', '/v1/me')).statusCode).toBe(200)
    const meNew = await h.call(rotated.secret, 'GET', '/v1/me')
    expect(meNew.statusCode).toBe(200)
    expect(meNew.json().token.id).toBe(target.tokenId)

    clock.advance(59 * SECOND)
    expect((await h.call(target.token, 'GET', '/v1/me')).statusCode).toBe(200)
    clock.advance(2 * SECOND)
    expectError(await h.call(target.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
    expect((await h.call(rotated.secret, 'GET', '/v1/me')).statusCode).toBe(200)

    // a fresh instance agrees
    const h2 = await testApp({ clock })
    expectError(await h2.call(target.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
    expect((await h2.call(rotated.secret, 'GET', '/v1/me')).statusCode).toBe(200)

    const view = await h.call(t.token, 'GET', `/v1/tokens/${target.tokenId}`)
    expect(view.json()).toMatchObject({ status: 'ACTIVE', previous_secret_expires_at: null, prefix: rotated.prefix })
  })

  it('grace_period_seconds: default 3600, at most 86400, 0 ends the old secret at once', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock })
    const now = clock.now().getTime()
    const t = await makeTenant(h.db, { clock })
    const a = await t.addToken({ name: 'a' })

    const tooLong = expectError(await h.call(t.token, 'POST', `/v1/tokens/${a.tokenId}:rotate`, { grace_period_seconds: 86_401 }), 400, 'VALIDATION_ERROR')
    expect((tooLong.details!.fields as { field: string }[]).map((f) => f.field)).toContain('grace_period_seconds')
    expectError(await h.call(t.token, 'POST', `/v1/tokens/${a.tokenId}:rotate`, { grace_period_seconds: -1 }), 400, 'VALIDATION_ERROR')
    // a refused rotation changed nothing
    expect((await h.call(a.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', `/v1/tokens/${a.tokenId}`)).json().previous_secret_expires_at).toBeNull()

    const emptyObject = await h.call(t.token, 'POST', `/v1/tokens/${a.tokenId}:rotate`, {})
    expect(emptyObject.statusCode, emptyObject.body).toBe(200)
    expect(emptyObject.json().previous_secret_expires_at).toBe(iso(now + 3600 * SECOND))

    const b = await t.addToken({ name: 'b' })
    const max = await h.call(t.token, 'POST', `/v1/tokens/${b.tokenId}:rotate`, { grace_period_seconds: 86_400 })
    expect(max.statusCode, max.body).toBe(200)
    expect(max.json().previous_secret_expires_at).toBe(iso(now + 86_400 * SECOND))

    const c = await t.addToken({ name: 'c' })
    expect((await h.call(c.token, 'GET', '/v1/me')).statusCode).toBe(200)
    const zero = await h.call(t.token, 'POST', `/v1/tokens/${c.tokenId}:rotate`, { grace_period_seconds: 0 })
    expect(zero.statusCode, zero.body).toBe(200)
    expectError(await h.call(c.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
    expect((await h.call(zero.json().secret, 'GET', '/v1/me')).statusCode).toBe(200)
  })

  // KNOWN BUG (see the report): the route declares body: Type.Optional(RotateTokenBody), but Fastify
  // validates an absent body against the object schema → 400 "(root) must be object". Turn this
  // into it(...) once src/modules/tokens/routes.ts defaults a missing body to {}.
  it('rotating with no body at all uses the default grace period of 3600 s', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock })
    const now = clock.now().getTime()
    const t = await makeTenant(h.db, { clock })
    const a = await t.addToken({ name: 'a' })
    const noBody = await h.call(t.token, 'POST', `/v1/tokens/${a.tokenId}:rotate`)
    expect(noBody.statusCode, noBody.body).toBe(200)
    expect(noBody.json().previous_secret_expires_at).toBe(iso(now + 3600 * SECOND))
    expect((await h.call(a.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await h.call(noBody.json().secret, 'GET', '/v1/me')).statusCode).toBe(200)
  })

  it('rotating a revoked token is 409 CONFLICT', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const victim = await t.addToken({ name: 'victim' })
    expect((await h.call(t.token, 'DELETE', `/v1/tokens/${victim.tokenId}`)).statusCode).toBe(204)
    expectError(await h.call(t.token, 'POST', `/v1/tokens/${victim.tokenId}:rotate`, { grace_period_seconds: 60 }), 409, 'CONFLICT')
    expectError(await h.call(victim.token, 'GET', '/v1/me'), 401, 'TOKEN_REVOKED')
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

describe('last_used_at', () => {
  it('many requests within a minute cost one lookup and at most one UPDATE', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock, config: { tokenCacheTtlSeconds: 30 } })
    const t = await makeTenant(h.db, { clock })
    const used = await t.addToken({ name: 'used' })

    const spent = await cost(h, async () => {
      for (let i = 0; i < 25; i++) expect((await h.call(used.token, 'GET', '/v1/me')).statusCode).toBe(200)
    })
    expect(spent.argon2).toBe(1)
    expect(spent.queries).toBeLessThanOrEqual(2)

    // N more cached requests in the same minute: nothing at all
    const cached = await cost(h, async () => {
      for (let i = 0; i < 25; i++) expect((await h.call(used.token, 'GET', '/v1/me')).statusCode).toBe(200)
    })
    expect(cached).toEqual({ queries: 0, argon2: 0 })

    // 31 s later: the cache entry is gone (one lookup) but the minute is not over (no UPDATE)
    clock.advance(31 * SECOND)
    const again = await cost(h, async () => {
      for (let i = 0; i < 5; i++) expect((await h.call(used.token, 'GET', '/v1/me')).statusCode).toBe(200)
    })
    expect(again).toEqual({ queries: 1, argon2: 1 })
  })

  // KNOWN BUG (see the report): touchLastUsed's UPDATE compares last_used_at with
  // `$2 - interval '1 minute'`; PostgreSQL infers $2 as interval and the statement fails
  // ("operator does not exist: timestamp with time zone <= interval"), so last_used_at is never
  // written. Turn this into it(...) once src/modules/tokens/repository.ts casts $2::timestamptz.
  it('is set after use, and written again only after a minute', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const h = await testApp({ clock, config: { tokenCacheTtlSeconds: 30 } })
    const t = await makeTenant(h.db, { clock })
    const used = await t.addToken({ name: 'used' })
    const lastUsed = async () => (await h.call(t.token, 'GET', `/v1/tokens/${used.tokenId}`)).json().last_used_at as string | null
    async function pollFor(expected: string): Promise<string | null> {
      let value: string | null = null
      for (let i = 0; i < 40 && value !== expected; i++) {
        await sleep(25)
        value = await lastUsed()
      }
      return value
    }
    expect(await lastUsed()).toBeNull()

    const t0 = clock.now().toISOString()
    for (let i = 0; i < 10; i++) expect((await h.call(used.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect(await pollFor(t0)).toBe(t0)

    // 31 s later, past the cache TTL: a new lookup, but last_used_at stays
    clock.advance(31 * SECOND)
    expect((await h.call(used.token, 'GET', '/v1/me')).statusCode).toBe(200)
    await settle()
    expect(await lastUsed()).toBe(t0)

    // a minute after the last write: written again
    clock.advance(30 * SECOND)
    const t1 = clock.now().toISOString()
    expect((await h.call(used.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect(await pollFor(t1)).toBe(t1)
  })
})

describe('failed authentications are rate limited per client address', () => {
  it('past the limit a failing token gets 429; a valid token, cached or not, is still verified and answered', async () => {
    const h = await testApp({ config: { authFailuresPerMinute: 3 } })
    const t = await makeTenant(h.db)
    const fresh = await t.addToken({ name: 'not yet cached' })
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200) // cached

    for (let i = 0; i < 3; i++) {
      const unknown = generateToken('test').secret
      expect(parseToken(unknown)).not.toBeNull()
      expectError(await h.call(unknown, 'GET', '/v1/me'), 401, 'UNAUTHENTICATED')
    }
    const spent = await cost(h, async () => {
      const res = await h.call(generateToken('test').secret, 'GET', '/v1/me')
      const err = expectError(res, 429, 'RATE_LIMIT_EXCEEDED')
      const retryAfter = Number(res.headers['retry-after'])
      expect(Number.isInteger(retryAfter)).toBe(true)
      expect(retryAfter).toBeGreaterThanOrEqual(1)
      expect(retryAfter).toBeLessThanOrEqual(60)
      expect(res.json().error.retry_advice).toBe('retryable')
      expect(err.details).toMatchObject({ retry_after_seconds: retryAfter })
    })
    // an unknown lookup prefix costs one query and never an Argon2 run
    expect(spent).toEqual({ queries: 1, argon2: 0 })

    // valid tokens are never refused because of other requests' failures
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', '/v1/tokens')).statusCode).toBe(200)
    expect((await h.call(fresh.token, 'GET', '/v1/me')).statusCode).toBe(200)

    // another client address has its own count
    const elsewhere = await h.inject({ method: 'GET', url: '/v1/me', remoteAddress: '203.0.113.7', headers: { authorization: `Bearer ${generateToken('test').secret}` } })
    expectError(elsewhere, 401, 'UNAUTHENTICATED')
  })

  it('requests without a token or with a malformed one cost nothing and count nothing (the audit\'s lockout)', async () => {
    const h = await testApp({ config: { authFailuresPerMinute: 3 } })
    const t = await makeTenant(h.db)
    const fresh = await t.addToken({ name: 'not yet cached' })
    const spent = await cost(h, async () => {
      for (let i = 0; i < 40; i++) {
        expectError(await h.call(null, 'GET', '/v1/me'), 401, 'UNAUTHENTICATED')
        expectError(await h.call('tvb_test_not-a-token', 'GET', '/v1/bookings'), 401, 'UNAUTHENTICATED')
      }
    })
    expect(spent).toEqual({ queries: 0, argon2: 0 })
    // neither the cached nor the uncached valid token is locked out
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await h.call(fresh.token, 'GET', '/v1/me')).statusCode).toBe(200)
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
