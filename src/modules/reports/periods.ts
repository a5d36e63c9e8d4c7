import type { TimeDimension } from './schemas.ts'

const DAY_MS = 86_400_000

/** One period of a report: what its rows say about it (shared by every row of the period). */
export interface ReportPeriod {
  /** 2026-05-07 (day), 2026-W19 (ISO week), 2026-05 (month), or "<from>/<to>" (no period grouped by). */
  period: string
  /** Its first and last day, clipped to the range. */
  period_start: string
  period_end: string
  /** Its days within the range (the nights a listing could be let in it). */
  days: number
}

/**
 * The periods of a range, in order, and the period of each day of the range: SQL groups by a
 * day's offset from `from` (an integer, mapped through dayToPeriod when periods are longer than a
 * day), so the calendar arithmetic (ISO weeks, months, clipping) is done once, here.
 */
export interface PeriodPlan {
  periods: ReportPeriod[]
  /** periods index of each day offset 0 … days - 1; null when each day is its own period. */
  dayToPeriod: number[] | null
  /** Days in the range, both ends included. */
  days: number
}

function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** The ISO 8601 week of a Monday: 2026-W19 (the week-year is the year of its Thursday). */
function isoWeekOf(mondayMs: number): string {
  const thursday = new Date(mondayMs + 3 * DAY_MS)
  const year = thursday.getUTCFullYear()
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1
  return `${year}-W${String(week).padStart(2, '0')}`
}

/** The label and first day of the period (unclipped) that holds a day. */
function periodKeyOf(ms: number, unit: TimeDimension): { label: string; startMs: number } {
  const date = new Date(ms)
  if (unit === 'day') return { label: dateOf(ms), startMs: ms }
  if (unit === 'month') return { label: dateOf(ms).slice(0, 7), startMs: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) }
  const monday = ms - ((date.getUTCDay() + 6) % 7) * DAY_MS
  return { label: isoWeekOf(monday), startMs: monday }
}

/** from and to are calendar dates, from ≤ to (checked before). */
export function planPeriods(from: string, to: string, unit: TimeDimension | null): PeriodPlan {
  const fromMs = Date.parse(`${from}T00:00:00Z`)
  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - fromMs) / DAY_MS) + 1
  if (unit === null) return { periods: [{ period: `${from}/${to}`, period_start: from, period_end: to, days }], dayToPeriod: new Array<number>(days).fill(0), days }
  const periods: ReportPeriod[] = []
  const dayToPeriod: number[] = []
  let lastStart = Number.NaN
  for (let i = 0; i < days; i++) {
    const ms = fromMs + i * DAY_MS
    const key = periodKeyOf(ms, unit)
    if (key.startMs !== lastStart) {
      lastStart = key.startMs
      periods.push({ period: key.label, period_start: dateOf(ms), period_end: dateOf(ms), days: 0 })
    }
    const current = periods[periods.length - 1]!
    current.period_end = dateOf(ms)
    current.days++
    dayToPeriod.push(periods.length - 1)
  }
  return { periods, dayToPeriod: unit === 'day' ? null : dayToPeriod, days }
}
