/**
 * npm run bench -- lists: GET /v1/bookings?limit=50 for tokens of 1, 2 and 20 teams of one
 * partner, first page and a page at the far end of each token's walk, against a bare Fastify + pg
 * route serving the same keyset page of ONE team (WHERE team_id = $ AND mode = $ ORDER BY
 * created_at DESC, id DESC LIMIT 51).
 */
import { openDb } from '../src/platform/db.ts'
import type { BenchEnv, LoadResult } from './lib.ts'
import { against, expect200, heading, measure, row, startBare, startServer } from './lib.ts'
import { bookingsCursorAt, createToken, seedTenant } from './seed.ts'
import type { Tenant } from './seed.ts'

const TEAMS = 20
/** The rows left after a deep page's cursor: a full page of 50, and more after it. */
const TAIL = 60

/** The lists dataset: BENCH_BOOKINGS (default 1,000,000) CANCELLED bookings over 20 teams of one partner. */
export async function seedManyTeams(env: BenchEnv, bookings: number): Promise<Tenant> {
  const db = await openDb({ databaseUrl: env.databaseUrl })
  try {
    const t0 = performance.now()
    const tenant = await seedTenant(db, { name: 'Bench lists partner', teams: TEAMS, listings: 1000, bookings })
    console.log(`seeded ${bookings.toLocaleString('en')} bookings over ${TEAMS} teams in ${Math.round((performance.now() - t0) / 1000)} s`)
    return tenant
  } finally {
    await db.close()
  }
}

const W = [30, 8, 8, 8, 12, 12, 12, 12]

export async function listsBench(env: BenchEnv, tenant: Tenant): Promise<void> {
  heading(
    `GET /v1/bookings?limit=50, ${tenant.bookings.toLocaleString('en')} bookings over ${TEAMS} teams of one partner, tokens of 1, 2 and ${TEAMS} teams, ` +
      `first page and a deep page (cursor ${TAIL} rows before the end of the token's walk) — PostgreSQL, ${env.duration}s, 32 connections; ` +
      `baseline: a bare Fastify + pg route, the same keyset page of ONE team`,
  )
  const db = await openDb({ databaseUrl: env.databaseUrl })
  const server = await startServer({ DATABASE_URL: env.databaseUrl })
  const bare = await startBare({ DATABASE_URL: env.databaseUrl })
  try {
    const one = tenant.teamIds.slice(0, 1)
    const oneTeamRows = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE team_id = $1 AND mode = 'test'`, [one[0]])).rows[0]!.n
    const bareAnchor = await bookingsCursorAt(db, tenant.partnerId, one, oneTeamRows - TAIL)
    const bareFirst = `${bare.url}/bare/bookings?team=${one[0]}`
    const bareDeep = `${bareFirst}&before_created=${encodeURIComponent(bareAnchor.created)}&before_id=${bareAnchor.id}`
    const baseline = { first: await measure(bareFirst, { duration: env.duration }), deep: await measure(bareDeep, { duration: env.duration }) }

    console.log(row(['', 'req/s', 'p50 ms', 'p99 ms', 'req/s ÷bare', 'p50 ÷bare', 'p99 ÷bare', 'p50 ÷1-team'], W))
    console.log(row(['  bare, 1 team, first page', baseline.first.rps, baseline.first.p50, baseline.first.p99], W))
    console.log(row([`  bare, 1 team, deep (${(oneTeamRows - TAIL).toLocaleString('en')})`, baseline.deep.rps, baseline.deep.p50, baseline.deep.p99], W))
    let oneTeamFirst: LoadResult | undefined
    for (const teamIds of [one, tenant.teamIds.slice(0, 2), tenant.teamIds]) {
      const headers = { authorization: `Bearer ${await createToken(db, tenant.userId, teamIds)}` }
      const visible = teamIds.length === TEAMS ? tenant.bookings : (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE team_id = ANY($1) AND mode = 'test'`, [teamIds])).rows[0]!.n
      const deep = await bookingsCursorAt(db, tenant.partnerId, teamIds, visible - TAIL)
      const pages: [string, string, LoadResult][] = [
        ['first', `${server.url}/v1/bookings?limit=50`, baseline.first],
        [`deep (${(visible - TAIL).toLocaleString('en')})`, `${server.url}/v1/bookings?limit=50&cursor=${encodeURIComponent(deep.cursor)}`, baseline.deep],
      ]
      for (const [page, url, bareResult] of pages) {
        const body = JSON.parse(await expect200(url, headers)) as { data: unknown[]; pagination: { has_more: boolean } }
        if (body.data.length !== 50 || !body.pagination.has_more) throw new Error(`${url}: ${body.data.length} rows, has_more ${body.pagination.has_more}`)
        const r = await measure(url, { headers, duration: env.duration })
        oneTeamFirst ??= r
        console.log(
          row(
            [
              `${teamIds.length} team${teamIds.length > 1 ? 's' : ''}, ${page}`,
              r.rps,
              r.p50,
              r.p99,
              against(r.rps, bareResult.rps, { min: 0.7 }),
              against(r.p50, bareResult.p50, { max: 1 / 0.7 }),
              against(r.p99, bareResult.p99, { max: 1 / 0.7 }),
              against(r.p50, oneTeamFirst.p50, { max: 1.5 }),
            ],
            W,
          ),
        )
      }
    }
    console.log(`targets: every figure ≥ 0.7 of the bare one-team route (req/s ÷bare ≥ 0.70, latency ÷bare ≤ 1.43), and every page's p50 ≤ 1.5× the 1-team first page's`)
  } finally {
    await bare.stop()
    await server.stop()
    await db.close()
  }
}
