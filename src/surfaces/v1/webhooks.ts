import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { etagOf, listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { PathId, commaList, listOf } from '../../http/schemas.ts'
import { field } from '../../platform/errors.ts'
import { EVENT_TYPES } from '../../modules/events/service.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { CreateWebhookBody, DeliverySchema, RecoverBody, ReplaceWebhookBody, RotateSecretBody, WEBHOOK_READ_ONLY, WebhookSchema, WebhookWithSecretSchema } from '../../modules/webhooks/schemas.ts'
import { DELIVERY_STATUSES, MAX_ENDPOINTS, MAX_SECRET_GRACE_SECONDS, deliverySpec, webhookSpec } from '../../modules/webhooks/service.ts'
import { presentDelivery, presentWebhook } from './presenters.ts'
import { replacementGuard, sendPage } from './render.ts'

const tags = ['Webhooks']

const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag from GET; 412 when the endpoint changed since.' })) })

/** The webhook endpoints and their deliveries (API.md §10–§11). Delivery itself is the dispatcher's (src/modules/webhooks/dispatcher.ts). */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor; publicBaseUrl: string }> = async (app, { svc, publicBaseUrl }) => {
  app.post(
    '/v1/webhooks',
    {
      config: { permission: 'webhook.write', bucket: 'write', errors: ['INVALID_TEAM_IDS', 'WEBHOOK_LIMIT_REACHED'], fieldChecks: (request, errors) => svc(request).webhooks.checkTarget(callerOf(request).mode, field(request.body, 'url'), errors) },
      schema: {
        operationId: 'createWebhook',
        summary: 'Create a webhook endpoint',
        description:
          `Events of the endpoint's teams and mode are POSTed to url, signed per Standard Webhooks with the secret in this answer (shown once). ` +
          `At most ${MAX_ENDPOINTS} endpoints per partner and mode.`,
        tags,
        body: CreateWebhookBody,
        response: { 201: WebhookWithSecretSchema },
      },
    },
    async (request, reply) => {
      const { webhook, secret } = await svc(request).webhooks.create(scopeOf(callerOf(request)), request.body)
      return reply.code(201).header('location', `${publicBaseUrl}/v1/webhooks/${webhook.id}`).send({ ...presentWebhook(webhook), secret })
    },
  )

  app.get(
    '/v1/webhooks',
    {
      config: { permission: 'webhook.read', bucket: 'read' },
      schema: {
        operationId: 'listWebhooks',
        summary: 'List webhook endpoints',
        description: 'The endpoints whose teams the token covers.',
        tags,
        querystring: Type.Object({ limit: listQuerySchema(webhookSpec).limit, cursor: listQuerySchema(webhookSpec).cursor, sort: listQuerySchema(webhookSpec).sort, fields: listQuerySchema(webhookSpec).fields }, { additionalProperties: false }),
        response: { 200: listOf(WebhookSchema) },
      },
    },
    async (request, reply) => {
      const { page, fields } = await svc(request).webhooks.list(scopeOf(callerOf(request)), request.query)
      return sendPage(reply, page, fields, presentWebhook)
    },
  )

  app.get(
    '/v1/webhooks/:id',
    {
      config: { permission: 'webhook.read', bucket: 'read' },
      schema: { operationId: 'getWebhook', summary: 'Get a webhook endpoint', tags, params: PathId, querystring: FieldsQuery, response: { 200: WebhookSchema, 304: { description: 'Not modified.', type: 'null' } } },
    },
    async (request, reply) => sendResource(request, reply, presentWebhook(await svc(request).webhooks.get(scopeOf(callerOf(request)), request.params.id)), webhookSpec, request.query.fields),
  )

  app.put(
    '/v1/webhooks/:id',
    {
      config: { permission: 'webhook.write', bucket: 'write', errors: ['INVALID_TEAM_IDS'], fieldChecks: (request, errors) => svc(request).webhooks.checkTarget(callerOf(request).mode, field(request.body, 'url'), errors) },
      schema: {
        operationId: 'replaceWebhook',
        summary: 'Replace a webhook endpoint',
        description: 'Every writable field must be sent. enabled: true on a disabled endpoint enables it again (its failed deliveries stay FAILED: :recover re-queues them).',
        tags,
        params: PathId,
        headers: IfMatch,
        body: ReplaceWebhookBody,
        response: { 200: WebhookSchema },
      },
    },
    async (request, reply) => {
      const webhook = presentWebhook(
        await svc(request).webhooks.replace(scopeOf(callerOf(request)), request.params.id, request.body, replacementGuard(presentWebhook, request.body, request.headers['if-match'], WEBHOOK_READ_ONLY)),
      )
      reply.header('etag', etagOf(webhook))
      return webhook
    },
  )

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { permission: 'webhook.write', bucket: 'write' },
      schema: { operationId: 'deleteWebhook', summary: 'Delete a webhook endpoint', description: 'Its pending deliveries are dropped with it.', tags, params: PathId, response: { 204: { description: 'Deleted.', type: 'null' } } },
    },
    async (request, reply) => {
      await svc(request).webhooks.delete(scopeOf(callerOf(request)), request.params.id)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/webhooks/:id(^.+)::rotate-secret',
    {
      config: { permission: 'webhook.write', bucket: 'write', optionalBody: true },
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {}
      },
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the signing secret',
        description: 'A new secret, shown once. For grace_period_seconds (default and at most 24 h) every delivery carries two signatures, one per secret, so receivers can switch without a gap.',
        tags,
        params: PathId,
        body: RotateSecretBody,
        response: { 200: WebhookWithSecretSchema },
      },
    },
    async (request) => {
      const { webhook, secret } = await svc(request).webhooks.rotateSecret(scopeOf(callerOf(request)), request.params.id, request.body?.grace_period_seconds ?? MAX_SECRET_GRACE_SECONDS)
      return { ...presentWebhook(webhook), secret }
    },
  )

  app.post(
    '/v1/webhooks/:id(^.+)::test',
    {
      config: { permission: 'webhook.write', bucket: 'write', errors: ['WEBHOOK_DISABLED'], optionalBody: true },
      schema: { operationId: 'testWebhook', summary: 'Send a webhook.test event', description: 'To this endpoint only; the answer is its delivery (follow it in the deliveries list).', tags, params: PathId, response: { 202: DeliverySchema } },
    },
    async (request, reply) => reply.code(202).send(presentDelivery(await svc(request).webhooks.test(scopeOf(callerOf(request)), request.params.id))),
  )

  app.post(
    '/v1/webhooks/:id(^.+)::recover',
    {
      config: { permission: 'webhook.write', bucket: 'write', errors: ['WEBHOOK_DISABLED'] },
      schema: {
        operationId: 'recoverWebhook',
        summary: 'Re-queue failed deliveries',
        description: 'Every FAILED delivery of this endpoint created since `since` becomes due now (after an outage on your side).',
        tags,
        params: PathId,
        body: RecoverBody,
        response: { 202: Type.Object({ requeued: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }) },
      },
    },
    async (request, reply) => reply.code(202).send(await svc(request).webhooks.recover(scopeOf(callerOf(request)), request.params.id, request.body.since)),
  )

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { permission: 'webhook.read', bucket: 'read' },
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'List an endpoint\'s deliveries',
        description: 'Newest first, each with its attempts (time, HTTP status or error class, latency, the start of the answer) and its next attempt.',
        tags,
        params: PathId,
        querystring: Type.Object(
          {
            limit: listQuerySchema(deliverySpec).limit,
            cursor: listQuerySchema(deliverySpec).cursor,
            sort: listQuerySchema(deliverySpec).sort,
            status: commaList(DELIVERY_STATUSES),
            event_type: commaList(EVENT_TYPES),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(DeliverySchema) },
      },
    },
    async (request, reply) => sendPage(reply, await svc(request).webhooks.deliveries(scopeOf(callerOf(request)), request.params.id, request.query), null, presentDelivery),
  )

  app.post(
    '/v1/webhook-deliveries/:id(^.+)::retry',
    {
      config: { permission: 'webhook.write', bucket: 'write', errors: ['WEBHOOK_DISABLED'], optionalBody: true },
      schema: { operationId: 'retryWebhookDelivery', summary: 'Retry a delivery now', description: 'Even after its attempts ran out.', tags, params: PathId, response: { 202: DeliverySchema } },
    },
    async (request, reply) => reply.code(202).send(presentDelivery(await svc(request).webhooks.retryDelivery(scopeOf(callerOf(request)), request.params.id))),
  )
}
