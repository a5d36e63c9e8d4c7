import { randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp, createLogger } from '../src/app.ts'
import type { App } from '../src/app.ts'
import { BUCKETS, DEFAULT_LIMITS_PER_MINUTE } from '../src/modules/limits/buckets.ts'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import { RedisRateLimitStore } from '../src/modules/limits/store.ts'
import type { StoreHealth } from '../src/modules/limits/store.ts'
import { makeTenant, testApp, testConfig, testDb } from './helpers/harness.ts'
import { generateToken } from '../src/modules/tokens/token-format.ts'
import { HashGate } from '../src/modules/tokens/verifier.ts'

/**
 * Rate limits (API.md §8): buckets per partner × mode × endpoint class, per minute; the headers on
 * every response, errors and 429s included; partner overrides; the failed-authentication limiter;
 * the Redis store shared by instances, and its fallback to memory when Redis does not answer.
 *
 * The counters run on real time (one-minute windows that start at a key's first request): every
 * test makes its own tenant, so every test starts on fresh windows.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

function expectHeaders(res: LightMyRequestResponse, bucket: string, limit: number, remaining?: number): void {
  const h = res.headers
  expect(h['x-ratelimit-bucket'], `${res.statusCode} ${res.body}`).toBe(bucket)
  expect(h['x-ratelimit-limit']).toBe(String(limit))
  const left = Number(h['x-ratelimit-remaining'])
  expect(Number.isInteger(left) && left >= 0 && left <= limit, `remaining ${h['x-ratelimit-remaining']}`).toBe(true)
  if (remaining !== undefined) expect(left).toBe(remaining)
  // Unix seconds, within the next minute
  const reset = Number(h['x-ratelimit-reset'])
  const nowS = Date.now() / 1000
  expect(Number.isInteger(reset)).toBe(true)
  expect(reset).toBeGreaterThanOrEqual(Math.floor(nowS))
  expect(reset).toBeLessThanOrEqual(Math.ceil(nowS) + 61)
  expect(h['ratelimit-policy']).toBe(`"${bucket}";q=${limit};w=60`)
  const m = /^"([a-z_]+)";r=(\d+);t=(\d+)$/.exec(String(h.ratelimit))
  expect(m, String(h.ratelimit)).not.toBeNull()
  expect(m![1]).toBe(bucket)
  expect(Number(m![2])).toBe(left)
  expect(Number(m![3])).toBeGreaterThanOrEqual(0)
  expect(Number(m![3])).toBeLessThanOrEqual(60)
}

function expect429(res: LightMyRequestResponse, bucket: string, limit: number): void {
  expect(res.statusCode, res.body).toBe(429)
  const error = res.json().error
  expect(error.code).toBe('RATE_LIMIT_EXCEEDED')
  expect(error.retry_advice).toBe('retryable')
  expect(error.details).toMatchObject({ bucket, limit })
  const retryAfter = Number(res.headers['retry-after'])
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers['retry-after']}`).toBe(true)
  expect(error.details.retry_after_seconds).toBe(retryAfter)
  expectHeaders(res, bucket, limit, 0)
}

describe('headers', () => {
  it('a 200 carries the read bucket: X-RateLimit-*, RateLimit-Policy and RateLimit, remaining counting down', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const first = await h.call(t.token, 'GET', '/v1/me')
    expect(first.statusCode).toBe(200)
    expectHeaders(first, 'read', 1200, 1199)
    const second = await h.call(t.token, 'GET', '/v1/me')
    expectHeaders(second, 'read', 1200, 1198)
    expect(second.headers.ratelimit).toMatch(/^"read";r=1198;t=\d+$/)
    // the same window: the reset does not move forward (±1 s: the header rounds up a time read a few ms apart)
    const drift = Number(second.headers['x-ratelimit-reset']) - Number(first.headers['x-ratelimit-reset'])
    expect(Math.abs(drift)).toBeLessThanOrEqual(1)
  })

  it('a 404 NOT_FOUND and a 404 ROUTE_NOT_FOUND with a token carry the read bucket and are charged to it', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const missing = await h.call(t.token, 'GET', '/v1/tokens/tok_unknown')
    expect(missing.statusCode, missing.body).toBe(404)
    expect(missing.json().error.code).toBe('NOT_FOUND')
    expectHeaders(missing, 'read', 1200, 1199)
    const noRoute = await h.call(t.token, 'GET', '/v1/nope')
    expect(noRoute.statusCode, noRoute.body).toBe(404)
    expect(noRoute.json().error.code).toBe('ROUTE_NOT_FOUND')
    expectHeaders(noRoute, 'read', 1200, 1198)
    // 405 on a known path: also a refusal of an unknown (method, route) pair
    const method = await h.call(t.token, 'DELETE', '/v1/me')
    expect(method.statusCode, method.body).toBe(405)
    expectHeaders(method, 'read', 1200, 1197)
  })

  it('a 401 for a well-formed token carries the auth_failure bucket, counted per client address; a missing or malformed one counts nothing', async () => {
    const h = await testApp()
    const first = await h.call(generateToken('test').secret, 'GET', '/v1/me')
    expect(first.statusCode).toBe(401)
    expect(first.json().error.code).toBe('UNAUTHENTICATED')
    expectHeaders(first, 'auth_failure', h.config.authFailuresPerMinute, h.config.authFailuresPerMinute - 1)
    const none = await h.call(null, 'GET', '/v1/me')
    expect(none.statusCode).toBe(401)
    expect(none.headers['x-ratelimit-bucket']).toBeUndefined()
    const malformed = await h.call('tvb_test_not-a-token', 'GET', '/v1/me')
    expect(malformed.statusCode).toBe(401)
    const second = await h.call(generateToken('test').secret, 'GET', '/v1/me')
    expectHeaders(second, 'auth_failure', h.config.authFailuresPerMinute, h.config.authFailuresPerMinute - 2)
  })

  it('a 400 validation failure carries its route bucket (charged before validation)', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const res = await h.call(t.token, 'POST', '/v1/customers', { nope: 1 })
    expect(res.statusCode, res.body).toBe(400)
    expectHeaders(res, 'write', 300, 299)
  })

  // BUG: src/http/auth.ts (installAuth) throws PERMISSION_DENIED inside the auth onRequest hook,
  // which runs before the rate-limit onRequest hook (src/app.ts installs installAuth before
  // installRateLimit): a 403 carries no X-RateLimit-* headers and is never charged, contrary to
  // API.md §8 ("every response, errors and 429s included"). Fix: check the permission in a hook
  // installed after installRateLimit.
  it('a 403 PERMISSION_DENIED carries the route bucket', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role: 'VIEWER' })
    const res = await h.call(t.token, 'POST', '/v1/bookings', {})
    expect(res.statusCode, res.body).toBe(403)
    expect(res.json().error.code).toBe('PERMISSION_DENIED')
    expectHeaders(res, 'booking_create', 60, 59)
  })
})

describe('limits and overrides', () => {
  it('a partner override lowers a bucket: request N+1 is a 429; other buckets, partners and modes are unaffected', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    // before the token is first used: the overrides travel with the cached token
    await setPartnerLimit(h.db, t.partnerId, 'booking_create', 3)
    const live = await t.addToken({ mode: 'live' })
    const other = await makeTenant(h.db)

    for (let i = 0; i < 3; i++) {
      // invalid bodies: charged all the same, the limit comes before validation
      const res = await h.call(t.token, 'POST', '/v1/bookings', {})
      expect(res.statusCode, res.body).toBe(400)
      expectHeaders(res, 'booking_create', 3, 2 - i)
    }
    const over = await h.call(t.token, 'POST', '/v1/bookings', {})
    expect429(over, 'booking_create', 3)
    // a valid body is refused too, and another 429 still says remaining 0
    expect429(await h.call(t.token, 'POST', '/v1/bookings', { listing_id: 'lst_x', customer_id: 'cus_x', check_in: '2031-01-01', check_out: '2031-01-02', guests: 1 }), 'booking_create', 3)

    // another bucket of the same partner and mode
    const me = await h.call(t.token, 'GET', '/v1/me')
    expect(me.statusCode).toBe(200)
    expectHeaders(me, 'read', 1200, 1199)
    // another partner: default limit, fresh count
    const theirs = await h.call(other.token, 'POST', '/v1/bookings', {})
    expect(theirs.statusCode).toBe(400)
    expectHeaders(theirs, 'booking_create', 60, 59)
    // the same partner in live mode: its own bucket (with the partner's override)
    const inLive = await h.call(live.token, 'POST', '/v1/bookings', {})
    expect(inLive.statusCode, inLive.body).toBe(400)
    expectHeaders(inLive, 'booking_create', 3, 2)
  })

  it('GET /v1/me lists every bucket with the override applied', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    await setPartnerLimit(h.db, t.partnerId, 'booking_create', 7)
    await setPartnerLimit(h.db, t.partnerId, 'search', 1000)
    const me = await h.call(t.token, 'GET', '/v1/me')
    expect(me.statusCode).toBe(200)
    const expected = BUCKETS.map((bucket) => ({ bucket, limit: bucket === 'booking_create' ? 7 : bucket === 'search' ? 1000 : DEFAULT_LIMITS_PER_MINUTE[bucket], window_seconds: 60 }))
    expect(me.json().rate_limits).toEqual(expected)
    expect(expected.find((b) => b.bucket === 'read')!.limit).toBe(1200)
  })

  it('each endpoint draws on one bucket: the OpenAPI document names it, and the server charges it', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const doc = (await h.inject({ method: 'GET', url: '/openapi.json' })).json()
    const allowed = new Set(['search', 'booking_create', 'ticket_issue', 'read', 'write'])
    const documented = new Map<string, string>()
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      if (!path.startsWith('/v1/') || path === '/v1/errors') continue
      for (const [method, operation] of Object.entries(operations)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
        const bucket = operation['x-rate-limit-bucket'] as string | undefined
        expect(bucket && allowed.has(bucket), `${method.toUpperCase()} ${path}: ${bucket}`).toBe(true)
        documented.set(`${method.toUpperCase()} ${path}`, bucket!)
      }
    }
    expect(documented.size).toBeGreaterThan(20)
    expect(documented.get('POST /v1/bookings')).toBe('booking_create')
    expect(documented.get('POST /v1/bookings/{id}:issue')).toBe('ticket_issue')
    expect(documented.get('GET /v1/availability')).toBe('search')
    expect(documented.get('GET /v1/me')).toBe('read')
    expect(documented.get('POST /v1/customers')).toBe('write')

    // what the server charges is what the document says, for every operation (an OWNER token: every
    // permission; unknown ids and empty bodies are fine, the charge comes before any of that)
    for (const [operation, bucket] of documented) {
      const [method, path] = operation.split(' ') as [string, string]
      const url = path.replace(/\{[^}]+\}/g, 'x_unknown1')
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined
      const res = await h.call(t.token, method as 'GET', url, body)
      expect(res.statusCode, `${operation}: ${res.body}`).not.toBe(429)
      expect(res.headers['x-ratelimit-bucket'], `${operation} → ${res.statusCode} ${res.body}`).toBe(bucket)
    }
  })
})

describe('failed authentications', () => {
  it('over the limit, failing tokens get 429 auth_failure; valid tokens, cached or not, are verified and answered', async () => {
    const h = await testApp({ config: { authFailuresPerMinute: 2 } })
    const cached = await makeTenant(h.db)
    const fresh = await makeTenant(h.db)
    expect((await h.call(cached.token, 'GET', '/v1/me')).statusCode).toBe(200)

    for (let i = 0; i < 2; i++) {
      const res = await h.call(generateToken('test').secret, 'GET', '/v1/me')
      expect(res.statusCode).toBe(401)
      expectHeaders(res, 'auth_failure', 2, 1 - i)
    }
    const refused = await h.call(generateToken('test').secret, 'GET', '/v1/me')
    expect429(refused, 'auth_failure', 2)
    expect(refused.json().error.message).toMatch(/failed authentications/)

    const ok = await h.call(cached.token, 'GET', '/v1/me')
    expect(ok.statusCode).toBe(200)
    expectHeaders(ok, 'read', 1200, 1198)
    const verified = await h.call(fresh.token, 'GET', '/v1/me')
    expect(verified.statusCode, verified.body).toBe(200)
  })

  it('Argon2id runs are bounded: at most N at once, a bounded queue, then a retryable 503', async () => {
    const gate = new HashGate(2, 1)
    let running = 0
    let peak = 0
    const release: (() => void)[] = []
    const work = () =>
      new Promise<boolean>((resolve) => {
        running++
        peak = Math.max(peak, running)
        release.push(() => {
          running--
          resolve(true)
        })
      })
    const first = gate.run(work)
    const second = gate.run(work)
    const queued = gate.run(work)
    await expect(gate.run(work)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 })
    expect(peak).toBe(2)
    release.shift()!()
    await first
    await new Promise((r) => setImmediate(r))
    expect(running).toBe(2)
    while (release.length) release.shift()!()
    await Promise.all([second, queued])
    expect(peak).toBe(2)
  })
})

interface Recorder extends StoreHealth {
  degraded: boolean[]
  fallbacks: number
}

function recorder(): Recorder {
  const r: Recorder = {
    degraded: [],
    fallbacks: 0,
    onDegraded: (degraded) => void r.degraded.push(degraded),
    onFallbackCharge: () => void r.fallbacks++,
  }
  return r
}

describe('the Redis store', () => {
  const prefixes: string[] = []
  const stores: RedisRateLimitStore[] = []
  const apps: App[] = []
  afterAll(async () => {
    for (const built of apps) await built.app.close()
    for (const store of stores) await store.close()
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await redis.connect()
      for (const prefix of prefixes) {
        const keys = await redis.keys(`${prefix}:*`)
        if (keys.length > 0) await redis.del(...keys)
      }
    } finally {
      redis.disconnect()
    }
  })

  async function appOn(store: RedisRateLimitStore): Promise<App> {
    const built = await buildApp({ config: testConfig(), db: await testDb(), logger: createLogger('silent'), rateLimitStore: store })
    apps.push(built)
    return built
  }

  function newStore(url: string, health: StoreHealth, prefix: string): RedisRateLimitStore {
    const store = new RedisRateLimitStore(url, health, prefix)
    stores.push(store)
    return store
  }

  const get = (built: App, token: string, url: string) => built.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })

  it('two instances on one Redis share the count: exactly N requests pass, whichever instance they reach', async () => {
    const prefix = `tvb_rl_test_${randomBytes(6).toString('hex')}`
    prefixes.push(prefix)
    const health = recorder()
    const storeA = newStore(REDIS_URL, health, prefix)
    const storeB = newStore(REDIS_URL, health, prefix)
    expect(await storeA.ready()).toBe(true)
    expect(await storeB.ready()).toBe(true)
    const a = await appOn(storeA)
    const b = await appOn(storeB)
    const db = await testDb()
    const t = await makeTenant(db)
    await setPartnerLimit(db, t.partnerId, 'read', 5)

    const answers: LightMyRequestResponse[] = []
    for (let i = 0; i < 8; i++) answers.push(await get(i % 2 === 0 ? a : b, t.token, '/v1/me'))
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    answers.slice(0, 5).forEach((res, i) => expectHeaders(res, 'read', 5, 4 - i))
    for (const res of answers.slice(5)) expect429(res, 'read', 5)
    // both instances refuse now
    expect((await get(a, t.token, '/v1/me')).statusCode).toBe(429)
    expect((await get(b, t.token, '/v1/me')).statusCode).toBe(429)
    // the count is in Redis, under the shared prefix
    const redis = new Redis(REDIS_URL)
    try {
      expect(Number(await redis.get(`${prefix}:${t.partnerId}:test:read`))).toBe(10)
    } finally {
      redis.disconnect()
    }
    expect(health.degraded).toEqual([])
    expect(health.fallbacks).toBe(0)
  })

  it('Redis unreachable: each instance counts in its own memory — 200s with headers, the limit still enforced, never a 5xx — and says it is degraded', async () => {
    const health = recorder()
    const store = newStore('redis://127.0.0.1:1', health, `tvb_rl_test_${randomBytes(6).toString('hex')}`)
    expect(await store.ready(300)).toBe(false)
    const a = await appOn(store)
    const db = await testDb()
    const t = await makeTenant(db, { teams: 1 })
    await setPartnerLimit(db, t.partnerId, 'read', 3)

    const answers: LightMyRequestResponse[] = []
    for (let i = 0; i < 5; i++) answers.push(await get(a, t.token, '/v1/me'))
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 429, 429])
    answers.slice(0, 3).forEach((res, i) => expectHeaders(res, 'read', 3, 2 - i))
    expect429(answers[3]!, 'read', 3)
    // another bucket still answers, with its headers
    const other = await a.app.inject({ method: 'GET', url: '/v1/tokens/tok_unknown', headers: { authorization: `Bearer ${t.token}` } })
    expect(other.statusCode).toBe(429) // tok lookups are read too: same bucket, same count
    const write = await a.app.inject({ method: 'POST', url: '/v1/customers', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'An' }) })
    expect(write.statusCode, write.body).toBe(201)
    expectHeaders(write, 'write', 300, 299)
    // told once, and every charge counted as a fallback
    expect(health.degraded).toEqual([true])
    expect(health.fallbacks).toBe(7)
  })
})
