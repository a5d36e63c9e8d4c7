import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument } from '../src/cli/main.ts'
import { ownDatabaseOnPostgres, testConfig } from './helpers/harness.ts'
import { TOKEN_LINE, freshDataDir, startServer } from './helpers/processes.ts'
import type { Server } from './helpers/processes.ts'

/**
 * The document's examples are promises: each validates against its schema, and each example
 * request, sent as written (in the document's order) to a fresh demo server, gets the status the
 * document gives first for it, with the headers it says are always there and a body its schema
 * accepts. On PostgreSQL the server gets an empty database of its own, so its first run seeds the
 * same demo data (with the same fixed ids) as the embedded one.
 */
type Json = Record<string, unknown>
interface Parameter { name: string; in: string; required?: boolean; example?: unknown; schema?: Json }
interface Media { schema?: Json; example?: unknown; examples?: Record<string, { $ref?: string; value?: unknown }> }
interface Operation {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { required?: boolean; content: Record<string, Media> }
  responses: Record<string, { headers?: Record<string, { $ref?: string }>; content?: Record<string, Media>; 'x-error-codes'?: string[] }>
}
interface Document {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Json>; examples: Record<string, { value: unknown }>; headers: Record<string, { required?: boolean }> }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch']
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

let server: Server
let token: string
let doc: Document
let ajv: Ajv2020

function operations(): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path, method, op })))
}

const compiled = new Map<string, ValidateFunction>()
function validator(schema: Json): ValidateFunction {
  const key = JSON.stringify(schema)
  let validate = compiled.get(key)
  if (!validate) {
    validate = ajv.compile({ ...JSON.parse(key.replaceAll('"#/components/schemas/', '"doc#/components/schemas/')), $schema: undefined })
    compiled.set(key, validate)
  }
  return validate
}

function expectValid(schema: Json | undefined, value: unknown, where: string): void {
  expect(schema, `${where}: no schema`).toBeDefined()
  const validate = validator(schema!)
  expect(validate(value), `${where}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`).toBe(true)
}

/** A fresh demo server (test/helpers/processes.ts stops it after the test that started it). */
async function freshDemoServer(): Promise<void> {
  server = await startServer(freshDataDir())
  token = TOKEN_LINE.exec(server.output())![1]!
}

beforeAll(async () => {
  await ownDatabaseOnPostgres('examples')
  // the document a server built from this code serves (the same routes; examples dated today)
  doc = JSON.parse(JSON.stringify(await openApiDocument(testConfig()))) as Document
  ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }))
  ajv.addSchema({ $id: 'doc', components: { schemas: doc.components.schemas } })
}, 90_000)

describe('OpenAPI examples', () => {
  it('every operation has a success example, every request body and path parameter one, every error status one per code it lists', () => {
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      for (const parameter of op.parameters ?? []) if (parameter.in === 'path') expect(parameter.example, `${where} {${parameter.name}}`).toBeDefined()
      const body = op.requestBody?.content['application/json']
      if (body) expect(body.example, `${where} request body`).toBeDefined()
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2')).sort()[0]!
      const media = op.responses[success]!.content?.['application/json']
      if (media) expect(media.example, `${where} ${success}`).toBeDefined()
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue
        const codes = response['x-error-codes'] ?? []
        expect(codes.length, `${where} ${status} lists its codes`).toBeGreaterThan(0)
        const examples = response.content!['application/json']!.examples ?? {}
        expect(Object.keys(examples).sort(), `${where} ${status}`).toEqual([...codes].sort())
      }
    }
  })

  it('every example is valid against its schema: parameters, request bodies, success answers, errors', () => {
    let checked = 0
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      for (const parameter of op.parameters ?? []) {
        if (parameter.example === undefined) continue
        expectValid(parameter.schema, parameter.example, `${where} parameter ${parameter.name}`)
        checked++
      }
      const body = op.requestBody?.content['application/json']
      if (body?.example !== undefined) {
        expectValid(body.schema, body.example, `${where} request body`)
        checked++
      }
      for (const [status, response] of Object.entries(op.responses)) {
        const media = response.content?.['application/json']
        if (media?.example !== undefined) {
          expectValid(media.schema, media.example, `${where} ${status}`)
          checked++
        }
        for (const [code, ref] of Object.entries(media?.examples ?? {})) {
          const example = doc.components.examples[ref.$ref!.replace('#/components/examples/', '')]!
          expectValid(media!.schema, example.value, `${where} ${status} ${code}`)
          const value = example.value as { code?: string; error?: { code: string } }
          expect(value.error?.code ?? value.code, `${where} ${status}`).toBe(code)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(500)
  })

  it('every example request, sent as written to a fresh demo server, gets its documented status, headers and body', async () => {
    await freshDemoServer()
    const results: string[] = []
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      const url = new URL(server.base + path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(String(op.parameters!.find((p) => p.in === 'path' && p.name === name)!.example))))
      const headers: Record<string, string> = { authorization: `Bearer ${token}` }
      for (const parameter of op.parameters ?? []) {
        if (parameter.example === undefined || parameter.in === 'path') continue
        const value = Array.isArray(parameter.example) ? parameter.example.join(',') : String(parameter.example)
        if (parameter.in === 'query') url.searchParams.set(parameter.name, value)
        if (parameter.in === 'header') headers[parameter.name] = value
      }
      const body = op.requestBody?.content['application/json']?.example
      if (body !== undefined) headers['content-type'] = 'application/json'
      const res = await fetch(url, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body) }).catch((error: unknown) => {
        throw new Error(`${where}: ${String(error)} (${String((error as { cause?: unknown }).cause)}); the server said:\n${server.output().slice(-3000)}`)
      })
      const text = await res.text()
      const documented = Object.keys(op.responses).filter((s) => s.startsWith('2')).sort()[0]!
      expect(String(res.status), `${where} (${op.operationId}) answered ${res.status}: ${text.slice(0, 600)}`).toBe(documented)
      for (const [name, ref] of Object.entries(op.responses[documented]!.headers ?? {})) {
        const definition = doc.components.headers[ref.$ref!.replace('#/components/headers/', '')]!
        if (definition.required) expect(res.headers.get(name), `${where}: header ${name}`).not.toBeNull()
      }
      const media = op.responses[documented]!.content?.['application/json']
      if (media?.schema && (res.headers.get('content-type') ?? '').startsWith('application/json')) expectValid(media.schema, JSON.parse(text), `${where} answer`)
      results.push(`${res.status} ${where}`)
    }
    expect(results.length).toBe(operations().length)
  }, 120_000)
})
