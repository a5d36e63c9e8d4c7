/**
 * npm run bench -- webhooks: one dispatcher process (the compiled server with its jobs on, on
 * PostgreSQL) delivering to a local keep-alive receiver in this process.
 * - throughput: deliveries/s draining a backlog, with 1 and 10 endpoints (target ≥ 1,000/s);
 * - latency: commit of an event → arrival at the receiver, one event at a time at light load
 *   (target p50 ≤ 50 ms, p99 ≤ 250 ms);
 * - the cost of the fan-out on writes: POST /v1/bookings with 10 subscribed endpoints vs none
 *   (target ≥ 0.9; the server's jobs off, so only the write path is measured).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { openDb } from '../src/platform/db.ts'
import type { Db } from '../src/platform/db.ts'
import { recordEvent } from '../src/modules/events/repository.ts'
import { newSecret } from '../src/modules/webhooks/service.ts'
import { newId } from '../src/platform/ids.ts'
import type { BenchEnv } from './lib.ts'
import { heading, load, median, ratio, startServer } from './lib.ts'
import { createToken, seedTenant } from './seed.ts'

interface Receiver {
  url: string
  count: number
  arrivals: Map<string, number>
  close(): Promise<void>
}

async function receiver(): Promise<Receiver> {
  const r = { count: 0, arrivals: new Map<string, number>() }
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      r.count++
      r.arrivals.set(String(req.headers['webhook-id']), performance.now())
      res.writeHead(204).end()
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    ...r,
    get count() {
      return r.count
    },
    arrivals: r.arrivals,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function addEndpoints(db: Db, partnerId: string, teamId: string, urls: string[]): Promise<string[]> {
  const ids: string[] = []
  for (const url of urls) {
    const id = newId('webhook')
    await db.query(
      `INSERT INTO webhook_endpoints (id, partner_id, mode, team_ids, url, secret, created_at, updated_at) VALUES ($1, $2, 'test', $3, $4, $5, now(), now())`,
      [id, partnerId, [teamId], url, newSecret()],
    )
    ids.push(id)
  }
  return ids
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for deliveries')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export async function webhooksBench(env: BenchEnv): Promise<void> {
  heading('Webhooks on PostgreSQL: one dispatcher process (the compiled server, jobs on) → a local keep-alive receiver')
  const db = await openDb({ databaseUrl: env.databaseUrl })
  const tenant = await seedTenant(db, { name: 'Bench webhooks partner', teams: 1, listings: 200, bookings: 0 })
  const team = tenant.teamIds[0]!
  const server = await startServer({ DATABASE_URL: env.databaseUrl, RUN_WORKERS: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'warn' })
  const receivers: Receiver[] = []
  try {
    // throughput: a backlog of events written with their deliveries, then drained
    for (const endpoints of [1, 10]) {
      const total = 10_000
      const rs = await Promise.all(Array.from({ length: endpoints }, () => receiver()))
      receivers.push(...rs)
      const ids = await addEndpoints(db, tenant.partnerId, team, rs.map((r) => r.url))
      const perEndpoint = total / endpoints
      const t0 = performance.now()
      await db.transaction(async (tx) => {
        // distinct resources, so the in-order-per-resource rule never holds one back
        await tx.query(
          `WITH e AS (
             INSERT INTO events (id, partner_id, team_id, mode, event_type, resource_type, resource_id, sequence, data, created_at)
             SELECT 'evt_bench' || $6 || '_' || $4 || '_' || g, $1, $2, 'test', 'customer.created', 'customer', 'cus_bench' || $6 || '_' || $4 || '_' || g, 1,
                    jsonb_build_object('id', 'cus_bench' || g, 'team_id', $2::text, 'mode', 'test', 'name', 'Bench', 'email', null, 'phone', null, 'language', null, 'country_code', null,
                                       'created_at', now(), 'updated_at', now()), now()
             FROM generate_series(1, $3::int) g RETURNING id, resource_id)
           INSERT INTO webhook_deliveries (id, endpoint_id, event_id, partner_id, mode, event_type, resource_id, sequence, status, next_attempt_at, created_at, updated_at)
           SELECT 'dlv_bench' || $6 || '_' || w.n || '_' || e.id, w.id, e.id, $1, 'test', 'customer.created', e.resource_id, 1, 'PENDING', now(), now(), now()
           FROM e CROSS JOIN unnest($5::text[]) WITH ORDINALITY AS w(id, n)`,
          [tenant.partnerId, team, perEndpoint, endpoints, ids, String(Date.now())],
        )
        await tx.query(`SELECT pg_notify('tvb_webhook_deliveries', '')`)
      })
      const written = performance.now()
      await waitFor(() => rs.reduce((n, r) => n + r.count, 0) >= total, 300_000)
      const seconds = (performance.now() - written) / 1000
      console.log(
        `${endpoints} endpoint${endpoints > 1 ? 's' : ''}: ${total.toLocaleString('en')} deliveries in ${seconds.toFixed(1)} s → ${Math.round(total / seconds)} deliveries/s ` +
          `(target ≥ 1,000 ${total / seconds >= 1000 ? '✓' : '✗'}); writing the backlog took ${Math.round(written - t0)} ms`,
      )
      await db.query('UPDATE webhook_endpoints SET enabled = false WHERE id = ANY($1)', [ids])
    }

    // latency at light load: one event at a time through the real outbox write, 20 a second
    const r = await receiver()
    receivers.push(r)
    await addEndpoints(db, tenant.partnerId, team, [r.url])
    const latencies: number[] = []
    for (let i = 0; i < 200; i++) {
      const id = await db.transaction((tx) =>
        recordEvent(tx, { partnerId: tenant.partnerId, teamId: team, mode: 'test', type: 'customer.created', resourceType: 'customer', resourceId: `cus_lat_${i}_${Date.now()}`, sequence: 1, data: { id: `cus_lat_${i}` }, now: new Date() }),
      )
      const committed = performance.now()
      await waitFor(() => r.arrivals.has(id), 10_000)
      latencies.push(r.arrivals.get(id)! - committed)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    latencies.sort((a, b) => a - b)
    const p50 = median(latencies)
    const p99 = latencies[Math.floor(latencies.length * 0.99) - 1]!
    console.log(`commit → receiver, 200 events one at a time: p50 ${p50.toFixed(1)} ms (target ≤ 50 ${p50 <= 50 ? '✓' : '✗'}), p99 ${p99.toFixed(1)} ms (target ≤ 250 ${p99 <= 250 ? '✓' : '✗'})`)
  } finally {
    await server.stop()
    for (const r of receivers) await r.close()
  }

  // the fan-out's cost on writes: POST /v1/bookings with 10 subscribed endpoints vs none
  const writer = await startServer({ DATABASE_URL: env.databaseUrl })
  try {
    const token = await createToken(db, tenant.userId)
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    let n = 0
    const base = Date.parse('2029-01-01T00:00:00Z')
    const creates = () =>
      load({
        url: `${writer.url}/v1/bookings`,
        method: 'POST',
        duration: env.duration,
        connections: 16,
        headers,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const i = n++
              const listing = tenant.listingIds[i % tenant.listingIds.length]!
              const day = new Date(base + Math.floor(i / tenant.listingIds.length) * 2 * 86_400_000).toISOString().slice(0, 10)
              const out = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10)
              return { ...req, body: JSON.stringify({ listing_id: listing, customer_id: tenant.customerIds[0], check_in: day, check_out: out, guests: 2 }) }
            },
          },
        ],
      })
    await db.query('UPDATE webhook_endpoints SET enabled = false WHERE partner_id = $1', [tenant.partnerId])
    const none = await creates()
    await addEndpoints(db, tenant.partnerId, team, Array.from({ length: 10 }, (_, i) => `https://hooks${i}.example.com/travobooks`))
    const ten = await creates()
    console.log(
      `POST /v1/bookings: ${none.rps} creates/s with no endpoint, ${ten.rps} with 10 subscribed endpoints → ${ratio(ten.rps, none.rps)} ` +
        `(target ≥ 0.9 ${ten.rps >= 0.9 * none.rps ? '✓' : '✗'}); non-2xx ${none.non2xx} / ${ten.non2xx}`,
    )
  } finally {
    await writer.stop()
    await db.query('DELETE FROM webhook_endpoints WHERE partner_id = $1', [tenant.partnerId])
    await tenant.drop(db)
    await db.close()
  }
}
