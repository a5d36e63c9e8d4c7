import type { LightMyRequestResponse } from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApp, createLogger } from '../src/app.ts'
import { generateToken } from '../src/modules/tokens/token-format.ts'
import type { Db } from '../src/platform/db.ts'
import { ERROR_CATALOGUE } from '../src/platform/errors.ts'
import type { ErrorCode } from '../src/platform/errors.ts'
import { LogCapture, makeTenant, testApp, testConfig } from './helpers/harness.ts'
import type { TestApp } from './helpers/harness.ts'

const TEST_CURSOR_KEY = 'ab'.repeat(32)

interface EnvelopeError {
  code: string
  message: string
  request_id: string
  retry_advice: string
  doc_url: string
  details?: Record<string, unknown>
}

const ENVELOPE_KEYS = ['code', 'message', 'request_id', 'retry_advice', 'doc_url']

/**
 * The one error envelope (API.md §6): exactly {error:{code,message,request_id,retry_advice,doc_url[,details]}},
 * request_id equal to the X-Request-Id header, and a code from the catalogue with the catalogue's status.
 */
function expectEnvelope(res: LightMyRequestResponse, status: number, code: ErrorCode): EnvelopeError {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = res.json() as { error: EnvelopeError }
  expect(Object.keys(body)).toEqual(['error'])
  const error = body.error
  expect(error.code).toBe(code)
  const keys = Object.keys(error)
  for (const key of ENVELOPE_KEYS) expect(keys).toContain(key)
  for (const key of keys) expect([...ENVELOPE_KEYS, 'details']).toContain(key)
  expect(typeof error.message).toBe('string')
  expect(error.message.length).toBeGreaterThan(0)
  if ('details' in error) {
    expect(typeof error.details).toBe('object')
    expect(error.details).not.toBeNull()
  }
  // request id: the same in the body and in the header
  expect(typeof res.headers['x-request-id']).toBe('string')
  expect(error.request_id).toBe(res.headers['x-request-id'])
  expect(error.doc_url).toMatch(new RegExp(`^https?://[^\\s]+/docs/errors#${code}$`))
  // the code is in the catalogue, with this status and retry advice
  expect(Object.keys(ERROR_CATALOGUE)).toContain(error.code)
  const entry = ERROR_CATALOGUE[error.code as ErrorCode]
  expect(entry.status).toBe(status)
  expect(error.retry_advice).toBe(entry.retry_advice)
  expect(['retryable', 'retry_after_fix', 'non_retryable']).toContain(error.retry_advice)
  return error
}

const json = { 'content-type': 'application/json' }

describe('HTTP errors: one envelope for every status', () => {
  let h: TestApp
  beforeAll(async () => {
    h = await testApp()
  })

  async function tokenCount(token: string): Promise<number> {
    const res = await h.call(token, 'GET', '/v1/tokens')
    expect(res.statusCode).toBe(200)
    return (res.json() as { data: unknown[] }).data.length
  }

  describe('400', () => {
    it('VALIDATION_ERROR lists every field error at once, and creates nothing', async () => {
      const t = await makeTenant(h.db)
      const before = await tokenCount(t.token)
      const res = await h.call(t.token, 'POST', '/v1/tokens', { name: '', zzz: 1, scopes: ['nope'] })
      const error = expectEnvelope(res, 400, 'VALIDATION_ERROR')
      const fields = (error.details as { fields: { field: string; location: string; code: string; message: string }[] }).fields
      expect(Array.isArray(fields)).toBe(true)
      expect(fields.map((f) => f.field).sort()).toEqual(['name', 'scopes[0]', 'zzz'])
      for (const f of fields) {
        expect(Object.keys(f).sort()).toEqual(['code', 'field', 'location', 'message'])
        expect(f.location).toBe('body')
        expect(typeof f.code).toBe('string')
        expect(f.code.length).toBeGreaterThan(0)
        expect(typeof f.message).toBe('string')
        expect(f.message.length).toBeGreaterThan(0)
      }
      const byField = Object.fromEntries(fields.map((f) => [f.field, f]))
      expect(byField.name?.code).toBe('minLength')
      expect(byField.zzz?.code).toBe('additionalProperties')
      expect(byField['scopes[0]']?.code).toBe('enum')
      expect(await tokenCount(t.token)).toBe(before)
    })

    it('INVALID_JSON for a syntax error', async () => {
      const t = await makeTenant(h.db)
      const before = await tokenCount(t.token)
      const res = await h.call(t.token, 'POST', '/v1/tokens', '{"name": "x",')
      const error = expectEnvelope(res, 400, 'INVALID_JSON')
      expect(error.message).toMatch(/JSON/)
      expect(await tokenCount(t.token)).toBe(before)
    })

    it('an empty body sent as application/json is no body: a route that needs one says so', async () => {
      const t = await makeTenant(h.db)
      const res = await h.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${t.token}`, ...json }, payload: '' })
      const error = expectEnvelope(res, 400, 'VALIDATION_ERROR')
      expect(error.details?.fields).toEqual([expect.objectContaining({ field: '(root)', location: 'body', message: expect.stringMatching(/body is required/) })])
    })

    it('INVALID_JSON for __proto__ and constructor.prototype keys, naming the forbidden key', async () => {
      const t = await makeTenant(h.db)
      const before = await tokenCount(t.token)
      const proto = await h.call(t.token, 'POST', '/v1/tokens', '{"name":"x","__proto__":{"admin":true}}')
      expect(expectEnvelope(proto, 400, 'INVALID_JSON').message).toContain('__proto__')
      const ctor = await h.call(t.token, 'POST', '/v1/tokens', '{"name":"x","constructor":{"prototype":{"admin":true}}}')
      expect(expectEnvelope(ctor, 400, 'INVALID_JSON').message).toContain('constructor')
      expect(await tokenCount(t.token)).toBe(before)
    })
  })

  describe('401', () => {
    it('UNAUTHENTICATED with WWW-Authenticate: Bearer, without a token and with a malformed one', async () => {
      const none = await h.call(null, 'GET', '/v1/me')
      expectEnvelope(none, 401, 'UNAUTHENTICATED')
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/)

      const bad = await h.call('tvb_test_notarealtoken', 'GET', '/v1/me')
      expectEnvelope(bad, 401, 'UNAUTHENTICATED')
      expect(bad.headers['www-authenticate']).toMatch(/^Bearer/)
    })

    it('a token in the query string is never accepted', async () => {
      const t = await makeTenant(h.db)
      const res = await h.inject({ method: 'GET', url: `/v1/me?access_token=${t.token}` })
      expectEnvelope(res, 401, 'UNAUTHENTICATED')
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
    })
  })

  it('403 PERMISSION_DENIED when a VIEWER creates a token', async () => {
    const t = await makeTenant(h.db, { role: 'VIEWER' })
    const res = await h.call(t.token, 'POST', '/v1/tokens', { name: 'nope' })
    const error = expectEnvelope(res, 403, 'PERMISSION_DENIED')
    expect(error.details).toEqual({ required_permission: 'token.manage' })
  })

  describe('404', () => {
    it('ROUTE_NOT_FOUND for a path that does not exist', async () => {
      const t = await makeTenant(h.db)
      expectEnvelope(await h.call(t.token, 'GET', '/v1/nope'), 404, 'ROUTE_NOT_FOUND')
      expectEnvelope(await h.call(null, 'GET', '/v1/nope'), 404, 'ROUTE_NOT_FOUND')
    })

    it('NOT_FOUND for a resource that does not exist', async () => {
      const t = await makeTenant(h.db)
      expectEnvelope(await h.call(t.token, 'GET', '/v1/tokens/tok_unknown'), 404, 'NOT_FOUND')
    })
  })

  it('405 METHOD_NOT_ALLOWED with Allow', async () => {
    const t = await makeTenant(h.db)
    const res = await h.call(t.token, 'PUT', '/v1/me', { x: 1 })
    expectEnvelope(res, 405, 'METHOD_NOT_ALLOWED')
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS')

    const del = await h.call(t.token, 'DELETE', '/v1/tokens')
    expectEnvelope(del, 405, 'METHOD_NOT_ALLOWED')
    const allow = String(del.headers.allow).split(/,\s*/)
    expect(allow).toEqual(expect.arrayContaining(['GET', 'POST', 'OPTIONS']))
    expect(allow).not.toContain('DELETE')
  })

  describe('406', () => {
    it('NOT_ACCEPTABLE when Accept allows no JSON', async () => {
      const t = await makeTenant(h.db)
      const res = await h.call(t.token, 'GET', '/v1/me', undefined, { accept: 'text/html' })
      expectEnvelope(res, 406, 'NOT_ACCEPTABLE')
    })

    it.each(['*/*', 'application/*', 'application/json', 'application/json;q=0.9, text/html'])('Accept: %s is fine', async (accept) => {
      const t = await makeTenant(h.db)
      const res = await h.call(t.token, 'GET', '/v1/me', undefined, { accept })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().partner.id).toBe(t.partnerId)
    })
  })

  it('413 PAYLOAD_TOO_LARGE for a body over 1 MiB, and nothing is created', async () => {
    const t = await makeTenant(h.db)
    const before = await tokenCount(t.token)
    const res = await h.call(t.token, 'POST', '/v1/tokens', JSON.stringify({ name: 'big', padding: 'x'.repeat(1_100_000) }))
    expectEnvelope(res, 413, 'PAYLOAD_TOO_LARGE')
    expect(await tokenCount(t.token)).toBe(before)
  })

  it.each([
    ['text/plain', 'name=x'],
    ['application/xml', '<token><name>x</name></token>'],
  ])('415 UNSUPPORTED_MEDIA_TYPE for %s', async (contentType, payload) => {
    const t = await makeTenant(h.db)
    const before = await tokenCount(t.token)
    const res = await h.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${t.token}`, 'content-type': contentType }, payload })
    expectEnvelope(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
    expect(await tokenCount(t.token)).toBe(before)
  })

  it('500 INTERNAL_ERROR leaks no internals, is logged with its request id, and is retryable', async () => {
    const boom = async (): Promise<never> => {
      throw new Error('secret internal detail pg://user:pw')
    }
    const db: Db = { kind: 'pglite', queryCount: 0, query: boom, transaction: boom, close: async () => {} }
    const logs = new LogCapture()
    // a db that fails every query: the cursor key is given, so the app builds without one
    const { app } = await buildApp({ config: testConfig(), db, logger: createLogger('error', logs), cursorKey: TEST_CURSOR_KEY })
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${generateToken('test').secret}` } })
      const error = expectEnvelope(res, 500, 'INTERNAL_ERROR')
      expect(error.retry_advice).toBe('retryable')
      expect(res.body).not.toContain('secret internal detail')
      expect(res.body).not.toContain('pg://')
      expect(res.body).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules|Error:/)
      expect(error.request_id).toMatch(/^req_/)
      // the details are for the operator: in the log, under the same request id
      expect(logs.text).toContain('secret internal detail')
      expect(logs.text).toContain(error.request_id)
    } finally {
      await app.close()
    }
  })

  describe('OPTIONS and HEAD', () => {
    it('OPTIONS answers 204 with Allow', async () => {
      const res = await h.inject({ method: 'OPTIONS', url: '/v1/tokens' })
      expect(res.statusCode).toBe(204)
      expect(res.body).toBe('')
      const allow = String(res.headers.allow).split(/,\s*/)
      expect(allow).toEqual(expect.arrayContaining(['GET', 'POST', 'OPTIONS']))
      expect(typeof res.headers['x-request-id']).toBe('string')
    })

    it('HEAD works wherever GET does, without a body', async () => {
      const t = await makeTenant(h.db)
      const me = await h.call(t.token, 'HEAD', '/v1/me')
      expect(me.statusCode).toBe(200)
      expect(me.body).toBe('')
      expect(me.headers['content-type']).toMatch(/^application\/json/)

      const health = await h.inject({ method: 'HEAD', url: '/healthz' })
      expect(health.statusCode).toBe(200)
      expect(health.body).toBe('')
    })
  })

  describe('X-Request-Id', () => {
    it('a sane client value is echoed in the header and in error bodies', async () => {
      const t = await makeTenant(h.db)
      const ok = await h.call(t.token, 'GET', '/v1/me', undefined, { 'x-request-id': 'abc-123' })
      expect(ok.statusCode).toBe(200)
      expect(ok.headers['x-request-id']).toBe('abc-123')

      const err = await h.call(t.token, 'GET', '/v1/tokens/tok_unknown', undefined, { 'x-request-id': 'abc-123' })
      expect(expectEnvelope(err, 404, 'NOT_FOUND').request_id).toBe('abc-123')
    })

    it.each([
      ['300 characters', 'a'.repeat(300)],
      ['markup', '<script>alert(1)</script>'],
      ['spaces', 'abc 123'],
    ])('an insane one (%s) is replaced by a generated req_ id', async (_label, value) => {
      const res = await h.inject({ method: 'GET', url: '/v1/nope', headers: { 'x-request-id': value } })
      const error = expectEnvelope(res, 404, 'ROUTE_NOT_FOUND')
      expect(res.headers['x-request-id']).not.toBe(value)
      expect(res.headers['x-request-id']).toMatch(/^req_[0-9a-z]{26}$/)
      expect(error.request_id).toBe(res.headers['x-request-id'])
    })

    it('every response carries a generated req_ id when the client sends none', async () => {
      const a = await h.inject({ method: 'GET', url: '/healthz' })
      const b = await h.inject({ method: 'GET', url: '/healthz' })
      expect(a.headers['x-request-id']).toMatch(/^req_/)
      expect(b.headers['x-request-id']).toMatch(/^req_/)
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id'])
    })
  })

  it('security headers on success and error responses, and no X-Powered-By', async () => {
    const t = await makeTenant(h.db)
    for (const res of [await h.call(t.token, 'GET', '/v1/me'), await h.call(null, 'GET', '/v1/me'), await h.call(t.token, 'GET', '/v1/nope')]) {
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/)
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.headers['x-powered-by']).toBeUndefined()
    }
  })

  it('the .json suffix is an alias', async () => {
    const t = await makeTenant(h.db)
    const plain = await h.call(t.token, 'GET', '/v1/me')
    const alias = await h.call(t.token, 'GET', '/v1/me.json')
    expect(alias.statusCode).toBe(200)
    expect(alias.headers['content-type']).toMatch(/^application\/json/)
    expect(alias.json()).toEqual(plain.json())

    const list = await h.call(t.token, 'GET', '/v1/tokens.json')
    expect(list.statusCode).toBe(200)
    expect((list.json() as { data: { id: string }[] }).data.map((x) => x.id)).toContain(t.tokenId)
  })
})
