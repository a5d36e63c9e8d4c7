import type { Clock } from '../../platform/clock.ts'
import { nowIn } from '../test-clock/now.ts'
import { daysBetween, isCalendarDate } from '../../platform/dates.ts'
import type { Queryable } from '../../platform/db.ts'
import { ApiError, FieldErrors } from '../../platform/errors.ts'
import type { Scope } from '../../platform/keyset.ts'
import { isCurrency, minorUnitExponent } from '../../platform/money.ts'
import { planPeriods } from './periods.ts'
import type { PeriodPlan, ReportPeriod } from './periods.ts'
import { listingPage, reportRows } from './repository.ts'
import type { ReportSqlEntity, ReportSqlSpec } from './repository.ts'
import { ENTITY_DIMENSIONS, GROUP_BY_VALUES, MAX_REPORT_DAYS, REPORT_TYPES, TIME_DIMENSIONS, columnsOf } from './schemas.ts'
import type { EntityDimension, GroupByValue, ReportType, TimeDimension } from './schemas.ts'

export type { ReportPeriod }

/** A report as asked for, checked. */
export interface ReportRequest {
  type: ReportType
  from: string
  to: string
  /** As asked, without repeats; default ['day']. */
  groupBy: GroupByValue[]
  time: TimeDimension | null
  entity: EntityDimension | null
  currency: string | null
}

/** What a row is about: a team or a listing (one object for all of its rows). */
export interface ReportEntity {
  id: string
  name: string
}

/**
 * A figure: a count, or text (a currency code, a rate, the decimal amount of revenue: money whose
 * currency is the row's currency figure).
 */
export type Figure = number | string

/**
 * Rows start … end - 1 of one entity (or of the whole scope): row i is about period(i), and its
 * figure k (in FIGURE_COLUMNS order) is figure(i, k). Rows are read through a run rather than made
 * one object each: a report has up to hundreds of thousands, and objects made that fast and kept
 * for a moment are what V8 learns to allocate straight into the old generation (where they stay
 * until a full collection: the process's RSS rose by 50 MiB over one 366,000-row report).
 */
export interface ReportRun {
  entity: ReportEntity | null
  start: number
  end: number
  period(i: number): ReportPeriod
  figure(i: number, k: number): Figure
}

export interface ReportHeader {
  report: ReportType
  from: string
  to: string
  group_by: GroupByValue[]
  currency: string | null
  team_ids: string[]
  generated_at: string
}

/** A report whose first rows are already read (so a failing query is an error answer, not a cut stream). */
export interface OpenReport {
  header: ReportHeader
  /** Column names, in order (the CSV header). */
  columns: string[]
  entity: EntityDimension | null
  /** The rows, a batch of runs (about ROWS_PER_BATCH rows) at a time. */
  pages: AsyncIterable<ReportRun[]> | Iterable<ReportRun[]>
}

/**
 * The rows a page of listings aims at. A page arrives as arrays of numbers (8 bytes a figure), so
 * a page costs a few MB of heap; fewer, larger pages each walk the bookings once (the bookings of
 * a page's listings lie all over the table), so a page is as large as that allows: occupancy by
 * listing and day over 366 days is 136 listings a page, 366,000 rows in 8 pages.
 */
const ROWS_PER_PAGE = 50_000
const MIN_LISTINGS_PER_PAGE = 25
const MAX_LISTINGS_PER_PAGE = 500

/**
 * Listings in the next page. occupancy has a row per listing and period, and works a row per
 * listing and day: its pages are sized by days. bookings-summary and revenue have rows only where
 * there are bookings: their first page is sized for the worst case (a row per period), and later
 * pages by the rows per listing the last one had, growing at most twofold a page.
 */
function nextPageSize(type: ReportType, plan: PeriodPlan, last: { size: number; rows: number } | null): number {
  const clamp = (n: number) => Math.max(MIN_LISTINGS_PER_PAGE, Math.min(MAX_LISTINGS_PER_PAGE, Math.floor(n)))
  if (type === 'occupancy') return clamp(ROWS_PER_PAGE / plan.days)
  if (!last) return clamp(ROWS_PER_PAGE / plan.periods.length)
  return Math.min(2 * last.size, clamp(ROWS_PER_PAGE / Math.max(1, last.rows / last.size)))
}

export function isReportType(value: string): value is ReportType {
  return (REPORT_TYPES as readonly string[]).includes(value)
}

export function unknownReport(name: string): ApiError {
  return new ApiError('NOT_FOUND', `No such report: ${name}. The available reports are ${REPORT_TYPES.join(', ')}.`, { resource: 'report', available_types: [...REPORT_TYPES] })
}

function valuesOf(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : [raw]
  return list.filter((v): v is string => typeof v === 'string').flatMap((v) => v.split(',')).map((v) => v.trim())
}

/**
 * Checks a report's query, raw (it also runs when the schema refused the request, so every
 * problem is reported at once; what the schema reported is skipped by `errors`). Returns the
 * request when there is nothing to report.
 */
export function checkReportQuery(errors: FieldErrors, type: ReportType, query: unknown): ReportRequest | null {
  const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>
  const before = errors.fields.length
  const { from, to } = q
  const fromOk = typeof from === 'string' && isCalendarDate(from)
  const toOk = typeof to === 'string' && isCalendarDate(to)
  if (typeof from === 'string' && !fromOk) errors.add('from', 'date', 'must be a calendar date YYYY-MM-DD', 'query')
  if (typeof to === 'string' && !toOk) errors.add('to', 'date', 'must be a calendar date YYYY-MM-DD', 'query')
  if (fromOk && toOk) {
    const days = daysBetween(from, to) + 1
    if (days < 1) errors.add('to', 'after', 'must be on or after from', 'query')
    else if (days > MAX_REPORT_DAYS) errors.add('to', 'maximum', `must be within ${MAX_REPORT_DAYS} days of from, both included (this range has ${days})`, 'query')
  }

  let groupBy: GroupByValue[] = ['day']
  if (q.group_by !== undefined) {
    const values = [...new Set(valuesOf(q.group_by).filter(Boolean))]
    const unknown = values.filter((v) => !(GROUP_BY_VALUES as readonly string[]).includes(v))
    const times = values.filter((v) => (TIME_DIMENSIONS as readonly string[]).includes(v))
    const entities = values.filter((v) => (ENTITY_DIMENSIONS as readonly string[]).includes(v))
    if (unknown.length > 0) {
      errors.add('group_by', 'enum', `must be among ${GROUP_BY_VALUES.join(', ')} (unknown: ${unknown.join(', ')})`, 'query')
    } else if (times.length > 1) {
      errors.add('group_by', 'time_dimensions', `may name at most one of ${TIME_DIMENSIONS.join(', ')} (got ${times.join(', ')})`, 'query')
    } else if (entities.length > 1) {
      errors.add('group_by', 'entity_dimensions', `may name at most one of ${ENTITY_DIMENSIONS.join(', ')} (got ${entities.join(', ')})`, 'query')
    }
    groupBy = values as GroupByValue[]
  }

  const currency = q.currency
  if (currency !== undefined) {
    if (type !== 'revenue') errors.add('currency', 'not_allowed', `is only accepted by the revenue report (this is ${type})`, 'query')
    else if (typeof currency !== 'string' || !isCurrency(currency)) errors.add('currency', 'iso4217', 'is not an ISO 4217 currency code', 'query')
  }

  if (errors.fields.length > before || !fromOk || !toOk) return null
  return {
    type,
    from,
    to,
    groupBy,
    time: (groupBy.find((v) => (TIME_DIMENSIONS as readonly string[]).includes(v)) as TimeDimension | undefined) ?? null,
    entity: (groupBy.find((v) => (ENTITY_DIMENSIONS as readonly string[]).includes(v)) as EntityDimension | undefined) ?? null,
    currency: typeof currency === 'string' ? currency : null,
  }
}

/** Minor units (an integer as text, any size) as the decimal amount of money: exact, no floating point. */
export function amountOfMinorText(minor: string, currency: string): string {
  const exponent = minorUnitExponent(currency)
  const negative = minor.startsWith('-')
  const digits = (negative ? minor.slice(1) : minor).padStart(exponent + 1, '0')
  const amount = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`
  return negative ? `-${amount}` : amount
}

/** occupied / available, rounded half up to 4 decimals, in integers (exact); "0.0000" when nothing is available. */
export function occupancyRate(occupied: number, available: number): string {
  if (available <= 0) return '0.0000'
  const key = occupied * 1_048_576 + available
  const known = available < 1_048_576 ? rates.get(key) : undefined
  if (known !== undefined) return known
  const tenThousandths = Math.floor((occupied * 20_000 + available) / (2 * available))
  const rate = `${Math.floor(tenThousandths / 10_000)}.${String(tenThousandths % 10_000).padStart(4, '0')}`
  if (available < 1_048_576) {
    if (rates.size >= 10_000) rates.clear()
    rates.set(key, rate)
  }
  return rate
}

/**
 * Rates already written: a report by listing and day has a few hundred thousand rows and a handful
 * of distinct rates (1 ÷ 1, 0 ÷ 1 …), and making each anew was a fifth of what a report allocated.
 */
const rates = new Map<number, string>()

type FigureReader = (entity: ReportSqlEntity, i: number) => Figure

/** Each report's figures for element i of an entity's arrays, in the order of FIGURE_COLUMNS. */
const FIGURES: Record<ReportType, FigureReader[]> = {
  'bookings-summary': [(e, i) => e.bookings![i]!, (e, i) => e.held![i]!, (e, i) => e.confirmed![i]!, (e, i) => e.issued![i]!, (e, i) => e.cancelled![i]!, (e, i) => e.expired![i]!, (e, i) => e.nights![i]!],
  revenue: [(e, i) => e.currency![i]!, (e, i) => e.bookings![i]!, (e, i) => e.nights![i]!, (e, i) => amountOfMinorText(e.revenue_minor![i]!, e.currency![i]!)],
  occupancy: [(e) => e.listings!, (e, i) => e.available_nights![i]!, (e, i) => e.occupied_nights![i]!, (e, i) => occupancyRate(e.occupied_nights![i]!, e.available_nights![i]!)],
}

/** Rows handed to the renderer at a time (about 60 KB of JSON). */
const ROWS_PER_BATCH = 250

/** The count arrays of a result (period indexes and integer figures), as opposed to its text arrays. */
const INTEGER_ARRAYS = ['period', 'bookings', 'held', 'confirmed', 'issued', 'cancelled', 'expired', 'nights', 'available_nights', 'occupied_nights'] as const

/**
 * A page's integer arrays as Int32Arrays, kept outside the JS heap: the driver's arrays of numbers
 * (8 bytes each) lived until the page was sent, long enough to be moved to the old generation,
 * where the pages of a 366,000-row report piled up (9 MB a report) until a full collection.
 */
function compact(entities: ReportSqlEntity[]): ReportSqlEntity[] {
  for (const e of entities) {
    for (const key of INTEGER_ARRAYS) {
      const values = e[key]
      if (values) e[key] = Int32Array.from(values)
    }
  }
  return entities
}

function rowCount(entities: ReportSqlEntity[]): number {
  return entities.reduce((n, e) => n + (e.period?.length ?? 0), 0)
}

/** A query's rows as runs, batch by batch; one period object per period and one entity object per entity. */
function* batchesOf(entities: ReportSqlEntity[], plan: PeriodPlan, type: ReportType): Generator<ReportRun[]> {
  const readers = FIGURES[type]
  let batch: ReportRun[] = []
  let size = 0
  for (const e of entities) {
    const entity = e.entity_id === undefined || e.entity_id === null ? null : { id: e.entity_id, name: e.entity_name ?? '' }
    const periods = e.period ?? []
    const period = (i: number) => plan.periods[periods[i]!]!
    const figure = (i: number, k: number) => readers[k]!(e, i)
    for (let start = 0; start < periods.length; ) {
      const end = Math.min(periods.length, start + ROWS_PER_BATCH - size)
      batch.push({ entity, start, end, period, figure })
      size += end - start
      start = end
      if (size === ROWS_PER_BATCH) {
        yield batch
        batch = []
        size = 0
      }
    }
  }
  if (size > 0) yield batch
}

export interface ReportServiceDeps {
  db: Queryable
  clock: Clock
  /** Listings per page of a report grouped by listing; default: as many as make about ROWS_PER_PAGE rows (tests page by few). */
  listingsPerPage?: number
}

export class ReportService {
  readonly #deps: ReportServiceDeps

  constructor(deps: ReportServiceDeps) {
    this.#deps = deps
  }

  /** The report type and query, checked: 404 for an unknown type, 400 with every field problem. */
  request(type: string, query: unknown): ReportRequest {
    if (!isReportType(type)) throw unknownReport(type)
    const errors = new FieldErrors()
    const request = checkReportQuery(errors, type, query)
    errors.throwIfAny()
    return request!
  }

  /**
   * Reads the report's first rows and hands back the rest as pages to stream. Grouped by listing,
   * the listings in scope are walked in id order a page at a time, each page one short query (no
   * transaction or cursor stays open across the stream; PGlite has a single connection), the next
   * page read while the current one is sent. Otherwise the rows are few: one query.
   */
  async open(scope: Scope, request: ReportRequest): Promise<OpenReport> {
    const { db, clock } = this.#deps
    const now = nowIn(clock, scope)
    const plan = planPeriods(request.from, request.to, request.time)
    const spec: ReportSqlSpec = { type: request.type, from: request.from, to: request.to, plan, entity: request.entity, currency: request.currency, now }
    const header: ReportHeader = {
      report: request.type,
      from: request.from,
      to: request.to,
      group_by: request.groupBy,
      currency: request.currency,
      team_ids: [...scope.teamIds].sort(),
      generated_at: now.toISOString(),
    }
    const columns = columnsOf(request.type, request.entity)

    if (request.entity !== 'listing') {
      const entities = compact(await reportRows(db, scope, spec))
      return { header, columns, entity: request.entity, pages: batchesOf(entities, plan, request.type) }
    }

    const fixed = this.#deps.listingsPerPage
    const readPage = async (after: string | null, limit: number) => {
      const listingIds = await listingPage(db, scope, after, limit)
      if (listingIds.length === 0) return null
      const entities = compact(await reportRows(db, scope, { ...spec, listingIds }))
      return { entities, limit, last: listingIds[listingIds.length - 1]!, more: listingIds.length === limit }
    }
    const first = await readPage(null, fixed ?? nextPageSize(request.type, plan, null))
    async function* pages() {
      let page = first
      while (page) {
        // the next page is read while this one is sent
        const next = page.more ? readPage(page.last, fixed ?? nextPageSize(request.type, plan, { size: page.limit, rows: rowCount(page.entities) })) : Promise.resolve(null)
        // awaited below; when the reader stops first, its failure has no one left to tell
        next.catch(() => {})
        yield* batchesOf(page.entities, plan, request.type)
        page = await next
      }
    }
    return { header, columns, entity: 'listing', pages: pages() }
  }
}
