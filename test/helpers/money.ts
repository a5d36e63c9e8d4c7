import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import type { Mode } from '../../src/config.ts'
import { LISTING, expectError } from './bookings.ts'
import { ManualClock, makeTenant, testApp } from './harness.ts'
import type { Tenant, TestApp } from './harness.ts'

/**
 * Shared by invoices.test.ts and payments.test.ts: a money world (an app on a ManualClock in 2031,
 * a fresh partner with its token and a customer), the calls on invoices and payments, and the
 * checks of their answers. Every world is its own partner, so invoice numbers start at 000001.
 *
 * Time: START is in 2031, far from the real clock (see bookings-lifecycle.test.ts: hold sweeps on a
 * shared PostgreSQL database); the clock never moves unless a test moves it, so TODAY is "today".
 */

export const START = '2031-03-01T10:00:00.000Z'
export const TODAY = '2031-03-01'
export const YEAR = '2031'
/** A night of April 2031. */
export const apr = (d: number) => `2031-04-${String(d).padStart(2, '0')}`
/** A day of March 2031. */
export const mar = (d: number) => `2031-03-${String(d).padStart(2, '0')}`

export interface Money {
  amount: string
  currency: string
}
export const usd = (amount: string): Money => ({ amount, currency: 'USD' })
export const money = (amount: string, currency: string): Money => ({ amount, currency })
/** The invoice number with this sequence in YEAR. */
export const number = (n: number, year = YEAR) => `INV-${year}-${String(n).padStart(6, '0')}`

export interface MoneyWorld {
  h: TestApp
  clock: ManualClock
  t: Tenant
  customerId: string
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any

let keys = 0
/** A key unique to this run (the PostgreSQL database outlives runs; keys are scoped per partner anyway). */
export const newKey = (label = 'pay') => `${label}-${process.pid}-${Date.now()}-${++keys}`

/** A fresh partner (teams, token of `role`, in `mode`) and a customer of its first team, on a new app unless one is given. */
export async function moneyWorld(options: { mode?: Mode; teams?: number; h?: TestApp; clock?: ManualClock; start?: string } = {}): Promise<MoneyWorld> {
  const clock = options.clock ?? new ManualClock(options.start ?? START)
  const h = options.h ?? (await testApp({ clock, config: { holdMinutes: 15 } }))
  const t = await makeTenant(h.db, { clock, teams: options.teams ?? 1, mode: options.mode ?? 'test' })
  return { h, clock, t, customerId: await customer(h, t.token, t.teamIds.length > 1 ? t.teamIds[0] : undefined) }
}

let sharedApp: Promise<{ h: TestApp; clock: ManualClock }> | undefined

/**
 * A money world on this test file's shared app (its clock stays at START: a test that moves time
 * makes its own app with moneyWorld()).
 */
export async function world(options: { mode?: Mode; teams?: number } = {}): Promise<MoneyWorld> {
  sharedApp ??= (async () => {
    const clock = new ManualClock(START)
    return { clock, h: await testApp({ clock, config: { holdMinutes: 15 } }) }
  })()
  const { h, clock } = await sharedApp
  return moneyWorld({ ...options, h, clock })
}

export async function customer(h: TestApp, token: string, teamId?: string, name = 'An'): Promise<string> {
  const res = await h.call(token, 'POST', '/v1/customers', { name, ...(teamId ? { team_id: teamId } : {}) })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

export async function listing(h: TestApp, token: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await h.call(token, 'POST', '/v1/listings', { ...LISTING, ...overrides })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

/** A booking of the world's customer, held: [check_in, check_out), on a new listing unless one is given. */
export async function held(w: MoneyWorld, checkIn: string, checkOut: string, options: { listingId?: string; customerId?: string; token?: string; rate?: Money; teamId?: string } = {}): Promise<Json> {
  const token = options.token ?? w.t.token
  const listingId = options.listingId ?? (await listing(w.h, token, { ...(options.rate ? { nightly_rate: options.rate } : {}), ...(options.teamId ? { team_id: options.teamId } : {}) }))
  const res = await w.h.call(token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: options.customerId ?? w.customerId, check_in: checkIn, check_out: checkOut, guests: 2 })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

/** A booking confirmed (so invoiced); returns the booking and its invoice. */
export async function confirmed(w: MoneyWorld, checkIn: string, checkOut: string, options: Parameters<typeof held>[3] = {}): Promise<{ booking: Json; invoice: Json }> {
  const token = options.token ?? w.t.token
  const b = await held(w, checkIn, checkOut, options)
  const res = await w.h.call(token, 'POST', `/v1/bookings/${b.id}:confirm`)
  expect(res.statusCode, res.body).toBe(200)
  const invoices = await w.h.call(token, 'GET', `/v1/invoices?booking_id=${b.id}`)
  expect(invoices.statusCode, invoices.body).toBe(200)
  expect(invoices.json().data).toHaveLength(1)
  return { booking: res.json(), invoice: invoices.json().data[0] }
}

export function createInvoice(w: MoneyWorld, body: Record<string, unknown>, token = w.t.token, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', '/v1/invoices', { customer_id: w.customerId, ...body }, headers)
}

/** A line item: quantity × unit_amount. */
export const line = (quantity: number, amount: string, currency = 'USD', description = 'Item'): Record<string, unknown> => ({ description, quantity, unit_amount: { amount, currency } })

/** A manual OPEN invoice of one line (1 × total). */
export async function invoiced(w: MoneyWorld, total = '90.00', currency = 'USD', options: { customerId?: string; token?: string; due_date?: string; booking_id?: string } = {}): Promise<Json> {
  const { customerId = w.customerId, token = w.t.token, ...rest } = options
  const res = await createInvoice(w, { customer_id: customerId, line_items: [line(1, total, currency)], ...rest }, token)
  expect(res.statusCode, res.statusCode >= 500 ? errorLogs(w.h) : res.body).toBe(201)
  return res.json()
}

export function pay(w: MoneyWorld, invoiceId: string, amount: Money, extra: Record<string, unknown> = {}, key: string | null = newKey(), token = w.t.token): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', '/v1/payments', { invoice_id: invoiceId, amount, method: 'CARD', ...extra }, key === null ? {} : { 'idempotency-key': key })
}

/** A payment recorded (201). */
export async function paid(w: MoneyWorld, invoiceId: string, amount: Money, extra: Record<string, unknown> = {}, token = w.t.token): Promise<Json> {
  const res = await pay(w, invoiceId, amount, extra, newKey(), token)
  expect(res.statusCode, res.statusCode >= 500 ? errorLogs(w.h) : res.body).toBe(201)
  return res.json()
}

export function refund(w: MoneyWorld, paymentId: string, body: Record<string, unknown> = { reason: 'guest asked' }, token = w.t.token): Promise<LightMyRequestResponse> {
  return w.h.call(token, 'POST', `/v1/payments/${paymentId}:refund`, body)
}

export async function getOk(w: MoneyWorld, url: string, token = w.t.token): Promise<Json> {
  const res = await w.h.call(token, 'GET', url)
  expect(res.statusCode, res.body).toBe(200)
  return res.json()
}

export const getInvoice = (w: MoneyWorld, id: string, token = w.t.token): Promise<Json> => getOk(w, `/v1/invoices/${id}`, token)
export const getPayment = (w: MoneyWorld, id: string, token = w.t.token): Promise<Json> => getOk(w, `/v1/payments/${id}`, token)

/** Every item of a list, page by page (limit 100). */
export async function listAll(w: MoneyWorld, url: string, token = w.t.token): Promise<Json[]> {
  const items: Json[] = []
  let cursor: string | null = null
  for (let page = 0; page < 50; page++) {
    const sep: string = url.includes('?') ? '&' : '?'
    const body: Json = await getOk(w, `${url}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token)
    items.push(...body.data)
    if (!body.pagination.has_more) return items
    cursor = body.pagination.next_cursor
  }
  throw new Error(`${url}: more than 50 pages`)
}

/** The events of one resource, oldest first (by sequence), optionally of some types. */
export async function eventsOf(w: MoneyWorld, resourceId: string, types?: string, token = w.t.token): Promise<Json[]> {
  const all = await listAll(w, `/v1/events?sort=created_at${types ? `&event_type=${types}` : ''}`, token)
  return all.filter((e) => e.data.id === resourceId)
}

/** All events of the partner's token, oldest first. */
export async function allEvents(w: MoneyWorld, token = w.t.token): Promise<Json[]> {
  return listAll(w, '/v1/events?sort=created_at', token)
}

/** The error without its per-exchange request id: what must be identical for an unknown and a foreign id. */
export function sameAsUnknown(res: LightMyRequestResponse, unknown: LightMyRequestResponse): void {
  expect(res.statusCode, res.body).toBe(unknown.statusCode)
  const strip = (r: LightMyRequestResponse) => {
    const { request_id: _drop, ...rest } = r.json().error
    return rest
  }
  expect(strip(res)).toEqual(strip(unknown))
  expect(res.statusCode).toBe(404)
}

/** A well-formed id that exists nowhere. */
export const unknownId = (prefix: 'inv' | 'pay' | 'cus' | 'bkg') => `${prefix}_01h455vb4pex5vsknk084sn02q`

export { expectError }

/** A 400 VALIDATION_ERROR naming (at least) these fields. */
export function expectFieldErrors(res: LightMyRequestResponse, ...fields: string[]): void {
  const error = expectError(res, 400, 'VALIDATION_ERROR')
  const named = (error.details.fields as { field: string }[]).map((f) => f.field)
  for (const field of fields) expect(named, res.body).toContain(field)
}

/** Sum of amounts in minor units (two-decimal currency) as a string "123.45". */
export function sumCents(amounts: string[]): string {
  const cents = amounts.reduce((s, a) => s + Math.round(Number(a) * 100), 0)
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
}

export async function rowCount(h: TestApp, table: 'invoices' | 'payments' | 'invoice_number_counters', partnerId: string): Promise<number> {
  const { rows } = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE partner_id = $1`, [partnerId])
  return rows[0]!.n
}

function errorLogs(h: TestApp): string {
  return h.logs.lines.filter((l) => l.includes('"level":50')).join('\n')
}
