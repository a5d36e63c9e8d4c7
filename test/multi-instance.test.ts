import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { tmpdir } from 'node:os'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metric, startProcess } from '../bench/lib.ts'
import type { Started } from '../bench/lib.ts'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import type { Db } from '../src/platform/db.ts'
import { makeTenant, onPostgres, testDb } from './helpers/harness.ts'
import type { Tenant } from './helpers/harness.ts'
import { freePort } from './helpers/processes.ts'

/**
 * Several server instances (README "Several server instances", API.md §8): two real server
 * processes on one PostgreSQL and one Redis. Rate limits are global and exact across them,
 * an Idempotency-Key is honoured across them, and when Redis stops each instance falls back to
 * its own memory (never unlimited, never a 5xx) and returns to Redis when it is back.
 *
 * PostgreSQL only: two processes cannot share an embedded PGlite, so this file runs only when
 * TEST_DATABASE_URL is set (describe.runIf(onPostgres)); without it its tests are reported as
 * skipped, not passed. CI runs the whole suite on PostgreSQL too, so they run there. Redis:
 * REDIS_URL (default redis://127.0.0.1:6379), plus a redis-server of our own for the outage test.
 */

const TIMEOUT = 120_000
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

const LISTING = {
  name: 'Villa',
  address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
  max_guests: 4,
  bedrooms: 2,
  nightly_rate: { amount: '100.00', currency: 'USD' },
  timezone: 'Asia/Ho_Chi_Minh',
}

/** The n-th night from 2032-01-01 (far enough ahead of the real clock the servers run on). */
function night(n: number): { check_in: string; check_out: string } {
  const day = (k: number) => new Date(Date.UTC(2032, 0, 1 + k)).toISOString().slice(0, 10)
  return { check_in: day(n), check_out: day(n + 1) }
}

interface Answer {
  status: number
  headers: Headers
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any
}

async function send(server: Started, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) }
}

function expect429(res: Answer, bucket: string, limit: number): void {
  expect(res.status, res.text).toBe(429)
  expect(res.json().error.code).toBe('RATE_LIMIT_EXCEEDED')
  expect(res.headers.get('x-ratelimit-bucket')).toBe(bucket)
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit))
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0')
  const retryAfter = Number(res.headers.get('retry-after'))
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get('retry-after')}`).toBe(true)
}

const servers: Started[] = []
const redisServers: ChildProcess[] = []

async function stopServer(server: Started): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  const stopped = server.stop()
  const timer = setTimeout(() => {
    try {
      process.kill(-server.child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }, 10_000)
  await stopped
  clearTimeout(timer)
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((done) => child.once('exit', done))
  child.kill('SIGKILL')
  await exited
}

afterAll(async () => {
  await Promise.all(servers.map(stopServer))
  await Promise.all(redisServers.map(stopRedis))
}, TIMEOUT)

async function startServer(redisUrl: string): Promise<Started> {
  // startProcess takes the next port of its range without probing it: another test file's server may
  // hold it, so a start that lost the port race is retried (on the next port)
  for (let attempt = 1; ; attempt++) {
    try {
      const server = await startProcess(
        'node',
        ['--import', 'tsx', 'src/main.ts'],
        { DATABASE_URL: process.env.TEST_DATABASE_URL!, REDIS_URL: redisUrl, SEED_DEMO: 'false', HOLD_SWEEP_SECONDS: '0', LOG_LEVEL: 'warn' },
        '/healthz',
        TIMEOUT,
      )
      servers.push(server)
      return server
    } catch (error) {
      if (attempt >= 5 || !/EADDRINUSE/.test(String(error))) throw error
    }
  }
}

/** A redis-server of our own on `port`, without persistence; resolves once it answers PING. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cwd: tmpdir(), stdio: 'ignore' })
  redisServers.push(child)
  const client = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => {})
  const deadline = Date.now() + 20_000
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`)
      try {
        if (client.status !== 'ready') await client.connect()
        if ((await client.ping()) === 'PONG') return child
      } catch {
        client.disconnect()
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer`)
      await sleep(50)
    }
  } finally {
    client.disconnect()
  }
}

describe.runIf(onPostgres)('two server instances on PostgreSQL and Redis', () => {
  let db: Db
  let a: Started
  let b: Started

  beforeAll(async () => {
    db = await testDb()
    ;[a, b] = await Promise.all([startServer(REDIS_URL), startServer(REDIS_URL)])
  }, TIMEOUT)

  /** A fresh tenant (fresh minute windows) with one listing and one customer, made through A. */
  async function bookingWorld(): Promise<{ t: Tenant; listingId: string; customerId: string }> {
    const t = await makeTenant(db, { teams: 1 })
    const listing = await send(a, t.token, 'POST', '/v1/listings', LISTING)
    expect(listing.status, listing.text).toBe(201)
    const customer = await send(a, t.token, 'POST', '/v1/customers', { name: 'An' })
    expect(customer.status, customer.text).toBe(201)
    return { t, listingId: listing.json().id, customerId: customer.json().id }
  }

  it('the booking_create limit (60) is global and exact: of 120 concurrent requests over both instances, 60 pass', { timeout: TIMEOUT }, async () => {
    const { t, listingId, customerId } = await bookingWorld()
    // verified on both instances first (GET /v1/me: the read bucket), so that both take part from the start
    expect((await send(a, t.token, 'GET', '/v1/me')).status).toBe(200)
    expect((await send(b, t.token, 'GET', '/v1/me')).status).toBe(200)
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) => send(i % 2 === 0 ? a : b, t.token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, guests: 2, ...night(i) })),
    )
    const passed = answers.filter((r) => r.status !== 429)
    const refused = answers.filter((r) => r.status === 429)
    expect(passed.length).toBe(60)
    expect(refused.length).toBe(60)
    for (const res of passed) {
      expect(res.status, res.text).toBe(201)
      expect(res.headers.get('x-ratelimit-bucket')).toBe('booking_create')
      expect(res.headers.get('x-ratelimit-limit')).toBe('60')
    }
    // one shared counter: every allowed request saw its own count, 59 down to 0
    const remaining = passed.map((r) => Number(r.headers.get('x-ratelimit-remaining'))).sort((x, y) => x - y)
    expect(remaining).toEqual(Array.from({ length: 60 }, (_, i) => i))
    for (const res of refused) expect429(res, 'booking_create', 60)
    // a 429 did no work: exactly the 60 allowed bookings exist
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bookings WHERE listing_id = $1', [listingId])
    expect(rows[0]!.n).toBe(60)
    // and the window stays closed on both
    expect429(await send(a, t.token, 'POST', '/v1/bookings', {}), 'booking_create', 60)
    expect429(await send(b, t.token, 'POST', '/v1/bookings', {}), 'booking_create', 60)
  })

  it('50 concurrent identical POSTs with one Idempotency-Key over both instances make one booking', { timeout: TIMEOUT }, async () => {
    const { t, listingId, customerId } = await bookingWorld()
    // verified on both instances first, so that the 50 requests race on the key, not on Argon2
    expect((await send(a, t.token, 'GET', '/v1/me')).status).toBe(200)
    expect((await send(b, t.token, 'GET', '/v1/me')).status).toBe(200)
    const key = `multi-${process.pid}-${Date.now()}`
    const body = { listing_id: listingId, customer_id: customerId, guests: 2, ...night(400) }
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i % 2 === 0 ? a : b, t.token, 'POST', '/v1/bookings', body, { 'idempotency-key': key })))

    const created = answers.filter((r) => r.status === 201)
    const originals = created.filter((r) => r.headers.get('idempotent-replayed') === null)
    expect(originals.length, answers.map((r) => `${r.status} ${r.text.slice(0, 80)}`).join('\n')).toBe(1)
    const first = originals[0]!
    for (const res of answers) {
      if (res.status === 201) {
        expect(res.text).toBe(first.text)
        expect(res.headers.get('location')).toBe(first.headers.get('location'))
        if (res !== first) expect(res.headers.get('idempotent-replayed')).toBe('true')
      } else {
        expect(res.status, res.text).toBe(409)
        expect(res.json().error.code).toBe('IDEMPOTENCY_REQUEST_IN_PROGRESS')
        expect(res.json().error.retry_advice).toBe('retryable')
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      }
    }
    const { rows } = await db.query<{ id: string }>('SELECT id FROM bookings WHERE listing_id = $1', [listingId])
    expect(rows.map((r) => r.id)).toEqual([first.json().id])

    // afterwards, a retry on either instance is the replay
    for (const server of [a, b]) {
      const retry = await send(server, t.token, 'POST', '/v1/bookings', body, { 'idempotency-key': key })
      expect(retry.status, retry.text).toBe(201)
      expect(retry.headers.get('idempotent-replayed')).toBe('true')
      expect(retry.text).toBe(first.text)
    }
  })

  it('Redis stops: each instance counts in its own memory (no 5xx, limits still enforced), reports it, and returns to Redis when it is back', { timeout: TIMEOUT }, async () => {
    const port = await freePort()
    const redisUrl = `redis://127.0.0.1:${port}`
    let redis = await startRedis(port)
    try {
      const [c, d] = await Promise.all([startServer(redisUrl), startServer(redisUrl)])
      const t = await makeTenant(db, { teams: 1 })
      await setPartnerLimit(db, t.partnerId, 'write', 5)
      const everything: Answer[] = []
      const call = async (server: Started, method: string, path: string, body?: unknown) => {
        const res = await send(server, t.token, method, path, body)
        everything.push(res)
        return res
      }

      // Redis up: one count for both instances
      const shared = [await call(c, 'GET', '/v1/me'), await call(d, 'GET', '/v1/me'), await call(c, 'GET', '/v1/me'), await call(d, 'GET', '/v1/me')]
      expect(shared.map((r) => r.status)).toEqual([200, 200, 200, 200])
      expect(shared.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['1199', '1198', '1197', '1196'])
      for (const server of [c, d]) expect(await metric(server.url, 'tvb_rate_limit_store_degraded')).toBe(0)

      // Redis gone
      await stopRedis(redis)
      for (const server of [c, d]) {
        const writes: Answer[] = []
        for (let i = 0; i < 6; i++) writes.push(await call(server, 'POST', '/v1/customers', { name: `Guest ${i}` }))
        expect(writes.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 429])
        expect(writes.slice(0, 5).map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0'])
        expect429(writes[5]!, 'write', 5)
        const me = await call(server, 'GET', '/v1/me')
        expect(me.status).toBe(200)
        expect(me.headers.get('x-ratelimit-bucket')).toBe('read')
      }
      for (const server of [c, d]) {
        expect(await metric(server.url, 'tvb_rate_limit_store_degraded')).toBe(1)
        expect(await metric(server.url, 'tvb_rate_limit_fallback_total')).toBeGreaterThanOrEqual(7)
      }

      // Redis back on the same port (empty: no persistence)
      redis = await startRedis(port)
      const deadline = Date.now() + 60_000
      for (const server of [c, d]) {
        for (;;) {
          expect((await call(server, 'GET', '/v1/me')).status).toBe(200)
          if ((await metric(server.url, 'tvb_rate_limit_store_degraded')) === 0) break
          if (Date.now() > deadline) throw new Error(`${server.url} still degraded after Redis came back`)
          await sleep(200)
        }
      }
      // counted in Redis again: one write window for both instances, whose memory windows were exhausted
      const writes: Answer[] = []
      for (let i = 0; i < 8; i++) writes.push(await call(i % 2 === 0 ? c : d, 'POST', '/v1/customers', { name: `Back ${i}` }))
      expect(writes.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 429, 429, 429])
      for (const res of writes.slice(5)) expect429(res, 'write', 5)
      const client = new Redis(redisUrl)
      try {
        expect(Number(await client.get(`tvb_rl:${t.partnerId}:test:write`))).toBe(8)
      } finally {
        client.disconnect()
      }

      // never a 5xx, from start to end
      expect(everything.filter((r) => r.status >= 500).map((r) => r.text)).toEqual([])
      await Promise.all([stopServer(c), stopServer(d)])
    } finally {
      await stopRedis(redis)
    }
  })
})
