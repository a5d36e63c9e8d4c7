import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { makeTenant, onPostgres, testDb } from './helpers/harness.ts'
import { ANY_SECRET, TIMEOUT, TOKEN_LINE, freshDataDir, sleep, startServer, stop, tokenFor } from './helpers/processes.ts'

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
