import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it } from 'vitest'
import { jobRegistry } from '../src/jobs/registry.ts'
import { JobRunner } from '../src/jobs/runner.ts'
import { makeTenant, ownDatabaseOnPostgres, testApp } from './helpers/harness.ts'

/** A receiver on 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_TARGETS for the test), the dispatcher in-process. */
await ownDatabaseOnPostgres('webhooks_delivery')
const h = await testApp({ config: { webhookAllowPrivateTargets: true } })

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

async function receiver(answer: (r: Received) => number = () => 200): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      received.push(r)
      res.statusCode = answer(r)
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, server }
}

const jobs = new JobRunner(jobRegistry({ db: h.db, clock: h.clock, holdMinutes: 15, holdSweepSeconds: 0, webhookAllowPrivateTargets: true, webhookPollMs: 50 }), h.app.log)
jobs.start()
afterAll(() => jobs.stop())

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('webhook delivery', () => {
  it('delivers a customer.created event signed per Standard Webhooks, and records the attempt', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const r = await receiver()
    const created = await h.call(t.token, 'POST', '/v1/webhooks', { url: r.url, event_types: ['customer.created'] })
    expect(created.statusCode, created.body).toBe(201)
    const { id, secret } = created.json()
    const customer = await h.call(t.token, 'POST', '/v1/customers', { name: 'An' })
    expect(customer.statusCode).toBe(201)
    const got = await until(() => r.received[0])
    const payload = new Webhook(secret).verify(got.body, { 'webhook-id': got.headers['webhook-id'] as string, 'webhook-timestamp': got.headers['webhook-timestamp'] as string, 'webhook-signature': got.headers['webhook-signature'] as string }) as Record<string, unknown>
    expect(payload).toMatchObject({ event_type: 'customer.created', data: customer.json(), team_id: t.teamIds[0], mode: 'test', sequence: 1 })
    expect(got.headers['webhook-id']).toBe(payload.id)
    const deliveries = await until(async () => {
      const res = await h.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries`)
      const first = res.json().data[0]
      return first?.status === 'SUCCEEDED' ? res.json().data : undefined
    })
    expect(deliveries).toHaveLength(1)
    expect(deliveries[0].attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error_class: null, response_body: 'ok' })])
  })
})
