import { build } from 'esbuild'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it } from 'vitest'
import { launchChromium, recordPage } from '../../test/helpers/browser.ts'
import { ROOT, TIMEOUT, TOKEN_LINE, freshDataDir, startServer } from '../../test/helpers/processes.ts'
import type * as Sdk from '../src/index.ts'
import type { Browser } from 'playwright-core'

/**
 * The SDK claims to run in browsers: bundled for the browser platform (any Node built-in would fail
 * the build) and driven in a real Chromium against a real server on the page's own origin, so the
 * browser's fetch, Headers, TextEncoder and Web Crypto do the work, not Node's.
 */

const GLOBAL = 'TravobooksSdk'

/** The SDK as a browser would load it: one classic script that defines a global. */
async function browserBundle(): Promise<string> {
  const result = await build({
    entryPoints: [`${ROOT}/sdk/src/index.ts`],
    bundle: true,
    format: 'iife',
    globalName: GLOBAL,
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  expect(result.errors).toEqual([])
  expect(result.outputFiles).toHaveLength(1)
  return result.outputFiles[0]!.text
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)

let browser: Browser | undefined
afterAll(async () => {
  await browser?.close()
})

describe('the SDK in a real browser', () => {
  it('calls, paginates, books, fails typed and verifies webhooks from a Chromium page', { timeout: TIMEOUT }, async () => {
    const [bundle, server] = await Promise.all([browserBundle(), startServer(freshDataDir(), { embedded: true, env: { RUN_WORKERS: 'false' } })])
    // the banner's token: an embedded server has its own database even when the suite runs on PostgreSQL
    const token = TOKEN_LINE.exec(server.output())?.[1]
    expect(token, server.output()).toBeDefined()

    const secret = 'whsec_' + Buffer.from('browser-test-secret-0123456789ab').toString('base64')
    const payload = JSON.stringify({ id: 'evt_01jq3v5x7e8f9g0h1j2k3m4n5p', event_type: 'booking.created', data: { id: 'bkg_01jq3v5x7e8f9g0h1j2k3m4n5p' } })
    const signedAt = new Date()
    const webhook = {
      secret,
      payload,
      headers: { 'webhook-id': 'msg_browser', 'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_browser', signedAt, payload) },
    }

    browser = await launchChromium()
    const page = await browser.newPage()
    const log = recordPage(page, ['127.0.0.1'])
    const opened = await page.goto(`${server.base}/docs/guides`)
    expect(opened?.status()).toBe(200)
    await page.addScriptTag({ content: bundle })

    const args = { token: token!, global: GLOBAL, stay: { check_in: day(150), check_out: day(153), guests: 2 }, webhook }
    const results = await page.evaluate(async ({ token, global, stay, webhook }) => {
      const sdk = (window as unknown as Record<string, typeof Sdk>)[global]!
      const tvb = new sdk.Travobooks({ token, baseUrl: location.origin })
      const me = await tvb.me()

      const listed: string[] = []
      const list = tvb.listings.list({ limit: 2 })
      for await (const listing of list) listed.push(listing.id)

      // As on a plain-http page (not a secure context): no crypto.randomUUID, so the key comes from getRandomValues.
      Object.defineProperty(Crypto.prototype, 'randomUUID', { value: undefined, configurable: true })
      const keys: (string | null)[] = []
      const keyed = new sdk.Travobooks({
        token,
        baseUrl: location.origin,
        fetch: (input: RequestInfo | URL, init?: RequestInit) => {
          const request = new Request(input, init)
          keys.push(request.headers.get('idempotency-key'))
          return fetch(request)
        },
      })
      const held = await keyed.v2.bookings.create({ listing_id: 'lst_00000000demx00000000000001', customer_id: 'cus_00000000demx00000000000001', stay })
      const confirmed = await tvb.v2.bookings.confirm(held.id)

      let failure: { isTravobooksError: boolean; name: string; code: string; status: number; request_id: string | undefined } | undefined
      try {
        await tvb.bookings.get('bkg_nope')
      } catch (error) {
        const e = error as Sdk.TravobooksError
        failure = { isTravobooksError: error instanceof sdk.TravobooksError, name: e.name, code: e.code, status: e.status, request_id: e.request_id }
      }

      const event = tvb.webhooks.verify(webhook.payload, new Headers(webhook.headers), webhook.secret)
      let tamperRefused = false
      try {
        tvb.webhooks.verify(webhook.payload.replace('booking.created', 'booking.cancelled'), webhook.headers, webhook.secret)
      } catch (error) {
        tamperRefused = error instanceof sdk.WebhookVerificationError
      }

      return {
        isNode: typeof (globalThis as { process?: unknown }).process !== 'undefined',
        meTeams: me.teams.length,
        listed,
        held: { id: held.id, status: held.status },
        confirmed: { id: confirmed.id, status: confirmed.status },
        failure,
        event: { id: event.id, event_type: event.event_type },
        tamperRefused,
        randomUUID: typeof crypto.randomUUID,
        keys,
      }
    }, args)

    expect(results.isNode).toBe(false)
    expect(results.meTeams).toBeGreaterThan(0)
    // 9 demo listings at 2 a page: five pages, each listing once
    expect(results.listed).toHaveLength(9)
    expect(new Set(results.listed).size).toBe(9)
    expect(results.listed).toContain('lst_00000000demx00000000000001')
    expect(results.held.status).toBe('HELD')
    expect(results.confirmed).toEqual({ id: results.held.id, status: 'CONFIRMED' })
    expect(results.failure).toMatchObject({ isTravobooksError: true, name: 'TravobooksError', code: 'NOT_FOUND', status: 404 })
    expect(results.failure!.request_id).toMatch(/\S/)
    expect(results.event).toEqual({ id: 'evt_01jq3v5x7e8f9g0h1j2k3m4n5p', event_type: 'booking.created' })
    expect(results.tamperRefused).toBe(true)
    expect(results.randomUUID).toBe('undefined')
    expect(results.keys).toHaveLength(1)
    expect(results.keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)

    // the calls went out from the page itself, to its own origin
    const apiCalls = log.requests.filter((url) => new URL(url).pathname.startsWith('/v'))
    expect(apiCalls.some((url) => url.startsWith(`${server.base}/v1/listings?`) && url.includes('cursor='))).toBe(true)
    expect(apiCalls.filter((url) => !url.startsWith(server.base))).toEqual([])
    expect(log.foreign()).toEqual([])
    // the browser logs the deliberate 404 itself; nothing else may go wrong
    expect(log.errors).toEqual([`console: Failed to load resource: the server responded with a status of 404 (Not Found) (${server.base}/v1/bookings/bkg_nope)`])
  })
})
