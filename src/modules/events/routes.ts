import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import type { CursorCodec } from '../../platform/cursor.ts'
import { listQuerySchema, planList, scopeOf, sendPage, sendResource, toPage } from '../../http/list-query.ts'
import type { ListSpec } from '../../http/list-query.ts'
import { PathId, Timestamp, commaList, idSchema, listOf, stringEnum } from '../../http/schemas.ts'
import type { Clock } from '../../platform/clock.ts'
import type { Db } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, parseCommaList } from '../../platform/errors.ts'
import { findEvent, listEvents } from './repository.ts'
import type { EventRow } from './repository.ts'

export const EVENT_TYPES = [
  'booking.created',
  'booking.confirmed',
  'booking.issued',
  'booking.cancelled',
  'booking.expired',
  'booking.updated',
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'listing.created',
  'listing.updated',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

const RETENTION_DAYS = 30

const EventSchema = Type.Object(
  {
    id: idSchema('evt'),
    event_type: stringEnum(EVENT_TYPES),
    created_at: Timestamp,
    mode: stringEnum(['live', 'test']),
    team_id: idSchema('team'),
    sequence: Type.Integer({ minimum: 1, description: 'Counts the events of this one resource (data.id): order by it, drop stale ones.' }),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'The full resource as it was after the change.' }),
  },
  { additionalProperties: false },
)

const spec: ListSpec = {
  resource: 'events',
  sortKeys: { created_at: { column: 'e.created_at', type: 'timestamptz' } },
  defaultSort: '-created_at',
  fields: Object.keys(EventSchema.properties),
}

function toEvent(row: EventRow) {
  return { id: row.id, event_type: row.event_type as EventType, created_at: row.created_at.toISOString(), mode: row.mode, team_id: row.team_id, sequence: row.sequence, data: row.data }
}

export const eventRoutes: FastifyPluginAsyncTypebox<{ db: Db; clock: Clock; cursors: CursorCodec }> = async (app, { db, clock, cursors }) => {
  app.get(
    '/v1/events',
    {
      config: { permission: 'event.read', bucket: 'read' },
      schema: {
        operationId: 'listEvents',
        summary: 'List events (the last 30 days)',
        description:
          'Events of the token\'s teams and mode, newest first. after=evt_… lists the events after that one, oldest first: ' +
          'keep the last id you processed to catch up after an outage.',
        tags: ['Events'],
        querystring: Type.Object(
          {
            ...listQuerySchema(spec),
            event_type: commaList(EVENT_TYPES),
            created_after: Type.Optional(Type.String({ format: 'date-time' })),
            created_before: Type.Optional(Type.String({ format: 'date-time' })),
            after: Type.Optional(Type.String({ maxLength: 64, description: 'An event id: list the events after it, oldest first.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(EventSchema) },
      },
    },
    async (request, reply) => {
      const q = request.query
      const scope = scopeOf(callerOf(request), q.team_ids)
      const errors = new FieldErrors()
      const eventTypes = parseCommaList(q.event_type, EVENT_TYPES, 'event_type', errors)
      errors.throwIfAny()
      let sort = q.sort
      if (q.after) {
        if (q.sort === '-created_at') throw new ApiError('VALIDATION_ERROR', 'after= lists oldest first; it cannot be combined with sort=-created_at.', { fields: [{ field: 'sort', location: 'query', code: 'conflict', message: 'conflicts with after' }] })
        sort = 'created_at'
      }
      const filters = { event_type: eventTypes ?? null, created_after: q.created_after ?? null, created_before: q.created_before ?? null, after: q.after ?? null }
      const plan = planList(spec, { ...q, sort }, scope, filters, cursors)
      // the first page after an event starts at that event; later pages follow their cursor
      if (q.after && !q.cursor) {
        const anchor = await findEvent(db, scope, q.after)
        if (!anchor) throw new ApiError('VALIDATION_ERROR', 'after names no event visible to this token.', { fields: [{ field: 'after', location: 'query', code: 'not_found', message: 'no such event' }] })
        plan.after = { key: anchor._sort_key, id: anchor.id }
      }
      const retentionStart = new Date(clock.now().getTime() - RETENTION_DAYS * 86_400_000)
      const rows = await listEvents(db, scope, { event_type: eventTypes, created_after: q.created_after, created_before: q.created_before, retention_start: retentionStart }, plan)
      return sendPage(reply, toPage(rows, plan, cursors, toEvent), plan.fields)
    },
  )

  app.get(
    '/v1/events/:id',
    {
      config: { permission: 'event.read', bucket: 'read' },
      schema: {
        operationId: 'getEvent',
        summary: 'Get an event',
        tags: ['Events'],
        params: PathId,
        querystring: Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
        response: { 200: EventSchema, 304: { description: 'Not modified (If-None-Match).', type: 'null' } },
      },
    },
    async (request, reply) => {
      const row = await findEvent(db, scopeOf(callerOf(request)), request.params.id)
      if (!row) throw notFound('event')
      return sendResource(request, reply, toEvent(row), spec, request.query.fields)
    },
  )
}
