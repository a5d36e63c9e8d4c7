import type { Scope } from '../http/list-query.ts'

/**
 * The tenancy predicate every repository query of tenant data starts with: the caller's partner,
 * mode and teams. One team is an equality (the (team_id, mode, …) indexes serve it exactly).
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
