/**
 * npm run bench -- external: the External API's page/limit lists with their exact `total`, on
 * PostgreSQL, a database of its own (created, migrated and dropped here), one team with 1,000,000
 * bookings seeded by SQL. Each page 1 of GET /api/v1/external/bookings is loaded against the /v1
 * cursor page it extends (GET /v1/bookings?limit=20: no total), the server in its own process.
 * Target: unfiltered and state=CONFIRMED (totals read from list_counts, migration 0009) cost at
 * most 2× the v1 page, as req/s (v1 ÷ external ≤ 2). The other filters count their rows live:
 * their figures are printed without a target.
 */
import { openDb } from '../src/platform/db.ts'
import type { BenchEnv, LoadResult } from './lib.ts'
import { expect200, heading, measure, row, scratchDatabase, startServer } from './lib.ts'
import { createToken, seedTenant } from './seed.ts'

const BOOKINGS = 1_000_000
const LISTINGS = 1000
/** Bookings moved to a second customer: a typical customer's history, for user_id=. */
const SMALL_CUSTOMER_BOOKINGS = 100
const W = [58, 9, 8, 8, 9, 22]

export async function externalBench(env: BenchEnv): Promise<void> {
  heading(
    `GET /api/v1/external/bookings page 1 with total vs GET /v1/bookings?limit=20 (cursor, no total), one team with ${BOOKINGS.toLocaleString('en')} bookings — ` +
      `PostgreSQL, a database of its own, ${env.duration}s each, 32 connections`,
  )
  const scratch = await scratchDatabase(env, 'tvb_bench_external')
  try {
    const db = await openDb({ databaseUrl: scratch.url, poolSize: 2 })
    let token: string
    let teamId: string
    let everyone: string
    let small: string
    try {
      const t0 = performance.now()
      // 9 in 10 CONFIRMED, the rest CANCELLED; booking i made i seconds ago
      const tenant = await seedTenant(db, { name: 'Bench external partner', teams: 1, listings: LISTINGS, bookings: BOOKINGS, pattern: 'calendar' })
      teamId = tenant.teamIds[0]!
      everyone = tenant.customerIds[0]!
      small = `cus_bx${tenant.partnerId.slice(4, 14)}`
      await db.query(`INSERT INTO customers (id, partner_id, team_id, mode, name, created_at, updated_at) VALUES ($1, $2, $3, 'test', 'Bench small guest', now(), now())`, [small, tenant.partnerId, teamId])
      await db.query(`UPDATE bookings SET customer_id = $1 WHERE id IN (SELECT id FROM bookings WHERE team_id = $2 ORDER BY created_at DESC LIMIT $3)`, [small, teamId, SMALL_CUSTOMER_BOOKINGS])
      // as autovacuum leaves a table at rest: statistics, and the visibility map index-only counts rely on
      await db.query('VACUUM ANALYZE bookings')
      token = await createToken(db, tenant.userId)
      const { rows } = await db.query<{ n: string }>(`SELECT sum(n) AS n FROM list_counts WHERE resource = 'bookings' AND team_id = $1`, [teamId])
      console.log(`seeded ${BOOKINGS.toLocaleString('en')} bookings (SQL, counts kept by the triggers: list_counts says ${Number(rows[0]?.n).toLocaleString('en')}) in ${Math.round((performance.now() - t0) / 1000)} s`)
    } finally {
      await db.close()
    }
    const server = await startServer({ DATABASE_URL: scratch.url })
    try {
      const headers = { authorization: `Bearer ${token}` }
      const X = `${server.url}/api/v1/external/bookings`
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString()
      const dayAgo = new Date(Date.now() - 86_400_000).toISOString()
      const cases: { label: string; url: string; target: boolean }[] = [
        { label: 'unfiltered (total from list_counts)', url: `${X}?limit=20`, target: true },
        { label: 'state=CONFIRMED (total from list_counts)', url: `${X}?limit=20&state=CONFIRMED`, target: true },
        { label: 'team_ids=["team_…"] (total from list_counts)', url: `${X}?limit=20&team_ids=${encodeURIComponent(JSON.stringify([teamId]))}`, target: true },
        { label: `user_id= (${SMALL_CUSTOMER_BOOKINGS} bookings, counted live)`, url: `${X}?limit=20&user_id=${small}`, target: false },
        { label: `user_id= (${(BOOKINGS - SMALL_CUSTOMER_BOOKINGS).toLocaleString('en')} bookings, counted live)`, url: `${X}?limit=20&user_id=${everyone}`, target: false },
        { label: 'created_after= an hour ago (3,600, counted live)', url: `${X}?limit=20&created_after=${encodeURIComponent(hourAgo)}`, target: false },
        { label: 'created_after= a day ago (86,400, counted live)', url: `${X}?limit=20&created_after=${encodeURIComponent(dayAgo)}`, target: false },
      ]
      const v1Url = `${server.url}/v1/bookings?limit=20`
      await expect200(v1Url, headers)
      for (const c of cases) {
        const body = JSON.parse(await expect200(c.url, headers)) as { total: number; items: unknown[] }
        if (body.items.length !== 20) throw new Error(`${c.url}: ${body.items.length} items, expected a full page`)
        c.label += `, total ${body.total.toLocaleString('en')}`
      }
      const v1 = await measure(v1Url, { headers, duration: env.duration })
      console.log(row(['', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'cost ÷ v1 (target ≤ 2)'], W))
      console.log(row(['GET /v1/bookings?limit=20 (cursor page 1, no total)', v1.rps, v1.p50, v1.p99, v1.non2xx, '1.00'], W))
      for (const c of cases) {
        const r: LoadResult = await measure(c.url, { headers, duration: env.duration })
        // cost as time per request at full load: v1 req/s ÷ these req/s
        const cost = r.rps === 0 ? Infinity : v1.rps / r.rps
        const verdict = c.target ? (cost <= 2 ? ' ✓' : ' ✗') : ' (no target)'
        console.log(row([c.label, r.rps, r.p50, r.p99, r.non2xx + r.errors, `${cost.toFixed(2)}${verdict}`], W))
      }
    } finally {
      await server.stop()
    }
  } finally {
    await scratch.drop()
  }
}
