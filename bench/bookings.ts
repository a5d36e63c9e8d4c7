import { execFileSync } from 'node:child_process'
import { bindingOf, CursorCodec } from '../src/platform/cursor.ts'
import { insertPartner, insertTeam, insertUser } from '../src/modules/partners/repository.ts'
import { TokenService } from '../src/modules/tokens/service.ts'
import { systemClock } from '../src/platform/clock.ts'
import { openDb } from '../src/platform/db.ts'
import type { Db } from '../src/platform/db.ts'
import { migrate } from '../src/platform/migrate.ts'
import { BUCKETS } from '../src/modules/limits/buckets.ts'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import { load, ratio, row, startProcess, warm } from './lib.ts'

/** Load runs far beyond the per-minute limits; the limiter still runs (and is measured), it just never refuses. */
export async function unlimited(db: Db, partnerId: string): Promise<void> {
  for (const bucket of BUCKETS) await setPartnerLimit(db, partnerId, bucket, 1_000_000)
}

const W = [40, 9, 8, 8, 8]

interface Dataset {
  partnerId: string
  teamId: string
  token: string
  listingIds: string[]
  customerId: string
  sampleBookingId: string
}

/** One tenant with `listings` listings and `bookings` bookings, inserted by SQL (CANCELLED, so stays may overlap). */
async function seed(db: Db, listings: number, bookings: number): Promise<Dataset> {
  await migrate(db)
  const now = new Date()
  const partner = await insertPartner(db, 'Bench bookings partner', now)
  const team = await insertTeam(db, partner.id, 'Bench team', now)
  const user = await insertUser(db, { partnerId: partner.id, email: `bench-bookings-${Date.now()}@bench.example`, name: 'Bench', role: 'OWNER', teamIds: [team.id] }, now)
  await unlimited(db, partner.id)
  const token = await new TokenService({ db, clock: systemClock, onTokenChanged: () => {} }).create(user.id, 'test', { name: 'bench' }, null)
  const p = partner.id.slice(4, 14)
  await db.query(
    `INSERT INTO listings (id, partner_id, team_id, mode, name, state, country_code, province_code, city, line1, max_guests, bedrooms, nightly_rate_minor, currency, timezone, created_at, updated_at)
     SELECT 'lst_b' || $3 || lpad(i::text, 7, '0'), $1, $2, 'test', 'Bench villa ' || i, 'ACTIVE', 'VN', 'SG', 'HCMC', i || ' Le Loi', 4, 2, 10000, 'USD', 'Asia/Ho_Chi_Minh', now(), now()
     FROM generate_series(1, $4) AS i`,
    [partner.id, team.id, p, listings],
  )
  const customerId = `cus_b${p}0000001`
  await db.query(`INSERT INTO customers (id, partner_id, team_id, mode, name, created_at, updated_at) VALUES ($1, $2, $3, 'test', 'Bench guest', now(), now())`, [customerId, partner.id, team.id])
  const batch = 200_000
  for (let start = 1; start <= bookings; start += batch) {
    await db.query(
      `INSERT INTO bookings (id, partner_id, team_id, mode, listing_id, customer_id, status, check_in, check_out, guests, nights, nightly_rate_minor, total_minor, currency,
         hold_expires_at, cancelled_at, cancellation_reason, created_at, updated_at)
       SELECT 'bkg_b' || $3 || lpad(i::text, 8, '0'), $1, $2, 'test', 'lst_b' || $3 || lpad((1 + i % $4)::text, 7, '0'), $5, 'CANCELLED',
         date '2027-01-01' + (i % 300), date '2027-01-03' + (i % 300), 2, 2, 10000, 20000, 'USD',
         now() - interval '30 days', now() - interval '29 days', 'bench', now() - (i * interval '1 second'), now() - (i * interval '1 second')
       FROM generate_series($6::int, $7::int) AS i`,
      [partner.id, team.id, p, listings, customerId, start, Math.min(bookings, start + batch - 1)],
    )
  }
  await db.query('ANALYZE bookings')
  const listingIds = (await db.query<{ id: string }>('SELECT id FROM listings WHERE team_id = $1 ORDER BY id', [team.id])).rows.map((r) => r.id)
  return { partnerId: partner.id, teamId: team.id, token: token.secret, listingIds, customerId, sampleBookingId: `bkg_b${p}${String(Math.ceil(bookings / 2)).padStart(8, '0')}` }
}

/** A cursor for the page after the row at `offset` in -created_at order, signed as the server would. */
async function deepCursor(db: Db, data: Dataset, offset: number): Promise<{ cursor: string; created: string; id: string }> {
  const key = (await db.query<{ value: string }>(`SELECT value FROM server_secrets WHERE name = 'cursor_signing_key'`)).rows[0]!.value
  const { rows } = await db.query<{ k: string; id: string }>(
    `SELECT created_at::text AS k, id FROM bookings WHERE team_id = $1 AND mode = 'test' ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`,
    [data.teamId, offset],
  )
  // the binding the bookings list computes for no filters and the default sort (see planList)
  const binding = bindingOf(['bookings', data.partnerId, 'test', [data.teamId], {}, '-created_at'])
  return { cursor: new CursorCodec(key).encode({ key: rows[0]!.k, id: rows[0]!.id }, binding), created: rows[0]!.k, id: rows[0]!.id }
}

function pgbenchTps(databaseUrl: string, seconds: number): number {
  execFileSync('pgbench', ['-i', '-s', '1', '-q', databaseUrl], { stdio: 'ignore' })
  const out = execFileSync('pgbench', ['-c', '8', '-j', '2', '-T', String(seconds), databaseUrl], { encoding: 'utf8' })
  execFileSync('pgbench', ['-i', '-I', 'd', databaseUrl], { stdio: 'ignore' })
  return Math.round(Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 0))
}

export async function bookingsBench(databaseUrl: string, duration: number, serverArgs: string[]): Promise<void> {
  const size = Number(process.env.BENCH_BOOKINGS ?? 1_000_000)
  process.stdout.write(`\n== Bookings on PostgreSQL, ${size.toLocaleString('en')} bookings seeded by SQL; baselines: bare Fastify + pg routes, same queries, no auth/tenancy/limits\n`)
  const db = await openDb({ databaseUrl })
  const t0 = performance.now()
  const data = await seed(db, 1000, size)
  console.log(`seeded in ${Math.round((performance.now() - t0) / 1000)} s`)
  const headers = { authorization: `Bearer ${data.token}` }
  const server = await startProcess('node', serverArgs, { DATABASE_URL: databaseUrl, SEED_DEMO: 'false', HOLD_SWEEP_SECONDS: '0' }, '/healthz', 60_000, 'ignore')
  const bare = await startProcess('node', ['--import', 'tsx', 'bench/bare-server.ts'], { DATABASE_URL: databaseUrl }, '/bare')
  try {
    const one = `/v1/bookings/${data.sampleBookingId}`
    const check = await fetch(server.url + one, { headers })
    if (check.status !== 200) throw new Error(`GET ${one} → ${check.status} ${await check.text()}`)
    console.log(row(['', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'], W))
    const pairs: [string, string, Record<string, string> | undefined][] = [
      ['GET /v1/bookings/{id}', server.url + one, headers],
      ['  bare: same row through pg', `${bare.url}/bare/bookings/${data.sampleBookingId}`, undefined],
      ['GET /v1/bookings?limit=50', `${server.url}/v1/bookings?limit=50`, headers],
      ['  bare: 50-row keyset page', `${bare.url}/bare/bookings?team=${data.teamId}`, undefined],
    ]
    const results: Record<string, Awaited<ReturnType<typeof load>>> = {}
    for (const [name, url, h] of pairs) {
      await warm(url, h)
      results[name] = await load({ url, headers: h, duration })
      const r = results[name]!
      console.log(row([name, r.rps, r.p50, r.p99, r.non2xx], W))
    }
    const a = results['GET /v1/bookings/{id}']!
    const b = results['  bare: same row through pg']!
    const c = results['GET /v1/bookings?limit=50']!
    const d = results['  bare: 50-row keyset page']!
    console.log(`single booking: ours/bare req/s ${ratio(a.rps, b.rps)} (target ≥ 0.70), p99 ours/bare ${ratio(a.p99, b.p99)} (target ≤ 1.5)`)
    console.log(`50-row page:    ours/bare req/s ${ratio(c.rps, d.rps)} (target ≥ 0.70), p99 ours/bare ${ratio(c.p99, d.p99)} (target ≤ 1.5)`)

    // deep page: the last pages of the walk against the first
    const deep = await deepCursor(db, data, size - 60)
    const deepUrl = `${server.url}/v1/bookings?limit=50&cursor=${encodeURIComponent(deep.cursor)}`
    const deepCheck = await fetch(deepUrl, { headers })
    if (deepCheck.status !== 200) throw new Error(`deep page → ${deepCheck.status} ${await deepCheck.text()}`)
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
              const body = JSON.stringify({ listing_id: listing, customer_id: data.customerId, check_in: day, check_out: out, guests: 2 })
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
    const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
    const withRedis = await startProcess('node', serverArgs, { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, SEED_DEMO: 'false', HOLD_SWEEP_SECONDS: '0' }, '/healthz', 60_000, 'ignore')
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
    await db.query('DELETE FROM events WHERE partner_id = $1', [data.partnerId])
    await db.query('DELETE FROM bookings WHERE partner_id = $1', [data.partnerId])
    await db.close()
  }
}
