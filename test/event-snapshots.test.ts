import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { newId } from '../src/platform/ids.ts'
import { MIGRATIONS_DIR, splitStatements } from '../src/platform/migrate.ts'
import { apr } from './helpers/bookings.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import { listingBody } from './helpers/listings.ts'

/**
 * Events keep a version-neutral snapshot of their resource (money in minor units, flat fields) and
 * each surface renders it with its presenter (issue 8, item 5): the stored row is not v1's JSON,
 * and what /v1/events shows is exactly the v1 resource.
 */
const h = await testApp()

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows and bodies under test
type Json = Record<string, any>

async function storedData(eventId: string): Promise<Json> {
  const { rows } = await h.db.query<{ data: Json }>('SELECT data FROM events WHERE id = $1', [eventId])
  return rows[0]!.data
}

async function created(token: string, path: string, body: Json): Promise<Json> {
  const res = await h.call(token, 'POST', path, body)
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

const createListing = (token: string, overrides: Json) => created(token, '/v1/listings', listingBody(overrides))
const createCustomer = (token: string) => created(token, '/v1/customers', { name: 'An Nguyen', email: 'an@example.com', language: 'vi' })
const createBooking = (token: string, listingId: string, customerId: string, nights: number) =>
  created(token, '/v1/bookings', { listing_id: listingId, customer_id: customerId, check_in: apr(1), check_out: apr(1 + nights), guests: 2 })

async function latestEvent(token: string, type: string): Promise<Json> {
  const res = await h.call(token, 'GET', `/v1/events?event_type=${type}&limit=1`)
  expect(res.statusCode, res.body).toBe(200)
  return res.json().data[0]
}

describe('event snapshots', () => {
  it('a booking event stores minor units and renders as the v1 booking', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { nightly_rate: { amount: '120.50', currency: 'USD' } })
    const customer = await createCustomer(t.token)
    const booking = await createBooking(t.token, listing.id, customer.id, 3)

    const event = await latestEvent(t.token, 'booking.created')
    expect(event.data).toEqual(booking)
    const stored = await storedData(event.id)
    expect(stored).toMatchObject({ id: booking.id, nights: 3, nightly_rate_minor: 12050, total_minor: 36150, currency: 'USD' })
    expect(stored).not.toHaveProperty('price')
  })

  it('a listing event stores a flat address and minor units and renders as the v1 listing', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { nightly_rate: { amount: '1.250', currency: 'KWD' } })
    const event = await latestEvent(t.token, 'listing.created')
    expect(event.data).toEqual(listing)
    const stored = await storedData(event.id)
    expect(stored).toMatchObject({ nightly_rate_minor: 1250, currency: 'KWD', country_code: listing.address.country_code, city: listing.address.city })
    expect(stored).not.toHaveProperty('address')
    expect(stored).not.toHaveProperty('nightly_rate')
  })

  it('migration 0005 rewrites events stored as v1 JSON into snapshots that render the same', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { nightly_rate: { amount: '1500000', currency: 'VND' } })
    const customer = await createCustomer(t.token)
    const booking = await createBooking(t.token, listing.id, customer.id, 2)

    // the events as they were written before snapshots: v1's JSON in data
    const legacy = [
      { id: newId('event'), type: 'booking.created', resource: 'booking', data: booking },
      { id: newId('event'), type: 'listing.created', resource: 'listing', data: listing },
      { id: newId('event'), type: 'customer.created', resource: 'customer', data: customer },
    ]
    for (const e of legacy) {
      await h.db.query(
        `INSERT INTO events (id, partner_id, team_id, mode, event_type, resource_type, resource_id, sequence, data, created_at)
         VALUES ($1, $2, $3, 'test', $4, $5, $6, 100, $7, now())`,
        [e.id, t.partnerId, t.teamIds[0], e.type, e.resource, e.data.id, JSON.stringify(e.data)],
      )
    }
    const sql = await readFile(path.join(MIGRATIONS_DIR, '0005-event-snapshots.sql'), 'utf8')
    for (const statement of splitStatements(sql)) await h.db.query(statement)

    expect(await storedData(legacy[0]!.id)).toMatchObject({ nightly_rate_minor: 1500000, total_minor: 3000000, nights: 2, currency: 'VND' })
    expect(await storedData(legacy[1]!.id)).toMatchObject({ nightly_rate_minor: 1500000, currency: 'VND', line1: listing.address.line1 })
    for (const e of legacy) {
      const res = await h.call(t.token, 'GET', `/v1/events/${e.id}`)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json().data).toEqual(e.data)
    }
  })
})
