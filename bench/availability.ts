/**
 * npm run bench -- availability: GET /v1/availability on a partner with 1,000 listings and
 * 200,000 bookings (BENCH_AVAILABILITY_BOOKINGS) against a bare Fastify + pg route running the
 * same search SQL (searchAvailable from src, same arguments). Prints the plan's timing too
 * (EXPLAIN ANALYZE of the very statement; BENCH_EXPLAIN=1 prints the whole plan).
 */
import pg from 'pg'
import { searchAvailable } from '../src/modules/listings/repository.ts'
import type { Queryable } from '../src/platform/db.ts'
import { openDb } from '../src/platform/db.ts'
import type { BenchEnv } from './lib.ts'
import { against, expect200, heading, measure, row, startBare, startServer } from './lib.ts'
import { createToken, seedTenant } from './seed.ts'

// a stay inside the seeded calendar: 3 in 7 listings are free for it (see SeedOptions.pattern)
const STAY = { check_in: '2028-12-01', check_out: '2028-12-04', guests: 2 }
const W = [36, 8, 8, 8, 8]

/** The statement and parameters searchAvailable sends for the server's first page, without running it. */
async function searchStatement(partnerId: string, teamId: string): Promise<{ sql: string; params: unknown[] }> {
  let sent: { sql: string; params: unknown[] } | undefined
  const capture: Queryable = {
    query: async (sql, params) => {
      sent = { sql, params: [...(params ?? [])] }
      return { rows: [], rowCount: 0 }
    },
  }
  const plan = { limit: 20, column: 'l.created_at', type: 'timestamptz', desc: false, after: null, binding: '', fields: null }
  await searchAvailable(capture, { partnerId, mode: 'test', teamIds: [teamId] }, STAY, plan, new Date())
  return sent!
}

/** EXPLAIN (ANALYZE, BUFFERS) of the search, run 5 times: the median execution time and the plan of the last run. */
async function explain(databaseUrl: string, statement: { sql: string; params: unknown[] }): Promise<{ medianMs: number; plan: string[] }> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const times: number[] = []
    let plan: string[] = []
    for (let i = 0; i < 5; i++) {
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`, statement.params)
      plan = rows.map((r) => r['QUERY PLAN'])
      times.push(Number(/Execution Time: ([\d.]+)/.exec(plan.join('\n'))?.[1] ?? NaN))
    }
    times.sort((a, b) => a - b)
    return { medianMs: times[2]!, plan }
  } finally {
    await client.end()
  }
}

export async function availabilityBench(env: BenchEnv): Promise<void> {
  const bookings = Number(process.env.BENCH_AVAILABILITY_BOOKINGS ?? 200_000)
  heading(
    `GET /v1/availability (${STAY.check_in}→${STAY.check_out}, guests=${STAY.guests}, limit 20), 1,000 listings, ${bookings.toLocaleString('en')} bookings, one team — ` +
      `PostgreSQL, ${env.duration}s, 32 connections; baseline: a bare Fastify + pg route running the same search SQL`,
  )
  const db = await openDb({ databaseUrl: env.databaseUrl })
  const t0 = performance.now()
  const tenant = await seedTenant(db, { name: 'Bench availability partner', teams: 1, listings: 1000, bookings, pattern: 'calendar' })
  const teamId = tenant.teamIds[0]!
  const token = await createToken(db, tenant.userId)
  console.log(`seeded in ${Math.round((performance.now() - t0) / 1000)} s`)
  const server = await startServer({ DATABASE_URL: env.databaseUrl })
  const bare = await startBare({ DATABASE_URL: env.databaseUrl })
  try {
    const search = new URLSearchParams({ check_in: STAY.check_in, check_out: STAY.check_out, guests: String(STAY.guests) })
    const ours = `${server.url}/v1/availability?${search}`
    const theirs = `${bare.url}/bare/availability?${search}&partner=${tenant.partnerId}&team=${teamId}`
    const headers = { authorization: `Bearer ${token}` }
    const found = (JSON.parse(await expect200(ours, headers)) as { data: unknown[] }).data.length
    const bareFound = (JSON.parse(await expect200(theirs)) as { data: unknown[] }).data.length
    if (found !== 20 || bareFound !== 20) throw new Error(`expected a full page of 20: ours ${found}, bare ${bareFound}`)
    const b = await measure(theirs, { duration: env.duration })
    const a = await measure(ours, { headers, duration: env.duration })
    console.log(row(['', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'], W))
    console.log(row(['GET /v1/availability', a.rps, a.p50, a.p99, a.non2xx], W))
    console.log(row(['  bare: searchAvailable through pg', b.rps, b.p50, b.p99, b.non2xx], W))
    console.log(`availability: ours/bare req/s ${against(a.rps, b.rps, { min: 0.7 })} (target ≥ 0.70), p50 ${against(a.p50, b.p50, { max: 1 / 0.7 })}, p99 ${against(a.p99, b.p99, { max: 1 / 0.7 })} (target ≤ 1.43)`)

    const { medianMs, plan } = await explain(env.databaseUrl, await searchStatement(tenant.partnerId, teamId))
    console.log(`the search SQL alone (EXPLAIN ANALYZE, median of 5): ${medianMs} ms`)
    if (process.env.BENCH_EXPLAIN) console.log(plan.join('\n'))
  } finally {
    await bare.stop()
    await server.stop()
    await tenant.drop(db)
    await db.close()
  }
}
