import { describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'

/**
 * Route validators and serializers compile on first use (start-up time), and warm() compiles the
 * rest once the server listens. Either way a request is validated and serialized exactly as before.
 */
const h = await testApp()

describe('lazy schema compilation', () => {
  it('validates and serializes before warm-up, and warm() compiles each pending schema once', async () => {
    const t = await makeTenant(h.db, { teams: 1 })
    // nothing compiled for this route yet: the first bad body is still refused precisely
    const bad = await h.call(t.token, 'POST', '/v1/customers', { name: 42 })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.details.fields[0]).toMatchObject({ field: 'name', location: 'body' })
    const good = await h.call(t.token, 'POST', '/v1/customers', { name: 'An' })
    expect(good.statusCode, good.body).toBe(201)
    const compiled = await h.compilers.warm()
    expect(compiled).toBeGreaterThan(50)
    expect(await h.compilers.warm()).toBe(0)
    const after = await h.call(t.token, 'GET', `/v1/customers/${good.json().id}`)
    expect(after.json()).toEqual(good.json())
  })
})
