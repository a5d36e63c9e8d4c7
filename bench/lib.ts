import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import ts from 'typescript'

export const ROOT = new URL('..', import.meta.url).pathname

/** What one `npm run bench` measures with: the database, and the seconds of each load run. */
export interface BenchEnv {
  databaseUrl: string
  duration: number
}

/** The compiled server, as `npm start` runs it (bench/run.ts builds it once first). */
export const SERVER_ENTRY = 'dist/bundle/server.js'

/** npm run build: the figures are those of the compiled server users run, not of tsx. */
export function buildServer(): void {
  const t0 = performance.now()
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  process.stdout.write(`built ${SERVER_ENTRY} (npm run build) in ${Math.round((performance.now() - t0) / 1000)} s\n`)
}

/**
 * Our server in its own process, background jobs off, logging at info to /dev/null (as in
 * production, without a reader on these two cores). BENCH_CPU_PROF=<dir> runs it under
 * --cpu-prof: the profile is written there when it stops (summarise it with bench/profile.ts).
 */
export function startServer(env: Record<string, string>): Promise<Started> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  return startProcess('node', [...profile, SERVER_ENTRY], { LOG_LEVEL: 'info', SEED_DEMO: 'false', RUN_WORKERS: 'false', HOLD_SWEEP_SECONDS: '0', ...env }, '/healthz', 60_000, 'ignore')
}

/** The bare Fastify baselines (bench/bare-server.ts); with DATABASE_URL, its pg routes too. */
export function startBare(env: Record<string, string>): Promise<Started> {
  return startProcess('node', ['--import', 'tsx', 'bench/bare-server.ts'], env, '/bare')
}

/**
 * A bench file compiled to plain JavaScript in .bench/, for a baseline whose start-up is measured
 * (under tsx it would pay the loader our compiled server does not). It may import packages only.
 */
export function compileBaseline(file: string): string {
  const source = readFileSync(path.join(ROOT, file), 'utf8')
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } })
  const out = path.join(ROOT, '.bench', path.basename(file).replace(/\.ts$/, '.mjs'))
  mkdirSync(path.dirname(out), { recursive: true })
  writeFileSync(out, outputText)
  return path.relative(ROOT, out)
}

export interface Started {
  child: ChildProcess
  port: number
  url: string
  stdout: () => string
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): number
  stop(): Promise<number | null>
}

/** A port nothing listens on now (the kernel's pick), for the next process to take. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

export async function startProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  readyPath = '/healthz',
  timeoutMs = 60_000,
  logsTo: 'pipe' | 'ignore' = 'pipe',
  pollMs = 25,
): Promise<Started> {
  const port = await freePort()
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env }, stdio: ['ignore', logsTo, 'pipe'], detached: true })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    if (out.length < 100_000) out += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    if (out.length < 100_000) out += chunk.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited early:\n${out}`)
    try {
      const res = await fetch(url + readyPath)
      if (res.status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url}${readyPath}:\n${out}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
  return {
    child,
    port,
    url,
    stdout: () => out,
    peakRssMiB() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
        return Math.round(kb / 1024)
      } catch {
        return NaN
      }
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once('exit', (code) => resolve(code))
        // the whole process group: `npm start` runs the server as a grandchild
        process.kill(-child.pid!, 'SIGTERM')
      }),
  }
}

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  requests: number
}

export async function load(options: { url: string; headers?: Record<string, string>; method?: 'GET' | 'POST'; body?: string; connections?: number; duration?: number; requests?: autocannon.Request[] }): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 32,
    duration: options.duration ?? 8,
    headers: options.headers,
    method: options.method ?? 'GET',
    body: options.body,
    requests: options.requests,
  })
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    requests: result.requests.total,
  }
}

export async function warm(url: string, headers?: Record<string, string>): Promise<void> {
  await autocannon({ url, connections: 16, duration: 2, headers })
}

/** Warms a URL up, then loads it. */
export async function measure(url: string, options: { headers?: Record<string, string> | undefined; duration: number; connections?: number }): Promise<LoadResult> {
  await warm(url, options.headers)
  return load({ url, ...options })
}

/** Fails loudly unless the URL answers 200 (a benchmark of error responses measures nothing). */
export async function expect200(url: string, headers?: Record<string, string>): Promise<string> {
  const res = await fetch(url, { headers })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status} ${body.slice(0, 500)}`)
  return body
}

/** A counter's value from a Prometheus text exposition. */
export async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
  return line ? Number(line.split(' ').pop()) : 0
}

export function ratio(ours: number, theirs: number): string {
  return theirs === 0 ? 'n/a' : (ours / theirs).toFixed(2)
}

/** A ratio with its verdict against a target: `0.82 ✓` (at least `min`, or at most `max`). */
export function against(ours: number, theirs: number, target: { min?: number; max?: number }): string {
  if (theirs === 0) return 'n/a'
  const r = ours / theirs
  const ok = (target.min === undefined || r >= target.min) && (target.max === undefined || r <= target.max)
  return `${r.toFixed(2)} ${ok ? '✓' : '✗'}`
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n`)
}

/** A value computed on first use and shared after (a dataset two sections measure). */
export function once<T>(make: () => Promise<T>): { get(): Promise<T>; made(): boolean } {
  let value: Promise<T> | undefined
  return { get: () => (value ??= make()), made: () => value !== undefined }
}

export function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join(' ')
}

export interface ScratchDatabase {
  url: string
  drop(): Promise<void>
}

/** A new database on the bench's PostgreSQL server (one left by an interrupted run is dropped first). */
export async function scratchDatabase(env: BenchEnv, name: string): Promise<ScratchDatabase> {
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: env.databaseUrl })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(env.databaseUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}
