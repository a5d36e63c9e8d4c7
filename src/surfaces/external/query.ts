import Type from 'typebox'
import { scopeOf } from '../../http/list-query.ts'
import { stringEnum } from '../../http/schemas.ts'
import type { AuthContext } from '../../modules/tokens/verifier.ts'
import { isCalendarDate } from '../../platform/dates.ts'
import { ApiError } from '../../platform/errors.ts'
import type { Scope } from '../../platform/keyset.ts'
import type { NumberedQuery } from '../../platform/numbered-pages.ts'

/**
 * The External API's query language (seed 000): page/limit (or cursor), team_ids as a JSON array
 * string, state, sort_by + sort_order, and date filters — with the guide's error codes.
 */

const DATE_DESCRIPTION = 'An ISO 8601 date-time (2026-05-02T15:22:00Z) or a calendar date YYYY-MM-DD (midnight UTC); anything else is 400 EXTERNAL_INVALID_DATE_FORMAT.'

export function pageQuerySchema(sortKeys: readonly string[]) {
  return {
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Page number, from 1 (default 1). Ignored when cursor is given.', 'x-openapi': { default: 1 } })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Items per page, 1–100 (default 20).', 'x-openapi': { default: 20 } })),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description:
          'next_cursor of the previous page: continues that walk (same filters and sort) without skipping or repeating items when data changes meanwhile. ' +
          'With cursor, page is not used: the answer\'s page is the number of the page the cursor leads to.',
      }),
    ),
    team_ids: Type.Optional(
      Type.String({
        maxLength: 4000,
        description:
          'A JSON array string of team ids, team_ids=["team_…","team_…"]. Only the token\'s teams are used; others are dropped (none left: an empty list). ' +
          'Not a JSON array of strings or numbers: 400 EXTERNAL_INVALID_REQUEST. Without it: every team of the token.',
      }),
    ),
    sort_by: Type.Optional(stringEnum(sortKeys, { description: `One of ${sortKeys.join(', ')} (default created_at); another value is 400 VALIDATION_ERROR.` })),
    sort_order: Type.Optional(stringEnum(['asc', 'desc'], { description: 'asc or desc (default desc).' })),
    created_after: Type.Optional(Type.String({ maxLength: 64, description: `Created strictly after. ${DATE_DESCRIPTION}` })),
    created_before: Type.Optional(Type.String({ maxLength: 64, description: `Created strictly before. ${DATE_DESCRIPTION}` })),
  }
}

export function stateQuery(states: readonly string[]) {
  // the document's pattern (a comma list of the states); the surface checks it itself, to answer its own code
  const one = `(${states.join('|')})`
  return Type.Optional(
    Type.String({ maxLength: 500, description: `One of ${states.join(', ')}, or several comma-separated; another value is 400 EXTERNAL_INVALID_STATE.`, 'x-openapi': { pattern: `^${one}(,${one})*$` } }),
  )
}

export interface PageParams {
  page?: number
  limit?: number
  cursor?: string
  team_ids?: string
  sort_by?: string
  sort_order?: 'asc' | 'desc'
}

export function numberedQueryOf(q: PageParams): NumberedQuery {
  return { page: q.page, limit: q.limit, cursor: q.cursor, sort: `${q.sort_order === 'asc' ? '' : '-'}${q.sort_by ?? 'created_at'}` }
}

/**
 * The token's scope narrowed by team_ids. As the guide says, only the token's teams are used: a
 * team outside it is dropped silently (so another tenant's team id reveals nothing); the guide's
 * numeric placeholders ([1,2,3]) parse, and match no team.
 */
export function externalScope(caller: AuthContext, teamIds: string | undefined): Scope {
  const scope = scopeOf(caller)
  if (teamIds === undefined) return scope
  let parsed: unknown
  try {
    parsed = JSON.parse(teamIds)
  } catch {
    throw invalidTeamIds('team_ids is not valid JSON; send a JSON array string, e.g. team_ids=["team_…","team_…"].')
  }
  if (!Array.isArray(parsed) || parsed.length > 100 || !parsed.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
    throw invalidTeamIds('team_ids must be a JSON array of at most 100 team ids, e.g. team_ids=["team_…","team_…"].')
  }
  const requested = new Set(parsed.map(String))
  const kept = caller.teamIds.filter((id) => requested.has(id))
  return { ...scope, teamIds: kept, wholePartner: kept.length === caller.partnerTeamCount }
}

function invalidTeamIds(message: string): ApiError {
  return new ApiError('EXTERNAL_INVALID_REQUEST', message, { field: 'team_ids' })
}

/** state=A or state=A,B: each a known state, else EXTERNAL_INVALID_STATE listing the allowed ones. */
export function parseStates<T extends string>(raw: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (raw === undefined) return undefined
  const values = [...new Set(raw.split(',').map((v) => v.trim()))]
  const unknown = values.filter((v) => !(allowed as readonly string[]).includes(v))
  if (unknown.length > 0 || values.length === 0) {
    throw new ApiError('EXTERNAL_INVALID_STATE', `state must be one of ${allowed.join(', ')} (or several, comma-separated); got ${JSON.stringify(raw)}.`, { field: 'state', allowed_states: allowed, invalid_states: unknown })
  }
  return (values as T[]).sort()
}

const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/i

/** A date filter as an instant (ISO, for a timestamptz): a date-time with its offset, or a calendar date at midnight UTC. */
export function parseInstant(field: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (isCalendarDate(raw)) return `${raw}T00:00:00Z`
  const m = DATE_TIME.exec(raw)
  if (m && isCalendarDate(m[1]!) && !Number.isNaN(Date.parse(raw))) return raw
  throw invalidDate(field, raw)
}

/** A date filter on a calendar-date column (check_in): a calendar date, or the UTC date of a date-time. */
export function parseDay(field: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (isCalendarDate(raw)) return raw
  const instant = parseInstant(field, raw)!
  return new Date(instant).toISOString().slice(0, 10)
}

function invalidDate(field: string, raw: string): ApiError {
  return new ApiError('EXTERNAL_INVALID_DATE_FORMAT', `${field} must be an ISO 8601 date-time (2026-05-02T15:22:00Z) or a calendar date YYYY-MM-DD; got ${JSON.stringify(raw)}.`, { field, value: raw })
}
