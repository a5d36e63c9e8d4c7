import { beforeAll, describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * PUT is full replacement that cannot wipe by accident (API.md §3): every writable field must be
 * sent (null clears a nullable one), and the body GET returned, with one field changed, is a
 * valid PUT — its read-only fields accepted when unchanged, refused when not.
 */
let h: TestApp
let t: Tenant

beforeAll(async () => {
  h = await testApp()
  t = await makeTenant(h.db, { teams: 2 })
})

async function customer(): Promise<Record<string, unknown>> {
  const res = await h.call(t.token, 'POST', '/v1/customers', { team_id: t.teamIds[0], name: 'Nguyễn Văn A', email: 'a@example.com', phone: '+84901234567', language: 'vi', country_code: 'VN' })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

async function listing(): Promise<Record<string, unknown>> {
  const res = await h.call(t.token, 'POST', '/v1/listings', {
    team_id: t.teamIds[0], name: 'Villa Đà Lạt', description: 'Pine views', state: 'ACTIVE', max_guests: 6, bedrooms: 3,
    nightly_rate: { amount: '2500000', currency: 'VND' }, timezone: 'Asia/Ho_Chi_Minh',
    address: { country_code: 'VN', province_code: '35', city: 'Đà Lạt', line1: '12 Trần Hưng Đạo' },
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json()
}

describe('PUT never wipes a field by omission', () => {
  it('a customer PUT with only a name is a 400 naming every missing field, and changes nothing (the audit\'s wipe)', async () => {
    const before = await customer()
    const res = await h.call(t.token, 'PUT', `/v1/customers/${before.id}`, { name: 'Only a name' })
    expect(res.statusCode, res.body).toBe(400)
    const fields = res.json().error.details.fields.map((f: { field: string }) => f.field).sort()
    expect(fields).toEqual(['country_code', 'email', 'language', 'phone'])
    expect((await h.call(t.token, 'GET', `/v1/customers/${before.id}`)).json()).toEqual(before)
  })

  it('explicit null clears a nullable field', async () => {
    const before = await customer()
    const res = await h.call(t.token, 'PUT', `/v1/customers/${before.id}`, { name: before.name, email: null, phone: before.phone, language: before.language, country_code: before.country_code })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ email: null, phone: before.phone })
  })

  it('a listing PUT needs description, state and address.province_code too', async () => {
    const before = await listing()
    const { description: _d, state: _s, ...rest } = before
    const res = await h.call(t.token, 'PUT', `/v1/listings/${before.id}`, { ...rest, address: { country_code: 'VN', city: 'Đà Lạt', line1: 'x' } })
    expect(res.statusCode, res.body).toBe(400)
    const fields = res.json().error.details.fields.map((f: { field: string }) => f.field).sort()
    expect(fields).toEqual(['address.province_code', 'description', 'state'])
  })

  it('guest details are replaced whole', async () => {
    const l = await listing()
    const c = await customer()
    const booking = (await h.call(t.token, 'POST', '/v1/bookings', { listing_id: l.id, customer_id: c.id, check_in: '2031-05-01', check_out: '2031-05-03', guests: 2 })).json()
    const partial = await h.call(t.token, 'PUT', `/v1/bookings/${booking.id}/guest-details`, { lead_guest_name: 'Trần Thị B' })
    expect(partial.statusCode).toBe(400)
    const full = { lead_guest_name: 'Trần Thị B', lead_guest_email: null, lead_guest_phone: null, additional_guest_names: [], special_requests: null }
    const res = await h.call(t.token, 'PUT', `/v1/bookings/${booking.id}/guest-details`, full)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().guest_details).toEqual(full)
  })
})

describe('the body GET returned, with a field changed, is a valid PUT', () => {
  for (const kind of ['customers', 'listings'] as const) {
    it(`${kind}: read-only fields are accepted unchanged`, async () => {
      const resource = kind === 'customers' ? await customer() : await listing()
      const got = (await h.call(t.token, 'GET', `/v1/${kind}/${resource.id}`)).json()
      const res = await h.call(t.token, 'PUT', `/v1/${kind}/${resource.id}`, { ...got, name: 'Renamed' })
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toMatchObject({ id: resource.id, team_id: resource.team_id, name: 'Renamed', created_at: resource.created_at })
    })

    it(`${kind}: a changed read-only field is a 400 naming it, and nothing changes`, async () => {
      const resource = kind === 'customers' ? await customer() : await listing()
      const got = (await h.call(t.token, 'GET', `/v1/${kind}/${resource.id}`)).json()
      for (const [field, value] of [['team_id', t.teamIds[1]], ['id', kind === 'customers' ? 'cus_01jq3v5x7e8f9g0h1j2k3m4n5p' : 'lst_01jq3v5x7e8f9g0h1j2k3m4n5p'], ['mode', 'live'], ['created_at', '2020-01-01T00:00:00.000Z']] as const) {
        const res = await h.call(t.token, 'PUT', `/v1/${kind}/${resource.id}`, { ...got, name: 'Must not stick', [field]: value })
        expect(res.statusCode, `${field}: ${res.body}`).toBe(400)
        expect(res.json().error.details.fields).toEqual([expect.objectContaining({ field, code: 'read_only' })])
      }
      expect((await h.call(t.token, 'GET', `/v1/${kind}/${resource.id}`)).json()).toEqual(got)
    })
  }

  it('timestamps compare as instants: +00:00 is the same time as Z', async () => {
    const c = await customer()
    const got = (await h.call(t.token, 'GET', `/v1/customers/${c.id}`)).json()
    const res = await h.call(t.token, 'PUT', `/v1/customers/${c.id}`, { ...got, created_at: String(got.created_at).replace('Z', '+00:00'), name: 'Same instant' })
    expect(res.statusCode, res.body).toBe(200)
  })
})

describe('a stale GET-modify-PUT', () => {
  it('with the old If-Match is 412 (read it again), not a 400 about the read-only updated_at it carries', async () => {
    const before = await listing()
    const read = await h.call(t.token, 'GET', `/v1/listings/${before.id}`)
    const etag = read.headers.etag as string
    const body = read.json() as Record<string, unknown>
    // someone else changes it in between
    expect((await h.call(t.token, 'PUT', `/v1/listings/${before.id}`, { ...body, name: 'Their change' })).statusCode).toBe(200)
    const mine = await h.call(t.token, 'PUT', `/v1/listings/${before.id}`, { ...body, name: 'My change' }, { 'if-match': etag })
    expect(mine.statusCode, mine.body).toBe(412)
    expect(mine.json().error.code).toBe('PRECONDITION_FAILED')
    expect((await h.call(t.token, 'GET', `/v1/listings/${before.id}`)).json().name).toBe('Their change')
  })
})
