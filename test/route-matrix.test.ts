import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { PERMISSIONS, ROLES, ROLE_PERMISSIONS } from '../src/modules/tokens/permissions.ts'
import type { Role } from '../src/modules/tokens/permissions.ts'
import { makeTenant, testApp } from './helpers/harness.ts'
import type { Tenant } from './helpers/harness.ts'
import { exampleValue } from './fuzz/generators.ts'
import type { GenContext } from './fuzz/generators.ts'
import { ContractChecker, errorOf, fillPath, loadDocument, notFoundCodeOf, operationsOf, preview } from './fuzz/openapi-ops.ts'
import type { Operation } from './fuzz/openapi-ops.ts'
import { customerBody, idPrefixOf, listingBody, nextStay, raiseLimits, unknownId } from './fuzz/world.ts'

/**
 * The route matrix, driven by /openapi.json: the common cases every authenticated operation must
 * get right, written once and run for every operation the document lists (a new route is covered
 * without touching this file, or fails loudly asking for a fixture).
 *
 *  (a) no token → 401 UNAUTHENTICATED with WWW-Authenticate;
 *  (b) every role × every operation, against one table of rules: the operation's
 *      x-required-permissions and ROLE_PERMISSIONS (src/modules/tokens/permissions.ts, the table the
 *      docs render) — 403 PERMISSION_DENIED naming a missing permission in details.required_permission
 *      iff the role lacks one, never a 403 otherwise (permission is checked before validation, so
 *      dummy ids and an empty body are enough);
 *  (c) another tenant's resource id → a 404 byte-identical to the one for an unknown id (same
 *      X-Request-Id sent with both);
 *  errors in the body the operation documents: the envelope, or the External API's flat body (its
 *  404 for an id it cannot see is EXTERNAL_*_NOT_ACCESSIBLE, not NOT_FOUND);
 *  (d) the other mode's token (live, same user) → the same 404 for a test-mode resource.
 */

const h = await testApp({ config: { authFailuresPerMinute: 100_000 } })
const doc = await loadDocument((o) => h.inject(o))
const checker = new ContractChecker(doc)
const operations = operationsOf(doc).filter((op) => !op.public)

const DAY = 86_400_000
const A = await makeTenant(h.db, { role: 'OWNER', teams: 2 })
const B = await makeTenant(h.db, { role: 'OWNER', teams: 1 })
// limits first: the overrides travel with a token when it is first used
await raiseLimits(h, A.partnerId)
await raiseLimits(h, B.partnerId)
const roleTokens = { OWNER: A.token } as Record<Role, string>
for (const role of ROLES) if (role !== 'OWNER') roleTokens[role] = (await A.addUser(role)).token
// the other mode, same user and role: only the mode differs from A.token
const liveA = await A.addToken({ mode: 'live', name: 'live twin', expires_at: new Date(Date.now() + 300 * DAY).toISOString() })

let sent = 0
const started = Date.now()

async function post(token: string, url: string, body: unknown, expected = 201, headers: Record<string, string> = {}): Promise<{ id: string }> {
  sent++
  const res = await h.call(token, 'POST', url, body, headers)
  if (res.statusCode !== expected) throw new Error(`fixture POST ${url} → ${res.statusCode}: ${res.body.slice(0, 400)}`)
  return res.json()
}

let fixtureCount = 0

async function invoiceBody(t: Tenant) {
  const customer = (await post(t.token, '/v1/customers', customerBody(t.teamIds[0]!, ++fixtureCount))).id
  return { customer_id: customer, line_items: [{ description: 'Airport transfer', quantity: 2, unit_amount: { amount: '25.00', currency: 'USD' } }] }
}
/**
 * How to make a real resource of tenant A (test mode) for each {id} prefix. A path whose {id}
 * names a resource not in this table fails with "add a fixture".
 */
const CREATORS: Record<string, { modeScoped: boolean; create: (t: Tenant) => Promise<string> }> = {
  lst: { modeScoped: true, create: async (t) => (await post(t.token, '/v1/listings', listingBody(t.teamIds[0]!, ++fixtureCount))).id },
  cus: { modeScoped: true, create: async (t) => (await post(t.token, '/v1/customers', customerBody(t.teamIds[0]!, ++fixtureCount))).id },
  bkg: {
    modeScoped: true,
    create: async (t) => {
      const listing = (await post(t.token, '/v1/listings', listingBody(t.teamIds[0]!, ++fixtureCount))).id
      const customer = (await post(t.token, '/v1/customers', customerBody(t.teamIds[0]!, fixtureCount))).id
      return (await post(t.token, '/v1/bookings', { listing_id: listing, customer_id: customer, guests: 2, ...nextStay() })).id
    },
  },
  // a token within the live twin's grants (it expires sooner), so only the mode tells them apart
  tok: { modeScoped: true, create: async (t) => (await t.addToken({ name: `matrix ${++fixtureCount}`, expires_at: new Date(Date.now() + 30 * DAY).toISOString() })).tokenId },
  evt: {
    modeScoped: true,
    create: async (t) => {
      const customer = (await post(t.token, '/v1/customers', customerBody(t.teamIds[0]!, ++fixtureCount))).id
      const res = await h.call(t.token, 'GET', '/v1/events?limit=20')
      const event = (res.json().data as { id: string; data: { id?: string } }[]).find((e) => e.data?.id === customer)
      if (!event) throw new Error(`fixture: no event for customer ${customer}: ${res.body.slice(0, 300)}`)
      return event.id
    },
  },
  whk: { modeScoped: true, create: async (t) => (await post(t.token, '/v1/webhooks', { url: `https://hooks.example.com/matrix/${++fixtureCount}` })).id },
  dlv: {
    modeScoped: true,
    create: async (t) => {
      const webhook = (await post(t.token, '/v1/webhooks', { url: `https://hooks.example.com/matrix/${++fixtureCount}` })).id
      return (await post(t.token, `/v1/webhooks/${webhook}:test`, undefined, 202)).id
    },
  },
  inv: { modeScoped: true, create: async (t) => (await post(t.token, '/v1/invoices', await invoiceBody(t))).id },
  pay: {
    modeScoped: true,
    create: async (t) => {
      const invoice = (await post(t.token, '/v1/invoices', await invoiceBody(t))).id
      return (await post(t.token, '/v1/payments', { invoice_id: invoice, amount: { amount: '10.00', currency: 'USD' }, method: 'CASH' }, 201, { 'idempotency-key': `matrix-${++fixtureCount}` })).id
    },
  },
  // teams exist in both modes: only tenancy applies
  team: { modeScoped: false, create: async (t) => t.teamIds[0]! },
}

/**
 * Bodies the generic builder (documented examples, then the smallest valid value) cannot make,
 * by operationId. Empty while the generic one works for every operation.
 */
const BODY_FIXTURES: Record<string, () => unknown> = {}

const ctxA: GenContext = { ids: { team: A.teamIds, lst: [], cus: [] }, token: A.token }

function validBody(op: Operation): unknown {
  if (!op.body) return undefined
  const fixture = BODY_FIXTURES[op.operationId]
  if (fixture) return fixture()
  const schema = op.body.content['application/json']
  if (!schema) throw new Error(`add a fixture for ${op.key} (${op.operationId}): its body is not application/json`)
  return exampleValue(schema, '', ctxA)
}

/** The required query parameters, with valid values (GET /v1/listings/{id}/calendar needs from and to). */
function requiredQuery(op: Operation): string {
  const pairs = op.parameters.filter((p) => p.in === 'query' && p.required)
  const values = exampleValue({ type: 'object', required: pairs.map((p) => p.name), properties: Object.fromEntries(pairs.map((p) => [p.name, p.schema])) }, '', ctxA) as Record<string, unknown>
  const query = Object.entries(values).map(([k, v]) => `${k}=${encodeURIComponent(Array.isArray(v) ? v.join(',') : String(v))}`)
  return query.length ? `?${query.join('&')}` : ''
}

/**
 * The read permission of every resource an operation reveals, by the document's own naming:
 * GET /v1/customers/{id}/bookings shows the customer and its bookings, so customer.read and
 * booking.read (a collection whose singular is not a permission — teams, availability — adds none).
 */
function readsRevealed(op: Operation): string[] {
  if (op.method !== 'GET') return []
  const collections = op.path.split('/').filter((seg) => /^[a-z][a-z-]*$/.test(seg) && !/^v\d+$/.test(seg))
  return collections.map((c) => `${c.replace(/ies$/, 'y').replace(/s$/, '')}.read`).filter((p) => (PERMISSIONS as readonly string[]).includes(p))
}

function request(op: Operation, token: string | null, id: string, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const params = Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, encodeURIComponent(id)]))
  const options: InjectOptions = {
    method: op.method as InjectOptions['method'],
    url: fillPath(op.path, params) + requiredQuery(op),
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  }
  sent++
  return h.inject(options)
}

const show = (res: LightMyRequestResponse) => `${res.statusCode} ${preview(res.body, 300)}`

describe('route matrix: every authenticated operation in /openapi.json', () => {
  it('the document lists the operations, each with x-required-permissions naming known permissions', () => {
    expect(operations.length).toBeGreaterThan(20)
    const problems: string[] = []
    for (const op of operations) {
      if (!op.requiredPermissions) problems.push(`${op.key}: no x-required-permissions`)
      else for (const p of op.requiredPermissions) if (!(PERMISSIONS as readonly string[]).includes(p)) problems.push(`${op.key}: unknown permission ${p}`)
    }
    expect(problems).toEqual([])
  })

  it('a read requires the read permission of every resource it reveals (GET /v1/customers/{id}/bookings: customer.read and booking.read)', () => {
    const problems: string[] = []
    for (const op of operations) {
      const missing = readsRevealed(op).filter((p) => !(op.requiredPermissions ?? []).includes(p))
      if (missing.length) problems.push(`${op.key}: x-required-permissions ${JSON.stringify(op.requiredPermissions ?? null)} lacks ${missing.join(', ')}`)
    }
    expect(problems).toEqual([])
  })

  for (const op of operations) {
    const prefix = idPrefixOf(op.path)
    // a path id names a resource of a tenant; {type} of a report names a kind, not a resource
    const hasId = op.parameters.some((p) => p.in === 'path' && p.name === 'id')

    it(`${op.key} (${op.operationId})`, async () => {
      const failures: string[] = []
      const dummyId = unknownId(prefix ?? 'x')
      const dummyBody = op.body ? {} : undefined
      const contract = (label: string, res: LightMyRequestResponse) => {
        for (const p of checker.check(op, res)) failures.push(`${label}: ${p.kind}${p.detail ? ` — ${p.detail}` : ''}`)
      }

      // (a) no token
      const anonymous = await request(op, null, dummyId, dummyBody)
      if (anonymous.statusCode !== 401 || errorOf(op, anonymous.json())?.code !== 'UNAUTHENTICATED') failures.push(`(a) no token → ${show(anonymous)}, expected 401 UNAUTHENTICATED`)
      if (!/^Bearer\b/.test(String(anonymous.headers['www-authenticate']))) failures.push(`(a) no token → WWW-Authenticate ${anonymous.headers['www-authenticate']}`)
      contract('(a) no token', anonymous)

      // (b) every role against the one table of rules; without x-required-permissions, a read is
      // held to the read permissions of what it reveals (the rule checked on the document above)
      if (!op.requiredPermissions) failures.push('(b) no x-required-permissions: the rule for this operation is not in the document')
      const required = op.requiredPermissions ?? (op.method === 'GET' && readsRevealed(op).length ? readsRevealed(op) : undefined)
      for (const role of ROLES) {
        const granted = ROLE_PERMISSIONS[role] as readonly string[]
        const res = await request(op, roleTokens[role], dummyId, dummyBody)
        const error = res.statusCode === 403 ? errorOf(op, res.json()) : undefined
        if (required) {
          const lacking = required.filter((p) => !granted.includes(p))
          if (lacking.length) {
            if (res.statusCode !== 403 || error?.code !== 'PERMISSION_DENIED') failures.push(`(b) ${role} lacks ${lacking.join(', ')} → ${show(res)}, expected 403 PERMISSION_DENIED`)
            else if (!lacking.includes(error.details?.required_permission)) failures.push(`(b) ${role}: details.required_permission ${error.details?.required_permission}, expected one of ${lacking.join(', ')}`)
          } else if (res.statusCode === 403) failures.push(`(b) ${role} has ${required.join(', ') || 'no required permission'} → ${show(res)}, expected no 403`)
        } else if (error && !(error.code === 'PERMISSION_DENIED' && !granted.includes(error.details?.required_permission))) {
          failures.push(`(b) ${role} → ${show(res)}: a 403 must name a permission the role lacks`)
        }
        if (res.statusCode === 403) contract(`(b) ${role}`, res)
      }

      if (!hasId) {
        expect(failures).toEqual([])
        return
      }

      // (c) and (d): a real resource of tenant A against an unknown id, same X-Request-Id
      const creator = prefix ? CREATORS[prefix] : undefined
      if (!creator) {
        failures.push(`add a fixture for ${op.key}: no creator for the resource its {id} names (prefix ${prefix ?? 'unknown'}) in CREATORS (test/route-matrix.test.ts)`)
        expect(failures).toEqual([])
        return
      }
      const realId = await creator.create(A)
      const otherId = unknownId(prefix!)
      const body = validBody(op)
      const requestId = `matrix-${op.operationId}`
      const compare = async (label: string, token: string) => {
        const theirs = await request(op, token, realId, body, { 'x-request-id': requestId })
        const unknown = await request(op, token, otherId, body, { 'x-request-id': requestId })
        if (unknown.statusCode === 400) {
          failures.push(`add a fixture for ${op.key} (${op.operationId}): the generic body ${preview(body, 200)} does not pass validation (${show(unknown)}); add it to BODY_FIXTURES`)
          return
        }
        if (theirs.statusCode !== 404 || errorOf(op, theirs.json())?.code !== notFoundCodeOf(op)) failures.push(`${label}: ${show(theirs)}, expected 404 ${notFoundCodeOf(op)}`)
        if (unknown.statusCode !== 404) failures.push(`${label}: the unknown id → ${show(unknown)}, expected 404`)
        if (theirs.body !== unknown.body) failures.push(`${label}: the 404 differs from the unknown id's:\n    theirs:  ${preview(theirs.body)}\n    unknown: ${preview(unknown.body)}`)
        contract(label, theirs)
      }
      await compare('(c) another tenant', B.token)
      if (creator.modeScoped) await compare('(d) live token, test-mode resource', liveA.token)

      // the resource is still there, unchanged in state, for its own tenant (the 404s touched nothing)
      const reads = operationsOf(doc).find((o) => o.method === 'GET' && o.path === `/v1/${op.path.split('/')[2]}/{id}`)
      if (reads && op.method !== 'GET') {
        const mine = await request(reads, A.token, realId, undefined)
        if (mine.statusCode !== 200) failures.push(`after (c)/(d): tenant A's own GET → ${show(mine)}, expected 200`)
      }
      expect(failures).toEqual([])
    })
  }

  afterAll(() => console.log(`route matrix: ${operations.length} operations × (no token, ${ROLES.length} roles, other tenant, other mode): ${sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s`))

  it('every role has a row in the rules table and the live twin differs from A.token only by mode', async () => {
    expect(Object.keys(ROLE_PERMISSIONS).sort()).toEqual([...ROLES].sort())
    const [test, live] = await Promise.all([h.call(A.token, 'GET', '/v1/me'), h.call(liveA.token, 'GET', '/v1/me')])
    expect(test.json().mode).toBe('test')
    expect(live.json().mode).toBe('live')
    expect(live.json().user.id).toBe(test.json().user.id)
  })
})
