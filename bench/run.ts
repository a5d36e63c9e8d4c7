/**
 * npm run bench — performance figures, measured against baselines started in the same run.
 * The server is built first (npm run build) and runs compiled in its own process, as `npm start`
 * runs it, on PostgreSQL (BENCH_DATABASE_URL, default the local test database) unless stated;
 * the bare Fastify baselines run in other processes. Figures are printed as ratios, with their
 * targets (✓/✗); nothing here asserts a time.
 *
 * npm run bench -- me startup lists booking availability bookings webhooks payments reports
 *   picks sections (default: all); payments and reports each run on a database of their own
 *   (see bench/money.ts); external runs on a database of its own too (bench/external.ts)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openDb } from '../src/platform/db.ts'
import { availabilityBench } from './availability.ts'
import { benchBookings, bookingBench, bookingsBench } from './bookings.ts'
import type { BenchEnv } from './lib.ts'
import { buildServer, heading, load, metric, once, ratio, row, startBare, startServer, warm } from './lib.ts'
import { listsBench, seedManyTeams } from './lists.ts'
import { paymentsBench, reportsBench } from './money.ts'
import { externalBench } from './external.ts'
import { createToken, seedTenant } from './seed.ts'
import { startupBench } from './startup.ts'
import { webhooksBench } from './webhooks.ts'

const env: BenchEnv = {
  databaseUrl: process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  duration: Number(process.env.BENCH_DURATION ?? 8),
}

const W = [34, 10, 10, 10, 10]

async function meVersusBare(): Promise<void> {
  heading(`GET /v1/me (valid token, cache hit) vs a bare Fastify route with the same JSON — PostgreSQL, ${env.duration}s, 32 connections, server logging at info to /dev/null`)
  const db = await openDb({ databaseUrl: env.databaseUrl })
  let token: string
  try {
    token = await createToken(db, (await seedTenant(db, { name: 'Bench partner', teams: 1, listings: 0, bookings: 0 })).userId)
  } finally {
    await db.close()
  }
  const headers = { authorization: `Bearer ${token}` }
  const server = await startServer({ DATABASE_URL: env.databaseUrl })
  const tmp = mkdtempSync(path.join(tmpdir(), 'tvb-bench-'))
  try {
    const body = await (await fetch(`${server.url}/v1/me`, { headers })).text()
    writeFileSync(path.join(tmp, 'me.json'), body)
    const bare = await startBare({ BODY_FILE: path.join(tmp, 'me.json') })
    try {
      await warm(`${bare.url}/bare`)
      const theirs = await load({ url: `${bare.url}/bare`, duration: env.duration })
      await warm(`${server.url}/v1/me`, headers)
      const argonBefore = await metric(server.url, 'tvb_token_argon2_verifications_total')
      const queriesBefore = await metric(server.url, 'tvb_db_queries_total')
      const ours = await load({ url: `${server.url}/v1/me`, headers, duration: env.duration })
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

// the 20-team dataset: seeded once for the sections that read it, dropped at the end
const manyTeams = once(() => seedManyTeams(env, benchBookings()))

const sections: Record<string, () => Promise<void>> = {
  me: meVersusBare,
  startup: () => startupBench(env),
  lists: async () => listsBench(env, await manyTeams.get()),
  booking: async () => bookingBench(env, await manyTeams.get()),
  availability: () => availabilityBench(env),
  bookings: () => bookingsBench(env),
  webhooks: () => webhooksBench(env),
  payments: () => paymentsBench(env),
  reports: () => reportsBench(env),
  external: () => externalBench(env),
}
const only = process.argv.slice(2)
const unknown = only.filter((name) => !(name in sections))
if (unknown.length > 0) {
  console.error(`unknown section ${unknown.join(', ')}; sections: ${Object.keys(sections).join(', ')}`)
  process.exit(2)
}
buildServer()
try {
  for (const [name, fn] of Object.entries(sections)) {
    if (only.length > 0 && !only.includes(name)) continue
    await fn()
  }
} finally {
  if (manyTeams.made()) {
    const db = await openDb({ databaseUrl: env.databaseUrl })
    await (await manyTeams.get()).drop(db)
    await db.close()
  }
}
process.exit(0)
