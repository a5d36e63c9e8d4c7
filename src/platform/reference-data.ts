import { createRequire } from 'node:module'
import type * as Iso3166 from 'iso-3166-2'
import type * as PhoneNumbers from 'libphonenumber-js'

// The code tables load on first use, not at start-up (they are a tenth of a second of it).
const load = createRequire(import.meta.url)
let iso: typeof Iso3166 | undefined
let phones: typeof PhoneNumbers | undefined
const iso3166 = {
  country: (code: string) => (iso ??= load('iso-3166-2') as typeof Iso3166).country(code),
  subdivision: (country: string, code: string) => (iso ??= load('iso-3166-2') as typeof Iso3166).subdivision(country, code),
}
const isValidPhoneNumber = (phone: string) => (phones ??= load('libphonenumber-js') as typeof PhoneNumbers).isValidPhoneNumber(phone)

/** Validators for the standard codes the API accepts (API.md §3). */
export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && iso3166.country(code) !== null
}

/** An ISO 3166-2 subdivision suffix of that country: province_code=SG for VN-SG. */
export function isSubdivisionCode(country: string, code: string): boolean {
  return /^[A-Z0-9]{1,3}$/.test(code) && iso3166.subdivision(country, code) !== null
}

const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone'))

export function isTimeZone(zone: string): boolean {
  if (TIME_ZONES.has(zone) || zone === 'UTC') return true
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return zone.includes('/')
  } catch {
    return false
  }
}

/** E.164, and a number that exists in its country's numbering plan. */
export function isE164Phone(phone: string): boolean {
  return /^\+[1-9][0-9]{6,14}$/.test(phone) && isValidPhoneNumber(phone)
}

/** A well-formed BCP 47 tag, returned in canonical case (en-us → en-US); null otherwise. */
export function canonicalLanguage(tag: string): string | null {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag)
    return canonical ?? null
  } catch {
    return null
  }
}
