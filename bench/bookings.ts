import { execFileSync } from 'node:child_process'
import { openDb } from '../src/platform/db.ts'
import type { BenchEnv, LoadResult, Started } from './lib.ts'
import { expect200, heading, load, measure, ratio, row, startBare, startServer, warm } from './lib.ts'
import { bookingsCursorAt, createToken, seedTenant } from './seed.ts'
import type { Tenant } from './seed.ts'

const W = [40, 9, 8, 8, 8]

/** The bookings seeded for the list benchmarks (BENCH_BOOKINGS). */
export function benchBookings(): number {
  return Number(process.env.BENCH_BOOKINGS ?? 1_000_000)
}

function printRow(name: string, r: LoadResult): void {
  console.log(row([name, r.rps, r.p50, r.p99, r.non2xx], W))
}

/** GET /v1/bookings/{id} against a bare Fastify + pg route reading the same row. */
async function singleBookingVersusBare(server: Started, bare: Started, bookingId: string, headers: Record<string, string>, duration: number): Promise<void> {
  const ours = `${server.url}/v1/bookings/${bookingId}`
  await expect200(ours, headers)
  const a = await measure(ours, { headers, duration })
  const b = await measure(`${bare.url}/bare/bookings/${bookingId}`, { duration })
  console.log(row(['', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'], W))
  printRow('GET /v1/bookings/{id}', a)
  printRow('  bare: same row through pg', b)
  console.log(`single booking: ours/bare req/s ${ratio(a.rps, b.rps)} (target ≥ 0.85 ${a.rps >= 0.85 * b.rps ? '✓' : '✗'}), p99 ours/bare ${ratio(a.p99, b.p99)} (target ≤ 1.5)`)
}

/** npm run bench -- booking: one booking by id, on the many-teams dataset of the lists section. */
export async function bookingBench(env: BenchEnv, tenant: Tenant): Promise<void> {
  heading(`GET /v1/bookings/{id} vs a bare Fastify + pg route for the same row — PostgreSQL, ${tenant.bookings.toLocaleString('en')} bookings, ${env.duration}s, 32 connections`)
  const db = await openDb({ databaseUrl: env.databaseUrl })
  const i = Math.ceil(tenant.bookings / 2)
  const token = await createToken(db, tenant.userId, [tenant.teamIds[tenant.teamOfBooking(i)]!])
  await db.close()
  const server = await startServer({ DATABASE_URL: env.databaseUrl })
  const bare = await startBare({ DATABASE_URL: env.databaseUrl })
  try {
    await singleBookingVersusBare(server, bare, tenant.bookingId(i), { authorization: `Bearer ${token}` }, env.duration)
  } finally {
    await bare.stop()
    await server.stop()
  }
}

function pgbenchTps(databaseUrl: string, seconds: number): number {
  execFileSync('pgbench', ['-i', '-s', '1', '-q', databaseUrl], { stdio: 'ignore' })
  const out = execFileSync('pgbench', ['-c', '8', '-j', '2', '-T', String(seconds), databaseUrl], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  execFileSync('pgbench', ['-i', '-I', 'd', databaseUrl], { stdio: 'ignore' })
  return Math.round(Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 0))
}

/** npm run bench -- bookings: one team of BENCH_BOOKINGS bookings: a booking, pages, creates, the limiter in Redis. */
export async function bookingsBench(env: BenchEnv): Promise<void> {
  const { databaseUrl, duration } = env
  const size = benchBookings()
  heading(`Bookings on PostgreSQL, ${size.toLocaleString('en')} bookings in one team seeded by SQL; baselines: bare Fastify + pg routes, same queries, no auth/tenancy/limits`)
  const db = await openDb({ databaseUrl })
  const t0 = performance.now()
  const data = await seedTenant(db, { name: 'Bench bookings partner', teams: 1, listings: 1000, bookings: size })
  const teamId = data.teamIds[0]!
  const token = await createToken(db, data.userId)
  console.log(`seeded in ${Math.round((performance.now() - t0) / 1000)} s`)
  const headers = { authorization: `Bearer ${token}` }
  const server = await startServer({ DATABASE_URL: databaseUrl })
  const bare = await startBare({ DATABASE_URL: databaseUrl })
  try {
    const sampleId = data.bookingId(Math.ceil(size / 2))
    await singleBookingVersusBare(server, bare, sampleId, headers, duration)
    const c = await measure(`${server.url}/v1/bookings?limit=50`, { headers, duration })
    const d = await measure(`${bare.url}/bare/bookings?team=${teamId}`, { duration })
    printRow('GET /v1/bookings?limit=50', c)
    printRow('  bare: 50-row keyset page', d)
    console.log(`50-row page:    ours/bare req/s ${ratio(c.rps, d.rps)} (target ≥ 0.70), p99 ours/bare ${ratio(c.p99, d.p99)} (target ≤ 1.5)`)

    // deep page: the last pages of the walk against the first
    const deep = await bookingsCursorAt(db, data.partnerId, data.teamIds, size - 60)
    const deepUrl = `${server.url}/v1/bookings?limit=50&cursor=${encodeURIComponent(deep.cursor)}`
    await expect200(deepUrl, headers)
    const first = await load({ url: `${server.url}/v1/bookings?limit=50`, headers, duration: Math.max(3, duration / 2), connections: 8 })
    const last = await load({ url: deepUrl, headers, duration: Math.max(3, duration / 2), connections: 8 })
    console.log(`deep page (row ${(size - 60).toLocaleString('en')} of ${size.toLocaleString('en')}): p50 ${last.p50} ms vs first page p50 ${first.p50} ms → ${ratio(last.p50, first.p50)} (target ≤ 1.5); req/s ${last.rps} vs ${first.rps}`)

    // creates: distinct listings, distinct nights, against pgbench's TPC-B on the same database
    let n = 0
    const base = Date.parse('2028-01-01T00:00:00Z')
    const createRun = (url: string, withKey: boolean, tag: number) =>
      load({
        url: `${url}/v1/bookings`,
        method: 'POST',
        duration,
        connections: 16,
        headers: { ...headers, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const i = n++
              const listing = data.listingIds[i % data.listingIds.length]!
              const day = new Date(base + Math.floor(i / data.listingIds.length) * 2 * 86_400_000).toISOString().slice(0, 10)
              const out = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10)
              const body = JSON.stringify({ listing_id: listing, customer_id: data.customerIds[0], check_in: day, check_out: out, guests: 2 })
              return { ...req, body, headers: { ...req.headers, ...(withKey ? { 'idempotency-key': `bench-${tag}-${i}` } : {}) } }
            },
          },
        ],
      })
    const created = await createRun(server.url, false, 0)
    const tps = pgbenchTps(databaseUrl, duration)
    console.log(`POST /v1/bookings (distinct listings): ${created.rps} creates/s, p99 ${created.p99} ms, non-2xx ${created.non2xx}; pgbench TPC-B (8 clients): ${tps} TPS → ${ratio(created.rps, tps)} (target ≥ 0.40)`)
    const keyed = await createRun(server.url, true, Date.now())
    console.log(`POST /v1/bookings with an Idempotency-Key: ${keyed.rps} creates/s, p99 ${keyed.p99} ms, non-2xx ${keyed.non2xx} → ${ratio(keyed.rps, created.rps)} of without`)

    // the limiter's cost: the same GET with the counts in Redis instead of memory
    const one = `/v1/bookings/${sampleId}`
    const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
    const withRedis = await startServer({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl })
    try {
      await warm(withRedis.url + one, headers)
      const memory = await load({ url: server.url + one, headers, duration })
      const redis = await load({ url: withRedis.url + one, headers, duration })
      const slower = memory.rps === 0 ? 'n/a' : `${Math.round((1 - redis.rps / memory.rps) * 100)} %`
      console.log(`GET /v1/bookings/{id}: limits in memory ${memory.rps} req/s p99 ${memory.p99} ms; in Redis ${redis.rps} req/s p99 ${redis.p99} ms → ${slower} slower (target ≤ 15 %)`)
    } finally {
      await withRedis.stop()
    }
  } finally {
    await bare.stop()
    await server.stop()
    await data.drop(db)
    await db.close()
  }
}
