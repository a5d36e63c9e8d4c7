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
  return typeidUnboxed(ID_PREFIXES[kind])
}

/** Shape check only: a well-formed id of the right kind (existence is the repository's job). */
export function isIdOf(kind: IdKind, value: string): boolean {
  const prefix = ID_PREFIXES[kind]
  return value.length === prefix.length + 27 && value.startsWith(`${prefix}_`) && /^[0-7][0-9a-hjkmnp-tv-z]{25}$/.test(value.slice(prefix.length + 1))
}
