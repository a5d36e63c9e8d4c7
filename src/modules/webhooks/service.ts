import { randomBytes } from 'node:crypto'
import type { Clock } from '../../platform/clock.ts'
import { nowIn } from '../test-clock/now.ts'
import type { CursorCodec } from '../../platform/cursor.ts'
import type { Db, Queryable } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, parseCommaList } from '../../platform/errors.ts'
import { newId } from '../../platform/ids.ts'
import type { Scope } from '../../platform/keyset.ts'
import { planList, toPage } from '../../platform/pagination.ts'
import type { ListSpec, Page } from '../../platform/pagination.ts'
import { recordEvent } from '../events/repository.ts'
import { EVENT_TYPES } from '../events/service.ts'
import type { EventType } from '../events/service.ts'
import * as repo from './repository.ts'
import type { DeliveryRow, DeliveryWithAttempts, EndpointRow, EndpointValues } from './repository.ts'
import { checkTargetUrl } from './targets.ts'

/** Endpoints per partner and mode: enough for every team and environment, bounded fan-out per event. */
export const MAX_ENDPOINTS = 20
export const MAX_SECRET_GRACE_SECONDS = 86_400
export const API_VERSIONS = ['v1', 'v2'] as const
export type ApiVersion = (typeof API_VERSIONS)[number]
/** What an endpoint can subscribe to: every event type but webhook.test, which goes to the endpoint tested only. */
export type SubscribableEventType = Exclude<EventType, 'webhook.test'>
export const SUBSCRIBABLE_EVENT_TYPES = EVENT_TYPES.filter((t): t is SubscribableEventType => t !== 'webhook.test')
export const DELIVERY_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const

/** A webhook endpoint as the domain knows it (never its secrets): the snapshot its events keep. */
export interface Webhook {
  id: string
  team_ids: string[]
  mode: 'live' | 'test'
  url: string
  description: string
  event_types: SubscribableEventType[]
  enabled: boolean
  disabled_reason: 'manual' | 'gone' | 'failing' | null
  api_version: ApiVersion
  previous_secret_expires_at: string | null
  created_at: string
  updated_at: string
}

export function webhookOf(row: EndpointRow): Webhook {
  return {
    id: row.id,
    team_ids: row.team_ids,
    mode: row.mode,
    url: row.url,
    description: row.description,
    event_types: row.event_types as SubscribableEventType[],
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    api_version: row.api_version as ApiVersion,
    previous_secret_expires_at: row.previous_secret_valid_until?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

export interface Attempt {
  attempt: number
  attempted_at: string
  status_code: number | null
  error_class: string | null
  latency_ms: number
  response_body: string | null
}

export interface Delivery {
  id: string
  webhook_id: string
  event_id: string
  event_type: EventType
  status: DeliveryRow['status']
  attempt_count: number
  next_attempt_at: string | null
  delivered_at: string | null
  last_status_code: number | null
  last_error: string | null
  created_at: string
  updated_at: string
  attempts: Attempt[]
}

function deliveryOf(row: DeliveryWithAttempts): Delivery {
  return {
    id: row.id,
    webhook_id: row.endpoint_id,
    event_id: row.event_id,
    event_type: row.event_type as EventType,
    status: row.status,
    attempt_count: row.attempts,
    next_attempt_at: row.status === 'PENDING' ? (row.next_attempt_at?.toISOString() ?? null) : null,
    delivered_at: row.delivered_at?.toISOString() ?? null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    attempts: row.attempt_list,
  }
}

export const webhookSpec: ListSpec = {
  resource: 'webhooks',
  sortKeys: { created_at: { column: 'w.created_at', type: 'timestamptz' } },
  defaultSort: '-created_at',
  fields: ['id', 'team_ids', 'mode', 'url', 'description', 'event_types', 'enabled', 'disabled_reason', 'api_version', 'previous_secret_expires_at', 'created_at', 'updated_at'],
}

export const deliverySpec: ListSpec = {
  resource: 'deliveries',
  sortKeys: { created_at: { column: 'd.created_at', type: 'timestamptz' } },
  defaultSort: '-created_at',
  fields: ['id', 'webhook_id', 'event_id', 'event_type', 'status', 'attempt_count', 'next_attempt_at', 'delivered_at', 'last_status_code', 'last_error', 'created_at', 'updated_at', 'attempts'],
}

export interface WebhookInput {
  url: string
  description?: string | undefined
  event_types?: string[] | undefined
  team_ids?: string[] | undefined
  enabled?: boolean | undefined
  api_version?: string | undefined
}

/** A new signing secret: whsec_ + 32 random bytes in base64, as Standard Webhooks libraries take it. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/**
 * Disables an endpoint the dispatcher gave up on (410 Gone, or 5 days failing) and records
 * webhook.disabled, which the partner's other endpoints receive; its pending deliveries end FAILED
 * (:recover or a retry re-queues them once it is enabled again). Idempotent.
 */
export async function disableAndRecord(tx: Queryable, endpoint: EndpointRow, reason: 'gone' | 'failing', now: Date): Promise<void> {
  const row = await repo.disableEndpoint(tx, endpoint.id, reason, now)
  if (!row) return
  await repo.failPendingOf(tx, endpoint.id, reason === 'gone' ? 'The endpoint answered 410 Gone and was disabled.' : 'The endpoint failed for 5 days without a success and was disabled.', now)
  await recordEvent(tx, { partnerId: row.partner_id, teamId: row.team_ids[0]!, mode: row.mode, type: 'webhook.disabled', resourceType: 'webhook', resourceId: row.id, sequence: await nextEventSequence(tx, row.id), data: webhookOf(row), now })
}

/**
 * An endpoint's events (webhook.test, webhook.disabled) are counted by the events themselves: its
 * version also moves on PUT and rotation, which are not events. The caller holds the endpoint's
 * row lock, so two of its events never take the same number.
 */
async function nextEventSequence(tx: Queryable, endpointId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>('SELECT coalesce(max(sequence), 0)::int + 1 AS n FROM events WHERE resource_id = $1', [endpointId])
  return rows[0]!.n
}

export class WebhookService {
  readonly #db: Db
  readonly #clock: Clock
  readonly #cursors: CursorCodec
  readonly #allowPrivate: boolean

  constructor(deps: { db: Db; clock: Clock; cursors: CursorCodec; allowPrivateTargets: boolean }) {
    this.#db = deps.db
    this.#clock = deps.clock
    this.#cursors = deps.cursors
    this.#allowPrivate = deps.allowPrivateTargets
  }

  /** The url's own check (raw input: also run when the schema refused the body, so every problem is reported at once). */
  checkTarget(mode: Scope['mode'], url: unknown, errors: FieldErrors): void {
    if (typeof url !== 'string') return
    const problem = checkTargetUrl(url, { mode, allowPrivate: this.#allowPrivate })
    if (problem) errors.add('url', problem.code, problem.message)
  }

  #values(scope: Scope, input: WebhookInput, errors: FieldErrors): EndpointValues {
    this.checkTarget(scope.mode, input.url, errors)
    const teamIds = [...new Set(input.team_ids ?? scope.teamIds)]
    const outside = teamIds.filter((id) => !scope.teamIds.includes(id))
    if (outside.length > 0) throw new ApiError('INVALID_TEAM_IDS', 'team_ids names teams this token does not cover.', { invalid_team_ids: outside })
    return {
      url: input.url,
      description: input.description ?? '',
      event_types: [...new Set(input.event_types ?? [])],
      team_ids: teamIds,
      enabled: input.enabled ?? true,
      api_version: input.api_version ?? 'v1',
    }
  }

  async create(scope: Scope, input: WebhookInput): Promise<{ webhook: Webhook; secret: string }> {
    const errors = new FieldErrors()
    const values = this.#values(scope, input, errors)
    errors.throwIfAny()
    const secret = newSecret()
    const now = nowIn(this.#clock, scope)
    const row = await this.#db.transaction(async (tx) => {
      // one creation at a time per partner and mode, so two racing creations cannot pass the limit together
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhooks:${scope.partnerId}:${scope.mode}`])
      const count = await repo.countEndpoints(tx, scope.partnerId, scope.mode)
      if (count >= MAX_ENDPOINTS) throw new ApiError('WEBHOOK_LIMIT_REACHED', `A partner has at most ${MAX_ENDPOINTS} webhook endpoints per mode; delete one first.`, { limit: MAX_ENDPOINTS })
      return repo.insertEndpoint(tx, { id: newId('webhook'), partnerId: scope.partnerId, mode: scope.mode, secret, now, ...values })
    })
    return { webhook: webhookOf(row), secret }
  }

  async get(scope: Scope, id: string): Promise<Webhook> {
    const row = await repo.findEndpoint(this.#db, scope, id)
    if (!row) throw notFound('webhook')
    return webhookOf(row)
  }

  async list(scope: Scope, query: { limit?: number; cursor?: string; sort?: string; fields?: string }): Promise<{ page: Page<Webhook>; fields: string[] | null }> {
    const plan = planList(webhookSpec, query, scope, {}, this.#cursors)
    return { page: toPage(await repo.listEndpoints(this.#db, scope, plan), plan, this.#cursors, webhookOf), fields: plan.fields }
  }

  async replace(scope: Scope, id: string, input: WebhookInput, checkPrecondition: (current: Webhook) => void): Promise<Webhook> {
    const now = nowIn(this.#clock, scope)
    return this.#db.transaction(async (tx) => {
      const current = await repo.findEndpoint(tx, scope, id, true)
      // team_ids is checked against the token: an id it cannot see is a 404 first, whatever the body
      if (!current) throw notFound('webhook')
      const errors = new FieldErrors()
      const values = this.#values(scope, input, errors)
      errors.throwIfAny()
      checkPrecondition(webhookOf(current))
      // disabling by hand ends its pending deliveries FAILED, as 410 and failing do; :recover re-queues them
      if (current.enabled && !values.enabled) await repo.failPendingOf(tx, id, 'The endpoint was disabled (PUT with enabled: false).', now)
      return webhookOf(await repo.updateEndpoint(tx, scope, id, values, now))
    })
  }

  async delete(scope: Scope, id: string): Promise<void> {
    if (!(await repo.deleteEndpoint(this.#db, scope, id))) throw notFound('webhook')
  }

  /** A new secret, shown once; the old one keeps signing beside it for graceSeconds (≤ 24 h). */
  async rotateSecret(scope: Scope, id: string, graceSeconds: number): Promise<{ webhook: Webhook; secret: string }> {
    // real time even in test mode: the grace is compared with the dispatcher's signing time, which is real (receivers check it)
    const now = this.#clock.now()
    const secret = newSecret()
    const row = await this.#db.transaction(async (tx) => {
      const current = await repo.findEndpoint(tx, scope, id, true)
      if (!current) throw notFound('webhook')
      return repo.rotateSecret(tx, scope, id, secret, new Date(now.getTime() + graceSeconds * 1000), now)
    })
    return { webhook: webhookOf(row), secret }
  }

  /** Sends a webhook.test event to this endpoint only; returns the delivery. */
  async test(scope: Scope, id: string): Promise<Delivery> {
    const now = nowIn(this.#clock, scope)
    return this.#db.transaction(async (tx) => {
      const current = await repo.findEndpoint(tx, scope, id, true)
      if (!current) throw notFound('webhook')
      if (!current.enabled) throw new ApiError('WEBHOOK_DISABLED', 'The endpoint is disabled; enable it (PUT with enabled: true) before testing it.', { disabled_reason: current.disabled_reason })
      const eventId = await recordEvent(
        tx,
        { partnerId: scope.partnerId, teamId: current.team_ids[0]!, mode: scope.mode, type: 'webhook.test', resourceType: 'webhook', resourceId: id, sequence: await nextEventSequence(tx, id), data: webhookOf(current), now },
        id,
      )
      const { rows: deliveries } = await tx.query<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2', [id, eventId])
      return deliveryOf({ ...deliveries[0]!, attempt_list: [] })
    })
  }

  /** Re-queues every FAILED delivery of the endpoint created since `since`; returns how many. */
  async recover(scope: Scope, id: string, since: string): Promise<{ requeued: number }> {
    const now = nowIn(this.#clock, scope)
    const sinceDate = new Date(since)
    if (sinceDate.getTime() > now.getTime()) new FieldErrors().add('since', 'maximum', 'must not be in the future').throwIfAny()
    const endpoint = await repo.findEndpoint(this.#db, scope, id)
    if (!endpoint) throw notFound('webhook')
    if (!endpoint.enabled) throw new ApiError('WEBHOOK_DISABLED', 'The endpoint is disabled; enable it before recovering its deliveries.', { disabled_reason: endpoint.disabled_reason })
    return { requeued: await this.#db.transaction((tx) => repo.requeue(tx, { endpointId: id, since: sinceDate }, now)) }
  }

  async deliveries(scope: Scope, id: string, query: { limit?: number; cursor?: string; sort?: string; status?: string[]; event_type?: string[] }): Promise<Page<Delivery>> {
    const errors = new FieldErrors()
    const status = parseCommaList(query.status, DELIVERY_STATUSES, 'status', errors)
    const eventType = parseCommaList(query.event_type, EVENT_TYPES, 'event_type', errors)
    errors.throwIfAny()
    const endpoint = await repo.findEndpoint(this.#db, scope, id)
    if (!endpoint) throw notFound('webhook')
    const filters = { status: status ?? undefined, event_type: eventType ?? undefined }
    const plan = planList(deliverySpec, { limit: query.limit, cursor: query.cursor, sort: query.sort }, { ...scope, teamIds: endpoint.team_ids }, { id, ...filters }, this.#cursors)
    const rows = await repo.listDeliveries(this.#db, id, filters, plan)
    return toPage(rows, plan, this.#cursors, deliveryOf)
  }

  /** Makes a delivery due now, even after its attempts ran out. */
  async retryDelivery(scope: Scope, id: string): Promise<Delivery> {
    const now = nowIn(this.#clock, scope)
    const delivery = await repo.findDelivery(this.#db, scope, id)
    if (!delivery) throw notFound('webhook delivery')
    const endpoint = await repo.findEndpoint(this.#db, scope, delivery.endpoint_id)
    if (!endpoint?.enabled) throw new ApiError('WEBHOOK_DISABLED', 'The delivery\'s endpoint is disabled; enable it before retrying.', { webhook_id: delivery.endpoint_id })
    await this.#db.transaction((tx) => repo.requeue(tx, { deliveryId: id }, now))
    return deliveryOf((await repo.findDelivery(this.#db, scope, id))!)
  }
}
