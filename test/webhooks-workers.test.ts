import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import { makeTenant, onPostgres, ownDatabaseOnPostgres, testApp } from './helpers/harness.ts'
import { ROOT, sleep } from './helpers/processes.ts'

/**
 * Two `npm run worker` processes (src/worker.ts) on one PostgreSQL share a burst of 2,000
 * deliveries (400 customer.created events × 5 endpoints); one is SIGKILLed mid-run. Every
 * delivery still arrives at least once, no delivery is ever held by both workers at once, and the
 * killed worker's leases are taken over by the survivor once they lapse (WEBHOOK_LEASE_SECONDS=20),
 * not before. The events are made through the API after both workers are up, so the workers
 * deliver while they are still being made. Everything runs on a database of its own on the test
 * PostgreSQL server (see ownDatabaseOnPostgres). (PGlite has one owner process: no second worker.)
 */
const ENDPOINTS = 5
const CUSTOMERS = 400
const PAIRS = ENDPOINTS * CUSTOMERS
/** The killed worker is SIGKILLed when this many distinct (endpoint, event) pairs have arrived: 25 %. */
const KILL_AT = PAIRS / 4
const LEASE_SECONDS = 20
/** After the kill: long enough for the survivor to finish what it held then, far shorter than a lease. */
const SETTLE_MS = 5_000

// a database of this file's own (see ownDatabaseOnPostgres): a dispatcher another file runs in
// the shared one would take these deliveries, and one on a ManualClock ahead of the real one sees
// every live lease here as lapsed, which would make "taken over only after the lease" untestable
await ownDatabaseOnPostgres('webhooks_workers')
const h = await testApp({ config: { webhookAllowPrivateTargets: true } })

interface Arrival {
  endpoint: number
  seq: number
  headers: IncomingHttpHeaders
  body: string
  webhookId: string
  at: number
  answeredAt: number
}

interface Receiver {
  url: string
  server: Server
}

interface Worker {
  child: ChildProcess
  output(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

describe.skipIf(!onPostgres)('webhook delivery by two worker processes on one PostgreSQL (skipped on PGlite: one owner process runs the jobs, no second worker can share them)', () => {
  it('2,000 deliveries to 5 endpoints, one worker SIGKILLed mid-run: all arrive, none is held by both at once, the killed leases are taken over after they lapse', async () => {
    const db = h.db
    const t = await makeTenant(db, { teams: 1 })
    // 400 customers and 5 endpoints exceed the default write bucket (300 a minute): lift it for this partner
    await setPartnerLimit(db, t.partnerId, 'write', 100_000)

    // -- receivers: each records every arrival and answers 200 after 20–50 ms
    const arrivals: Arrival[] = []
    const pairs = new Set<string>()
    let seq = 0
    let onArrival: () => void = () => {}
    const receivers: Receiver[] = []
    for (let e = 0; e < ENDPOINTS; e++) {
      const path = `/hooks/${randomUUID()}`
      const server = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          // another tenant's stale delivery to a reused port: not ours
          if (req.url !== path) {
            res.statusCode = 404
            res.end()
            return
          }
          const webhookId = String(req.headers['webhook-id'])
          const arrival: Arrival = { endpoint: e, seq: ++seq, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), webhookId, at: Date.now(), answeredAt: Number.POSITIVE_INFINITY }
          arrivals.push(arrival)
          pairs.add(`${e} ${webhookId}`)
          onArrival()
          setTimeout(() => {
            arrival.answeredAt = Date.now()
            res.statusCode = 200
            res.end('ok')
          }, 20 + Math.floor(Math.random() * 31))
        })
      })
      // idle keep-alive connections stay open for the whole run (no close racing a reused socket)
      server.keepAliveTimeout = 120_000
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      receivers.push({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, server })
    }

    const endpoints: { id: string; secret: string }[] = []
    for (const r of receivers) {
      const created = await h.call(t.token, 'POST', '/v1/webhooks', { url: r.url })
      expect(created.statusCode, created.body).toBe(201)
      const { id, secret, event_types } = created.json() as { id: string; secret: string; event_types: string[] }
      expect(event_types).toEqual([])
      endpoints.push({ id, secret })
    }
    const endpointIds = endpoints.map((e) => e.id)

    // -- two workers, as npm run worker runs them, on the test PostgreSQL
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_LEASE_SECONDS: String(LEASE_SECONDS),
      HOLD_SWEEP_SECONDS: '0',
      LOG_LEVEL: 'warn',
    }
    const workers: Worker[] = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
      return { child, output: () => out, exited: new Promise((done) => child.once('exit', (code, signal) => done({ code, signal }))) }
    })
    const [victim, survivor] = workers as [Worker, Worker]
    const outputs = () => workers.map((w, i) => `--- worker ${i + 1}:\n${w.output()}`).join('\n')

    try {
      const upBy = Date.now() + 45_000
      while (!workers.every((w) => w.output().includes('travoBooks worker running'))) {
        if (workers.some((w) => w.child.exitCode !== null)) throw new Error(`a worker exited before it ran:\n${outputs()}`)
        if (Date.now() > upBy) throw new Error(`the workers did not start within 45 s:\n${outputs()}`)
        await sleep(50)
      }

      // -- the kill, at 25 % of the pairs: SIGKILL at once from the arrival that reaches it, then
      // a snapshot of every lease alive since (both workers'; the survivor's end soon). The snapshot
      // waits 1 s so a claim the victim's PostgreSQL session was still executing at the kill has
      // committed or rolled back by then.
      const t0 = Date.now()
      let killedAt = 0
      let snapshot: Promise<{ id: string; endpoint_id: string; lease_until: Date; attempts: number }[]> | undefined
      onArrival = () => {
        if (killedAt || pairs.size < KILL_AT) return
        victim.child.kill('SIGKILL')
        killedAt = Date.now()
        snapshot = sleep(1000)
          .then(() => db.query<{ id: string; endpoint_id: string; lease_until: Date; attempts: number }>(
            `SELECT id, endpoint_id, lease_until, attempts FROM webhook_deliveries WHERE endpoint_id = ANY($1) AND status = 'PENDING' AND lease_until > $2`,
            [endpointIds, new Date(killedAt)],
          ))
          .then((r) => r.rows)
      }

      // -- the events, through the API, in batches of 20 while the workers deliver
      const customerIds = new Set<string>()
      for (let i = 0; i < CUSTOMERS; i += 20) {
        const batch = await Promise.all(Array.from({ length: 20 }, (_, j) => h.call(t.token, 'POST', '/v1/customers', { name: `Worker guest ${i + j}` })))
        for (const res of batch) {
          expect(res.statusCode, res.body).toBe(201)
          customerIds.add((res.json() as { id: string }).id)
        }
      }
      const createdMs = Date.now() - t0

      const killBy = Date.now() + 30_000
      while (!snapshot) {
        if (Date.now() > killBy) throw new Error(`only ${pairs.size} of ${PAIRS} pairs arrived in 30 s:\n${outputs()}`)
        await sleep(20)
      }
      const atKill = await snapshot
      const arrivalsAtKill = arrivals.filter((a) => a.at <= killedAt).length
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' })

      // the killed worker's leases: alive at the kill and still untouched once the survivor has
      // long finished what it held then
      await sleep(SETTLE_MS)
      const { rows: later } = await db.query<{ id: string; status: string; lease_until: Date | null; attempts: number }>(
        'SELECT id, status, lease_until, attempts FROM webhook_deliveries WHERE id = ANY($1)',
        [atKill.map((d) => d.id)],
      )
      const laterById = new Map(later.map((d) => [d.id, d]))
      const orphaned = new Map(
        atKill
          .filter((d) => {
            const now = laterById.get(d.id)!
            return now.status === 'PENDING' && now.lease_until?.getTime() === d.lease_until.getTime() && now.attempts === d.attempts
          })
          .map((d) => [d.id, d]),
      )
      // the kill hit the victim mid-run, holding deliveries: otherwise nothing below is tested
      expect(orphaned.size, `leases alive at the kill: ${atKill.length}`).toBeGreaterThan(0)
      // (classified before any of them lapsed: untouched so far means untouched while leased)
      expect(Date.now(), 'the settle outlasted a lease').toBeLessThan(Math.min(...[...orphaned.values()].map((d) => d.lease_until.getTime())))

      // -- every pair arrives (the orphaned ones after their lease lapses), and the DB agrees
      const doneBy = Date.now() + LEASE_SECONDS * 1000 + 40_000
      while (pairs.size < PAIRS) {
        if (Date.now() > doneBy) throw new Error(`only ${pairs.size} of ${PAIRS} pairs arrived:\n${outputs()}`)
        await sleep(100)
      }
      const allArrivedMs = Date.now() - t0
      type DeliveryRow = { id: string; endpoint_id: string; event_id: string; status: string; attempts: number; lease_until: Date | null }
      let deliveries: DeliveryRow[] = []
      for (;;) {
        ;({ rows: deliveries } = await db.query<DeliveryRow>('SELECT id, endpoint_id, event_id, status, attempts, lease_until FROM webhook_deliveries WHERE endpoint_id = ANY($1)', [endpointIds]))
        if (deliveries.length === PAIRS && deliveries.every((d) => d.status === 'SUCCEEDED')) break
        if (Date.now() > doneBy) break
        await sleep(100)
      }
      const allSucceededMs = Date.now() - t0
      expect(deliveries).toHaveLength(PAIRS)
      expect(deliveries.filter((d) => d.status !== 'SUCCEEDED')).toEqual([])
      expect(deliveries.filter((d) => d.lease_until !== null)).toEqual([])

      // -- the arrivals: signed by their endpoint's secret, webhook-id = event id, every pair at
      // least once, and a pair arrives again only for a delivery the victim held at the kill
      const eventIdOf = new Map<string, string>()
      const byPair = new Map<string, Arrival[]>()
      for (const a of arrivals) {
        const endpoint = endpoints[a.endpoint]!
        const payload = new Webhook(endpoint.secret).verify(a.body, {
          'webhook-id': a.webhookId,
          'webhook-timestamp': String(a.headers['webhook-timestamp']),
          'webhook-signature': String(a.headers['webhook-signature']),
        }) as { id: string; event_type: string; data: { id: string } }
        expect(payload.id).toBe(a.webhookId)
        expect(payload.event_type).toBe('customer.created')
        expect(customerIds.has(payload.data.id)).toBe(true)
        // one event per customer: the same event always has the same webhook-id
        expect(eventIdOf.get(payload.data.id) ?? a.webhookId).toBe(a.webhookId)
        eventIdOf.set(payload.data.id, a.webhookId)
        const key = `${endpoint.id} ${a.webhookId}`
        byPair.set(key, [...(byPair.get(key) ?? []), a])
      }
      expect(eventIdOf.size).toBe(CUSTOMERS)
      const expectedPairs = deliveries.map((d) => `${d.endpoint_id} ${d.event_id}`)
      expect(new Set(expectedPairs).size).toBe(PAIRS)
      expect([...byPair.keys()].sort()).toEqual(expectedPairs.sort())

      const deliveryOfPair = new Map(deliveries.map((d) => [`${d.endpoint_id} ${d.event_id}`, d]))
      let duplicates = 0
      for (const [key, list] of byPair) {
        if (list.length === 1) continue
        duplicates += list.length - 1
        const d = deliveryOfPair.get(key)!
        // only the victim's cut-off attempt and the survivor's take-over: two arrivals, never overlapping
        expect(orphaned.has(d.id), `${key} arrived ${list.length} times but was not held by the killed worker`).toBe(true)
        expect(list).toHaveLength(2)
        const [first, second] = list as [Arrival, Arrival]
        expect(second.at, key).toBeGreaterThanOrEqual(first.answeredAt)
        expect(second.at, key).toBeGreaterThanOrEqual(orphaned.get(d.id)!.lease_until.getTime())
      }

      // -- the claims in the DB: one attempt row per claim, numbered 1..attempts; the only claim
      // without a row is the victim's, on an orphaned delivery; the survivor's take-over of an
      // orphaned delivery starts only once its lease lapsed; no delivery succeeded twice
      const { rows: attemptRows } = await db.query<{ delivery_id: string; attempt: number; attempted_at: Date; status_code: number | null; latency_ms: number }>(
        `SELECT a.delivery_id, a.attempt, a.attempted_at, a.status_code, a.latency_ms FROM webhook_attempts a
         JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = ANY($1) ORDER BY a.delivery_id, a.attempt`,
        [endpointIds],
      )
      const attemptsOf = new Map<string, typeof attemptRows>()
      for (const row of attemptRows) attemptsOf.set(row.delivery_id, [...(attemptsOf.get(row.delivery_id) ?? []), row])
      let takenOver = 0
      for (const d of deliveries) {
        const rows = attemptsOf.get(d.id) ?? []
        expect(rows.filter((r) => r.status_code !== null && r.status_code >= 200 && r.status_code < 300), d.id).toHaveLength(1)
        expect(rows.at(-1)!.attempt, d.id).toBe(d.attempts)
        for (let i = 1; i < rows.length; i++) {
          // one claim after the other: an attempt starts after the one before it ended
          expect(rows[i]!.attempted_at.getTime(), d.id).toBeGreaterThanOrEqual(rows[i - 1]!.attempted_at.getTime() + rows[i - 1]!.latency_ms)
        }
        const missing = Array.from({ length: d.attempts }, (_, i) => i + 1).filter((n) => !rows.some((r) => r.attempt === n))
        const lease = orphaned.get(d.id)
        if (!lease) {
          expect(missing, `${d.id}: claims without an attempt row, not held by the killed worker`).toEqual([])
          continue
        }
        takenOver++
        expect(missing, d.id).toEqual([lease.attempts])
        const next = rows.find((r) => r.attempt === lease.attempts + 1)!
        expect(next.attempted_at.getTime(), d.id).toBeGreaterThanOrEqual(lease.lease_until.getTime())
      }
      expect(takenOver).toBe(orphaned.size)
      // the brief's bound: more than one claim only where a lease was alive at the kill
      expect(deliveries.filter((d) => d.attempts > 1).length).toBeLessThanOrEqual(atKill.length)
      expect(duplicates).toBeLessThanOrEqual(orphaned.size)

      const heldPerEndpoint = endpointIds.map((id) => [...orphaned.values()].filter((d) => d.endpoint_id === id).length)
      console.log(
        `webhooks-workers: ${PAIRS} pairs; events made in ${createdMs} ms; SIGKILL at ${killedAt - t0} ms with ${arrivalsAtKill} arrivals, ` +
          `${atKill.length} leases alive (${orphaned.size} the killed worker's, per endpoint ${heldPerEndpoint.join('/')}); every pair arrived by ${allArrivedMs} ms, all SUCCEEDED by ${allSucceededMs} ms; ${duplicates} duplicate arrivals`,
      )

      // -- the survivor stops cleanly
      survivor.child.kill('SIGTERM')
      const stopped = await Promise.race([survivor.exited, sleep(20_000).then(() => ({ code: 'no exit within 20 s', signal: null }))])
      expect(stopped, survivor.output()).toEqual({ code: 0, signal: null })
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
      for (const r of receivers) {
        r.server.closeAllConnections()
        await new Promise<void>((resolve) => r.server.close(() => resolve()))
      }
    }
  }, 120_000)
})
