import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { etagOf, notModified, scopeOf, sendNotModified, sendSerialized } from '../../http/list-query.ts'
import { PathId, Timestamp, idSchema, listOf } from '../../http/schemas.ts'
import { BUCKETS } from '../../modules/limits/buckets.ts'
import type { ServicesFor } from '../../modules/services.ts'
import type { AuthContext } from '../../modules/tokens/verifier.ts'
import type { DeprecatedOperation } from '../../http/deprecation.ts'
import type { DeprecatedCalls } from '../../modules/usage/deprecated-calls.ts'

const TeamSchema = Type.Object({ id: idSchema('team'), name: Type.String(), created_at: Timestamp }, { title: 'Team', additionalProperties: false })

const MeSchema = Type.Object(
  {
    token: Type.Object({ id: idSchema('tok'), name: Type.String(), prefix: Type.String(), expires_at: Timestamp, scopes: Type.Union([Type.Array(Type.String()), Type.Null()]) }),
    partner: Type.Object({ id: idSchema('ptn'), name: Type.String() }),
    user: Type.Object({ id: idSchema('usr'), name: Type.String(), email: Type.String() }),
    role: Type.String(),
    mode: Type.Union([Type.Literal('live'), Type.Literal('test')]),
    permissions: Type.Array(Type.String()),
    teams: Type.Array(Type.Object({ id: idSchema('team'), name: Type.String() })),
    rate_limits: Type.Array(Type.Object({ bucket: Type.String(), limit: Type.Integer(), window_seconds: Type.Integer() })),
    deprecated_operations: Type.Array(
      Type.Object(
        {
          operation_id: Type.String(),
          method: Type.String(),
          path: Type.String(),
          calls: Type.Integer({ minimum: 1, description: 'Calls by this token in the last 30 days (UTC days).' }),
          last_called_at: Timestamp,
          replaced_by: Type.String({ description: 'The operation to move to, e.g. GET /v2/bookings.' }),
          sunset_at: Timestamp,
        },
        { additionalProperties: false },
      ),
      {
        description:
          'The deprecated operations this token called in the last 30 days, most called first: what to migrate before their sunset. ' +
          'Counts reach this list within about a minute when another server instance answered the calls.',
      },
    ),
  },
  { title: 'Me', additionalProperties: false },
)

function meBody(me: AuthContext): Omit<Type.Static<typeof MeSchema>, 'deprecated_operations'> {
  return {
    token: { id: me.tokenId, name: me.tokenName, prefix: me.tokenPrefix, expires_at: me.expiresAt.toISOString(), scopes: me.scopes },
    partner: { id: me.partnerId, name: me.partnerName },
    user: { id: me.userId, name: me.userName, email: me.userEmail },
    role: me.role,
    mode: me.mode,
    permissions: [...me.permissions],
    teams: me.teams,
    rate_limits: BUCKETS.map((bucket) => ({ bucket, limit: me.rateLimits[bucket], window_seconds: 60 })),
  }
}

/** Serialized GET /v1/me bodies of tokens that called no deprecated operation, per cached token context (gone with the context). */
const meBodies = new WeakMap<AuthContext, { json: string; etag: string }>()

/** The calling token's own context: needs a valid token, no permission. */
export const identityRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor; deprecated: Map<string, DeprecatedOperation>; deprecatedCalls: DeprecatedCalls }> = async (
  app,
  { svc, deprecated, deprecatedCalls },
) => {
  app.get(
    '/v1/me',
    {
      config: { bucket: 'read' },
      schema: {
        operationId: 'getMe',
        summary: 'Describe the calling token',
        description:
          'Partner, user, role, effective permissions, teams, mode, expiry and rate-limit buckets of the token that calls, and the deprecated operations it called in the last 30 days.',
        tags: ['Identity'],
        response: { 200: MeSchema, 304: { description: 'Not modified (If-None-Match).', type: 'null' } },
      },
    },
    async (request, reply) => {
      const me = callerOf(request)
      const usage = await deprecatedCalls.usage(me.tokenId)
      if (usage.length > 0) {
        const body = {
          ...meBody(me),
          deprecated_operations: usage.flatMap((u) => {
            const op = deprecated.get(u.operation_id)
            return op ? [{ operation_id: u.operation_id, method: op.method, path: op.path, calls: u.calls, last_called_at: u.last_called_at, replaced_by: op.replaced_by, sunset_at: op.sunset_at }] : []
          }),
        }
        const etag = etagOf(body)
        return notModified(request, reply, etag) ? sendNotModified(reply) : sendSerialized(reply, JSON.stringify(body))
      }
      // otherwise the answer depends only on the (cached) token context: serialize it (and its ETag) once per context
      let cached = meBodies.get(me)
      if (cached === undefined) {
        const body = { ...meBody(me), deprecated_operations: [] }
        cached = { json: JSON.stringify(body), etag: etagOf(body) }
        meBodies.set(me, cached)
      }
      if (notModified(request, reply, cached.etag)) return sendNotModified(reply)
      return sendSerialized(reply, cached.json)
    },
  )

  app.get(
    '/v1/teams',
    {
      config: { bucket: 'read' },
      schema: { operationId: 'listTeams', summary: 'List the teams the token covers', tags: ['Identity'], response: { 200: listOf(TeamSchema) } },
    },
    async (request) => {
      return { data: await svc(request).teams.list(scopeOf(callerOf(request))), pagination: { next_cursor: null, has_more: false } }
    },
  )

  app.get(
    '/v1/teams/:id',
    {
      config: { bucket: 'read' },
      schema: { operationId: 'getTeam', summary: 'Get a team the token covers', tags: ['Identity'], params: PathId, response: { 200: TeamSchema, 304: { description: 'Not modified (If-None-Match).', type: 'null' } } },
    },
    async (request, reply) => {
      const team = await svc(request).teams.get(scopeOf(callerOf(request)), request.params.id)
      return notModified(request, reply, etagOf(team)) ? sendNotModified(reply) : team
    },
  )
}
