import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import { addDays } from '../../src/platform/dates.ts'
import type { TestApp } from './harness.ts'

/** Shared by the listings-*.test.ts files: bodies, stay dates, checks, and calls on one app. */

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

export type Body = Record<string, unknown>
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies under test
export type Json = Record<string, any>

export function listingBody(overrides: Body = {}): Body {
  return {
    name: 'Villa Da Lat',
    address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
    max_guests: 4,
    bedrooms: 2,
    nightly_rate: { amount: '1500000', currency: 'VND' },
    timezone: 'Asia/Ho_Chi_Minh',
    ...overrides,
  }
}

const customerBody = { name: 'An Nguyen', email: 'an@example.com', phone: '+84901234567', language: 'vi', country_code: 'VN' }

/** A stay date some months ahead (computed once per call site from one base, so it never straddles midnight). */
const BASE = new Date(Date.now() + 150 * 86_400_000).toISOString().slice(0, 10)
export const day = (n: number) => addDays(BASE, n)

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function fieldNames(res: LightMyRequestResponse): string[] {
  return (res.json().error.details.fields as { field: string }[]).map((f) => f.field).sort()
}

export function expectValidation(res: LightMyRequestResponse, fields: string[]): void {
  expect(res.statusCode, res.body).toBe(400)
  expect(res.json().error.code).toBe('VALIDATION_ERROR')
  expect(fieldNames(res)).toEqual([...fields].sort())
}

/** The calls that create and list, on the app of the test file. */
export function listingHelpers(h: TestApp) {
  async function createListing(token: string, overrides: Body = {}): Promise<Json> {
    const res = await h.call(token, 'POST', '/v1/listings', listingBody(overrides))
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }

  async function createCustomer(token: string): Promise<Json> {
    const res = await h.call(token, 'POST', '/v1/customers', customerBody)
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }

  async function createBooking(token: string, listingId: string, customerId: string, checkIn: string, checkOut: string): Promise<Json> {
    const res = await h.call(token, 'POST', '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: checkIn, check_out: checkOut, guests: 2 })
    expect(res.statusCode, res.body).toBe(201)
    return res.json()
  }

  async function listIds(token: string, query = ''): Promise<string[]> {
    const res = await h.call(token, 'GET', `/v1/listings${query}`)
    expect(res.statusCode, res.body).toBe(200)
    return res.json().data.map((x: { id: string }) => x.id)
  }

  return { createListing, createCustomer, createBooking, listIds }
}
