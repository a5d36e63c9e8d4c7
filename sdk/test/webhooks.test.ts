import { createServer } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { TIMEOUT, sleep } from '../../test/helpers/processes.ts'
import { WebhookVerificationError, verifyWebhook } from '../src/index.ts'
import { sdkServer } from './fixtures.ts'

interface Received {
  body: string
  headers: IncomingHttpHeaders
}

const receivers: { close(): void }[] = []
afterEach(() => {
  for (const receiver of receivers.splice(0)) receiver.close()
})

/** An HTTP endpoint on 127.0.0.1 that records each delivery exactly as it arrived (raw body). */
async function receiver() {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      received.push({ body, headers: req.headers })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  receivers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received }
}

describe('webhook verification', () => {
  it('verifies a delivery the server signed, and rejects a tampered body, a wrong secret and a missing header', { timeout: TIMEOUT }, async () => {
    // Embedded and with its dispatcher on: delivering needs a worker, and on a shared PostgreSQL
    // it would deliver other test files' events too.
    const { tvb } = await sdkServer({ embedded: true, env: { RUN_WORKERS: 'true', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } })
    const hooks = await receiver()
    const endpoint = await tvb.webhooks.create({ url: hooks.url, description: 'SDK test receiver' })
    expect(endpoint.secret).toMatch(/^whsec_/)

    await tvb.webhooks.test(endpoint.id)
    const deadline = Date.now() + 20_000
    while (hooks.received.length === 0 && Date.now() < deadline) await sleep(100)
    const delivery = hooks.received[0]
    expect(delivery, 'no delivery arrived within 20 s').toBeDefined()

    const event = tvb.webhooks.verify(delivery!.body, delivery!.headers, endpoint.secret)
    expect(event.event_type).toBe('webhook.test')
    expect(event.id).toMatch(/^evt_/)
    expect(event.id).toBe(JSON.parse(delivery!.body).id)

    const tampered = delivery!.body.replace('webhook.test', 'booking.created')
    expect(tampered).not.toBe(delivery!.body)
    expect(() => tvb.webhooks.verify(tampered, delivery!.headers, endpoint.secret)).toThrow(WebhookVerificationError)
    const other = await tvb.webhooks.create({ url: hooks.url })
    expect(() => tvb.webhooks.verify(delivery!.body, delivery!.headers, other.secret)).toThrow(WebhookVerificationError)
    const { 'webhook-signature': _signature, ...unsigned } = delivery!.headers
    expect(_signature).toBeDefined()
    expect(() => tvb.webhooks.verify(delivery!.body, unsigned, endpoint.secret)).toThrow(WebhookVerificationError)
  })

  it('verifies what any Standard Webhooks signer signs, given fetch Headers or raw bytes', () => {
    const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')
    const body = JSON.stringify({ id: 'evt_01jq3v5x7e8f9g0h1j2k3m4n5p', event_type: 'booking.created', data: { id: 'bkg_01jq3v5x7e8f9g0h1j2k3m4n5p' } })
    const now = new Date()
    const signature = new Webhook(secret).sign('msg_1', now, body)
    const headers = new Headers({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature })

    expect(verifyWebhook(body, headers, secret)).toMatchObject({ event_type: 'booking.created' })
    expect(verifyWebhook(new TextEncoder().encode(body), headers, secret)).toMatchObject({ id: 'evt_01jq3v5x7e8f9g0h1j2k3m4n5p' })
    expect(() => verifyWebhook(body.replace('booking.created', 'booking.cancelled'), headers, secret)).toThrow(WebhookVerificationError)

    // An old timestamp is refused even with a valid signature (replay protection).
    const old = new Date(now.getTime() - 3600_000)
    const oldHeaders = new Headers({ 'webhook-id': 'msg_2', 'webhook-timestamp': String(Math.floor(old.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_2', old, body) })
    expect(() => verifyWebhook(body, oldHeaders, secret)).toThrow(WebhookVerificationError)

    // A Headers from another implementation (a framework's, a polyfill's) is not `instanceof Headers`.
    class ForeignHeaders {
      readonly #values: Map<string, string>
      constructor(values: Record<string, string>) {
        this.#values = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]))
      }
      get(name: string): string | null {
        return this.#values.get(name.toLowerCase()) ?? null
      }
      forEach(callback: (value: string, key: string) => void): void {
        this.#values.forEach(callback)
      }
    }
    const foreign = new ForeignHeaders({ 'Webhook-Id': 'msg_1', 'Webhook-Timestamp': String(Math.floor(now.getTime() / 1000)), 'Webhook-Signature': signature })
    expect(foreign).not.toBeInstanceOf(Headers)
    expect(verifyWebhook(body, foreign as unknown as Headers, secret)).toMatchObject({ event_type: 'booking.created' })
  })
})
