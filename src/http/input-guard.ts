import secureJson from 'secure-json-parse'
import type { FastifyRequest } from 'fastify'
import { ApiError, validationError } from '../platform/errors.ts'
import type { FieldError } from '../platform/errors.ts'

/**
 * One mechanism for every string the API takes, wherever it comes from (path, query, body): a
 * NUL byte (PostgreSQL refuses it) or a lone UTF-16 surrogate (not text; PostgreSQL's json refuses
 * it) is a 400 naming the field, before any schema, service or query sees it. A body is parsed
 * only when it is valid UTF-8, and only within structural bounds, so that no request under the
 * body limit can cost more than a few milliseconds to refuse (the audit's 300,000-item array).
 */
export const BODY_LIMITS = {
  /** Items in any one array of a body (every schema's own maxItems is lower). */
  maxArrayItems: 1_000,
  /** Keys in any one object of a body (every schema's own object is far smaller). */
  maxObjectKeys: 200,
  /** Nesting of objects and arrays. */
  maxDepth: 32,
} as const

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Why a string cannot be taken as text, or null when it can. */
export function badText(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain a NUL character (U+0000)'
  if (LONE_SURROGATE.test(value)) return 'must not contain a lone UTF-16 surrogate (\\ud800–\\udfff unpaired)'
  return null
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** The JSON body parser of every surface: UTF-8, no forbidden keys, within bounds, clean strings. */
export function parseJsonBody(body: Buffer): unknown {
  let text: string
  try {
    text = decoder.decode(body)
  } catch {
    throw new ApiError('INVALID_JSON', 'The request body is not valid UTF-8.')
  }
  // an empty body is no body, whatever the Content-Type says (axios, got and fetch wrappers send
  // application/json with nothing): an action without a required body accepts it (API.md §3)
  if (text.trim() === '') return undefined
  let value: unknown
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch (error) {
    const forbidden = !(error instanceof SyntaxError) || /prototype|constructor/i.test((error as Error).message)
    throw new ApiError('INVALID_JSON', forbidden ? 'The JSON body contains a forbidden key (__proto__ or constructor.prototype).' : `The request body is not valid JSON: ${(error as Error).message}.`)
  }
  const errors: FieldError[] = []
  walk(value, '', 'body', 0, errors)
  if (errors.length > 0) throw validationError(errors)
  return value
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return path ? `${path}.${key}` : key
}

// Stops at the first problem of each container, so a hostile body yields a few errors, not millions.
function walk(value: unknown, path: string, location: FieldError['location'], depth: number, errors: FieldError[]): void {
  if (typeof value === 'string') {
    const problem = badText(value)
    if (problem) errors.push({ field: path || '(root)', location, code: 'invalid_text', message: problem })
    return
  }
  if (value === null || typeof value !== 'object') return
  if (depth >= BODY_LIMITS.maxDepth) {
    errors.push({ field: path || '(root)', location, code: 'max_depth', message: `nests deeper than ${BODY_LIMITS.maxDepth} levels` })
    return
  }
  if (Array.isArray(value)) {
    if (value.length > BODY_LIMITS.maxArrayItems) {
      errors.push({ field: path || '(root)', location, code: 'maxItems', message: `must NOT have more than ${BODY_LIMITS.maxArrayItems} items` })
      return
    }
    for (let i = 0; i < value.length && errors.length < MAX_GUARD_ERRORS; i++) walk(value[i], join(path, i), location, depth + 1, errors)
    return
  }
  const keys = Object.keys(value)
  if (keys.length > BODY_LIMITS.maxObjectKeys) {
    errors.push({ field: path || '(root)', location, code: 'maxProperties', message: `must NOT have more than ${BODY_LIMITS.maxObjectKeys} properties` })
    return
  }
  for (const key of keys) {
    if (errors.length >= MAX_GUARD_ERRORS) return
    const problem = badText(key)
    if (problem) {
      errors.push({ field: join(path, JSON.stringify(key).slice(1, -1)), location, code: 'invalid_text', message: `is a key that ${problem}` })
      continue
    }
    walk((value as Record<string, unknown>)[key], join(path, key), location, depth + 1, errors)
  }
}

const MAX_GUARD_ERRORS = 50

// A query integer is digits with an optional sign: not " 5", "0x10", "1e3" or "5.0", which a
// loose Number() coercion would otherwise take.
const STRICT_INTEGER = /^-?(0|[1-9][0-9]{0,14})$/
const STRICT_NUMBER = /^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?$/

interface QuerySchema {
  properties?: Record<string, { type?: string; format?: string; items?: { type?: string } }>
}

/**
 * preValidation for every route: path and query strings are text (as above), and numeric query
 * parameters are written as plain decimal numbers before the schema coerces them.
 */
const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/

export function guardPathAndQuery(request: FastifyRequest): void {
  const errors: FieldError[] = []
  const params = request.params as Record<string, unknown> | undefined
  if (params) for (const [key, value] of Object.entries(params)) walk(value, key, 'path', 0, errors)
  const query = request.query as Record<string, unknown> | undefined
  if (query) {
    const properties = (request.routeOptions.schema?.querystring as QuerySchema | undefined)?.properties ?? {}
    for (const [key, value] of Object.entries(query)) {
      walk(value, key, 'query', 0, errors)
      // every date-time filter also takes a calendar date, meaning midnight UTC (API.md §14)
      if (properties[key]?.format === 'date-time' && typeof value === 'string' && CALENDAR_DATE.test(value)) query[key] = `${value}T00:00:00Z`
      const type = properties[key]?.type
      if ((type === 'integer' || type === 'number') && typeof value === 'string' && badText(value) === null) {
        if (!(type === 'integer' ? STRICT_INTEGER : STRICT_NUMBER).test(value)) {
          errors.push({ field: key, location: 'query', code: 'type', message: `must be ${type === 'integer' ? 'an integer' : 'a number'} written in decimal digits` })
        }
      }
    }
  }
  if (errors.length > 0) throw validationError(errors)
}
