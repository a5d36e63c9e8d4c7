import type { LightMyRequestResponse } from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApp, createLogger } from '../src/app.ts'
import type { Db } from '../src/platform/db.ts'
import { ERROR_FIXES } from '../src/platform/error-fixes.ts'
import { ERROR_CATALOGUE, ERROR_CODES } from '../src/platform/errors.ts'
import { makeTenant, testApp, testConfig } from './helpers/harness.ts'
import type { TestApp } from './helpers/harness.ts'

const TEST_CURSOR_KEY = 'ab'.repeat(32)

/** An app over a database whose every query behaves as `query` says (down, hanging…). */
async function appOverDb(query: () => Promise<never>) {
  const db: Db = { kind: 'postgres', queryCount: 0, query, transaction: query, close: async () => {} }
  // the cursor key is given, so building the app needs no query
  return buildApp({ config: testConfig(), db, logger: createLogger('silent'), cursorKey: TEST_CURSOR_KEY })
}

function expect503(res: LightMyRequestResponse): void {
  expect(res.statusCode, res.body).toBe(503)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const { error } = res.json() as { error: Record<string, unknown> }
  expect(error.code).toBe('SERVICE_UNAVAILABLE')
  expect(error.retry_advice).toBe('retryable')
  expect(error.request_id).toBe(res.headers['x-request-id'])
  expect(error.doc_url).toMatch(/\/docs\/errors#SERVICE_UNAVAILABLE$/)
  expect(typeof error.message).toBe('string')
  expect(ERROR_CATALOGUE.SERVICE_UNAVAILABLE.status).toBe(503)
}

describe('service endpoints', () => {
  let h: TestApp
  beforeAll(async () => {
    h = await testApp()
  })

  it('GET /healthz answers 200 {status: ok} without a token', async () => {
    const res = await h.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it('GET /readyz answers 200 when the database answers', async () => {
    const res = await h.inject({ method: 'GET', url: '/readyz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ready', database: h.db.kind })
  })

  it('GET /readyz answers 503 SERVICE_UNAVAILABLE when the database refuses', async () => {
    const { app } = await appOverDb(async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
    })
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' })
      expect503(res)
      expect(res.body).not.toContain('ECONNREFUSED')
      // liveness does not depend on the database
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })

  it('GET /readyz answers 503 SERVICE_UNAVAILABLE, in bounded time, when the database hangs', async () => {
    const { app } = await appOverDb(() => new Promise<never>(() => {}))
    try {
      const started = Date.now()
      const res = await app.inject({ method: 'GET', url: '/readyz' })
      expect503(res)
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await app.close()
    }
  })

  it('GET /metrics exposes request counters by route template, latency buckets and database queries', async () => {
    const t = await makeTenant(h.db)
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', '/v1/tokens/tok_unknown')).statusCode).toBe(404)

    const res = await h.inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    const lines = res.body.split('\n')
    const counter = (route: string, status: string) =>
      lines.find((l) => l.startsWith('tvb_http_requests_total{') && l.includes('method="GET"') && l.includes(`route="${route}"`) && l.includes(`status="${status}"`))
    const me = counter('/v1/me', '200')
    expect(me, 'tvb_http_requests_total for GET /v1/me 200').toBeDefined()
    expect(Number(me!.split(' ').pop())).toBeGreaterThanOrEqual(1)
    // the route template, not the raw path (no label per id)
    expect(counter('/v1/tokens/:id', '404')).toBeDefined()
    expect(res.body).not.toContain('route="/v1/tokens/tok_unknown"')
    expect(lines.some((l) => l.startsWith('tvb_http_request_duration_seconds_bucket{') && l.includes('route="/v1/me"'))).toBe(true)
    const queries = lines.find((l) => /^tvb_db_queries_total \d+/.test(l))
    expect(queries, 'tvb_db_queries_total').toBeDefined()
    expect(Number(queries!.split(' ')[1])).toBeGreaterThan(0)
  })

  it('GET /v1/errors lists every code of the catalogue with its status and retry advice', async () => {
    const res = await h.inject({ method: 'GET', url: '/v1/errors' })
    expect(res.statusCode).toBe(200)
    const { data } = res.json() as { data: { code: string; status: number; retry_advice: string; description: string; doc_url: string }[] }
    expect(data.map((e) => e.code).sort()).toEqual([...ERROR_CODES].sort())
    for (const entry of data) {
      const expected = ERROR_CATALOGUE[entry.code as keyof typeof ERROR_CATALOGUE]
      expect(entry.status).toBe(expected.status)
      expect(entry.retry_advice).toBe(expected.retry_advice)
      expect(entry.description.length).toBeGreaterThan(0)
      expect(entry.doc_url).toMatch(new RegExp(`/docs/errors#${entry.code}$`))
    }
  })

  it('GET /docs/errors is HTML with an anchor for each code: its status, retry advice, meaning, fix and the operations that send it', async () => {
    const res = await h.inject({ method: 'GET', url: '/docs/errors' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    const sections = new Map([...res.body.matchAll(/<section class="code" id="(\w+)">([\s\S]*?)<\/section>/g)].map((m) => [m[1]!, m[2]!]))
    expect([...sections.keys()].sort()).toEqual([...ERROR_CODES].sort())
    const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/`([^`]+)`/g, '<code>$1</code>')
    for (const code of ERROR_CODES) {
      const section = sections.get(code)!
      expect(section).toContain(`HTTP ${ERROR_CATALOGUE[code].status}`)
      expect(section).toContain(ERROR_CATALOGUE[code].retry_advice)
      expect(section).toContain(html(ERROR_CATALOGUE[code].title))
      expect(section).toContain(html(ERROR_FIXES[code]))
    }
    // nothing outside the server: no script, stylesheet or image from elsewhere
    expect(res.body).not.toMatch(/<(script|link|img)[^>]+(src|href)="https?:/)
  })

  it('GET /docs/errors lists, for each code, the operations whose responses list it (x-error-codes)', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses?: Record<string, { 'x-error-codes'?: string[] }> }>> }
    const expected = new Map<string, string[]>(ERROR_CODES.map((code) => [code, []]))
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const codes = new Set(Object.values(operation.responses ?? {}).flatMap((r) => r['x-error-codes'] ?? []))
        for (const code of codes) expected.get(code)!.push(`${method.toUpperCase()} ${path}`)
      }
    }
    const body = (await h.inject({ method: 'GET', url: '/docs/errors' })).body
    for (const code of ERROR_CODES) {
      const section = new RegExp(`<section class="code" id="${code}">([\\s\\S]*?)</section>`).exec(body)![1]!
      const listed = [...section.matchAll(/<li><a href="[^"]+"><code>(\w+ [^<]+)<\/code><\/a>/g)].map((m) => m[1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))))
      expect(listed.sort(), code).toEqual(expected.get(code)!.sort())
    }
    // the codes no operation lists are those the server sends before routing
    expect(ERROR_CODES.filter((code) => expected.get(code)!.length === 0).sort()).toEqual(['HEADERS_TOO_LARGE', 'METHOD_NOT_ALLOWED', 'REQUEST_TIMEOUT', 'ROUTE_NOT_FOUND'])
    // and each listed operation links to its place in the reference
    expect(body).toContain('<a href="/docs/#tag/payments/POST/v1/payments/{id}:refund"><code>POST /v1/payments/{id}:refund</code></a>')
  })

  it('GET /docs serves the interactive reference, and everything it loads, from this server and without a token', async () => {
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }
    let url = '/docs'
    let res = await h.inject({ method: 'GET', url, headers: browser })
    for (let hops = 0; hops < 5 && res.statusCode >= 300 && res.statusCode < 400; hops++) {
      url = new URL(String(res.headers.location), `http://api.test${url}`).pathname
      res = await h.inject({ method: 'GET', url, headers: browser })
    }
    expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.body).toContain('<title>travoBooks API reference</title>')
    expect(res.body).toContain('Scalar.createApiReference')
    expect(res.body).toContain('"withDefaultFonts": false')
    expect(res.body).toContain('"telemetry": false')

    // the page's script and the document it renders load too (a browser sends no token), from here
    const assets = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(assets.length).toBeGreaterThan(0)
    for (const asset of assets) {
      const resolved = new URL(asset, `http://api.test${url}`)
      expect(resolved.origin, asset).toBe('http://api.test')
      const a = await h.inject({ method: 'GET', url: resolved.pathname, headers: { accept: '*/*' } })
      expect(a.statusCode, `${asset}: ${a.body.slice(0, 200)}`).toBe(200)
    }
    const specUrl = /"url": "([^"]+)"/.exec(res.body)?.[1]
    expect(specUrl).toBeDefined()
    const spec = await h.inject({ method: 'GET', url: new URL(specUrl!, `http://api.test${url}`).pathname, headers: { accept: 'application/json' } })
    expect(spec.statusCode).toBe(200)
    const rendered = spec.json() as { paths: Record<string, unknown>; info: { 'x-scalar-links'?: { url: string }[] } }
    const served = (await h.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> }
    expect(Object.keys(rendered.paths).sort()).toEqual(Object.keys(served.paths).sort())
    expect(rendered.info['x-scalar-links']?.map((l) => l.url)).toEqual(expect.arrayContaining(['/docs/guides', '/docs/errors']))
  })
})
