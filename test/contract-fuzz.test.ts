/**
 * Contract fuzzing (property-based, fast-check): every operation of the generated OpenAPI document
 * gets generated valid and invalid requests — path ids (real, unknown, NUL, lone surrogates,
 * over-long, bad percent-encoding), query values (schema-derived, wrong types, out of range,
 * unknown, repeated), bodies (schema-derived, then missing/extra fields, wrong types, big arrays,
 * hostile strings, bad JSON, invalid UTF-8, empty, wrong Content-Type, > 1 MiB) and odd headers —
 * sent as an OWNER test-mode token of a tenant with real data. Every response must: not be a 5xx;
 * have a status the operation documents; have a body valid against the documented schema for that
 * status and media type; for ≥ 400 be the error envelope with a code listed for that status
 * (x-error-codes); carry the standard headers (X-Request-Id, HSTS, nosniff, no-store) and, on
 * authenticated operations, the rate-limit headers. An input that no reading of the document
 * allows (missing required field, wrong type no coercion fixes, unknown field on a closed object…)
 * must not get a 2xx. New operations are covered automatically: the cases come from the document.
 *
 * Seeded and bounded: FUZZ_SEED (default 42) and FUZZ_RUNS (requests per authenticated operation,
 * default 75; public service endpoints get a quarter) — about 2,450 requests in all, plus the
 * fixtures made through the API for each operation (~480).
 * Nightly-size run:   npm run fuzz -- --runs 2000 [--seed 7]
 * Reproduce a run:    FUZZ_SEED=42 FUZZ_RUNS=75 npx vitest run test/contract-fuzz.test.ts [-t 'GET /v1/bookings']
 * One line per request: FUZZ_VERBOSE=1 (or npm run fuzz -- --verbose).
 * Failures are collected across the whole run, deduplicated by operation × problem (with the input
 * classes that showed it) and reported together, each with the smallest reproduction seen (method,
 * URL, headers, body preview, status, response preview); the summary is printed at the end.
 * Error answers must also stay bounded (≤ 100 field errors, ≤ 64 KiB) however broken the input.
 * A raw-socket section sends what the in-process client cannot: oversized headers, CL + TE,
 * duplicate Content-Length, invalid percent-encoding, NUL in a header, a broken chunked body.
 */
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { testApp } from './helpers/harness.ts'
import { caseArbitrary } from './fuzz/generators.ts'
import type { FuzzCase } from './fuzz/generators.ts'
import { ContractChecker, loadDocument, operationsOf } from './fuzz/openapi-ops.ts'
import type { Operation, Problem } from './fuzz/openapi-ops.ts'
import { FailureLog, describeFailure, injectOptions, summarize } from './fuzz/runner.ts'
import { createResources, fixtureStats, idPrefixOf, makeWorld } from './fuzz/world.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 42)
const RUNS = Number(process.env.FUZZ_RUNS ?? 75)
const SANE_ID = /^fuzz-\d+$/
/** FUZZ_VERBOSE=1: one line per request */
const VERBOSE = Boolean(process.env.FUZZ_VERBOSE)

const h = await testApp({ config: { authFailuresPerMinute: 100_000 } })
const world = await makeWorld(h)
const doc = await loadDocument((o) => h.inject(o))
const checker = new ContractChecker(doc)
// /docs/* static files are hidden from the document; what the document lists is fuzzed
const operations = operationsOf(doc)
const log = new FailureLog()
const stats = new Map<string, { requests: number; ok: number; statuses: Map<number, number> }>()
const started = Date.now()

function seedFor(op: Operation): number {
  let hash = SEED | 0
  for (const ch of op.key) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0
  return hash
}

function runsFor(op: Operation): number {
  return op.public ? Math.max(5, Math.round(RUNS / 4)) : RUNS
}

async function freshIds(op: Operation): Promise<Record<string, string[]>> {
  const ids = await createResources(h, world.token, world.t.teamIds)
  if (idPrefixOf(op.path) === 'tok') for (let i = 0; i < 3; i++) ids.tok!.push((await world.t.addToken({ name: `spare ${op.operationId} ${i}` })).tokenId)
  return ids
}

async function send(op: Operation, c: FuzzCase): Promise<void> {
  let res: LightMyRequestResponse
  try {
    res = await h.inject(injectOptions(c))
  } catch (error) {
    log.record(op, c, undefined, [{ kind: 'request could not be sent (inject threw)', detail: String(error) }], world.token)
    return
  }
  log.requests++
  const s = stats.get(op.key) ?? { requests: 0, ok: 0, statuses: new Map() }
  s.requests++
  if (res.statusCode < 300) s.ok++
  s.statuses.set(res.statusCode, (s.statuses.get(res.statusCode) ?? 0) + 1)
  stats.set(op.key, s)
  const sent = c.headers['x-request-id']
  const problems: Problem[] = checker.check(op, res, { sentRequestId: sent && SANE_ID.test(sent) ? sent : undefined })
  if (c.invalid && res.statusCode >= 200 && res.statusCode < 300) problems.push({ kind: 'invalid input accepted (2xx)', detail: `status ${res.statusCode}` })
  if (problems.length) log.record(op, c, res, problems, world.token)
  if (VERBOSE) console.log(`[${c.label}] ${c.method} ${c.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`)
}

describe('contract fuzzing: every operation in /openapi.json', () => {
  it('the document lists the operations', () => {
    expect(operations.length).toBeGreaterThan(20)
  })

  it('every documented error response lists its codes in x-error-codes, each a catalogue code of that status', async () => {
    const catalogue = new Map(((await h.inject({ method: 'GET', url: '/v1/errors' })).json().data as { code: string; status: number }[]).map((e) => [e.code, e.status]))
    const problems: string[] = []
    for (const op of operations) {
      for (const r of Object.values(op.responses)) {
        const status = Number(r.status)
        if (!(status >= 400)) continue
        if (r.errorCodesSource !== 'x-error-codes') {
          problems.push(`${op.key} ${r.status}: no x-error-codes`)
          continue
        }
        if (r.errorCodes!.length === 0) problems.push(`${op.key} ${r.status}: x-error-codes is empty`)
        for (const code of r.errorCodes!) {
          if (!catalogue.has(code)) problems.push(`${op.key} ${r.status}: ${code} is not in GET /v1/errors`)
          else if (catalogue.get(code) !== status) problems.push(`${op.key} ${r.status}: ${code} is a ${catalogue.get(code)} in GET /v1/errors`)
        }
      }
    }
    expect(problems).toEqual([])
  })

  for (const op of operations) {
    it(
      `${op.key} (${op.operationId})`,
      async () => {
        // fresh data for every operation: earlier operations (DELETE, :cancel, :rotate) do not starve
        // later ones, and a run of one operation reproduces alone
        const ids = op.public ? world.ids : await freshIds(op)
        const arb = caseArbitrary(op, { ids, token: world.token })
        await fc.assert(
          fc.asyncProperty(arb, async (c) => {
            await send(op, c)
            return true // failures are collected, not thrown: one run reports them all
          }),
          { seed: seedFor(op), numRuns: runsFor(op) },
        )
        const failures = log.for(op)
        expect(failures.map(describeFailure)).toEqual([])
      },
      30_000 + runsFor(op) * 500,
    )
  }

  afterAll(() => {
    const all = log.all()
    const lines = [...stats.entries()].map(([k, s]) => `${k}: ${s.requests} requests, ${s.ok} 2xx, statuses ${[...s.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([st, n]) => `${st}×${n}`).join(' ')}`)
    console.log(
      `contract fuzz: seed ${SEED}, ${RUNS} runs per operation, ${log.requests} fuzz requests (+${fixtureStats.requests} fixture requests) in ${((Date.now() - started) / 1000).toFixed(1)} s\n${lines.join('\n')}` +
        (all.length ? `\n\n${all.length} distinct failures (operation × problem):\n${summarize(all)}` : '\nno failures'),
    )
  })
})

// ---------------------------------------------------------------- raw HTTP (malformed on the wire)

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
  raw: string
}

async function rawRequest(port: number, request: string | Buffer): Promise<RawResponse> {
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(Buffer.concat(chunks).toString('latin1'))
    }, 5000)
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', (e) => {
      clearTimeout(timer)
      if (chunks.length) resolve(Buffer.concat(chunks).toString('latin1'))
      else reject(e)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    socket.write(request)
  })
  const split = raw.indexOf('\r\n\r\n')
  const head = split === -1 ? raw : raw.slice(0, split)
  let body = split === -1 ? '' : raw.slice(split + 4)
  const [statusLine, ...headerLines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const i = line.indexOf(':')
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  if (headers['transfer-encoding'] === 'chunked') {
    let out = ''
    let rest = body
    for (;;) {
      const nl = rest.indexOf('\r\n')
      const size = parseInt(rest.slice(0, nl), 16)
      if (!size) break
      out += rest.slice(nl + 2, nl + 2 + size)
      rest = rest.slice(nl + 2 + size + 2)
    }
    body = out
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw }
}

function rawProblems(res: RawResponse, expected: (status: number) => boolean, expectation: string): string[] {
  const problems: string[] = []
  if (!expected(res.status)) problems.push(`status ${res.status}, expected ${expectation}`)
  let error: Record<string, unknown> | undefined
  try {
    error = JSON.parse(res.body).error
  } catch {
    // reported below
  }
  if (!error || typeof error.code !== 'string' || typeof error.request_id !== 'string') problems.push(`body is not the error envelope: ${JSON.stringify(res.body.slice(0, 200))}`)
  else if (error.request_id !== res.headers['x-request-id']) problems.push(`error.request_id ${error.request_id} ≠ X-Request-Id ${res.headers['x-request-id']}`)
  if (!res.headers['x-request-id']) problems.push('no X-Request-Id')
  if (res.headers['cache-control'] !== 'no-store') problems.push(`Cache-Control ${res.headers['cache-control']}`)
  if (!res.headers['strict-transport-security']) problems.push('no Strict-Transport-Security')
  if (res.headers['x-content-type-options'] !== 'nosniff') problems.push('no X-Content-Type-Options: nosniff')
  return problems
}

describe('raw HTTP: malformed requests on the wire still get the envelope and the standard headers', () => {
  const auth = `Authorization: Bearer ${world.token}\r\n`
  const cases: { name: string; request: string | Buffer; expected: (s: number) => boolean; expectation: string }[] = [
    { name: 'headers over 16 KiB', request: `GET /v1/me HTTP/1.1\r\nHost: api.test\r\n${auth}X-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, expected: (s) => s === 431, expectation: '431' },
    { name: 'request line over 16 KiB', request: `GET /v1/listings?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: api.test\r\n${auth}Connection: close\r\n\r\n`, expected: (s) => s === 414 || s === 431, expectation: '414 or 431' },
    {
      name: 'Content-Length and Transfer-Encoding together',
      request: `POST /v1/customers HTTP/1.1\r\nHost: api.test\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
      expected: (s) => s === 400,
      expectation: '400',
    },
    {
      name: 'two different Content-Length headers',
      request: `POST /v1/customers HTTP/1.1\r\nHost: api.test\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}`,
      expected: (s) => s === 400,
      expectation: '400',
    },
    { name: 'path with %C3%28 (invalid UTF-8), authenticated', request: `GET /v1/teams/%C3%28 HTTP/1.1\r\nHost: api.test\r\n${auth}Connection: close\r\n\r\n`, expected: (s) => s === 400 || s === 404, expectation: '400 or 404' },
    { name: 'path with %C3%28 (invalid UTF-8), no token', request: 'GET /v1/%C3%28 HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n', expected: (s) => s === 400 || s === 404, expectation: '400 or 404' },
    { name: 'NUL byte in a header value', request: Buffer.from(`GET /v1/me HTTP/1.1\r\nHost: api.test\r\n${auth}X-Odd: a\u0000b\r\nConnection: close\r\n\r\n`, 'latin1'), expected: (s) => s === 400, expectation: '400' },
    { name: 'invalid chunked body', request: `POST /v1/customers HTTP/1.1\r\nHost: api.test\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, expected: (s) => s === 400, expectation: '400' },
  ]
  let port = 0

  it('listens', async () => {
    await h.app.listen({ host: '127.0.0.1', port: 0 })
    port = (h.app.server.address() as AddressInfo).port
    expect(port).toBeGreaterThan(0)
  })

  for (const c of cases) {
    it(c.name, async () => {
      const res = await rawRequest(port, c.request)
      const problems = rawProblems(res, c.expected, c.expectation)
      expect(problems, `${c.name} → ${res.raw.slice(0, 600)}`).toEqual([])
    })
  }
})
