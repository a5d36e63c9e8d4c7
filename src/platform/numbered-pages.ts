import { ApiError } from './errors.ts'
import type { CursorCodec } from './cursor.ts'
import type { ListPlan, Scope } from './keyset.ts'
import { planList } from './pagination.ts'
import type { ListSpec } from './pagination.ts'

/**
 * Numbered pages (the External API's page/limit, API.md §13) over the same keyset walks as the
 * cursor lists: page N skips (N − 1) × limit rows of the walk; a cursor continues the walk from
 * its row instead (no rows skipped, nothing missed or repeated under concurrent inserts). Every
 * page also gives the next page's cursor, so a client may start by number and go on by cursor.
 * A cursor carries the number of the page it leads to (signed with the row), so walking by
 * cursor still says which page it is.
 */
export interface NumberedQuery {
  page?: number
  limit?: number
  cursor?: string
  /** A sort of the spec: created_at, -created_at … */
  sort?: string
}

export interface NumberedPage<T> {
  items: T[]
  total: number
  page: number
  limit: number
  total_pages: number
  next_cursor: string | null
}

/** The page number rides in the cursor's id ("<row id>#<page>"): row ids never hold a '#'. */
const PAGE_MARK = '#'

export async function numberedPage<Row extends { id: string; _sort_key: string }, T>(
  spec: ListSpec,
  query: NumberedQuery,
  scope: Scope,
  filters: object,
  codec: CursorCodec,
  io: { rows: (plan: ListPlan, offset: number) => Promise<Row[]>; total: () => Promise<number>; present: (row: Row) => T },
): Promise<NumberedPage<T>> {
  const limit = query.limit ?? 20
  const plan = planList(spec, { limit, cursor: query.cursor, sort: query.sort }, scope, filters, codec)
  let page = query.page ?? 1
  if (plan.after) {
    const mark = plan.after.id.lastIndexOf(PAGE_MARK)
    page = Number(plan.after.id.slice(mark + 1))
    if (mark <= 0 || !Number.isSafeInteger(page) || page < 2) throw new ApiError('INVALID_CURSOR')
    plan.after = { key: plan.after.key, id: plan.after.id.slice(0, mark) }
  }
  // a token narrowed to no team (team_ids naming none of its own) sees nothing: no query at all
  if (scope.teamIds.length === 0) return { items: [], total: 0, page, limit, total_pages: 0, next_cursor: null }
  const offset = plan.after ? 0 : (page - 1) * limit
  const [rows, total] = await Promise.all([io.rows(plan, offset), io.total()])
  const hasMore = rows.length > limit
  const pageRows = hasMore ? rows.slice(0, limit) : rows
  const last = pageRows[pageRows.length - 1]
  return {
    items: pageRows.map(io.present),
    total,
    page,
    limit,
    total_pages: Math.ceil(total / limit),
    next_cursor: hasMore && last ? codec.encode({ key: last._sort_key, id: `${last.id}${PAGE_MARK}${page + 1}` }, plan.binding) : null,
  }
}
