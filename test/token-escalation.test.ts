import { describe, expect, it } from 'vitest'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * No escalation through tokens (API.md §4): every (caller, target) pair of narrower and wider
 * teams, scopes and expiry. A caller sees, lists, revokes and rotates a target only when the
 * target's teams, permissions and expiry are within its own; any other target is the same 404
 * as an unknown id, and nothing changes.
 */
const DAY_MS = 86_400_000
const MANAGE_ONLY = ['token.manage', 'token.read']

interface Grant {
  name: string
  teams: 'one' | 'both'
  scopes: string[] | null
  expiresInDays?: number
}

const GRANTS: Grant[] = [
  { name: 'one team, all permissions', teams: 'one', scopes: null },
  { name: 'both teams, all permissions', teams: 'both', scopes: null },
  { name: 'one team, token permissions only', teams: 'one', scopes: MANAGE_ONLY },
  { name: 'both teams, token permissions only', teams: 'both', scopes: MANAGE_ONLY },
  { name: 'both teams, all permissions, expiring in 10 days', teams: 'both', scopes: null, expiresInDays: 10 },
]

function within(target: Grant, caller: Grant): boolean {
  const teamsOk = caller.teams === 'both' || target.teams === 'one'
  const scopesOk = caller.scopes === null || (target.scopes !== null && target.scopes.every((s) => caller.scopes!.includes(s)))
  const expiryOk = (target.expiresInDays ?? 90) <= (caller.expiresInDays ?? 90)
  return teamsOk && scopesOk && expiryOk
}

// expiries are fixed once, so two tokens of one grant expire at the same instant
const START_MS = Date.now()

async function tokenFor(t: Tenant, grant: Grant): Promise<{ token: string; tokenId: string }> {
  return t.addToken({
    name: grant.name,
    team_ids: grant.teams === 'one' ? [t.teamIds[0]!] : t.teamIds,
    ...(grant.scopes ? { scopes: grant.scopes } : {}),
    expires_at: new Date(START_MS + (grant.expiresInDays ?? 90) * DAY_MS).toISOString(),
  })
}

const UNKNOWN = 'tok_01jq3v5x7e8f9g0h1j2k3m4n5p'

async function expectUnknown(h: TestApp, token: string, method: 'GET' | 'DELETE' | 'POST', path: (id: string) => string, id: string, body?: unknown): Promise<void> {
  const headers = { 'x-request-id': 'req-escalation-probe' }
  const res = await h.call(token, method, path(id), body, headers)
  const unknown = await h.call(token, method, path(UNKNOWN), body, headers)
  expect(res.statusCode, `${method} ${path(id)}`).toBe(404)
  expect(res.body).toBe(unknown.body)
}

describe('token operations never reach a wider token', () => {
  const pairs = GRANTS.flatMap((caller) => GRANTS.map((target) => ({ caller, target })))

  it.each(pairs.map((p) => [`${p.caller.name} → ${p.target.name}`, p] as const))('%s', async (_name, { caller, target }) => {
    const h = await testApp()
    const t = await makeTenant(h.db)
    const callerToken = await tokenFor(t, caller)
    const visible = within(target, caller)

    // reads: GET one, and the list
    const read = await tokenFor(t, target)
    const got = await h.call(callerToken.token, 'GET', `/v1/tokens/${read.tokenId}`)
    const listed = (await h.call(callerToken.token, 'GET', '/v1/tokens')).json().data.map((row: { id: string }) => row.id)
    if (visible) {
      expect(got.statusCode).toBe(200)
      expect(listed).toContain(read.tokenId)
    } else {
      await expectUnknown(h, callerToken.token, 'GET', (id) => `/v1/tokens/${id}`, read.tokenId)
      expect(listed).not.toContain(read.tokenId)
    }

    // :rotate, then DELETE
    const rotated = await h.call(callerToken.token, 'POST', `/v1/tokens/${read.tokenId}:rotate`, { grace_period_seconds: 0 })
    if (visible) {
      expect(rotated.statusCode).toBe(200)
      expect(rotated.json().secret).toMatch(/^tvb_test_/)
    } else {
      await expectUnknown(h, callerToken.token, 'POST', (id) => `/v1/tokens/${id}:rotate`, read.tokenId, { grace_period_seconds: 0 })
      // the target's own secret still works: nothing was rotated
      expect((await h.call(read.token, 'GET', '/v1/me')).statusCode).toBe(200)
    }
    const revoked = await h.call(callerToken.token, 'DELETE', `/v1/tokens/${read.tokenId}`)
    if (visible) {
      expect(revoked.statusCode).toBe(204)
    } else {
      await expectUnknown(h, callerToken.token, 'DELETE', (id) => `/v1/tokens/${id}`, read.tokenId)
      expect((await h.call(read.token, 'GET', '/v1/me')).statusCode).toBe(200)
    }
  })
})
