import type { ListPlan, Scope } from '../../platform/keyset.ts'
import { deliver, endpointIdsSql } from '../webhooks/repository.ts'
import { onShiftedTestClockSql } from '../test-clock/repository.ts'
import type { Queryable } from '../../platform/db.ts'
import { notFound, ApiError } from '../../platform/errors.ts'
import { pageSql, scopeSql } from '../../platform/keyset.ts'
import type { BookingStatus } from './schemas.ts'

export interface GuestDetails {
  lead_guest_name: string
  lead_guest_email: string | null
  lead_guest_phone: string | null
  additional_guest_names: string[]
  special_requests: string | null
}

export interface BookingRow {
  id: string
  partner_id: string
  team_id: string
  mode: 'live' | 'test'
  listing_id: string
  customer_id: string
  status: BookingStatus
  check_in: string
  check_out: string
  guests: number
  nights: number
  nightly_rate_minor: number
  total_minor: number
  currency: string
  hold_expires_at: Date
  confirmed_at: Date | null
  issued_at: Date | null
  voucher_number: string | null
  cancelled_at: Date | null
  cancellation_reason: string | null
  expired_at: Date | null
  external_system: string | null
  external_booking_id: string | null
  guest_details: GuestDetails | null
  version: number
  created_at: Date
  updated_at: Date
}

export const BOOKING_COLUMNS = `b.id, b.partner_id, b.team_id, b.mode, b.listing_id, b.customer_id, b.status, b.check_in, b.check_out, b.guests, b.nights,
  b.nightly_rate_minor, b.total_minor, b.currency, b.hold_expires_at, b.confirmed_at, b.issued_at, b.voucher_number, b.cancelled_at,
  b.cancellation_reason, b.expired_at, b.external_system, b.external_booking_id, b.guest_details, b.version, b.created_at, b.updated_at`

// Postgres error codes mapped to domain errors right here, where the SQL is.
const EXCLUSION_VIOLATION = '23P01'

function pgCode(error: unknown): string | undefined {
  return (error as { code?: string }).code
}

/**
 * Inserts a new booking and its event in one statement (a CTE): the event row is written only if
 * the booking row is. Maps the no-overlap constraint to LISTING_UNAVAILABLE and a taken external
 * pair to EXTERNAL_BOOKING_DUPLICATE naming the booking that has it.
 */
export async function insertBookingWithEvent(db: Queryable, b: BookingRow, event: { id: string; type: string; data: object }): Promise<void> {
  const ref = { id: event.id, partnerId: b.partner_id, teamId: b.team_id, mode: b.mode, type: event.type, resourceId: b.id, sequence: b.version, now: b.created_at }
  const params: unknown[] = [b.id, b.partner_id, b.team_id, b.mode, b.listing_id, b.customer_id, b.status, b.check_in, b.check_out, b.guests, b.nights,
    b.nightly_rate_minor, b.total_minor, b.currency, b.hold_expires_at, b.external_system, b.external_booking_id,
    b.guest_details ? JSON.stringify(b.guest_details) : null, b.version, b.created_at, event.id, event.type, JSON.stringify(event.data)]
  let inserted: { n: number; endpoints: string[] } | undefined
  try {
    // the booking, its event and the look-up of the event's webhook endpoints: one statement
    const { rows } = await db.query<{ n: number; endpoints: string[] }>(
      `WITH booking AS (
         INSERT INTO bookings (id, partner_id, team_id, mode, listing_id, customer_id, status, check_in, check_out, guests, nights,
           nightly_rate_minor, total_minor, currency, hold_expires_at, external_system, external_booking_id, guest_details, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)
         ON CONFLICT (partner_id, mode, external_system, external_booking_id) WHERE external_system IS NOT NULL DO NOTHING
         RETURNING id, partner_id, team_id, mode, version
       ), event AS (
         INSERT INTO events (id, partner_id, team_id, mode, event_type, resource_type, resource_id, sequence, data, created_at)
         SELECT $21, partner_id, team_id, mode, $22, 'booking', id, version, $23, $20 FROM booking
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM event)::int AS n, ${endpointIdsSql(ref, params)} AS endpoints`,
      params,
    )
    inserted = rows[0]
  } catch (error) {
    if (pgCode(error) === EXCLUSION_VIOLATION) throw unavailable()
    throw error
  }
  if (inserted?.n === 1) {
    await deliver(db, ref, inserted.endpoints)
    return
  }
  // a concurrent request took this external pair first (it has committed: name its booking)
  const existing = await findByExternalId(db, { partnerId: b.partner_id, mode: b.mode }, b.external_system!, b.external_booking_id!)
  throw duplicateExternal(existing?.id ?? null, b.external_system!, b.external_booking_id!)
}

export function duplicateExternal(existingId: string | null, system: string, externalId: string): ApiError {
  return new ApiError('EXTERNAL_BOOKING_DUPLICATE', `${existingId ? `Booking ${existingId}` : 'A booking'} already has this external_system and external_booking_id.`, {
    existing_booking_id: existingId,
    external_system: system,
    external_booking_id: externalId,
  })
}

export function unavailable(): ApiError {
  return new ApiError('LISTING_UNAVAILABLE', 'The listing is already booked for some of these nights.')
}

export async function findBooking(db: Queryable, scope: Scope, id: string, forUpdate = false): Promise<BookingRow | undefined> {
  const params: unknown[] = [id]
  const { rows } = await db.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings b WHERE b.id = $1 AND ${scopeSql('b', scope, params)}${forUpdate ? ' FOR UPDATE' : ''}`, params)
  return rows[0]
}

export async function findByExternalId(db: Queryable, scope: Pick<Scope, 'partnerId' | 'mode'>, system: string, externalId: string): Promise<{ id: string } | undefined> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM bookings WHERE partner_id = $1 AND mode = $2 AND external_system = $3 AND external_booking_id = $4',
    [scope.partnerId, scope.mode, system, externalId],
  )
  return rows[0]
}

/**
 * A look before the insert, so "unavailable" is reported before "price changed" (the constraint
 * stays the judge): which bookings in the way are live, and whether any is a lapsed hold that
 * must be expired first.
 */
export async function bookingsInTheWay(db: Queryable, listingId: string, checkIn: string, checkOut: string, now: Date, exceptId: string | null): Promise<{ live: boolean; lapsed: boolean }> {
  const { rows } = await db.query<{ live: boolean; lapsed: boolean }>(
    `SELECT coalesce(bool_or(status <> 'HELD' OR hold_expires_at > $4), false) AS live,
            coalesce(bool_or(status = 'HELD' AND hold_expires_at <= $4), false) AS lapsed
     FROM bookings WHERE listing_id = $1 AND stay && daterange($2::date, $3::date, '[)')
       AND status IN ('HELD', 'CONFIRMED', 'ISSUED') AND ($5::text IS NULL OR id <> $5)`,
    [listingId, checkIn, checkOut, now, exceptId],
  )
  return rows[0] ?? { live: false, lapsed: false }
}

/**
 * Expires lapsed holds (all — but the test holds of partners whose test clock is ahead, which
 * expireShiftedLapsedHolds takes at their partner's time — or those of one listing overlapping a
 * stay, `now` being that listing's partner's time); returns them for their events.
 */
export async function expireLapsedHolds(db: Queryable, now: Date, options: { listingId?: string; checkIn?: string; checkOut?: string; limit?: number } = {}): Promise<BookingRow[]> {
  const params: unknown[] = [now]
  let where = `status = 'HELD' AND hold_expires_at <= $1`
  if (options.listingId) {
    params.push(options.listingId, options.checkIn, options.checkOut)
    where += ` AND listing_id = $2 AND stay && daterange($3::date, $4::date, '[)')`
  } else {
    where += ` AND NOT ${onShiftedTestClockSql('bookings')}`
  }
  params.push(options.limit ?? 500)
  const { rows } = await db.query<BookingRow>(
    `UPDATE bookings b SET status = 'EXPIRED', expired_at = b.hold_expires_at, updated_at = $1, version = b.version + 1
     WHERE b.id IN (SELECT id FROM bookings WHERE ${where} ORDER BY hold_expires_at LIMIT $${params.length} FOR UPDATE SKIP LOCKED)
     RETURNING ${BOOKING_COLUMNS}`,
    params,
  )
  return rows
}

/**
 * Marks holds lapsing within `leadMs` as notified (once each) and returns them, for their
 * booking.hold_expiring events. The version counts the event; updated_at stays (nothing a reader
 * sees changed).
 */
export async function markExpiringHolds(db: Queryable, now: Date, leadMs: number, limit: number): Promise<BookingRow[]> {
  const { rows } = await db.query<BookingRow>(
    `UPDATE bookings b SET hold_expiring_notified_at = $1, version = b.version + 1
     WHERE b.id IN (SELECT id FROM bookings WHERE status = 'HELD' AND hold_expiring_notified_at IS NULL AND hold_expires_at > $1 AND hold_expires_at <= $2
                      AND NOT ${onShiftedTestClockSql('bookings')}
                    ORDER BY hold_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING ${BOOKING_COLUMNS}`,
    [now, new Date(now.getTime() + leadMs), limit],
  )
  return rows
}

/**
 * The test holds of partners whose test clock is ahead (API.md §9), each with its partner's time
 * (`$1`, real now, plus the offset): walked per such partner on bookings_test_holds_idx. `$2` is
 * the limit; `condition` narrows by h.hold_expires_at.
 */
function shiftedHoldsSql(condition: string): string {
  return `SELECT h.id, $1::timestamptz + c.offset_seconds * interval '1 second' AS partner_now
     FROM test_clocks c JOIN bookings h ON h.partner_id = c.partner_id AND h.mode = 'test' AND h.status = 'HELD'
     WHERE c.offset_seconds > 0 AND ${condition}
     ORDER BY h.hold_expires_at LIMIT $2 FOR UPDATE OF h SKIP LOCKED`
}

/** expireLapsedHolds for the test holds of partners whose test clock is ahead, lapsed on that clock; updated_at is the partner's time. */
export async function expireShiftedLapsedHolds(db: Queryable, now: Date, limit: number): Promise<BookingRow[]> {
  const { rows } = await db.query<BookingRow>(
    `UPDATE bookings b SET status = 'EXPIRED', expired_at = b.hold_expires_at, updated_at = s.partner_now, version = b.version + 1
     FROM (${shiftedHoldsSql(`h.hold_expires_at <= $1::timestamptz + c.offset_seconds * interval '1 second'`)}) s
     WHERE b.id = s.id
     RETURNING ${BOOKING_COLUMNS}`,
    [now, limit],
  )
  return rows
}

/**
 * markExpiringHolds for the test holds of partners whose test clock is ahead: every hold not yet
 * notified that lapses within `leadMs` of its partner's time — also one that lapsed already, when
 * an advance jumped past its whole window — with that time (partner_now) for its event.
 */
export async function markShiftedExpiringHolds(db: Queryable, now: Date, leadMs: number, limit: number): Promise<(BookingRow & { partner_now: Date })[]> {
  const { rows } = await db.query<BookingRow & { partner_now: Date }>(
    `UPDATE bookings b SET hold_expiring_notified_at = s.partner_now, version = b.version + 1
     FROM (${shiftedHoldsSql(`h.hold_expiring_notified_at IS NULL AND h.hold_expires_at <= $1::timestamptz + c.offset_seconds * interval '1 second' + $3::bigint * interval '1 millisecond'`)}) s
     WHERE b.id = s.id
     RETURNING ${BOOKING_COLUMNS}, s.partner_now`,
    [now, limit, leadMs],
  )
  return rows
}

/** Every write carries the tenant predicate itself, not only the read before it. */
export async function updateBooking(db: Queryable, scope: Scope, id: string, set: Record<string, unknown>, now: Date): Promise<BookingRow> {
  const names = Object.keys(set)
  const assignments = names.map((name, i) => `${name} = $${i + 3}`)
  const params: unknown[] = [id, now, ...names.map((name) => (name === 'guest_details' && set[name] !== null ? JSON.stringify(set[name]) : set[name]))]
  const { rows } = await db.query<BookingRow>(
    `UPDATE bookings b SET ${assignments.join(', ')}, updated_at = $2, version = b.version + 1 WHERE b.id = $1 AND ${scopeSql('b', scope, params)} RETURNING ${BOOKING_COLUMNS}`,
    params,
  )
  if (!rows[0]) throw notFound('booking')
  return rows[0]
}

/** Stay changes may collide with another booking: the exclusion constraint answers. */
export async function updateStay(db: Queryable, scope: Scope, id: string, set: Record<string, unknown>, now: Date): Promise<BookingRow> {
  try {
    return await updateBooking(db, scope, id, set, now)
  } catch (error) {
    if (pgCode(error) === EXCLUSION_VIOLATION) throw unavailable()
    throw error
  }
}

export async function nextVoucherNumber(db: Queryable, now: Date): Promise<string> {
  const { rows } = await db.query<{ n: number }>(`SELECT nextval('voucher_seq') AS n`)
  return `VCH-${now.getUTCFullYear()}-${String(rows[0]!.n).padStart(6, '0')}`
}

export interface BookingFilters {
  status?: BookingStatus[]
  listing_id?: string
  customer_id?: string
  check_in_from?: string
  check_in_to?: string
  created_after?: string
  created_before?: string
  external_booking_id?: string
}

/** The filter on the status a reader sees: a lapsed HELD row is EXPIRED, whether or not the sweeper got to it. */
function statusSql(statuses: BookingStatus[], params: unknown[], now: Date): string {
  // only bind `now` when a branch uses it: an unused parameter has no type and PostgreSQL refuses it
  let at = ''
  if (statuses.includes('HELD') || statuses.includes('EXPIRED')) {
    params.push(now)
    at = `$${params.length}::timestamptz`
  }
  const parts: string[] = []
  const plain = statuses.filter((s) => s !== 'HELD' && s !== 'EXPIRED')
  if (plain.length > 0) {
    params.push(plain)
    parts.push(`b.status = ANY($${params.length})`)
  }
  if (statuses.includes('HELD')) parts.push(`(b.status = 'HELD' AND b.hold_expires_at > ${at})`)
  if (statuses.includes('EXPIRED')) parts.push(`b.status = 'EXPIRED' OR (b.status = 'HELD' AND b.hold_expires_at <= ${at})`)
  return ` AND (${parts.join(' OR ')})`
}

export async function listBookings(db: Queryable, scope: Scope, filters: BookingFilters, plan: ListPlan, now: Date): Promise<(BookingRow & { _sort_key: string })[]> {
  const params: unknown[] = []
  let where = ''
  if (filters.status && filters.status.length > 0) where += statusSql(filters.status, params, now)
  const simple: [keyof BookingFilters, string][] = [
    ['listing_id', 'b.listing_id = $'],
    ['customer_id', 'b.customer_id = $'],
    ['check_in_from', 'b.check_in >= $'],
    ['check_in_to', 'b.check_in <= $'],
    ['created_after', 'b.created_at > $'],
    ['created_before', 'b.created_at < $'],
    ['external_booking_id', 'b.external_booking_id = $'],
  ]
  for (const [key, sql] of simple) {
    if (filters[key] === undefined) continue
    params.push(filters[key])
    where += ` AND ${sql}${params.length}`
  }
  const sql = pageSql({ from: 'bookings b', alias: 'b', columns: BOOKING_COLUMNS, scope, filters: where, params, plan })
  const { rows } = await db.query<BookingRow & { _sort_key: string }>(sql, params)
  return rows
}

// ---- the External API's numbered pages (page/limit with a total) --------------------------------

/** The External API's filters on bookings; dates already ISO (created_*) or YYYY-MM-DD (check_in_*). */
export interface NumberedBookingFilters {
  status?: BookingStatus[]
  customer_id?: string
  created_after?: string
  created_before?: string
  check_in_from?: string
  check_in_to?: string
  /** Of the booking's listing. */
  country_code?: string
  province_code?: string
}

function numberedFilterSql(filters: NumberedBookingFilters, params: unknown[], now: Date): string {
  let where = filters.status && filters.status.length > 0 ? statusSql(filters.status, params, now) : ''
  const simple: [keyof NumberedBookingFilters, string][] = [
    ['customer_id', 'b.customer_id = $'],
    ['created_after', 'b.created_at > $'],
    ['created_before', 'b.created_at < $'],
    ['check_in_from', 'b.check_in >= $'],
    ['check_in_to', 'b.check_in <= $'],
  ]
  for (const [key, sql] of simple) {
    if (filters[key] === undefined) continue
    params.push(filters[key])
    where += ` AND ${sql}${params.length}`
  }
  const place: string[] = []
  for (const key of ['country_code', 'province_code'] as const) {
    if (filters[key] === undefined) continue
    params.push(filters[key])
    place.push(`l.${key} = $${params.length}`)
  }
  if (place.length > 0) where += ` AND EXISTS (SELECT 1 FROM listings l WHERE l.id = b.listing_id AND ${place.join(' AND ')})`
  return where
}

/**
 * One page by number: the keyset walk of pageSql (per team, or partner-wide) for offset + limit + 1
 * rows, of which the first `offset` are skipped by the outer query (pageSql ends with its LIMIT).
 * The cost grows with the offset; a cursor (plan.after, offset 0) does not.
 */
export async function listBookingsNumbered(db: Queryable, scope: Scope, filters: NumberedBookingFilters, plan: ListPlan, offset: number, now: Date): Promise<(BookingRow & { _sort_key: string })[]> {
  const params: unknown[] = []
  const where = numberedFilterSql(filters, params, now)
  const sql = pageSql({ from: 'bookings b', alias: 'b', columns: BOOKING_COLUMNS, scope, filters: where, params, plan: { ...plan, limit: offset + plan.limit } })
  const { rows } = await db.query<BookingRow & { _sort_key: string }>(offset > 0 ? `${sql} OFFSET ${Math.trunc(offset)}` : sql, params)
  return rows
}

const BOOKING_STATUS_LIST: BookingStatus[] = ['HELD', 'CONFIRMED', 'ISSUED', 'CANCELLED', 'EXPIRED']

/**
 * How many bookings match. With no filter but status, from list_counts (migration 0009: counts per
 * team, mode and stored status, kept by triggers) plus a live count of the few HELD rows, split by
 * whether their hold has lapsed (a lapsed one reads EXPIRED); any other filter counts live.
 */
export async function countBookingsNumbered(db: Queryable, scope: Scope, filters: NumberedBookingFilters, now: Date): Promise<number> {
  const onlyStatus = Object.entries(filters).every(([key, value]) => key === 'status' || value === undefined)
  if (!onlyStatus) {
    // teams and mode only: the scope's teams are the caller's own (so its partner's), and without
    // partner_id the (team_id, mode, created_at | check_in, id) indexes count index-only
    const params: unknown[] = [scope.teamIds, scope.mode]
    const where = numberedFilterSql(filters, params, now)
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM bookings b WHERE b.team_id = ANY($1) AND b.mode = $2${where}`, params)
    return Number(rows[0]?.n ?? 0)
  }
  // the scope's teams are the caller's own: teams and mode suffice (the HELD count is index-only on bookings_held_scope_idx)
  const statuses = filters.status && filters.status.length > 0 ? filters.status : BOOKING_STATUS_LIST
  const stored = statuses.filter((s) => s !== 'HELD')
  const { rows } = await db.query<{ n: string }>(
    `SELECT (SELECT coalesce(sum(n), 0) FROM list_counts WHERE resource = 'bookings' AND team_id = ANY($1) AND mode = $2 AND status = ANY($3))
          + (SELECT count(*) FILTER (WHERE hold_expires_at > $4) * $5 + count(*) FILTER (WHERE hold_expires_at <= $4) * $6
             FROM bookings WHERE status = 'HELD' AND team_id = ANY($1) AND mode = $2) AS n`,
    [scope.teamIds, scope.mode, stored, now, statuses.includes('HELD') ? 1 : 0, statuses.includes('EXPIRED') ? 1 : 0],
  )
  return Number(rows[0]?.n ?? 0)
}

