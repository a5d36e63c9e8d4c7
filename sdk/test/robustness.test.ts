import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CursorList, NumberedList, Travobooks, TravobooksError } from '../src/index.ts'
import { adviceFor } from '../src/errors.ts'
import { serializeQuery } from '../src/query.ts'
import { randomUuid, sleep } from '../src/retrying-fetch.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

interface Local {
  base: string
  /** Every request received, in order: method and URL. */
  requests: string[]
}

const servers: { close(): void; closeAllConnections(): void }[] = []
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    server.close()
  }
})

/** A tiny local HTTP server answering each request with `answer` (which may never answer). */
async function localServer(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<Local> {
  const requests: string[] = []
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`)
    answer(request, response)
  })
  servers.push(server)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

const neverAnswers = () => undefined

async function rejection(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (e: unknown) => e,
  )
}

describe('timeouts and abort signals', () => {
  it('gives up on a server that never answers after timeoutMs, with code TIMEOUT', async () => {
    const local = await localServer(neverAnswers)
    const tvb = new Travobooks({ token: 'tvb_test_x', baseUrl: local.base, timeoutMs: 300, maxRetries: 0 })
    const started = Date.now()
    const error = await rejection(tvb.me())
    const took = Date.now() - started
    expect(error).toBeInstanceOf(TravobooksError)
    expect(error).toMatchObject({ code: 'TIMEOUT', status: 0, retry_advice: 'retryable' })
    expect(took).toBeGreaterThanOrEqual(280)
    expect(took).toBeLessThan(5_000)
    expect(local.requests).toEqual(['GET /v1/me'])
  })

  it('resends a timed-out GET, but never a timed-out PUT', async () => {
    const local = await localServer(neverAnswers)
    const tvb = new Travobooks({ token: 'tvb_test_x', baseUrl: local.base, timeoutMs: 200, maxRetries: 1 })
    expect(await rejection(tvb.listings.get('lst_1'))).toMatchObject({ code: 'TIMEOUT', status: 0 })
    expect(local.requests).toEqual(['GET /v1/listings/lst_1', 'GET /v1/listings/lst_1'])

    local.requests.length = 0
    const put = tvb.customers.replace('cus_1', { team_id: 'team_1', name: 'An' } as Parameters<typeof tvb.customers.replace>[1])
    expect(await rejection(put)).toMatchObject({ code: 'TIMEOUT', status: 0 })
    expect(local.requests).toEqual(['PUT /v1/customers/cus_1'])
  })

  it('stops at once when the caller aborts, during an attempt or a back-off sleep', async () => {
    const hanging = await localServer(neverAnswers)
    const tvb = new Travobooks({ token: 'tvb_test_x', baseUrl: hanging.base })
    const during = new AbortController()
    setTimeout(() => during.abort(), 100)
    let started = Date.now()
    const aborted = await rejection(tvb.listings.get('lst_1', { signal: during.signal }))
    expect(aborted).not.toBeInstanceOf(TravobooksError)
    expect((aborted as Error).name).toBe('AbortError')
    expect(Date.now() - started).toBeLessThan(2_000)

    // 503 with Retry-After: 30 would make the client sleep 30 s before its retry.
    const busy = await localServer((_, response) => {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '30' })
      response.end(JSON.stringify({ error: { code: 'SERVICE_UNAVAILABLE', message: 'busy', retry_advice: 'retryable' } }))
    })
    const retrying = new Travobooks({ token: 'tvb_test_x', baseUrl: busy.base })
    const sleeping = new AbortController()
    setTimeout(() => sleeping.abort(), 300)
    started = Date.now()
    const abortedSleep = await rejection(retrying.customers.create({ team_id: 'team_1', name: 'An' } as Parameters<typeof retrying.customers.create>[0], { signal: sleeping.signal }))
    expect((abortedSleep as Error).name).toBe('AbortError')
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(busy.requests).toEqual(['POST /v1/customers'])

    const already = new AbortController()
    already.abort()
    expect((await rejection(tvb.me({ signal: already.signal })) as Error).name).toBe('AbortError')
  })

  it('sleep rejects with the abort reason and clears its timer', async () => {
    const controller = new AbortController()
    const waiting = sleep(60_000, controller.signal)
    controller.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
    await expect(sleep(10, new AbortController().signal)).resolves.toBeUndefined()
  })
})

describe('idempotency keys without crypto.randomUUID', () => {
  it('makes version 4 UUIDs from getRandomValues when randomUUID is missing (insecure browser contexts)', () => {
    const secure = globalThis.crypto
    // What a page served over plain http (not localhost) has: getRandomValues only.
    vi.stubGlobal('crypto', { getRandomValues: (array: Uint8Array) => secure.getRandomValues(array) })
    try {
      expect('randomUUID' in globalThis.crypto).toBe(false)
      const keys = Array.from({ length: 200 }, () => randomUuid())
      for (const key of keys) expect(key).toMatch(UUID)
      expect(new Set(keys).size).toBe(keys.length)
    } finally {
      vi.unstubAllGlobals()
    }
    expect(randomUuid()).toMatch(UUID)
  })
})

describe('pagination guard', () => {
  it('throws PAGINATION_LOOP when a page answers more with the cursor it was sent', async () => {
    const sent: (string | undefined)[] = []
    const cursorList = new CursorList<number>(async (cursor) => {
      sent.push(cursor)
      return { data: [sent.length], pagination: { next_cursor: 'cur_same', has_more: true } }
    })
    const error = await rejection(cursorList.toArray())
    expect(error).toBeInstanceOf(TravobooksError)
    expect(error).toMatchObject({ code: 'PAGINATION_LOOP', details: { cursor: 'cur_same' } })
    expect(sent).toEqual([undefined, 'cur_same'])

    const numbered = new NumberedList<number>(async () => ({ items: [1], total: 9, page: 1, limit: 1, total_pages: 9, next_cursor: 'cur_same' }))
    expect(await rejection(numbered.toArray())).toMatchObject({ code: 'PAGINATION_LOOP' })
  })
})

describe('query strings and retry advice', () => {
  it('sends group_by= for an empty group_by and leaves out other empty arrays', () => {
    expect(serializeQuery({ group_by: [], status: [], from: '2026-01-01' })).toBe('group_by=&from=2026-01-01')
    expect(serializeQuery({ group_by: ['listing', 'day'] })).toBe('group_by=listing%2Cday')
  })

  it('takes the advice of a flat error from the catalogue, and the status only for unknown codes', () => {
    expect(adviceFor(404, 'EXTERNAL_BOOKING_NOT_ACCESSIBLE')).toBe('non_retryable')
    expect(adviceFor(409, 'LISTING_NOT_BOOKABLE')).toBe('non_retryable')
    expect(adviceFor(500, 'INTERNAL_ERROR')).toBe('retryable')
    expect(adviceFor(502, 'SOMETHING_NEW')).toBe('retryable')
    expect(adviceFor(400, 'SOMETHING_NEW')).toBe('retry_after_fix')
    expect(adviceFor(400, 'toString')).toBe('retry_after_fix')
  })
})
