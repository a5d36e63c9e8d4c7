import { describe, expect, it } from 'vitest'
import { newId } from '../src/platform/ids.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import { ISO, expectValidation, listingBody, listingHelpers } from './helpers/listings.ts'
import type { Body } from './helpers/listings.ts'

/** Listings (API.md §3, §10), creating one: the resource, money, validation (every error at once), teams. */
const h = await testApp()
const { createListing, listIds } = listingHelpers(h)

const ID = /^lst_[0-7][0-9a-hjkmnp-tv-z]{25}$/

describe('POST /v1/listings', () => {
  it('creates: 201, Location, the full resource, and GET returns the same', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/listings', listingBody({ description: 'Pine views' }))
    expect(res.statusCode, res.body).toBe(201)
    const listing = res.json()
    expect(listing).toEqual({
      id: expect.stringMatching(ID),
      team_id: t.teamIds[0],
      mode: 'test',
      name: 'Villa Da Lat',
      description: 'Pine views',
      state: 'ACTIVE',
      address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
      max_guests: 4,
      bedrooms: 2,
      nightly_rate: { amount: '1500000', currency: 'VND' },
      timezone: 'Asia/Ho_Chi_Minh',
      created_at: expect.stringMatching(ISO),
      updated_at: listing.created_at,
    })
    expect(res.headers.location).toBe(`http://api.test/v1/listings/${listing.id}`)

    const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json()).toEqual(listing)
  })

  it('renders money in the currency exponent: USD 120.00, EUR 12.50, VND 1500000', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const cases: [Body, Body][] = [
      [{ amount: '120', currency: 'USD' }, { amount: '120.00', currency: 'USD' }],
      [{ amount: '120.00', currency: 'USD' }, { amount: '120.00', currency: 'USD' }],
      [{ amount: '12.5', currency: 'EUR' }, { amount: '12.50', currency: 'EUR' }],
      [{ amount: '1500000', currency: 'VND' }, { amount: '1500000', currency: 'VND' }],
      [{ amount: '0.05', currency: 'USD' }, { amount: '0.05', currency: 'USD' }],
    ]
    for (const [sent, shown] of cases) {
      const listing = await createListing(t.token, { nightly_rate: sent })
      expect(listing.nightly_rate, JSON.stringify(sent)).toEqual(shown)
      const got = await h.call(t.token, 'GET', `/v1/listings/${listing.id}`)
      expect(got.json().nightly_rate).toEqual(shown)
    }
  })

  it('state INACTIVE can be given at creation; province_code may be omitted (null)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const listing = await createListing(t.token, { state: 'INACTIVE', address: { country_code: 'SG', city: 'Singapore', line1: '1 Orchard Rd' } })
    expect(listing.state).toBe('INACTIVE')
    expect(listing.address.province_code).toBeNull()
    // ARCHIVED is reached with DELETE only
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ state: 'ARCHIVED' })), ['state'])
  })

  it('reports every semantic problem at once: country, currency, time zone', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(
      t.token,
      'POST',
      '/v1/listings',
      listingBody({
        address: { country_code: 'XX', province_code: 'SG', city: 'HCMC', line1: '1 Le Loi' },
        nightly_rate: { amount: '100', currency: 'ABC' },
        timezone: 'Mars/Base',
      }),
    )
    expectValidation(res, ['address.country_code', 'nightly_rate.currency', 'timezone'])
    for (const f of res.json().error.details.fields) expect(f.location).toBe('body')
    expect(await listIds(t.token)).toEqual([])
  })

  it('reports a province of another country and too many decimals together', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    expectValidation(
      await h.call(t.token, 'POST', '/v1/listings', listingBody({ address: { country_code: 'VN', province_code: 'ZZ', city: 'HCMC', line1: '1 Le Loi' }, nightly_rate: { amount: '10.5', currency: 'VND' } })),
      ['address.province_code', 'nightly_rate.amount'],
    )
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ nightly_rate: { amount: '1.234', currency: 'USD' } })), ['nightly_rate.amount'])
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ nightly_rate: { amount: '0', currency: 'USD' } })), ['nightly_rate.amount'])
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ max_guests: 0 })), ['max_guests'])
    // a real US subdivision is accepted for US, and the same code is refused for VN
    expect((await createListing(t.token, { address: { country_code: 'US', province_code: 'CA', city: 'LA', line1: '1 Main St' } })).address.province_code).toBe('CA')
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ address: { country_code: 'VN', province_code: 'CA', city: 'HCMC', line1: '1 Le Loi' } })), ['address.province_code'])
  })

  // BUG: schema errors (max_guests 0, checked by Ajv) and semantic errors (country, currency,
  // time zone, checked in ListingService) are never reported together: a schema failure stops the
  // request before the service runs, so only max_guests is listed (API.md §6: all field errors at once).
  it('reports schema and semantic problems in one answer (max_guests 0 with XX, ABC, Mars/Base, 10.5 VND)', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(
      t.token,
      'POST',
      '/v1/listings',
      listingBody({
        address: { country_code: 'XX', city: 'HCMC', line1: '1 Le Loi' },
        nightly_rate: { amount: '100', currency: 'ABC' },
        timezone: 'Mars/Base',
        max_guests: 0,
      }),
    )
    expectValidation(res, ['address.country_code', 'nightly_rate.currency', 'timezone', 'max_guests'])
  })

  it('refuses unknown fields, at the top level and nested', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/listings', { ...listingBody(), colour: 'blue', address: { country_code: 'VN', city: 'HCMC', line1: '1', zip: '7000' } })
    expectValidation(res, ['colour', 'address.zip'])
    expect(res.json().error.details.fields.every((f: { code: string }) => f.code === 'additionalProperties')).toBe(true)
    expect(await listIds(t.token)).toEqual([])
  })

  it('requires team_id when the token covers two teams, and puts the listing in the named one', async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody()), ['team_id'])
    // team_id missing and a semantic error: both reported
    expectValidation(await h.call(t.token, 'POST', '/v1/listings', listingBody({ timezone: 'Mars/Base' })), ['team_id', 'timezone'])
    const listing = await createListing(t.token, { team_id: t.teamIds[1] })
    expect(listing.team_id).toBe(t.teamIds[1])
  })

  it("refuses another partner's team (and an unknown team) with INVALID_TEAM_IDS", async () => {
    const t = await makeTenant(h.db, { teams: 2 })
    const other = await makeTenant(h.db, { teams: 1 })
    const res = await h.call(t.token, 'POST', '/v1/listings', listingBody({ team_id: other.teamIds[0] }))
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().error.code).toBe('INVALID_TEAM_IDS')
    expect(res.json().error.details.invalid_team_ids).toEqual([other.teamIds[0]])
    const unknown = newId('team')
    const res2 = await h.call(t.token, 'POST', '/v1/listings', listingBody({ team_id: unknown }))
    expect(res2.json().error.details.invalid_team_ids).toEqual([unknown])
    expect(await listIds(other.token)).toEqual([])
    expect(await listIds(t.token)).toEqual([])
  })
})
