import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument } from '../src/cli/main.ts'
import { loadConfig } from '../src/config.ts'
import { codeSamplesFor } from '../src/http/code-samples.ts'
import type { CodeSample, CodeSampleInput } from '../src/http/code-samples.ts'

/**
 * The code samples of the reference (x-codeSamples): the curl command is parsed by a real shell
 * and says the operation's method, URL, headers and body; the TypeScript sample of every operation
 * type-checks (tsc --strict) against the SDK's own types, so a sample never calls a path, passes a
 * parameter or sends a body the SDK would refuse.
 */
const ROOT = resolve(import.meta.dirname, '..')
const BASE = 'http://localhost:3000'
const run = promisify(execFile)

interface Operation {
  operationId?: string
  security?: unknown[]
  'x-codeSamples'?: CodeSample[]
}

interface Document {
  servers?: { url: string }[]
  paths: Record<string, Record<string, Operation>>
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch']

interface ParsedCurl {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
}

/** Runs the sample in bash with curl replaced by a function that prints its arguments: what curl would have been given. */
async function parseCurl(source: string, env: Record<string, string> = {}): Promise<ParsedCurl> {
  const script = `curl() { printf '%s\\0' "$@"; }\n${source}`
  const { stdout } = await run('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...env } })
  const args = stdout.split('\0').slice(0, -1)
  const parsed: ParsedCurl = { method: 'GET', url: '', headers: {} }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '-s') continue
    else if (arg === '-X') parsed.method = args[++i]!
    else if (arg === '-H') {
      const header = args[++i]!
      const colon = header.indexOf(':')
      parsed.headers[header.slice(0, colon).toLowerCase()] = header.slice(colon + 1).trim()
    } else if (arg === '-d') parsed.body = args[++i]!
    else if (!arg.startsWith('-') && !parsed.url) parsed.url = arg
    else throw new Error(`unexpected curl argument ${arg}`)
  }
  return parsed
}

function sample(samples: CodeSample[], lang: CodeSample['lang']): string {
  const found = samples.find((s) => s.lang === lang)
  expect(found, `no ${lang} sample`).toBeDefined()
  return found!.source
}

describe('codeSamplesFor', () => {
  const create: CodeSampleInput = {
    method: 'post',
    path: '/v1/bookings',
    operationId: 'createBooking',
    pathParams: {},
    body: { listing_id: 'lst_1', guests: 2, guest_details: { special_requests: "Late check-in, it's fine; $HOME `x` \"q\"" } },
    baseUrl: BASE,
  }

  it('gives curl and TypeScript SDK samples in the x-codeSamples shape', () => {
    const samples = codeSamplesFor(create)
    expect(samples.map((s) => [s.lang, s.label])).toEqual([
      ['Shell', 'curl'],
      ['TypeScript', 'TypeScript SDK'],
    ])
  })

  it('curl: a POST sends its method, the token from TVB_TOKEN and the body byte for byte, whatever it quotes', async () => {
    const curl = await parseCurl(sample(codeSamplesFor(create), 'Shell'), { TVB_TOKEN: 'tvb_test_abc', HOME: '/nowhere' })
    expect(curl.method).toBe('POST')
    expect(curl.url).toBe(`${BASE}/v1/bookings`)
    expect(curl.headers.authorization).toBe('Bearer tvb_test_abc')
    expect(curl.headers['content-type']).toBe('application/json')
    expect(JSON.parse(curl.body!)).toEqual(create.body)
  })

  it('curl: a GET has no -X; path values are encoded and the query is sent as given; a public operation sends no token', async () => {
    const source = sample(codeSamplesFor({ method: 'get', path: '/v1/bookings/{id}', pathParams: { id: 'bkg 1/$x' }, query: { status: ['HELD', 'CONFIRMED'], limit: 5 }, baseUrl: `${BASE}/`, isPublic: true }), 'Shell')
    expect(source).not.toContain('-X')
    const curl = await parseCurl(source)
    expect(curl.method).toBe('GET')
    expect(curl.url).toBe(`${BASE}/v1/bookings/bkg%201%2F%24x?status=HELD&status=CONFIRMED&limit=5`)
    expect(curl.headers.authorization).toBeUndefined()
  })

  it('an optional body is sent as given, and said to be optional; declared headers are sent', async () => {
    const body = { reason: 'The class was cancelled' }
    const samples = codeSamplesFor({ method: 'post', path: '/v1/invoices/{id}:void', operationId: 'voidInvoice', pathParams: { id: 'inv_1' }, headers: { 'idempotency-key': 'k-1' }, body, bodyIsOptional: true, baseUrl: BASE })
    const source = sample(samples, 'Shell')
    expect(source.split('\n')[0]).toMatch(/^# the body is optional/)
    const curl = await parseCurl(source)
    expect(JSON.parse(curl.body!)).toEqual(body)
    expect(curl.headers['idempotency-key']).toBe('k-1')
    expect(curl.url).toBe(`${BASE}/v1/invoices/inv_1:void`)
    expect(sample(samples, 'TypeScript')).toContain('// the body is optional')
    expect(sample(samples, 'TypeScript')).toContain("reason: 'The class was cancelled',")
    expect(sample(samples, 'TypeScript')).toContain("'idempotency-key': 'k-1'")
    // without an example body, neither sample sends one
    const bare = codeSamplesFor({ method: 'post', path: '/v1/bookings/{id}:confirm', pathParams: { id: 'bkg_1' }, bodyIsOptional: true, baseUrl: BASE })
    expect((await parseCurl(sample(bare, 'Shell'))).body).toBeUndefined()
    expect(sample(bare, 'TypeScript')).not.toContain('body')
  })

  it('TypeScript: the typed low-level call of the SDK, with the OpenAPI path and its params', () => {
    const source = sample(codeSamplesFor({ method: 'get', path: '/v1/bookings/{id}', operationId: 'getBooking', pathParams: { id: 'bkg_1' }, baseUrl: BASE }), 'TypeScript')
    expect(source).toContain("import { Travobooks } from '@travobooks/sdk'")
    expect(source).toContain('const tvb = new Travobooks()')
    expect(source).toMatch(/const booking = await tvb\.GET\('\/v1\/bookings\/\{id\}', \{\n\s+params: \{\n\s+path: \{\n\s+id: 'bkg_1',/)
  })

  it('TypeScript: query values typed by their parameters\' schemas; curl sends them as written', async () => {
    const input: CodeSampleInput = {
      method: 'get',
      path: '/v1/bookings',
      pathParams: {},
      query: { limit: '5', status: 'HELD,CONFIRMED', team_ids: '["team_a"]', include_all: 'true', q: '42' },
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer' } },
        { name: 'status', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
        { name: 'team_ids', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
        { name: 'include_all', in: 'query', schema: { type: 'boolean' } },
        { name: 'q', in: 'query', schema: { type: 'string' } },
      ],
      baseUrl: BASE,
    }
    const samples = codeSamplesFor(input)
    const ts = sample(samples, 'TypeScript')
    expect(ts).toContain('limit: 5,')
    expect(ts).toContain("status: ['HELD', 'CONFIRMED'],")
    expect(ts).toContain("team_ids: ['team_a'],")
    expect(ts).toContain('include_all: true,')
    expect(ts).toContain("q: '42',")
    const curl = await parseCurl(sample(samples, 'Shell'))
    expect(curl.url).toBe(`${BASE}/v1/bookings?limit=5&status=HELD,CONFIRMED&team_ids=%5B%22team_a%22%5D&include_all=true&q=42`)
    expect(new URL(curl.url).searchParams.get('team_ids')).toBe('["team_a"]')
  })

  it('refuses a path without a value for one of its parameters', () => {
    expect(() => codeSamplesFor({ method: 'get', path: '/v1/bookings/{id}', pathParams: {}, baseUrl: BASE })).toThrow(/id/)
  })
})

describe('the code samples of every operation of the document', () => {
  let document: Document
  const operations: { method: string; path: string; operation: Operation; samples: CodeSample[] }[] = []
  let dir: string

  beforeAll(async () => {
    document = (await openApiDocument(loadConfig({ LOG_LEVEL: 'silent', PUBLIC_BASE_URL: BASE }))) as Document
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!HTTP_METHODS.includes(method)) continue
        operations.push({ method, path, operation, samples: operation['x-codeSamples'] ?? [] })
      }
    }
    dir = mkdtempSync(join(tmpdir(), 'tvb-code-samples-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('every operation carries a curl and a TypeScript SDK sample (x-codeSamples)', () => {
    expect(operations.length).toBeGreaterThan(30)
    const without = operations.filter(({ samples }) => samples.map((s) => s.label).join() !== 'curl,TypeScript SDK').map(({ method, path }) => `${method} ${path}`)
    expect(without).toEqual([])
  })

  it('every curl sample calls its operation: method, the server URL and the path with its values', async () => {
    for (const { method, path, operation, samples } of operations) {
      const curl = await parseCurl(sample(samples, 'Shell'), { TVB_TOKEN: 'tvb_test_x' })
      const where = `${method.toUpperCase()} ${path}`
      expect(curl.method, where).toBe(method.toUpperCase())
      const url = new URL(curl.url)
      expect(`${url.origin}`, where).toBe(document.servers?.[0]?.url ?? BASE)
      const template = new RegExp(`^${path.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+')}$`)
      expect(url.pathname, where).toMatch(template)
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0
      expect(curl.headers.authorization, where).toBe(isPublic ? undefined : 'Bearer tvb_test_x')
      if (curl.body !== undefined) expect(() => JSON.parse(curl.body!), where).not.toThrow()
    }
  })

  it(
    'every TypeScript sample type-checks against the SDK (tsc --strict)',
    async () => {
      const functions = operations.map(({ method, path, samples }, i) => {
        const source = sample(samples, 'TypeScript')
        const [first, ...rest] = source.split('\n')
        expect(first, `${method} ${path}`).toBe("import { Travobooks } from '@travobooks/sdk'")
        return `/** ${method.toUpperCase()} ${path} */\nexport async function sample${i}(): Promise<void> {\n${rest.join('\n')}\n}\n`
      })
      const file = join(dir, 'samples.ts')
      writeFileSync(file, `import { Travobooks } from '@travobooks/sdk'\n\n${functions.join('\n')}`)
      // a call the SDK must refuse: proves the samples were checked against its types, not against any
      const control = join(dir, 'control.ts')
      writeFileSync(control, `import { Travobooks } from '@travobooks/sdk'\n\nexport async function wrong(): Promise<void> {\n  const tvb = new Travobooks()\n  await tvb.GET('/v1/no-such-path')\n}\n`)
      // the SDK's source, not a build of it: the types partners get, without a stale dist
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022', 'DOM'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            allowImportingTsExtensions: true,
            skipLibCheck: true,
            types: [],
            baseUrl: ROOT,
            paths: { '@travobooks/sdk': ['sdk/src/index.ts'] },
          },
          files: [file, control],
        }),
      )
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
      const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code?: number; stdout?: string }) => ({ code: e.code ?? 1, out: e.stdout ?? '' }),
      )
      // only what is wrong with the samples; the SDK's own checks are its own tests'
      const lines = result.out.split('\n')
      const errors = lines.filter((line) => line.includes('samples.ts('))
      expect(errors, `${errors.length} errors in ${file}:\n${errors.slice(0, 20).join('\n')}`).toEqual([])
      expect(lines.filter((line) => line.includes('control.ts(') && line.includes('error TS')).length, result.out.slice(0, 2000)).toBeGreaterThan(0)
    },
    180_000,
  )
})
