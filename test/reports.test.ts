import type { LightMyRequestResponse } from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { reportRows } from '../src/modules/reports/repository.ts'
import { ReportService } from '../src/modules/reports/service.ts'
import { planPeriods } from '../src/modules/reports/periods.ts'
import { ManualClock, makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'
import { expectValidation } from './helpers/listings.ts'
import type { Json } from './helpers/listings.ts'
import { expectError } from './helpers/tokens.ts'
import { ContractChecker, loadDocument, operationsOf } from './fuzz/openapi-ops.ts'

/**
 * GET /v1/reports/{type} (API.md §10): every figure checked against totals computed here, in the
 * test, from what the list endpoints say (GET /v1/bookings, /v1/listings, /v1/teams), for each
 * report and grouping, in JSON and in CSV read back; then the errors, tenancy, permissions and the
 * CSV's quoting.
 *
 * Time: a ManualClock in 2031, far from the real clock, so that the hold sweeps other test files
 * run on a shared PostgreSQL never expire this file's holds (a lapsed hold here stays HELD in the
 * database and must read EXPIRED).
 */

const START = '2031-03-01T10:00:00.000Z'
const HOUR = 3_600_000
const DAY = 24 * HOUR

const address = { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' }
const money = (amount: string, currency: string) => ({ amount, currency })

interface World {
  h: TestApp
  clock: ManualClock
  t: Tenant
  listings: Record<'sea' | 'formula' | 'dune' | 'archived' | 'nook' | 'empty', Json>
}

async function ok(res: Promise<LightMyRequestResponse>, status = 200): Promise<Json> {
  const r = await res
  expect(r.statusCode, r.body).toBe(status)
  return r.body ? r.json() : {}
}

function helpers(h: TestApp, token: string) {
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>) => h.call(token, method, url, body, headers)
  return {
    call,
    listing: (team: string, name: string, rate: { amount: string; currency: string }) =>
      ok(call('POST', '/v1/listings', { team_id: team, name, address, max_guests: 4, bedrooms: 2, nightly_rate: rate, timezone: 'Asia/Ho_Chi_Minh' }), 201),
    customer: (team: string) => ok(call('POST', '/v1/customers', { team_id: team, name: 'An' }), 201),
    book: (listingId: string, customerId: string, checkIn: string, checkOut: string) => ok(call('POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: checkIn, check_out: checkOut, guests: 2 }), 201),
    act: (id: string, ...actions: ('confirm' | 'issue' | 'cancel')[]) =>
      actions.reduce<Promise<unknown>>((prev, action) => prev.then(() => ok(call('POST', `/v1/bookings/${id}:${action}`, action === 'cancel' ? { reason: 'guest asked' } : undefined))), Promise.resolve()),
  }
}

/**
 * One tenant (3 teams, test mode) with bookings in every status over March–May 2031, in USD, VND
 * and KWD (3 decimals); an archived listing and one never booked; another partner and the live mode
 * booking the same nights (never to be counted).
 */
async function seedWorld(): Promise<World> {
  const clock = new ManualClock(START)
  const h = await testApp({ clock, config: { holdMinutes: 15 } })
  const t = await makeTenant(h.db, { clock, teams: 3 })
  const [t0, t1, t2] = t.teamIds as [string, string, string]
  const a = helpers(h, t.token)
  const listings = {
    sea: await a.listing(t0, 'Villa, "Sea" view', money('100.00', 'USD')),
    formula: await a.listing(t0, '=HYPERLINK("x")', money('1500000', 'VND')),
    dune: await a.listing(t1, 'Dune', money('12.345', 'KWD')),
    archived: await a.listing(t1, '-Archived', money('80.00', 'USD')),
    nook: await a.listing(t2, 'Nook', money('900000', 'VND')),
    empty: await a.listing(t2, '@Empty', money('10.00', 'USD')),
  }
  const c = (await a.customer(t0)).id as string

  // March 1, 10:00 UTC
  const b1 = await a.book(listings.sea.id, c, '2031-04-01', '2031-04-04')
  await a.act(b1.id, 'confirm', 'issue')
  const b2 = await a.book(listings.formula.id, c, '2031-04-02', '2031-04-05')
  await a.act(b2.id, 'confirm')
  const old = await a.book(listings.archived.id, c, '2031-04-06', '2031-04-09')
  await a.act(old.id, 'confirm')
  // March 2, 23:50 UTC: the last minutes of a UTC day
  clock.set('2031-03-02T23:50:00.000Z')
  const b3 = await a.book(listings.dune.id, c, '2031-03-30', '2031-04-02')
  await a.act(b3.id, 'confirm')
  const b4 = await a.book(listings.sea.id, c, '2031-04-10', '2031-04-12')
  await a.act(b4.id, 'cancel')
  // March 3, 00:10 UTC
  clock.advance(20 * 60_000)
  const b5 = await a.book(listings.nook.id, c, '2031-04-20', '2031-05-03')
  await a.act(b5.id, 'confirm', 'issue')
  const lapsing = await a.book(listings.dune.id, c, '2031-04-15', '2031-04-17')
  clock.advance(16 * 60_000)
  // the lapsed hold reads EXPIRED; booking its nights again expires it in the database
  const lapsed = await a.book(listings.sea.id, c, '2031-04-15', '2031-04-17')
  const again = await a.book(listings.dune.id, c, '2031-04-15', '2031-04-16')
  await a.act(again.id, 'confirm', 'cancel')
  expect(lapsing.id).not.toBe(again.id)
  // March 9
  clock.set('2031-03-09T08:00:00.000Z')
  const b8 = await a.book(listings.formula.id, c, '2031-04-28', '2031-05-02')
  await a.act(b8.id, 'confirm', 'cancel')
  const b9 = await a.book(listings.sea.id, c, '2031-05-01', '2031-05-05')
  await a.act(b9.id, 'confirm')
  const b10 = await a.book(listings.nook.id, c, '2031-03-25', '2031-04-01')
  await a.act(b10.id, 'confirm')
  // archived after its booking: it still counts (bookings and available nights alike)
  await ok(a.call('DELETE', `/v1/listings/${listings.archived.id}`), 204)
  // a live hold at the time of the reports (the clock does not move again)
  clock.advance(HOUR)
  await a.book(listings.formula.id, c, '2031-04-10', '2031-04-11')
  expect(lapsed.status).toBe('HELD')

  // another partner, and the live mode of this one, book the same nights: never counted
  const other = await makeTenant(h.db, { clock, teams: 1 })
  const b = helpers(h, other.token)
  const ol = await b.listing(other.teamIds[0]!, 'Other', money('100.00', 'USD'))
  const oc = (await b.customer(other.teamIds[0]!)).id as string
  await b.act((await b.book(ol.id, oc, '2031-04-01', '2031-04-20')).id, 'confirm')
  const live = await t.addToken({ mode: 'live', name: 'live', expires_at: new Date(clock.now().getTime() + 300 * DAY).toISOString() })
  const l = helpers(h, live.token)
  const ll = await l.listing(t0, 'Live villa', money('100.00', 'USD'))
  const lc = (await l.customer(t0)).id as string
  await l.act((await l.book(ll.id, lc, '2031-04-01', '2031-04-20')).id, 'confirm')
  return { h, clock, t, listings }
}

// ---- the figures, computed here from the list endpoints

async function listAll(h: TestApp, token: string, path: string): Promise<Json[]> {
  const items: Json[] = []
  let cursor: string | null = null
  do {
    const page: Json = await ok(h.call(token, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`))
    items.push(...page.data)
    cursor = page.pagination?.has_more ? page.pagination.next_cursor : null
  } while (cursor)
  return items
}

interface Truth {
  bookings: Json[]
  listings: Json[]
  teams: Json[]
}

async function truthOf(h: TestApp, token: string, teamIds?: string[]): Promise<Truth> {
  const narrow = teamIds ? `?team_ids=${encodeURIComponent(JSON.stringify(teamIds))}` : ''
  const teams = (await ok(h.call(token, 'GET', '/v1/teams'))).data as Json[]
  return {
    bookings: await listAll(h, token, `/v1/bookings${narrow}`),
    listings: await listAll(h, token, `/v1/listings${narrow}`),
    teams: teams.filter((team) => !teamIds || teamIds.includes(team.id)),
  }
}

function datesOf(from: string, to: string): string[] {
  const dates: string[] = []
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += DAY) dates.push(new Date(ms).toISOString().slice(0, 10))
  return dates
}

/** ISO 8601 week (the usual "Thursday" algorithm), independently of the server's. */
function isoWeek(date: string): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7))
  const week = Math.ceil(((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY + 1) / 7)
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}

interface Ask {
  type: 'bookings-summary' | 'revenue' | 'occupancy'
  from: string
  to: string
  time: 'day' | 'week' | 'month' | null
  entity: 'team' | 'listing' | null
  currency?: string
}

function labelOf(date: string, ask: Ask): string {
  if (ask.time === 'day') return date
  if (ask.time === 'week') return isoWeek(date)
  if (ask.time === 'month') return date.slice(0, 7)
  return `${ask.from}/${ask.to}`
}

function periodsOf(ask: Ask): { period: string; period_start: string; period_end: string; dates: string[] }[] {
  const periods: { period: string; period_start: string; period_end: string; dates: string[] }[] = []
  for (const date of datesOf(ask.from, ask.to)) {
    const label = labelOf(date, ask)
    const last = periods[periods.length - 1]
    if (last?.period === label) {
      last.period_end = date
      last.dates.push(date)
    } else periods.push({ period: label, period_start: date, period_end: date, dates: [date] })
  }
  return periods
}

const minorOf = (amount: string) => BigInt(amount.replace('.', ''))
function amountOf(minor: bigint, decimals: number): string {
  const digits = minor.toString().padStart(decimals + 1, '0')
  return decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`
}
function rateOf(occupied: number, available: number): string {
  if (available === 0) return '0.0000'
  const tenThousandths = ((BigInt(occupied) * 100_000n) / BigInt(available) + 5n) / 10n
  return amountOf(tenThousandths, 4)
}

/** The rows the report must have, from the lists. */
function expected(truth: Truth, ask: Ask): Json[] {
  const periods = periodsOf(ask)
  const periodOf = (date: string) => periods.find((p) => p.period === labelOf(date, ask))!
  const entityOf = (item: Json) => (ask.entity === 'team' ? item.team_id : ask.entity === 'listing' ? (item.listing_id ?? item.id) : '')
  const entityColumns = (id: string): Json => {
    if (ask.entity === 'team') return { team_id: id, team_name: truth.teams.find((team) => team.id === id)!.name }
    if (ask.entity === 'listing') return { listing_id: id, listing_name: truth.listings.find((l) => l.id === id)!.name }
    return {}
  }
  const head = (p: { period: string; period_start: string; period_end: string }, id: string) => ({ period: p.period, period_start: p.period_start, period_end: p.period_end, ...entityColumns(id) })
  const inRange = (date: string) => date >= ask.from && date <= ask.to
  const live = (b: Json) => b.status === 'CONFIRMED' || b.status === 'ISSUED'
  const rows: Json[] = []

  if (ask.type === 'bookings-summary') {
    const groups = new Map<string, Json[]>()
    for (const b of truth.bookings.filter((b) => inRange(b.created_at.slice(0, 10)))) {
      const key = `${entityOf(b)}|${periodOf(b.created_at.slice(0, 10)).period_start}`
      groups.set(key, [...(groups.get(key) ?? []), b])
    }
    for (const [key, list] of groups) {
      const [id, start] = key.split('|') as [string, string]
      const count = (status: string) => list.filter((b) => b.status === status).length
      rows.push({
        ...head(periods.find((p) => p.period_start === start)!, id),
        bookings: list.length,
        held: count('HELD'),
        confirmed: count('CONFIRMED'),
        issued: count('ISSUED'),
        cancelled: count('CANCELLED'),
        expired: count('EXPIRED'),
        nights: list.filter(live).reduce((n, b) => n + b.price.nights, 0),
      })
    }
  } else if (ask.type === 'revenue') {
    const groups = new Map<string, Json[]>()
    for (const b of truth.bookings.filter((b) => live(b) && inRange(b.check_in) && (!ask.currency || b.price.total.currency === ask.currency))) {
      const key = `${entityOf(b)}|${periodOf(b.check_in).period_start}|${b.price.total.currency}`
      groups.set(key, [...(groups.get(key) ?? []), b])
    }
    for (const [key, list] of groups) {
      const [id, start, currency] = key.split('|') as [string, string, string]
      const decimals = (list[0]!.price.total.amount.split('.')[1] ?? '').length
      rows.push({
        ...head(periods.find((p) => p.period_start === start)!, id),
        currency,
        bookings: list.length,
        nights: list.reduce((n, b) => n + b.price.nights, 0),
        revenue: { amount: amountOf(list.reduce((sum, b) => sum + minorOf(b.price.total.amount), 0n), decimals), currency },
      })
    }
  } else {
    const entities = ask.entity === 'team' ? truth.teams.map((team) => team.id as string) : ask.entity === 'listing' ? truth.listings.map((l) => l.id as string) : ['']
    for (const id of entities) {
      const listings = ask.entity === null ? truth.listings.length : truth.listings.filter((l) => entityOf(l) === id).length
      const nights = truth.bookings.filter((b) => live(b) && (ask.entity === null || entityOf(b) === id)).flatMap((b) => datesOf(b.check_in, b.check_out).slice(0, -1))
      for (const p of periods) {
        const occupied = nights.filter((night) => p.dates.includes(night)).length
        const available = listings * p.dates.length
        rows.push({ ...head(p, id), listings, available_nights: available, occupied_nights: occupied, occupancy_rate: rateOf(occupied, available) })
      }
    }
  }
  const key = (r: Json) => `${r.team_id ?? r.listing_id ?? ''}|${r.period_start}|${r.currency ?? ''}`
  return rows.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0))
}

// ---- CSV read back (RFC 4180)

function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch !== '"') cell += ch
      else if (text[i + 1] === '"') {
        cell += '"'
        i++
      } else quoted = false
    } else if (ch === '"' && cell === '') {
      quoted = true
    } else if (ch === ',') {
      record.push(cell)
      cell = ''
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(cell)
      records.push(record)
      record = []
      cell = ''
      i++
    } else {
      expect(ch, `a bare ${JSON.stringify(ch)} outside quotes at ${i}`).not.toMatch(/[\r\n"]/)
      cell += ch
    }
  }
  expect(cell, 'the last record ends with CRLF').toBe('')
  return records
}

/** A JSON row as the CSV must have it: the amount for money, a formula-safe name. */
function csvOf(row: Json, columns: string[]): string[] {
  return columns.map((column) => {
    const value = row[column]
    if (value && typeof value === 'object') return value.amount
    const text = String(value)
    return (column === 'team_name' || column === 'listing_name') && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
  })
}

/** The query of an ask: group_by left out for the default (day), empty for none at all. */
function query(ask: Ask): string {
  const groupBy = [ask.entity, ask.time].filter(Boolean).join(',')
  return `from=${ask.from}&to=${ask.to}${groupBy === 'day' ? '' : `&group_by=${groupBy}`}${ask.currency ? `&currency=${ask.currency}` : ''}`
}

describe('report figures against the list endpoints', () => {
  let w: World
  let truth: Truth
  beforeAll(async () => {
    w = await seedWorld()
    truth = await truthOf(w.h, w.t.token)
  })

  const asks: Ask[] = []
  const spans = { 'bookings-summary': ['2031-03-01', '2031-03-31'], revenue: ['2031-04-01', '2031-04-30'], occupancy: ['2031-04-01', '2031-04-30'] } as const
  for (const type of ['bookings-summary', 'revenue', 'occupancy'] as const) {
    for (const [time, entity] of [['day', null], ['week', null], ['month', null], [null, null], [null, 'team'], [null, 'listing'], ['day', 'listing'], ['week', 'team'], ['month', 'listing']] as const) {
      asks.push({ type, from: spans[type][0], to: spans[type][1], time, entity })
    }
    asks.push({ type, from: '2031-03-01', to: '2031-05-31', time: 'week', entity: 'listing' })
  }
  asks.push({ type: 'revenue', from: '2031-03-01', to: '2031-05-31', time: 'month', entity: 'team', currency: 'VND' })

  for (const ask of asks) {
    it(`${ask.type} ${query(ask)}: JSON and CSV equal the lists' totals`, async () => {
      const rows = expected(truth, ask)
      expect(rows.length).toBeGreaterThan(0)
      const res = await w.h.call(w.t.token, 'GET', `/v1/reports/${ask.type}?${query(ask)}`)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
      const body = res.json()
      expect(body).toMatchObject({ report: ask.type, from: ask.from, to: ask.to, currency: ask.currency ?? null, team_ids: [...w.t.teamIds].sort(), generated_at: w.clock.now().toISOString() })
      expect(body.group_by).toEqual([ask.entity, ask.time].filter(Boolean))
      expect(body.data).toEqual(rows)

      const csv = await w.h.call(w.t.token, 'GET', `/v1/reports/${ask.type}?${query(ask)}`, undefined, { accept: 'text/csv' })
      expect(csv.statusCode, csv.body).toBe(200)
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
      const [header, ...records] = parseCsv(csv.body)
      const entityColumns = ask.entity === 'team' ? ['team_id', 'team_name'] : ask.entity === 'listing' ? ['listing_id', 'listing_name'] : []
      const figures = { 'bookings-summary': ['bookings', 'held', 'confirmed', 'issued', 'cancelled', 'expired', 'nights'], revenue: ['currency', 'bookings', 'nights', 'revenue'], occupancy: ['listings', 'available_nights', 'occupied_nights', 'occupancy_rate'] }[ask.type]
      expect(header).toEqual(['period', 'period_start', 'period_end', ...entityColumns, ...figures])
      expect(records).toEqual(rows.map((row) => csvOf(row, header!)))
    })
  }

  it('the world has what the checks need: every status, three currencies, lapsed holds read EXPIRED', () => {
    const statuses = new Set(truth.bookings.map((b) => b.status))
    expect([...statuses].sort()).toEqual(['CANCELLED', 'CONFIRMED', 'EXPIRED', 'HELD', 'ISSUED'])
    expect(new Set(truth.bookings.map((b) => b.price.total.currency))).toEqual(new Set(['USD', 'VND', 'KWD']))
    expect(truth.listings.map((l) => l.state)).toContain('ARCHIVED')
    expect(isoWeek('2026-05-07')).toBe('2026-W19')
    expect(isoWeek('2027-01-01')).toBe('2026-W53')
  })

  it('spot checks: KWD keeps 3 decimals, a stay across the range start counts only its nights inside, ISO weeks across a year end', async () => {
    const revenue = (await ok(w.h.call(w.t.token, 'GET', '/v1/reports/revenue?from=2031-03-30&to=2031-03-30&group_by=listing'))).data
    expect(revenue).toEqual([
      { period: '2031-03-30/2031-03-30', period_start: '2031-03-30', period_end: '2031-03-30', listing_id: w.listings.dune.id, listing_name: 'Dune', currency: 'KWD', bookings: 1, nights: 3, revenue: { amount: '37.035', currency: 'KWD' } },
    ])
    const occupancy = (await ok(w.h.call(w.t.token, 'GET', `/v1/reports/occupancy?from=2031-04-01&to=2031-04-07&group_by=listing&team_ids=${w.t.teamIds[1]}`))).data
    // dune: 2031-03-30 → 04-02 is 1 night inside; the archived listing: 04-06 → 04-09 is 2 nights inside
    const team1 = [
      [w.listings.dune.id, 'Dune', 1, 7, '0.1429'],
      [w.listings.archived.id, '-Archived', 2, 7, '0.2857'],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
    expect(occupancy.map((r: Json) => [r.listing_id, r.listing_name, r.occupied_nights, r.available_nights, r.occupancy_rate])).toEqual(team1)
    const weeks = (await ok(w.h.call(w.t.token, 'GET', '/v1/reports/occupancy?from=2030-12-28&to=2031-01-06&group_by=week'))).data
    expect(weeks.map((r: Json) => [r.period, r.period_start, r.period_end, r.available_nights])).toEqual([
      ['2030-W52', '2030-12-28', '2030-12-29', 12],
      ['2031-W01', '2030-12-30', '2031-01-05', 42],
      ['2031-W02', '2031-01-06', '2031-01-06', 6],
    ])
  })

  it('every answer keeps to the OpenAPI document: JSON rows of each report, CSV, and the errors', async () => {
    const doc = await loadDocument((o) => w.h.inject(o))
    const op = operationsOf(doc).find((o) => o.operationId === 'getReport')!
    const checker = new ContractChecker(doc)
    const urls = [
      '/v1/reports/bookings-summary?from=2031-03-01&to=2031-03-31&group_by=listing,week',
      '/v1/reports/revenue?from=2031-03-01&to=2031-05-31&group_by=team',
      '/v1/reports/occupancy?from=2031-04-01&to=2031-04-30&group_by=month,listing',
      '/v1/reports/occupancy.csv?from=2031-04-01&to=2031-04-30&group_by=listing',
      '/v1/reports/nope?from=2031-04-01&to=2031-04-30',
      '/v1/reports/revenue?from=2031-04-31&to=2031-04-30',
    ]
    for (const url of urls) {
      const res = await w.h.call(w.t.token, 'GET', url)
      expect(checker.check(op, res), url).toEqual([])
    }
    const res = await w.h.call(w.t.token, 'GET', urls[0]!, undefined, { accept: 'application/xml' })
    expect(checker.check(op, res)).toEqual([])
  })

  it('team_ids narrows the report to those teams', async () => {
    const teamIds = [w.t.teamIds[0]!, w.t.teamIds[2]!]
    const narrowed = await truthOf(w.h, w.t.token, teamIds)
    for (const type of ['bookings-summary', 'revenue', 'occupancy'] as const) {
      const ask: Ask = { type, from: '2031-03-01', to: '2031-05-31', time: 'month', entity: 'listing' }
      const body = await ok(w.h.call(w.t.token, 'GET', `/v1/reports/${type}?${query(ask)}&team_ids=${encodeURIComponent(JSON.stringify(teamIds))}`))
      expect(body.team_ids).toEqual([...teamIds].sort())
      expect(body.data).toEqual(expected(narrowed, ask))
    }
  })

  it('never counts another partner\'s bookings, nor the other mode\'s', async () => {
    const wide = 'from=2031-03-01&to=2031-05-31&group_by=team'
    const mine = (await ok(w.h.call(w.t.token, 'GET', `/v1/reports/occupancy?${wide}`))).data as Json[]
    expect(mine.reduce((n, r) => n + r.occupied_nights, 0)).toBe(expected(truth, { type: 'occupancy', from: '2031-03-01', to: '2031-05-31', time: null, entity: 'team' }).reduce((n, r) => n + r.occupied_nights, 0))
    // the live mode of the same user sees only its own live booking (19 nights), the test-mode ones never
    const live = await w.t.addToken({ mode: 'live', name: 'live reader', expires_at: new Date(w.clock.now().getTime() + 200 * DAY).toISOString() })
    const liveRows = (await ok(w.h.call(live.token, 'GET', `/v1/reports/occupancy?${wide}`))).data as Json[]
    expect(liveRows.reduce((n, r) => n + r.occupied_nights, 0)).toBe(19)
    expect(liveRows.reduce((n, r) => n + r.listings, 0)).toBe(1)
    const liveRevenue = (await ok(w.h.call(live.token, 'GET', '/v1/reports/revenue?from=2031-03-01&to=2031-05-31&group_by=listing'))).data
    expect(liveRevenue).toEqual([expect.objectContaining({ listing_name: 'Live villa', bookings: 1, nights: 19, revenue: { amount: '1900.00', currency: 'USD' } })])
    const liveSummary = (await ok(w.h.call(live.token, 'GET', '/v1/reports/bookings-summary?from=2031-03-01&to=2031-05-31&group_by=team'))).data
    expect(liveSummary.map((r: Json) => r.bookings)).toEqual([1])
  })

  it('a report grouped by listing walks the listings a page at a time: the pages add up to the one aggregate query', async () => {
    const scope = { partnerId: w.t.partnerId, mode: 'test' as const, teamIds: w.t.teamIds }
    for (const type of ['bookings-summary', 'revenue', 'occupancy'] as const) {
      for (const perPage of [1, 2, 4]) {
        const service = new ReportService({ db: w.h.db, clock: w.clock, listingsPerPage: perPage })
        const report = await service.open(scope, service.request(type, { from: '2031-03-01', to: '2031-05-31', group_by: 'listing,week' }))
        const paged: string[] = []
        for await (const runs of report.pages) {
          for (const run of runs) {
            for (let i = run.start; i < run.end; i++) paged.push(`${run.entity!.id} ${run.period(i).period} ${JSON.stringify([0, 1, 2].map((k) => run.figure(i, k)))}`)
          }
        }
        // the aggregate over every listing at once: a row per listing, its figures as arrays by period
        const plan = planPeriods('2031-03-01', '2031-05-31', 'week')
        const whole = await reportRows(w.h.db, scope, { type, from: '2031-03-01', to: '2031-05-31', plan, entity: 'listing', currency: null, now: w.clock.now() })
        expect(whole.map((e) => e.entity_id)).toEqual([...whole.map((e) => e.entity_id!)].sort())
        const first = (figures: string) => JSON.parse(figures)[type === 'revenue' ? 1 : 0]
        const counted = { 'bookings-summary': 'bookings', revenue: 'bookings', occupancy: 'listings' } as const
        expect(paged.map((r) => r.split(' ').slice(0, 2).join(' '))).toEqual(whole.flatMap((e) => Array.from(e.period ?? [], (p) => `${e.entity_id} ${plan.periods[p]!.period}`)))
        expect(paged.map((r) => first(r.split(' ')[2]!))).toEqual(
          whole.flatMap((e) => Array.from(e.period ?? [], (_, i) => (type === 'occupancy' ? e.listings : e[counted[type] as 'bookings']![i]))),
        )
        expect(paged.length).toBeGreaterThan(0)
      }
    }
  })
})

describe('CSV', () => {
  let w: World
  beforeAll(async () => {
    w = await seedWorld()
  })

  it('the .csv suffix: an attachment named after the report and range, a header row, RFC 4180 quoting, formula-safe names', async () => {
    const res = await w.h.call(w.t.token, 'GET', `/v1/reports/occupancy.csv?from=2031-04-01&to=2031-04-30&group_by=listing&team_ids=${w.t.teamIds[0]}`)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toBe('attachment; filename="occupancy-2031-04-01-2031-04-30.csv"')
    expect(res.headers.vary).toMatch(/Accept/)
    const lines = res.body.split('\r\n')
    expect(lines[0]).toBe('period,period_start,period_end,listing_id,listing_name,listings,available_nights,occupied_nights,occupancy_rate')
    expect(lines.at(-1)).toBe('')
    const byId = Object.fromEntries(lines.slice(1, -1).map((line) => [line.split(',')[3], line]))
    expect(byId[w.listings.sea.id]).toBe(`2031-04-01/2031-04-30,2031-04-01,2031-04-30,${w.listings.sea.id},"Villa, ""Sea"" view",1,30,3,0.1000`)
    expect(byId[w.listings.formula.id]).toBe(`2031-04-01/2031-04-30,2031-04-01,2031-04-30,${w.listings.formula.id},"'=HYPERLINK(""x"")",1,30,3,0.1000`)
    expect(parseCsv(res.body).slice(1).map((r) => r[4]).sort()).toEqual(["'=HYPERLINK(\"x\")", 'Villa, "Sea" view'])
  })

  it('Accept: text/csv on the plain path; JSON stays the default (no Accept, */*, application/json)', async () => {
    const url = `/v1/reports/revenue?from=2031-04-01&to=2031-04-30&group_by=listing,month`
    const csv = await w.h.call(w.t.token, 'GET', url, undefined, { accept: 'text/csv' })
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(csv.headers['content-disposition']).toBe('attachment; filename="revenue-2031-04-01-2031-04-30.csv"')
    const records = parseCsv(csv.body)
    expect(records[0]).toEqual(['period', 'period_start', 'period_end', 'listing_id', 'listing_name', 'currency', 'bookings', 'nights', 'revenue'])
    expect(records.find((r) => r[3] === w.listings.nook.id)).toEqual(['2031-04', '2031-04-01', '2031-04-30', w.listings.nook.id, 'Nook', 'VND', '1', '13', '11700000'])
    // dune's stay checks in on March 30: its revenue is March's
    expect(records.find((r) => r[3] === w.listings.dune.id)).toBeUndefined()
    expect(records.find((r) => r[3] === w.listings.archived.id)).toEqual(['2031-04', '2031-04-01', '2031-04-30', w.listings.archived.id, "'-Archived", 'USD', '1', '3', '240.00'])
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/csv;q=0.5']) {
      const res = await w.h.call(w.t.token, 'GET', url, undefined, accept ? { accept } : {})
      expect(res.headers['content-type'], accept).toBe('application/json; charset=utf-8')
      expect(res.json().report).toBe('revenue')
    }
    expect((await w.h.call(w.t.token, 'GET', url, undefined, { accept: 'text/csv, application/json;q=0.5' })).headers['content-type']).toBe('text/csv; charset=utf-8')
    // .json is the JSON alias of every v1 path
    expect((await w.h.call(w.t.token, 'GET', url.replace('revenue?', 'revenue.json?'))).json().report).toBe('revenue')
  })

  it('HEAD answers like GET, without the body', async () => {
    const res = await w.h.call(w.t.token, 'HEAD', '/v1/reports/occupancy.csv?from=2031-04-01&to=2031-04-30&group_by=listing')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.body).toBe('')
  })

  it('an Accept that allows neither JSON nor CSV is a 406, and so is a .csv path whose Accept refuses CSV', async () => {
    const q = '?from=2031-04-01&to=2031-04-30'
    const error = expectError(await w.h.call(w.t.token, 'GET', `/v1/reports/occupancy${q}`, undefined, { accept: 'application/xml' }), 406, 'NOT_ACCEPTABLE')
    expect(error.details).toEqual({ available: ['application/json', 'text/csv'] })
    expectError(await w.h.call(w.t.token, 'GET', `/v1/reports/occupancy.csv${q}`, undefined, { accept: 'application/xml' }), 406, 'NOT_ACCEPTABLE')
    expectError(await w.h.call(w.t.token, 'GET', `/v1/reports/occupancy.csv${q}`, undefined, { accept: 'application/json' }), 406, 'NOT_ACCEPTABLE')
    expect((await w.h.call(w.t.token, 'GET', `/v1/reports/occupancy.csv${q}`, undefined, { accept: 'text/*' })).statusCode).toBe(200)
  })
})

describe('errors, tenancy and permissions', () => {
  let h: TestApp
  let t: Tenant
  beforeAll(async () => {
    const clock = new ManualClock(START)
    h = await testApp({ clock })
    t = await makeTenant(h.db, { clock, teams: 2 })
  })
  const get = (url: string, token = t.token) => h.call(token, 'GET', url)

  it('an unknown report is a 404 naming the available ones, whatever its query', async () => {
    for (const url of ['/v1/reports/bookings?from=2031-01-01&to=2031-01-31', '/v1/reports/nope.csv?from=2031-01-01', '/v1/reports/Revenue?group_by=year']) {
      const error = expectError(await get(url), 404, 'NOT_FOUND')
      expect(error.details).toEqual({ resource: 'report', available_types: ['bookings-summary', 'revenue', 'occupancy'] })
      expect(error.message).toMatch(/bookings-summary, revenue, occupancy/)
    }
  })

  it('every problem with the query at once, before anything is streamed, each naming its field', async () => {
    const r = '/v1/reports/revenue'
    expectValidation(await get(`${r}?from=2031-02-01&to=2031-01-31`), ['to'])
    expect((await get(`${r}?from=2031-01-31&to=2031-01-31`)).statusCode).toBe(200)
    expectValidation(await get(`${r}?from=2031-01-01&to=2032-01-02`), ['to'])
    expect((await get(`${r}?from=2031-01-01&to=2032-01-01`)).statusCode).toBe(200)
    expectValidation(await get(`${r}?from=2031-01-01&to=2031-01-31&group_by=year`), ['group_by'])
    expectValidation(await get(`${r}?from=2031-01-01&to=2031-01-31&group_by=day,week`), ['group_by'])
    expectValidation(await get(`${r}?from=2031-01-01&to=2031-01-31&group_by=day&group_by=month`), ['group_by'])
    expectValidation(await get(`${r}?from=2031-01-01&to=2031-01-31&group_by=team,listing`), ['group_by'])
    expectValidation(await get(`${r}?from=2031-01-01&to=2031-01-31&group_by=day,year`), ['group_by'])
    // an empty group_by groups by nothing: one row for the whole range
    expect((await ok(get(`/v1/reports/occupancy?from=2031-01-01&to=2031-01-31&group_by=`))).data.map((row: Json) => row.period)).toEqual(['2031-01-01/2031-01-31'])
    expectValidation(await get(`/v1/reports/occupancy?from=2031-01-01&to=2031-01-31&currency=USD`), ['currency'])
    expectValidation(await get(`/v1/reports/bookings-summary.csv?from=2031-01-01&to=2031-01-31&currency=USD`), ['currency'])
    expectValidation(await get(`${r}?from=2031-01-01&to=2031-01-31&currency=XYZ`), ['currency'])
    expectValidation(await get(`${r}?from=2031-02-30&to=tomorrow`), ['from', 'to'])
    expectValidation(await get(`${r}?from=20310101&to=2031-1-31`), ['from', 'to'])
    expectValidation(await get(`${r}?to=2031-01-31`), ['from'])
    expectValidation(await get(`${r}`), ['from', 'to'])
    // the schema's findings and the report's own come together
    const all = await get('/v1/reports/occupancy?to=2031-13-01&group_by=week,month&currency=usd&limit=5')
    expectValidation(all, ['from', 'to', 'group_by', 'currency', 'limit'])
    expect(all.json().error.details.fields.find((f: Json) => f.field === 'from').code).toBe('required')
    expect(all.headers['content-type']).toMatch(/^application\/json/)
    // group_by with both dimensions, in either order and repeated
    expect((await get(`${r}?from=2031-01-01&to=2031-01-31&group_by=listing,day`)).statusCode).toBe(200)
    expect((await get(`${r}?from=2031-01-01&to=2031-01-31&group_by=week&group_by=team`)).json().group_by).toEqual(['week', 'team'])
  })

  it('team_ids outside the token is a 400 INVALID_TEAM_IDS naming them; an empty scope is an empty report', async () => {
    const other = await makeTenant(h.db, { teams: 1 })
    const error = expectError(await get(`/v1/reports/occupancy?from=2031-01-01&to=2031-01-31&team_ids=${encodeURIComponent(JSON.stringify([t.teamIds[0], other.teamIds[0]]))}`), 400, 'INVALID_TEAM_IDS')
    expect(error.details).toEqual({ invalid_team_ids: [other.teamIds[0]] })
    expectError(await get(`/v1/reports/revenue.csv?from=2031-01-01&to=2031-01-31&team_ids=${other.teamIds[0]}`), 400, 'INVALID_TEAM_IDS')
    // no listings, no bookings: zeros for occupancy, no rows for the others
    const occupancy = await ok(get(`/v1/reports/occupancy?from=2031-01-01&to=2031-01-02&team_ids=${t.teamIds[1]}`))
    expect(occupancy.data).toEqual([
      { period: '2031-01-01', period_start: '2031-01-01', period_end: '2031-01-01', listings: 0, available_nights: 0, occupied_nights: 0, occupancy_rate: '0.0000' },
      { period: '2031-01-02', period_start: '2031-01-02', period_end: '2031-01-02', listings: 0, available_nights: 0, occupied_nights: 0, occupancy_rate: '0.0000' },
    ])
    expect((await ok(get('/v1/reports/revenue?from=2031-01-01&to=2031-01-31&group_by=listing'))).data).toEqual([])
    const csv = await get('/v1/reports/bookings-summary.csv?from=2031-01-01&to=2031-01-31')
    expect(csv.body).toBe('period,period_start,period_end,bookings,held,confirmed,issued,cancelled,expired,nights\r\n')
  })

  it('report.read: an ACCOUNTANT or a VIEWER may, a TRAVEL_AGENT may not; a token without the scope may not', async () => {
    const url = '/v1/reports/revenue?from=2031-01-01&to=2031-01-31'
    for (const role of ['ACCOUNTANT', 'VIEWER', 'ADMIN'] as const) {
      const res = await get(url, (await t.addUser(role)).token)
      expect(res.statusCode, `${role}: ${res.body}`).toBe(200)
    }
    const agent = (await t.addUser('TRAVEL_AGENT')).token
    for (const path of [url, url.replace('revenue', 'revenue.csv'), url.replace('revenue', 'nope')]) {
      const error = expectError(await get(path, agent), 403, 'PERMISSION_DENIED')
      expect(error.details).toEqual({ required_permission: 'report.read' })
    }
    const scoped = await t.addToken({ name: 'bookings only', scopes: ['booking.read'] })
    expect(expectError(await get(url, scoped.token), 403, 'PERMISSION_DENIED').details).toEqual({ required_permission: 'report.read' })
    expectError(await h.call(null, 'GET', url), 401, 'UNAUTHENTICATED')
  })

  it('is in the OpenAPI document: both media types, the definitions, the permission', async () => {
    const doc = (await h.inject({ method: 'GET', url: '/openapi.json' })).json()
    const op = doc.paths['/v1/reports/{type}'].get
    expect(op.operationId).toBe('getReport')
    expect(op['x-required-permissions']).toEqual(['report.read'])
    expect(Object.keys(op.responses['200'].content).sort()).toEqual(['application/json', 'text/csv'])
    expect(op.description).toMatch(/check_in ≤ d < check_out/)
    expect(op.description).toMatch(/ISO week/)
    expect(op.parameters.map((p: Json) => p.name).sort()).toEqual(['currency', 'from', 'group_by', 'mock', 'team_ids', 'to', 'type'])
    expect(op.responses['404']).toBeDefined()
    expect(op.responses['406']).toBeDefined()
  })
})
