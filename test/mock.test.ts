import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { beforeAll, describe, expect, it } from 'vitest'
import { SampleGenerator } from '../src/http/sample-data.ts'
import type { JsonSchema } from '../src/http/sample-data.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/** ?mock=true (API.md §9): every operation of the document, answered with a schema-valid sample, touching nothing. */
interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
  required?: boolean
  schema: JsonSchema
}
interface Operation {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { content: Record<string, { schema: JsonSchema }> }
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }>; 'x-error-codes'?: string[] }>
  security?: unknown[]
}
interface Doc {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, JsonSchema> }
}

let h: TestApp
let t: Tenant
let doc: Doc

beforeAll(async () => {
  h = await testApp()
  t = await makeTenant(h.db, { teams: 2 })
  doc = (await h.inject({ method: 'GET', url: '/openapi.json' })).json()
})

const MOCKABLE = /^\/(v1|v2|api\/v1\/external)(\/|$)/

function validatorFor(schema: JsonSchema) {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  for (const [name, component] of Object.entries(doc.components.schemas)) ajv.addSchema(component, `#/components/schemas/${name}`)
  return ajv.compile(schema)
}

/** The id prefix a path segment's {id} takes: /v1/bookings/{id} → bkg. */
const PREFIX_OF_COLLECTION: Record<string, string> = {
  teams: 'team', tokens: 'tok', listings: 'lst', customers: 'cus', bookings: 'bkg', events: 'evt', webhooks: 'whk',
  'webhook-deliveries': 'dlv', invoices: 'inv', payments: 'pay',
}

/** The operations a test token can ask mock answers of: every authenticated operation of the partner surfaces. */
function mockableOperations(): { path: string; method: string; op: Operation }[] {
  const out = []
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (MOCKABLE.test(path) && !(Array.isArray(op.security) && op.security.length === 0)) out.push({ path, method, op })
    }
  }
  return out
}

/** A valid request for an operation: its required path and query parameters and its body, sampled from the document. */
function requestFor(path: string, op: Operation): { url: string; body: unknown } {
  const resolve = (ref: string) => doc.components.schemas[ref.replace('#/components/schemas/', '')]
  const generator = new SampleGenerator({ seed: `request ${op.operationId}`, params: {}, given: {}, resolve })
  const url = path.replace(/\{(\w+)\}/g, (_m, name: string, offset: number) => {
    const param = op.parameters?.find((p) => p.in === 'path' && p.name === name)
    if (name === 'id') {
      const collection = path.slice(0, offset).split('/').filter(Boolean).pop()!
      return `${PREFIX_OF_COLLECTION[collection] ?? collection.slice(0, 3)}_01kq3v5x7e8f9g0h1j2k3m4n5p`
    }
    return encodeURIComponent(String((generator.sample({ type: 'object', properties: { [name]: param!.schema } }) as Record<string, unknown>)[name]))
  })
  const query = new URLSearchParams()
  for (const p of op.parameters ?? []) {
    if (p.in !== 'query' || !p.required) continue
    const value = (generator.sample({ type: 'object', properties: { [p.name]: p.schema } }) as Record<string, unknown>)[p.name]
    query.set(p.name, String(value))
  }
  const bodySchema = op.requestBody?.content['application/json']?.schema
  return { url: `${url}?${query.size > 0 ? `${query}&` : ''}mock=true`, body: bodySchema ? generator.sample(bodySchema) : undefined }
}

function successOf(op: Operation): string {
  return Object.keys(op.responses).filter((s) => s.startsWith('2')).sort()[0]!
}

describe('mock=true on every operation', () => {
  it('answers each documented success status with a body valid against its schema, the same bytes twice, and touches no data', async () => {
    const operations = mockableOperations()
    expect(operations.length).toBeGreaterThan(50)
    // the token is verified and its last use noted before counting: what follows must not query at all
    expect((await h.call(t.token, 'GET', '/v1/me')).statusCode).toBe(200)
    const before = h.db.queryCount
    const problems: string[] = []
    let checked = 0
    for (const { path, method, op } of operations) {
      const { url, body } = requestFor(path, op)
      const headers: Record<string, string> = method === 'post' ? { 'idempotency-key': `mock-${op.operationId}` } : {}
      const first = await h.call(t.token, method.toUpperCase() as 'GET', url, body, headers)
      const second = await h.call(t.token, method.toUpperCase() as 'GET', url, body, headers)
      const status = successOf(op)
      const where = `${method.toUpperCase()} ${url}`
      if (String(first.statusCode) !== status) {
        problems.push(`${where}: ${first.statusCode} (documented ${status}) ${first.body.slice(0, 300)}`)
        continue
      }
      if (first.body !== second.body) problems.push(`${where}: two different answers`)
      if (first.headers['x-mock-response'] !== 'true') problems.push(`${where}: no X-Mock-Response header`)
      if (first.headers['idempotent-replayed']) problems.push(`${where}: replayed`)
      const schema = op.responses[status]!.content?.['application/json']?.schema
      if (status === '204' || !schema) {
        if (first.body !== '') problems.push(`${where}: a body on ${status}`)
      } else {
        const validate = validatorFor(schema)
        if (!validate(first.json())) problems.push(`${where}: ${JSON.stringify(validate.errors)}`)
        if (status === '201' && first.headers.location !== `http://api.test${path}/${first.json().id}`) problems.push(`${where}: Location ${first.headers.location}`)
      }
      checked++
    }
    expect(problems).toEqual([])
    expect(checked).toBe(operations.length)
    expect(h.db.queryCount - before).toBe(0)
  })

  it('gives the same bytes on another server instance: nothing in a sample comes from the clock or the process', async () => {
    const other = await testApp()
    for (const url of ['/v1/bookings?mock=true', '/v1/me?mock=true', '/v1/webhooks/whk_01kq3v5x7e8f9g0h1j2k3m4n5p?mock=true', '/v2/bookings?mock=true']) {
      const here = await h.call(t.token, 'GET', url)
      expect(here.statusCode, url).toBe(200)
      expect((await other.call(t.token, 'GET', url)).body, url).toBe(here.body)
    }
  })

  it('creates nothing: a mock POST leaves the lists as they were, and its Idempotency-Key is not kept', async () => {
    const tenant = await makeTenant(h.db, { teams: 1 })
    const created = await h.call(tenant.token, 'POST', '/v1/customers?mock=true', { name: 'Mock Only' }, { 'idempotency-key': 'same-key' })
    expect(created.statusCode).toBe(201)
    expect(created.json().name).toBe('Mock Only')
    expect((await h.call(tenant.token, 'GET', '/v1/customers')).json().data).toEqual([])
    // the same key, now for real: it runs (not a replay of the mock answer)
    const real = await h.call(tenant.token, 'POST', '/v1/customers', { name: 'Real One' }, { 'idempotency-key': 'same-key' })
    expect(real.statusCode).toBe(201)
    expect(real.headers['idempotent-replayed']).toBeUndefined()
    expect(real.json().name).toBe('Real One')
    expect((await h.call(tenant.token, 'GET', '/v1/customers')).json().data).toHaveLength(1)
  })

  it('echoes what the request names: a path id of its kind, a stay\'s dates, a filter', async () => {
    const booking = await h.call(t.token, 'GET', '/v1/bookings/bkg_01kq3v5x7e8f9g0h1j2k3m4n5p?mock=true')
    expect(booking.json()).toMatchObject({ id: 'bkg_01kq3v5x7e8f9g0h1j2k3m4n5p', status: 'HELD', mode: 'test', confirmed_at: null })
    expect(booking.headers.etag).toMatch(/^"/)
    const calendar = (await h.call(t.token, 'GET', '/v1/listings/lst_01kq3v5x7e8f9g0h1j2k3m4n5p/calendar?from=2026-08-01&to=2026-08-04&mock=true')).json()
    expect(calendar).toMatchObject({ listing_id: 'lst_01kq3v5x7e8f9g0h1j2k3m4n5p', from: '2026-08-01', to: '2026-08-04' })
    expect(calendar.nights.map((n: { date: string }) => n.date)).toEqual(['2026-08-01', '2026-08-02', '2026-08-03'])
    const search = (await h.call(t.token, 'GET', '/v1/availability?check_in=2026-09-01&check_out=2026-09-05&guests=3&mock=true')).json()
    expect(search.data).toHaveLength(2)
    expect(search.data[0].quote).toMatchObject({ check_in: '2026-09-01', check_out: '2026-09-05', guests: 3 })
    expect(search.pagination).toEqual({ next_cursor: null, has_more: false })
    const filtered = (await h.call(t.token, 'GET', '/v1/bookings?listing_id=lst_01kq3v5x7e8f9g0h1j2k3m4n5p&mock=true')).json()
    expect(filtered.data.map((b: { listing_id: string }) => b.listing_id)).toEqual(['lst_01kq3v5x7e8f9g0h1j2k3m4n5p', 'lst_01kq3v5x7e8f9g0h1j2k3m4n5p'])
    // an action's answer shows its outcome, with what the body said
    const cancelled = (await h.call(t.token, 'POST', '/v1/bookings/bkg_01kq3v5x7e8f9g0h1j2k3m4n5p:cancel?mock=true', { reason: 'Flight cancelled' })).json()
    expect(cancelled).toMatchObject({ id: 'bkg_01kq3v5x7e8f9g0h1j2k3m4n5p', status: 'CANCELLED', cancellation_reason: 'Flight cancelled', cancelled_at: expect.any(String), confirmed_at: null })
    const issued = (await h.call(t.token, 'POST', '/v1/bookings/bkg_01kq3v5x7e8f9g0h1j2k3m4n5p:issue?mock=true')).json()
    expect(issued).toMatchObject({ status: 'ISSUED', confirmed_at: expect.any(String), issued_at: expect.any(String), voucher_number: 'VCH-2026-000042' })
    expect((await h.call(t.token, 'POST', '/v1/invoices/inv_01kq3v5x7e8f9g0h1j2k3m4n5p:void?mock=true')).json()).toMatchObject({ status: 'VOID', voided_at: expect.any(String) })
    // a created resource carries what the body said
    const customer = (await h.call(t.token, 'POST', '/v1/customers?mock=true', { name: 'Le Van Tam', language: 'en' })).json()
    expect(customer).toMatchObject({ name: 'Le Van Tam', language: 'en', mode: 'test' })
    // realistic money: a decimal string that adds up
    expect(booking.json().price).toMatchObject({ nightly_rate: { amount: '120.00', currency: 'USD' }, total: { amount: '360.00', currency: 'USD' } })
  })

  it('answers a report in CSV when asked (Accept: text/csv or .csv), as the real report does', async () => {
    const byAccept = await h.call(t.token, 'GET', '/v1/reports/revenue?from=2026-05-01&to=2026-05-31&mock=true', undefined, { accept: 'text/csv' })
    expect(byAccept.statusCode).toBe(200)
    expect(byAccept.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(byAccept.headers['content-disposition']).toBe('attachment; filename="revenue-2026-05-01-2026-05-31.csv"')
    const lines = byAccept.body.split('\r\n')
    expect(lines[0]).toBe('period,period_start,period_end,team_id,team_name,listing_id,listing_name,currency,bookings,nights,revenue')
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe('')
    const bySuffix = await h.call(t.token, 'GET', '/v1/reports/revenue.csv?from=2026-05-01&to=2026-05-31&mock=true')
    expect(bySuffix.body).toBe(byAccept.body)
    const json = (await h.call(t.token, 'GET', '/v1/reports/occupancy?from=2026-05-01&to=2026-05-31&mock=true')).json()
    expect(json.report).toBe('occupancy')
    expect(json.data[0]).toHaveProperty('occupancy_rate', '0.7500')
  })
})

describe('mock=true refused', () => {
  it('with a live token: 400 MOCK_NOT_ALLOWED_IN_LIVE_MODE, and nothing is created', async () => {
    const live = await makeTenant(h.db, { teams: 1, mode: 'live' })
    const read = await h.call(live.token, 'GET', '/v1/listings?mock=true')
    expect(read.statusCode).toBe(400)
    expect(read.json().error).toMatchObject({ code: 'MOCK_NOT_ALLOWED_IN_LIVE_MODE', retry_advice: 'retry_after_fix', details: { mode: 'live' } })
    expect(read.headers['x-ratelimit-bucket']).toBe('read')
    const write = await h.call(live.token, 'POST', '/v1/customers?mock=true', { name: 'Live' })
    expect(write.json().error.code).toBe('MOCK_NOT_ALLOWED_IN_LIVE_MODE')
    expect((await h.call(live.token, 'GET', '/v1/customers')).json().data).toEqual([])
    // mock=false is the ordinary request
    expect((await h.call(live.token, 'GET', '/v1/listings?mock=false')).statusCode).toBe(200)
  })

  it('when the server turns mock answers off: 400 MOCK_RESPONSES_DISABLED in both modes; mock=false still works', async () => {
    const off = await testApp({ config: { mockResponses: false } })
    const live = await makeTenant(off.db, { teams: 1, mode: 'live' })
    for (const token of [t.token, live.token]) {
      const res = await off.call(token, 'GET', '/v1/teams?mock=true')
      expect(res.statusCode).toBe(400)
      expect(res.json().error.code).toBe('MOCK_RESPONSES_DISABLED')
    }
    expect((await off.call(t.token, 'GET', '/v1/teams?mock=false')).statusCode).toBe(200)
    const sandbox = (await off.call(t.token, 'GET', '/v1/sandbox')).json()
    expect(sandbox.mock_responses.enabled).toBe(false)
  })

  it('any other value of mock is a 400 naming the field; mock=false passes closed query schemas', async () => {
    for (const value of ['yes', 'TRUE', '1', '']) {
      const res = await h.call(t.token, 'GET', `/v1/listings?mock=${value}`)
      expect(res.statusCode, value).toBe(400)
      expect(res.json().error.code).toBe('VALIDATION_ERROR')
      expect(res.json().error.details.fields).toEqual([{ field: 'mock', location: 'query', code: 'enum', message: 'must be true or false' }])
    }
    expect((await h.call(t.token, 'GET', '/v1/listings?mock=true&mock=true')).json().error.details.fields[0].field).toBe('mock')
    // /v1/listings refuses unknown query parameters: mock is not one
    expect((await h.call(t.token, 'GET', '/v1/listings?mock=false')).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', '/v1/listings?nope=1')).statusCode).toBe(400)
  })

  it('authentication, permission and validation come first', async () => {
    const noToken = await h.call(null, 'GET', '/v1/listings?mock=true')
    expect(noToken.statusCode).toBe(401)
    const viewer = await t.addUser('VIEWER')
    const denied = await h.call(viewer.token, 'POST', '/v1/listings?mock=true', {})
    expect(denied.statusCode).toBe(403)
    expect(denied.json().error.code).toBe('PERMISSION_DENIED')
    const invalid = await h.call(t.token, 'POST', '/v1/bookings?mock=true', { listing_id: 'lst_01kq3v5x7e8f9g0h1j2k3m4n5p', guests: 0 })
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json().error.code).toBe('VALIDATION_ERROR')
    expect(invalid.json().error.details.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['customer_id', 'guests']))
    const payment = await h.call(t.token, 'POST', '/v1/payments?mock=true', {})
    expect(payment.json().error.code).toBe('IDEMPOTENCY_KEY_REQUIRED')
  })

  it('the External API renders the refusal in its own flat shape', async () => {
    const live = await makeTenant(h.db, { teams: 1, mode: 'live' })
    const res = await h.call(live.token, 'GET', '/api/v1/external/listings?mock=true')
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'MOCK_NOT_ALLOWED_IN_LIVE_MODE', message: expect.any(String) })
  })
})

describe('the document', () => {
  it('lists the mock parameter and its two refusals on every mockable operation, and on no other', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const mockable = MOCKABLE.test(path) && !(Array.isArray(op.security) && op.security.length === 0)
        const param = op.parameters?.find((p) => p.in === 'query' && p.name === 'mock')
        expect(Boolean(param), `${method} ${path}`).toBe(mockable)
        if (!mockable) continue
        expect(param!.schema).toMatchObject({ type: 'string', enum: ['true', 'false'] })
        expect(op.responses['400']!['x-error-codes']).toEqual(expect.arrayContaining(['MOCK_NOT_ALLOWED_IN_LIVE_MODE', 'MOCK_RESPONSES_DISABLED']))
      }
    }
  })
})
