import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { Dispatcher } from '../src/modules/webhooks/dispatcher.ts'
import { newId } from '../src/platform/ids.ts'
import { renderEvent } from '../src/surfaces/renderers.ts'
import { ManualClock, makeTenant, ownDatabaseOnPostgres, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'
import { expectError } from './helpers/tokens.ts'

/**
 * The webhook endpoint API (API.md §10–§11): endpoints, their secrets, :test, :recover, the
 * deliveries list and :retry, with tenancy and permissions. Delivery and its retries are
 * test/webhooks-delivery.test.ts's; a dispatcher runs here only where a delivery must reach a
 * final state (SUCCEEDED, FAILED), driven by hand on a clock of its own.
 */

const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/
const URL_OK = 'https://hooks.example.com/travobooks'
const SECOND = 1000
const DAY = 86_400_000
const WEBHOOK_KEYS = ['id', 'team_ids', 'mode', 'url', 'description', 'event_types', 'enabled', 'disabled_reason', 'api_version', 'previous_secret_expires_at', 'created_at', 'updated_at']
const DELIVERY_KEYS = ['id', 'webhook_id', 'event_id', 'event_type', 'status', 'attempt_count', 'next_attempt_at', 'delivered_at', 'last_status_code', 'last_error', 'created_at', 'updated_at', 'attempts']

/** The test app of most tests: private targets not allowed, the system clock. */
// two tests run a dispatcher by hand; and a dispatcher elsewhere must not take this file's deliveries
await ownDatabaseOnPostgres('webhooks_endpoints')
const h = await testApp()

interface Webhook {
  id: string
  team_ids: string[]
  mode: string
  url: string
  description: string
  event_types: string[]
  enabled: boolean
  disabled_reason: string | null
  api_version: string
  previous_secret_expires_at: string | null
  created_at: string
  updated_at: string
  secret?: string
}

interface Delivery {
  id: string
  webhook_id: string
  event_id: string
  event_type: string
  status: string
  attempt_count: number
  attempts: { attempt: number; status_code: number | null; error_class: string | null }[]
  created_at: string
  delivered_at: string | null
}

interface FieldError {
  field: string
  location: string
  code: string
  message: string
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function sorted(ids: readonly string[]): string[] {
  return [...ids].sort()
}

async function create(app: TestApp, token: string, body: Record<string, unknown> = {}): Promise<Webhook & { secret: string }> {
  const res = await app.call(token, 'POST', '/v1/webhooks', { url: URL_OK, ...body })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function get(app: TestApp, token: string, id: string): Promise<Webhook> {
  const res = await app.call(token, 'GET', `/v1/webhooks/${id}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

async function listIds(app: TestApp, token: string): Promise<string[]> {
  const res = await app.call(token, 'GET', '/v1/webhooks?limit=100')
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data.map((w: Webhook) => w.id)
}

async function deliveries(app: TestApp, token: string, id: string, query = ''): Promise<Delivery[]> {
  const res = await app.call(token, 'GET', `/v1/webhooks/${id}/deliveries${query}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data
}

/** What the database holds for a partner, whatever any token can see. */
async function storedEndpoints(app: TestApp, partnerId: string): Promise<number> {
  const { rows } = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoints WHERE partner_id = $1', [partnerId])
  return rows[0]!.n
}

async function storedSecrets(app: TestApp, id: string): Promise<{ secret: string; previous_secret: string | null }> {
  const { rows } = await app.db.query<{ secret: string; previous_secret: string | null }>('SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1', [id])
  return rows[0]!
}

/** The body a PUT needs: every writable field of the stored endpoint. */
function writable(w: Webhook): Record<string, unknown> {
  return { url: w.url, description: w.description, event_types: w.event_types, team_ids: w.team_ids, enabled: w.enabled, api_version: w.api_version }
}

function fieldErrors(res: LightMyRequestResponse): FieldError[] {
  const error = expectError(res, 400, 'VALIDATION_ERROR')
  const fields = error.details!.fields as FieldError[]
  for (const f of fields) expect(f.message, JSON.stringify(f)).toEqual(expect.any(String))
  return fields
}

/** The field errors as field/location/code triples, in order. */
function problems(res: LightMyRequestResponse): { field: string; location: string; code: string }[] {
  return fieldErrors(res).map(({ field, location, code }) => ({ field, location, code }))
}

async function until<T>(probe: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

let probe = 0

/**
 * API.md §5: an endpoint or delivery the token may not see answers exactly like an id that does
 * not exist — same status, same body byte for byte (one request id for both), same headers.
 */
async function sameNotFound(app: TestApp, token: string, method: InjectOptions['method'], hiddenUrl: string, unknownUrl: string, body?: unknown, extra: Record<string, string> = {}): Promise<void> {
  const headers = { ...extra, 'x-request-id': `webhooks-probe-${process.pid}-${++probe}` }
  const hidden = await app.call(token, method, hiddenUrl, body, headers)
  const unknown = await app.call(token, method, unknownUrl, body, headers)
  const label = `${String(method)} ${hiddenUrl}`
  expect(unknown.statusCode, `${label} (unknown id): ${unknown.body}`).toBe(404)
  if (method !== 'HEAD') expect(unknown.json().error.code).toBe('NOT_FOUND')
  expect(hidden.statusCode, `${label}: ${hidden.body}`).toBe(404)
  expect(hidden.body, label).toBe(unknown.body)
  for (const header of ['content-type', 'content-length', 'cache-control', 'x-request-id', 'location', 'etag', 'allow']) {
    expect(hidden.headers[header], `${label}: ${header}`).toEqual(unknown.headers[header])
  }
}

/** Every operation on one endpoint (and one of its deliveries) is a 404 identical to an unknown id's. */
async function invisible(app: TestApp, token: string, tokenTeamIds: string[], webhookId: string, deliveryId: string): Promise<void> {
  const unknownWebhook = newId('webhook')
  const unknownDelivery = newId('delivery')
  const put = { url: URL_OK, description: 'taken over', event_types: [], team_ids: tokenTeamIds, enabled: true, api_version: 'v1' }
  const past = iso(Date.now() - DAY)
  await sameNotFound(app, token, 'GET', `/v1/webhooks/${webhookId}`, `/v1/webhooks/${unknownWebhook}`)
  await sameNotFound(app, token, 'HEAD', `/v1/webhooks/${webhookId}`, `/v1/webhooks/${unknownWebhook}`)
  await sameNotFound(app, token, 'GET', `/v1/webhooks/${webhookId}?fields=id,url`, `/v1/webhooks/${unknownWebhook}?fields=id,url`)
  await sameNotFound(app, token, 'PUT', `/v1/webhooks/${webhookId}`, `/v1/webhooks/${unknownWebhook}`, put)
  // a 404 comes before If-Match and before the body's own problems
  await sameNotFound(app, token, 'PUT', `/v1/webhooks/${webhookId}`, `/v1/webhooks/${unknownWebhook}`, put, { 'if-match': '"stale"' })
  await sameNotFound(app, token, 'PUT', `/v1/webhooks/${webhookId}`, `/v1/webhooks/${unknownWebhook}`, { ...put, id: 'whk_other', url: 'https://127.0.0.1/' })
  await sameNotFound(app, token, 'POST', `/v1/webhooks/${webhookId}:rotate-secret`, `/v1/webhooks/${unknownWebhook}:rotate-secret`)
  await sameNotFound(app, token, 'POST', `/v1/webhooks/${webhookId}:rotate-secret`, `/v1/webhooks/${unknownWebhook}:rotate-secret`, { grace_period_seconds: 0 })
  await sameNotFound(app, token, 'POST', `/v1/webhooks/${webhookId}:test`, `/v1/webhooks/${unknownWebhook}:test`)
  await sameNotFound(app, token, 'POST', `/v1/webhooks/${webhookId}:recover`, `/v1/webhooks/${unknownWebhook}:recover`, { since: past })
  await sameNotFound(app, token, 'GET', `/v1/webhooks/${webhookId}/deliveries`, `/v1/webhooks/${unknownWebhook}/deliveries`)
  await sameNotFound(app, token, 'GET', `/v1/webhooks/${webhookId}/deliveries?status=PENDING&event_type=webhook.test`, `/v1/webhooks/${unknownWebhook}/deliveries?status=PENDING&event_type=webhook.test`)
  await sameNotFound(app, token, 'POST', `/v1/webhook-deliveries/${deliveryId}:retry`, `/v1/webhook-deliveries/${unknownDelivery}:retry`)
  await sameNotFound(app, token, 'DELETE', `/v1/webhooks/${webhookId}`, `/v1/webhooks/${unknownWebhook}`)
  expect(await listIds(app, token)).not.toContain(webhookId)
}

/** An endpoint with one PENDING webhook.test delivery; the owner's view of both, to prove the 404s changed nothing. */
async function endpointWithDelivery(app: TestApp, token: string, body: Record<string, unknown> = {}): Promise<{ webhook: Webhook; delivery: Delivery; secret: string }> {
  const { secret, ...webhook } = await create(app, token, body)
  const tested = await app.call(token, 'POST', `/v1/webhooks/${webhook.id}:test`)
  expect(tested.statusCode, tested.body).toBe(202)
  return { webhook: await get(app, token, webhook.id), delivery: tested.json(), secret }
}

async function unchanged(app: TestApp, token: string, before: { webhook: Webhook; delivery: Delivery; secret: string }): Promise<void> {
  expect(await get(app, token, before.webhook.id)).toEqual(before.webhook)
  expect((await storedSecrets(app, before.webhook.id)).secret).toBe(before.secret)
  const list = await deliveries(app, token, before.webhook.id)
  expect(list.map((d) => d.id)).toEqual([before.delivery.id])
  expect(list[0]!.event_type).toBe('webhook.test')
}

/**
 * A dispatcher driven by hand. Its clock stands in 2000/2001, so it claims only deliveries due by
 * then: those of the app on that same clock, this file's own (the other tests' are due in the present).
 */
function handDispatcher(clock: ManualClock, allowPrivateTargets: boolean): Dispatcher {
  const dispatcher = new Dispatcher({ db: h.db, clock, render: renderEvent, allowPrivateTargets, timeoutMs: 5000 })
  afterAll(() => dispatcher.stop())
  return dispatcher
}

async function receiver(status = 200): Promise<{ url: string; received: string[] }> {
  const received: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'))
      res.statusCode = status
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received }
}

describe('POST /v1/webhooks', () => {
  it('answers 201 with Location, the secret (once) and the documented defaults', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const app = await testApp({ clock })
    const t = await makeTenant(app.db, { clock, teams: 2 })

    const res = await app.call(t.token, 'POST', '/v1/webhooks', { url: URL_OK })
    expect(res.statusCode, res.body).toBe(201)
    const body = res.json() as Webhook & { secret: string }
    expect(res.headers.location).toBe(`${app.config.publicBaseUrl}/v1/webhooks/${body.id}`)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(Object.keys(body).sort()).toEqual([...WEBHOOK_KEYS, 'secret'].sort())
    expect(body.id).toMatch(/^whk_[0-9a-z]{26}$/)
    expect(body.secret).toMatch(SECRET)
    expect(Buffer.from(body.secret.slice('whsec_'.length), 'base64')).toHaveLength(32)
    expect(body).toMatchObject({
      mode: 'test',
      url: URL_OK,
      description: '',
      event_types: [],
      enabled: true,
      disabled_reason: null,
      api_version: 'v1',
      previous_secret_expires_at: null,
      created_at: '2026-03-01T12:00:00.000Z',
      updated_at: '2026-03-01T12:00:00.000Z',
    })
    // team_ids: the token's teams
    expect(sorted(body.team_ids)).toEqual(sorted(t.teamIds))
    // the secret at rest is the one shown
    expect((await storedSecrets(app, body.id)).secret).toBe(body.secret)

    // GET (at the Location) never shows the secret
    const { secret, ...shown } = body
    const one = await app.call(t.token, 'GET', `/v1/webhooks/${body.id}`)
    expect(one.statusCode).toBe(200)
    expect(one.json()).toEqual(shown)
    expect(one.body).not.toContain(secret)
    expect(one.body).not.toContain('"secret"')
    expect(one.headers.etag).toMatch(/^(W\/)?"/)
    const notModified = await app.call(t.token, 'GET', `/v1/webhooks/${body.id}`, undefined, { 'if-none-match': String(one.headers.etag) })
    expect(notModified.statusCode).toBe(304)
    const head = await app.call(t.token, 'HEAD', `/v1/webhooks/${body.id}`)
    expect(head.statusCode).toBe(200)
    expect(head.body).toBe('')
    const picked = await app.call(t.token, 'GET', `/v1/webhooks/${body.id}?fields=id,url,enabled`)
    expect(picked.json()).toEqual({ id: body.id, url: URL_OK, enabled: true })
    // nor can fields= ask for it
    expect(problems(await app.call(t.token, 'GET', `/v1/webhooks/${body.id}?fields=id,secret`)).map((p) => p.field)).toEqual(['fields'])
    expect(problems(await app.call(t.token, 'GET', '/v1/webhooks?fields=id,secret')).map((p) => p.field)).toEqual(['fields'])
    const listPicked = await app.call(t.token, 'GET', '/v1/webhooks?fields=id,enabled')
    expect(listPicked.json()).toEqual({ data: [{ id: body.id, enabled: true }], pagination: { next_cursor: null, has_more: false } })

    // the list shows the endpoint, in the cursor envelope, without the secret
    const list = await app.call(t.token, 'GET', '/v1/webhooks')
    expect(list.statusCode).toBe(200)
    expect(list.json()).toEqual({ data: [shown], pagination: { next_cursor: null, has_more: false } })
    expect(list.body).not.toContain(secret)

    // a second endpoint gets a secret of its own
    const second = await create(app, t.token)
    expect(second.secret).toMatch(SECRET)
    expect(second.secret).not.toBe(secret)
    expect(second.id).not.toBe(body.id)
  })

  it('stores what it is given: description, event_types (without repeats), a subset of the teams, enabled false (disabled_reason manual)', async () => {
    const t = await makeTenant(h.db, { teams: 3 })
    const w = await create(h, t.token, {
      url: 'http://hooks.example.com/plain-http-in-test-mode',
      description: 'd'.repeat(500),
      event_types: ['booking.created', 'customer.created', 'booking.created', 'webhook.disabled'],
      team_ids: [t.teamIds[1]!, t.teamIds[1]!],
      enabled: false,
      api_version: 'v1',
    })
    expect(w).toMatchObject({ url: 'http://hooks.example.com/plain-http-in-test-mode', description: 'd'.repeat(500), team_ids: [t.teamIds[1]], enabled: false, disabled_reason: 'manual', api_version: 'v1' })
    expect(sorted(w.event_types)).toEqual(['booking.created', 'customer.created', 'webhook.disabled'])
    const { secret: _secret, ...shown } = w
    expect(await get(h, t.token, w.id)).toEqual(shown)

    // a URL of exactly 2048 characters is within the limit
    const long = URL_OK + '/' + 'a'.repeat(2048 - URL_OK.length - 1)
    expect(long).toHaveLength(2048)
    expect((await create(h, t.token, { url: long })).url).toBe(long)
  })

  it('live mode takes an https URL and makes a live endpoint', async () => {
    const t = await makeTenant(h.db, { mode: 'live' })
    const w = await create(h, t.token, { url: 'https://hooks.example.com/live' })
    expect(w.mode).toBe('live')
  })

  const liveToken = async (t: Tenant) => (await t.addToken({ mode: 'live' })).token
  const BAD: readonly { name: string; body: Record<string, unknown>; token?: (t: Tenant) => Promise<string>; expected: { field: string; code: string }[] }[] = [
    { name: 'a url that is not a URL', body: { url: 'not a url' }, expected: [{ field: 'url', code: 'invalid_url' }] },
    { name: 'a relative url', body: { url: '/hooks' }, expected: [{ field: 'url', code: 'invalid_url' }] },
    { name: 'an ftp:// url', body: { url: 'ftp://hooks.example.com/x' }, expected: [{ field: 'url', code: 'scheme' }] },
    { name: 'a javascript: url', body: { url: 'javascript:alert(1)' }, expected: [{ field: 'url', code: 'scheme' }] },
    { name: 'credentials in the url', body: { url: 'https://user:pass@x.example/hooks' }, expected: [{ field: 'url', code: 'credentials' }] },
    { name: 'a user name in the url', body: { url: 'https://user@x.example/hooks' }, expected: [{ field: 'url', code: 'credentials' }] },
    { name: 'http:// with a live token', body: { url: 'http://hooks.example.com/x' }, token: liveToken, expected: [{ field: 'url', code: 'https_required' }] },
    { name: 'loopback 127.0.0.1', body: { url: 'https://127.0.0.1/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'the metadata address 169.254.169.254', body: { url: 'http://169.254.169.254/latest/meta-data/' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'IPv6 loopback [::1]', body: { url: 'https://[::1]/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'IPv4-mapped loopback [::ffff:127.0.0.1]', body: { url: 'https://[::ffff:127.0.0.1]/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'decimal loopback 2130706433', body: { url: 'https://2130706433/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'hex loopback 0x7f.1', body: { url: 'http://0x7f.1/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'private 10.0.0.1', body: { url: 'https://10.0.0.1/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'localhost', body: { url: 'https://localhost/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'LOCALHOST. (upper case, trailing dot)', body: { url: 'https://LOCALHOST./hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'a name under .localhost', body: { url: 'https://api.localhost:8443/hooks' }, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'a private address with a live token', body: { url: 'https://192.168.1.10/hooks' }, token: liveToken, expected: [{ field: 'url', code: 'forbidden_address' }] },
    { name: 'a url over 2048 characters', body: { url: `${URL_OK}/${'a'.repeat(2048)}` }, expected: [{ field: 'url', code: 'maxLength' }] },
    { name: 'an empty url', body: { url: '' }, expected: [{ field: 'url', code: 'minLength' }] },
    { name: 'no url', body: { url: undefined }, expected: [{ field: 'url', code: 'required' }] },
    { name: 'a url that is not a string', body: { url: 42 }, expected: [{ field: 'url', code: 'type' }] },
    { name: 'an unknown event type', body: { event_types: ['customer.created', 'booking.exploded'] }, expected: [{ field: 'event_types[1]', code: 'enum' }] },
    { name: 'webhook.test as an event type (not subscribable)', body: { event_types: ['webhook.test'] }, expected: [{ field: 'event_types[0]', code: 'enum' }] },
    { name: 'event_types not an array', body: { event_types: 'customer.created' }, expected: [{ field: 'event_types', code: 'type' }] },
    { name: 'a description over 500 characters', body: { description: 'x'.repeat(501) }, expected: [{ field: 'description', code: 'maxLength' }] },
    { name: 'an unknown body field', body: { colour: 'blue' }, expected: [{ field: 'colour', code: 'additionalProperties' }] },
    { name: 'a secret of the caller’s choosing', body: { secret: `whsec_${Buffer.alloc(32).toString('base64')}` }, expected: [{ field: 'secret', code: 'additionalProperties' }] },
    { name: 'a read-only field (mode)', body: { mode: 'live' }, expected: [{ field: 'mode', code: 'additionalProperties' }] },
    { name: 'an unknown api_version', body: { api_version: 'v3' }, expected: [{ field: 'api_version', code: 'enum' }] },
    { name: 'enabled not a boolean', body: { enabled: 'yes' }, expected: [{ field: 'enabled', code: 'type' }] },
    { name: 'empty team_ids', body: { team_ids: [] }, expected: [{ field: 'team_ids', code: 'minItems' }] },
  ]

  it.each(BAD)('400 for $name, naming the field, and stores nothing', async ({ body, token, expected }) => {
    const t = await makeTenant(h.db)
    const caller = token ? await token(t) : t.token
    const kept = await create(h, caller)
    const res = await h.call(caller, 'POST', '/v1/webhooks', { url: URL_OK, ...body })
    expect(problems(res)).toEqual(expected.map((e) => ({ ...e, location: 'body' })))
    expect(await listIds(h, caller)).toEqual([kept.id])
    expect(await storedEndpoints(h, t.partnerId)).toBe(1)
  })

  it('lists every schema problem of one body at once', async () => {
    const t = await makeTenant(h.db)
    const res = await h.call(t.token, 'POST', '/v1/webhooks', { url: URL_OK, description: 'x'.repeat(501), event_types: ['nope'], enabled: 'no', extra: 1 })
    expect(sorted(problems(res).map((p) => `${p.field}:${p.code}`))).toEqual(['description:maxLength', 'enabled:type', 'event_types[0]:enum', 'extra:additionalProperties'])
    expect(await storedEndpoints(h, t.partnerId)).toBe(0)
  })

  // API.md §6: every field error at once — the url's own check runs even when the schema refused another field
  it('reports a bad url together with the schema problems of the same body (API.md §6: all field errors at once)', async () => {
    const t = await makeTenant(h.db)
    const res = await h.call(t.token, 'POST', '/v1/webhooks', { url: 'ftp://hooks.example.com/x', description: 'x'.repeat(501) })
    expect(sorted(problems(res).map((p) => `${p.field}:${p.code}`))).toEqual(['description:maxLength', 'url:scheme'])
  })

  it('400 INVALID_TEAM_IDS for another partner’s team (like an unknown team), and stores nothing', async () => {
    const a = await makeTenant(h.db)
    const b = await makeTenant(h.db)
    const unknown = newId('team')
    const headers = { 'x-request-id': `webhooks-team-ids-${process.pid}` }
    const foreign = await h.call(a.token, 'POST', '/v1/webhooks', { url: URL_OK, team_ids: [a.teamIds[0], b.teamIds[0]] }, headers)
    const missing = await h.call(a.token, 'POST', '/v1/webhooks', { url: URL_OK, team_ids: [a.teamIds[0], unknown] }, headers)
    expect(expectError(foreign, 400, 'INVALID_TEAM_IDS').details).toEqual({ invalid_team_ids: [b.teamIds[0]] })
    expect(expectError(missing, 400, 'INVALID_TEAM_IDS').details).toEqual({ invalid_team_ids: [unknown] })
    expect(foreign.body.replaceAll(b.teamIds[0]!, 'ID')).toBe(missing.body.replaceAll(unknown, 'ID'))
    expect(await storedEndpoints(h, a.partnerId)).toBe(0)
    expect(await storedEndpoints(h, b.partnerId)).toBe(0)
  })

  it('400 INVALID_TEAM_IDS for a team of the partner that the token does not cover', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const narrow = await t.addToken({ team_ids: [t.teamIds[0]!] })
    const res = await h.call(narrow.token, 'POST', '/v1/webhooks', { url: URL_OK, team_ids: t.teamIds })
    expect(expectError(res, 400, 'INVALID_TEAM_IDS').details).toEqual({ invalid_team_ids: [t.teamIds[1]] })
    expect(await storedEndpoints(h, t.partnerId)).toBe(0)
    // its default is its own team only
    expect((await create(h, narrow.token)).team_ids).toEqual([t.teamIds[0]])
  })
})

describe('the endpoint limit', () => {
  it('the 21st endpoint of a partner and mode is 409 WEBHOOK_LIMIT_REACHED (details.limit 20); live has its own 20; a delete makes room', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const narrow = await t.addToken({ team_ids: [t.teamIds[0]!] })
    const live = await t.addToken({ mode: 'live' })
    const ids: string[] = []
    // disabled endpoints count too, and so do those of a narrower token of the same partner
    for (let i = 0; i < 17; i++) ids.push((await create(h, t.token, { description: `n${i}`, enabled: i % 2 === 0 })).id)
    for (let i = 0; i < 3; i++) await create(h, narrow.token, { description: `narrow ${i}` })
    expect(await storedEndpoints(h, t.partnerId)).toBe(20)

    for (const token of [t.token, narrow.token]) {
      const res = await h.call(token, 'POST', '/v1/webhooks', { url: URL_OK })
      const err = expectError(res, 409, 'WEBHOOK_LIMIT_REACHED')
      expect(err.details).toEqual({ limit: 20 })
      expect(res.json().error.retry_advice).toBe('retry_after_fix')
    }
    // a body that is invalid anyway is a 400, whatever the count
    expectError(await h.call(t.token, 'POST', '/v1/webhooks', { url: 'ftp://x.example/' }), 400, 'VALIDATION_ERROR')
    expect(await storedEndpoints(h, t.partnerId)).toBe(20)
    expect(await listIds(h, t.token)).toHaveLength(20)

    // the live mode has its own 20
    for (let i = 0; i < 20; i++) await create(h, live.token, { url: `https://hooks.example.com/live/${i}` })
    expect(expectError(await h.call(live.token, 'POST', '/v1/webhooks', { url: 'https://hooks.example.com/live/20' }), 409, 'WEBHOOK_LIMIT_REACHED').details).toEqual({ limit: 20 })
    expect(await listIds(h, live.token)).toHaveLength(20)
    expect(await storedEndpoints(h, t.partnerId)).toBe(40)

    // another partner is not affected
    const other = await makeTenant(h.db)
    await create(h, other.token)

    // deleting one makes room for exactly one
    expect((await h.call(t.token, 'DELETE', `/v1/webhooks/${ids[0]}`)).statusCode).toBe(204)
    await create(h, t.token, { description: 'after the delete' })
    expectError(await h.call(t.token, 'POST', '/v1/webhooks', { url: URL_OK }), 409, 'WEBHOOK_LIMIT_REACHED')
  })

  it('racing creations cannot pass the limit together', async () => {
    const t = await makeTenant(h.db)
    for (let i = 0; i < 18; i++) await create(h, t.token)
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => h.call(t.token, 'POST', '/v1/webhooks', { url: `${URL_OK}/race/${i}` })))
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes).toEqual([201, 201, 409, 409, 409])
    expect(await storedEndpoints(h, t.partnerId)).toBe(20)
  })
})

describe('GET /v1/webhooks', () => {
  it('pages with a cursor, newest first, no item skipped or repeated', async () => {
    const clock = new ManualClock('2026-04-01T00:00:00.000Z')
    const app = await testApp({ clock })
    const t = await makeTenant(app.db, { clock })
    const made: string[] = []
    for (let i = 0; i < 5; i++) {
      made.push((await create(app, t.token, { description: `#${i}` })).id)
      clock.advance(SECOND)
    }
    const seen: string[] = []
    let url = '/v1/webhooks?limit=2'
    for (let page = 0; page < 5; page++) {
      const res = await app.call(t.token, 'GET', url)
      expect(res.statusCode, res.body).toBe(200)
      const { data, pagination } = res.json()
      seen.push(...data.map((w: Webhook) => w.id))
      expect(res.body).not.toContain('"secret"')
      if (!pagination.has_more) {
        expect(pagination.next_cursor).toBeNull()
        break
      }
      url = `/v1/webhooks?limit=2&cursor=${encodeURIComponent(pagination.next_cursor)}`
    }
    expect(seen).toEqual([...made].reverse())
    const ascending = await app.call(t.token, 'GET', '/v1/webhooks?sort=created_at&limit=100')
    expect(ascending.json().data.map((w: Webhook) => w.id)).toEqual(made)
    expect(problems(await app.call(t.token, 'GET', '/v1/webhooks?limit=101')).map((p) => p.field)).toEqual(['limit'])
    expect(problems(await app.call(t.token, 'GET', '/v1/webhooks?sort=url')).map((p) => p.field)).toEqual(['sort'])
    expect(problems(await app.call(t.token, 'GET', '/v1/webhooks?enabled=true')).map((p) => p.field)).toEqual(['enabled'])
  })
})

describe('PUT /v1/webhooks/{id}', () => {
  it('a missing writable field is a 400 naming it, and nothing changes', async () => {
    const t = await makeTenant(h.db)
    const w = await get(h, t.token, (await create(h, t.token, { description: 'before' })).id)
    const all = await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, {})
    expect(problems(all)).toEqual(['url', 'description', 'event_types', 'team_ids', 'enabled', 'api_version'].map((field) => ({ field, location: 'body', code: 'required' })))
    for (const missing of ['url', 'description', 'event_types', 'team_ids', 'enabled', 'api_version']) {
      const body: Record<string, unknown> = { ...writable(w), description: 'after' }
      delete body[missing]
      expect(problems(await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, body)), missing).toEqual([{ field: missing, location: 'body', code: 'required' }])
    }
    expect(await get(h, t.token, w.id)).toEqual(w)
  })

  it('GET, change, PUT back: 200 with the new values, the same id and created_at, a new updated_at and ETag', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const app = await testApp({ clock })
    const t = await makeTenant(app.db, { clock, teams: 2 })
    const { secret } = await create(app, t.token)
    const read = await app.call(t.token, 'GET', `/v1/webhooks/${(await listIds(app, t.token))[0]}`)
    const before = read.json() as Webhook
    clock.advance(60 * SECOND)

    // the body GET returned, unchanged, is a valid PUT
    const same = await app.call(t.token, 'PUT', `/v1/webhooks/${before.id}`, before)
    expect(same.statusCode, same.body).toBe(200)

    clock.advance(60 * SECOND)
    const current = await get(app, t.token, before.id)
    const changed = { ...current, url: 'https://other.example.org/in', description: 'changed', event_types: ['booking.confirmed'], team_ids: [t.teamIds[1]] }
    const res = await app.call(t.token, 'PUT', `/v1/webhooks/${before.id}`, changed)
    expect(res.statusCode, res.body).toBe(200)
    const after = res.json() as Webhook
    expect(Object.keys(after).sort()).toEqual([...WEBHOOK_KEYS].sort())
    expect(after).toEqual({ ...changed, updated_at: '2026-03-01T12:02:00.000Z' })
    expect(after.created_at).toBe('2026-03-01T12:00:00.000Z')
    expect(res.body).not.toContain(secret)
    const again = await app.call(t.token, 'GET', `/v1/webhooks/${before.id}`)
    expect(again.json()).toEqual(after)
    expect(res.headers.etag).toBe(again.headers.etag)
    expect(again.headers.etag).not.toBe(read.headers.etag)
    // the secret survives a replacement
    expect((await storedSecrets(app, before.id)).secret).toBe(secret)

    // read-only timestamps may come back in another notation of the same instant
    const offset = { ...after, created_at: '2026-03-01T12:00:00+00:00', updated_at: '2026-03-01T12:02:00Z' }
    expect((await app.call(t.token, 'PUT', `/v1/webhooks/${before.id}`, offset)).statusCode).toBe(200)
  })

  const READ_ONLY: [string, () => string][] = [
    ['id', () => newId('webhook')],
    ['mode', () => 'live'],
    ['created_at', () => '2020-01-01T00:00:00.000Z'],
    ['updated_at', () => '2020-01-01T00:00:00.000Z'],
    ['disabled_reason', () => 'manual'],
    ['previous_secret_expires_at', () => '2030-01-01T00:00:00.000Z'],
  ]
  it.each(READ_ONLY)('a changed read-only field (%s) is a 400 naming it, and nothing changes', async (name, value) => {
    const t = await makeTenant(h.db)
    const w = await get(h, t.token, (await create(h, t.token)).id)
    const res = await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...w, description: 'changed', [name]: value() })
    expect(problems(res)).toEqual([{ field: name, location: 'body', code: 'read_only' }])
    expect(await get(h, t.token, w.id)).toEqual(w)
  })

  it('the secret is not a PUT field: the body POST answered is refused as it is', async () => {
    const t = await makeTenant(h.db)
    const created = await create(h, t.token)
    expect(problems(await h.call(t.token, 'PUT', `/v1/webhooks/${created.id}`, created))).toEqual([{ field: 'secret', location: 'body', code: 'additionalProperties' }])
    expect((await storedSecrets(h, created.id)).secret).toBe(created.secret)
  })

  it('enabled false → disabled_reason manual; enabled true again → null', async () => {
    const t = await makeTenant(h.db)
    const w = await get(h, t.token, (await create(h, t.token)).id)
    const off = await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...w, enabled: false })
    expect(off.statusCode, off.body).toBe(200)
    expect(off.json()).toMatchObject({ enabled: false, disabled_reason: 'manual' })
    // the GET body of the disabled endpoint (disabled_reason manual included) is a valid PUT
    const disabled = await get(h, t.token, w.id)
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'manual' })
    const stillOff = await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...disabled, description: 'still off' })
    expect(stillOff.json()).toMatchObject({ enabled: false, disabled_reason: 'manual', description: 'still off' })
    const on = await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...(stillOff.json() as Webhook), enabled: true })
    expect(on.statusCode, on.body).toBe(200)
    expect(on.json()).toMatchObject({ enabled: true, disabled_reason: null })
    expect(await get(h, t.token, w.id)).toMatchObject({ enabled: true, disabled_reason: null })
  })

  it('If-Match: a stale ETag is a 412 and changes nothing; the current one and * pass', async () => {
    const t = await makeTenant(h.db)
    const id = (await create(h, t.token)).id
    const first = await h.call(t.token, 'GET', `/v1/webhooks/${id}`)
    const stale = String(first.headers.etag)
    const v1 = first.json() as Webhook
    const changed = await h.call(t.token, 'PUT', `/v1/webhooks/${id}`, { ...v1, description: 'one' }, { 'if-match': stale })
    expect(changed.statusCode, changed.body).toBe(200)
    const current = String(changed.headers.etag)
    expect(current).not.toBe(stale)

    const refused = await h.call(t.token, 'PUT', `/v1/webhooks/${id}`, { ...writable(v1), description: 'two' }, { 'if-match': stale })
    expect(expectError(refused, 412, 'PRECONDITION_FAILED').details).toEqual({ current_etag: current })
    expect((await get(h, t.token, id)).description).toBe('one')

    expect((await h.call(t.token, 'PUT', `/v1/webhooks/${id}`, { ...writable(v1), description: 'two' }, { 'if-match': current })).statusCode).toBe(200)
    expect((await h.call(t.token, 'PUT', `/v1/webhooks/${id}`, { ...writable(v1), description: 'three' }, { 'if-match': '*' })).statusCode).toBe(200)
    expect((await get(h, t.token, id)).description).toBe('three')
  })

  it('team_ids outside the token is 400 INVALID_TEAM_IDS; a bad url is a 400 naming it; nothing changes', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const b = await makeTenant(h.db)
    const w = await get(h, t.token, (await create(h, t.token)).id)
    expect(expectError(await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...w, team_ids: [b.teamIds[0]] }), 400, 'INVALID_TEAM_IDS').details).toEqual({ invalid_team_ids: [b.teamIds[0]] })
    expect(problems(await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...w, url: 'https://169.254.169.254/' }))).toEqual([{ field: 'url', location: 'body', code: 'forbidden_address' }])
    expect(problems(await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...w, event_types: ['webhook.test'] }))).toEqual([{ field: 'event_types[0]', location: 'body', code: 'enum' }])
    expect(await get(h, t.token, w.id)).toEqual(w)
  })

  it('a live endpoint cannot be switched to http', async () => {
    const t = await makeTenant(h.db, { mode: 'live' })
    const w = await get(h, t.token, (await create(h, t.token)).id)
    expect(problems(await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...w, url: 'http://hooks.example.com/' }))).toEqual([{ field: 'url', location: 'body', code: 'https_required' }])
    expect(await get(h, t.token, w.id)).toEqual(w)
  })
})

describe('DELETE /v1/webhooks/{id}', () => {
  it('204, then GET and a second DELETE are 404; its deliveries go with it', async () => {
    const t = await makeTenant(h.db)
    const { webhook, delivery } = await endpointWithDelivery(h, t.token)
    const kept = await create(h, t.token)

    const res = await h.call(t.token, 'DELETE', `/v1/webhooks/${webhook.id}`)
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')

    const unknown = newId('webhook')
    await sameNotFound(h, t.token, 'GET', `/v1/webhooks/${webhook.id}`, `/v1/webhooks/${unknown}`)
    await sameNotFound(h, t.token, 'DELETE', `/v1/webhooks/${webhook.id}`, `/v1/webhooks/${unknown}`)
    await sameNotFound(h, t.token, 'GET', `/v1/webhooks/${webhook.id}/deliveries`, `/v1/webhooks/${unknown}/deliveries`)
    await sameNotFound(h, t.token, 'POST', `/v1/webhook-deliveries/${delivery.id}:retry`, `/v1/webhook-deliveries/${newId('delivery')}:retry`)
    expect(expectError(await h.call(t.token, 'GET', `/v1/webhooks/${webhook.id}`), 404, 'NOT_FOUND').details).toEqual({ resource: 'webhook' })

    expect(await listIds(h, t.token)).toEqual([kept.id])
    expect(await storedEndpoints(h, t.partnerId)).toBe(1)
    const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [webhook.id])
    expect(rows[0]!.n).toBe(0)
  })
})

describe('POST /v1/webhooks/{id}:rotate-secret', () => {
  it('no body: a new secret, the old one signing beside it for 24 h', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const app = await testApp({ clock })
    const t = await makeTenant(app.db, { clock })
    const created = await create(app, t.token)
    clock.advance(5 * SECOND)

    const res = await app.call(t.token, 'POST', `/v1/webhooks/${created.id}:rotate-secret`)
    expect(res.statusCode, res.body).toBe(200)
    const rotated = res.json() as Webhook & { secret: string }
    expect(Object.keys(rotated).sort()).toEqual([...WEBHOOK_KEYS, 'secret'].sort())
    expect(rotated.secret).toMatch(SECRET)
    expect(rotated.secret).not.toBe(created.secret)
    expect(rotated.previous_secret_expires_at).toBe(iso(clock.now().getTime() + DAY))
    expect(rotated.updated_at).toBe(clock.now().toISOString())
    expect(rotated.created_at).toBe(created.created_at)
    expect(await storedSecrets(app, created.id)).toEqual({ secret: rotated.secret, previous_secret: created.secret })

    // GET shows the window, never a secret
    const one = await app.call(t.token, 'GET', `/v1/webhooks/${created.id}`)
    const { secret: _secret, ...shown } = rotated
    expect(one.json()).toEqual(shown)
    expect(one.body).not.toContain(rotated.secret)
    expect(one.body).not.toContain(created.secret)
  })

  it('{} and an empty JSON body work as no body does', async () => {
    const t = await makeTenant(h.db)
    const { id } = await create(h, t.token)
    for (const body of [{}, '']) {
      const before = await storedSecrets(h, id)
      const res = await h.call(t.token, 'POST', `/v1/webhooks/${id}:rotate-secret`, body)
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(200)
      expect(res.json().secret).toMatch(SECRET)
      expect(await storedSecrets(h, id)).toEqual({ secret: res.json().secret, previous_secret: before.secret })
    }
  })

  it('grace_period_seconds sets the window (0 … 86400)', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const app = await testApp({ clock })
    const t = await makeTenant(app.db, { clock })
    const { id } = await create(app, t.token)
    for (const grace of [600, 0, 86_400, 1]) {
      clock.advance(SECOND)
      const res = await app.call(t.token, 'POST', `/v1/webhooks/${id}:rotate-secret`, { grace_period_seconds: grace })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().previous_secret_expires_at).toBe(iso(clock.now().getTime() + grace * SECOND))
      expect((await get(app, t.token, id)).previous_secret_expires_at).toBe(iso(clock.now().getTime() + grace * SECOND))
    }
  })

  it.each([
    [{ grace_period_seconds: 86_401 }, 'grace_period_seconds', 'maximum'],
    [{ grace_period_seconds: -1 }, 'grace_period_seconds', 'minimum'],
    [{ grace_period_seconds: 1.5 }, 'grace_period_seconds', 'type'],
    [{ grace_period_seconds: '60' }, 'grace_period_seconds', 'type'],
    [{ grace: 60 }, 'grace', 'additionalProperties'],
  ] as const)('400 for %j, naming %s, and the secret stays', async (body, field, code) => {
    const t = await makeTenant(h.db)
    const created = await create(h, t.token)
    expect(problems(await h.call(t.token, 'POST', `/v1/webhooks/${created.id}:rotate-secret`, body))).toEqual([{ field, location: 'body', code }])
    expect(await storedSecrets(h, created.id)).toEqual({ secret: created.secret, previous_secret: null })
    expect((await get(h, t.token, created.id)).previous_secret_expires_at).toBeNull()
  })
})

describe('POST /v1/webhooks/{id}:test', () => {
  it('202 with its PENDING webhook.test delivery, listed under the endpoint; the event is in GET /v1/events; no other endpoint gets it', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const { secret: _secret, ...w } = await create(h, t.token, { event_types: ['customer.created'] })
    const bystander = await create(h, t.token) // every event type, same team and mode

    const res = await h.call(t.token, 'POST', `/v1/webhooks/${w.id}:test`)
    expect(res.statusCode, res.body).toBe(202)
    const delivery = res.json() as Delivery
    expect(Object.keys(delivery).sort()).toEqual([...DELIVERY_KEYS].sort())
    expect(delivery).toMatchObject({ webhook_id: w.id, event_type: 'webhook.test', status: 'PENDING', attempt_count: 0, delivered_at: null, last_status_code: null, last_error: null, attempts: [] })
    expect(delivery.id).toMatch(/^dlv_/)
    expect(delivery.event_id).toMatch(/^evt_/)

    const listed = await deliveries(h, t.token, w.id)
    expect(listed.map((d) => d.id)).toEqual([delivery.id])
    expect(listed[0]).toMatchObject({ event_id: delivery.event_id, event_type: 'webhook.test', status: 'PENDING' })

    const events = await h.call(t.token, 'GET', '/v1/events?event_type=webhook.test')
    expect(events.statusCode, events.body).toBe(200)
    const found = events.json().data as { id: string; event_type: string; team_id: string; mode: string; data: Record<string, unknown> }[]
    expect(found.map((e) => e.id)).toEqual([delivery.event_id])
    expect(found[0]).toMatchObject({ event_type: 'webhook.test', team_id: t.teamIds[0], mode: 'test' })
    expect(found[0]!.data).toMatchObject({ id: w.id, url: w.url })
    expect(found[0]!.data).not.toHaveProperty('secret')
    expect(events.body).not.toContain(bystander.secret)
    const one = await h.call(t.token, 'GET', `/v1/events/${delivery.event_id}`)
    expect(one.statusCode).toBe(200)

    // webhook.test goes to the endpoint tested only
    expect(await deliveries(h, t.token, bystander.id)).toEqual([])
  })

  it('{} and an empty JSON body work as no body does; each :test is a new event', async () => {
    const t = await makeTenant(h.db)
    const { id } = await create(h, t.token)
    const made: Delivery[] = []
    for (const body of [undefined, {}, '']) {
      const res = await h.call(t.token, 'POST', `/v1/webhooks/${id}:test`, body)
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(202)
      made.push(res.json())
    }
    expect(new Set(made.map((d) => d.event_id)).size).toBe(3)
    expect(sorted((await deliveries(h, t.token, id)).map((d) => d.id))).toEqual(sorted(made.map((d) => d.id)))
  })

  // API.md §11: sequence counts the events of that one resource (PUT and rotation are not events)
  it('the events of an endpoint are numbered 1, 2, 3 … (API.md §11: sequence counts the events of that one resource)', async () => {
    const t = await makeTenant(h.db)
    const w = await create(h, t.token)
    const sequenceOf = async () => {
      const res = await h.call(t.token, 'POST', `/v1/webhooks/${w.id}:test`)
      expect(res.statusCode, res.body).toBe(202)
      const event = await h.call(t.token, 'GET', `/v1/events/${res.json().event_id}`)
      return event.json().sequence as number
    }
    expect(await sequenceOf()).toBe(1)
    expect(await sequenceOf()).toBe(2)
    const { secret: _secret, ...current } = w
    expect((await h.call(t.token, 'PUT', `/v1/webhooks/${w.id}`, { ...current, updated_at: undefined, description: 'x' })).statusCode).toBe(200)
    expect((await h.call(t.token, 'POST', `/v1/webhooks/${w.id}:rotate-secret`)).statusCode).toBe(200)
    expect(await sequenceOf()).toBe(3)
  })

  it('event sequences of an endpoint only grow', async () => {
    const t = await makeTenant(h.db)
    const w = await create(h, t.token)
    const seen: number[] = []
    for (let i = 0; i < 3; i++) {
      const res = await h.call(t.token, 'POST', `/v1/webhooks/${w.id}:test`)
      seen.push((await h.call(t.token, 'GET', `/v1/events/${res.json().event_id}`)).json().sequence)
      if (i === 1) expect((await h.call(t.token, 'POST', `/v1/webhooks/${w.id}:rotate-secret`)).statusCode).toBe(200)
    }
    expect(seen[1]!).toBeGreaterThan(seen[0]!)
    expect(seen[2]!).toBeGreaterThan(seen[1]!)
  })

  it('on a disabled endpoint: 409 WEBHOOK_DISABLED, no delivery and no event', async () => {
    const t = await makeTenant(h.db)
    const w = await create(h, t.token, { enabled: false })
    const err = expectError(await h.call(t.token, 'POST', `/v1/webhooks/${w.id}:test`), 409, 'WEBHOOK_DISABLED')
    expect(err.details).toEqual({ disabled_reason: 'manual' })
    expect(await deliveries(h, t.token, w.id)).toEqual([])
    const events = await h.call(t.token, 'GET', '/v1/events?event_type=webhook.test')
    expect(events.json().data).toEqual([])
    const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [w.id])
    expect(rows[0]!.n).toBe(0)
  })
})

describe('POST /v1/webhooks/{id}:recover', () => {
  it('400 for since in the future, malformed, or missing; 202 {requeued: 0} with nothing failed', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00.000Z')
    const app = await testApp({ clock })
    const t = await makeTenant(app.db, { clock })
    const { id } = await create(app, t.token)
    const url = `/v1/webhooks/${id}:recover`

    expect(problems(await app.call(t.token, 'POST', url, { since: '2026-03-01T12:00:01.000Z' }))).toEqual([{ field: 'since', location: 'body', code: 'maximum' }])
    expect(problems(await app.call(t.token, 'POST', url, { since: 'yesterday' }))).toEqual([{ field: 'since', location: 'body', code: 'format' }])
    expect(problems(await app.call(t.token, 'POST', url, { since: '2026-02-30T00:00:00Z' }))).toEqual([{ field: 'since', location: 'body', code: 'format' }])
    expect(problems(await app.call(t.token, 'POST', url, { since: 1_700_000_000 }))).toEqual([{ field: 'since', location: 'body', code: 'type' }])
    expect(problems(await app.call(t.token, 'POST', url, {}))).toEqual([{ field: 'since', location: 'body', code: 'required' }])
    expect(problems(await app.call(t.token, 'POST', url, { since: '2026-03-01T00:00:00Z', until: '2026-03-01T01:00:00Z' }))).toEqual([{ field: 'until', location: 'body', code: 'additionalProperties' }])
    expect((await app.call(t.token, 'POST', url)).statusCode).toBe(400)

    const none = await app.call(t.token, 'POST', url, { since: '2026-02-01T00:00:00Z' })
    expect(none.statusCode, none.body).toBe(202)
    expect(none.json()).toEqual({ requeued: 0 })
    // since = now is not in the future
    expect((await app.call(t.token, 'POST', url, { since: '2026-03-01T12:00:00.000Z' })).json()).toEqual({ requeued: 0 })
  })

  it('on a disabled endpoint: 409 WEBHOOK_DISABLED', async () => {
    const t = await makeTenant(h.db)
    const w = await create(h, t.token, { enabled: false })
    const err = expectError(await h.call(t.token, 'POST', `/v1/webhooks/${w.id}:recover`, { since: iso(Date.now() - DAY) }), 409, 'WEBHOOK_DISABLED')
    expect(err.details).toEqual({ disabled_reason: 'manual' })
  })

  it('re-queues the FAILED deliveries created since `since`, once the endpoint is enabled again; :retry too', async () => {
    // disabling an endpoint by hand ends its pending deliveries FAILED at once (no attempt made)
    const clock = new ManualClock('2001-02-03T04:05:06.000Z')
    const app = await testApp({ clock })
    const t = await makeTenant(app.db, { clock })
    const { webhook, delivery } = await endpointWithDelivery(app, t.token)
    const off = await app.call(t.token, 'PUT', `/v1/webhooks/${webhook.id}`, { ...webhook, enabled: false })
    expect(off.statusCode, off.body).toBe(200)
    const failed = (await deliveries(app, t.token, webhook.id)).find((d) => d.id === delivery.id)!
    expect(failed).toMatchObject({ status: 'FAILED', attempts: [], last_error: expect.stringContaining('disabled') })

    clock.advance(60 * SECOND)
    expectError(await app.call(t.token, 'POST', `/v1/webhooks/${webhook.id}:recover`, { since: delivery.created_at }), 409, 'WEBHOOK_DISABLED')
    const retryDisabled = expectError(await app.call(t.token, 'POST', `/v1/webhook-deliveries/${delivery.id}:retry`), 409, 'WEBHOOK_DISABLED')
    expect(retryDisabled.details).toEqual({ webhook_id: webhook.id })

    const disabled = await get(app, t.token, webhook.id)
    expect((await app.call(t.token, 'PUT', `/v1/webhooks/${webhook.id}`, { ...disabled, enabled: true })).statusCode).toBe(200)
    expect((await deliveries(app, t.token, webhook.id, '?status=FAILED')).map((d) => d.id)).toEqual([delivery.id])

    // since after the delivery's creation: nothing to do
    const later = await app.call(t.token, 'POST', `/v1/webhooks/${webhook.id}:recover`, { since: iso(Date.parse(delivery.created_at) + 1) })
    expect(later.statusCode, later.body).toBe(202)
    expect(later.json()).toEqual({ requeued: 0 })
    // since at its creation: requeued, due now
    const res = await app.call(t.token, 'POST', `/v1/webhooks/${webhook.id}:recover`, { since: delivery.created_at })
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toEqual({ requeued: 1 })
    const [requeued] = await deliveries(app, t.token, webhook.id)
    expect(requeued).toMatchObject({ id: delivery.id, status: 'PENDING', next_attempt_at: clock.now().toISOString(), attempt_count: 0 })
    // a second :recover finds nothing FAILED
    expect((await app.call(t.token, 'POST', `/v1/webhooks/${webhook.id}:recover`, { since: delivery.created_at })).json()).toEqual({ requeued: 0 })
    expect(await deliveries(app, t.token, webhook.id, '?status=FAILED')).toEqual([])

    // :retry of a delivery: 202 with it, PENDING and due now
    clock.advance(SECOND)
    const retried = await app.call(t.token, 'POST', `/v1/webhook-deliveries/${delivery.id}:retry`)
    expect(retried.statusCode, retried.body).toBe(202)
    expect(Object.keys(retried.json()).sort()).toEqual([...DELIVERY_KEYS].sort())
    expect(retried.json()).toMatchObject({ id: delivery.id, webhook_id: webhook.id, status: 'PENDING' })
    // its PENDING delivery goes with it: no later dispatcher on an early clock finds it
    expect((await app.call(t.token, 'DELETE', `/v1/webhooks/${webhook.id}`)).statusCode).toBe(204)
  })
})

describe('GET /v1/webhooks/{id}/deliveries', () => {
  it('filters by status and event_type, pages, and refuses unknown values', async () => {
    // earlier than the :recover test's clock, so that this dispatcher never claims that test's deliveries
    const clock = new ManualClock('2000-06-01T05:06:07.000Z')
    const app = await testApp({ clock, config: { webhookAllowPrivateTargets: true } })
    const dispatcher = handDispatcher(clock, true)
    const r = await receiver(200)
    const t = await makeTenant(app.db, { clock, teams: 1 })
    const { id } = await create(app, t.token, { url: r.url })

    const first = (await app.call(t.token, 'POST', `/v1/webhooks/${id}:test`)).json() as Delivery
    await dispatcher.runOnce()
    const succeeded = await until(async () => (await deliveries(app, t.token, id)).find((d) => d.id === first.id && d.status === 'SUCCEEDED'))
    expect(succeeded.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error_class: null })])
    expect(succeeded.delivered_at).not.toBeNull()
    expect(r.received.some((body) => body.includes(first.event_id))).toBe(true)

    clock.advance(SECOND)
    const second = (await app.call(t.token, 'POST', `/v1/webhooks/${id}:test`)).json() as Delivery
    clock.advance(SECOND)
    const customer = await app.call(t.token, 'POST', '/v1/customers', { name: 'Ann' })
    expect(customer.statusCode, customer.body).toBe(201)
    const all = await deliveries(app, t.token, id)
    expect(all.map((d) => d.event_type)).toEqual(['customer.created', 'webhook.test', 'webhook.test'])
    const third = all[0]!
    expect(all.map((d) => d.id)).toEqual([third.id, second.id, first.id])

    const ids = async (query: string) => (await deliveries(app, t.token, id, query)).map((d) => d.id)
    expect(await ids('?status=PENDING')).toEqual([third.id, second.id])
    expect(await ids('?status=SUCCEEDED')).toEqual([first.id])
    expect(await ids('?status=FAILED')).toEqual([])
    expect(await ids('?status=SUCCEEDED,PENDING')).toEqual([third.id, second.id, first.id])
    expect(await ids('?status=SUCCEEDED&status=FAILED')).toEqual([first.id])
    expect(await ids('?event_type=webhook.test')).toEqual([second.id, first.id])
    expect(await ids('?event_type=customer.created')).toEqual([third.id])
    expect(await ids('?event_type=booking.created')).toEqual([])
    expect(await ids('?event_type=webhook.test&status=PENDING')).toEqual([second.id])
    expect(await ids('?sort=created_at')).toEqual([first.id, second.id, third.id])

    // pages
    const page1 = await app.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries?limit=2&status=PENDING,SUCCEEDED`)
    expect(page1.json().data.map((d: Delivery) => d.id)).toEqual([third.id, second.id])
    expect(page1.json().pagination.has_more).toBe(true)
    const cursor = encodeURIComponent(page1.json().pagination.next_cursor)
    const page2 = await app.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries?limit=2&status=PENDING,SUCCEEDED&cursor=${cursor}`)
    expect(page2.json()).toMatchObject({ data: [expect.objectContaining({ id: first.id })], pagination: { next_cursor: null, has_more: false } })
    // the cursor is bound to its filters
    expectError(await app.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries?limit=2&status=PENDING&cursor=${cursor}`), 400, 'INVALID_CURSOR')

    expect(problems(await app.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries?status=DONE`))).toEqual([{ field: 'status', location: 'query', code: 'enum' }])
    expect(problems(await app.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries?status=pending`))).toEqual([{ field: 'status', location: 'query', code: 'enum' }])
    expect(problems(await app.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries?event_type=booking.exploded`))).toEqual([{ field: 'event_type', location: 'query', code: 'enum' }])
    expect(problems(await app.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries?state=PENDING`)).map((p) => p.field)).toEqual(['state'])
    // its PENDING deliveries go with it: no later dispatcher on an early clock finds them
    expect((await app.call(t.token, 'DELETE', `/v1/webhooks/${id}`)).statusCode).toBe(204)
  })

  it('an endpoint without deliveries lists none (200, not 404)', async () => {
    const t = await makeTenant(h.db)
    const { id } = await create(h, t.token)
    const res = await h.call(t.token, 'GET', `/v1/webhooks/${id}/deliveries`)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ data: [], pagination: { next_cursor: null, has_more: false } })
  })
})

describe('POST /v1/webhook-deliveries/{id}:retry', () => {
  it('an unknown id, well-formed or not, is a 404; a PENDING delivery of mine is a 202', async () => {
    const t = await makeTenant(h.db)
    const unknown = await h.call(t.token, 'POST', `/v1/webhook-deliveries/${newId('delivery')}:retry`)
    expect(expectError(unknown, 404, 'NOT_FOUND').details).toEqual({ resource: 'webhook delivery' })
    expectError(await h.call(t.token, 'POST', '/v1/webhook-deliveries/nope:retry'), 404, 'NOT_FOUND')
    // an endpoint id is not a delivery id
    const { webhook, delivery } = await endpointWithDelivery(h, t.token)
    expectError(await h.call(t.token, 'POST', `/v1/webhook-deliveries/${webhook.id}:retry`), 404, 'NOT_FOUND')

    const res = await h.call(t.token, 'POST', `/v1/webhook-deliveries/${delivery.id}:retry`)
    expect(res.statusCode, res.body).toBe(202)
    expect(res.json()).toMatchObject({ id: delivery.id, webhook_id: webhook.id, event_type: 'webhook.test', status: 'PENDING' })
  })
})

describe('tenancy', () => {
  it('another partner’s endpoint and delivery: every operation is a 404 identical to an unknown id’s, and changes nothing', async () => {
    const a = await makeTenant(h.db)
    const b = await makeTenant(h.db)
    const theirs = await endpointWithDelivery(h, b.token)
    await create(h, a.token)
    await invisible(h, a.token, a.teamIds, theirs.webhook.id, theirs.delivery.id)
    await unchanged(h, b.token, theirs)
  })

  it('another team’s endpoint: a token of team 2 only gets 404s for an endpoint of team 1', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const team2 = await t.addToken({ team_ids: [t.teamIds[1]!] })
    const theirs = await endpointWithDelivery(h, t.token, { team_ids: [t.teamIds[0]] })
    const mine = await create(h, team2.token)
    expect(mine.team_ids).toEqual([t.teamIds[1]])
    await invisible(h, team2.token, [t.teamIds[1]!], theirs.webhook.id, theirs.delivery.id)
    await unchanged(h, t.token, theirs)
    // the same holds for a user of team 2 only
    const colleague = await t.addUser('ADMIN', { teamIds: [t.teamIds[1]!] })
    await invisible(h, colleague.token, [t.teamIds[1]!], theirs.webhook.id, theirs.delivery.id)
    expect(await listIds(h, colleague.token)).toEqual([mine.id])
    await unchanged(h, t.token, theirs)
  })

  it('an endpoint of teams 1 and 2 is invisible to a token of team 1 only (list, GET and every other operation)', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const team1 = await t.addToken({ team_ids: [t.teamIds[0]!] })
    const both = await endpointWithDelivery(h, t.token)
    expect(sorted(both.webhook.team_ids)).toEqual(sorted(t.teamIds))
    const ofTeam1 = await create(h, t.token, { team_ids: [t.teamIds[0]] })

    // the wide token sees both; the narrow one only the endpoint of its team
    expect(sorted(await listIds(h, t.token))).toEqual(sorted([both.webhook.id, ofTeam1.id]))
    expect(await listIds(h, team1.token)).toEqual([ofTeam1.id])
    expect((await get(h, team1.token, ofTeam1.id)).id).toBe(ofTeam1.id)
    await invisible(h, team1.token, [t.teamIds[0]!], both.webhook.id, both.delivery.id)
    await unchanged(h, t.token, both)

    // nor does it learn of it through the events of its own team: see the next test
    // nor can the narrow token widen its own endpoint to a team it does not cover
    const widened = await h.call(team1.token, 'PUT', `/v1/webhooks/${ofTeam1.id}`, { ...writable(ofTeam1), team_ids: t.teamIds })
    expect(expectError(widened, 400, 'INVALID_TEAM_IDS').details).toEqual({ invalid_team_ids: [t.teamIds[1]] })
  })

  // an endpoint is hidden from a token that does not cover all its teams, and so are the events about it
  it('the webhook.test event of an endpoint of teams 1 and 2 is not shown to a token of team 1 only', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const team1 = await t.addToken({ team_ids: [t.teamIds[0]!] })
    const both = await endpointWithDelivery(h, t.token, { team_ids: [t.teamIds[0], t.teamIds[1]], description: 'wide endpoint' })
    // the wide token sees the event
    const wide = await h.call(t.token, 'GET', '/v1/events?event_type=webhook.test')
    expect(wide.json().data.map((e: { id: string }) => e.id)).toEqual([both.delivery.event_id])
    // the narrow one must not: the endpoint is invisible to it everywhere else
    const narrow = await h.call(team1.token, 'GET', '/v1/events?event_type=webhook.test')
    expect(narrow.statusCode).toBe(200)
    expect(narrow.body).not.toContain(both.webhook.id)
    expect(narrow.json().data).toEqual([])
    await sameNotFound(h, team1.token, 'GET', `/v1/events/${both.delivery.event_id}`, `/v1/events/${newId('event')}`)
  })

  it('the other mode’s endpoint: a live token gets 404s for a test endpoint, and the other way round', async () => {
    const t = await makeTenant(h.db)
    const live = await t.addToken({ mode: 'live' })
    const testEndpoint = await endpointWithDelivery(h, t.token)
    const liveEndpoint = await endpointWithDelivery(h, live.token, { url: 'https://hooks.example.com/live' })
    expect(liveEndpoint.webhook.mode).toBe('live')
    await invisible(h, live.token, t.teamIds, testEndpoint.webhook.id, testEndpoint.delivery.id)
    await invisible(h, t.token, t.teamIds, liveEndpoint.webhook.id, liveEndpoint.delivery.id)
    await unchanged(h, t.token, testEndpoint)
    await unchanged(h, live.token, liveEndpoint)
    expect(await listIds(h, live.token)).toEqual([liveEndpoint.webhook.id])
    expect(await listIds(h, t.token)).toEqual([testEndpoint.webhook.id])
  })
})

describe('permissions', () => {
  it('a VIEWER reads endpoints and deliveries but every write is 403 PERMISSION_DENIED naming webhook.write', async () => {
    const t = await makeTenant(h.db)
    const viewer = await t.addUser('VIEWER')
    const { webhook, delivery } = await endpointWithDelivery(h, t.token)

    const denied = expectError(await h.call(viewer.token, 'POST', '/v1/webhooks', { url: URL_OK }), 403, 'PERMISSION_DENIED')
    expect(denied.details).toEqual({ required_permission: 'webhook.write' })
    expect(await storedEndpoints(h, t.partnerId)).toBe(1)

    const writes: [InjectOptions['method'], string, unknown?][] = [
      ['PUT', `/v1/webhooks/${webhook.id}`, writable(webhook)],
      ['DELETE', `/v1/webhooks/${webhook.id}`],
      ['POST', `/v1/webhooks/${webhook.id}:rotate-secret`],
      ['POST', `/v1/webhooks/${webhook.id}:test`],
      ['POST', `/v1/webhooks/${webhook.id}:recover`, { since: iso(Date.now() - DAY) }],
      ['POST', `/v1/webhook-deliveries/${delivery.id}:retry`],
    ]
    for (const [method, url, body] of writes) {
      const err = expectError(await h.call(viewer.token, method, url, body), 403, 'PERMISSION_DENIED')
      expect(err.details, `${String(method)} ${url}`).toEqual({ required_permission: 'webhook.write' })
    }

    expect(await listIds(h, viewer.token)).toEqual([webhook.id])
    expect(await get(h, viewer.token, webhook.id)).toEqual(webhook)
    expect((await deliveries(h, viewer.token, webhook.id)).map((d) => d.id)).toEqual([delivery.id])
    await unchanged(h, t.token, { webhook, delivery, secret: (await storedSecrets(h, webhook.id)).secret })
  })

  it('roles without webhook.read (TRAVEL_AGENT, ACCOUNTANT) get 403 naming webhook.read; scopes narrow an OWNER', async () => {
    const t = await makeTenant(h.db)
    const w = await create(h, t.token)
    for (const role of ['TRAVEL_AGENT', 'ACCOUNTANT'] as const) {
      const other = await t.addUser(role)
      for (const url of ['/v1/webhooks', `/v1/webhooks/${w.id}`, `/v1/webhooks/${w.id}/deliveries`]) {
        expect(expectError(await h.call(other.token, 'GET', url), 403, 'PERMISSION_DENIED').details, `${role} ${url}`).toEqual({ required_permission: 'webhook.read' })
      }
      expect(expectError(await h.call(other.token, 'POST', '/v1/webhooks', { url: URL_OK }), 403, 'PERMISSION_DENIED').details).toEqual({ required_permission: 'webhook.write' })
    }
    const readOnly = await t.addToken({ scopes: ['webhook.read'] })
    expect(await listIds(h, readOnly.token)).toEqual([w.id])
    expect(expectError(await h.call(readOnly.token, 'POST', '/v1/webhooks', { url: URL_OK }), 403, 'PERMISSION_DENIED').details).toEqual({ required_permission: 'webhook.write' })
    const writeOnly = await t.addToken({ scopes: ['webhook.write'] })
    expect(expectError(await h.call(writeOnly.token, 'GET', '/v1/webhooks'), 403, 'PERMISSION_DENIED').details).toEqual({ required_permission: 'webhook.read' })
    expect(await storedEndpoints(h, t.partnerId)).toBe(1)
  })
})
