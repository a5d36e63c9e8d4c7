import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { jobRegistry } from '../src/jobs/registry.ts'
import { JobRunner } from '../src/jobs/runner.ts'
import { HOLD_EXPIRING_LEAD_MINUTES } from '../src/modules/bookings/service.ts'
import { MAX_ADVANCE_SECONDS, MAX_OFFSET_SECONDS } from '../src/modules/test-clock/schemas.ts'
import { RETRY_DELAYS_SECONDS } from '../src/modules/webhooks/schedule.ts'
import { addDays } from '../src/platform/dates.ts'
import { LISTING, expectError } from './helpers/bookings.ts'
import { buildApp, createLogger } from '../src/app.ts'
import type { Db } from '../src/platform/db.ts'
import { LogCapture, ManualClock, makeTenant, ownDatabaseOnPostgres, testApp, testConfig } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'
import type { Json } from './helpers/listings.ts'

/**
 * The per-partner test clock (API.md §9): GET /v1/test-clock, POST /v1/test-clock:advance, and the
 * test-mode time that follows it — holds and their expiry (on read and by the sweeper, with
 * booking.hold_expiring first), "today" for stays, invoice due dates, webhook retries — while live
 * mode and other partners stay on real time.
 *
 * Time: a ManualClock in 2036 (far from the other files' clocks) for the app and the job runner;
 * it only moves forward. The runner's timers never fire (an hour of real time): tests wake jobs.
 */

// the dispatcher claims every tenant's due deliveries: on PostgreSQL this file has a database of its own
await ownDatabaseOnPostgres('test_clock')

const clock = new ManualClock('2036-01-10T08:00:00.000Z')
const h = await testApp({ clock, config: { webhookAllowPrivateTargets: true, holdMinutes: 15 } })
const runner = new JobRunner(jobRegistry({ db: h.db, clock, holdMinutes: 15, holdSweepSeconds: 3600, webhookAllowPrivateTargets: true, webhookPollMs: 3_600_000 }), h.app.log)
runner.start()
afterAll(() => runner.stop())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const ms = (iso: string) => new Date(iso).getTime()
const today = () => clock.now().toISOString().slice(0, 10)

async function tenant(options: Parameters<typeof makeTenant>[1] = {}): Promise<Tenant> {
  return makeTenant(h.db, { teams: 1, clock, ...options })
}

async function testClock(token: string, app: TestApp = h): Promise<Json> {
  const res = await app.call(token, 'GET', '/v1/test-clock')
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

async function advance(token: string, seconds: number, app: TestApp = h): Promise<Json> {
  const res = await app.call(token, 'POST', '/v1/test-clock:advance', { seconds })
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

async function created(token: string, path: string, body: unknown): Promise<Json> {
  const res = await h.call(token, 'POST', path, body)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

/** A listing, a customer and a HELD booking of the token's tenant (check-in a month ahead). */
async function held(token: string): Promise<Json> {
  const listing = await created(token, '/v1/listings', LISTING)
  const customer = await created(token, '/v1/customers', { name: 'An' })
  const checkIn = addDays(today(), 30)
  return created(token, '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: checkIn, check_out: addDays(checkIn, 2), guests: 2 })
}

async function booking(token: string, id: string): Promise<Json> {
  const res = await h.call(token, 'GET', `/v1/bookings/${id}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

async function eventsOf(token: string, resourceId: string): Promise<Json[]> {
  const res = await h.call(token, 'GET', '/v1/events?limit=100&sort=created_at')
  expect(res.statusCode, res.body).toBe(200)
  return (res.json().data as Json[]).filter((e) => e.data.id === resourceId)
}

function fieldsOf(res: { body: string }): string[] {
  return (JSON.parse(res.body).error.details?.fields ?? []).map((f: Json) => f.field)
}

// ------------------------------------------------------------------------------------------------

describe('GET /v1/test-clock and :advance', () => {
  it('starts at real time with offset 0, and each advance moves it forward and answers the clock after the move', async () => {
    const t = await tenant()
    expect(await testClock(t.token)).toEqual({ now: clock.now().toISOString(), offset_seconds: 0, mode: 'test' })
    expect(await advance(t.token, 1200)).toEqual({ now: new Date(clock.now().getTime() + 1_200_000).toISOString(), offset_seconds: 1200, mode: 'test' })
    expect(await advance(t.token, 60)).toMatchObject({ offset_seconds: 1260 })
    clock.advance(1000)
    expect(await testClock(t.token)).toEqual({ now: new Date(clock.now().getTime() + 1_260_000).toISOString(), offset_seconds: 1260, mode: 'test' })
  })

  it('refuses seconds that are not a positive whole number of at most 400 days, naming the field, and moves nothing', async () => {
    const t = await tenant()
    for (const seconds of [0, -5, 1.5, '60', null, MAX_ADVANCE_SECONDS + 1]) {
      const res = await h.call(t.token, 'POST', '/v1/test-clock:advance', { seconds })
      expectError(res, 400, 'VALIDATION_ERROR')
      expect(fieldsOf(res), `seconds: ${JSON.stringify(seconds)}`).toEqual(['seconds'])
    }
    expect(fieldsOf(await h.call(t.token, 'POST', '/v1/test-clock:advance', {}))).toEqual(['seconds'])
    expectError(await h.call(t.token, 'POST', '/v1/test-clock:advance', { seconds: 60, minutes: 1 }), 400, 'VALIDATION_ERROR')
    expectError(await h.call(t.token, 'POST', '/v1/test-clock:advance'), 400, 'VALIDATION_ERROR')
    expect((await testClock(t.token)).offset_seconds).toBe(0)
  })

  it('never runs more than ten years ahead in all', async () => {
    const t = await tenant()
    const steps = Math.floor(MAX_OFFSET_SECONDS / MAX_ADVANCE_SECONDS)
    for (let i = 0; i < steps; i++) await advance(t.token, MAX_ADVANCE_SECONDS)
    const left = MAX_OFFSET_SECONDS - steps * MAX_ADVANCE_SECONDS
    const res = await h.call(t.token, 'POST', '/v1/test-clock:advance', { seconds: left + 1 })
    expectError(res, 400, 'VALIDATION_ERROR')
    expect(fieldsOf(res)).toEqual(['seconds'])
    expect((await testClock(t.token)).offset_seconds).toBe(steps * MAX_ADVANCE_SECONDS)
    expect((await advance(t.token, left)).offset_seconds).toBe(MAX_OFFSET_SECONDS)
  })

  it('answers a live token with 400 TEST_CLOCK_LIVE_MODE, before looking at the body', async () => {
    const t = await tenant({ mode: 'live' })
    const read = await h.call(t.token, 'GET', '/v1/test-clock')
    expectError(read, 400, 'TEST_CLOCK_LIVE_MODE')
    expect(read.json().error.details).toEqual({ mode: 'live' })
    expectError(await h.call(t.token, 'POST', '/v1/test-clock:advance', { seconds: 60 }), 400, 'TEST_CLOCK_LIVE_MODE')
    expectError(await h.call(t.token, 'POST', '/v1/test-clock:advance', { seconds: 'soon' }), 400, 'TEST_CLOCK_LIVE_MODE')
  })

  it('reading needs no permission; moving needs booking.create.partner', async () => {
    const t = await tenant()
    const viewer = await t.addUser('VIEWER')
    expect((await testClock(viewer.token)).offset_seconds).toBe(0)
    const refused = await h.call(viewer.token, 'POST', '/v1/test-clock:advance', { seconds: 60 })
    expectError(refused, 403, 'PERMISSION_DENIED')
    expect(refused.json().error.details).toEqual({ required_permission: 'booking.create.partner' })
    const agent = await t.addUser('TRAVEL_AGENT')
    expect((await advance(agent.token, 60)).offset_seconds).toBe(60)
    expect(refused.headers['x-ratelimit-bucket']).toBe('write')
  })

  it('honours Idempotency-Key: a retried advance is replayed, not applied twice', async () => {
    const t = await tenant()
    const send = (seconds: number) => h.call(t.token, 'POST', '/v1/test-clock:advance', { seconds }, { 'idempotency-key': 'advance-1' })
    const first = await send(600)
    expect(first.statusCode, first.body).toBe(200)
    const again = await send(600)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    expect((await testClock(t.token)).offset_seconds).toBe(600)
    expectError(await send(700), 422, 'IDEMPOTENCY_KEY_REUSED')
  })

  it('is per partner: one partner\'s advance moves neither another partner nor its own live mode', async () => {
    const a = await tenant()
    const b = await tenant()
    const aLive = await a.addToken({ mode: 'live' })
    await advance(a.token, 3600)
    expect((await testClock(b.token)).offset_seconds).toBe(0)
    expect((await testClock(a.token)).offset_seconds).toBe(3600)
    // a live hold of the advanced partner runs on real time
    const live = await held(aLive.token)
    expect(live.hold_expires_at).toBe(new Date(clock.now().getTime() + 15 * 60_000).toISOString())
    expect(live.created_at).toBe(clock.now().toISOString())
    // and B's test hold too
    const other = await held(b.token)
    expect(other.hold_expires_at).toBe(new Date(clock.now().getTime() + 15 * 60_000).toISOString())
  })
})

describe('holds follow the partner\'s test clock', () => {
  it('a new hold lapses 15 minutes after the partner\'s time; advancing past it shows it EXPIRED at once, and confirming fails', async () => {
    const t = await tenant()
    await advance(t.token, 7200)
    const partnerNow = clock.now().getTime() + 7_200_000
    const b = await held(t.token)
    expect(b.created_at).toBe(new Date(partnerNow).toISOString())
    expect(b.hold_expires_at).toBe(new Date(partnerNow + 15 * 60_000).toISOString())

    await advance(t.token, 16 * 60)
    expect(await booking(t.token, b.id)).toMatchObject({ status: 'EXPIRED', expired_at: b.hold_expires_at })
    expectError(await h.call(t.token, 'POST', `/v1/bookings/${b.id}:confirm`), 409, 'BOOKING_HOLD_EXPIRED')
    const list = await h.call(t.token, 'GET', '/v1/bookings?status=EXPIRED')
    expect(list.json().data.map((x: Json) => x.id)).toContain(b.id)
  })

  it('the sweeper expires it on the partner\'s time, with booking.hold_expiring before booking.expired, both delivered by webhooks', async () => {
    const t = await tenant()
    const r = await receiver(() => 200)
    const hook = await created(t.token, '/v1/webhooks', { url: r.url, event_types: ['booking.hold_expiring', 'booking.expired'] })
    const b = await held(t.token)

    // real time alone: nothing is due
    await runner.wake('hold-expiring')
    await runner.wake('hold-expiry')
    expect(await eventsOf(t.token, b.id)).toHaveLength(1)

    // 20 minutes at once jumps past the whole hold_expiring window: both still come, in order
    await advance(t.token, 20 * 60)
    const partnerNow = new Date(clock.now().getTime() + 20 * 60_000).toISOString()
    await runner.wake('hold-expiry')
    const events = await eventsOf(t.token, b.id)
    expect(events.map((e) => [e.event_type, e.sequence])).toEqual([['booking.created', 1], ['booking.hold_expiring', 2], ['booking.expired', 3]])
    expect(events[1]).toMatchObject({ created_at: partnerNow, data: { status: 'HELD' } })
    expect(events[2]).toMatchObject({ created_at: partnerNow, data: { status: 'EXPIRED', expired_at: b.hold_expires_at, updated_at: partnerNow } })
    const { rows } = await h.db.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [b.id])
    expect(rows[0]!.status).toBe('EXPIRED')

    await until(async () => {
      void runner.wake('webhook-dispatch')
      return r.received.length >= 2
    })
    expect(r.received.map((x) => JSON.parse(x.body).event_type)).toEqual(['booking.hold_expiring', 'booking.expired'])
    // signatures stay on real time: receivers check the timestamp against their own clock
    expect(Number(r.received[0]!.headers['webhook-timestamp'])).toBe(Math.floor(clock.now().getTime() / 1000))
    await h.call(t.token, 'DELETE', `/v1/webhooks/${hook.id}`)
  })

  it(`booking.hold_expiring comes once the hold is within ${HOLD_EXPIRING_LEAD_MINUTES} minutes of lapsing on the partner's time`, async () => {
    const t = await tenant()
    const b = await held(t.token)
    await advance(t.token, (15 - HOLD_EXPIRING_LEAD_MINUTES - 1) * 60)
    await runner.wake('hold-expiring')
    expect((await eventsOf(t.token, b.id)).map((e) => e.event_type)).toEqual(['booking.created'])

    await advance(t.token, 2 * 60)
    await runner.wake('hold-expiring')
    const events = await eventsOf(t.token, b.id)
    expect(events.map((e) => e.event_type)).toEqual(['booking.created', 'booking.hold_expiring'])
    expect(events[1]).toMatchObject({ created_at: new Date(clock.now().getTime() + (15 - HOLD_EXPIRING_LEAD_MINUTES + 1) * 60_000).toISOString(), data: { status: 'HELD' } })
    expect((await booking(t.token, b.id)).status).toBe('HELD')
    await runner.wake('hold-expiring')
    await runner.wake('hold-expiry')
    expect(await eventsOf(t.token, b.id)).toHaveLength(2)

    await advance(t.token, HOLD_EXPIRING_LEAD_MINUTES * 60)
    await runner.wake('hold-expiry')
    expect((await eventsOf(t.token, b.id)).map((e) => e.event_type)).toEqual(['booking.created', 'booking.hold_expiring', 'booking.expired'])
  })

  it('another partner\'s holds and the same partner\'s live holds stay on real time through the sweeps', async () => {
    const a = await tenant()
    const b = await tenant()
    const aLive = await a.addToken({ mode: 'live' })
    const live = await held(aLive.token)
    const other = await held(b.token)
    await advance(a.token, 3600)
    await runner.wake('hold-expiring')
    await runner.wake('hold-expiry')
    const liveRead = await h.call(aLive.token, 'GET', `/v1/bookings/${live.id}`)
    expect(liveRead.json()).toMatchObject({ status: 'HELD', hold_expires_at: live.hold_expires_at })
    expect((await booking(b.token, other.id)).status).toBe('HELD')
    const liveConfirmed = await h.call(aLive.token, 'POST', `/v1/bookings/${live.id}:confirm`)
    expect(liveConfirmed.statusCode, liveConfirmed.body).toBe(200)
    expect(liveConfirmed.json().confirmed_at).toBe(clock.now().toISOString())
    const events = await h.call(aLive.token, 'GET', '/v1/events?limit=100')
    expect(events.json().data.map((e: Json) => e.event_type)).not.toContain('booking.expired')
  })
})

describe('"today" and due dates follow the partner\'s test clock', () => {
  it('a check-in that was in the future is in the past after advancing; live mode and other partners still take it', async () => {
    const a = await tenant()
    const b = await tenant()
    const aLive = await a.addToken({ mode: 'live' })
    const checkIn = addDays(today(), 1)
    const stay = async (token: string) => {
      const listing = await created(token, '/v1/listings', LISTING)
      const customer = await created(token, '/v1/customers', { name: 'An' })
      return h.call(token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: checkIn, check_out: addDays(checkIn, 1), guests: 1 })
    }
    await advance(a.token, 3 * 86_400)
    const refused = await stay(a.token)
    expectError(refused, 400, 'VALIDATION_ERROR')
    expect(fieldsOf(refused)).toEqual(['check_in'])
    // the route's own field check (run when the schema refused the body) says the same
    const listing = await created(a.token, '/v1/listings', LISTING)
    const both = await h.call(a.token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: 'cus_x', check_in: checkIn, check_out: addDays(checkIn, 1), guests: 'two' })
    expect(fieldsOf(both).sort()).toEqual(['check_in', 'guests'])
    expect((await stay(aLive.token)).statusCode).toBe(201)
    expect((await stay(b.token)).statusCode).toBe(201)
  })

  it('an invoice is due 14 days after the partner\'s today, and a due date before that today is refused', async () => {
    const t = await tenant()
    await advance(t.token, 365 * 86_400)
    const partnerToday = addDays(today(), 365)
    const customer = await created(t.token, '/v1/customers', { name: 'An' })
    const line = { description: 'Transfer', quantity: 1, unit_amount: { amount: '40.00', currency: 'USD' } }
    const invoice = await created(t.token, '/v1/invoices', { customer_id: customer.id, line_items: [line] })
    expect(invoice.due_date).toBe(addDays(partnerToday, 14))
    expect(invoice.number).toMatch(/^INV-2037-/)
    const refused = await h.call(t.token, 'POST', '/v1/invoices', { customer_id: customer.id, line_items: [line], due_date: addDays(today(), 5) })
    expectError(refused, 400, 'VALIDATION_ERROR')
    expect(fieldsOf(refused)).toEqual(['due_date'])
  })
})

// ------------------------------------------------------------------------------------------------
// Webhook retries

interface Receiver {
  url: string
  received: { headers: Record<string, string | string[] | undefined>; body: string }[]
  close(): Promise<void>
}

const receivers: Receiver[] = []
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close()
})

/** A local receiver answering the n-th request (1-based) with status(n). */
async function receiver(status: (n: number) => number): Promise<Receiver> {
  const received: Receiver['received'] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(status(received.length)).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const r: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
  receivers.push(r)
  return r
}

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 4000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error('timed out waiting')
    await sleep(20)
  }
}

async function deliveryOf(token: string, hookId: string): Promise<Json> {
  const res = await h.call(token, 'GET', `/v1/webhooks/${hookId}/deliveries`)
  expect(res.statusCode, res.body).toBe(200)
  expect(res.json().data).toHaveLength(1)
  return res.json().data[0]
}

describe('webhook retries follow the partner\'s test clock', () => {
  it('a failed delivery is retried once the partner\'s time passes its next attempt, not before', async () => {
    const t = await tenant()
    await advance(t.token, 86_400)
    const r = await receiver((n) => (n === 1 ? 500 : 200))
    const hook = await created(t.token, '/v1/webhooks', { url: r.url, event_types: ['customer.created'] })
    await created(t.token, '/v1/customers', { name: 'An' })

    // the first attempt is due at once on the partner's clock (the event is stamped with its time)
    await until(async () => {
      void runner.wake('webhook-dispatch')
      return (await deliveryOf(t.token, hook.id)).attempts.length === 1
    })
    const failed = await deliveryOf(t.token, hook.id)
    const partnerNow = clock.now().getTime() + 86_400_000
    expect(failed).toMatchObject({ status: 'PENDING', last_status_code: 500 })
    expect(ms(failed.attempts[0].attempted_at)).toBe(partnerNow)
    const wait = ms(failed.next_attempt_at) - partnerNow
    expect(wait).toBeGreaterThanOrEqual(RETRY_DELAYS_SECONDS[0] * 800)
    expect(wait).toBeLessThanOrEqual(RETRY_DELAYS_SECONDS[0] * 1200)

    // real time stands still: not due
    await runner.wake('webhook-dispatch')
    await sleep(50)
    expect(r.received).toHaveLength(1)

    await advance(t.token, RETRY_DELAYS_SECONDS[0] * 2)
    await until(async () => {
      void runner.wake('webhook-dispatch')
      return (await deliveryOf(t.token, hook.id)).status === 'SUCCEEDED'
    })
    expect(r.received).toHaveLength(2)
    expect(ms((await deliveryOf(t.token, hook.id)).delivered_at)).toBe(clock.now().getTime() + 86_400_000 + RETRY_DELAYS_SECONDS[0] * 2000)
    await h.call(t.token, 'DELETE', `/v1/webhooks/${hook.id}`)
  })
})

// ------------------------------------------------------------------------------------------------
// Several instances

describe('several server instances', () => {
  it('the instance that served the advance applies it at once; another within its token cache bound, or at once after its own GET', async () => {
    const other = await testApp({ clock, config: { webhookAllowPrivateTargets: true, holdMinutes: 15 } })
    const t = await tenant()
    const b = await held(t.token)
    // both instances have the token cached with offset 0
    expect((await other.call(t.token, 'GET', `/v1/bookings/${b.id}`)).json().status).toBe('HELD')

    await advance(t.token, 16 * 60)
    expect((await booking(t.token, b.id)).status).toBe('EXPIRED')
    expect((await other.call(t.token, 'GET', `/v1/bookings/${b.id}`)).json().status).toBe('HELD')
    // within TOKEN_CACHE_TTL_SECONDS the other instance verifies the token again, with the new offset
    clock.advance(h.config.tokenCacheTtlSeconds * 1000)
    expect((await other.call(t.token, 'GET', `/v1/bookings/${b.id}`)).json().status).toBe('EXPIRED')

    // a GET of the clock on an instance brings that instance up to date at once
    const c = await held(t.token)
    await advance(t.token, 16 * 60)
    expect((await other.call(t.token, 'GET', `/v1/bookings/${c.id}`)).json().status).toBe('HELD')
    expect((await testClock(t.token, other)).offset_seconds).toBe(32 * 60)
    expect((await other.call(t.token, 'GET', `/v1/bookings/${c.id}`)).json().status).toBe('EXPIRED')
  })
})

describe('the OpenAPI document', () => {
  it('lists both operations with their permission, the live-mode error and the body\'s bounds', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/openapi.json' })).json()
    const read = doc.paths['/v1/test-clock'].get
    const move = doc.paths['/v1/test-clock:advance'].post
    expect(read.operationId).toBe('getTestClock')
    expect(read['x-required-permissions'] ?? []).toEqual([])
    expect(move['x-required-permissions']).toEqual(['booking.create.partner'])
    for (const op of [read, move]) expect(op.responses['400']['x-error-codes']).toContain('TEST_CLOCK_LIVE_MODE')
    const body = move.requestBody.content['application/json'].schema
    expect(body.$ref).toBe('#/components/schemas/AdvanceTestClockRequest')
    const seconds = doc.components.schemas.AdvanceTestClockRequest.properties.seconds
    expect(seconds).toMatchObject({ type: 'integer', minimum: 1, maximum: MAX_ADVANCE_SECONDS })
    const errors = await h.inject({ method: 'GET', url: '/v1/errors' })
    expect(JSON.stringify(errors.json())).toContain('TEST_CLOCK_LIVE_MODE')
  })
})

// ------------------------------------------------------------------------------------------------
// What a request costs

/** The shared database, recording the SQL every query sends. */
function recording(db: Db): { db: Db; sql: string[] } {
  const sql: string[] = []
  const record = <T>(text: string, run: () => T): T => {
    sql.push(text)
    return run()
  }
  const wrapped: Db = {
    kind: db.kind,
    get queryCount() {
      return db.queryCount
    },
    query: (text, params) => record(text, () => db.query(text, params)),
    transaction: (fn) => db.transaction((tx) => fn({ query: (text, params) => record(text, () => tx.query(text, params)) })),
    ...(db.listen ? { listen: db.listen.bind(db) } : {}),
    close: async () => {},
  }
  return { db: wrapped, sql }
}

describe('what the clock costs a request', () => {
  it('live requests never read test_clocks, and test requests take the offset from the cached token', async () => {
    const { db, sql } = recording(h.db)
    const built = await buildApp({ config: testConfig(), db, clock, logger: createLogger('silent', new LogCapture()) })
    afterAll(() => built.app.close())
    const call = (token: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
      built.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) })
    const t = await tenant()
    const live = await t.addToken({ mode: 'live' })
    await advance(t.token, 3600)
    const readsOfTheClock = () => sql.filter((q) => q.includes('test_clocks') && !q.includes('FROM token_secrets'))

    // the token look-up (a cache miss) carries the offset for test tokens only (CASE on the mode)
    for (const token of [live.token, t.token]) expect((await call(token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect(sql.filter((q) => q.includes('FROM token_secrets'))).toHaveLength(2)
    sql.length = 0
    for (const token of [live.token, t.token]) {
      const listing = JSON.parse((await call(token, 'POST', '/v1/listings', LISTING)).body)
      const customer = JSON.parse((await call(token, 'POST', '/v1/customers', { name: 'An' })).body)
      const checkIn = addDays(today(), 30)
      const res = await call(token, 'POST', '/v1/bookings', { listing_id: listing.id, customer_id: customer.id, check_in: checkIn, check_out: addDays(checkIn, 1), guests: 1 })
      expect(res.statusCode, res.body).toBe(201)
      expect((await call(token, 'GET', `/v1/bookings/${res.json().id}`)).statusCode).toBe(200)
      expect((await call(token, 'GET', '/v1/bookings')).statusCode).toBe(200)
      expect((await call(token, 'POST', `/v1/bookings/${res.json().id}:confirm`)).statusCode).toBe(200)
      const expected = token === live.token ? clock.now().getTime() : clock.now().getTime() + 3_600_000
      expect(ms(res.json().created_at)).toBe(expected)
    }
    expect(sql.length).toBeGreaterThan(10)
    expect(readsOfTheClock()).toEqual([])
  })
})
