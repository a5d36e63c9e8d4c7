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

describe('ETag on every single-resource GET (API.md §3)', () => {
  it('GET /v1/me, /v1/teams/{id} and /v1/tokens/{id} send an ETag and answer If-None-Match with 304', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    for (const url of ['/v1/me', `/v1/teams/${t.teamIds[0]}`, `/v1/tokens/${t.tokenId}`]) {
      const first = await h.call(t.token, 'GET', url)
      expect(first.statusCode, url).toBe(200)
      const etag = first.headers.etag
      expect(etag, url).toMatch(/^"[A-Za-z0-9_-]+"$/)
      const again = await h.call(t.token, 'GET', url, undefined, { 'if-none-match': String(etag) })
      expect(again.statusCode, url).toBe(304)
      expect(again.body, url).toBe('')
      const stale = await h.call(t.token, 'GET', url, undefined, { 'if-none-match': '"stale"' })
      expect(stale.statusCode, url).toBe(200)
    }
  })
})
