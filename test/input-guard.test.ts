import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { guestDetailsBody } from './helpers/bodies.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import { listingBody } from './helpers/listings.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * Regression tests for the audit's input defects: error amplification, NUL bytes and lone
 * surrogates, invalid UTF-8, framework and parser errors outside the envelope, loose numbers.
 */
let h: TestApp
let t: Tenant
let listingId: string
let customerId: string
let bookingId: string

beforeAll(async () => {
  h = await testApp()
  t = await makeTenant(h.db, { teams: 1 })
  const listing = await h.call(t.token, 'POST', '/v1/listings', listingBody({ name: 'Guard villa' }))
  expect(listing.statusCode, listing.body).toBe(201)
  listingId = listing.json().id
  const customer = await h.call(t.token, 'POST', '/v1/customers', { name: 'Guard customer' })
  customerId = customer.json().id
  const booking = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: '2030-01-10', check_out: '2030-01-12', guests: 2 })
  expect(booking.statusCode, booking.body).toBe(201)
  bookingId = booking.json().id
})

function expectStandardHeaders(res: { headers: Record<string, unknown> }): void {
  expect(res.headers['x-request-id']).toBeTruthy()
  expect(res.headers['strict-transport-security']).toMatch(/max-age=/)
  expect(res.headers['x-content-type-options']).toBe('nosniff')
  expect(res.headers['cache-control']).toBe('no-store')
}

function expectFieldError(res: LightMyRequestResponse, field: string, location: string): void {
  expect(res.statusCode, res.body).toBe(400)
  const error = res.json().error
  expect(error.code).toBe('VALIDATION_ERROR')
  expect(error.details.fields).toContainEqual(expect.objectContaining({ field, location }))
  expectStandardHeaders(res)
}

describe('error amplification is bounded', () => {
  it('300,000 bad scopes: a small 400 (the audit saw 197 MB)', async () => {
    const scopes = JSON.stringify(new Array(300_000).fill(0)) // 600 KB, under the 1 MiB body limit
    const res = await h.call(t.token, 'POST', '/v1/tokens', `{"name":"amplify","scopes":${scopes}}`)
    expect(res.statusCode).toBe(400)
    expect(res.body.length).toBeLessThan(20_000)
    expect(res.json().error.details.fields).toEqual([expect.objectContaining({ field: 'scopes', code: 'maxItems' })])
  })

  it('80,000 unknown keys on a customer: a small 400 (the audit saw 10.3 MB)', async () => {
    const body: Record<string, number> = { name: 1 }
    for (let i = 0; i < 80_000; i++) body[i.toString(36)] = 0
    const res = await h.call(t.token, 'POST', '/v1/customers', body)
    expect(res.statusCode).toBe(400)
    expect(res.body.length).toBeLessThan(20_000)
    expect(res.json().error.details.fields[0]).toMatchObject({ field: '(root)', code: 'maxProperties' })
  })

  it('many errors within the bounds are listed up to 50, and say they are truncated', async () => {
    const body: Record<string, number> = {}
    for (let i = 0; i < 150; i++) body[`unknown_${i}`] = i
    const res = await h.call(t.token, 'POST', '/v1/customers', body)
    expect(res.statusCode).toBe(400)
    const error = res.json().error
    expect(error.details.fields).toHaveLength(50)
    expect(error.details.truncated).toBe(true)
    expect(error.details.total_errors).toBeGreaterThan(150)
    expect(error.message).toMatch(/first 50/)
  })

  it('deeply nested JSON is refused without recursion trouble', async () => {
    const deep = '['.repeat(5_000) + ']'.repeat(5_000)
    const res = await h.call(t.token, 'POST', '/v1/customers', `{"name":"x","email":${deep}}`)
    expect(res.statusCode).toBe(400)
    expect(res.json().error.details.fields[0].code).toBe('max_depth')
  })
})

describe('NUL bytes, lone surrogates and invalid UTF-8 are a 400 naming the field, never a 500', () => {
  it('in a path id', async () => {
    for (const url of ['/v1/bookings/%00', `/v1/bookings/${bookingId}%00`, '/v1/customers/a%00b', '/v1/listings/%ED%A0%80']) {
      const res = await h.call(t.token, 'GET', url)
      if (url.endsWith('%ED%A0%80')) {
        // an encoded surrogate is not valid UTF-8: the URL itself is refused
        expect(res.statusCode, url).toBe(400)
        expect(res.json().error.code).toBe('INVALID_REQUEST')
        continue
      }
      expectFieldError(res, 'id', 'path')
    }
  })

  it('in a query filter', async () => {
    expectFieldError(await h.call(t.token, 'GET', '/v1/listings?q=a%00b'), 'q', 'query')
    expectFieldError(await h.call(t.token, 'GET', '/v1/bookings?status=HELD%00'), 'status', 'query')
    expectFieldError(await h.call(t.token, 'GET', '/v1/customers?q=%00'), 'q', 'query')
  })

  it('in body strings, nested ones and keys included', async () => {
    expectFieldError(await h.call(t.token, 'POST', '/v1/customers', { name: 'a\u0000b' }), 'name', 'body')
    expectFieldError(await h.call(t.token, 'POST', `/v1/bookings/${bookingId}:cancel`, { reason: 'no\u0000' }), 'reason', 'body')
    expectFieldError(await h.call(t.token, 'PUT', `/v1/bookings/${bookingId}/guest-details`, guestDetailsBody({ lead_guest_name: 'Lan', additional_guest_names: ['ok', 'b\u0000'] })), 'additional_guest_names[1]', 'body')
    // a lone surrogate written as a JSON escape
    expectFieldError(await h.call(t.token, 'PUT', `/v1/bookings/${bookingId}/guest-details`, '{"lead_guest_name":"Lan","lead_guest_email":null,"lead_guest_phone":null,"additional_guest_names":[],"special_requests":"\\ud800"}'), 'special_requests', 'body')
    expectFieldError(await h.call(t.token, 'POST', '/v1/customers', '{"name":"x","\\u0000":1}'), '\\u0000', 'body')
    // nothing was written
    const booking = (await h.call(t.token, 'GET', `/v1/bookings/${bookingId}`)).json()
    expect(booking.status).toBe('HELD')
    expect(booking.guest_details).toBeNull()
  })

  it('a body that is not valid UTF-8 is INVALID_JSON, not silently stored as U+FFFD', async () => {
    const payload = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')])
    const res = await h.inject({ method: 'POST', url: '/v1/customers', payload, headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' } })
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().error.code).toBe('INVALID_JSON')
    expect(res.json().error.message).toMatch(/UTF-8/)
  })
})

describe('framework and parser errors come in the envelope with the standard headers', () => {
  it('a path that is not valid percent-encoded UTF-8', async () => {
    for (const url of ['/v1/bookings/%C3%28', '/v1/bookings/%E0%A4%A']) {
      const res = await h.call(t.token, 'GET', url)
      expect(res.statusCode, url).toBe(400)
      expect(res.json().error).toMatchObject({ code: 'INVALID_REQUEST', retry_advice: 'retry_after_fix' })
      expectStandardHeaders(res)
    }
  })

  it('an id of 101–128 characters is an unknown id (404), a longer one a 400, a path segment over 2,048 a 414', async () => {
    const unknown = await h.call(t.token, 'GET', `/v1/bookings/${'b'.repeat(120)}`)
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().error.code).toBe('NOT_FOUND')
    expectFieldError(await h.call(t.token, 'GET', `/v1/bookings/${'b'.repeat(500)}`), 'id', 'path')
    const tooLong = await h.call(t.token, 'GET', `/v1/bookings/${'b'.repeat(3_000)}`)
    expect(tooLong.statusCode).toBe(414)
    expect(tooLong.json().error.code).toBe('URI_TOO_LONG')
    expectStandardHeaders(tooLong)
  })

  it('406 carries the rate-limit headers', async () => {
    const res = await h.call(t.token, 'GET', '/v1/bookings', undefined, { accept: 'text/html' })
    expect(res.statusCode).toBe(406)
    expect(res.headers['x-ratelimit-bucket']).toBe('read')
    expectStandardHeaders(res)
  })

  it('numbers in a query are decimal digits: limit=0x10, limit=%205, limit=1e1 are 400', async () => {
    for (const limit of ['0x10', '%205', '1e1', '5.0', '+5']) expectFieldError(await h.call(t.token, 'GET', `/v1/bookings?limit=${limit}`), 'limit', 'query')
    expect((await h.call(t.token, 'GET', '/v1/bookings?limit=5')).statusCode).toBe(200)
  })

  describe('over a real socket', () => {
    let port: number
    beforeAll(async () => {
      await h.app.listen({ host: '127.0.0.1', port: 0 })
      port = (h.app.server.address() as AddressInfo).port
    })
    afterAll(async () => {
      await h.app.close()
    })

    function raw(request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
      return new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(request))
        let data = ''
        socket.on('data', (chunk) => (data += chunk.toString('latin1')))
        socket.on('error', reject)
        socket.on('close', () => {
          const [head = '', body = ''] = data.split('\r\n\r\n')
          const [statusLine = '', ...lines] = head.split('\r\n')
          const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
          resolve({ status: Number(statusLine.split(' ')[1]), headers, body })
        })
      })
    }

    it('oversized headers → 431 in the envelope', async () => {
      const res = await raw(`GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      expect(res.status).toBe(431)
      expect(JSON.parse(res.body).error.code).toBe('HEADERS_TOO_LARGE')
      expectStandardHeaders(res)
    })

    it('under the External API, the same refusals come in its flat body', async () => {
      const big = await raw(`GET /api/v1/external/listings HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      expect(big.status).toBe(431)
      expect(JSON.parse(big.body)).toEqual({ code: 'HEADERS_TOO_LARGE', message: expect.any(String), details: {} })
      expectStandardHeaders(big)
      const smuggled = await raw('POST /api/v1/external/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
      expect(smuggled.status).toBe(400)
      expect(JSON.parse(smuggled.body)).toEqual({ code: 'INVALID_REQUEST', message: expect.any(String), details: {} })
      // a path that only starts like it is not the surface
      const other = await raw(`GET /api/v1/externals HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      expect(JSON.parse(other.body).error.code).toBe('HEADERS_TOO_LARGE')
    })

    it('Content-Length with Transfer-Encoding, and two different Content-Lengths → 400 in the envelope', async () => {
      for (const request of [
        'POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      ]) {
        const res = await raw(request)
        expect(res.status).toBe(400)
        expect(JSON.parse(res.body).error.code).toBe('INVALID_REQUEST')
        expectStandardHeaders(res)
      }
    })
  })
})
