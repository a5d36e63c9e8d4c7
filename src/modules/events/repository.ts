import type { Queryable } from '../../platform/db.ts'
import { newId } from '../../platform/ids.ts'
import type { ListPlan, Scope } from '../../platform/keyset.ts'
import { pageSql, scopeSql } from '../../platform/keyset.ts'
import { deliver, endpointIdsSql } from '../webhooks/repository.ts'

export interface EventRow {
  id: string
  team_id: string
  mode: 'live' | 'test'
  event_type: string
  resource_type: string
  resource_id: string
  sequence: number
  data: Record<string, unknown>
  created_at: Date
  _sort_key: string
}

export interface NewEvent {
  partnerId: string
  teamId: string
  mode: 'live' | 'test'
  type: string
  resourceType: string
  resourceId: string
  /** The resource's version after the change: counts that resource's events. */
  sequence: number
  data: object
  now: Date
}

/**
 * recordEvent: the outbox write, always on the transaction of the change it records, with its
 * webhook deliveries (one per subscribed endpoint; onlyEndpointId: that endpoint alone, as
 * webhook.test). Returns the event's id.
 */
export async function recordEvent(tx: Queryable, event: NewEvent, onlyEndpointId?: string): Promise<string> {
  const id = newId('event')
  // an event about a webhook endpoint reaches only endpoints that see that endpoint (all its teams)
  const coveringTeams = event.resourceType === 'webhook' ? (event.data as { team_ids: string[] }).team_ids : undefined
  const ref = { id, partnerId: event.partnerId, teamId: event.teamId, mode: event.mode, type: event.type, resourceId: event.resourceId, sequence: event.sequence, now: event.now, coveringTeams }
  const params: unknown[] = [id, event.partnerId, event.teamId, event.mode, event.type, event.resourceType, event.resourceId, event.sequence, JSON.stringify(event.data), event.now]
  // the event and the look-up of its endpoints in one statement (a data-modifying WITH always runs)
  const { rows } = await tx.query<{ endpoints: string[] }>(
    `WITH event AS (
       INSERT INTO events (id, partner_id, team_id, mode, event_type, resource_type, resource_id, sequence, data, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     )
     SELECT ${endpointIdsSql(ref, params, onlyEndpointId)} AS endpoints`,
    params,
  )
  await deliver(tx, ref, rows[0]!.endpoints)
  return id
}

/** The dispatcher's read of an event (any tenant: it delivers what was fanned out to it). */
export async function findEventById(db: Queryable, id: string): Promise<EventRow | undefined> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS}, e.created_at::text AS _sort_key FROM events e WHERE e.id = $1`, [id])
  return rows[0]
}

const COLUMNS = 'e.id, e.team_id, e.mode, e.event_type, e.resource_type, e.resource_id, e.sequence, e.data, e.created_at'

export interface EventFilters {
  event_type?: string[]
  created_after?: string
  created_before?: string
  retention_start: Date
}

/**
 * Events are seen by the tokens of their team, except an event about a webhook endpoint: it is
 * seen only by a token that sees the endpoint, one that covers all of the endpoint's teams.
 */
function webhookEventsSql(scope: Scope, params: unknown[]): string {
  params.push(JSON.stringify(scope.teamIds))
  return ` AND (e.resource_type <> 'webhook' OR (e.data -> 'team_ids') <@ $${params.length}::jsonb)`
}

export async function listEvents(db: Queryable, scope: Scope, filters: EventFilters, plan: ListPlan): Promise<EventRow[]> {
  const params: unknown[] = []
  params.push(filters.retention_start)
  let where = ` AND e.created_at > $${params.length}` + webhookEventsSql(scope, params)
  if (filters.event_type) {
    params.push(filters.event_type)
    where += ` AND e.event_type = ANY($${params.length})`
  }
  if (filters.created_after) {
    params.push(filters.created_after)
    where += ` AND e.created_at > $${params.length}`
  }
  if (filters.created_before) {
    params.push(filters.created_before)
    where += ` AND e.created_at < $${params.length}`
  }
  const { rows } = await db.query<EventRow>(pageSql({ from: 'events e', alias: 'e', columns: COLUMNS, scope, filters: where, params, plan }), params)
  return rows
}

export async function findEvent(db: Queryable, scope: Scope, id: string): Promise<(EventRow & { _sort_key: string }) | undefined> {
  const params: unknown[] = [id]
  const where = scopeSql('e', scope, params) + webhookEventsSql(scope, params)
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS}, e.created_at::text AS _sort_key FROM events e WHERE e.id = $1 AND ${where}`, params)
  return rows[0]
}
