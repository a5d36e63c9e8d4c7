import { beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument } from '../src/cli/main.ts'
import { ERROR_CATALOGUE, ERROR_CODES } from '../src/platform/errors.ts'
import { testApp } from './helpers/harness.ts'
import type { TestApp } from './helpers/harness.ts'

interface Operation {
  operationId?: string
  summary?: string
  tags?: string[]
  security?: unknown[]
  responses?: Record<string, { $ref?: string; content?: Record<string, { schema?: { $ref?: string } }> }>
}

interface OpenApiDoc {
  openapi: string
  servers?: unknown
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }> }
  security?: unknown[]
}

/** Fastify path → OpenAPI path: ':id' → '{id}', ':id(^[^:/]+)::rotate' → '{id}:rotate'. */
function toOpenApiPath(url: string): string {
  // '::' is an escaped literal colon; ':name' or ':name(regex)' is a parameter
  return url
    .split('::')
    .map((part) => part.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?/g, '{$1}'))
    .join(':')
}

/** The routes the interactive reference (Scalar) adds: its page, script and copy of the document, hidden from the document. */
function isReferenceRoute(url: string): boolean {
  return url === '/docs' || url === '/docs/' || url.startsWith('/docs/js/') || url === '/docs/openapi.json' || url === '/docs/openapi.yaml'
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

describe('OpenAPI document', () => {
  let h: TestApp
  let doc: OpenApiDoc
  beforeAll(async () => {
    h = await testApp()
    const res = await h.inject({ method: 'GET', url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    doc = res.json() as OpenApiDoc
  })

  function operations(): [string, string, Operation][] {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => HTTP_METHODS.includes(method))
        .map(([method, op]) => [path, method, op] as [string, string, Operation]),
    )
  }

  it('is OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
  })

  it('converts Fastify paths to OpenAPI paths', () => {
    expect(toOpenApiPath('/v1/tokens/:id')).toBe('/v1/tokens/{id}')
    expect(toOpenApiPath('/v1/tokens/:id(^[^:/]+)::rotate')).toBe('/v1/tokens/{id}:rotate')
    expect(toOpenApiPath('/v1/customers/:id/bookings')).toBe('/v1/customers/{id}/bookings')
  })

  it('documents every route the app registers', () => {
    const registered = h.routes.routes.filter((r) => r.method !== 'HEAD' && !isReferenceRoute(r.url))
    expect(registered.length).toBeGreaterThan(5)
    const missing = registered.filter((r) => !doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.url}`)
    expect(missing).toEqual([])
    // and the document invents no operation the app does not serve
    const served = new Set(registered.map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.url)}`))
    const invented = operations()
      .map(([path, method]) => `${method} ${path}`)
      .filter((key) => !served.has(key))
    expect(invented).toEqual([])
  })

  it('has POST /v1/tokens/{id}:rotate', () => {
    expect(doc.paths['/v1/tokens/{id}:rotate']?.post?.operationId).toBeTruthy()
  })

  it('gives every operation a unique operationId, a summary and tags', () => {
    const ids = new Set<string>()
    for (const [path, method, op] of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      expect(op.operationId, where).toMatch(/^[a-zA-Z][a-zA-Z0-9]*$/)
      expect(ids.has(op.operationId!), `${where}: duplicate operationId ${op.operationId}`).toBe(false)
      ids.add(op.operationId!)
      expect(op.summary, where).toBeTruthy()
      expect(Array.isArray(op.tags) && op.tags.length > 0, `${where}: tags`).toBe(true)
    }
  })

  it('declares 406 and 500 on every operation, 401 and 429 on every authenticated one, all as ErrorEnvelope', () => {
    let authenticated = 0
    for (const [path, method, op] of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      const responses = op.responses ?? {}
      expect(Object.keys(responses), where).toEqual(expect.arrayContaining(['406', '500']))
      // an operation is authenticated unless it opts out with security: []
      const security = op.security ?? doc.security ?? []
      if (security.length > 0) {
        authenticated++
        expect(Object.keys(responses), where).toEqual(expect.arrayContaining(['401', '429']))
      }
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) < 400) continue
        const ref = response.$ref ?? response.content?.['application/json']?.schema?.$ref
        // the External API (API.md §2) keeps its partner guide's flat body; every other surface the envelope
        expect(ref, `${where} ${status}`).toMatch(path.startsWith('/api/v1/external/') ? /FlatError$/ : /ErrorEnvelope$/)
      }
    }
    expect(authenticated).toBeGreaterThan(0)
  })

  it('lists exactly the catalogue codes in the ErrorEnvelope code enum', () => {
    const envelope = doc.components.schemas.ErrorEnvelope
    expect(envelope).toBeDefined()
    const codes = envelope!.properties.error.properties.code.enum
    expect([...codes].sort()).toEqual([...ERROR_CODES].sort())
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort())
  })

  it('is the document `npm run openapi` writes (apart from servers)', async () => {
    const exported = (await openApiDocument(h.config)) as OpenApiDoc
    const { servers: _a, ...served } = doc
    const { servers: _b, ...written } = JSON.parse(JSON.stringify(exported)) as OpenApiDoc
    expect(written).toEqual(served)
  })
})
