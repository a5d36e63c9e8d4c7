import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { presentEvent } from './presenters.ts'
import { sendPage } from './render.ts'
import { PathId, Timestamp, commaList, idSchema, listOf, stringEnum } from '../../http/schemas.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { EVENT_TYPES, eventSpec } from '../../modules/events/service.ts'

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
  { title: 'Event', additionalProperties: false },
)

export const eventRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor }> = async (app, { svc }) => {
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
            ...listQuerySchema(eventSpec),
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
      const { page, fields } = await svc(request).events.list(scopeOf(callerOf(request), request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentEvent)
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
    async (request, reply) => sendResource(request, reply, presentEvent(await svc(request).events.get(scopeOf(callerOf(request)), request.params.id)), eventSpec, request.query.fields),
  )
}
