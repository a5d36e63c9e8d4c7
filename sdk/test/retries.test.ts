import { describe, expect, it } from 'vitest'
import { TIMEOUT } from '../../test/helpers/processes.ts'
import { TravobooksError } from '../src/index.ts'
import { retryAfterMs } from '../src/retrying-fetch.ts'
import { newCustomer, newListing, sdkServer, stayDay } from './fixtures.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

interface Attempt {
  method: string
  path: string
  key: string | null
  /** What the client was answered: the server's status, or the fault's. */
  status: number
  replayed: string | null
  at: number
}

type Fault = (request: Request, forward: () => Promise<Response>) => Promise<Response | undefined>

/**
 * A fetch in front of the real server that records every attempt and lets a test answer some of
 * them with a fault (a 503 after the server did the work, a 429, a dropped connection) instead.
 */
function faultyFetch(fault: Fault) {
  const attempts: Attempt[] = []
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const record: Attempt = { method: request.method, path: new URL(request.url).pathname, key: request.headers.get('idempotency-key'), status: 0, replayed: null, at: Date.now() }
    attempts.push(record)
    const forward = async () => {
      const response = await fetch(request.clone())
      record.replayed = response.headers.get('idempotent-replayed')
      return response
    }
    const response = (await fault(request, forward)) ?? (await forward())
    record.status = response.status
    return response
  }
  return { attempts, fetch: fetchImpl as typeof fetch }
}

const errorBody = (code: string, retryAdvice: string) => JSON.stringify({ error: { code, message: 'injected by the test', request_id: 'req_injected', retry_advice: retryAdvice, doc_url: 'http://localhost/docs/errors' } })
const injected = (status: number, code: string, retryAdvice: string, headers: Record<string, string> = {}) =>
  new Response(errorBody(code, retryAdvice), { status, headers: { 'content-type': 'application/json', ...headers } })

describe('retries and idempotency keys', () => {
  it('resends a POST whose answer was lost with the same key, so the server replays it instead of booking twice', { timeout: TIMEOUT }, async () => {
    const { tvb, teamId, client } = await sdkServer()
    const listing = await newListing(tvb, teamId)
    const customer = await newCustomer(tvb, teamId)

    let lost = 0
    const proxy = faultyFetch(async (request, forward) => {
      if (request.method !== 'POST' || lost++ > 0) return undefined
      await forward() // the server books it; the client never hears
      return injected(503, 'SERVICE_UNAVAILABLE', 'retryable', { 'retry-after': '1' })
    })
    const flaky = client({ fetch: proxy.fetch })
    const started = Date.now()
    const booking = await flaky.bookings.create({ listing_id: listing.id, customer_id: customer.id, check_in: stayDay(0), check_out: stayDay(2), guests: 2 })

    expect(proxy.attempts.map((a) => a.status)).toEqual([503, 201])
    const [first, second] = proxy.attempts
    expect(first!.key).toMatch(UUID)
    expect(second!.key).toBe(first!.key)
    expect(second!.replayed).toBe('true')
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000) // Retry-After: 1 was honoured
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
    const all = await tvb.bookings.list({ listing_id: listing.id }).toArray()
    expect(all.map((b) => b.id)).toEqual([booking.id])

    // Each logical POST gets a key of its own; a key the caller passes is used as is.
    await flaky.bookings.confirm(booking.id)
    expect(proxy.attempts[2]!.key).toMatch(UUID)
    expect(proxy.attempts[2]!.key).not.toBe(first!.key)
    const key = `order-${booking.id}`
    const again = await flaky.bookings.create({ listing_id: listing.id, customer_id: customer.id, check_in: stayDay(5), check_out: stayDay(6), guests: 1 }, { idempotencyKey: key })
    const replay = await flaky.bookings.create({ listing_id: listing.id, customer_id: customer.id, check_in: stayDay(5), check_out: stayDay(6), guests: 1 }, { idempotencyKey: key })
    expect(replay.id).toBe(again.id)
    expect(proxy.attempts.slice(3).map((a) => [a.key, a.replayed])).toEqual([
      [key, null],
      [key, 'true'],
    ])
    // GETs carry no key.
    await flaky.bookings.get(booking.id)
    expect(proxy.attempts.at(-1)).toMatchObject({ method: 'GET', key: null })
  })

  it('retries 429, 503, 409 in progress and network failures with back-off, and never what is not retryable', { timeout: TIMEOUT }, async () => {
    const { tvb, teamId, client } = await sdkServer()
    const listing = await newListing(tvb, teamId)
    const customer = await newCustomer(tvb, teamId)

    // 429 (Retry-After: 0), then 409 IDEMPOTENCY_REQUEST_IN_PROGRESS (no Retry-After: jittered back-off), then through.
    const queue = [injected(429, 'RATE_LIMIT_EXCEEDED', 'retryable', { 'retry-after': '0' }), injected(409, 'IDEMPOTENCY_REQUEST_IN_PROGRESS', 'retryable')]
    const transient = faultyFetch(async () => queue.shift())
    const held = await client({ fetch: transient.fetch }).bookings.create({ listing_id: listing.id, customer_id: customer.id, check_in: stayDay(0), check_out: stayDay(1), guests: 1 })
    expect(held.status).toBe('HELD')
    expect(transient.attempts.map((a) => a.status)).toEqual([429, 409, 201])
    expect(new Set(transient.attempts.map((a) => a.key)).size).toBe(1)

    // A retryable status whose body says non_retryable is not retried.
    const refused = faultyFetch(async () => injected(503, 'SERVICE_UNAVAILABLE', 'non_retryable', { 'retry-after': '0' }))
    const noRetry = await client({ fetch: refused.fetch }).me().catch((e: unknown) => e)
    expect(noRetry).toBeInstanceOf(TravobooksError)
    expect(noRetry).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', retry_advice: 'non_retryable' })
    expect(refused.attempts).toHaveLength(1)

    // A real 409 state conflict (cancelled, then confirmed) is the caller's to fix: one attempt.
    await tvb.bookings.cancel(held.id, { reason: 'test' })
    const conflicts = faultyFetch(async () => undefined)
    const conflict = await client({ fetch: conflicts.fetch }).bookings.confirm(held.id).catch((e: unknown) => e)
    expect(conflict).toMatchObject({ status: 409, code: 'BOOKING_INVALID_TRANSITION' })
    expect(conflicts.attempts).toHaveLength(1)

    // Retries stop after maxRetries, and the last answer is the error.
    const always = faultyFetch(async () => injected(429, 'RATE_LIMIT_EXCEEDED', 'retryable', { 'retry-after': '0' }))
    const exhausted = await client({ fetch: always.fetch, maxRetries: 2 }).me().catch((e: unknown) => e)
    expect(exhausted).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED', retry_advice: 'retryable' })
    expect(always.attempts).toHaveLength(3)

    // A dropped connection: a GET is resent; a PUT is not (its second answer could misreport the first).
    let drops = 1
    const dropping = faultyFetch(async () => {
      if (drops-- > 0) throw new TypeError('fetch failed')
      return undefined
    })
    expect((await client({ fetch: dropping.fetch }).listings.get(listing.id)).id).toBe(listing.id)
    expect(dropping.attempts.map((a) => a.method)).toEqual(['GET', 'GET'])
    drops = 1
    const putFailure = await client({ fetch: dropping.fetch }).listings.replace(listing.id, { ...listing, description: 'x' }).catch((e: unknown) => e)
    expect(putFailure).toMatchObject({ code: 'NETWORK_ERROR', status: 0 })
    expect(dropping.attempts.slice(2).map((a) => a.method)).toEqual(['PUT'])
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-05-02T15:22:00Z')
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }), now)).toBe(7000)
    expect(retryAfterMs(new Headers({ 'retry-after': 'Sat, 02 May 2026 15:22:30 GMT' }), now)).toBe(30_000)
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined()
    expect(retryAfterMs(new Headers(), now)).toBeUndefined()
  })
})
