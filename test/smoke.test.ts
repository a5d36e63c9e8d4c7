import { describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'

describe('smoke', () => {
  it('GET /v1/me answers for a fresh tenant', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const res = await h.call(t.token, 'GET', '/v1/me')
    expect(res.statusCode).toBe(200)
    expect(res.json().partner.id).toBe(t.partnerId)
  })
})
