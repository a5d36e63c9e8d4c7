import fc from 'fast-check'
import type { Operation, Schema } from './openapi-ops.ts'
import { fillPath } from './openapi-ops.ts'
import { COLLECTION_PREFIX, idPrefixOf, unknownId } from './world.ts'

/**
 * Request generators driven by the OpenAPI document: a schema → arbitrary for valid values (with
 * a few hints by field name so that valid requests can succeed on real data), and mutations that
 * make one part of the request invalid or odd. Every generated case carries a label naming its
 * input class ("body:missing-required", "path:nul", …), which is what failures are grouped by.
 */

export interface FuzzCase {
  label: string
  method: string
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
  /** the operation's own input was made invalid in a way no reading of the document allows */
  invalid: boolean
}

/** What the generators know of the world: real ids by prefix, the calling token. */
export interface GenContext {
  ids: Record<string, string[]>
  token: string | null
}

interface Draft {
  path: Record<string, string>
  query: [string, string][]
  body: unknown
  hasBody: boolean
  headers: Record<string, string>
  raw?: string | Buffer
  contentType?: string | null
}

interface Mutation {
  label: string
  invalid?: boolean
  /** may return whether this application made the request invalid (overrides `invalid`) */
  apply(d: Draft): boolean | void
}

const DAY = 86_400_000
const dateIn = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10)
const dateTimeIn = (seconds: number) => new Date(Math.floor(Date.now() / 1000 + seconds) * 1000).toISOString().replace('.000Z', 'Z')
const enc = encodeURIComponent

/** "…; any of A, B, C." in a parameter description: the values a comma-list filter takes. */
function anyOfValues(schema: Schema): string[] | undefined {
  const d = schema.description
  if (typeof d !== 'string') return undefined
  const m = /any of (.+?)\.?$/.exec(d)
  return m ? m[1]!.split(',').map((s) => s.trim().replace(/\.$/, '')).filter(Boolean) : undefined
}

function pool(ctx: GenContext, prefix: string): fc.Arbitrary<string> {
  const ids = ctx.ids[prefix] ?? []
  return ids.length ? fc.constantFrom(...ids) : fc.constant(unknownId(prefix))
}

/** Hints by field name: values that the server's own checks (ISO codes, dates, real ids) accept. */
function hint(name: string, schema: Schema, ctx: GenContext, fieldsOf: string[]): fc.Arbitrary<unknown> | undefined {
  const isString = schema.type === 'string' || (schema.anyOf ?? []).some((s: Schema) => s.type === 'string')
  const nullable = (schema.anyOf ?? []).some((s: Schema) => s.type === 'null')
  const orNull = (a: fc.Arbitrary<unknown>) => (nullable ? fc.oneof({ arbitrary: a, weight: 4 }, { arbitrary: fc.constant(null), weight: 1 }) : a)
  if (schema.type === 'array' && name === 'team_ids') return fc.subarray(ctx.ids.team ?? [], { minLength: 1 })
  if (schema.type === 'array' && schema.items?.type === 'string' && !schema.items.enum) {
    const values = anyOfValues(schema)
    if (values) return fc.subarray(values, { minLength: 1, maxLength: 3 })
  }
  if (!isString) {
    if (name === 'guests') return fc.integer({ min: 1, max: 4 })
    return undefined
  }
  if (schema.enum || schema.const !== undefined) return undefined
  const prefixed = /^(listing|customer|team|booking|token|event)_id$/.exec(name)
  if (prefixed) return orNull(pool(ctx, COLLECTION_PREFIX[`${prefixed[1]}s`]!))
  switch (name) {
    case 'after':
      return pool(ctx, 'evt')
    case 'country_code':
      return orNull(fc.constantFrom('VN', 'VN', 'VN', 'US', 'FR'))
    case 'province_code':
      return orNull(fc.constantFrom('SG', 'HN', 'DN'))
    case 'currency':
      return fc.constantFrom('USD', 'EUR', 'VND')
    case 'timezone':
      return fc.constantFrom('Asia/Ho_Chi_Minh', 'UTC', 'Europe/Paris')
    case 'phone':
    case 'lead_guest_phone':
      return orNull(fc.constantFrom('+84901234567', '+14155552671'))
    case 'email':
    case 'lead_guest_email':
      return orNull(fc.nat({ max: 9999 }).map((n) => `guest${n}@example.com`))
    case 'language':
      return orNull(fc.constantFrom('vi', 'en-US', 'fr'))
    case 'check_in':
    case 'from':
    case 'check_in_from':
      return fc.integer({ min: 1, max: 1500 }).map(dateIn)
    case 'check_out':
    case 'to':
    case 'check_in_to':
      return fc.integer({ min: 2, max: 1500 }).map(dateIn)
    case 'created_after':
      return fc.integer({ min: 60, max: 40 * 86400 }).map((s) => dateTimeIn(-s))
    case 'created_before':
      return fc.integer({ min: 60, max: 40 * 86400 }).map((s) => dateTimeIn(s))
    case 'expires_at':
      return fc.integer({ min: 2, max: 60 }).map((d) => dateTimeIn(d * 86400))
    case 'since':
      return fc.integer({ min: 60, max: 86400 }).map((s) => dateTimeIn(-s))
    case 'fields':
      return fieldsOf.length ? fc.subarray(fieldsOf, { minLength: 1, maxLength: 4 }).map((f) => f.join(',')) : undefined
    case 'q':
      return fc.constantFrom('villa', 'Fuzz', 'sea', 'Hồ Chí Minh')
    case 'name':
    case 'reason':
    case 'city':
    case 'line1':
    case 'lead_guest_name':
      return fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((s) => s.trim().length > 0)
    default:
      return undefined
  }
}

function stringArb(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0
  const max = Math.min(schema.maxLength ?? 40, 40)
  switch (schema.format) {
    case 'date':
      return fc.integer({ min: 1, max: 1500 }).map(dateIn)
    case 'date-time':
      return fc.integer({ min: -86400 * 30, max: 86400 * 30 }).map(dateTimeIn)
    case 'email':
      return fc.nat({ max: 9999 }).map((n) => `user${n}@example.com`)
    case 'uri':
    case 'url':
      return fc.nat({ max: 9999 }).map((n) => `https://example.com/hook/${n}`)
    case 'uuid':
      return fc.uuid()
  }
  if (schema.pattern) {
    return fc.stringMatching(new RegExp(schema.pattern), { size: 'xsmall' }).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity))
  }
  return fc.string({ minLength: min, maxLength: Math.max(min, max), unit: 'grapheme' }).filter((s) => s.length <= (schema.maxLength ?? Infinity))
}

/** A valid value for a schema (JSON Schema 2020 subset used by the document). */
export function valueArb(schema: Schema, name: string, ctx: GenContext, fieldsOf: string[] = [], depth = 0): fc.Arbitrary<unknown> {
  const hinted = hint(name, schema, ctx, fieldsOf)
  if (hinted) return hinted
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]))
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (union) return fc.oneof(...union.map((s) => valueArb(s, name, ctx, fieldsOf, depth + 1)))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type ?? (schema.properties ? 'object' : undefined)
  switch (type) {
    case 'null':
      return fc.constant(null)
    case 'boolean':
      return fc.boolean()
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000)
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : Math.max(min, 0) + 1000)
      return fc.integer({ min, max })
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true })
    case 'string':
      return stringArb(schema)
    case 'array': {
      const items = (schema.items ?? {}) as Schema
      const minLength = schema.minItems ?? 0
      return fc.array(valueArb(items, name, ctx, fieldsOf, depth + 1), { minLength, maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 3, 3)) })
    }
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>
      const required = new Set<string>((schema.required ?? []) as string[])
      const model: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [k, s] of Object.entries(props)) model[k] = valueArb(s, k, ctx, fieldsOf, depth + 1)
      return fc.record(model, { requiredKeys: [...required].filter((k) => k in model) }).map((o) => fixObject(o as Record<string, unknown>))
    }
    default:
      return fc.constant('x')
  }
}

/** Correlated fields the generator draws independently: make the pairs consistent. */
function fixObject(o: Record<string, unknown>): Record<string, unknown> {
  const pairs: [string, string, number][] = [
    ['check_in', 'check_out', 7],
    ['from', 'to', 40],
    ['check_in_from', 'check_in_to', 30],
  ]
  for (const [a, b, span] of pairs) {
    const x = o[a]
    if (typeof x === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(x) && b in o) {
      const n = 1 + (x.charCodeAt(9) % span)
      o[b] = new Date(Date.parse(`${x}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10)
    }
  }
  // after=evt_… lists oldest first and names an event of the token's teams
  if (o.after !== undefined) {
    delete o.sort
    delete o.team_ids
  }
  if (o.amount !== undefined && typeof o.currency === 'string') o.amount = o.currency === 'VND' ? '1500000' : '120.00'
  const address = o.address as Record<string, unknown> | undefined
  if (address && typeof address === 'object' && address.country_code !== 'VN' && address.province_code) address.province_code = null
  return o
}

// ---------------------------------------------------------------- hostile values

/** Hostile path segments / query values, already in URL form, each with its class. */
export const HOSTILE_URL_VALUES: [string, string][] = [
  ['nul', '%00'],
  ['nul', 'abc%00def'],
  ['lone-surrogate', '%ED%A0%80'],
  ['lone-surrogate', 'x%ED%B0%80'],
  ['bad-percent', '%C3%28'],
  ['bad-percent', '%E0%A4%A'],
  ['bad-percent', '%'],
  ['bad-percent', '%zz'],
  ['bad-percent', '%FF%FE'],
  ['unicode', enc('Tiếng Việt 🏝️')],
  ['unicode', enc('\u202Eevil\u200B')],
  ['unicode', enc('ﷺ')],
  ['traversal', '..%2F..%2Fetc%2Fpasswd'],
  // (not '%2E%2E' as a whole segment: the in-process client resolves it as a dot segment, as a
  // browser would, so it never reaches the server as a value)
  ['numeric', '0x10'],
  ['numeric', '%205'],
  ['numeric', '1e309'],
  ['numeric', '-1'],
  ['numeric', '99999999999999999999999'],
  ['numeric', 'NaN'],
  ['json-ish', enc('{"a":1}')],
  ['json-ish', enc('["x"]')],
  ['json-ish', 'null'],
  ['injection', enc("' OR 1=1 --")],
  ['injection', enc('<script>alert(1)</script>')],
  ['colon', enc('a:b')],
  ['empty', ''],
]

export const HOSTILE_STRINGS: [string, string][] = [
  ['nul', '\u0000'],
  ['nul', 'Villa\u0000Sea'],
  ['lone-surrogate', '\ud800'],
  ['lone-surrogate', 'a\udfffb'],
  ['control-chars', '\u0001\u0002\u001b[31m\r\n'],
  ['unicode', 'Tiếng Việt 🏝️ ñ 中文'],
  ['unicode', '\u202Eevil\u200B\uFEFF'],
  ['whitespace', '   '],
  ['empty', ''],
  ['injection', "' OR 1=1 --"],
  ['injection', '<script>alert(1)</script>'],
  ['numeric-string', '1e309'],
  ['numeric-string', '0x10'],
]

const hostileStringArb: fc.Arbitrary<[string, string]> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 6 },
  { arbitrary: fc.integer({ min: 129, max: 3000 }).map((n): [string, string] => ['long(129-3000)', 'é'.repeat(n)]), weight: 1 },
  { arbitrary: fc.integer({ min: 9000, max: 11000 }).map((n): [string, string] => ['long(10k)', 'x'.repeat(n)]), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map((s): [string, string] => ['random-unicode', s]), weight: 1 },
)

/** Hostile path values: URL-form classes plus real-looking ids of the wrong kind and long ones. */
function hostilePathArb(prefix: string | undefined, ctx: GenContext): fc.Arbitrary<[string, string]> {
  const real = prefix ? (ctx.ids[prefix] ?? []) : []
  const others = Object.values(COLLECTION_PREFIX).filter((p) => p !== prefix)
  return fc.oneof(
    { arbitrary: fc.constantFrom(...HOSTILE_URL_VALUES.filter(([c]) => c !== 'empty')), weight: 8 },
    { arbitrary: fc.integer({ min: 129, max: 3000 }).map((n): [string, string] => ['long(129-3000)', 'a'.repeat(n)]), weight: 2 },
    { arbitrary: fc.constantFrom(...others).map((p): [string, string] => ['other-type-id', unknownId(p)]), weight: 1 },
    { arbitrary: fc.constant(0).map((): [string, string] => ['unknown-id', unknownId(prefix ?? 'x')]), weight: 1 },
    { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s): [string, string] => ['random-unicode', enc(s)]), weight: 1 },
    ...(real.length
      ? [
          { arbitrary: fc.constantFrom(...real).map((id): [string, string] => ['real-id.json', `${id}.json`]), weight: 1 },
          { arbitrary: fc.constantFrom(...real).map((id): [string, string] => ['real-id-uppercased', id.toUpperCase()]), weight: 1 },
          { arbitrary: fc.constantFrom(...real).map((id): [string, string] => ['real-id+suffix', `${id}%00`]), weight: 1 },
        ]
      : []),
  )
}

// ---------------------------------------------------------------- the case generator

/** The top-level fields ?fields= can select: the widest object of the 200 schema (or of its list items). */
function topFields(op: Operation): string[] {
  const widest = (s: Schema | undefined): Schema | undefined => {
    if (!s) return undefined
    const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined
    if (!branches) return s
    return branches.map(widest).sort((a, b) => Object.keys(b?.properties ?? {}).length - Object.keys(a?.properties ?? {}).length)[0]
  }
  const ok = op.responses['200'] ?? op.responses['201']
  const schema = widest(ok?.content?.['application/json'])
  const fromSchema = schema ? Object.keys((widest(schema.properties?.data?.items) ?? schema).properties ?? {}) : []
  if (fromSchema.length) return fromSchema
  // else the parameter's own description: "Comma-separated top-level fields to return: a, b, c."
  const described = op.parameters.find((p) => p.name === 'fields')?.schema.description
  const m = typeof described === 'string' ? /return:\s*(.+?)\.?$/.exec(described) : null
  return m ? m[1]!.split(',').map((f) => f.trim()).filter(Boolean) : []
}

function serializeQueryValue(name: string, value: unknown, style: number): [string, string][] {
  if (value === undefined) return []
  if (Array.isArray(value)) {
    if (name === 'team_ids' && style % 3 === 0) return [[name, enc(JSON.stringify(value))]]
    if (style % 3 === 1) return value.map((v) => [name, enc(String(v))])
    return [[name, value.map((v) => enc(String(v))).join(',')]]
  }
  return [[name, enc(String(value))]]
}

function setAt(obj: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value
  const [head, ...rest] = path
  const base = obj && typeof obj === 'object' && !Array.isArray(obj) ? { ...(obj as Record<string, unknown>) } : {}
  base[head!] = setAt(base[head!], rest, value)
  return base
}

function deleteAt(obj: unknown, path: string[]): unknown {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj) || path.length === 0) return obj
  const [head, ...rest] = path
  const base = { ...(obj as Record<string, unknown>) }
  if (rest.length === 0) delete base[head!]
  else base[head!] = deleteAt(base[head!], rest)
  return base
}

/** Paths of every property present in a value (objects only), with the schema found there. */
function propertyPaths(value: unknown, schema: Schema | undefined, prefix: string[] = []): { path: string[]; schema: Schema | undefined }[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return []
  const out: { path: string[]; schema: Schema | undefined }[] = []
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const s = propSchema(schema, k)
    out.push({ path: [...prefix, k], schema: s })
    out.push(...propertyPaths(v, s, [...prefix, k]))
  }
  return out
}

function objectBranch(schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined
  if (schema.properties) return schema
  return ((schema.anyOf ?? schema.oneOf ?? []) as Schema[]).find((s) => s.properties)
}

function propSchema(schema: Schema | undefined, key: string): Schema | undefined {
  return objectBranch(schema)?.properties?.[key]
}

/** Required properties present in the value (so that deleting one makes it invalid). */
function requiredPaths(value: unknown, schema: Schema | undefined, prefix: string[] = []): string[][] {
  const obj = objectBranch(schema)
  if (!obj || !value || typeof value !== 'object' || Array.isArray(value)) return []
  const out: string[][] = []
  for (const k of (obj.required ?? []) as string[]) {
    if (k in (value as Record<string, unknown>)) {
      out.push([...prefix, k])
      out.push(...requiredPaths((value as Record<string, unknown>)[k], obj.properties?.[k], [...prefix, k]))
    }
  }
  return out
}

const typeOfSchema = (s: Schema | undefined): string[] => {
  if (!s) return []
  if (s.anyOf || s.oneOf) return ((s.anyOf ?? s.oneOf) as Schema[]).flatMap(typeOfSchema)
  if (s.enum) return [...new Set((s.enum as unknown[]).map((v) => (v === null ? 'null' : typeof v)))]
  return Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
}

/**
 * Values of the wrong JSON type for wrong-type mutations. Only values no type coercion can turn
 * into an allowed one (the server coerces scalars: 1 → "1", null → "", "x" → ["x"]), so the
 * request is invalid under any reading.
 */
function wrongValueFor(schema: Schema | undefined, n: number): [string, unknown] | undefined {
  const allowed = new Set(typeOfSchema(schema))
  if (allowed.size === 0) return undefined
  const candidates: [string, unknown][] = []
  const scalar = allowed.has('string') || allowed.has('integer') || allowed.has('number') || allowed.has('boolean') || allowed.has('null')
  if (!allowed.has('object')) candidates.push(['object', { nested: { deep: true } }])
  if (!allowed.has('array')) candidates.push(['array', ['a', 1]])
  if (!scalar && !allowed.has('array')) candidates.push(['string', 'not-a-number'], ['integer', 12345])
  if (!allowed.has('string') && (allowed.has('integer') || allowed.has('number') || allowed.has('boolean'))) candidates.push(['string', 'not-a-number'])
  return candidates.length ? candidates[n % candidates.length] : undefined
}

const RAW_PREFIX = '__RAW__'
const RAW_RE = /"__RAW__(.*?)__"/g

function serializeBody(body: unknown): string {
  return JSON.stringify(body).replace(RAW_RE, (_, raw: string) => raw)
}

export function caseArbitrary(op: Operation, ctx: GenContext): fc.Arbitrary<FuzzCase> {
  const prefix = idPrefixOf(op.path)
  const fieldsOf = topFields(op)
  const pathParams = op.parameters.filter((p) => p.in === 'path')
  const queryParams = op.parameters.filter((p) => p.in === 'query')
  const bodySchema = op.body?.content['application/json']

  // ---- the valid base
  const pathArb = fc.record(Object.fromEntries(pathParams.map((p) => [p.name, (prefix && p.name === 'id' ? pool(ctx, prefix) : valueArb(p.schema, p.name, ctx)).map((v) => enc(String(v)))])))
  const queryArb = fc
    .tuple(
      fc.record(
        Object.fromEntries(queryParams.filter((p) => p.name !== 'cursor').map((p) => [p.name, valueArb(p.schema, p.name, ctx, fieldsOf)])),
        { requiredKeys: queryParams.filter((p) => p.required && p.name !== 'cursor').map((p) => p.name) },
      ),
      fc.nat(),
    )
    .map(([values, style]) => {
      const fixed = fixObject(values as Record<string, unknown>)
      return Object.entries(fixed).flatMap(([k, v]) => serializeQueryValue(k, v, style))
    })
  const bodyArb: fc.Arbitrary<unknown> = bodySchema ? valueArb(bodySchema, '', ctx, fieldsOf) : fc.constant(undefined)
  const headersArb = fc.record({
    requestId: fc.option(fc.nat({ max: 1e9 }).map((n) => `fuzz-${n}`), { nil: undefined }),
    // now and then an Idempotency-Key: mostly fresh, sometimes one of a few reused ones (replay, 422)
    idem:
      op.method === 'POST' && !op.public
        ? fc.oneof(
            { arbitrary: fc.constant(undefined), weight: 6 },
            { arbitrary: fc.nat().map((n) => `fuzz-${op.operationId}-${n}`), weight: 2 },
            { arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2'), weight: 1 },
          )
        : fc.constant(undefined),
  })
  const baseArb = fc.record({ path: pathArb, query: queryArb, body: bodyArb, h: headersArb }).map(({ path, query, body, h }): Draft => {
    const headers: Record<string, string> = {}
    if (!op.public && ctx.token) headers.authorization = `Bearer ${ctx.token}`
    if (h.requestId) headers['x-request-id'] = h.requestId
    if (h.idem) headers['idempotency-key'] = h.idem
    return { path: path as Record<string, string>, query, body, hasBody: bodySchema !== undefined && (op.body!.required || body !== undefined), headers }
  })

  // ---- mutations: each makes one part of the request invalid or odd
  const m = (label: string, apply: (d: Draft) => boolean | void, invalid = false): Mutation => ({ label, apply, invalid })
  // mock= is documented on every operation (API.md §9); an operation with no query of its own still takes any
  const queryDocumented = queryParams.some((p) => p.name !== 'mock')
  const weighted: { arbitrary: fc.Arbitrary<Mutation>; weight: number }[] = [{ arbitrary: fc.constant(m('valid', () => {})), weight: 30 }]

  if (pathParams.length) {
    weighted.push({
      weight: 10,
      arbitrary: fc.tuple(fc.constantFrom(...pathParams.map((p) => p.name)), hostilePathArb(prefix, ctx)).map(([name, [cls, v]]) => m(`path:${cls}`, (d) => void (d.path[name] = v))),
    })
  }

  // query
  const qNames = queryParams.map((p) => p.name)
  const queryMutations: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom('foo', 'mock', '__proto__', 'constructor[prototype][x]', 'a[b]', 'LIMIT', 'limit[]', '', 'access_token').map((name) =>
      m(`query:unknown-param(${name || 'empty-name'})`, (d) => void d.query.push([name, name === 'access_token' ? 'tvb_test_x' : '1']), queryDocumented && name !== 'access_token' && name !== 'mock'),
    ),
    fc.constantFrom(0, 1).map((kind) =>
      m(kind ? 'query:huge-value(20k)' : 'query:many-params(600)', (d) => {
        if (kind) d.query.push([qNames.includes('q') ? 'q' : 'zz', 'x'.repeat(20_000)])
        else for (let i = 0; i < 600; i++) d.query.push([`p${i}`, String(i)])
      }, queryDocumented && (!kind || !qNames.includes('q'))),
    ),
    fc.constantFrom(...HOSTILE_URL_VALUES).map(([cls, v]) => m(`query:raw-garbage(${cls})`, (d) => void d.query.push([v, v]), queryDocumented && cls !== 'empty')),
  ]
  if (queryParams.length) {
    queryMutations.push(
      fc.tuple(fc.constantFrom(...queryParams), fc.oneof(fc.constantFrom(...HOSTILE_URL_VALUES), fc.integer({ min: 129, max: 3000 }).map((n): [string, string] => ['long(129-3000)', 'a'.repeat(n)]))).map(([p, [cls, v]]) =>
        m(`query:${p.name}:${cls}`, (d) => {
          d.query = d.query.filter(([k]) => k !== p.name)
          d.query.push([p.name, v])
        }),
      ),
      fc.tuple(fc.constantFrom(...queryParams), fc.nat()).map(([p]) =>
        m(`query:${p.name}:repeated`, (d) => {
          d.query.push([p.name, 'a'], [p.name, 'b'])
        }),
      ),
    )
    const ints = queryParams.filter((p) => p.schema.type === 'integer')
    if (ints.length) {
      queryMutations.push(
        fc.tuple(fc.constantFrom(...ints), fc.constantFrom('0', '101', '-1', '1.5', 'abc', '0x10', '%205', '5%20', '1e309', '99999999999999999999', 'true', '')).map(([p, v]) =>
          m(`query:${p.name}:wrong-type-or-range`, (d) => {
            d.query = d.query.filter(([k]) => k !== p.name)
            d.query.push([p.name, v])
          }, !(p.schema.minimum !== undefined && p.schema.maximum !== undefined && /^\d+$/.test(v) && Number(v) >= p.schema.minimum && Number(v) <= p.schema.maximum) && v !== ''),
        ),
      )
    }
    const arrays = queryParams.filter((p) => p.schema.type === 'array')
    if (arrays.length) {
      queryMutations.push(
        fc.tuple(fc.constantFrom(...arrays), fc.integer({ min: 101, max: 300 })).map(([p, n]) =>
          m(`query:${p.name}:too-many-items`, (d) => {
            d.query = d.query.filter(([k]) => k !== p.name)
            for (let i = 0; i < n; i++) d.query.push([p.name, `v${i}`])
          }, true),
        ),
      )
    }
    const required = queryParams.filter((p) => p.required)
    if (required.length) {
      queryMutations.push(
        fc.constantFrom(...required).map((p) =>
          m(`query:missing-required(${p.name})`, (d) => void (d.query = d.query.filter(([k]) => k !== p.name)), true),
        ),
      )
    }
  }
  weighted.push({ weight: 15, arbitrary: fc.oneof(...queryMutations) })

  // body
  const bodyMutations: fc.Arbitrary<Mutation>[] = []
  const rawBody = (label: string, raw: string | Buffer, contentType: string | null = 'application/json', invalid = true) =>
    m(label, (d) => {
      d.raw = raw
      d.contentType = contentType
      d.hasBody = true
    }, invalid && bodySchema !== undefined)
  bodyMutations.push(
    fc.constantFrom<[string, string]>(
      ['truncated', '{"name": "x"'],
      ['missing-value', '{"a":}'],
      ['single-quotes', "{'a': 1}"],
      ['trailing-comma', '{"a": 1,}'],
      ['nan', 'NaN'],
      ['trailing-garbage', '{} x'],
      ['bare-word', 'undefined'],
      ['comment', '{"a": 1 /* c */}'],
    ).map(([k, raw]) => rawBody(`body:invalid-json(${k})`, raw)),
    // a leading BOM: RFC 8259 §8.1 lets a parser ignore it, so either answer is fine
    fc.constant(rawBody('body:bom', '\ufeff{}', 'application/json', false)),
    fc.constant(rawBody('body:invalid-utf8', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]))),
    fc.constant(m('body:empty-with-json-content-type', (d) => {
      d.raw = ''
      d.contentType = 'application/json'
      d.hasBody = true
    }, op.body?.required === true)),
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16', 'application/jsonx', 'application/vnd.api+json', 'text/json', 'APPLICATION/JSON').map((ct) =>
      m(`body:content-type(${ct})`, (d) => {
        d.contentType = ct
        d.hasBody = true
        if (d.body === undefined) d.body = {}
      }, bodySchema !== undefined && !['application/json; charset=utf-16', 'APPLICATION/JSON'].includes(ct)),
    ),
    fc.constantFrom<[string, string]>(['proto-key', '{"__proto__": {"admin": true}}'], ['constructor-prototype', '{"constructor": {"prototype": {"admin": true}}}']).map(([k, raw]) => rawBody(`body:${k}`, raw)),
    // duplicate keys: RFC 8259 leaves the meaning open, so accepting (last wins) is not a failure
    fc.constant(rawBody('body:duplicate-keys', '{"name": "a", "name": "b"}', 'application/json', false)),
    fc.integer({ min: 2000, max: 6000 }).map((depth) => rawBody('body:deep-nesting', '['.repeat(depth) + ']'.repeat(depth))),
    fc.constant(rawBody('body:too-large(>1MiB)', JSON.stringify({ name: 'x'.repeat(1_100_000) }))),
    fc.constantFrom<[string, string]>(['array', '[]'], ['string', '"str"'], ['number', '123'], ['null', 'null'], ['boolean', 'true']).map(([k, raw]) => rawBody(`body:not-an-object(${k})`, raw)),
  )
  if (bodySchema) {
    const props = Object.keys(objectBranch(bodySchema)?.properties ?? {})
    bodyMutations.push(
      fc.nat().map((n) =>
        m('body:missing-required', (d) => {
          const paths = requiredPaths(d.body, bodySchema)
          if (!paths.length) return false
          d.body = deleteAt(d.body, paths[n % paths.length]!)
          return true
        }),
      ),
      fc.tuple(fc.constantFrom('unknown_field', 'id', 'created_at', 'admin', 'ID', 'name ', ''), fc.nat()).map(([k, n]) =>
        m(`body:extra-field(${k === '' ? 'empty-name' : /^(id|created_at)$/.test(k) ? 'read-only' : 'unknown'})`, (d) => {
          const paths = propertyPaths(d.body, bodySchema).filter((p) => objectBranch(p.schema) && d.body !== undefined)
          const i = n % (paths.length + 1)
          const target = i === 0 ? { path: [] as string[], schema: bodySchema } : paths[i - 1]!
          const obj = objectBranch(target.schema)
          d.body = setAt(d.body, [...target.path, k], 'x')
          // invalid when that object is closed and does not know the key
          return obj?.additionalProperties === false && !(k in (obj.properties ?? {}))
        }),
      ),
      fc.nat().map((n) =>
        m('body:wrong-type', (d) => {
          const paths = propertyPaths(d.body, bodySchema).filter((p) => wrongValueFor(p.schema, 0))
          if (!paths.length) {
            d.body = ['not', 'an', 'object']
            return true
          }
          const p = paths[n % paths.length]!
          d.body = setAt(d.body, p.path, wrongValueFor(p.schema, n >> 3)![1])
          return true
        }),
      ),
      fc.tuple(hostileStringArb, fc.nat()).map(([[cls, s], n]) =>
        m(`body:hostile-string(${cls})`, (d) => {
          const paths = propertyPaths(d.body, bodySchema).filter((p) => typeOfSchema(p.schema).includes('string'))
          const pick = paths.length ? paths[n % paths.length]!.path : props.length ? [props[n % props.length]!] : ['name']
          d.body = setAt(d.body, pick, s)
        }),
      ),
      fc.tuple(fc.integer({ min: 101, max: 2000 }), fc.nat(), fc.boolean()).map(([count, n, objects]) =>
        m('body:big-array', (d) => {
          const items = Array.from({ length: count }, (_, i) => (objects ? { i } : `item-${i}`))
          const arrays = propertyPaths(d.body, bodySchema).filter((p) => typeOfSchema(p.schema).includes('array'))
          const target = arrays.length ? arrays[n % arrays.length]! : { path: props.length ? [props[n % props.length]!] : [], schema: props.length ? propSchema(bodySchema, props[n % props.length]!) : bodySchema }
          d.body = setAt(d.body, target.path, items)
          const s = target.schema
          return !typeOfSchema(s).includes('array') || (s?.maxItems !== undefined && count > s.maxItems)
        }),
      ),
      fc.tuple(fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-0', '1.0000000000000002', '9007199254740993', '0.1e1'), fc.nat()).map(([raw, n]) =>
        m('body:huge-number', (d) => {
          const nums = propertyPaths(d.body, bodySchema).filter((p) => typeOfSchema(p.schema).some((t) => t === 'integer' || t === 'number'))
          const pick = nums.length ? nums[n % nums.length]!.path : props.length ? [props[n % props.length]!] : ['n']
          d.body = setAt(d.body, pick, `${RAW_PREFIX}${raw}__`)
        }),
      ),
      fc.constant(m('body:absent', (d) => {
        d.body = undefined
        d.hasBody = false
      }, op.body?.required === true && (objectBranch(bodySchema)?.required ?? []).length > 0)),
    )
  } else {
    bodyMutations.push(fc.constant(m('body:unexpected-json-body', (d) => {
      d.body = { unexpected: true }
      d.hasBody = true
    })))
  }
  weighted.push({ weight: bodySchema ? 30 : 8, arbitrary: fc.oneof(...bodyMutations) })

  // headers
  const headerMutations: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom('text/html', 'garbage', 'application/xml', 'application/json;q=0', '*/*;q=0', 'text/*', 'application/*', 'application/json, text/html;q=0.1', 'text/csv', '').map((v) =>
      m(`header:accept(${v || 'empty'})`, (d) => void (d.headers.accept = v)),
    ),
    fc.constantFrom('garbage', '"nope"', '*', 'W/"x"', '"', '"a", "b"').map((v) => m(`header:if-match(${/^[*]$/.test(v) ? '*' : 'garbage'})`, (d) => void (d.headers['if-match'] = v))),
    fc.constantFrom('*', 'garbage', '"x"', 'W/"x", *').map((v) => m(`header:if-none-match(${v === '*' ? '*' : 'garbage'})`, (d) => void (d.headers['if-none-match'] = v))),
    fc.constantFrom<[string, string]>(['300-chars', 'k'.repeat(300)], ['control-chars', 'a\u0001b'], ['del-char', 'a\u007fb'], ['non-ascii', 'ключ'], ['empty', ''], ['spaces', '   ']).map(([cls, v]) =>
      m(`header:idempotency-key(${cls})`, (d) => void (d.headers['idempotency-key'] = v), op.method === 'POST' && !op.public && cls !== 'spaces'),
    ),
    fc.constantFrom<[string, string]>(['long', 'r'.repeat(200)], ['spaces', 'req id'], ['slashes', '../../x'], ['unicode', 'idé'], ['control', 'a\u0001b']).map(([cls, v]) => m(`header:x-request-id(${cls})`, (d) => void (d.headers['x-request-id'] = v))),
    fc.constantFrom<[string, string]>(
      ['x-http-method-override', 'DELETE'],
      ['x-forwarded-for', 'not-an-ip, 999.1.1.1'],
      ['content-type', 'text/plain'],
      ['accept-charset', 'utf-16'],
      ['range', 'bytes=0-1'],
      ['expect', '100-continue'],
      ['x-forwarded-proto', 'gopher'],
      ['cookie', 'a=b; tvb_token=x'],
    ).map(([k, v]) => m(`header:odd(${k})`, (d) => void (d.headers[k] = v))),
  ]
  if (!op.public) {
    headerMutations.push(
      fc.constantFrom<[string, (t: string) => string]>(
        ['garbage-token', () => 'Bearer tvb_test_notARealToken0000000000000000'],
        ['basic', () => 'Basic dXNlcjpwYXNz'],
        ['lowercase-scheme', (t) => `bearer ${t}`],
        ['double-space', (t) => `Bearer  ${t}`],
        ['two-tokens', (t) => `Bearer ${t}, Bearer ${t}`],
        ['empty', () => ''],
        ['nul', (t) => `Bearer ${t}\u0000`],
      ).map(([cls, f]) => m(`header:authorization(${cls})`, (d) => void (d.headers.authorization = f(ctx.token ?? '')))),
    )
  }
  weighted.push({ weight: 15, arbitrary: fc.oneof(...headerMutations) })

  return fc.tuple(baseArb, fc.oneof(...weighted)).map(([draft, mutation]): FuzzCase => {
    const made = mutation.apply(draft)
    const invalid = typeof made === 'boolean' ? made : mutation.invalid === true
    const url = fillPath(op.path, draft.path) + (draft.query.length ? `?${draft.query.map(([k, v]) => `${k}=${v}`).join('&')}` : '')
    const headers = { ...draft.headers }
    let payload: string | Buffer | undefined
    if (draft.raw !== undefined) payload = draft.raw
    else if (draft.hasBody && draft.body !== undefined) payload = serializeBody(draft.body)
    if (payload !== undefined || draft.contentType) {
      const ct = draft.contentType === undefined ? 'application/json' : draft.contentType
      if (ct !== null) headers['content-type'] = ct
    }
    return { label: mutation.label, method: op.method, url, headers, payload, invalid }
  })
}


/**
 * One deterministic valid value for a schema: documented examples first, then the name hints,
 * then the smallest value the schema allows (required properties only). Used where a request must
 * pass validation to reach what is being tested (a 404 behind a PUT body).
 */
export function exampleValue(schema: Schema, name: string, ctx: GenContext): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0]
  if (schema.example !== undefined) return schema.example
  const hinted = hint(name, schema, ctx, [])
  if (hinted) return fc.sample(hinted, { seed: 7, numRuns: 1 })[0]
  if (schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum)) return schema.enum[0]
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (union) return exampleValue(union.find((s) => s.type !== 'null') ?? union[0]!, name, ctx)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type ?? (schema.properties ? 'object' : undefined)
  switch (type) {
    case 'null':
      return null
    case 'boolean':
      return false
    case 'integer':
    case 'number':
      return schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1)
    case 'string':
      if (schema.format || schema.pattern) return fc.sample(stringArb(schema), { seed: 7, numRuns: 1 })[0]
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1))
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => exampleValue(schema.items ?? {}, name, ctx))
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const k of (schema.required ?? []) as string[]) out[k] = exampleValue(schema.properties?.[k] ?? {}, k, ctx)
      return fixObject(out)
    }
    default:
      return {}
  }
}
