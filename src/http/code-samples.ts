import type { JsonSchema } from './sample-data.ts'

/**
 * The code samples of an operation (x-codeSamples, read by the reference at /docs): a curl command
 * and a call through the TypeScript SDK (@travobooks/sdk), both built from the operation's own
 * example values so that what a partner copies is a request the server accepts.
 */
export interface CodeSample {
  lang: 'Shell' | 'TypeScript'
  label: string
  source: string
}

export type QueryValue = string | number | boolean | readonly (string | number | boolean)[]

export interface CodeSampleInput {
  /** The HTTP method, any case. */
  method: string
  /** The operation's OpenAPI path, e.g. /v1/bookings/{id}:confirm. */
  path: string
  operationId?: string
  /** A value for each {name} of the path. */
  pathParams: Record<string, string>
  /** As sent in the URL (status: 'HELD,CONFIRMED'), or already typed (status: ['HELD', 'CONFIRMED']). */
  query?: Record<string, QueryValue>
  /**
   * The operation's parameters: their schemas type the SDK sample's query values (limit: 5, not
   * '5'; status: ['HELD', 'CONFIRMED'], not 'HELD,CONFIRMED'), as the SDK's generated types want.
   */
  parameters?: readonly { name: string; in: string; schema?: unknown }[]
  /** Header parameters the operation declares and needs (Idempotency-Key where it is required). */
  headers?: Record<string, string>
  body?: unknown
  /** The body may be left out: the samples say so beside the example body. */
  bodyIsOptional?: boolean
  /** No token needed (security: []): the curl sample sends none. */
  isPublic?: boolean
  /** Where the API is served: the document's server URL. */
  baseUrl: string
}

export function codeSamplesFor(input: CodeSampleInput): CodeSample[] {
  return [
    { lang: 'Shell', label: 'curl', source: curlSample(input) },
    { lang: 'TypeScript', label: 'TypeScript SDK', source: sdkSample(input) },
  ]
}

function urlOf(input: CodeSampleInput): string {
  const path = input.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = input.pathParams[name]
    if (value === undefined) throw new Error(`${input.method.toUpperCase()} ${input.path}: no value for the path parameter ${name}`)
    return encodeURIComponent(value)
  })
  const pairs: string[] = []
  for (const [name, value] of Object.entries(input.query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) pairs.push(`${queryEncoded(name)}=${queryEncoded(String(one))}`)
  }
  return `${input.baseUrl.replace(/\/$/, '')}${path}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}`
}

/** Percent-encoded, but with the separators a query may carry as they are (status=HELD,CONFIRMED, a time's colons) for a readable URL. */
function queryEncoded(text: string): string {
  return encodeURIComponent(text).replace(/%2C/g, ',').replace(/%3A/g, ':')
}

/** Inside double quotes the shell still expands $, ` and \ : escaped, so the URL is sent as written. */
function doubleQuoted(text: string): string {
  return `"${text.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`
}

/** Single quotes keep everything literal; a ' itself is closed, escaped and reopened. */
function singleQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

function curlSample(input: CodeSampleInput): string {
  const method = input.method.toUpperCase()
  const body = input.body
  const first = `curl -s${method === 'GET' ? '' : ` -X ${method}`} ${doubleQuoted(urlOf(input))}`
  const options: string[] = []
  // the token stays in the environment, out of the shell history: hence double quotes here
  if (!input.isPublic) options.push('-H "Authorization: Bearer $TVB_TOKEN"')
  for (const [name, value] of Object.entries(input.headers ?? {})) options.push(`-H ${singleQuoted(`${name}: ${value}`)}`)
  if (body !== undefined) options.push(`-H 'Content-Type: application/json'`, `-d ${singleQuoted(JSON.stringify(body, null, 2))}`)
  const command = [first, ...options].join(' \\\n  ')
  return body !== undefined && input.bodyIsOptional ? `# the body is optional: without -d, the defaults apply\n${command}` : command
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const RESERVED = new Set(['delete', 'new', 'default', 'function', 'class', 'export', 'import', 'in', 'of', 'this', 'void', 'with', 'return', 'const', 'let', 'var'])

/** A TypeScript literal: identifier keys bare, strings in single quotes, nested values indented. */
function tsLiteral(value: unknown, indent = ''): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    const items = value.map((item) => tsLiteral(item, inner))
    const flat = `[${items.join(', ')}]`
    return flat.length <= 60 && !flat.includes('\n') ? flat : `[\n${items.map((item) => `${inner}${item},`).join('\n')}\n${indent}]`
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    if (entries.length === 0) return '{}'
    return `{\n${entries.map(([key, v]) => `${inner}${IDENTIFIER.test(key) ? key : tsLiteral(key)}: ${tsLiteral(v, inner)},`).join('\n')}\n${indent}}`
  }
  throw new Error(`no TypeScript literal for a ${typeof value}`)
}

/** The query as the SDK's types have it: numbers, booleans and arrays where the parameter's schema says so. */
function typedQuery(query: Record<string, QueryValue>, parameters: NonNullable<CodeSampleInput['parameters']>): Record<string, unknown> {
  const schemaOf = (name: string) => parameters.find((p) => p.in === 'query' && p.name === name)?.schema as JsonSchema | undefined
  return Object.fromEntries(Object.entries(query).map(([name, value]) => [name, typedValue(value, schemaOf(name))]))
}

function typedValue(value: unknown, schema: JsonSchema | undefined): unknown {
  if (typeof value !== 'string' || !schema) return value
  switch (schema.type) {
    case 'integer':
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value
    case 'array': {
      // team_ids travels as a JSON array; other lists comma-separated
      const items = value.startsWith('[') ? (JSON.parse(value) as unknown[]) : value.split(',')
      return items.map((item) => typedValue(item, schema.items as JsonSchema | undefined))
    }
    default:
      return value
  }
}

/** What the call's answer is called: getBooking → booking, listBookings → bookings, otherwise result. */
function resultName(operationId: string | undefined): string {
  const rest = operationId?.replace(/^[a-z]+(?=[A-Z])/, '') ?? ''
  const name = rest.charAt(0).toLowerCase() + rest.slice(1)
  return name && IDENTIFIER.test(name) && !RESERVED.has(name) && name !== 'tvb' ? name : 'result'
}

function sdkSample(input: CodeSampleInput): string {
  const method = input.method.toUpperCase()
  const body = input.body
  const params: Record<string, unknown> = {}
  if (Object.keys(input.pathParams).length > 0) params.path = input.pathParams
  if (input.query && Object.keys(input.query).length > 0) params.query = typedQuery(input.query, input.parameters ?? [])
  if (input.headers && Object.keys(input.headers).length > 0) params.header = input.headers
  const options: Record<string, unknown> = {}
  if (Object.keys(params).length > 0) options.params = params
  if (body !== undefined) options.body = body
  const args = [tsLiteral(input.path), ...(Object.keys(options).length > 0 ? [tsLiteral(options)] : [])].join(', ')
  const call = `await tvb.${method}(${args})`
  const name = resultName(input.operationId)
  return [
    "import { Travobooks } from '@travobooks/sdk'",
    '',
    '// the token comes from TVB_TOKEN, the server from TVB_BASE_URL',
    'const tvb = new Travobooks()',
    ...(body !== undefined && input.bodyIsOptional ? ['// the body is optional: without it, the defaults apply'] : []),
    method === 'DELETE' ? call : `const ${name} = ${call}`,
  ].join('\n')
}
