import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { etagOf, listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { presentCustomer } from './presenters.ts'
import { replacementGuard, sendPage } from './render.ts'
import { PathId, listOf } from '../../http/schemas.ts'
import { CUSTOMER_READ_ONLY, CreateCustomerBody, CustomerSchema, ReplaceCustomerBody } from '../../modules/customers/schemas.ts'
import { checkCustomerCodes, customerSpec } from '../../modules/customers/service.ts'
import type { ServicesFor } from '../../modules/services.ts'

const tags = ['Customers']

const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag from GET; 412 when the resource changed since.' })) })

export const customerRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor; publicBaseUrl: string }> = async (app, { svc, publicBaseUrl }) => {
  app.get(
    '/v1/customers',
    {
      config: { permission: 'customer.read', bucket: 'read' },
      schema: {
        operationId: 'listCustomers',
        summary: 'List customers',
        tags,
        querystring: Type.Object(
          {
            ...listQuerySchema(customerSpec),
            email: Type.Optional(Type.String({ maxLength: 254, description: 'Exact email, case-insensitive.' })),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in name or email.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(CustomerSchema) },
      },
    },
    async (request, reply) => {
      const { page, fields } = await svc(request).customers.list(scopeOf(callerOf(request), request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentCustomer)
    },
  )

  app.post(
    '/v1/customers',
    {
      config: { permission: 'customer.write', bucket: 'write', errors: ['INVALID_TEAM_IDS'], fieldChecks: (request, errors) => void checkCustomerCodes(request.body, errors) },
      schema: { operationId: 'createCustomer', summary: 'Create a customer', tags, body: CreateCustomerBody, response: { 201: CustomerSchema } },
    },
    async (request, reply) => {
      const customer = presentCustomer(await svc(request).customers.create(scopeOf(callerOf(request)), request.body))
      return reply.code(201).header('location', `${publicBaseUrl}/v1/customers/${customer.id}`).send(customer)
    },
  )

  app.get(
    '/v1/customers/:id',
    {
      config: { permission: 'customer.read', bucket: 'read' },
      schema: { operationId: 'getCustomer', summary: 'Get a customer', tags, params: PathId, querystring: FieldsQuery, response: { 200: CustomerSchema, 304: { description: 'Not modified.', type: 'null' } } },
    },
    async (request, reply) => sendResource(request, reply, presentCustomer(await svc(request).customers.get(scopeOf(callerOf(request)), request.params.id)), customerSpec, request.query.fields),
  )

  app.put(
    '/v1/customers/:id',
    {
      config: { permission: 'customer.write', bucket: 'write', fieldChecks: (request, errors) => void checkCustomerCodes(request.body, errors) },
      schema: {
        operationId: 'replaceCustomer',
        summary: 'Replace a customer',
        description: 'Replaces every writable field: each must be sent (null clears a nullable one). Send If-Match to avoid overwriting a concurrent change (412).',
        tags,
        params: PathId,
        headers: IfMatch,
        body: ReplaceCustomerBody,
        response: { 200: CustomerSchema },
      },
    },
    async (request, reply) => {
      const customer = presentCustomer(await svc(request).customers.replace(scopeOf(callerOf(request)), request.params.id, request.body, replacementGuard(presentCustomer, request.body, request.headers['if-match'], CUSTOMER_READ_ONLY)))
      reply.header('etag', etagOf(customer))
      return customer
    },
  )

  app.delete(
    '/v1/customers/:id',
    {
      config: { permission: 'customer.write', bucket: 'write', errors: ['CUSTOMER_HAS_LIVE_BOOKINGS'] },
      schema: {
        operationId: 'deleteCustomer',
        summary: 'Delete a customer',
        description: 'Refused with 409 CUSTOMER_HAS_LIVE_BOOKINGS while the customer has held, confirmed or issued bookings.',
        tags,
        params: PathId,
        response: { 204: { description: 'Deleted.', type: 'null' } },
      },
    },
    async (request, reply) => {
      await svc(request).customers.delete(scopeOf(callerOf(request)), request.params.id)
      return reply.code(204).send(null)
    },
  )
}
