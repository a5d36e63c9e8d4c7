import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import type { Role } from '../src/modules/tokens/permissions.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant, TestApp } from './helpers/harness.ts'

/**
 * The permission matrix (API.md §5), written out independently of src/modules/tokens/permissions.ts
 * so that a wrong role table there makes these tests fail.
 */
const READS = ['listing.read', 'customer.read', 'booking.read', 'invoice.read', 'payment.read', 'report.read', 'webhook.read', 'event.read', 'token.read']
const ALL = [
  ...READS,
  'listing.write',
  'availability.search',
  'customer.write',
  'booking.create.partner',
  'booking.issue',
  'invoice.write',
  'payment.write',
  'webhook.write',
  'token.manage',
]
const EXPECTED_PERMISSIONS: Record<Role, string[]> = {
  OWNER: ALL,
  ADMIN: ALL,
  TRAVEL_AGENT: ['listing.read', 'availability.search', 'customer.read', 'customer.write', 'booking.read', 'booking.create.partner'],
  ACCOUNTANT: ['booking.read', 'invoice.read', 'invoice.write', 'payment.read', 'payment.write', 'report.read'],
  VIEWER: READS,
}

const ROLES: Role[] = ['OWNER', 'ADMIN', 'TRAVEL_AGENT', 'ACCOUNTANT', 'VIEWER']
const TOKEN_READERS: Role[] = ['OWNER', 'ADMIN', 'VIEWER']
const TOKEN_MANAGERS: Role[] = ['OWNER', 'ADMIN']

interface Setup {
  h: TestApp
  t: Tenant
  /** A second token of the same user: the target of DELETE and :rotate. */
  other: { token: string; tokenId: string }
}

interface Endpoint {
  name: string
  permission: 'token.read' | 'token.manage' | null
  okStatus: number
  send(s: Setup): Promise<LightMyRequestResponse>
  /** Checks the success answer. */
  ok(s: Setup, res: LightMyRequestResponse): void | Promise<void>
  /** After a 403: proves nothing happened. */
  unchanged(s: Setup): Promise<void>
}

async function stillActive(s: Setup): Promise<void> {
  const res = await s.h.call(s.other.token, 'GET', '/v1/me')
  expect(res.statusCode).toBe(200)
  expect(res.json().token.id).toBe(s.other.tokenId)
}

async function tokenCount(s: Setup): Promise<number> {
  const { rows } = await s.h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tokens WHERE user_id = $1', [s.t.userId])
  return rows[0]!.n
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'GET /v1/me',
    permission: null,
    okStatus: 200,
    send: (s) => s.h.call(s.t.token, 'GET', '/v1/me'),
    ok: (s, res) => {
      expect(res.json().token.id).toBe(s.t.tokenId)
      expect(res.json().role).toBe(s.t.role)
    },
    unchanged: async () => {},
  },
  {
    name: 'GET /v1/teams',
    permission: null,
    okStatus: 200,
    send: (s) => s.h.call(s.t.token, 'GET', '/v1/teams'),
    ok: (s, res) => expect(res.json().data.map((x: { id: string }) => x.id).sort()).toEqual([...s.t.teamIds].sort()),
    unchanged: async () => {},
  },
  {
    name: 'GET /v1/teams/{id}',
    permission: null,
    okStatus: 200,
    send: (s) => s.h.call(s.t.token, 'GET', `/v1/teams/${s.t.teamIds[1]}`),
    ok: (s, res) => expect(res.json().id).toBe(s.t.teamIds[1]),
    unchanged: async () => {},
  },
  {
    name: 'POST /v1/tokens',
    permission: 'token.manage',
    okStatus: 201,
    send: (s) => s.h.call(s.t.token, 'POST', '/v1/tokens', { name: 'matrix' }),
    ok: (_s, res) => expect(res.json().secret).toMatch(/^tvb_test_/),
    unchanged: async (s) => expect(await tokenCount(s)).toBe(2),
  },
  {
    name: 'GET /v1/tokens',
    permission: 'token.read',
    okStatus: 200,
    send: (s) => s.h.call(s.t.token, 'GET', '/v1/tokens'),
    ok: (s, res) => expect(res.json().data.map((x: { id: string }) => x.id).sort()).toEqual([s.t.tokenId, s.other.tokenId].sort()),
    unchanged: async () => {},
  },
  {
    name: 'GET /v1/tokens/{id}',
    permission: 'token.read',
    okStatus: 200,
    send: (s) => s.h.call(s.t.token, 'GET', `/v1/tokens/${s.other.tokenId}`),
    ok: (s, res) => expect(res.json().id).toBe(s.other.tokenId),
    unchanged: async () => {},
  },
  {
    name: 'DELETE /v1/tokens/{id}',
    permission: 'token.manage',
    okStatus: 204,
    send: (s) => s.h.call(s.t.token, 'DELETE', `/v1/tokens/${s.other.tokenId}`),
    ok: async (s) => {
      const res = await s.h.call(s.other.token, 'GET', '/v1/me')
      expect(res.statusCode).toBe(401)
      expect(res.json().error.code).toBe('TOKEN_REVOKED')
    },
    unchanged: stillActive,
  },
  {
    name: 'POST /v1/tokens/{id}:rotate',
    permission: 'token.manage',
    okStatus: 200,
    send: (s) => s.h.call(s.t.token, 'POST', `/v1/tokens/${s.other.tokenId}:rotate`, { grace_period_seconds: 0 }),
    ok: async (s, res) => {
      expect(res.json().id).toBe(s.other.tokenId)
      expect(res.json().secret).not.toBe(s.other.token)
      // grace 0: the old secret is refused at once, so the rotation really happened
      expect((await s.h.call(s.other.token, 'GET', '/v1/me')).statusCode).toBe(401)
    },
    unchanged: stillActive,
  },
]

function allowed(role: Role, permission: Endpoint['permission']): boolean {
  if (permission === null) return true
  return (permission === 'token.read' ? TOKEN_READERS : TOKEN_MANAGERS).includes(role)
}

const MATRIX = ROLES.flatMap((role) =>
  ENDPOINTS.map((endpoint) => ({ role, endpoint: endpoint.name, expected: allowed(role, endpoint.permission) ? 'allowed' : 'denied', e: endpoint })),
)

describe('permission matrix: role × endpoint', () => {
  it.each(MATRIX)('$role → $endpoint: $expected', async ({ role, expected, e }) => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role })
    const other = await t.addToken({ name: 'target' })
    const s: Setup = { h, t, other }
    const res = await e.send(s)
    if (expected === 'allowed') {
      expect(res.statusCode, res.body).toBe(e.okStatus)
      await e.ok(s, res)
    } else {
      expect(res.statusCode, res.body).toBe(403)
      const error = res.json().error
      expect(error.code).toBe('PERMISSION_DENIED')
      expect(error.details).toEqual({ required_permission: e.permission })
      expect(error.retry_advice).toBe('retry_after_fix')
      await e.unchanged(s)
    }
  })

  it.each(ROLES)('GET /v1/me lists the %s role permissions', async (role) => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role })
    const res = await h.call(t.token, 'GET', '/v1/me')
    expect(res.statusCode).toBe(200)
    expect(res.json().role).toBe(role)
    expect([...res.json().permissions].sort()).toEqual([...EXPECTED_PERMISSIONS[role]].sort())
  })
})

describe('effective permissions = role ∩ token scopes', () => {
  it('an ADMIN token scoped to token.read can read tokens but not manage them', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role: 'ADMIN', token: { scopes: ['token.read'] } })
    // the target is within the caller's grants (a wider one would be a 404: test/token-escalation.test.ts)
    const other = await t.addToken({ name: 'target', scopes: ['token.read'] })

    const me = await h.call(t.token, 'GET', '/v1/me')
    expect(me.json().permissions).toEqual(['token.read'])
    expect(me.json().token.scopes).toEqual(['token.read'])
    expect((await h.call(t.token, 'GET', '/v1/tokens')).statusCode).toBe(200)
    expect((await h.call(t.token, 'GET', `/v1/tokens/${other.tokenId}`)).statusCode).toBe(200)
    for (const [method, url, body] of [
      ['POST', '/v1/tokens', { name: 'x', scopes: ['token.read'] }],
      ['DELETE', `/v1/tokens/${other.tokenId}`, undefined],
      ['POST', `/v1/tokens/${other.tokenId}:rotate`, {}],
    ] as const) {
      const res = await h.call(t.token, method, url, body)
      expect(res.statusCode, `${method} ${url}`).toBe(403)
      expect(res.json().error).toMatchObject({ code: 'PERMISSION_DENIED', details: { required_permission: 'token.manage' } })
    }
    expect((await h.call(other.token, 'GET', '/v1/me')).statusCode).toBe(200)
  })

  it('an OWNER token scoped to token.manage cannot read tokens', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role: 'OWNER', token: { scopes: ['token.manage'] } })
    const other = await t.addToken({ name: 'target' })
    for (const url of ['/v1/tokens', `/v1/tokens/${other.tokenId}`]) {
      const res = await h.call(t.token, 'GET', url)
      expect(res.statusCode, url).toBe(403)
      expect(res.json().error).toMatchObject({ code: 'PERMISSION_DENIED', details: { required_permission: 'token.read' } })
    }
    // no permission needed: still answers
    expect((await h.call(t.token, 'GET', '/v1/teams')).statusCode).toBe(200)
    const created = await h.call(t.token, 'POST', '/v1/tokens', { name: 'x', scopes: ['token.manage'] })
    expect(created.statusCode, created.body).toBe(201)
  })

  it('scopes never add permissions the role lacks', async () => {
    const h = await testApp()
    // created by an operator (no ceiling): the scopes name permissions a TRAVEL_AGENT does not have
    const t = await makeTenant(h.db, { role: 'TRAVEL_AGENT', token: { scopes: ['token.read', 'token.manage', 'listing.read'] } })
    const me = await h.call(t.token, 'GET', '/v1/me')
    expect(me.statusCode).toBe(200)
    expect(me.json().permissions).toEqual(['listing.read'])
    const list = await h.call(t.token, 'GET', '/v1/tokens')
    expect(list.statusCode).toBe(403)
    expect(list.json().error.details).toEqual({ required_permission: 'token.read' })
    const create = await h.call(t.token, 'POST', '/v1/tokens', { name: 'x' })
    expect(create.statusCode).toBe(403)
    expect(create.json().error.details).toEqual({ required_permission: 'token.manage' })
  })

  it('a VIEWER token with empty scopes has no permissions but still reads its own context', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role: 'VIEWER', token: { scopes: [] } })
    const me = await h.call(t.token, 'GET', '/v1/me')
    expect(me.statusCode).toBe(200)
    expect(me.json().permissions).toEqual([])
    expect((await h.call(t.token, 'GET', '/v1/teams')).statusCode).toBe(200)
    const res = await h.call(t.token, 'GET', '/v1/tokens')
    expect(res.statusCode).toBe(403)
    expect(res.json().error.details).toEqual({ required_permission: 'token.read' })
  })

  it('the permission check comes after authentication: a bad token is 401, not 403', async () => {
    const h = await testApp()
    const t = await makeTenant(h.db, { role: 'VIEWER' })
    const badChecksum = t.token.slice(0, -1) + (t.token.endsWith('0') ? '1' : '0')
    const res = await h.call(badChecksum, 'POST', '/v1/tokens', { name: 'x' })
    expect(res.statusCode).toBe(401)
    expect(res.json().error.code).toBe('UNAUTHENTICATED')
  })
})
