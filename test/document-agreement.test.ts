import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { beforeAll, describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/** Regression tests for the audit's "the document and the server disagree" findings. */
type Schema = Record<string, unknown>
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Schema }>; 'x-error-codes'?: string[] }>
  'x-required-permissions'?: string[]
  security?: unknown[]
}
let h: TestApp
let t: Tenant
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } }

beforeAll(async () => {
  h = await testApp()
  t = await makeTenant(h.db, { teams: 1 })
  doc = (await h.inject({ method: 'GET', url: '/openapi.json' })).json()
})

function validatorFor(schema: Schema) {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  for (const [name, component] of Object.entries(doc.components.schemas)) ajv.addSchema(component, `#/components/schemas/${name}`)
  return ajv.compile(schema)
}

function responseSchema(path: string, method: string, status: string, type = 'application/json'): Schema {
  const schema = doc.paths[path]?.[method]?.responses[status]?.content?.[type]?.schema
  expect(schema, `${method} ${path} ${status} ${type}`).toBeDefined()
  return schema!
}

describe('the document says what the server sends', () => {
  it('?fields= answers are valid against the documented 200 schema', async () => {
    const customer = (await h.call(t.token, 'POST', '/v1/customers', { name: 'Fields' })).json()
    const list = await h.call(t.token, 'GET', '/v1/customers?fields=id,name')
    const one = await h.call(t.token, 'GET', `/v1/customers/${customer.id}?fields=id`)
    expect(list.json().data[0]).toEqual({ id: expect.any(String), name: expect.any(String) })
    for (const [res, path] of [[list, '/v1/customers'], [one, '/v1/customers/{id}']] as const) {
      const validate = validatorFor(responseSchema(path, 'get', '200'))
      expect(validate(res.json()), JSON.stringify(validate.errors)).toBe(true)
    }
    // the full answer still matches the full shape
    const full = validatorFor(responseSchema('/v1/customers/{id}', 'get', '200'))
    expect(full((await h.call(t.token, 'GET', `/v1/customers/${customer.id}`)).json())).toBe(true)
  })

  it('/metrics is documented as text/plain and /docs/errors as text/html', () => {
    expect(Object.keys(doc.paths['/metrics']!.get!.responses['200']!.content!)).toEqual(['text/plain'])
    expect(Object.keys(doc.paths['/docs/errors']!.get!.responses['200']!.content!)).toEqual(['text/html'])
  })

  it('409 CONFLICT is listed where it is sent', () => {
    for (const [path, method] of [['/v1/listings/{id}', 'put'], ['/v1/tokens', 'post'], ['/v1/tokens/{id}:rotate', 'post']] as const) {
      expect(doc.paths[path]![method]!.responses['409']!['x-error-codes'], `${method} ${path}`).toContain('CONFLICT')
    }
  })

  it('404 and 414 are documented on every operation with a path id; every error response lists its codes', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (path.includes('{')) {
          // the External API names what was not accessible (EXTERNAL_BOOKING_NOT_ACCESSIBLE …) where the others say NOT_FOUND
          const notFound = path.startsWith('/api/v1/external/') ? `EXTERNAL_${path.split('/')[4]!.replace(/s$/, '').toUpperCase()}_NOT_ACCESSIBLE` : 'NOT_FOUND'
          expect(operation.responses['404']?.['x-error-codes'], `${method} ${path}`).toContain(notFound)
          expect(operation.responses['414']?.['x-error-codes'], `${method} ${path}`).toEqual(['URI_TOO_LONG'])
        }
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400) expect(response['x-error-codes']?.length, `${method} ${path} ${status}`).toBeGreaterThan(0)
        }
        expect(Array.isArray(operation['x-required-permissions']), `${method} ${path}`).toBe(true)
      }
    }
  })

  it('a customer\'s bookings need customer.read as well as booking.read (ACCOUNTANT has only the second)', async () => {
    expect(doc.paths['/v1/customers/{id}/bookings']!.get!['x-required-permissions']).toEqual(['customer.read', 'booking.read'])
    const customer = (await h.call(t.token, 'POST', '/v1/customers', { name: 'Accountant probe' })).json()
    const accountant = await t.addUser('ACCOUNTANT')
    const res = await h.call(accountant.token, 'GET', `/v1/customers/${customer.id}/bookings`)
    expect(res.statusCode, res.body).toBe(403)
    expect(res.json().error).toMatchObject({ code: 'PERMISSION_DENIED', details: { required_permission: 'customer.read' } })
    const viewer = await t.addUser('VIEWER')
    expect((await h.call(viewer.token, 'GET', `/v1/customers/${customer.id}/bookings`)).statusCode).toBe(200)
  })

  it('the document\'s limits are the server\'s: every request array has maxItems, every body object is closed or has maxProperties', () => {
    const named = doc.components.schemas as Record<string, Schema>
    const visit = (node: unknown, where: string, seen: Set<string> = new Set()): void => {
      if (!node || typeof node !== 'object') return
      const s = node as Schema & { $ref?: string }
      // named schemas are followed: a body's Money is bounded like an inline one
      if (typeof s.$ref === 'string') {
        const name = s.$ref.replace('#/components/schemas/', '')
        if (!seen.has(name)) visit(named[name], `${where}→${name}`, new Set([...seen, name]))
        return
      }
      if (s.type === 'array') expect(typeof s.maxItems, where).toBe('number')
      if (s.type === 'object' && where.includes('requestBody')) expect(s.additionalProperties === false || typeof s.maxProperties === 'number', where).toBe(true)
      for (const [key, child] of Object.entries(s)) if (child && typeof child === 'object' && key !== 'example' && key !== 'examples') visit(child, `${where}.${key}`, seen)
    }
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const op = operation as unknown as { parameters?: unknown[]; requestBody?: unknown }
        visit(op.parameters, `${method} ${path} parameters`)
        visit(op.requestBody, `${method} ${path} requestBody`)
      }
    }
  })
})
