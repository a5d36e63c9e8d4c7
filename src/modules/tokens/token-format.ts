import { randomInt } from 'node:crypto'
import { crc32 } from 'node:zlib'
import type { Mode } from '../../config.ts'

/**
 * Token format (API.md §4): tvb_<mode>_<26 random base62><6 base62 CRC32 of the 26>.
 * The checksum lets secret scanners, and this server before any database or hash work, reject a
 * mistyped or forged token. 26 base62 characters carry ≈154.8 bits.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const RANDOM_LENGTH = 26
const CHECKSUM_LENGTH = 6
/** Characters of the random part that form the non-secret lookup prefix (≈47.6 bits). */
const LOOKUP_RANDOM_CHARS = 8

const TOKEN_PATTERN = /^tvb_(live|test)_([0-9A-Za-z]{26})([0-9A-Za-z]{6})$/

export function base62(value: number, width: number): string {
  let out = ''
  let n = value
  do {
    out = BASE62[n % 62] + out
    n = Math.floor(n / 62)
  } while (n > 0)
  return out.padStart(width, '0')
}

export function checksum(random: string): string {
  return base62(crc32(random), CHECKSUM_LENGTH)
}

export interface GeneratedToken {
  secret: string
  lookup: string
}

export function generateToken(mode: Mode): GeneratedToken {
  let random = ''
  // randomInt is uniform (rejection sampling inside), so every character carries log2(62) bits
  for (let i = 0; i < RANDOM_LENGTH; i++) random += BASE62[randomInt(62)]
  const secret = `tvb_${mode}_${random}${checksum(random)}`
  return { secret, lookup: lookupOf(secret) }
}

export interface ParsedToken {
  mode: Mode
  lookup: string
}

/** Shape and checksum only; returns null for anything that is not a well-formed token. */
export function parseToken(secret: string): ParsedToken | null {
  const match = TOKEN_PATTERN.exec(secret)
  if (!match) return null
  const [, mode, random, sum] = match as unknown as [string, Mode, string, string]
  if (checksum(random) !== sum) return null
  return { mode, lookup: lookupOf(secret) }
}

function lookupOf(secret: string): string {
  // "tvb_test_" (9) or "tvb_live_" (9) + the first random characters
  return secret.slice(0, 9 + LOOKUP_RANDOM_CHARS)
}

export const TOKEN_SHAPE = { RANDOM_LENGTH, CHECKSUM_LENGTH, LOOKUP_RANDOM_CHARS }
