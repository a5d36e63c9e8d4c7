import type { Queryable } from '../../platform/db.ts'
import { MAX_STAY_NIGHTS } from '../../platform/dates.ts'
import { scopeSql } from '../../platform/keyset.ts'
import type { Scope } from '../../platform/keyset.ts'
import type { PeriodPlan } from './periods.ts'
import type { EntityDimension, ReportType } from './schemas.ts'

/**
 * The SQL of the reports. Each report is one aggregate query, reportSql (exported, so that a
 * benchmark can run exactly the aggregate the route wraps); grouped by listing, the route runs it
 * once per page of listings (listingPage, then reportSql with spec.listingIds), so that no query
 * returns more than a page, and no cursor or transaction stays open while the answer streams. The
 * page's ids are a parameter rather than a subquery so that the planner knows how many listings
 * (and bookings) it reads: as ANY(ARRAY(SELECT …)) it assumed 10 and sorted 500,000 rows on disk.
 *
 * Days are integers: a row's day is its offset from `from` (created_at's UTC date for
 * bookings-summary, check_in for revenue, each night for occupancy), and the period of a day is
 * that offset itself (day) or its entry in dayToPeriod (week, month, whole range), computed once
 * in periods.ts. A period is an index into the plan's periods.
 *
 * The result has one row per entity (one row in all without an entity), its figures as JSON arrays
 * in period order: a page of 50,000 report rows arrives as a hundred-odd rows, which the driver turns
 * into plain arrays of numbers with JSON.parse, instead of 50,000 objects of strings that would
 * outlive the page in the JS heap (and raise the process's RSS by tens of MiB while it streams).
 */
export interface ReportSqlSpec {
  type: ReportType
  /** Calendar dates, both included, from ≤ to. */
  from: string
  to: string
  plan: PeriodPlan
  entity: EntityDimension | null
  /** revenue: only this currency. */
  currency: string | null
  /** bookings-summary: a HELD row whose hold lapsed by now counts as EXPIRED (as readers see it). */
  now: Date
  /** Grouped by listing: only these listings (a page, from listingPage); absent, every listing in scope. */
  listingIds?: readonly string[]
}

export interface SqlQuery {
  text: string
  values: unknown[]
}

/**
 * A row of any report's result: an entity (or the whole scope) and its figures, element i of each
 * array belonging to period[i] (and, for revenue, currency[i]); the figures present are the
 * report's. Grouped by team or listing, every entity in scope (or in the page) has a row, null
 * arrays when it has no report rows.
 */
export interface ReportSqlEntity {
  entity_id?: string
  entity_name?: string
  /** occupancy: the entity's listings. */
  listings?: number
  /** Indexes into the plan's periods, in order (null: no rows). */
  period: ArrayLike<number> | null
  bookings?: ArrayLike<number>
  held?: ArrayLike<number>
  confirmed?: ArrayLike<number>
  issued?: ArrayLike<number>
  cancelled?: ArrayLike<number>
  expired?: ArrayLike<number>
  nights?: ArrayLike<number>
  currency?: string[]
  /** Sums of total_minor, as text: exact at any size. */
  revenue_minor?: string[]
  available_nights?: ArrayLike<number>
  occupied_nights?: ArrayLike<number>
}

/** The array columns of each report's result, after period. */
const FIGURE_ARRAYS: Record<ReportType, string[]> = {
  'bookings-summary': ['bookings', 'held', 'confirmed', 'issued', 'cancelled', 'expired', 'nights'],
  revenue: ['currency', 'bookings', 'nights', 'revenue_minor'],
  occupancy: ['available_nights', 'occupied_nights'],
}

class Params {
  readonly values: unknown[] = []
  add(value: unknown, cast = ''): string {
    this.values.push(value)
    return `$${this.values.length}${cast}`
  }
  /** A parameter bound on first use only: PostgreSQL cannot type a parameter no expression uses. */
  lazy(value: unknown, cast: string): () => string {
    let placeholder: string | undefined
    return () => (placeholder ??= this.add(value, cast))
  }
}

/** The period (an index into plan.periods) of a day given as its integer offset from `from`. */
function periodOf(offset: () => string, spec: ReportSqlSpec, p: Params): string {
  if (spec.plan.periods.length === 1) return '0'
  if (spec.plan.dayToPeriod === null) return offset()
  return `(${p.add(spec.plan.dayToPeriod, '::int[]')})[${offset()} + 1]`
}

const ENTITY_KEY: Record<EntityDimension, string> = { team: 'b.team_id', listing: 'b.listing_id' }

/** The entities a report's rows are about (CTE e): id, name and, for occupancy, listings. */
function entitiesSql(scope: Scope, spec: ReportSqlSpec, p: Params): string {
  if (spec.entity === 'team') {
    const partner = p.add(scope.partnerId)
    const listings = spec.type === 'occupancy' ? `(SELECT count(*)::int FROM listings l WHERE l.team_id = t.id AND l.mode = ${p.add(scope.mode)} AND l.partner_id = ${partner})` : 'NULL::int'
    return `SELECT t.id, t.name, ${listings} AS listings FROM teams t WHERE t.partner_id = ${partner} AND t.id = ANY(${p.add(scope.teamIds, '::text[]')})`
  }
  if (spec.entity === 'listing') {
    const page = spec.listingIds ? ` AND l.id = ANY(${p.add(spec.listingIds, '::text[]')})` : ''
    return `SELECT l.id, l.name, 1 AS listings FROM listings l WHERE ${scopeSql('l', scope, p.values)}${page}`
  }
  return `SELECT NULL::text AS id, NULL::text AS name, count(*)::int AS listings FROM listings l WHERE ${scopeSql('l', scope, p.values)}`
}

/** The bookings a report reads: the caller's tenancy, and for a page of listings, theirs only. */
function bookingScope(scope: Scope, spec: ReportSqlSpec, p: Params): string {
  const where = scopeSql('b', scope, p.values)
  return spec.listingIds ? `${where} AND b.listing_id = ANY(${p.add(spec.listingIds, '::text[]')})` : where
}

/** bookings-summary and revenue: a row per group that has bookings (and, for revenue, per currency). */
function sparseSql(scope: Scope, spec: ReportSqlSpec, p: Params): string {
  const from = p.lazy(spec.from, '::date')
  let offset: () => string
  let range: string
  let figures: string
  let currency = ''
  if (spec.type === 'bookings-summary') {
    offset = () => `((b.created_at AT TIME ZONE 'UTC')::date - ${from()})`
    range = `b.created_at >= ${p.add(new Date(`${spec.from}T00:00:00Z`))} AND b.created_at < ${p.add(new Date(Date.parse(`${spec.to}T00:00:00Z`) + 86_400_000))}`
    const now = p.add(spec.now, '::timestamptz')
    figures =
      `count(*)::int AS bookings, ` +
      `(count(*) FILTER (WHERE b.status = 'HELD' AND b.hold_expires_at > ${now}))::int AS held, ` +
      `(count(*) FILTER (WHERE b.status = 'CONFIRMED'))::int AS confirmed, ` +
      `(count(*) FILTER (WHERE b.status = 'ISSUED'))::int AS issued, ` +
      `(count(*) FILTER (WHERE b.status = 'CANCELLED'))::int AS cancelled, ` +
      `(count(*) FILTER (WHERE b.status = 'EXPIRED' OR (b.status = 'HELD' AND b.hold_expires_at <= ${now})))::int AS expired, ` +
      `coalesce(sum(b.nights) FILTER (WHERE b.status IN ('CONFIRMED', 'ISSUED')), 0)::int AS nights`
  } else {
    offset = () => `(b.check_in - ${from()})`
    range = `b.status IN ('CONFIRMED', 'ISSUED') AND b.check_in >= ${from()} AND b.check_in <= ${p.add(spec.to, '::date')}`
    if (spec.currency) range += ` AND b.currency = ${p.add(spec.currency)}`
    figures = `count(*)::int AS bookings, sum(b.nights)::int AS nights, sum(b.total_minor)::text AS revenue_minor`
    currency = 'b.currency, '
  }
  const key = spec.entity ? `${ENTITY_KEY[spec.entity]} AS entity_id, ` : ''
  const groups = [spec.entity ? 'entity_id' : null, 'period', spec.type === 'revenue' ? 'b.currency' : null].filter(Boolean).join(', ')
  return `SELECT ${key}${periodOf(offset, spec, p)} AS period, ${currency}${figures} FROM bookings b WHERE ${bookingScope(scope, spec, p)} AND ${range} GROUP BY ${groups}`
}

/**
 * occupancy: a row per entity (every one, booked or not) and period. Occupied nights are the nights
 * (check_in ≤ night < check_out) of CONFIRMED and ISSUED bookings within the range.
 *
 * A stay is not expanded night by night: it is +1 on its first night in the range and −1 on the
 * day after its last, and the running sum of those over the days of the range is the number of
 * nights occupied on each day (two rows a booking whatever its length, and estimates the planner
 * gets right — generate_series per booking is planned as 1,000 rows a call, which turns a
 * 100 ms page into a parallel, JIT-compiled plan). A stay is at most MAX_STAY_NIGHTS, so the
 * check_in bound keeps the index range tight.
 */
function occupancySql(scope: Scope, spec: ReportSqlSpec, p: Params): string {
  const from = p.add(spec.from, '::date')
  const to = p.add(spec.to, '::date')
  const days = spec.plan.days
  const where = `${bookingScope(scope, spec, p)} AND b.status IN ('CONFIRMED', 'ISSUED') AND b.check_in <= ${to} AND b.check_in > ${from} - ${MAX_STAY_NIGHTS} AND b.check_out > ${from}`
  // every entity has every day (a 0), and each stay its +1 and −1 (the −1 after the range dropped);
  // summed per entity and day, then run over the days: the nights occupied on each day
  const changes =
    `SELECT e.id, n.day, 0::bigint AS delta FROM e CROSS JOIN generate_series(0, ${days - 1}) AS n(day) UNION ALL ` +
    `SELECT ${spec.entity ? ENTITY_KEY[spec.entity] : 'NULL::text'}, v.day, v.delta FROM bookings b ` +
    `CROSS JOIN LATERAL (VALUES (greatest(b.check_in, ${from}) - ${from}, 1::bigint), (least(b.check_out, ${to} + 1) - ${from}, -1::bigint)) AS v(day, delta) ` +
    `WHERE ${where} AND v.day < ${days}`
  const daily = `SELECT id, day, sum(sum(delta)::int) OVER (PARTITION BY id ORDER BY day) AS occupied FROM (${changes}) x GROUP BY id, day`
  // an equality join (hashable) by entity; without one, e is the single row of the whole scope
  const join = spec.entity ? `(${daily}) daily JOIN e ON e.id = daily.id` : `(${daily}) daily CROSS JOIN e`
  if (spec.plan.dayToPeriod === null) {
    return `SELECT daily.id AS entity_id, daily.day AS period, e.listings AS available_nights, daily.occupied::int AS occupied_nights FROM ${join}`
  }
  const period = periodOf(() => 'daily.day', spec, p)
  const lengths = p.add(spec.plan.periods.map((x) => x.days), '::int[]')
  return (
    `SELECT daily.id AS entity_id, ${period} AS period, e.listings * (${lengths})[${period} + 1] AS available_nights, sum(daily.occupied)::int AS occupied_nights ` +
    `FROM ${join} GROUP BY daily.id, e.listings, period`
  )
}

/**
 * The one aggregate query of a report (of a page of listings, when spec.listingIds is given): a row
 * per entity in id order, each figure an array in period order (then currency order, for revenue).
 */
export function reportSql(scope: Scope, spec: ReportSqlSpec): SqlQuery {
  const p = new Params()
  // e is needed by occupancy (its grid and listings) and by every grouping by entity (its names)
  const entities = spec.type === 'occupancy' || spec.entity ? `WITH e AS (${entitiesSql(scope, spec, p)}) ` : ''
  const rows = spec.type === 'occupancy' ? occupancySql(scope, spec, p) : sparseSql(scope, spec, p)
  const order = spec.type === 'revenue' ? 'r.period, r.currency' : 'r.period'
  // json_agg rather than array_agg: the drivers parse json with JSON.parse, a PostgreSQL array in JS
  const columns = ['period', ...FIGURE_ARRAYS[spec.type]]
  const arrays = columns.map((column) => `json_agg(r.${column} ORDER BY ${order}) AS ${column}`).join(', ')
  // grouped by entity: every entity of e has a row (its arrays null when it has no rows)
  const text = spec.entity
    ? `${entities}SELECT e.id AS entity_id, e.name AS entity_name, e.listings, ${columns.map((c) => `a.${c}`).join(', ')} ` +
      `FROM e LEFT JOIN (SELECT r.entity_id, ${arrays} FROM (${rows}) r GROUP BY r.entity_id) a ON a.entity_id = e.id ORDER BY e.id`
    : `${entities}SELECT ${spec.type === 'occupancy' ? '(SELECT listings FROM e) AS listings, ' : ''}${arrays} FROM (${rows}) r`
  return { text, values: p.values }
}

export async function reportRows(db: Queryable, scope: Scope, spec: ReportSqlSpec): Promise<ReportSqlEntity[]> {
  const { text, values } = reportSql(scope, spec)
  const { rows } = await db.query<ReportSqlEntity>(text, values)
  return rows
}

/** The ids of the next page of listings in scope, in id order: the pages a listing report walks. */
export function listingPageSql(scope: Scope, after: string | null, limit: number): SqlQuery {
  const values: unknown[] = []
  let where = scopeSql('l', scope, values)
  if (after !== null) {
    values.push(after)
    where += ` AND l.id > $${values.length}`
  }
  values.push(limit)
  return { text: `SELECT l.id FROM listings l WHERE ${where} ORDER BY l.id LIMIT $${values.length}`, values }
}

export async function listingPage(db: Queryable, scope: Scope, after: string | null, limit: number): Promise<string[]> {
  const { text, values } = listingPageSql(scope, after, limit)
  const { rows } = await db.query<{ id: string }>(text, values)
  return rows.map((r) => r.id)
}
