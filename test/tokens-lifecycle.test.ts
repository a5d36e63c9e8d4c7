import { describe, expect, it } from 'vitest'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'
import { SECOND, TEST_SECRET, cost, expectError } from './helpers/tokens.ts'

/** Tokens (API.md §4) over time: expiry, revocation (DELETE) and rotation with a grace period. */

const DAY = 86_400_000

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

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
