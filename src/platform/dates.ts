import type { FieldError, FieldErrors } from './errors.ts'

/** Stay dates are calendar dates, 'YYYY-MM-DD', with no time zone: arithmetic is done in UTC. */
const DAY_MS = 86_400_000

/** A stay is 1–90 nights (availability search, bookings, stay changes). */
export const MAX_STAY_NIGHTS = 90

export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS)
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/**
 * Checks a [from, to) range of nights: calendar dates, to after from, at most `max` nights. Takes
 * raw input (it also runs when the schema refused the request); a missing value is the schema's
 * to report.
 */
export function checkRange(errors: FieldErrors, fromName: string, from: unknown, toName: string, to: unknown, max: number, location: FieldError['location'] = 'query'): void {
  const fromOk = typeof from === 'string' && isCalendarDate(from)
  const toOk = typeof to === 'string' && isCalendarDate(to)
  if (typeof from === 'string' && !fromOk) errors.add(fromName, 'date', 'must be a calendar date YYYY-MM-DD', location)
  if (typeof to === 'string' && !toOk) errors.add(toName, 'date', 'must be a calendar date YYYY-MM-DD', location)
  if (fromOk && toOk) {
    const nights = daysBetween(from, to)
    if (nights < 1) errors.add(toName, 'after', `must be after ${fromName}`, location)
    else if (nights > max) errors.add(toName, 'maximum', `must be at most ${max} nights after ${fromName}`, location)
  }
}
