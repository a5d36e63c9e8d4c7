import { ApiError } from './errors.ts'
import type { FieldErrors } from './errors.ts'
import type { CursorCodec } from './cursor.ts'
import { bindingOf } from './cursor.ts'
import type { ListPlan, Scope } from './keyset.ts'

/**
 * Lists as the services see them, whatever the surface: a resource's list contract (sort keys,
 * fields), the plan of one page (sort, keyset position from a signed cursor bound to the filters),
 * and the page with its next cursor. Rendering a page (the v1 envelope, page/limit …) is the
 * surface's business.
 */
/** The team a new resource goes to: the given one (within the token), or the token's only team. */
export function teamForCreate(scope: Scope, teamId: string | undefined, errors: FieldErrors): string {
  if (teamId === undefined) {
    if (scope.teamIds.length === 1) return scope.teamIds[0]!
    errors.add('team_id', 'required', 'is required when the token covers several teams')
    return ''
  }
  if (!scope.teamIds.includes(teamId)) throw new ApiError('INVALID_TEAM_IDS', 'team_id is not a team this token covers.', { invalid_team_ids: [teamId] })
  return teamId
}

/** A resource's list contract: its sort keys (column + SQL type) and its top-level fields. */
export interface ListSpec {
  resource: string
  sortKeys: Record<string, { column: string; type: 'timestamptz' | 'date' | 'text' }>
  defaultSort: string
  fields: readonly string[]
}

export function parseFields(spec: ListSpec, fields: string | undefined): string[] | null {
  if (fields === undefined) return null
  const names = fields.split(',').map((f) => f.trim()).filter(Boolean)
  const unknown = names.filter((f) => !spec.fields.includes(f))
  if (names.length === 0 || unknown.length > 0) {
    const message = names.length === 0 ? 'is empty' : `names unknown fields: ${unknown.join(', ')}`
    throw new ApiError('VALIDATION_ERROR', `fields ${message}; known fields: ${spec.fields.join(', ')}.`, {
      fields: [{ field: 'fields', location: 'query', code: 'enum', message, unknown_fields: unknown }],
    })
  }
  return [...new Set(names)]
}

/**
 * Plans one page: the sort, the keyset position from the cursor, and the cursor's binding (the
 * resource, scope, filters and sort), so a cursor only continues the walk it came from.
 */
export function planList(
  spec: ListSpec,
  query: { limit?: number; cursor?: string; sort?: string; fields?: string },
  scope: Scope,
  filters: object,
  codec: CursorCodec,
): ListPlan {
  const sort = query.sort ?? spec.defaultSort
  const desc = sort.startsWith('-')
  const key = spec.sortKeys[desc ? sort.slice(1) : sort]
  if (!key) throw new ApiError('VALIDATION_ERROR', `Unknown sort ${sort}.`, { fields: [{ field: 'sort', location: 'query', code: 'enum', message: 'is not a sort key' }] })
  const binding = bindingOf([spec.resource, scope.partnerId, scope.mode, [...scope.teamIds].sort(), filters, sort])
  return {
    limit: query.limit ?? 20,
    column: key.column,
    type: key.type,
    desc,
    after: query.cursor ? codec.decode(query.cursor, binding) : null,
    binding,
    fields: parseFields(spec, query.fields),
  }
}

export interface Page<T> {
  data: T[]
  pagination: { next_cursor: string | null; has_more: boolean }
}

/** Turns limit+1 rows into a page and its next cursor. */
export function toPage<Row extends { id: string; _sort_key: string }, T>(rows: Row[], plan: ListPlan, codec: CursorCodec, map: (row: Row) => T): Page<T> {
  const hasMore = rows.length > plan.limit
  const pageRows = hasMore ? rows.slice(0, plan.limit) : rows
  const last = pageRows[pageRows.length - 1]
  return {
    data: pageRows.map(map),
    pagination: { next_cursor: hasMore && last ? codec.encode({ key: last._sort_key, id: last.id }, plan.binding) : null, has_more: hasMore },
  }
}

export function pick<T extends object>(resource: T, fields: readonly string[] | null): Partial<T> {
  if (!fields) return resource
  const out: Record<string, unknown> = {}
  for (const f of fields) out[f] = (resource as Record<string, unknown>)[f]
  return out as Partial<T>
}

