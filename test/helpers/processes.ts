import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, expect } from 'vitest'
import { makeTenant, onPostgres, testDb } from './harness.ts'

/**
 * Real processes for tests that need them: servers started the way npm start starts them, on a
 * fresh data directory or the test PostgreSQL, and the tvb CLI. Every child is SIGKILLed after
 * its test if it still runs; data directories are removed after the file.
 */
export const ROOT = resolve(import.meta.dirname, '../..')
export const TIMEOUT = 60_000
export const TOKEN_LINE = /^\s*(tvb_test_[0-9A-Za-z]{32})\s*$/m
export const ANY_SECRET = /tvb_(test|live)_[0-9A-Za-z]{32}/

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

const dirs: string[] = []
export function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tvb-server-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A random port in 40000-49999 that is free right now. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 40_000 + Math.floor(Math.random() * 10_000)
    const free = await new Promise<boolean>((done) => {
      const probe = createServer()
      probe.once('error', () => done(false))
      probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)))
    })
    if (free) return port
  }
  throw new Error('no free port found')
}

export interface Server {
  child: ChildProcess
  port: number
  base: string
  output(): string
  /** Resolves with the exit code (signal → -1). */
  exited: Promise<number>
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>
}

const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await new Promise((done) => child.once('exit', done))
    }
  }
})

/** The banner the server prints once it listens: a first-run token, or how to make one. */
const BANNER_DONE = /(Try it:[\s\S]*\/v1\/me\n)|(Existing data found[\s\S]*--help[^\n]*\n)/

export interface StartOptions {
  /** Use the embedded PGlite in dataDir (and in-memory rate limits) even when the suite runs on PostgreSQL and Redis. */
  embedded?: boolean
  /** Resolve once the process has exited instead of waiting for the banner (a refused start). */
  expectExit?: boolean
  env?: NodeJS.ProcessEnv
}

export async function startServer(dataDir: string, options: StartOptions = {}): Promise<Server> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }
  delete env.DATABASE_URL
  delete env.PUBLIC_BASE_URL
  delete env.SEED_DEMO
  if (process.env.TEST_DATABASE_URL && !options.embedded) env.DATABASE_URL = process.env.TEST_DATABASE_URL
  // an embedded server stands alone: its rate limits are its own too. (Every first-run demo partner
  // has the same fixed id, so demo servers sharing the suite's Redis would share its buckets.)
  if (options.embedded) delete env.REDIS_URL
  Object.assign(env, options.env)
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const exited = new Promise<number>((done) => child.once('exit', (code) => done(code ?? -1)))
  const server: Server = {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    async waitFor(pattern, ms = 45_000) {
      const deadline = Date.now() + ms
      for (;;) {
        const match = pattern.exec(out)
        if (match) return match
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before printing ${pattern}:\n${out}`)
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${out}`)
        await sleep(50)
      }
    },
  }
  if (options.expectExit) await exited
  else await server.waitFor(BANNER_DONE)
  return server
}

export async function stop(server: Server): Promise<number> {
  server.child.kill('SIGTERM')
  return Promise.race([server.exited, sleep(20_000).then(() => Promise.reject(new Error(`no exit within 20 s after SIGTERM:\n${server.output()}`)))])
}

/** A token for the server's database: the first-run banner's on an empty PGlite dir, a fresh tenant's on PostgreSQL. */
export async function tokenFor(server: Server): Promise<string> {
  if (onPostgres) return (await makeTenant(await testDb())).token
  const match = TOKEN_LINE.exec(server.output())
  expect(match, server.output()).not.toBeNull()
  return match![1]!
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs `tvb …` as a user would (bin/tvb.js), on a data directory. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', TVB_FROM_SOURCE: '1', ...env }
  if (!('DATABASE_URL' in env)) delete childEnv.DATABASE_URL
  const child = spawn(process.execPath, ['bin/tvb.js', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((done) => child.once('exit', (code) => done({ code: code ?? -1, stdout, stderr })))
}

