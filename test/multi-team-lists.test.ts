import { beforeAll, describe, expect, it } from 'vitest'
import { BOOKING_COLUMNS } from '../src/modules/bookings/repository.ts'
import { pageSql } from '../src/platform/keyset.ts'
import type { ListPlan, Scope } from '../src/platform/keyset.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * A token over several teams pages by walking each team's index in order (the audit: 180 ms a
 * page and 4 req/s with 200,000 bookings in one of two teams, because team_id = ANY(…) ORDER BY
 * sorted every row). Correctness: the merged pages are exactly the global order. Cost, without a
 * timer: EXPLAIN ANALYZE shows every scan reading about a page per team, not the team's rows.
 */
const BIG = 3_000
const SMALL = 40
let h: TestApp
let t: Tenant
let expected: string[]

beforeAll(async () => {
  h = await testApp()
  t = await makeTenant(h.db, { teams: 3 })
  const [big, small] = t.teamIds
  for (const [team, count, offsetSeconds] of [[big, BIG, 0], [small, SMALL, 7]] as const) {
    const listing = await h.call(t.token, 'POST', '/v1/listings', {
      team_id: team, name: `Team villa ${team}`, description: '', state: 'ACTIVE', max_guests: 4, bedrooms: 1,
      nightly_rate: { amount: '10.00', currency: 'USD' }, timezone: 'UTC', address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1' },
    })
    const customer = await h.call(t.token, 'POST', '/v1/customers', { team_id: team, name: 'Bulk' })
    const template = await h.call(t.token, 'POST', '/v1/bookings', { listing_id: listing.json().id, customer_id: customer.json().id, check_in: '2035-01-01', check_out: '2035-01-02', guests: 1 })
    expect(template.statusCode, template.body).toBe(201)
    // cancelled copies (no overlap constraint), one a few seconds apart, interleaving the two teams
    await h.db.query(
      `INSERT INTO bookings (id, partner_id, team_id, mode, listing_id, customer_id, status, check_in, check_out, guests, nights, nightly_rate_minor, total_minor,
         currency, hold_expires_at, cancelled_at, cancellation_reason, version, created_at, updated_at)
       SELECT b.id || '_' || g, b.partner_id, b.team_id, b.mode, b.listing_id, b.customer_id, 'CANCELLED', b.check_in, b.check_out, b.guests, b.nights,
         b.nightly_rate_minor, b.total_minor, b.currency, b.hold_expires_at, b.created_at, 'bulk', 1,
         b.created_at - make_interval(secs => g * 10 + $2), b.created_at - make_interval(secs => g * 10 + $2)
       FROM bookings b, generate_series(1, $3::int) g WHERE b.id = $1`,
      [template.json().id, offsetSeconds, count],
    )
  }
  const { rows } = await h.db.query<{ id: string }>(`SELECT id FROM bookings WHERE partner_id = $1 ORDER BY created_at DESC, id DESC`, [t.partnerId])
  expected = rows.map((r) => r.id)
  expect(expected.length).toBe(BIG + SMALL + 2)
  await h.db.query('ANALYZE bookings')
})

describe('lists for a token of several teams', () => {
  it('pages through the merged order exactly: first page, every page, no row skipped or repeated', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await h.call(t.token, 'GET', `/v1/bookings?limit=100&fields=id${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      seen.push(...res.json().data.map((b: { id: string }) => b.id))
      cursor = res.json().pagination.next_cursor
      pages++
    } while (cursor && pages < 100)
    expect(seen).toEqual(expected)
  })

  it('ascending and by check_in too', async () => {
    const asc = await h.call(t.token, 'GET', '/v1/bookings?limit=30&sort=created_at&fields=id')
    expect(asc.json().data.map((b: { id: string }) => b.id)).toEqual([...expected].reverse().slice(0, 30))
    const byCheckIn = await h.call(t.token, 'GET', '/v1/bookings?limit=30&sort=-check_in&fields=id,check_in')
    expect(byCheckIn.statusCode).toBe(200)
    expect(byCheckIn.json().data).toHaveLength(30)
  })

  it('a token of some of the teams pages through the merged order of those teams only', async () => {
    const two = t.teamIds.slice(0, 2)
    const { rows } = await h.db.query<{ id: string }>(`SELECT id FROM bookings WHERE partner_id = $1 AND team_id = ANY($2) ORDER BY created_at DESC, id DESC`, [t.partnerId, two])
    const { token } = await t.addToken({ team_ids: two })
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await h.call(token, 'GET', `/v1/bookings?limit=100&fields=id${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      expect(res.statusCode, res.body).toBe(200)
      seen.push(...res.json().data.map((b: { id: string }) => b.id))
      cursor = res.json().pagination.next_cursor
    } while (cursor)
    expect(seen).toEqual(rows.map((r) => r.id))
  })

  it('a token of every team walks the partner-wide index once, reading one page; the team filter stays', async () => {
    const deep = expected[2_500]!
    const { rows: anchor } = await h.db.query<{ key: string }>('SELECT created_at::text AS key FROM bookings WHERE id = $1', [deep])
    for (const after of [null, { key: anchor[0]!.key, id: deep }]) {
      const plan: ListPlan = { limit: 50, column: 'b.created_at', type: 'timestamptz', desc: true, after, binding: '', fields: null }
      const params: unknown[] = []
      const sql = pageSql({ from: 'bookings b', alias: 'b', columns: BOOKING_COLUMNS, scope: { partnerId: t.partnerId, mode: 'test', teamIds: t.teamIds, wholePartner: true }, filters: '', params, plan })
      const { rows } = await h.db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)
      const raw = rows[0]!['QUERY PLAN']
      const tree = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[]
      const scanned = scans(tree[0]!.Plan)
      expect(scanned, JSON.stringify(tree)).toHaveLength(1)
      expect(scanned[0]!.rows, JSON.stringify(tree)).toBeLessThanOrEqual(51)
    }
    // a stale hint (a team was added after the token was cached) never widens the scope
    const params: unknown[] = []
    const plan: ListPlan = { limit: 100, column: 'b.created_at', type: 'timestamptz', desc: true, after: null, binding: '', fields: null }
    const sql = pageSql({ from: 'bookings b', alias: 'b', columns: BOOKING_COLUMNS, scope: { partnerId: t.partnerId, mode: 'test', teamIds: [t.teamIds[1]!], wholePartner: true }, filters: '', params, plan })
    const { rows } = await h.db.query<{ team_id: string }>(sql, params)
    expect(rows.length).toBe(SMALL + 1)
    expect(new Set(rows.map((r) => r.team_id))).toEqual(new Set([t.teamIds[1]]))
  })

  it('a page reads about a page per team, not every row of the big team (EXPLAIN ANALYZE)', async () => {
    const scope: Scope = { partnerId: t.partnerId, mode: 'test', teamIds: t.teamIds }
    // a database of many small tenants (the test database on PostgreSQL is one) once made the
    // planner sort a big team whole: each team's walk must stay in its index, in order
    const deep = expected[2_500]!
    const { rows: anchor } = await h.db.query<{ key: string }>('SELECT created_at::text AS key FROM bookings WHERE id = $1', [deep])
    for (const after of [null, { key: anchor[0]!.key, id: deep }]) {
      const plan: ListPlan = { limit: 50, column: 'b.created_at', type: 'timestamptz', desc: true, after, binding: '', fields: null }
      const params: unknown[] = []
      const sql = pageSql({ from: 'bookings b', alias: 'b', columns: BOOKING_COLUMNS, scope, filters: '', params, plan })
      const { rows } = await h.db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)
      const raw = rows[0]!['QUERY PLAN']
      const tree = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[]
      const scanned = scans(tree[0]!.Plan)
      expect(scanned.length, JSON.stringify(tree)).toBeGreaterThan(0)
      for (const node of scanned) {
        // each team's walk stops after limit + 1 rows
        expect(node.rows, `${node.type} read ${node.rows} rows (${after ? 'deep page' : 'first page'}): ${JSON.stringify(tree)}`).toBeLessThanOrEqual(51)
      }
    }
  })
})

interface PlanNode {
  'Node Type': string
  'Actual Rows': number
  'Actual Loops': number
  Plans?: PlanNode[]
}

function scans(node: PlanNode): { type: string; rows: number }[] {
  const own = /Scan/.test(node['Node Type']) && node['Node Type'] !== 'Function Scan' ? [{ type: node['Node Type'], rows: node['Actual Rows'] * node['Actual Loops'] }] : []
  return [...own, ...(node.Plans ?? []).flatMap(scans)]
}
