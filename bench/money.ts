/**
 * npm run bench -- payments reports: money on PostgreSQL, each section on a database of its own
 * (created, migrated and dropped by the section), so its data never skews the shared test
 * database's planner statistics.
 * - payments: POST /v1/payments (a fresh Idempotency-Key each) spread over 1,000 OPEN invoices,
 *   against pgbench TPC-B on a scratch database of the same server (target ≥ 0.35); then all of
 *   them on one invoice (the row lock every payment of an invoice queues on), and a check that
 *   each invoice's amount_paid is the sum of its succeeded payments;
 * - reports: 1,000,000 bookings over 1,000 listings seeded by SQL; each report by month over 366
 *   days against the bare aggregate it wraps (reportSql from src, same arguments; target ≤ 1.5×),
 *   and the server's RSS while it streams occupancy by listing by day as CSV (366,000 rows;
 *   target: peak ≤ idle + 50 MiB).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import pg from 'pg'
import { planPeriods } from '../src/modules/reports/periods.ts'
import { reportSql } from '../src/modules/reports/repository.ts'
import type { ReportSqlEntity } from '../src/modules/reports/repository.ts'
import type { ReportType } from '../src/modules/reports/schemas.ts'
import { openDb } from '../src/platform/db.ts'
import type { Scope } from '../src/platform/keyset.ts'
import type { BenchEnv, LoadResult } from './lib.ts'
import { against, heading, load, median, metric, ratio, row, scratchDatabase, startServer } from './lib.ts'
import { createToken, seedTenant } from './seed.ts'
import type { Tenant } from './seed.ts'

const PGBENCH = '/usr/bin/pgbench'

/** CPU time a process has used so far, user and system (the kernel's side of its sockets), in seconds. */
function cpuSeconds(pid: number): { user: number; system: number } {
  // after the command name, which may hold spaces: utime and stime are the 12th and 13th fields (clock ticks of 1/100 s)
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ')
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }
}

/** The server's resident set now (VmRSS), in MiB. */
function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  return kb / 1024
}

// ---- payments ----------------------------------------------------------------------------------

const INVOICES = 1000
const W = [44, 10, 8, 8, 8]

/** pgbench TPC-B (its default script), 32 clients, on a scratch database: transactions/s, or null without pgbench. */
async function pgbenchTps(env: BenchEnv): Promise<number | null> {
  if (!existsSync(PGBENCH)) return null
  const scratch = await scratchDatabase(env, 'tvb_bench_pgbench')
  try {
    execFileSync(PGBENCH, ['-i', '-s', '1', '-q', scratch.url], { stdio: 'ignore' })
    const out = execFileSync(PGBENCH, ['-c', '32', '-j', '2', '-T', String(env.duration), scratch.url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const tps = /tps = ([\d.]+)/.exec(out)?.[1]
    if (!tps) throw new Error(`no "tps = …" in pgbench's output:\n${out}`)
    return Math.round(Number(tps))
  } finally {
    await scratch.drop()
  }
}

/** OPEN invoices of one customer, made through the API (8 at a time), each far larger than the bench can pay. */
async function createInvoices(url: string, headers: Record<string, string>, customerId: string, count: number): Promise<string[]> {
  const ids: string[] = []
  const body = JSON.stringify({ customer_id: customerId, line_items: [{ description: 'Bench stay', quantity: 1, unit_amount: { amount: '100000000.00', currency: 'USD' } }] })
  for (let start = 0; start < count; start += 8) {
    const batch = Array.from({ length: Math.min(8, count - start) }, async () => {
      const res = await fetch(`${url}/v1/invoices`, { method: 'POST', headers, body })
      const text = await res.text()
      if (res.status !== 201) throw new Error(`POST /v1/invoices → ${res.status} ${text.slice(0, 500)}`)
      return (JSON.parse(text) as { id: string }).id
    })
    ids.push(...(await Promise.all(batch)))
  }
  return ids
}

/** POST /v1/payments of 1.00 USD, 32 connections, round-robin over the invoices, a fresh Idempotency-Key each. */
function payments(url: string, headers: Record<string, string>, invoiceIds: string[], duration: number): Promise<LoadResult> {
  let n = 0
  const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  return load({
    url: `${url}/v1/payments`,
    method: 'POST',
    duration,
    connections: 32,
    headers,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const i = n++
          const body = JSON.stringify({ invoice_id: invoiceIds[i % invoiceIds.length], amount: { amount: '1.00', currency: 'USD' }, method: 'CARD' })
          return { ...req, headers: { ...req.headers, 'idempotency-key': `bench-${run}-${i}` }, body }
        },
      },
    ],
  })
}

export async function paymentsBench(env: BenchEnv): Promise<void> {
  heading(
    `POST /v1/payments (a fresh Idempotency-Key each, 1.00 USD) over ${INVOICES.toLocaleString('en')} OPEN invoices vs pgbench TPC-B (-c 32 -j 2, scale 1) — ` +
      `PostgreSQL, each on a database of its own, ${env.duration}s, 32 connections`,
  )
  const tps = await pgbenchTps(env)
  if (tps === null) console.log(`pgbench baseline unavailable: no ${PGBENCH}`)
  const scratch = await scratchDatabase(env, 'tvb_bench_payments')
  try {
    const db = await openDb({ databaseUrl: scratch.url })
    let tenant: Tenant
    let token: string
    try {
      tenant = await seedTenant(db, { name: 'Bench payments partner', teams: 1, listings: 0, bookings: 0 })
      token = await createToken(db, tenant.userId)
    } finally {
      await db.close()
    }
    const server = await startServer({ DATABASE_URL: scratch.url })
    try {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
      const t0 = performance.now()
      const invoiceIds = await createInvoices(server.url, headers, tenant.customerIds[0]!, INVOICES + 1)
      const hot = invoiceIds.pop()!
      console.log(`${invoiceIds.length + 1} invoices of 100,000,000.00 USD made through POST /v1/invoices in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      await payments(server.url, headers, invoiceIds, 2) // warm-up
      const queriesBefore = await metric(server.url, 'tvb_db_queries_total')
      const cpuBefore = cpuSeconds(server.child.pid!)
      const spread = await payments(server.url, headers, invoiceIds, env.duration)
      const cpuAfter = cpuSeconds(server.child.pid!)
      const [user, system] = [cpuAfter.user - cpuBefore.user, cpuAfter.system - cpuBefore.system]
      const queries = (await metric(server.url, 'tvb_db_queries_total')) - queriesBefore
      const single = await payments(server.url, headers, [hot], env.duration)
      console.log(row(['', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'], W))
      if (tps !== null) console.log(row(['pgbench TPC-B (tps)', tps], W))
      console.log(row([`POST /v1/payments, ${INVOICES.toLocaleString('en')} invoices`, spread.rps, spread.p50, spread.p99, spread.non2xx + spread.errors], W))
      console.log(row(['POST /v1/payments, one hot invoice', single.rps, single.p50, single.p99, single.non2xx + single.errors], W))
      console.log(
        `payments/s ÷ pgbench tps: ${tps === null ? 'n/a (no baseline)' : against(spread.rps, tps, { min: 0.35 })} (target ≥ 0.35); ` +
          `one hot invoice ÷ spread: ${ratio(single.rps, spread.rps)} (no target: every payment of an invoice queues on its row lock)`,
      )
      console.log(
        `over ${INVOICES.toLocaleString('en')} invoices: ${(queries / spread.requests).toFixed(1)} database statements a payment; the server's CPU ` +
          `${(((user + system) * 1000) / spread.requests).toFixed(2)} ms a payment (${((system * 1000) / spread.requests).toFixed(2)} of it in the kernel), ` +
          `${Math.round(((user + system) / env.duration) * 100)} % of one core`,
      )
      if (spread.non2xx + spread.errors + single.non2xx + single.errors > 0) console.log('✗ some payments were not 2xx (target: none)')

      const check = await openDb({ databaseUrl: scratch.url })
      try {
        const { rows } = await check.query<{ invoices: number; payments: number; mismatched: number }>(
          `SELECT count(*)::int AS invoices, coalesce(sum(p.n), 0)::int AS payments,
                  count(*) FILTER (WHERE i.amount_paid_minor <> coalesce(p.paid, 0))::int AS mismatched
           FROM invoices i
           LEFT JOIN (SELECT invoice_id, count(*) AS n, sum(amount_minor) FILTER (WHERE status <> 'FAILED') AS paid FROM payments GROUP BY invoice_id) p ON p.invoice_id = i.id
           WHERE i.partner_id = $1`,
          [tenant.partnerId],
        )
        const r = rows[0]!
        console.log(
          `check: ${r.payments.toLocaleString('en')} payments on ${r.invoices.toLocaleString('en')} invoices; invoices whose amount_paid ≠ the sum of their succeeded payments: ` +
            `${r.mismatched} ${r.mismatched === 0 ? '✓' : '✗'}`,
        )
      } finally {
        await check.close()
      }
    } finally {
      await server.stop()
    }
  } finally {
    await scratch.drop()
  }
}

// ---- reports -----------------------------------------------------------------------------------

const LISTINGS = 1000
const BOOKINGS = 1_000_000
const REPORT_TEAMS = 4
/** The 366-day range of the reports: about a third of the seeded stays and creations. */
const FROM = '2025-06-01'
const TO = '2026-06-01'
const REPORT_TYPES: ReportType[] = ['bookings-summary', 'revenue', 'occupancy']

/**
 * BOOKINGS bookings over LISTINGS listings (1,000 each), by SQL in batches. 1,000 stays of a
 * listing in ~3 years leave about 1.2 nights each, and live stays (HELD, CONFIRMED, ISSUED) may
 * never overlap (the exclusion constraint), so a listing's calendar is laid in blocks of 20
 * bookings over 24 days: 17 live stays back to back (3 nights, 4 nights, then 15 of one night),
 * and 3 CANCELLED or EXPIRED stays of 2, 5 and 7 nights over them. Statuses: 55 % CONFIRMED,
 * 25 % ISSUED, 10 % CANCELLED, 5 % EXPIRED, 5 % HELD (lapsed long ago); currencies USD, EUR, VND
 * by listing; each listing's calendar starts 0–23 days after 2023-09-01; a booking is created
 * 1–120 days before its check-in.
 */
async function seedReports(databaseUrl: string): Promise<Tenant> {
  const db = await openDb({ databaseUrl, poolSize: 2 })
  try {
    const tenant = await seedTenant(db, { name: 'Bench reports partner', teams: REPORT_TEAMS, listings: LISTINGS, bookings: 0 })
    const p = tenant.partnerId.slice(4, 14)
    await db.query(
      `UPDATE listings SET currency = (ARRAY['USD', 'EUR', 'VND'])[1 + right(id, 7)::int % 3],
         nightly_rate_minor = (ARRAY[12000, 11000, 2800000])[1 + right(id, 7)::int % 3] WHERE partner_id = $1`,
      [tenant.partnerId],
    )
    // as a restore does, the foreign keys and the plain indexes are added once the rows are in,
    // from their own definitions, so the database ends as migrated (row by row they made the load
    // minutes longer). The exclusion constraint stays: inserting under it, two backends at a time,
    // is faster than its GiST build afterwards (btree_gist's text keys have no sorted build).
    const { rows: indexes } = await db.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes i WHERE tablename = 'bookings'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    )
    const { rows: foreignKeys } = await db.query<{ name: string; def: string }>(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'bookings'::regclass AND contype = 'f'`,
    )
    for (const fk of foreignKeys) await db.query(`ALTER TABLE bookings DROP CONSTRAINT ${fk.name}`)
    for (const i of indexes) await db.query(`DROP INDEX ${i.name}`)
    const batch = BOOKINGS / 10
    // two at a time: the machine has two cores, and each batch is one backend
    const batches = Array.from({ length: BOOKINGS / batch }, (_, b) => [b * batch, (b + 1) * batch - 1] as const)
    const unbounded = async (sql: string, values?: unknown[]) =>
      db.transaction(async (tx) => {
        await tx.query('SET LOCAL statement_timeout = 0')
        await tx.query(`SET LOCAL maintenance_work_mem = '256MB'`)
        await tx.query(sql, values)
      })
    const insertBatch = ([first, last]: readonly [number, number]) =>
      unbounded(
        // i: booking; j: its listing (1…L); k: its place in the listing's calendar; s: slot in a block of 20
        `INSERT INTO bookings (id, partner_id, team_id, mode, listing_id, customer_id, status, check_in, check_out, guests, nights, nightly_rate_minor, total_minor, currency,
           hold_expires_at, confirmed_at, issued_at, voucher_number, cancelled_at, cancellation_reason, expired_at, created_at, updated_at)
         SELECT 'bkg_b' || $3 || lpad(i::text, 8, '0'), $1, ($2::text[])[1 + (j - 1) % $5], 'test', 'lst_b' || $3 || lpad(j::text, 7, '0'),
           'cus_b' || $3 || lpad((1 + (j - 1) % $5)::text, 7, '0'), s.status, c.check_in, c.check_in + s.nights, 2, s.nights,
           m.rate, m.rate * s.nights, m.currency,
           t.created + interval '15 minutes',
           CASE WHEN s.status IN ('CONFIRMED', 'ISSUED') THEN t.created + interval '10 minutes' END,
           CASE WHEN s.status = 'ISSUED' THEN t.created + interval '1 day' END,
           CASE WHEN s.status = 'ISSUED' THEN 'VB' || $3 || i END,
           CASE WHEN s.status = 'CANCELLED' THEN t.created + interval '2 days' END,
           CASE WHEN s.status = 'CANCELLED' THEN 'bench' END,
           CASE WHEN s.status = 'EXPIRED' THEN t.created + interval '15 minutes' END,
           t.created, t.created + interval '2 days'
         FROM generate_series($6::int, $7::int) AS i,
           LATERAL (SELECT 1 + i % $4 AS j, i / $4 AS k) AS ik(j, k),
           LATERAL (SELECT ik.k % 20 AS s, ik.k / 20 AS block) AS sb,
           LATERAL (SELECT
             CASE WHEN sb.s = 16 THEN 'HELD' WHEN sb.s = 17 OR sb.s = 18 THEN 'CANCELLED' WHEN sb.s = 19 THEN 'EXPIRED' WHEN sb.s % 3 = 2 THEN 'ISSUED' ELSE 'CONFIRMED' END AS status,
             CASE sb.s WHEN 0 THEN 3 WHEN 1 THEN 4 WHEN 17 THEN 2 WHEN 18 THEN 5 WHEN 19 THEN 7 ELSE 1 END AS nights,
             CASE sb.s WHEN 0 THEN 0 WHEN 1 THEN 3 WHEN 17 THEN 0 WHEN 18 THEN 5 WHEN 19 THEN 10 ELSE sb.s + 6 END AS day) AS s,
           LATERAL (SELECT date '2023-09-01' + (ik.j * 7) % 24 + 24 * sb.block + s.day AS check_in) AS c,
           LATERAL (SELECT (c.check_in - (1 + (i::bigint * 7919) % 120)::int) + ((i * 37) % 86400) * interval '1 second' AS local) AS l,
           LATERAL (SELECT l.local AT TIME ZONE 'UTC' AS created) AS t,
           LATERAL (SELECT (ARRAY['USD', 'EUR', 'VND'])[1 + ik.j % 3] AS currency, (ARRAY[12000, 11000, 2800000])[1 + ik.j % 3]::bigint AS rate) AS m`,
        [tenant.partnerId, tenant.teamIds, p, LISTINGS, REPORT_TEAMS, first, last],
      )
    for (let b = 0; b < batches.length; b += 2) await Promise.all(batches.slice(b, b + 2).map(insertBatch))
    // CREATE INDEX takes a SHARE lock: two build side by side
    const builds = [indexes.filter((_, n) => n % 2 === 0), indexes.filter((_, n) => n % 2 === 1)]
    await Promise.all(
      builds.map(async (defs) => {
        for (const i of defs) await unbounded(i.def)
      }),
    )
    for (const fk of foreignKeys) await unbounded(`ALTER TABLE bookings ADD CONSTRAINT ${fk.name} ${fk.def}`)
    await db.query('ANALYZE')
    return { ...tenant, bookings: BOOKINGS }
  } finally {
    await db.close()
  }
}

export async function reportsBench(env: BenchEnv): Promise<void> {
  heading(
    `GET /v1/reports/{type} over ${BOOKINGS.toLocaleString('en')} bookings of ${LISTINGS.toLocaleString('en')} listings, ${FROM}…${TO} (366 days) — PostgreSQL, a database of its own; ` +
      `baseline: the bare aggregate each report wraps, through pg`,
  )
  const scratch = await scratchDatabase(env, 'tvb_bench_reports')
  try {
    const t0 = performance.now()
    const tenant = await seedReports(scratch.url)
    console.log(`seeded ${BOOKINGS.toLocaleString('en')} bookings over ${LISTINGS.toLocaleString('en')} listings and ${REPORT_TEAMS} teams by SQL (then ANALYZE) in ${Math.round((performance.now() - t0) / 1000)} s`)
    await reportFigures(scratch.url, tenant)
  } finally {
    await scratch.drop()
  }
}

const RW = [22, 10, 10, 6, 28]

/** Each report by month against its bare aggregate, then the RSS of the largest CSV. */
async function reportFigures(databaseUrl: string, tenant: Pick<Tenant, 'partnerId' | 'userId' | 'teamIds'>): Promise<void> {
  const db = await openDb({ databaseUrl })
  let token: string
  try {
    token = await createToken(db, tenant.userId)
  } finally {
    await db.close()
  }
  const server = await startServer({ DATABASE_URL: databaseUrl })
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const headers = { authorization: `Bearer ${token}` }
    const scope: Scope = { partnerId: tenant.partnerId, mode: 'test', teamIds: tenant.teamIds, wholePartner: true }
    const plan = planPeriods(FROM, TO, 'month')
    console.log(row(['group_by=month', 'route ms', 'SQL ms', 'rows', 'route ÷ SQL (target ≤ 1.5)'], RW))
    for (const type of REPORT_TYPES) {
      const url = `${server.url}/v1/reports/${type}?from=${FROM}&to=${TO}&group_by=month`
      const { text, values } = reportSql(scope, { type, from: FROM, to: TO, plan, entity: null, currency: null, now: new Date() })
      let body = ''
      let sqlRows = 0
      // taken in turns, so that a busy moment of the machine weighs on both alike
      const [routeMs, sqlMs] = await mediansOf5(
        async () => {
          const res = await fetch(url, { headers })
          body = await res.text()
          if (res.status !== 200) throw new Error(`GET ${url} → ${res.status} ${body.slice(0, 500)}`)
        },
        async () => {
          // a row per entity (one here), its figures as arrays in period order: a report row per element
          sqlRows = (await client.query<ReportSqlEntity>(text, values)).rows.reduce((n, r) => n + (r.period?.length ?? 0), 0)
        },
      )
      const rows = (JSON.parse(body) as { data: unknown[] }).data.length
      if (rows !== sqlRows) throw new Error(`${type}: the route answered ${rows} rows, the bare aggregate ${sqlRows}`)
      console.log(row([type, routeMs.toFixed(1), sqlMs.toFixed(1), rows, against(routeMs, sqlMs, { max: 1.5 })], RW))
    }
    await streamOccupancyCsv(server.url, server.child.pid!, headers)
  } finally {
    await client.end()
    await server.stop()
  }
}

/** The medians of 5 runs of each, in turns, after one of each to warm up, in ms. */
async function mediansOf5(a: () => Promise<void>, b: () => Promise<void>): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []]
  const timed = async (run: () => Promise<void>) => {
    const t0 = performance.now()
    await run()
    return performance.now() - t0
  }
  for (let i = 0; i < 6; i++) {
    const [ta, tb] = [await timed(a), await timed(b)]
    if (i === 0) continue
    times[0].push(ta)
    times[1].push(tb)
  }
  return [median(times[0]), median(times[1])]
}

const CSV_RUNS = 3

/**
 * GET the occupancy by listing by day as CSV, CSV_RUNS times one after another, sampling the
 * server's RSS every 50 ms: how far it rises above idle depends on when V8 collects, so the worst
 * of a few streams is the figure.
 */
async function streamOccupancyCsv(baseUrl: string, pid: number, headers: Record<string, string>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const idle = median(await samples(pid, 10, 50))
  const url = `${baseUrl}/v1/reports/occupancy?from=${FROM}&to=${TO}&group_by=listing,day`
  const runs: { lines: number; bytes: number; seconds: number; peak: number }[] = []
  for (let run = 0; run < CSV_RUNS; run++) {
    let peak = idle
    const timer = setInterval(() => {
      peak = Math.max(peak, rssMiB(pid))
    }, 50)
    const t0 = performance.now()
    let lines = 0
    let bytes = 0
    try {
      const res = await fetch(url, { headers: { ...headers, accept: 'text/csv' } })
      if (res.status !== 200) throw new Error(`GET ${url} → ${res.status} ${(await res.text()).slice(0, 500)}`)
      for await (const chunk of res.body!) {
        const buf = chunk as Uint8Array
        bytes += buf.length
        for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++
      }
    } finally {
      clearInterval(timer)
    }
    runs.push({ lines, bytes, seconds: (performance.now() - t0) / 1000, peak: Math.max(peak, rssMiB(pid)) })
  }
  const growth = Math.max(...runs.map((r) => r.peak)) - idle
  const each = (f: (r: (typeof runs)[number]) => string) => runs.map(f).join(' / ')
  console.log(
    `occupancy by listing,day as CSV, ${CSV_RUNS} times: ${each((r) => r.lines.toLocaleString('en'))} lines with the header (expected ${(LISTINGS * 366 + 1).toLocaleString('en')}), ` +
      `${(runs[0]!.bytes / 1024 / 1024).toFixed(1)} MiB in ${each((r) => r.seconds.toFixed(1))} s`,
  )
  console.log(
    `server RSS: idle ${idle.toFixed(0)} MiB, peak while streaming ${each((r) => r.peak.toFixed(0))} MiB; worst peak − idle ${growth.toFixed(1)} MiB (target ≤ 50 ${growth <= 50 ? '✓' : '✗'})`,
  )
}

async function samples(pid: number, count: number, everyMs: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    out.push(rssMiB(pid))
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return out
}
