import { typeidUnboxed } from 'typeid-js'
import { BUCKETS } from '../../src/modules/limits/buckets.ts'
import { setPartnerLimit } from '../../src/modules/limits/repository.ts'
import { makeTenant } from '../helpers/harness.ts'
import type { Tenant, TestApp } from '../helpers/harness.ts'

/**
 * A tenant with real data made through the API (listings, customers, bookings in several
 * statuses, extra tokens, the events all of that produced), so that generated requests can name
 * real resources and valid requests can succeed.
 */

/** A path's collection segment → the id prefix of the resource it names. */
export const COLLECTION_PREFIX: Record<string, string> = {
  listings: 'lst',
  customers: 'cus',
  bookings: 'bkg',
  tokens: 'tok',
  events: 'evt',
  teams: 'team',
  invoices: 'inv',
  payments: 'pay',
  webhooks: 'whk',
  'webhook-deliveries': 'dlv',
}

/** The prefix of the resource named by {id} in a path: the segment before it. */
export function idPrefixOf(path: string): string | undefined {
  // /v1/bookings/{id}, and the External API's /api/v1/external/bookings/{id}
  const m = /\/v\d+\/(?:external\/)?([a-z-]+)\/\{id\}/.exec(path)
  return m ? COLLECTION_PREFIX[m[1]!] : undefined
}

/** A well-formed id that names nothing. */
export function unknownId(prefix: string): string {
  return typeidUnboxed(prefix)
}

export const HIGH_LIMIT = 1_000_000

export async function raiseLimits(h: TestApp, partnerId: string): Promise<void> {
  for (const bucket of BUCKETS) await setPartnerLimit(h.db, partnerId, bucket, HIGH_LIMIT)
}

export function isoDate(daysFromNow: number): string {
  return new Date(Date.now() + daysFromNow * 86_400_000).toISOString().slice(0, 10)
}

export function listingBody(teamId: string, n: number): Record<string, unknown> {
  return {
    team_id: teamId,
    name: `Fuzz villa ${n}`,
    description: 'Sea view',
    address: { country_code: 'VN', province_code: 'SG', city: 'Ho Chi Minh City', line1: `${n} Nguyen Hue` },
    max_guests: 6,
    bedrooms: 3,
    nightly_rate: { amount: '120.00', currency: 'USD' },
    timezone: 'Asia/Ho_Chi_Minh',
  }
}

export function customerBody(teamId: string, n: number): Record<string, unknown> {
  return { team_id: teamId, name: `Fuzz customer ${n}`, email: `c${n}@example.com`, phone: '+84901234567', language: 'vi', country_code: 'VN' }
}

let stayCounter = 0
/** Distinct future stays, so bookings made here never overlap one another (aheadDays: the tenant's test clock, when it was advanced). */
export function nextStay(nights = 2, aheadDays = 0): { check_in: string; check_out: string } {
  const start = 400 + aheadDays + 5 * stayCounter++
  return { check_in: isoDate(start), check_out: isoDate(start + nights) }
}

/** Requests the fixtures sent (reported beside the fuzz requests). */
export const fixtureStats = { requests: 0 }

async function post(h: TestApp, token: string, url: string, body: unknown, expected = 201): Promise<Record<string, unknown> & { id: string }> {
  fixtureStats.requests++
  const res = await h.call(token, 'POST', url, body)
  if (res.statusCode !== expected) throw new Error(`fixture POST ${url} → ${res.statusCode}: ${res.body.slice(0, 500)}`)
  return res.statusCode === 204 ? { id: '' } : (res.json() as Record<string, unknown> & { id: string })
}

export interface World {
  h: TestApp
  t: Tenant
  /** the OWNER test-mode token the requests are sent with */
  token: string
  /** real ids by prefix (tokens: never the calling one) */
  ids: Record<string, string[]>
}

let worldCounter = 0

/** Creates resources through the API as `token` (an OWNER of the tenant). */
export async function createResources(h: TestApp, token: string, teamIds: string[]): Promise<Record<string, string[]>> {
  const n = ++worldCounter * 100
  const ids: Record<string, string[]> = { lst: [], cus: [], bkg: [], evt: [], team: [...teamIds], tok: [] }
  for (let i = 0; i < 3; i++) ids.lst!.push((await post(h, token, '/v1/listings', listingBody(teamIds[i % teamIds.length]!, n + i))).id)
  for (let i = 0; i < 3; i++) ids.cus!.push((await post(h, token, '/v1/customers', customerBody(teamIds[i % teamIds.length]!, n + i))).id)
  // the fuzzing of POST /v1/test-clock:advance moves the tenant's test time ahead: stays stay in its future
  fixtureStats.requests++
  const testClock = await h.call(token, 'GET', '/v1/test-clock')
  const aheadDays = testClock.statusCode === 200 ? Math.ceil((testClock.json() as { offset_seconds: number }).offset_seconds / 86_400) : 0
  const book = async (i: number) => (await post(h, token, '/v1/bookings', { listing_id: ids.lst![i % 3], customer_id: ids.cus![i % 3], guests: 2, ...nextStay(2, aheadDays) })).id as string
  const held = await book(0)
  const confirmed = await book(1)
  await post(h, token, `/v1/bookings/${confirmed}:confirm`, undefined, 200)
  const issued = await book(2)
  await post(h, token, `/v1/bookings/${issued}:confirm`, undefined, 200)
  await post(h, token, `/v1/bookings/${issued}:issue`, undefined, 200)
  const cancelled = await book(0)
  await post(h, token, `/v1/bookings/${cancelled}:cancel`, { reason: 'fixture' }, 200)
  ids.bkg!.push(held, confirmed, issued, cancelled)
  fixtureStats.requests++
  const events = await h.call(token, 'GET', '/v1/events?limit=20')
  if (events.statusCode !== 200) throw new Error(`fixture GET /v1/events → ${events.statusCode}: ${events.body.slice(0, 300)}`)
  ids.evt!.push(...(events.json().data as { id: string }[]).slice(0, 5).map((e) => e.id))
  return ids
}

/** A fresh OWNER tenant (test mode, two teams), limits raised, with real data and spare tokens. */
export async function makeWorld(h: TestApp): Promise<World> {
  const t = await makeTenant(h.db, { role: 'OWNER', teams: 2 })
  await raiseLimits(h, t.partnerId)
  const ids = await createResources(h, t.token, t.teamIds)
  for (let i = 0; i < 3; i++) ids.tok!.push((await t.addToken({ name: `spare ${i}` })).tokenId)
  return { h, t, token: t.token, ids }
}
