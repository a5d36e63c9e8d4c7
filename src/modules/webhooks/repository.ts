import type { Queryable } from '../../platform/db.ts'
import { newId } from '../../platform/ids.ts'
import type { ListPlan, Scope } from '../../platform/keyset.ts'
import { keysetSql } from '../../platform/keyset.ts'

/** Wakes dispatchers (LISTEN) when deliveries commit: PostgreSQL and PGlite deliver a NOTIFY at commit. */
export const DELIVERIES_CHANNEL = 'tvb_webhook_deliveries'

export interface EndpointRow {
  id: string
  partner_id: string
  mode: 'live' | 'test'
  team_ids: string[]
  url: string
  description: string
  event_types: string[]
  enabled: boolean
  disabled_reason: 'manual' | 'gone' | 'failing' | null
  api_version: string
  secret: string
  previous_secret: string | null
  previous_secret_valid_until: Date | null
  failing_since: Date | null
  version: number
  created_at: Date
  updated_at: Date
}

export interface EndpointValues {
  url: string
  description: string
  event_types: string[]
  team_ids: string[]
  enabled: boolean
  api_version: string
}

const ENDPOINT_COLUMNS = `w.id, w.partner_id, w.mode, w.team_ids, w.url, w.description, w.event_types, w.enabled, w.disabled_reason, w.api_version,
  w.secret, w.previous_secret, w.previous_secret_valid_until, w.failing_since, w.version, w.created_at, w.updated_at`

/**
 * An endpoint is visible to a token that covers all of its teams (as tokens are): a token of one
 * team never sees, changes or learns of an endpoint that also receives another team's events.
 */
function visibleSql(scope: Scope, params: unknown[]): string {
  params.push(scope.partnerId, scope.mode, scope.teamIds)
  return `w.partner_id = $${params.length - 2} AND w.mode = $${params.length - 1} AND w.team_ids <@ $${params.length}::text[]`
}

export async function insertEndpoint(db: Queryable, e: { id: string; partnerId: string; mode: string; secret: string; now: Date } & EndpointValues): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `INSERT INTO webhook_endpoints AS w (id, partner_id, mode, team_ids, url, description, event_types, enabled, disabled_reason, api_version, secret, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $8 THEN NULL ELSE 'manual' END, $9, $10, $11, $11)
     RETURNING ${ENDPOINT_COLUMNS}`,
    [e.id, e.partnerId, e.mode, e.team_ids, e.url, e.description, e.event_types, e.enabled, e.api_version, e.secret, e.now],
  )
  return rows[0]!
}

export async function countEndpoints(db: Queryable, partnerId: string, mode: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoints WHERE partner_id = $1 AND mode = $2', [partnerId, mode])
  return rows[0]!.n
}

export async function findEndpoint(db: Queryable, scope: Scope, id: string, forUpdate = false): Promise<EndpointRow | undefined> {
  const params: unknown[] = [id]
  const { rows } = await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE w.id = $1 AND ${visibleSql(scope, params)}${forUpdate ? ' FOR UPDATE' : ''}`, params)
  return rows[0]
}

/** The dispatcher's read: any tenant, by id. */
export async function findEndpointById(db: Queryable, id: string): Promise<EndpointRow | undefined> {
  const { rows } = await db.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE w.id = $1`, [id])
  return rows[0]
}

export async function listEndpoints(db: Queryable, scope: Scope, plan: ListPlan): Promise<(EndpointRow & { _sort_key: string })[]> {
  const params: unknown[] = []
  const where = visibleSql(scope, params)
  const keyset = keysetSql(plan, params, 'w.id')
  const { rows } = await db.query<EndpointRow & { _sort_key: string }>(`SELECT ${ENDPOINT_COLUMNS}, ${keyset.sortKeySelect} FROM webhook_endpoints w WHERE ${where}${keyset.where}${keyset.orderLimit}`, params)
  return rows
}

export async function updateEndpoint(db: Queryable, scope: Scope, id: string, v: EndpointValues, now: Date): Promise<EndpointRow> {
  const params: unknown[] = [id, v.url, v.description, v.event_types, v.team_ids, v.enabled, v.api_version, now]
  const { rows } = await db.query<EndpointRow>(
    `UPDATE webhook_endpoints w SET url = $2, description = $3, event_types = $4, team_ids = $5, api_version = $7,
       -- enabling again starts afresh; disabling by hand says so
       enabled = $6, disabled_reason = CASE WHEN $6 THEN NULL WHEN w.enabled THEN 'manual' ELSE w.disabled_reason END,
       failing_since = CASE WHEN $6 AND NOT w.enabled THEN NULL ELSE w.failing_since END,
       version = version + 1, updated_at = $8
     WHERE w.id = $1 AND ${visibleSql(scope, params)} RETURNING ${ENDPOINT_COLUMNS}`,
    params,
  )
  return rows[0]!
}

export async function deleteEndpoint(db: Queryable, scope: Scope, id: string): Promise<boolean> {
  const params: unknown[] = [id]
  const { rowCount } = await db.query(`DELETE FROM webhook_endpoints w WHERE w.id = $1 AND ${visibleSql(scope, params)}`, params)
  return (rowCount ?? 0) > 0
}

export async function rotateSecret(db: Queryable, scope: Scope, id: string, secret: string, previousValidUntil: Date, now: Date): Promise<EndpointRow> {
  const params: unknown[] = [id, secret, previousValidUntil, now]
  const { rows } = await db.query<EndpointRow>(
    `UPDATE webhook_endpoints w SET previous_secret = w.secret, previous_secret_valid_until = $3, secret = $2, version = version + 1, updated_at = $4
     WHERE w.id = $1 AND ${visibleSql(scope, params)} RETURNING ${ENDPOINT_COLUMNS}`,
    params,
  )
  return rows[0]!
}

/** The dispatcher disables an endpoint (410 Gone, or 5 days failing); false when it already was. */
export async function disableEndpoint(db: Queryable, id: string, reason: 'gone' | 'failing', now: Date): Promise<EndpointRow | undefined> {
  const { rows } = await db.query<EndpointRow>(
    `UPDATE webhook_endpoints w SET enabled = false, disabled_reason = $2, version = version + 1, updated_at = $3
     WHERE w.id = $1 AND w.enabled RETURNING ${ENDPOINT_COLUMNS}`,
    [id, reason, now],
  )
  return rows[0]
}

/** A failed attempt starts the endpoint's failing streak (kept until a success ends it); returns its start. */
export async function markEndpointFailing(db: Queryable, id: string, now: Date): Promise<Date | null> {
  const { rows } = await db.query<{ failing_since: Date | null }>('UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1 RETURNING failing_since', [id, now])
  return rows[0]?.failing_since ?? null
}

// ---------------------------------------------------------------------------------------------
// Deliveries

export interface NewEventRef {
  id: string
  partnerId: string
  teamId: string
  mode: string
  type: string
  resourceId: string
  sequence: number
  now: Date
  /** Only endpoints covering all these teams receive it (an event about a webhook endpoint). */
  coveringTeams?: string[] | undefined
}

/**
 * The endpoints an event goes to: every enabled endpoint of its partner, mode and team that
 * subscribes to its type (no event types = all), or only onlyEndpointId (webhook.test). A SQL
 * expression yielding their ids as an array, its values appended to params, so the event's own
 * INSERT can carry the look-up (one statement per event, endpoints or none).
 */
export function endpointIdsSql(event: NewEventRef, params: unknown[], onlyEndpointId?: string): string {
  if (onlyEndpointId) {
    params.push(onlyEndpointId)
    return `ARRAY(SELECT id FROM webhook_endpoints WHERE id = $${params.length})`
  }
  params.push(event.partnerId, event.mode, event.teamId, event.type, event.coveringTeams ?? [])
  const [partner, mode, team, type, covering] = [5, 4, 3, 2, 1].map((back) => `$${params.length - back + 1}`)
  return `ARRAY(SELECT id FROM webhook_endpoints WHERE partner_id = ${partner} AND mode = ${mode} AND enabled AND ${team} = ANY(team_ids)
    AND (cardinality(event_types) = 0 OR ${type} = ANY(event_types)) AND team_ids @> ${covering}::text[] ORDER BY id)`
}

/**
 * The fan-out, on the event's own transaction: one PENDING delivery per endpoint the event goes to
 * (endpointIdsSql, read with the event's insert). An event that rolls back takes its deliveries
 * with it; a NOTIFY, in the same statement, wakes the dispatchers at commit. Returns how many.
 */
export async function deliver(tx: Queryable, event: NewEventRef, endpointIds: readonly string[]): Promise<number> {
  if (endpointIds.length === 0) return 0
  const values: unknown[] = [event.id, event.partnerId, event.mode, event.type, event.resourceId, event.sequence, event.now]
  const rows = endpointIds.map((endpointId) => {
    values.push(newId('delivery'), endpointId)
    return `($${values.length - 1}, $${values.length}, $1, $2, $3, $4, $5, $6, 'PENDING', $7, $7, $7)`
  })
  await tx.query(
    `WITH d AS (
       INSERT INTO webhook_deliveries (id, endpoint_id, event_id, partner_id, mode, event_type, resource_id, sequence, status, next_attempt_at, created_at, updated_at)
       VALUES ${rows.join(', ')}
     )
     SELECT pg_notify('${DELIVERIES_CHANNEL}', '')`,
    values,
  )
  return endpointIds.length
}

export interface DeliveryRow {
  id: string
  endpoint_id: string
  event_id: string
  partner_id: string
  mode: 'live' | 'test'
  event_type: string
  resource_id: string
  sequence: number
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED'
  attempts: number
  next_attempt_at: Date | null
  last_status_code: number | null
  last_error: string | null
  delivered_at: Date | null
  created_at: Date
  updated_at: Date
}

const DELIVERY_COLUMNS = `d.id, d.endpoint_id, d.event_id, d.partner_id, d.mode, d.event_type, d.resource_id, d.sequence, d.status, d.attempts,
  d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at, d.updated_at`

/**
 * Claims up to `limit` due deliveries for one dispatcher until `leaseUntil`: PENDING, due, not
 * claimed by a live lease, and not behind an earlier PENDING delivery of the same resource to the
 * same endpoint (in order per resource). Walked endpoint by endpoint, each taking what is left of
 * its cap beside what this dispatcher already has in flight, so a saturated or slow endpoint's
 * backlog is never even read while the others are served (a scan in next_attempt_at order read a
 * saturated endpoint's whole backlog on every pass: 49 deliveries/s). FOR UPDATE SKIP LOCKED lets
 * any number of dispatchers claim at once; a crashed one's lease lapses. Leases are compared on
 * the dispatchers' clocks: hosts running dispatchers keep their clocks in sync (NTP), far inside
 * the lease. A disabled endpoint's deliveries wait (enabling it again resumes them).
 */
export async function claimDue(db: Queryable, now: Date, leaseUntil: Date, limit: number, perEndpoint: number, inFlight: Map<string, number>): Promise<ClaimedDelivery[]> {
  // A test endpoint's deliveries fall due on its partner's test clock (API.md §9): its due bound is
  // real now plus the partner's offset, still a bound on the endpoint's (endpoint_id,
  // next_attempt_at) index walk. Live endpoints never read test_clocks (CASE); leases stay real time.
  const { rows } = await db.query<ClaimedDelivery>(
    `WITH ready AS (
       SELECT w.id AS endpoint_id, $4::int - coalesce(busy.n, 0) AS slots,
         CASE WHEN w.mode = 'test' THEN coalesce((SELECT tc.offset_seconds FROM test_clocks tc WHERE tc.partner_id = w.partner_id), 0) ELSE 0 END AS offset_seconds
       FROM webhook_endpoints w
       LEFT JOIN unnest($5::text[], $6::int[]) AS busy(endpoint_id, n) ON busy.endpoint_id = w.id
       WHERE w.enabled AND $4::int - coalesce(busy.n, 0) > 0
     ), due AS (
       SELECT c.id, c.offset_seconds FROM ready r CROSS JOIN LATERAL (
         SELECT d.id, d.next_attempt_at, r.offset_seconds FROM webhook_deliveries d
         WHERE d.endpoint_id = r.endpoint_id AND d.status = 'PENDING' AND d.next_attempt_at <= $1::timestamptz + r.offset_seconds * interval '1 second'
           AND (d.lease_until IS NULL OR d.lease_until <= $1)
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.resource_id = d.resource_id
                           AND p.status = 'PENDING' AND p.sequence < d.sequence)
         ORDER BY d.next_attempt_at, d.id
         LIMIT r.slots
         FOR UPDATE SKIP LOCKED
       ) c
       -- a test clock ahead puts its partner's deliveries behind those due on real time, never ahead of them
       ORDER BY c.next_attempt_at, c.id
       LIMIT $3
     )
     UPDATE webhook_deliveries d SET lease_until = $2, attempts = d.attempts + 1, updated_at = $1::timestamptz + due.offset_seconds * interval '1 second'
     FROM due WHERE d.id = due.id
     RETURNING ${DELIVERY_COLUMNS}, d.attempts AS attempt, due.offset_seconds AS clock_offset_seconds`,
    [now, leaseUntil, limit, perEndpoint, [...inFlight.keys()], [...inFlight.values()]],
  )
  return rows
}

/** A claimed delivery: its attempt number, and how far its partner's clock runs ahead (test mode; 0 for live). */
export type ClaimedDelivery = DeliveryRow & { attempt: number; clock_offset_seconds: number }

/** When the next delivery falls due (to sleep until then), or null. */
export async function nextDueAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(`SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'PENDING'`)
  return rows[0]?.at ?? null
}

export interface AttemptRecord {
  deliveryId: string
  attempt: number
  at: Date
  statusCode: number | null
  errorClass: string | null
  latencyMs: number
  responseBody: string | null
}

/** Records an attempt and, when it is still the delivery's latest claim, its new state, releasing the lease. */
export async function recordAttempt(
  db: Queryable,
  a: AttemptRecord,
  outcome: { status: 'PENDING' | 'SUCCEEDED' | 'FAILED'; nextAttemptAt: Date | null; error: string | null },
): Promise<void> {
  await db.query(
    `WITH attempt AS (
       INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error_class, latency_ms, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
     )
     UPDATE webhook_deliveries SET status = $8, next_attempt_at = $9, lease_until = NULL, last_status_code = $4, last_error = $10,
       delivered_at = CASE WHEN $8 = 'SUCCEEDED' THEN $3::timestamptz ELSE delivered_at END, updated_at = $3
     -- only the latest claim decides: an attempt that outlived its lease (claimed again since) is recorded, not applied
     WHERE id = $1 AND attempts = $2`,
    [a.deliveryId, a.attempt, a.at, a.statusCode, a.errorClass, a.latencyMs, a.responseBody, outcome.status, outcome.nextAttemptAt, outcome.error],
  )
}

/**
 * A success in one statement (atomic on its own): the attempt, the delivery SUCCEEDED (when this is
 * still its latest claim) and the endpoint's failing streak ended. One round trip instead of a
 * transaction of four: the dispatcher's hot path.
 */
export async function recordSuccess(db: Queryable, a: AttemptRecord): Promise<void> {
  await db.query(
    `WITH attempt AS (
       INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, error_class, latency_ms, response_body)
       VALUES ($1, $2, $3, $4, NULL, $5, $6) ON CONFLICT DO NOTHING
     ), delivery AS (
       UPDATE webhook_deliveries SET status = 'SUCCEEDED', next_attempt_at = NULL, lease_until = NULL, last_status_code = $4, last_error = NULL,
         delivered_at = $3, updated_at = $3
       WHERE id = $1 AND attempts = $2 RETURNING endpoint_id
     )
     UPDATE webhook_endpoints SET failing_since = NULL WHERE id IN (SELECT endpoint_id FROM delivery) AND failing_since IS NOT NULL`,
    [a.deliveryId, a.attempt, a.at, a.statusCode, a.latencyMs, a.responseBody],
  )
}

/** An endpoint that is gone or disabled: its pending deliveries end FAILED (a retry or :recover re-queues them). */
export async function failPendingOf(db: Queryable, endpointId: string, reason: string, now: Date): Promise<void> {
  await db.query(`UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL, lease_until = NULL, last_error = $2, updated_at = $3 WHERE endpoint_id = $1 AND status = 'PENDING'`, [
    endpointId,
    reason,
    now,
  ])
}

export interface DeliveryFilters {
  status?: string[] | undefined
  event_type?: string[] | undefined
}

export async function listDeliveries(db: Queryable, endpointId: string, filters: DeliveryFilters, plan: ListPlan): Promise<(DeliveryWithAttempts & { _sort_key: string })[]> {
  const params: unknown[] = [endpointId]
  let where = 'd.endpoint_id = $1'
  if (filters.status) {
    params.push(filters.status)
    where += ` AND d.status = ANY($${params.length})`
  }
  if (filters.event_type) {
    params.push(filters.event_type)
    where += ` AND d.event_type = ANY($${params.length})`
  }
  const keyset = keysetSql(plan, params, 'd.id')
  const { rows } = await db.query<DeliveryWithAttempts & { _sort_key: string }>(
    `SELECT ${DELIVERY_COLUMNS}, ${ATTEMPT_LIST}, ${keyset.sortKeySelect} FROM webhook_deliveries d WHERE ${where}${keyset.where}${keyset.orderLimit}`,
    params,
  )
  return rows
}

/**
 * A delivery with its last 20 attempts, oldest first, read in the same statement (one snapshot): a
 * dispatcher recording an attempt between two reads would show the attempt without its effect on
 * the delivery.
 */
export type DeliveryWithAttempts = DeliveryRow & { attempt_list: AttemptJson[] }

/** An attempt as the statement returns it: attempted_at already an ISO string. */
export interface AttemptJson {
  attempt: number
  attempted_at: string
  status_code: number | null
  error_class: string | null
  latency_ms: number
  response_body: string | null
}

const ATTEMPT_LIST = `(SELECT coalesce(json_agg(json_build_object('attempt', a.attempt,
     'attempted_at', to_char(a.attempted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'status_code', a.status_code,
     'error_class', a.error_class, 'latency_ms', a.latency_ms, 'response_body', a.response_body) ORDER BY a.attempt), '[]'::json)
   FROM (SELECT * FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.attempt DESC LIMIT 20) a) AS attempt_list`

/** A delivery visible to the scope: through its endpoint's visibility. */
export async function findDelivery(db: Queryable, scope: Scope, id: string): Promise<DeliveryWithAttempts | undefined> {
  const params: unknown[] = [id]
  const { rows } = await db.query<DeliveryWithAttempts>(
    `SELECT ${DELIVERY_COLUMNS}, ${ATTEMPT_LIST} FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = $1 AND ${visibleSql(scope, params)}`,
    params,
  )
  return rows[0]
}

/** Makes deliveries due now (PENDING again, even after exhaustion); returns how many. */
export async function requeue(db: Queryable, where: { deliveryId?: string; endpointId?: string; since?: Date }, now: Date): Promise<number> {
  const params: unknown[] = [now]
  let sql = `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = $1, lease_until = NULL, updated_at = $1 WHERE `
  if (where.deliveryId) {
    params.push(where.deliveryId)
    sql += `id = $${params.length} AND status <> 'PENDING'`
  } else {
    params.push(where.endpointId, where.since)
    sql += `endpoint_id = $${params.length - 1} AND status = 'FAILED' AND created_at >= $${params.length}`
  }
  const { rowCount } = await db.query(sql, params)
  if ((rowCount ?? 0) > 0) await db.query(`SELECT pg_notify('${DELIVERIES_CHANNEL}', '')`)
  return rowCount ?? 0
}

/** For metrics: the age of the oldest delivery still waiting to succeed. */
export async function oldestPendingAgeSeconds(db: Queryable, now: Date): Promise<number> {
  const { rows } = await db.query<{ at: Date | null }>(`SELECT min(created_at) AS at FROM webhook_deliveries WHERE status = 'PENDING'`)
  const at = rows[0]?.at
  return at ? Math.max(0, (now.getTime() - at.getTime()) / 1000) : 0
}
