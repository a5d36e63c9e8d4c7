/**
 * npm run bench — performance figures, measured against baselines started in the same run.
 * Our server runs in its own process (as in production), on PostgreSQL (BENCH_DATABASE_URL,
 * default the local test database) unless stated; the bare Fastify route runs in another process.
 * Figures are printed as ratios; nothing here asserts a time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { insertPartner, insertTeam, insertUser } from '../src/modules/partners/repository.ts'
import { TokenService } from '../src/modules/tokens/service.ts'
import { systemClock } from '../src/platform/clock.ts'
import { openDb } from '../src/platform/db.ts'
import { migrate } from '../src/platform/migrate.ts'
import { bookingsBench, unlimited } from './bookings.ts'
import { load, metric, ratio, row, startProcess, warm } from './lib.ts'

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DURATION = Number(process.env.BENCH_DURATION ?? 8)
const SERVER = ['--import', 'tsx', 'src/main.ts']
// the sweeper is off so the query count below is the request path's alone
const QUIET = { LOG_LEVEL: 'info', SEED_DEMO: 'false', HOLD_SWEEP_SECONDS: '0' }

async function benchTenant(databaseUrl: string | undefined, dataDir?: string): Promise<string> {
  const db = await openDb({ databaseUrl, dataDir })
  try {
    await migrate(db)
    const now = new Date()
    const partner = await insertPartner(db, 'Bench partner', now)
    const team = await insertTeam(db, partner.id, 'Bench team', now)
    const user = await insertUser(db, { partnerId: partner.id, email: `bench-${Date.now()}@bench.example`, name: 'Bench', role: 'OWNER', teamIds: [team.id] }, now)
    await unlimited(db, partner.id)
    const token = await new TokenService({ db, clock: systemClock, onTokenChanged: () => {} }).create(user.id, 'test', { name: 'bench' }, null)
    return token.secret
  } finally {
    await db.close()
  }
}

function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n`)
}

const W = [34, 10, 10, 10, 10]

async function meVersusBare(): Promise<void> {
  heading(`GET /v1/me (valid token, cache hit) vs a bare Fastify route with the same JSON — PostgreSQL, ${DURATION}s, 32 connections, server logging at info to /dev/null`)
  const token = await benchTenant(DATABASE_URL)
  const headers = { authorization: `Bearer ${token}` }
  // the server logs at info as in production; its log lines go to /dev/null, not to a reader on these two cores
  const server = await startProcess('node', SERVER, { ...QUIET, DATABASE_URL }, '/healthz', 60_000, 'ignore')
  const tmp = mkdtempSync(path.join(tmpdir(), 'tvb-bench-'))
  try {
    const body = await (await fetch(`${server.url}/v1/me`, { headers })).text()
    writeFileSync(path.join(tmp, 'me.json'), body)
    const bare = await startProcess('node', ['--import', 'tsx', 'bench/bare-server.ts'], { BODY_FILE: path.join(tmp, 'me.json') }, '/bare')
    try {
      await warm(`${bare.url}/bare`)
      const theirs = await load({ url: `${bare.url}/bare`, duration: DURATION })
      await warm(`${server.url}/v1/me`, headers)
      const argonBefore = await metric(server.url, 'tvb_token_argon2_verifications_total')
      const queriesBefore = await metric(server.url, 'tvb_db_queries_total')
      const ours = await load({ url: `${server.url}/v1/me`, headers, duration: DURATION })
      const argonAfter = await metric(server.url, 'tvb_token_argon2_verifications_total')
      const queriesAfter = await metric(server.url, 'tvb_db_queries_total')
      console.log(row(['', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'], W))
      console.log(row(['bare Fastify route', theirs.rps, theirs.p50, theirs.p99, theirs.non2xx], W))
      console.log(row(['GET /v1/me', ours.rps, ours.p50, ours.p99, ours.non2xx], W))
      console.log(`ratio req/s ours/bare: ${ratio(ours.rps, theirs.rps)} (target ≥ 0.50)   p99 ours/bare: ${ratio(ours.p99, theirs.p99)}`)
      console.log(`during ${ours.requests} requests: Argon2id runs ${argonAfter - argonBefore}, database queries ${queriesAfter - queriesBefore} (last_used_at is written at most once a minute per token)`)
      console.log(`peak RSS of the server on PostgreSQL: ${server.peakRssMiB()} MiB`)
    } finally {
      await bare.stop()
    }
  } finally {
    await server.stop()
    rmSync(tmp, { recursive: true, force: true })
  }
}

async function pgliteStartupAndRss(): Promise<void> {
  heading('npm start on an existing PGlite data dir: time to the first 200 on /healthz; peak RSS on PGlite')
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tvb-bench-data-'))
  try {
    const first = await startProcess('npm', ['start'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
    await first.stop()
    const times: number[] = []
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      const run = await startProcess('npm', ['start'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' })
      times.push(performance.now() - t0)
      await run.stop()
    }
    times.sort((a, b) => a - b)
    console.log(`time to first 200 on /healthz (existing data dir, 3 runs): median ${Math.round(times[1]!)} ms, min ${Math.round(times[0]!)} ms, max ${Math.round(times[2]!)} ms (target ≤ 2000 ms)`)

    const token = await benchTenant(undefined, dataDir)
    const server = await startProcess('node', SERVER, { ...QUIET, DATA_DIR: dataDir })
    try {
      const headers = { authorization: `Bearer ${token}` }
      const ours = await load({ url: `${server.url}/v1/me`, headers, duration: Math.max(3, Math.round(DURATION / 2)) })
      console.log(`GET /v1/me on PGlite: ${ours.rps} req/s, p99 ${ours.p99} ms; peak RSS of the server on PGlite: ${server.peakRssMiB()} MiB`)
    } finally {
      await server.stop()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const sections: Record<string, () => Promise<void>> = {
  me: meVersusBare,
  startup: pgliteStartupAndRss,
  bookings: () => bookingsBench(DATABASE_URL, DURATION, SERVER),
}
const only = process.argv.slice(2)
for (const [name, fn] of Object.entries(sections)) {
  if (only.length > 0 && !only.includes(name)) continue
  await fn()
}
process.exit(0)
