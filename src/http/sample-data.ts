import { createHash } from 'node:crypto'
import { FILLED_BY_ACTION, ID_PATTERN, INTEGERS, NULL_BY_DEFAULT, STAY_NIGHTS, STAY_START, TRUE_BY_DEFAULT, addDays, isDate, pick, stringHints, typeId } from './sample-hints.ts'
import type { Place } from './sample-hints.ts'

/**
 * Realistic sample values for a JSON schema: the bodies of mock answers (?mock=true). The schema
 * decides the shape (types, enums, formats, patterns, bounds, nullability); field names decide the
 * content (a listing's name, a stay's dates, money that adds up), and values from the request (a
 * path id, a query date) are echoed where they fit. Every choice is seeded by the operation and the
 * field's place in the answer, never by the clock, so the same request gives the same bytes.
 */
export type JsonSchema = Record<string, unknown>

export interface SampleContext {
  /** Seeds the pseudo-random parts (id suffixes, secrets): the operation, e.g. "GET /v1/bookings/:id". */
  seed: string
  /** The request's path parameters: an id field echoes one that fits its pattern. */
  params: Record<string, string>
  /**
   * What the request gave (its validated query, and its body's top-level values): a field of the
   * same name echoes a value that fits its schema.
   */
  given: Record<string, unknown>
  /** The operation's action (POST /v1/bookings/{id}:confirm → confirm): the sample shows its outcome. */
  action?: string
  /** Resolves a $ref to a shared schema (ErrorEnvelope, …). */
  resolve: (ref: string) => JsonSchema | undefined
}

/** A deterministic pseudo-random stream for one field: xorshift32 seeded by a hash of the operation and the field's place. */
function randomFor(seed: string, path: string): () => number {
  let state = createHash('sha256').update(`${seed}|${path}`).digest().readUInt32LE(0) || 1
  return () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state / 0x1_0000_0000
  }
}

/**
 * A string from a simple regular expression (literals, escapes, classes, groups with alternatives,
 * quantifiers): enough for the patterns this API's schemas use, checked by the caller.
 */
export function stringFromPattern(pattern: string, random: () => number): string {
  let i = 0
  const atomSet = (): string => {
    const c = pattern[i++]!
    if (c === '\\') {
      const e = pattern[i++]!
      if (e === 'd') return '0123456789'
      if (e === 'w') return 'abcdefghijklmnopqrstuvwxyz0123456789'
      return e
    }
    if (c === '[') {
      let set = ''
      while (i < pattern.length && pattern[i] !== ']') {
        let from = pattern[i++]!
        if (from === '\\') from = pattern[i++]!
        if (pattern[i] === '-' && pattern[i + 1] !== ']') {
          const to = pattern[i + 1] === '\\' ? pattern[i + 2]! : pattern[i + 1]!
          i += pattern[i + 1] === '\\' ? 3 : 2
          for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) set += String.fromCharCode(code)
        } else set += from
      }
      i++
      return set
    }
    return c
  }
  const sequence = (): string => {
    let out = ''
    while (i < pattern.length && pattern[i] !== ')' && pattern[i] !== '|') {
      const c = pattern[i]!
      if (c === '^' || c === '$') {
        i++
        continue
      }
      let piece: () => string
      if (c === '(') {
        i++
        if (pattern.startsWith('?:', i)) i += 2
        const alternatives = [sequence()]
        while (pattern[i] === '|') {
          i++
          alternatives.push(sequence())
        }
        i++
        const chosen = alternatives.find((a) => a === 'test') ?? alternatives[0]!
        piece = () => chosen
      } else {
        const set = atomSet()
        piece = () => (set.length === 1 ? set : pick(set, random, 1))
      }
      let count = 1
      const q = pattern[i]
      if (q === '{') {
        const close = pattern.indexOf('}', i)
        const [min, max] = pattern.slice(i + 1, close).split(',')
        const low = Number(min)
        const at = Math.max(low, 1)
        count = max === undefined ? low : max === '' ? at : Math.min(at, Number(max))
        i = close + 1
      } else if (q === '?' || q === '*' || q === '+') {
        i++
      }
      for (let n = 0; n < count; n++) out += piece()
    }
    return out
  }
  return sequence()
}

/** Whether a value satisfies a schema's scalar constraints (enough to choose among candidates). */
function fits(value: unknown, schema: JsonSchema, resolve: SampleContext['resolve']): boolean {
  const s = deref(schema, resolve)
  const branches = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined
  if (branches) return branches.some((b) => fits(value, b, resolve))
  if ('const' in s) return s.const === value
  if (Array.isArray(s.enum)) return s.enum.includes(value)
  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type]
  if (value === null) return types.includes('null')
  if (typeof value === 'string') {
    if (types.length > 0 && !types.includes('string')) return false
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) return false
    if (typeof s.minLength === 'number' && [...value].length < s.minLength) return false
    if (typeof s.maxLength === 'number' && [...value].length > s.maxLength) return false
    if (s.format === 'date' && !isDate(value)) return false
    if (s.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return false
    if (s.format === 'uri' && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) return false
    if (s.format === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return false
    return true
  }
  if (typeof value === 'number') {
    if (types.length > 0 && !types.includes('number') && !(types.includes('integer') && Number.isInteger(value))) return false
    if (typeof s.minimum === 'number' && value < s.minimum) return false
    if (typeof s.maximum === 'number' && value > s.maximum) return false
    return true
  }
  if (typeof value === 'boolean') return types.length === 0 || types.includes('boolean')
  return false
}

function deref(schema: JsonSchema, resolve: SampleContext['resolve']): JsonSchema {
  let s = schema
  for (let hops = 0; typeof s.$ref === 'string' && hops < 10; hops++) {
    const target = resolve(s.$ref)
    if (!target) break
    s = target
  }
  return s
}

function isNull(schema: JsonSchema): boolean {
  return schema.type === 'null' || schema.const === null
}

function kebab(text: string): string {
  return text.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

export class SampleGenerator {
  readonly #ctx: SampleContext

  constructor(ctx: SampleContext) {
    this.#ctx = ctx
  }

  /** A sample of the schema: the body of a mock answer. */
  sample(schema: JsonSchema): unknown {
    return this.#value(schema, { path: '', name: '', parent: '', index: 0, item: false, kind: null })
  }

  #value(raw: JsonSchema, place: Place): unknown {
    const schema = deref(raw, this.#ctx.resolve)
    if ('const' in schema) return schema.const
    const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
    if (branches) return this.#union(branches.map((b) => deref(b, this.#ctx.resolve)), schema, place)
    if (Array.isArray(schema.type)) {
      const types = schema.type as string[]
      return this.#union(types.map((type) => ({ ...schema, type })), schema, place)
    }
    if (Array.isArray(schema.allOf)) {
      const merged: JsonSchema = { ...schema, allOf: undefined }
      for (const part of schema.allOf as JsonSchema[]) {
        const p = deref(part, this.#ctx.resolve)
        Object.assign(merged, p, { properties: { ...(merged.properties as object), ...(p.properties as object) }, required: [...((merged.required as string[]) ?? []), ...((p.required as string[]) ?? [])] })
      }
      delete merged.allOf
      return this.#value(merged, place)
    }
    if (Array.isArray(schema.enum)) return this.#enumValue(schema.enum, place)
    switch (schema.type) {
      case 'object':
        return this.#object(schema, place)
      case 'array':
        return this.#array(schema, place)
      case 'string':
        return this.#string(schema, place)
      case 'integer':
      case 'number':
        return this.#number(schema, place)
      case 'boolean':
        return typeof this.#ctx.given[place.name] === 'boolean' ? this.#ctx.given[place.name] : TRUE_BY_DEFAULT.has(place.name)
      case 'null':
        return null
      default:
        // an unconstrained value (Type.Unknown): an object is the most common and always valid
        return schema.properties ? this.#object(schema, place) : {}
    }
  }

  #union(branches: JsonSchema[], whole: JsonSchema, place: Place): unknown {
    const present = branches.filter((b) => !isNull(b))
    if (present.length === 0) return null
    // a union of literals is an enum
    if (present.every((b) => 'const' in b) && present.length === branches.length) return this.#enumValue(present.map((b) => b.const), place)
    const filled = FILLED_BY_ACTION[this.#ctx.action ?? '']?.includes(place.name) ?? false
    if (present.length < branches.length && NULL_BY_DEFAULT.has(place.name) && !filled && !this.#echoes(whole, place)) return null
    // a union of object shapes named by title (a report's row types): the one a path value names
    const named = present.find((b) => typeof b.title === 'string' && Object.values(this.#ctx.params).some((v) => kebab(b.title as string).startsWith(v.replace(/\.[a-z]+$/, ''))))
    return this.#value(named ?? present[0]!, place)
  }

  #echoes(schema: JsonSchema, place: Place): boolean {
    const echoed = this.#ctx.given[place.name]
    return echoed !== undefined && echoed !== null && fits(echoed, schema, this.#ctx.resolve)
  }

  #enumValue(values: unknown[], place: Place): unknown {
    const echoed = this.#ctx.given[place.name]
    if (values.includes(echoed)) return echoed
    const fromPath = Object.values(this.#ctx.params).find((v) => values.includes(v.replace(/\.[a-z]+$/, '')))
    if (fromPath !== undefined) return fromPath.replace(/\.[a-z]+$/, '')
    // the sandbox is test mode
    if (place.name === 'mode' && values.includes('test')) return 'test'
    // an action's outcome: :confirm answers CONFIRMED, :void VOID, :refund REFUNDED
    const action = this.#ctx.action?.toUpperCase()
    const outcome = place.name === 'status' && action ? values.find((v) => typeof v === 'string' && v.startsWith(action)) : undefined
    if (outcome !== undefined) return outcome
    return values[place.item ? place.index % values.length : 0]
  }

  #object(schema: JsonSchema, place: Place): Record<string, unknown> {
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>
    const idPattern = properties.id ? deref(properties.id, this.#ctx.resolve).pattern : undefined
    const kind = typeof idPattern === 'string' ? (ID_PATTERN.exec(idPattern)?.[1] ?? null) : null
    const out: Record<string, unknown> = {}
    for (const [name, child] of Object.entries(properties)) {
      // an item's fields keep its index: the second night of a calendar is the day after the first
      out[name] = this.#value(child, { path: `${place.path}.${name}`, name, parent: place.name, index: place.index, item: false, kind: kind ?? (place.kind && name !== 'id' ? place.kind : null) })
    }
    if (Object.keys(properties).length === 0 && place.name === 'data' && place.kind === 'evt') return this.#eventData(place)
    return out
  }

  /** An event's data is the resource it is about; the sample's first event type is booking.created. */
  #eventData(place: Place): Record<string, unknown> {
    const random = randomFor(this.#ctx.seed, `${place.path}.id`)
    return { id: typeId('bkg', random), status: 'HELD', check_in: STAY_START, check_out: addDays(STAY_START, STAY_NIGHTS), guests: 2 }
  }

  #array(schema: JsonSchema, place: Place): unknown[] {
    const items = (schema.items ?? {}) as JsonSchema
    const item = deref(items, this.#ctx.resolve)
    // a page of resources has two items, a stay three nights, a list of enum values (event types,
    // permissions) two distinct ones, anything else one
    const listed = place.parent === '' && (place.name === 'data' || place.name === 'items')
    const wanted = place.name === 'nights' || place.name === 'nightly' ? STAY_NIGHTS : listed || Array.isArray(item.enum) ? 2 : 1
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0
    const max = Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : Infinity, Array.isArray(item.enum) ? item.enum.length : Infinity)
    const count = Math.max(min, Math.min(wanted, max))
    const out: unknown[] = []
    for (let i = 0; i < count; i++) out.push(this.#value(items, { path: `${place.path}[${i}]`, name: place.name, parent: place.parent, index: i, item: true, kind: place.kind }))
    return out
  }

  #number(schema: JsonSchema, place: Place): number {
    const echoed = this.#ctx.given[place.name]
    if (typeof echoed === 'number' && fits(echoed, schema, this.#ctx.resolve)) return echoed
    let value = place.path.includes('rate_limits') && place.name === 'limit' ? 1200 : (INTEGERS[place.name] ?? 1)
    if (typeof schema.minimum === 'number') value = Math.max(value, schema.minimum)
    if (typeof schema.exclusiveMinimum === 'number') value = Math.max(value, schema.exclusiveMinimum + 1)
    if (typeof schema.maximum === 'number') value = Math.min(value, schema.maximum)
    if (typeof schema.exclusiveMaximum === 'number') value = Math.min(value, schema.exclusiveMaximum - 1)
    return schema.type === 'integer' ? Math.trunc(value) : value
  }

  #string(schema: JsonSchema, place: Place): string {
    const random = randomFor(this.#ctx.seed, place.path)
    const candidates = [...this.#echoCandidates(schema, place), ...stringHints(schema, place, this.#ctx.given, random)]
    for (const candidate of candidates) if (candidate !== undefined && fits(candidate, schema, this.#ctx.resolve)) return candidate
    if (typeof schema.pattern === 'string') {
      const generated = stringFromPattern(schema.pattern, random)
      if (fits(generated, schema, this.#ctx.resolve)) return generated
    }
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : 64
    return `Sample ${place.name.replace(/_/g, ' ')}`.padEnd(min, 'x').slice(0, Math.max(max, min))
  }

  #echoCandidates(schema: JsonSchema, place: Place): (string | undefined)[] {
    const out: (string | undefined)[] = []
    // an id field echoes the path's id when it is of that kind (GET /v1/bookings/bkg_… answers that booking)
    if (typeof schema.pattern === 'string' && ID_PATTERN.test(schema.pattern)) {
      out.push(...Object.values(this.#ctx.params).filter((v) => new RegExp(schema.pattern as string).test(v)))
    }
    // a filter or a stay's dates: the sample is what was asked for (listing_id=, from=, check_in=)
    const echoed = this.#ctx.given[place.name]
    if (typeof echoed === 'string') out.push(echoed)
    return out
  }
}
