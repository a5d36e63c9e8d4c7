import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { makeTenant, onPostgres, testDb } from './helpers/harness.ts'

const ROOT = resolve(import.meta.dirname, '..')
const TIMEOUT = 60_000
const TOKEN_LINE = /^\s*(tvb_test_[0-9A-Za-z]{32})\s*$/m
const ANY_SECRET = /tvb_(test|live)_[0-9A-Za-z]{32}/

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

const dirs: string[] = []
function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tvb-server-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A random port in 40000-49999 that is free right now. */
async function freePort(): Promise<number> {
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

interface Server {
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

async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' }
  delete env.DATABASE_URL
  delete env.PUBLIC_BASE_URL
  delete env.SEED_DEMO
  if (process.env.TEST_DATABASE_URL) env.DATABASE_URL = process.env.TEST_DATABASE_URL
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
  await server.waitFor(BANNER_DONE)
  return server
}

async function stop(server: Server): Promise<number> {
  server.child.kill('SIGTERM')
  return Promise.race([server.exited, sleep(20_000).then(() => Promise.reject(new Error(`no exit within 20 s after SIGTERM:\n${server.output()}`)))])
}

/** A token for the server's database: the first-run banner's on an empty PGlite dir, a fresh tenant's on PostgreSQL. */
async function tokenFor(server: Server): Promise<string> {
  if (onPostgres) return (await makeTenant(await testDb())).token
  const match = TOKEN_LINE.exec(server.output())
  expect(match, server.output()).not.toBeNull()
  return match![1]!
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      done(false)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'))
  })
}

/** Reads one complete HTTP/1.1 response (Content-Length framed) from a raw socket. */
function readResponse(socket: Socket, ms = 20_000): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((done, fail) => {
    let raw = Buffer.alloc(0)
    const timer = setTimeout(() => fail(new Error(`incomplete response after ${ms} ms: ${raw.toString()}`)), ms)
    const tryParse = () => {
      const end = raw.indexOf('\r\n\r\n')
      if (end === -1) return false
      const head = raw.subarray(0, end).toString().split('\r\n')
      const status = Number(head[0]!.split(' ')[1])
      const headers = Object.fromEntries(head.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
      const length = Number(headers['content-length'] ?? 0)
      if (raw.length < end + 4 + length) return false
      clearTimeout(timer)
      done({ status, headers, body: raw.subarray(end + 4, end + 4 + length).toString() })
      return true
    }
    socket.on('data', (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk])
      tryParse()
    })
    socket.once('close', () => {
      if (!tryParse()) {
        clearTimeout(timer)
        fail(new Error(`connection closed before a complete response: ${JSON.stringify(raw.toString())}`))
      }
    })
  })
}

describe('the server process', () => {
  it(
    'first start on an empty data dir prints a working test token and the docs URL; a second start seeds nothing',
    async () => {
      const dir = freshDataDir()
      if (onPostgres) await makeTenant(await testDb()) // the shared database is not empty

      const first = await startServer(dir)
      const text = first.output()
      expect(text).toMatch(new RegExp(`https?://\\S+:${first.port}/docs\\b`))
      if (onPostgres) {
        // PostgreSQL already holds partners: no seeding, only how to make a token
        expect(text).toContain('Existing data found')
        expect(text).not.toMatch(ANY_SECRET)
      } else {
        expect(text).not.toContain('Existing data found')
        expect(text).toMatch(TOKEN_LINE)
      }

      const token = await tokenFor(first)
      const me = await fetch(`${first.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
      expect(me.status).toBe(200)
      const body = (await me.json()) as { mode: string; token: { prefix: string } }
      expect(body.mode).toBe('test')
      expect(token.startsWith(body.token.prefix)).toBe(true)
      expect(me.headers.get('x-request-id')).toMatch(/^req_/)

      const health = await fetch(`${first.base}/healthz`)
      expect(health.status).toBe(200)

      expect(await stop(first)).toBe(0)
      // LOG_LEVEL=warn: any log line is a warning or an error (e.g. failed background bookkeeping)
      expect(first.output()).not.toMatch(/"level":\s*(40|50|60)\b/)
      if (onPostgres) return

      // the same data dir again: the data is found, no new token is made
      const second = await startServer(dir)
      expect(second.output()).toContain('Existing data found')
      expect(second.output()).not.toMatch(ANY_SECRET)
      expect(second.output()).toMatch(/tvb tokens create --user usr_[0-9a-z]{26}/)
      // the first token still works against the restarted server
      const again = await fetch(`${second.base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
      expect(again.status).toBe(200)
      expect(await stop(second)).toBe(0)
      expect(second.output()).not.toMatch(/"level":\s*(40|50|60)\b/)
    },
    TIMEOUT * 2,
  )

  it(
    'SIGTERM finishes the in-flight request, refuses new connections, and exits 0',
    async () => {
      const server = await startServer(freshDataDir())
      const token = await tokenFor(server)

      const body = JSON.stringify({ name: 'created during shutdown' })
      const half = Math.floor(body.length / 2)
      const socket = connect(server.port, '127.0.0.1')
      await new Promise<void>((done, fail) => {
        socket.once('connect', () => done())
        socket.once('error', fail)
      })
      socket.on('error', () => {})
      const response = readResponse(socket)
      socket.write(
        `POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
          body.slice(0, half),
      )
      await sleep(500) // the server has the headers and is waiting for the rest of the body

      server.child.kill('SIGTERM')
      await sleep(300)
      expect(server.child.exitCode, server.output()).toBeNull() // still finishing the in-flight request
      expect(await connectRefused(server.port)).toBe(true)

      socket.write(body.slice(half))
      const res = await response
      expect(res.status, res.body).toBe(201)
      const created = JSON.parse(res.body) as { id: string; name: string; secret: string }
      expect(created.name).toBe('created during shutdown')
      expect(created.id).toMatch(/^tok_/)
      expect(created.secret).toMatch(/^tvb_test_/)

      const code = await Promise.race([server.exited, sleep(20_000).then(() => -2)])
      expect(code, `exit code after SIGTERM:\n${server.output()}`).toBe(0)
      socket.destroy()
      expect(await connectRefused(server.port)).toBe(true)
    },
    TIMEOUT,
  )
})
