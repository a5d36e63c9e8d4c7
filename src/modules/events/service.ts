import type { Clock } from '../../platform/clock.ts'
import { nowIn } from '../test-clock/now.ts'
import type { CursorCodec } from '../../platform/cursor.ts'
import type { Db } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, parseCommaList } from '../../platform/errors.ts'
import type { Scope } from '../../platform/keyset.ts'
import { planList, toPage } from '../../platform/pagination.ts'
import type { ListSpec, Page } from '../../platform/pagination.ts'
import { findEvent, listEvents } from './repository.ts'
import type { EventRow } from './repository.ts'

export const EVENT_TYPES = [
  'booking.created',
  'booking.confirmed',
  'booking.issued',
  'booking.cancelled',
  'booking.hold_expiring',
  'booking.expired',
  'booking.updated',
  'invoice.created',
  'invoice.updated',
  'invoice.paid',
  'invoice.voided',
  'payment.succeeded',
  'payment.failed',
  'payment.refunded',
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'listing.created',
  'listing.updated',
  'webhook.test',
  'webhook.disabled',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Events stay listable this long (API.md §11), so a partner can catch up after an outage. */
export const RETENTION_DAYS = 30

export const EVENT_FIELDS = ['id', 'event_type', 'created_at', 'mode', 'team_id', 'sequence', 'data'] as const

export const eventSpec: ListSpec = {
  resource: 'events',
  sortKeys: { created_at: { column: 'e.created_at', type: 'timestamptz' } },
  defaultSort: '-created_at',
  fields: EVENT_FIELDS,
}

/**
 * An event as the domain keeps it. data is the version-neutral snapshot of the resource after the
 * change (the resource module's record: minor units, ISO times), never one version's JSON, so each
 * surface (and each webhook endpoint's api_version) renders it with its own presenter.
 */
export interface Event {
  id: string
  event_type: EventType
  created_at: string
  mode: 'live' | 'test'
  team_id: string
  sequence: number
  resource_type: 'booking' | 'customer' | 'listing' | 'webhook' | 'invoice' | 'payment'
  data: Record<string, unknown>
}

export interface EventListQuery {
  limit?: number
  cursor?: string
  sort?: string
  fields?: string
  event_type?: string[]
  created_after?: string
  created_before?: string
  after?: string
}

export function toEvent(row: EventRow): Event {
  return { id: row.id, event_type: row.event_type as EventType, created_at: row.created_at.toISOString(), mode: row.mode, team_id: row.team_id, sequence: row.sequence, resource_type: row.resource_type as Event['resource_type'], data: row.data }
}

export class EventService {
  readonly #deps: { db: Db; clock: Clock; cursors: CursorCodec }
  constructor(deps: { db: Db; clock: Clock; cursors: CursorCodec }) {
    this.#deps = deps
  }

  /**
   * Newest first; after=evt_… lists the events after that one, oldest first (catching up after an
   * outage: keep the last id processed). The first page after an event starts at it; later pages
   * follow their cursor.
   */
  async list(scope: Scope, query: EventListQuery): Promise<{ page: Page<Event>; fields: string[] | null }> {
    const { db, clock, cursors } = this.#deps
    const errors = new FieldErrors()
    const eventTypes = parseCommaList(query.event_type, EVENT_TYPES, 'event_type', errors)
    errors.throwIfAny()
    let sort = query.sort
    if (query.after) {
      if (query.sort === '-created_at') throw new ApiError('VALIDATION_ERROR', 'after= lists oldest first; it cannot be combined with sort=-created_at.', { fields: [{ field: 'sort', location: 'query', code: 'conflict', message: 'conflicts with after' }] })
      sort = 'created_at'
    }
    const filters = { event_type: eventTypes ?? null, created_after: query.created_after ?? null, created_before: query.created_before ?? null, after: query.after ?? null }
    const plan = planList(eventSpec, { ...query, sort }, scope, filters, cursors)
    if (query.after && !query.cursor) {
      const anchor = await findEvent(db, scope, query.after)
      if (!anchor) throw new ApiError('VALIDATION_ERROR', 'after names no event visible to this token.', { fields: [{ field: 'after', location: 'query', code: 'not_found', message: 'no such event' }] })
      plan.after = { key: anchor._sort_key, id: anchor.id }
    }
    const retentionStart = new Date(nowIn(clock, scope).getTime() - RETENTION_DAYS * 86_400_000)
    const rows = await listEvents(db, scope, { event_type: eventTypes, created_after: query.created_after, created_before: query.created_before, retention_start: retentionStart }, plan)
    return { page: toPage(rows, plan, cursors, toEvent), fields: plan.fields }
  }

  async get(scope: Scope, id: string): Promise<Event> {
    const row = await findEvent(this.#deps.db, scope, id)
    if (!row) throw notFound('event')
    return toEvent(row)
  }
}
