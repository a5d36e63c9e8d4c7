import type { Mode } from '../config.ts'
import type { CursorPosition } from './cursor.ts'

/** Where a request may look: the partner, mode and teams of its token, narrowed by team_ids. */
export interface Scope {
  partnerId: string
  mode: Mode
  teamIds: string[]
  /**
   * A hint that teamIds are all of the partner's teams, so a list can walk the partner-wide index
   * (partner_id, mode, sort, id). Never a grant: the walk still filters on teamIds, so a stale hint
   * (a team added since) costs time, not tenancy.
   */
  wholePartner?: boolean
  /**
   * Test mode only: how far the partner's test clock runs ahead (ms), so the request's data runs on
   * the partner's test time (modules/test-clock nowIn). Never set on a live scope.
   */
  clockOffsetMs?: number
}

/** One page of a list: its size, sort and keyset position (planned by http/list-query.ts). */
export interface ListPlan {
  limit: number
  /** The sort column, qualified (b.created_at). */
  column: string
  /** Its SQL type, for the cursor's key. */
  type: string
  desc: boolean
  after: CursorPosition | null
  binding: string
  fields: string[] | null
}

/**
 * The tenancy predicate of a query of tenant data: the caller's partner, mode and teams. One team
 * is an equality (the (team_id, mode, …) indexes serve it exactly).
 */
export function scopeSql(alias: string, scope: Scope, params: unknown[]): string {
  params.push(scope.partnerId, scope.mode)
  const base = `${alias}.partner_id = $${params.length - 1} AND ${alias}.mode = $${params.length}`
  if (scope.teamIds.length === 1) {
    params.push(scope.teamIds[0])
    return `${base} AND ${alias}.team_id = $${params.length}`
  }
  params.push(scope.teamIds)
  return `${base} AND ${alias}.team_id = ANY($${params.length})`
}

/** SQL for "rows after the cursor, in order, one more than a page": appended to a WHERE. */
export function keysetSql(plan: ListPlan, params: unknown[], idColumn: string): { where: string; orderLimit: string; sortKeySelect: string } {
  let where = ''
  if (plan.after) {
    params.push(plan.after.key, plan.after.id)
    const op = plan.desc ? '<' : '>'
    where = ` AND (${plan.column}, ${idColumn}) ${op} ($${params.length - 1}::${plan.type}, $${params.length})`
  }
  const dir = plan.desc ? 'DESC' : 'ASC'
  return {
    where,
    orderLimit: ` ORDER BY ${plan.column} ${dir}, ${idColumn} ${dir} LIMIT ${plan.limit + 1}`,
    sortKeySelect: `${plan.column}::text AS _sort_key`,
  }
}

export interface PageQuery {
  /** The table and its alias: `bookings b`. */
  from: string
  alias: string
  /** The select list (each resource's columns, the alias's id among them as id). */
  columns: string
  scope: Scope
  /** Predicates beyond tenancy, each starting with AND, their values already in params. */
  filters: string
  params: unknown[]
  plan: ListPlan
}

/**
 * The SQL of one page of any list, served by walking an index in order whatever the token:
 * - one team: (team_id, mode, sort, id) = one index range scan, stopping after limit + 1 rows;
 * - several teams: `team_id = ANY(…) ORDER BY …` would read and sort every row of every team
 *   (the audit measured 180 ms a page with 200,000 bookings in one of two teams). Instead each
 *   team's index is walked by a subquery of its own that stops after limit + 1 rows, and those
 *   teams × (limit + 1) rows are merged: the cost grows with the number of teams and the page
 *   size, never with the number of rows, on the first page and a deep page alike.
 *
 * Each team is its own UNION ALL branch with its own parameter, not a LATERAL over unnest():
 * inside a LATERAL the team is an outer reference, so PostgreSQL estimates it with the average
 * rows per team (a handful, in a database of many small tenants), may take another index and
 * sort a big team's rows whole (seen: 3,042 rows read for a 51-row page). With the team's value
 * in hand the planner sees a big team as big and walks its index in order.
 *
 * Planning those branches is most of what a many-team page costs (20 teams: about 1.5 ms of
 * planning for 0.4 ms of execution). When the token covers every team of the partner (the demo
 * token, an owner's token) the partner-wide index (partner_id, mode, sort, id) serves the page in
 * one walk of limit + 1 rows, the team filter kept (it passes every row that walk meets).
 */
export function pageSql(q: PageQuery): string {
  const { alias, plan, params } = q
  const keyset = keysetSql(plan, params, `${alias}.id`)
  if (q.scope.teamIds.length === 1 || q.scope.wholePartner) {
    const scope = scopeSql(alias, q.scope, params)
    return `SELECT ${q.columns}, ${keyset.sortKeySelect} FROM ${q.from} WHERE ${scope}${q.filters}${keyset.where}${keyset.orderLimit}`
  }
  params.push(q.scope.partnerId, q.scope.mode)
  const [partner, mode] = [params.length - 1, params.length]
  const branches = q.scope.teamIds.map((teamId) => {
    params.push(teamId)
    return (
      `(SELECT ${q.columns}, ${keyset.sortKeySelect}, ${plan.column} AS _sort_value FROM ${q.from} ` +
      `WHERE ${alias}.partner_id = $${partner} AND ${alias}.mode = $${mode} AND ${alias}.team_id = $${params.length}${q.filters}${keyset.where}${keyset.orderLimit})`
    )
  })
  const dir = plan.desc ? 'DESC' : 'ASC'
  return `SELECT page.* FROM (${branches.join(' UNION ALL ')}) page ORDER BY page._sort_value ${dir}, page.id ${dir} LIMIT ${plan.limit + 1}`
}
