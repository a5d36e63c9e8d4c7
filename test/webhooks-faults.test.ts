import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { jobRegistry } from '../src/jobs/registry.ts'
import { JobRunner } from '../src/jobs/runner.ts'
import { HOLD_EXPIRING_LEAD_MINUTES } from '../src/modules/bookings/service.ts'
import { Dispatcher } from '../src/modules/webhooks/dispatcher.ts'
import { DISABLE_AFTER_FAILING_MS, MAX_ATTEMPTS, RETRY_DELAYS_SECONDS } from '../src/modules/webhooks/schedule.ts'
import { addDays } from '../src/platform/dates.ts'
import { renderEvent } from '../src/surfaces/renderers.ts'
import { customerReplacement } from './helpers/bodies.ts'
import { LISTING } from './helpers/bookings.ts'
import { ManualClock, makeTenant, ownDatabaseOnPostgres, testApp } from './helpers/harness.ts'
import type { Tenant } from './helpers/harness.ts'
import type { Json } from './helpers/listings.ts'

/**
 * Webhook delivery under faults (API.md §11): receivers that are down, slow, rate-limiting, gone,
 * redirecting or resetting; the retry schedule walked on a ManualClock; auto-disable; exhaustion,
 * :retry and :recover; secret rotation; booking.hold_expiring.
 *
 * Time: one ManualClock for the app and the job registry, in 2034, far from the real clock and
 * from the other files' clocks (on PostgreSQL this file also has a database of its own: below).
 * The clock only moves forward; every test deletes its endpoints (and with them their pending
 * deliveries) and closes its receivers, so a later test's clock jumps retry nothing of an earlier one.
 *
 * The dispatcher runs in-process (JobRunner + jobRegistry); a pass runs on a NOTIFY, when an
 * attempt finishes, and when a test wakes it (its timer is an hour of real time: never here).
 */

// a dispatcher claims every tenant's due deliveries, and ours runs on a clock in 2034: on
// PostgreSQL this file takes a database of its own (see ownDatabaseOnPostgres)
await ownDatabaseOnPostgres('webhooks_faults')

const clock = new ManualClock('2034-06-01T08:00:00.000Z')
const h = await testApp({ clock, config: { webhookAllowPrivateTargets: true, holdMinutes: 15 } })
const runner = new JobRunner(jobRegistry({ db: h.db, clock, holdMinutes: 15, holdSweepSeconds: 0, webhookAllowPrivateTargets: true, webhookPollMs: 3_600_000 }), h.app.log)
runner.start()
afterAll(() => runner.stop())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// ------------------------------------------------------------------------------------------------
// Receivers

type Answer = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'reset' | 'reset-mid-body' | 'hang'

interface Received {
  headers: IncomingHttpHeaders
  body: string
  answer: Answer
  /** Real time (Date.now) the answer went out; unset while pending or for resets. */
  answeredAt?: number
}

interface Receiver {
  url: string
  received: Received[]
  /** Decides the answer when a request starts (n: its 1-based number at this receiver). */
  answer: (n: number) => Answer
  /** Closes the server (connection refused from then on). */
  down(): Promise<void>
  /** Listens again on the same port. */
  up(): Promise<void>
  /** The requests answered with a 2xx. */
  accepted(): Received[]
}

const ok: Answer = { status: 200 }
const openReceivers: { close(): Promise<void> }[] = []

async function receiver(answer: (n: number) => Answer = () => ok): Promise<Receiver> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const r: Received = { headers: req.headers, body: '', answer: ok }
    received.push(r)
    const a = rec.answer(received.length)
    r.answer = a
    if (a === 'reset-mid-body') {
      // the request body has started to arrive: drop the connection without a word
      req.once('data', () => req.socket.destroy())
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      r.body = Buffer.concat(chunks).toString('utf8')
      if (a === 'reset') return void req.socket.destroy()
      if (a === 'hang') return
      setTimeout(() => {
        res.writeHead(a.status, a.headers ?? {})
        res.end(a.body ?? 'ok')
        r.answeredAt = Date.now()
      }, a.delayMs ?? 0)
    })
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const close = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve()
      server.close(() => resolve())
      server.closeAllConnections()
    })
  await listen(0)
  const port = (server.address() as AddressInfo).port
  const rec: Receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    answer,
    down: close,
    up: () => listen(port),
    accepted: () => received.filter((r) => typeof r.answer === 'object' && r.answer.status >= 200 && r.answer.status < 300 && r.answeredAt !== undefined),
  }
  openReceivers.push({ close })
  return rec
}

// ------------------------------------------------------------------------------------------------
// Endpoints, deliveries, the dispatcher

const createdEndpoints: { token: string; id: string }[] = []

afterEach(async () => {
  // deleting an endpoint drops its pending deliveries: nothing of this test is retried by a later one
  for (const e of createdEndpoints.splice(0)) await h.call(e.token, 'DELETE', `/v1/webhooks/${e.id}`)
  for (const r of openReceivers.splice(0)) await r.close()
})

async function endpoint(t: Tenant, url: string, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await h.call(t.token, 'POST', '/v1/webhooks', { url, ...body })
  expect(res.statusCode, res.body).toBe(201)
  const { id, secret } = res.json()
  createdEndpoints.push({ token: t.token, id })
  return { id, secret }
}

async function customer(t: Tenant, name = 'An'): Promise<Json> {
  const res = await h.call(t.token, 'POST', '/v1/customers', { name })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function replaceCustomer(t: Tenant, c: Json, name: string): Promise<Json> {
  const res = await h.call(t.token, 'PUT', `/v1/customers/${c.id}`, customerReplacement(c, { name }))
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

/** The endpoint's deliveries (API), oldest first. */
async function deliveries(t: Tenant, endpointId: string): Promise<Json[]> {
  const res = await h.call(t.token, 'GET', `/v1/webhooks/${endpointId}/deliveries?limit=100`)
  expect(res.statusCode, res.body).toBe(200)
  return (res.json().data as Json[]).slice().reverse()
}

async function webhook(t: Tenant, id: string): Promise<Json> {
  const res = await h.call(t.token, 'GET', `/v1/webhooks/${id}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

async function events(t: Tenant, type: string): Promise<Json[]> {
  const res = await h.call(t.token, 'GET', `/v1/events?limit=100&event_type=${type}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data
}

/**
 * Waits until the dispatcher has nothing under way and nothing it could claim for these endpoints
 * at the clock's time: no live lease, and no due PENDING delivery that is not behind an earlier
 * PENDING one of the same resource (the claim's in-order rule). Wakes the dispatcher meanwhile.
 */
async function settle(endpointIds: string[], ms = 4000): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    const now = clock.now()
    const { rows } = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_deliveries d
       WHERE d.endpoint_id = ANY($1::text[]) AND d.status = 'PENDING'
         AND (d.lease_until > $2
              OR (d.next_attempt_at <= $2 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.resource_id = d.resource_id
                                                          AND p.status = 'PENDING' AND p.sequence < d.sequence)))`,
      [endpointIds, now],
    )
    if (rows[0]!.n === 0) return
    if (Date.now() > end) throw new Error(`the dispatcher did not settle: ${rows[0]!.n} deliveries due or in flight`)
    void runner.wake('webhook-dispatch')
    await sleep(25)
  }
}

/** Moves the clock to the earliest retry of these endpoints and lets the dispatcher run it; false when none is left. */
async function stepToNextRetry(endpointIds: string[]): Promise<boolean> {
  const { rows } = await h.db.query<{ at: Date | null }>(`SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE endpoint_id = ANY($1::text[]) AND status = 'PENDING'`, [endpointIds])
  const at = rows[0]?.at
  if (!at) return false
  if (at.getTime() > clock.now().getTime()) clock.set(at)
  await settle(endpointIds)
  return true
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

// ------------------------------------------------------------------------------------------------
// Signatures

function signatureHeaders(r: Received): Record<string, string> {
  return { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }
}

/**
 * Webhook#verify also refuses a timestamp more than 5 minutes from Date.now(); the deliveries are
 * stamped with the ManualClock (2034), so verification runs with Date.now() at `nowSeconds` (by
 * default the delivery's own timestamp).
 */
function verify(secret: string, body: string, headers: Record<string, string>, nowSeconds = Number(headers['webhook-timestamp'])): Json {
  const spy = vi.spyOn(Date, 'now').mockReturnValue(nowSeconds * 1000)
  try {
    return new Webhook(secret).verify(body, headers) as Json
  } finally {
    spy.mockRestore()
  }
}

function verified(secret: string, r: Received): Json {
  const payload = verify(secret, r.body, signatureHeaders(r))
  expect(r.headers['webhook-id']).toBe(payload.id)
  return payload
}

const payloadOf = (r: Received): Json => JSON.parse(r.body)
const ms = (iso: string | null | undefined): number => new Date(iso ?? NaN).getTime()

// ------------------------------------------------------------------------------------------------

describe('receiver down, then up', () => {
  it('500s then connection refused, then up: every event delivered once accepted, each resource in sequence order, duplicates share webhook-id', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver(() => ({ status: 500, body: 'down for maintenance' }))
    const e = await endpoint(t, r.url)

    const a1 = await customer(t, 'An')
    const a2 = await replaceCustomer(t, a1, 'An Tran')
    await replaceCustomer(t, a2, 'An Tran Van')
    const b1 = await customer(t, 'Binh')
    const t0 = clock.now()
    await settle([e.id])

    // one attempt each for the first event of each resource; the later events of A wait behind A's first
    let list = await deliveries(t, e.id)
    expect(list.map((d) => [d.event_type, d.status, d.attempt_count])).toEqual([
      ['customer.created', 'PENDING', 1],
      ['customer.updated', 'PENDING', 0],
      ['customer.updated', 'PENDING', 0],
      ['customer.created', 'PENDING', 1],
    ])
    for (const d of [list[0]!, list[3]!]) {
      expect(d.attempts).toEqual([expect.objectContaining({ attempt: 1, attempted_at: t0.toISOString(), status_code: 500, error_class: 'http_status', response_body: 'down for maintenance' })])
      expect(d.last_status_code).toBe(500)
      expect(d.last_error).toBe('HTTP 500')
      // first retry after 5 s ± 20 %
      expect(ms(d.next_attempt_at) - t0.getTime()).toBeGreaterThanOrEqual(4000)
      expect(ms(d.next_attempt_at) - t0.getTime()).toBeLessThanOrEqual(6000)
    }
    for (const d of [list[1]!, list[2]!]) expect(d.attempts).toEqual([])
    expect(r.received).toHaveLength(2)

    // the receiver goes away entirely: connection refused, twice
    await r.down()
    for (let attempt = 2; attempt <= 3; attempt++) {
      clock.advance(RETRY_DELAYS_SECONDS[attempt - 2]! * 1200)
      const at = clock.now()
      await settle([e.id])
      list = await deliveries(t, e.id)
      for (const d of [list[0]!, list[3]!]) {
        expect(d.status).toBe('PENDING')
        expect(d.attempt_count).toBe(attempt)
        expect(d.attempts[attempt - 1]).toMatchObject({ attempt, attempted_at: at.toISOString(), status_code: null, error_class: 'connection_refused', response_body: null })
        const wait = ms(d.next_attempt_at) - at.getTime()
        expect(wait).toBeGreaterThanOrEqual(RETRY_DELAYS_SECONDS[attempt - 1]! * 800)
        expect(wait).toBeLessThanOrEqual(RETRY_DELAYS_SECONDS[attempt - 1]! * 1200)
      }
      expect(list[1]!.attempt_count).toBe(0)
    }
    expect(r.received).toHaveLength(2)

    // up again
    r.answer = () => ok
    await r.up()
    clock.advance(RETRY_DELAYS_SECONDS[2]! * 1200)
    await settle([e.id])
    list = await deliveries(t, e.id)
    expect(list.map((d) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'])
    expect(list.map((d) => d.attempt_count)).toEqual([4, 1, 1, 4])
    expect(list[0]!.attempts.at(-1)).toMatchObject({ attempt: 4, status_code: 200, error_class: null })

    // 100 % delivered: every event id accepted at least once
    const accepted = r.accepted()
    expect(new Set(accepted.map((x) => x.headers['webhook-id']))).toEqual(new Set(list.map((d) => d.event_id)))
    // every arrival is signed, and its webhook-id is its event's id; arrivals of one event are the same body
    const bodies = new Map<string, string>()
    for (const x of r.received) {
      const payload = verified(e.secret, x)
      const seen = bodies.get(payload.id)
      if (seen !== undefined) expect(x.body).toBe(seen)
      bodies.set(payload.id, x.body)
    }
    // resource A: arrivals never go back in sequence; accepted ones are 1, 2, 3 in that order
    const ofA = r.received.map(payloadOf).filter((p) => p.data.id === a1.id)
    const seqs = ofA.map((p) => p.sequence as number)
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
    expect(accepted.map(payloadOf).filter((p) => p.data.id === a1.id).map((p) => [p.event_type, p.sequence, p.data.name])).toEqual([
      ['customer.created', 1, 'An'],
      ['customer.updated', 2, 'An Tran'],
      ['customer.updated', 3, 'An Tran Van'],
    ])
    expect(accepted.map(payloadOf).filter((p) => p.data.id === b1.id).map((p) => p.sequence)).toEqual([1])
  })
})

describe('Retry-After', () => {
  it('a 429 with Retry-After: 3600 puts the next attempt an hour later (not 5 s); an HTTP date on a 503 too; a day at most', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver(() => ({ status: 429, headers: { 'retry-after': '3600' } }))
    const e = await endpoint(t, r.url)

    await customer(t, 'An')
    const t0 = clock.now()
    await settle([e.id])
    const [first] = await deliveries(t, e.id)
    expect(first!.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 429, error_class: 'http_status' })])
    expect(ms(first!.next_attempt_at) - t0.getTime()).toBeGreaterThanOrEqual(3599_000)
    expect(ms(first!.next_attempt_at) - t0.getTime()).toBeLessThanOrEqual(3601_000)

    // an HTTP date two hours ahead (of the clock) on a 503
    const inTwoHours = new Date(clock.now().getTime() + 7200_000).toUTCString()
    r.answer = () => ({ status: 503, headers: { 'retry-after': inTwoHours } })
    await customer(t, 'Binh')
    await settle([e.id])
    const second = (await deliveries(t, e.id))[1]!
    expect(second.attempts).toEqual([expect.objectContaining({ status_code: 503 })])
    expect(ms(second.next_attempt_at) - t0.getTime()).toBeGreaterThanOrEqual(7199_000)
    expect(ms(second.next_attempt_at) - t0.getTime()).toBeLessThanOrEqual(7201_000)

    // a week asked: a day given
    r.answer = () => ({ status: 429, headers: { 'retry-after': String(7 * 86400) } })
    await customer(t, 'Chi')
    await settle([e.id])
    const third = (await deliveries(t, e.id))[2]!
    expect(third.attempts).toEqual([expect.objectContaining({ status_code: 429 })])
    expect(ms(third.next_attempt_at) - t0.getTime()).toBe(86_400_000)

    // nothing is tried again before its time
    r.answer = () => ok
    clock.advance(3590_000)
    await settle([e.id])
    expect(r.received).toHaveLength(3)
    clock.advance(11_000)
    await settle([e.id])
    expect((await deliveries(t, e.id)).map((d) => d.status)).toEqual(['SUCCEEDED', 'PENDING', 'PENDING'])
    clock.advance(3600_000)
    await settle([e.id])
    expect((await deliveries(t, e.id)).map((d) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'PENDING'])
  })
})

describe('410 Gone', () => {
  it('fails the delivery, disables the endpoint (gone) and sends webhook.disabled to the partner\'s other endpoint', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const gone = await receiver(() => ({ status: 410, body: 'no such hook' }))
    const other = await receiver()
    const g = await endpoint(t, gone.url, { event_types: ['customer.created', 'customer.updated'] })
    const o = await endpoint(t, other.url, { event_types: ['webhook.disabled'] })

    const c = await customer(t, 'An')
    await settle([g.id, o.id])

    const [d] = await deliveries(t, g.id)
    expect(d).toMatchObject({ status: 'FAILED', next_attempt_at: null, attempt_count: 1, last_status_code: 410 })
    expect(d!.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 410, error_class: 'http_status', response_body: 'no such hook' })])
    expect(await webhook(t, g.id)).toMatchObject({ enabled: false, disabled_reason: 'gone' })

    const disabled = await events(t, 'webhook.disabled')
    expect(disabled).toHaveLength(1)
    expect(disabled[0]).toMatchObject({ event_type: 'webhook.disabled', team_id: t.teamIds[0], data: { id: g.id, enabled: false, disabled_reason: 'gone' } })

    // the other endpoint received it, signed with its own secret
    expect(other.accepted()).toHaveLength(1)
    const payload = verified(o.secret, other.accepted()[0]!)
    expect(payload).toMatchObject({ id: disabled[0]!.id, event_type: 'webhook.disabled', data: { id: g.id, enabled: false, disabled_reason: 'gone' } })
    expect(() => verify(g.secret, other.accepted()[0]!.body, signatureHeaders(other.accepted()[0]!))).toThrow()
    expect((await deliveries(t, o.id)).map((x) => x.status)).toEqual(['SUCCEEDED'])

    // a disabled endpoint gets no new deliveries, and is not retried
    await replaceCustomer(t, c, 'An Tran')
    clock.advance(60_000)
    await settle([g.id, o.id])
    expect(await deliveries(t, g.id)).toHaveLength(1)
    expect(gone.received).toHaveLength(1)

    // its failed delivery cannot be retried while it is disabled; enabled again, :recover delivers it
    const refused = await h.call(t.token, 'POST', `/v1/webhook-deliveries/${d!.id}:retry`)
    expect(refused.statusCode, refused.body).toBe(409)
    expect(refused.json().error.code).toBe('WEBHOOK_DISABLED')
    const enabled = await h.call(t.token, 'PUT', `/v1/webhooks/${g.id}`, { ...(await webhook(t, g.id)), enabled: true })
    expect(enabled.statusCode, enabled.body).toBe(200)
    expect(enabled.json()).toMatchObject({ enabled: true, disabled_reason: null })
    gone.answer = () => ok
    const recovered = await h.call(t.token, 'POST', `/v1/webhooks/${g.id}:recover`, { since: d!.created_at })
    expect(recovered.statusCode, recovered.body).toBe(202)
    expect(recovered.json()).toEqual({ requeued: 1 })
    await settle([g.id])
    expect((await deliveries(t, g.id))[0]).toMatchObject({ status: 'SUCCEEDED', attempt_count: 2 })
    expect(verified(g.secret, gone.accepted()[0]!)).toMatchObject({ event_type: 'customer.created', data: { id: c.id } })
  })
})

describe('auto-disable', () => {
  it('5 days failing without a success disables the endpoint (failing); a success in between starts the 5 days afresh', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver(() => ({ status: 500 }))
    const other = await receiver()
    const f = await endpoint(t, r.url, { event_types: ['customer.created'] })
    const o = await endpoint(t, other.url, { event_types: ['webhook.disabled'] })
    const failingSince = async () => (await h.db.query<{ failing_since: Date | null }>('SELECT failing_since FROM webhook_endpoints WHERE id = $1', [f.id])).rows[0]!.failing_since

    const t0 = clock.now()
    await customer(t, 'An')
    await settle([f.id])
    expect(await failingSince()).toEqual(t0)

    // two days of failures, then one success
    clock.advance(2 * 86_400_000)
    await settle([f.id])
    expect((await deliveries(t, f.id))[0]).toMatchObject({ status: 'PENDING', attempt_count: 2 })
    expect(await failingSince()).toEqual(t0)
    r.answer = () => ok
    clock.advance(RETRY_DELAYS_SECONDS[1] * 1200)
    await settle([f.id])
    expect((await deliveries(t, f.id))[0]).toMatchObject({ status: 'SUCCEEDED', attempt_count: 3 })
    expect(await failingSince()).toBeNull()

    // failing again from t1
    r.answer = () => ({ status: 500 })
    const t1 = clock.now()
    await customer(t, 'Binh')
    await settle([f.id])
    expect(await failingSince()).toEqual(t1)

    // 5 days after t0 (but not after t1): a failure does not disable
    clock.set(new Date(t0.getTime() + DISABLE_AFTER_FAILING_MS + 3600_000))
    await settle([f.id])
    expect((await deliveries(t, f.id))[1]).toMatchObject({ status: 'PENDING', attempt_count: 2 })
    expect(await webhook(t, f.id)).toMatchObject({ enabled: true, disabled_reason: null })
    expect(await events(t, 'webhook.disabled')).toEqual([])

    // 5 days after t1: the next failure disables it
    clock.set(new Date(t1.getTime() + DISABLE_AFTER_FAILING_MS + 1000))
    await settle([f.id, o.id])
    const second = (await deliveries(t, f.id))[1]!
    expect(second).toMatchObject({ status: 'FAILED', next_attempt_at: null, attempt_count: 3 })
    expect(second.attempts.at(-1)).toMatchObject({ attempt: 3, status_code: 500 })
    expect(await webhook(t, f.id)).toMatchObject({ enabled: false, disabled_reason: 'failing' })
    const disabled = await events(t, 'webhook.disabled')
    expect(disabled).toHaveLength(1)
    expect(disabled[0]).toMatchObject({ data: { id: f.id, enabled: false, disabled_reason: 'failing' } })
    await until(() => other.accepted().length === 1)
    expect(verified(o.secret, other.accepted()[0]!)).toMatchObject({ id: disabled[0]!.id, event_type: 'webhook.disabled', data: { id: f.id, disabled_reason: 'failing' } })

    // no more attempts on the disabled endpoint
    const before = r.received.length
    clock.advance(86_400_000)
    await settle([f.id])
    expect(r.received).toHaveLength(before)
  })
})

describe('exhaustion, :retry and :recover', () => {
  it(`after ${MAX_ATTEMPTS} failed attempts a delivery is FAILED; :retry and :recover queue it again and it is delivered`, async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver(() => ({ status: 500 }))
    const e = await endpoint(t, r.url, { event_types: ['customer.created'] })

    const since = clock.now().toISOString()
    for (const name of ['An', 'Binh', 'Chi']) await customer(t, name)
    await settle([e.id])
    let steps = 0
    while (await stepToNextRetry([e.id])) expect(++steps).toBeLessThan(3 * MAX_ATTEMPTS)

    let list = await deliveries(t, e.id)
    expect(list).toHaveLength(3)
    for (const d of list) {
      expect(d).toMatchObject({ status: 'FAILED', next_attempt_at: null, attempt_count: MAX_ATTEMPTS, last_status_code: 500 })
      expect(d.attempts.map((a: Json) => a.attempt)).toEqual(Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1))
      // the waits follow the schedule, ±20 %
      for (let i = 1; i < MAX_ATTEMPTS; i++) {
        const wait = ms(d.attempts[i].attempted_at) - ms(d.attempts[i - 1].attempted_at)
        expect(wait).toBeGreaterThanOrEqual(RETRY_DELAYS_SECONDS[i - 1]! * 800)
        expect(wait).toBeLessThanOrEqual(RETRY_DELAYS_SECONDS[i - 1]! * 1200)
      }
    }
    expect(r.received).toHaveLength(3 * MAX_ATTEMPTS)
    // ~3.3 days of failures: not yet the 5 days that disable
    expect(await webhook(t, e.id)).toMatchObject({ enabled: true })

    // the receiver is back; one delivery retried by hand
    // (slow enough that the answer to :retry is read before the attempt ends)
    r.answer = () => ({ status: 200, delayMs: 300 })
    const retried = await h.call(t.token, 'POST', `/v1/webhook-deliveries/${list[0]!.id}:retry`)
    expect(retried.statusCode, retried.body).toBe(202)
    expect(retried.json()).toMatchObject({ id: list[0]!.id, status: 'PENDING', next_attempt_at: clock.now().toISOString() })
    await settle([e.id])
    list = await deliveries(t, e.id)
    expect(list.map((d) => d.status)).toEqual(['SUCCEEDED', 'FAILED', 'FAILED'])
    expect(list[0]!.attempts.at(-1)).toMatchObject({ attempt: MAX_ATTEMPTS + 1, status_code: 200 })

    // the other two with :recover
    const recovered = await h.call(t.token, 'POST', `/v1/webhooks/${e.id}:recover`, { since })
    expect(recovered.statusCode, recovered.body).toBe(202)
    expect(recovered.json()).toEqual({ requeued: 2 })
    await settle([e.id])
    list = await deliveries(t, e.id)
    expect(list.map((d) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'])
    expect(new Set(r.accepted().map((x) => x.headers['webhook-id']))).toEqual(new Set(list.map((d) => d.event_id)))
    expect(r.accepted()).toHaveLength(3)
    const again = await h.call(t.token, 'POST', `/v1/webhooks/${e.id}:recover`, { since })
    expect(again.json()).toEqual({ requeued: 0 })
  })
})

describe('redirects', () => {
  it('a 302 (or 307) is a failure with error_class redirect, and is not followed', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const target = await receiver()
    const r = await receiver((n) => ({ status: n === 1 ? 302 : 307, headers: { location: target.url } }))
    const e = await endpoint(t, r.url)

    await customer(t)
    await settle([e.id])
    clock.advance(RETRY_DELAYS_SECONDS[0] * 1200)
    await settle([e.id])

    const [d] = await deliveries(t, e.id)
    expect(d).toMatchObject({ status: 'PENDING', attempt_count: 2, last_status_code: 307 })
    expect(d!.last_error).toMatch(/redirect/i)
    expect(d!.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 302, error_class: 'redirect' }), expect.objectContaining({ attempt: 2, status_code: 307, error_class: 'redirect' })])
    expect(ms(d!.next_attempt_at)).toBeGreaterThan(clock.now().getTime())
    expect(r.received).toHaveLength(2)
    expect(target.received).toHaveLength(0)
  })
})

describe('broken connections', () => {
  it('a connection reset mid-body or before the answer is recorded as connection_reset and retried: nothing lost', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver((n) => (n === 1 ? 'reset-mid-body' : n === 2 ? 'reset' : ok))
    const e = await endpoint(t, r.url)

    await customer(t)
    await settle([e.id])
    clock.advance(RETRY_DELAYS_SECONDS[0] * 1200)
    await settle([e.id])
    let [d] = await deliveries(t, e.id)
    expect(d).toMatchObject({ status: 'PENDING', attempt_count: 2, last_status_code: null })
    expect(d!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status_code: null, error_class: 'connection_reset' }),
      expect.objectContaining({ attempt: 2, status_code: null, error_class: 'connection_reset' }),
    ])
    expect(ms(d!.next_attempt_at)).toBeGreaterThan(clock.now().getTime())

    clock.advance(RETRY_DELAYS_SECONDS[1] * 1200)
    await settle([e.id])
    ;[d] = await deliveries(t, e.id)
    expect(d).toMatchObject({ status: 'SUCCEEDED', attempt_count: 3 })
    expect(r.accepted()).toHaveLength(1)
    expect(verified(e.secret, r.accepted()[0]!).id).toBe(d!.event_id)
  })

  /** A delivery whose second attempt meets a receiver that never answers, run by a dispatcher of our own with a 400 ms timeout. */
  async function hangingAttempt(): Promise<{ t: Tenant; e: { id: string; secret: string }; r: Receiver; attempt: Json }> {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver(() => ({ status: 500 }))
    const e = await endpoint(t, r.url)
    await customer(t)
    await settle([e.id])
    // the retry falls due for our dispatcher only (the file's runner waits an hour of real time for its timer)
    await sleep(100)
    r.answer = () => 'hang'
    clock.advance(RETRY_DELAYS_SECONDS[0] * 1200)
    const quick = new Dispatcher({ db: h.db, clock, render: renderEvent, allowPrivateTargets: true, timeoutMs: 400 })
    try {
      const started = Date.now()
      expect(await quick.runOnce()).toMatchObject({ handled: 1 })
      const [d] = await until(async () => {
        const list = await deliveries(t, e.id)
        return list[0]!.attempts.length === 2 && list
      })
      expect(Date.now() - started).toBeLessThan(2000)
      expect(d).toMatchObject({ status: 'PENDING', attempt_count: 2, last_status_code: null })
      expect(ms(d!.next_attempt_at)).toBeGreaterThan(clock.now().getTime())
      return { t, e, r, attempt: { ...d!.attempts[1], last_error: d!.last_error } }
    } finally {
      await quick.stop()
    }
  }

  it('a receiver that never answers: the attempt ends at the timeout with an error class, and the delivery is retried', async () => {
    const { t, e, r, attempt } = await hangingAttempt()
    expect(attempt).toMatchObject({ attempt: 2, status_code: null, error_class: expect.any(String), response_body: null })

    r.answer = () => ok
    clock.advance(RETRY_DELAYS_SECONDS[1] * 1200)
    await settle([e.id])
    expect((await deliveries(t, e.id))[0]).toMatchObject({ status: 'SUCCEEDED', attempt_count: 3 })
    expect(r.accepted()).toHaveLength(1)
  })

  // the request's AbortSignal.timeout fires first: a DOMException named TimeoutError (numeric code 23)
  it('a receiver that never answers: the attempt is recorded with error_class timeout', async () => {
    const { attempt } = await hangingAttempt()
    expect(attempt).toMatchObject({ error_class: 'timeout', last_error: 'No complete answer within 15 s.' })
  })
})

describe('isolation', () => {
  it('a slow endpoint does not delay another', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const slow = await receiver(() => ({ status: 200, delayMs: 2000 }))
    const fast = await receiver()
    const a = await endpoint(t, slow.url, { event_types: ['customer.created'] })
    const b = await endpoint(t, fast.url, { event_types: ['customer.created'] })

    const started = Date.now()
    for (const name of ['An', 'Binh', 'Chi']) await customer(t, name)
    const bDone = await until(async () => {
      const list = await deliveries(t, b.id)
      return list.length === 3 && list.every((d) => d.status === 'SUCCEEDED') && list
    }, 1800)
    expect(Date.now() - started).toBeLessThan(1800)
    expect(bDone.map((d) => d.attempt_count)).toEqual([1, 1, 1])
    // A's are all still in flight: received, not answered
    const aList = await deliveries(t, a.id)
    expect(aList.map((d) => [d.status, d.attempts.length])).toEqual([
      ['PENDING', 0],
      ['PENDING', 0],
      ['PENDING', 0],
    ])
    expect(slow.received.filter((x) => x.answeredAt !== undefined)).toHaveLength(0)
    expect(fast.accepted()).toHaveLength(3)

    await settle([a.id, b.id], 4000)
    expect((await deliveries(t, a.id)).map((d) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED'])
    expect(slow.accepted()).toHaveLength(3)
  })

  it('an attempt outliving its lease is claimed again: the duplicate carries the same webhook-id and body, and the delivery ends SUCCEEDED', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver(() => ({ status: 200, delayMs: 800 }))
    const e = await endpoint(t, r.url, { event_types: ['customer.created'] })
    await customer(t)
    await until(() => r.received.length === 1)
    // the first attempt is still in flight when its lease (60 s) lapses on the clock
    clock.advance(61_000)
    await settle([e.id])
    await until(() => r.accepted().length === 2)
    const [first, second] = r.accepted()
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id'])
    expect(second!.body).toBe(first!.body)
    expect(verified(e.secret, first!).id).toBe(verified(e.secret, second!).id)
    const [d] = await until(async () => {
      const list = await deliveries(t, e.id)
      return list[0]!.attempts.length === 2 && list
    })
    expect(d).toMatchObject({ status: 'SUCCEEDED', attempt_count: 2 })
    expect(d!.attempts.map((a: Json) => [a.attempt, a.status_code])).toEqual([
      [1, 200],
      [2, 200],
    ])
  })
})

describe('secret rotation', () => {
  it('during the grace period two signatures, each verifying with its secret; after it, one', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver()
    const e = await endpoint(t, r.url, { event_types: ['customer.created'] })

    const rotated = await h.call(t.token, 'POST', `/v1/webhooks/${e.id}:rotate-secret`, { grace_period_seconds: 600 })
    expect(rotated.statusCode, rotated.body).toBe(200)
    const newSecret: string = rotated.json().secret
    expect(newSecret).toMatch(/^whsec_/)
    expect(newSecret).not.toBe(e.secret)
    const expires = rotated.json().previous_secret_expires_at
    expect(expires).toBe(new Date(clock.now().getTime() + 600_000).toISOString())

    await customer(t, 'An')
    await settle([e.id])
    const during = r.accepted()[0]!
    const signatures = String(during.headers['webhook-signature']).split(' ')
    expect(signatures).toHaveLength(2)
    for (const s of signatures) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/)
    expect(verified(e.secret, during).event_type).toBe('customer.created')
    expect(verified(newSecret, during).event_type).toBe('customer.created')
    // each signature on its own verifies with its own secret only
    const [sigNew, sigOld] = signatures
    const hdrs = signatureHeaders(during)
    expect(() => verify(newSecret, during.body, { ...hdrs, 'webhook-signature': sigNew! })).not.toThrow()
    expect(() => verify(e.secret, during.body, { ...hdrs, 'webhook-signature': sigOld! })).not.toThrow()
    expect(() => verify(e.secret, during.body, { ...hdrs, 'webhook-signature': sigNew! })).toThrow()

    // after the grace period
    clock.set(new Date(ms(expires) + 1000))
    await customer(t, 'Binh')
    await settle([e.id])
    const after = r.accepted()[1]!
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect(verified(newSecret, after).event_type).toBe('customer.created')
    expect(() => verified(e.secret, after)).toThrow()
    expect((await webhook(t, e.id)).previous_secret_expires_at).toBe(expires)
  })
})

describe('booking.hold_expiring', () => {
  it(`is recorded once per hold, ${HOLD_EXPIRING_LEAD_MINUTES} minutes before it lapses, and delivered once`, async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver()
    const e = await endpoint(t, r.url, { event_types: ['booking.hold_expiring'] })
    const listing = await h.call(t.token, 'POST', '/v1/listings', LISTING)
    expect(listing.statusCode, listing.body).toBe(201)
    const c = await customer(t)
    const checkIn = addDays(clock.now().toISOString().slice(0, 10), 30)
    const booked = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.json().id, customer_id: c.id, check_in: checkIn, check_out: addDays(checkIn, 3), guests: 2 })
    expect(booked.statusCode, booked.body).toBe(201)
    const booking = booked.json()
    expect(booking.status).toBe('HELD')
    const lapses = ms(booking.hold_expires_at)
    const ofBooking = async () => (await events(t, 'booking.hold_expiring')).filter((x) => x.data.id === booking.id)

    // not yet: a minute before the lead
    clock.set(new Date(lapses - (HOLD_EXPIRING_LEAD_MINUTES + 1) * 60_000))
    await runner.wake('hold-expiring')
    expect(await ofBooking()).toEqual([])

    clock.set(new Date(lapses - (HOLD_EXPIRING_LEAD_MINUTES - 1) * 60_000))
    await runner.wake('hold-expiring')
    const once = await ofBooking()
    expect(once).toHaveLength(1)
    expect(once[0]).toMatchObject({ event_type: 'booking.hold_expiring', data: { id: booking.id, status: 'HELD', hold_expires_at: booking.hold_expires_at } })

    await runner.wake('hold-expiring')
    clock.advance(60_000)
    await runner.wake('hold-expiring')
    expect(await ofBooking()).toHaveLength(1)

    await settle([e.id])
    expect(r.accepted()).toHaveLength(1)
    expect(verified(e.secret, r.accepted()[0]!)).toMatchObject({ id: once[0]!.id, event_type: 'booking.hold_expiring', data: { id: booking.id } })
  })
})

describe('receiver-side verification', () => {
  it('a tampered body, id or timestamp fails Webhook#verify', async () => {
    const t = await makeTenant(h.db, { teams: 1, clock })
    const r = await receiver()
    const e = await endpoint(t, r.url, { event_types: ['customer.created'] })
    await customer(t, 'An')
    await settle([e.id])
    const got = r.accepted()[0]!
    const hdrs = signatureHeaders(got)
    const sentAt = Number(hdrs['webhook-timestamp'])
    // stamped with the dispatcher's clock, in whole seconds
    expect(sentAt).toBe(Math.floor(clock.now().getTime() / 1000))

    expect(verify(e.secret, got.body, hdrs, sentAt)).toMatchObject({ event_type: 'customer.created' })
    expect(() => verify(e.secret, got.body.replace('"An"', '"Am"'), hdrs, sentAt)).toThrow()
    expect(() => verify(e.secret, `${got.body} `, hdrs, sentAt)).toThrow()
    expect(() => verify(e.secret, got.body, { ...hdrs, 'webhook-id': `${hdrs['webhook-id']}x` }, sentAt)).toThrow()
    expect(() => verify(e.secret, got.body, { ...hdrs, 'webhook-timestamp': String(sentAt + 1) }, sentAt)).toThrow()
    expect(() => verify(e.secret, got.body, { ...hdrs, 'webhook-timestamp': String(sentAt - 1) }, sentAt)).toThrow()
    // one bit of the signature's first byte (the last base64 character carries padding bits)
    const flipped = hdrs['webhook-signature']!.replace(/^v1,(.)/, (_, c: string) => `v1,${c === 'A' ? 'B' : 'A'}`)
    expect(flipped).not.toBe(hdrs['webhook-signature'])
    expect(() => verify(e.secret, got.body, { ...hdrs, 'webhook-signature': flipped }, sentAt)).toThrow()
    // the real clock is 2026, the delivery 2034: outside the 5-minute tolerance, refused as a replay
    expect(() => new Webhook(e.secret).verify(got.body, hdrs)).toThrow()
  })
})
