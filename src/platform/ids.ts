import { AsyncLocalStorage } from 'node:async_hooks'
import { typeidUnboxed } from 'typeid-js'

/**
 * Prefixed, k-sortable, non-sequential ids (TypeID: prefix + base32 UUIDv7). The time-ordered
 * prefix keeps index inserts local; the 74 random bits make ids unguessable and unenumerable.
 */
export const ID_PREFIXES = {
  partner: 'ptn',
  team: 'team',
  user: 'usr',
  token: 'tok',
  request: 'req',
  listing: 'lst',
  customer: 'cus',
  booking: 'bkg',
  event: 'evt',
  invoice: 'inv',
  payment: 'pay',
  webhook: 'whk',
  delivery: 'dlv',
} as const

export type IdKind = keyof typeof ID_PREFIXES

export function newId(kind: IdKind): string {
  const fixed = fixedIds.getStore()
  if (fixed) return nextFixedId(fixed, kind)
  return typeidUnboxed(ID_PREFIXES[kind])
}

/**
 * The first-run demo data has the same ids on every machine, so the examples in the guides, the
 * README and the OpenAPI document name records that exist on a fresh `npm start`. They are
 * well-formed TypeIDs whose time part is zero (1970), which newId never produces otherwise, so they
 * cannot collide with a real id: `<prefix>_00000000demx` + a 14-digit counter per kind.
 */
const fixedIds = new AsyncLocalStorage<Map<IdKind, number>>()

function nextFixedId(counters: Map<IdKind, number>, kind: IdKind): string {
  const n = (counters.get(kind) ?? 0) + 1
  counters.set(kind, n)
  return demoId(kind, n)
}

/** The n-th fixed id of a kind (from 1): what the demo data's n-th record of that kind is called. */
export function demoId(kind: IdKind, n: number): string {
  return `${ID_PREFIXES[kind]}_00000000demx${String(n).padStart(14, '0')}`
}

/** Runs fn with newId handing out the fixed demo ids, counting from 1 per kind. */
export function withFixedIds<T>(fn: () => Promise<T>): Promise<T> {
  return fixedIds.run(new Map(), fn)
}

/** Shape check only: a well-formed id of the right kind (existence is the repository's job). */
export function isIdOf(kind: IdKind, value: string): boolean {
  const prefix = ID_PREFIXES[kind]
  return value.length === prefix.length + 27 && value.startsWith(`${prefix}_`) && /^[0-7][0-9a-hjkmnp-tv-z]{25}$/.test(value.slice(prefix.length + 1))
}
