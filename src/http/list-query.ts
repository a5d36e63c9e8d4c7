import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { ApiError } from '../platform/errors.ts'
import type { AuthContext } from '../modules/tokens/verifier.ts'
import type { ListPlan, Scope } from '../platform/keyset.ts'
import { parseFields, pick } from '../platform/pagination.ts'
import type { ListSpec } from '../platform/pagination.ts'

export type { ListPlan, Scope }
export { planList, teamForCreate, toPage } from '../platform/pagination.ts'
export type { ListSpec, Page } from '../platform/pagination.ts'

export const TeamIdsParam = Type.Optional(
  Type.Array(Type.String({ maxLength: 2000 }), {
    maxItems: 100,
    description: 'Narrow to these teams: a JSON array string (team_ids=["team_…","team_…"]) or repeated team_ids=team_….',
  }),
)

/** Parses team_ids (JSON array string, or repeated) and confines it to the token's teams. */
export function scopeOf(caller: AuthContext, teamIdsParam?: string[]): Scope {
  const base = { partnerId: caller.partnerId, mode: caller.mode, ...(caller.mode === 'test' && caller.testClockOffsetSeconds > 0 ? { clockOffsetMs: caller.testClockOffsetSeconds * 1000 } : {}) }
  if (!teamIdsParam || teamIdsParam.length === 0) return { ...base, teamIds: caller.teamIds, wholePartner: caller.teamIds.length === caller.partnerTeamCount }
  const requested: string[] = []
  for (const raw of teamIdsParam) {
    if (raw.trim().startsWith('[')) {
      let parsed: unknown
      try {
        parsed = JSON.parse(raw)
      } catch {
        throw new ApiError('INVALID_TEAM_IDS', 'team_ids is not valid JSON; send a JSON array of team ids, e.g. team_ids=["team_…"].', { team_ids: raw })
      }
      if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
        throw new ApiError('INVALID_TEAM_IDS', 'team_ids must be a JSON array of team id strings.', { team_ids: raw })
      }
      requested.push(...(parsed as string[]))
    } else {
      requested.push(...raw.split(',').map((s) => s.trim()).filter(Boolean))
    }
  }
  const outside = [...new Set(requested.filter((id) => !caller.teamIds.includes(id)))]
  if (outside.length > 0) throw new ApiError('INVALID_TEAM_IDS', 'team_ids names teams this token does not cover.', { invalid_team_ids: outside })
  if (requested.length === 0) throw new ApiError('INVALID_TEAM_IDS', 'team_ids is empty.', { team_ids: teamIdsParam })
  const teamIds = [...new Set(requested)]
  return { ...base, teamIds, wholePartner: teamIds.length === caller.partnerTeamCount }
}

export function listQuerySchema(spec: ListSpec) {
  const sorts = Object.keys(spec.sortKeys).flatMap((k) => [k, `-${k}`])
  return {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page, 1–100 (default 20).' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'pagination.next_cursor of the previous page.' })),
    sort: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: sorts, description: `Sort key; a leading - sorts descending. Default ${spec.defaultSort}.` })),
    fields: Type.Optional(Type.String({ maxLength: 1000, description: `Comma-separated top-level fields to return: ${spec.fields.join(', ')}.` })),
    team_ids: TeamIdsParam,
  }
}

/** Sends JSON that is already serialized (the route's serializer would quote it as a string). */
export function sendSerialized(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json)
}

/** A strong ETag of a resource's representation. */
export function etagOf(resource: object): string {
  return `"${createHash('sha1').update(JSON.stringify(resource)).digest('base64url')}"`
}

/** GET of one resource: ETag, If-None-Match → 304, fields=. */
export function sendResource<T extends object>(request: FastifyRequest, reply: FastifyReply, resource: T, spec: ListSpec, fields?: string): FastifyReply | T {
  const selected = parseFields(spec, fields)
  if (notModified(request, reply, etagOf(resource))) return sendNotModified(reply)
  if (!selected) return resource
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(pick(resource, selected)))
}

/** 304 Not Modified: no body at all (not even JSON null). */
export function sendNotModified(reply: FastifyReply): FastifyReply {
  return reply.code(304).send()
}

/** Sends the ETag of a single-resource GET; true when If-None-Match already names it (answer 304). */
export function notModified(request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  reply.header('etag', etag)
  const inm = request.headers['if-none-match']
  return Boolean(inm && (inm === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)))
}

/** PUT with If-Match: 412 unless it names the current representation. */
export function checkIfMatch(ifMatch: string | undefined, current: object): void {
  if (!ifMatch) return
  const etag = etagOf(current)
  if (ifMatch.trim() === '*') return
  if (!ifMatch.split(',').some((t) => t.trim() === etag)) {
    throw new ApiError('PRECONDITION_FAILED', 'The resource changed since you read it (If-Match does not match its ETag); GET it again and retry.', { current_etag: etag })
  }
}
