/**
 * npm run bench -- startup: the compiled server on an existing PGlite data dir, from spawn to the
 * first 200 on /healthz, against a bare process that opens the same dir with PGlite and serves one
 * Fastify route (bench/bare-pglite.ts, compiled too). One process owns a data dir at a time (the
 * server holds tvb.lock): every run is stopped, and has exited, before the next starts.
 * Then the server's peak RSS on PGlite under load.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openDb } from '../src/platform/db.ts'
import type { BenchEnv } from './lib.ts'
import { compileBaseline, heading, load, median, ratio, SERVER_ENTRY, startProcess, startServer } from './lib.ts'
import { createToken, seedTenant } from './seed.ts'

const RUNS = 5

/** Milliseconds from spawn to the first 200 on /healthz; the process is stopped (and gone) on return. */
async function timeToFirst200(args: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now()
  const started = await startProcess('node', args, env, '/healthz', 60_000, 'pipe', 10)
  const ms = performance.now() - t0
  const code = await started.stop()
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code} on SIGTERM:\n${started.stdout()}`)
  return ms
}

function summary(times: number[]): string {
  return `median ${Math.round(median(times))} ms (min ${Math.round(Math.min(...times))}, max ${Math.round(Math.max(...times))})`
}

export async function startupBench(env: BenchEnv): Promise<void> {
  heading(`Start-up on an existing PGlite data dir: ${SERVER_ENTRY} to the first 200 on /healthz vs a bare process opening the same dir with PGlite + one Fastify route (${RUNS} runs each, alternating)`)
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tvb-bench-data-'))
  // PGlite, whatever the environment of the bench says
  const pglite = { DATA_DIR: dataDir, DATABASE_URL: '' }
  try {
    const baseline = compileBaseline('bench/bare-pglite.ts')
    // the first start creates the data dir, migrates it and seeds the demo; the runs below find it existing
    await timeToFirst200([SERVER_ENTRY], { ...pglite, SEED_DEMO: 'true' })
    const ours: number[] = []
    const theirs: number[] = []
    for (let i = 0; i < RUNS; i++) {
      ours.push(await timeToFirst200([SERVER_ENTRY], { ...pglite, SEED_DEMO: 'true' }))
      theirs.push(await timeToFirst200([baseline], pglite))
    }
    const r = median(ours) / median(theirs)
    console.log(`node ${SERVER_ENTRY}:            ${summary(ours)}`)
    console.log(`bare PGlite + Fastify route: ${summary(theirs)}`)
    console.log(`ratio of medians ours/bare: ${ratio(median(ours), median(theirs))} (target ≤ 1.5 ${r <= 1.5 ? '✓' : '✗'})`)

    const db = await openDb({ dataDir })
    let token: string
    try {
      token = await createToken(db, (await seedTenant(db, { name: 'Bench partner', teams: 1, listings: 0, bookings: 0 })).userId)
    } finally {
      await db.close()
    }
    const server = await startServer(pglite)
    try {
      const ours = await load({ url: `${server.url}/v1/me`, headers: { authorization: `Bearer ${token}` }, duration: Math.max(3, Math.round(env.duration / 2)) })
      console.log(`GET /v1/me on PGlite: ${ours.rps} req/s, p99 ${ours.p99} ms; peak RSS of the server on PGlite: ${server.peakRssMiB()} MiB`)
    } finally {
      await server.stop()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
