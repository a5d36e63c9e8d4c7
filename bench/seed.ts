/**
 * Bench tenants, inserted by SQL in bulk: one partner, its teams, an OWNER user in all of them,
 * listings and customers spread over the teams, and bookings spread over the listings.
 */
import { insertPartner, insertTeam, insertUser } from '../src/modules/partners/repository.ts'
import { BUCKETS } from '../src/modules/limits/buckets.ts'
import { setPartnerLimit } from '../src/modules/limits/repository.ts'
import { TokenService } from '../src/modules/tokens/service.ts'
import { systemClock } from '../src/platform/clock.ts'
import { bindingOf, CursorCodec } from '../src/platform/cursor.ts'
import type { Db } from '../src/platform/db.ts'
import { migrate } from '../src/platform/migrate.ts'

/** Load runs far beyond the per-minute limits; the limiter still runs (and is measured), it just never refuses. */
export async function unlimited(db: Db, partnerId: string): Promise<void> {
  for (const bucket of BUCKETS) await setPartnerLimit(db, partnerId, bucket, 1_000_000)
}

/** A test-mode token of the bench user for these teams (all of the tenant's by default). */
export async function createToken(db: Db, userId: string, teamIds?: string[]): Promise<string> {
  const token = await new TokenService({ db, clock: systemClock, onTokenChanged: () => {} }).create(userId, 'test', { name: 'bench', team_ids: teamIds }, null)
  return token.secret
}

export interface SeedOptions {
  name: string
  teams: number
  /** Listing j (1…listings) belongs to team (j - 1) mod teams. */
  listings: number
  /** Booking i (1…bookings) is of listing 1 + i mod listings, made i seconds before the seeding. */
  bookings: number
  /**
   * cancelled: every booking CANCELLED, stays overlapping freely (lists and reads);
   * calendar: the k-th booking of listing j stays 2 nights from day 7k + j mod 7 (after 2027-01-01),
   * so no two of a listing overlap; 9 in 10 CONFIRMED, the rest CANCELLED (availability).
   */
  pattern?: 'cancelled' | 'calendar'
}

export interface Tenant {
  partnerId: string
  userId: string
  teamIds: string[]
  listingIds: string[]
  /** The customer of each team, by team index. */
  customerIds: string[]
  bookings: number
  bookingId(i: number): string
  /** The index in teamIds of booking i's team. */
  teamOfBooking(i: number): number
  /** Deletes what the seeding inserted in bulk (bookings, their events, listings, customers). */
  drop(db: Db): Promise<void>
}

const BATCH = 200_000

export async function seedTenant(db: Db, options: SeedOptions): Promise<Tenant> {
  const { teams, listings, bookings } = options
  await migrate(db)
  const now = new Date()
  const partner = await insertPartner(db, options.name, now)
  const teamIds: string[] = []
  for (let t = 1; t <= teams; t++) teamIds.push((await insertTeam(db, partner.id, `Bench team ${t}`, now)).id)
  const user = await insertUser(db, { partnerId: partner.id, email: `bench-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@bench.example`, name: 'Bench', role: 'OWNER', teamIds }, now)
  await unlimited(db, partner.id)
  const p = partner.id.slice(4, 14)
  const listingId = (j: number) => `lst_b${p}${String(j).padStart(7, '0')}`
  const customerId = (t: number) => `cus_b${p}${String(t + 1).padStart(7, '0')}`
  await db.query(
    `INSERT INTO listings (id, partner_id, team_id, mode, name, state, country_code, province_code, city, line1, max_guests, bedrooms, nightly_rate_minor, currency, timezone, created_at, updated_at)
     SELECT 'lst_b' || $3 || lpad(j::text, 7, '0'), $1, ($2::text[])[1 + (j - 1) % $5], 'test', 'Bench villa ' || j, 'ACTIVE', 'VN', 'SG', 'HCMC', j || ' Le Loi',
       4, 2, 10000, 'USD', 'Asia/Ho_Chi_Minh', $6::timestamptz - j * interval '1 second', $6::timestamptz - j * interval '1 second'
     FROM generate_series(1, $4) AS j`,
    [partner.id, teamIds, p, listings, teams, now],
  )
  await db.query(
    `INSERT INTO customers (id, partner_id, team_id, mode, name, created_at, updated_at)
     SELECT 'cus_b' || $3 || lpad(t::text, 7, '0'), $1, ($2::text[])[t], 'test', 'Bench guest ' || t, now(), now() FROM generate_series(1, $4) AS t`,
    [partner.id, teamIds, p, teams],
  )
  // booking i: listing 1 + i % L, whose team is (i % L) % T
  const [status, checkIn] =
    options.pattern === 'calendar'
      ? [`CASE WHEN i % 10 = 0 THEN 'CANCELLED' ELSE 'CONFIRMED' END`, `date '2027-01-01' + (7 * (i / $4) + (1 + i % $4) % 7)`]
      : [`'CANCELLED'`, `date '2027-01-01' + (i % 300)`]
  for (let start = 1; start <= bookings; start += BATCH) {
    // a batch may outlast the pool's statement_timeout on a busy machine (the exclusion constraint's index)
    await db.transaction(async (tx) => {
      await tx.query('SET LOCAL statement_timeout = 0')
      await tx.query(
        `INSERT INTO bookings (id, partner_id, team_id, mode, listing_id, customer_id, status, check_in, check_out, guests, nights, nightly_rate_minor, total_minor, currency,
           hold_expires_at, confirmed_at, cancelled_at, cancellation_reason, created_at, updated_at)
         SELECT 'bkg_b' || $3 || lpad(i::text, 8, '0'), $1, ($2::text[])[1 + (i % $4) % $5], 'test', 'lst_b' || $3 || lpad((1 + i % $4)::text, 7, '0'),
           'cus_b' || $3 || lpad((1 + (i % $4) % $5)::text, 7, '0'), s.status, s.check_in, s.check_in + 2, 2, 2, 10000, 20000, 'USD',
           $6::timestamptz - interval '30 days', CASE WHEN s.status = 'CONFIRMED' THEN $6::timestamptz - interval '30 days' END,
           CASE WHEN s.status = 'CANCELLED' THEN $6::timestamptz - interval '29 days' END, CASE WHEN s.status = 'CANCELLED' THEN 'bench' END,
           $6::timestamptz - i * interval '1 second', $6::timestamptz - i * interval '1 second'
         FROM generate_series($7::int, $8::int) AS i, LATERAL (SELECT ${status} AS status, ${checkIn} AS check_in) s`,
        [partner.id, teamIds, p, listings, teams, now, start, Math.min(bookings, start + BATCH - 1)],
      )
    })
  }
  await db.query('ANALYZE listings')
  await db.query('ANALYZE customers')
  await db.query('ANALYZE bookings')
  return {
    partnerId: partner.id,
    userId: user.id,
    teamIds,
    listingIds: Array.from({ length: listings }, (_, j) => listingId(j + 1)),
    customerIds: teamIds.map((_, t) => customerId(t)),
    bookings,
    bookingId: (i) => `bkg_b${p}${String(i).padStart(8, '0')}`,
    teamOfBooking: (i) => (i % listings) % teams,
    async drop(db) {
      for (const table of ['events', 'idempotency_keys', 'bookings', 'customers', 'listings']) {
        await db.query(`DELETE FROM ${table} WHERE partner_id = $1`, [partner.id])
      }
    },
  }
}

/**
 * A cursor for the bookings list page after the row at `offset` (in the default -created_at order
 * of these teams), signed and bound as the server does for no filters: a deep page without
 * walking to it. Also the anchor row, for the bare baseline's keyset.
 */
export async function bookingsCursorAt(db: Db, partnerId: string, teamIds: string[], offset: number): Promise<{ cursor: string; created: string; id: string }> {
  const key = (await db.query<{ value: string }>(`SELECT value FROM server_secrets WHERE name = 'cursor_signing_key'`)).rows[0]!.value
  const { rows } = await db.query<{ k: string; id: string }>(
    `SELECT created_at::text AS k, id FROM bookings WHERE partner_id = $1 AND mode = 'test' AND team_id = ANY($2) ORDER BY created_at DESC, id DESC OFFSET $3 LIMIT 1`,
    [partnerId, teamIds, offset],
  )
  const anchor = rows[0]
  if (!anchor) throw new Error(`no booking at offset ${offset} of teams ${teamIds.join(', ')}`)
  // the binding planList computes for no filters and the default sort
  const binding = bindingOf(['bookings', partnerId, 'test', [...teamIds].sort(), {}, '-created_at'])
  return { cursor: new CursorCodec(key).encode({ key: anchor.k, id: anchor.id }, binding), created: anchor.k, id: anchor.id }
}
