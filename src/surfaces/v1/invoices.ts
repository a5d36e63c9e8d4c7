import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { PathId, calendarDate, commaList, listOf } from '../../http/schemas.ts'
import { CreateInvoiceBody, INVOICE_STATUSES, InvoiceSchema, VoidInvoiceBody } from '../../modules/invoices/schemas.ts'
import { invoiceSpec } from '../../modules/invoices/service.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { presentInvoice } from './presenters.ts'
import { sendPage } from './render.ts'

const tags = ['Invoices']

const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })

const filterQuery = {
  status: commaList(INVOICE_STATUSES, 'status=OPEN,PAID. '),
  booking_id: Type.Optional(Type.String({ maxLength: 64 })),
  created_after: Type.Optional(Type.String({ format: 'date-time' })),
  created_before: Type.Optional(Type.String({ format: 'date-time' })),
  due_date_from: Type.Optional(calendarDate('YYYY-MM-DD, inclusive.')),
  due_date_to: Type.Optional(calendarDate('YYYY-MM-DD, inclusive.')),
}

const AMOUNTS =
  'amount_paid is the sum of the invoice\'s succeeded payments; amount_refunded the sum of their refunds; amount_due = total − (amount_paid − amount_refunded). ' +
  'A payment that brings amount_due to 0 makes the invoice PAID; a refund makes its amount due again, so a PAID invoice becomes OPEN. A VOID invoice has amount_due 0.'

export const invoiceRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor; publicBaseUrl: string }> = async (app, { svc, publicBaseUrl }) => {
  app.get(
    '/v1/invoices',
    {
      config: { permission: 'invoice.read', bucket: 'read' },
      schema: {
        operationId: 'listInvoices',
        summary: 'List invoices',
        description: `Filters combine with AND. ${AMOUNTS}`,
        tags,
        querystring: Type.Object({ ...listQuerySchema(invoiceSpec), ...filterQuery, customer_id: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: listOf(InvoiceSchema) },
      },
    },
    async (request, reply) => {
      const { page, fields } = await svc(request).invoices.list(scopeOf(callerOf(request), request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentInvoice)
    },
  )

  app.get(
    '/v1/customers/:id/invoices',
    {
      // like a customer's bookings: both reads are needed (GET /v1/invoices?customer_id= needs invoice.read alone)
      config: { permission: ['customer.read', 'invoice.read'], bucket: 'read' },
      schema: {
        operationId: 'listCustomerInvoices',
        summary: 'List a customer\'s invoices',
        tags: ['Customers'],
        params: PathId,
        querystring: Type.Object({ ...listQuerySchema(invoiceSpec), ...filterQuery }, { additionalProperties: false }),
        response: { 200: listOf(InvoiceSchema) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { page, fields } = await svc(request).invoices.listForCustomer(scopeOf(caller), request.params.id, scopeOf(caller, request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentInvoice)
    },
  )

  app.post(
    '/v1/invoices',
    {
      config: { permission: 'invoice.write', bucket: 'write', errors: ['NOT_FOUND'] },
      schema: {
        operationId: 'createInvoice',
        summary: 'Invoice a customer',
        description:
          'A manual invoice (a confirmed booking gets its invoice by itself): line items in one currency, each quantity × unit_amount, issued now with the next number ' +
          'INV-<year>-<000001> (gap-free per partner, mode and year), OPEN, due on due_date (default 14 days from today). The invoice belongs to the customer\'s team.',
        tags,
        body: CreateInvoiceBody,
        response: { 201: InvoiceSchema },
      },
    },
    async (request, reply) => {
      const invoice = presentInvoice(await svc(request).invoices.create(scopeOf(callerOf(request)), request.body))
      return reply.code(201).header('location', `${publicBaseUrl}/v1/invoices/${invoice.id}`).send(invoice)
    },
  )

  app.get(
    '/v1/invoices/:id',
    {
      config: { permission: 'invoice.read', bucket: 'read' },
      schema: { operationId: 'getInvoice', summary: 'Get an invoice', description: AMOUNTS, tags, params: PathId, querystring: FieldsQuery, response: { 200: InvoiceSchema, 304: { description: 'Not modified.', type: 'null' } } },
    },
    async (request, reply) => sendResource(request, reply, presentInvoice(await svc(request).invoices.get(scopeOf(callerOf(request)), request.params.id)), invoiceSpec, request.query.fields),
  )

  app.post(
    '/v1/invoices/:id(^.+)::void',
    {
      config: { permission: 'invoice.write', bucket: 'write', optionalBody: true, errors: ['INVOICE_VOID', 'INVOICE_HAS_PAYMENTS'] },
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {}
      },
      schema: {
        operationId: 'voidInvoice',
        summary: 'Void an invoice',
        description: 'OPEN → VOID, only while nothing is paid on it net (amount_paid − amount_refunded = 0): otherwise 409 INVOICE_HAS_PAYMENTS naming the amount; refund the payments first.',
        tags,
        params: PathId,
        body: VoidInvoiceBody,
        response: { 200: InvoiceSchema },
      },
    },
    async (request) => presentInvoice(await svc(request).invoices.void(scopeOf(callerOf(request)), request.params.id, request.body?.reason ?? null)),
  )
}
