import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import { ManualClock, makeTenant, testApp } from './harness.ts'
import type { Tenant, TestApp } from './harness.ts'

/**
 * Shared by the bookings-*.test.ts files: a world (an app on a ManualClock with one tenant, a
 * listing and a customer), the calls on bookings and the checks of their answers. START is in 2031,
 * far from the real clock: see the top of bookings-lifecycle.test.ts (hold sweeps on a shared
 * PostgreSQL).
 */

export const START = '2031-03-01T10:00:00.000Z'
export const HOLD_MS = 15 * 60_000
/** A night of April 2031. */
export const apr = (d: number) => `2031-04-${String(d).padStart(2, '0')}`

export const LISTING = {
  name: 'Villa',
  address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
  max_guests: 4,
  bedrooms: 2,
  nightly_rate: { amount: '100.00', currency: 'USD' },
  timezone: 'Asia/Ho_Chi_Minh',
}

export interface World {
  h: TestApp
  clock: ManualClock
  t: Tenant
  listingId: string
  customerId: string
}

export async function createListing(h: TestApp, token: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call(token, 'POST', '/v1/listings', { ...LISTING, ...overrides })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

export async function createCustomer(h: TestApp, token: string, name = 'An'): Promise<string> {
  const res = await h.call(token, 'POST', '/v1/customers', { name })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

export async function world(start: string | Date = START): Promise<World> {
  const clock = new ManualClock(start)
  const h = await testApp({ clock, config: { holdMinutes: 15 } })
  const t = await makeTenant(h.db, { clock, teams: 1 })
  return { h, clock, t, listingId: await createListing(h, t.token), customerId: await createCustomer(h, t.token) }
}

export function book(w: World, checkIn: string, checkOut: string, extra: Record<string, unknown> = {}, token = w.t.token): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', '/v1/bookings', { listing_id: w.listingId, customer_id: w.customerId, check_in: checkIn, check_out: checkOut, guests: 2, ...extra })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function booked(w: World, checkIn: string, checkOut: string, extra: Record<string, unknown> = {}, token = w.t.token): Promise<any> {
  const res = await book(w, checkIn, checkOut, extra, token)
  // on a 5xx, the server's log says why
  expect(res.statusCode, res.statusCode >= 500 ? w.h.logs.lines.filter((l) => l.includes('"level":50')).join('\n') : res.body).toBe(201)
  return res.json()
}

export function act(w: World, id: string, action: 'confirm' | 'issue' | 'cancel', token = w.t.token): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', `/v1/bookings/${id}:${action}`, action === 'cancel' ? { reason: 'guest asked' } : undefined)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function get(w: World, id: string, token = w.t.token): Promise<any> {
  const res = await w.h.call(token, 'GET', `/v1/bookings/${id}`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expectError(res: LightMyRequestResponse, status: number, code: string): any {
  expect(res.statusCode, res.body).toBe(status)
  const error = res.json().error
  expect(error.code, res.body).toBe(code)
  expect(error.request_id).toBe(res.headers['x-request-id'])
  return error
}

export function expectFieldError(res: LightMyRequestResponse, ...fields: string[]): void {
  const error = expectError(res, 400, 'VALIDATION_ERROR')
  const named = (error.details.fields as { field: string }[]).map((f) => f.field)
  for (const field of fields) expect(named, res.body).toContain(field)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function eventsOf(w: World, bookingId: string, types: string): Promise<any[]> {
  const res = await w.h.call(w.t.token, 'GET', `/v1/events?limit=100&event_type=${types}`)
  expect(res.statusCode, res.body).toBe(200)
  return (res.json().data as { data: { id: string }; sequence: number }[]).filter((e) => e.data.id === bookingId).sort((a, b) => a.sequence - b.sequence)
}

export async function liveBookingsInDb(w: World, listingId = w.listingId): Promise<number> {
  const { rows } = await w.h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE listing_id = $1 AND status IN ('HELD', 'CONFIRMED', 'ISSUED')`, [listingId])
  return rows[0]!.n
}
