import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { PathId, commaList, listOf } from '../../http/schemas.ts'
import { CreatePaymentBody, PAYMENT_METHODS, PAYMENT_STATUSES, PaymentSchema, RefundBody } from '../../modules/payments/schemas.ts'
import { paymentSpec } from '../../modules/payments/service.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { presentPayment } from './presenters.ts'
import { sendPage } from './render.ts'

const tags = ['Payments']

const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })

export const paymentRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor; publicBaseUrl: string }> = async (app, { svc, publicBaseUrl }) => {
  app.get(
    '/v1/payments',
    {
      config: { permission: 'payment.read', bucket: 'read' },
      schema: {
        operationId: 'listPayments',
        summary: 'List payments',
        description: 'Filters combine with AND.',
        tags,
        querystring: Type.Object(
          {
            ...listQuerySchema(paymentSpec),
            status: commaList(PAYMENT_STATUSES, 'status=SUCCEEDED,PARTIALLY_REFUNDED. '),
            method: commaList(PAYMENT_METHODS),
            invoice_id: Type.Optional(Type.String({ maxLength: 64 })),
            customer_id: Type.Optional(Type.String({ maxLength: 64 })),
            created_after: Type.Optional(Type.String({ format: 'date-time' })),
            created_before: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(PaymentSchema) },
      },
    },
    async (request, reply) => {
      const { page, fields } = await svc(request).payments.list(scopeOf(callerOf(request), request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentPayment)
    },
  )

  app.post(
    '/v1/payments',
    {
      config: { permission: 'payment.write', bucket: 'write', idempotencyKeyRequired: true, errors: ['IDEMPOTENCY_KEY_REQUIRED', 'NOT_FOUND', 'INVOICE_VOID', 'PAYMENT_EXCEEDS_AMOUNT_DUE'] },
      schema: {
        operationId: 'createPayment',
        summary: 'Record a payment',
        description:
          'Records money received against an invoice. Idempotency-Key is required: a retry with the same key returns the first answer and never records the payment twice. ' +
          'The amount is in the invoice\'s currency (400 otherwise), greater than zero and at most its amount_due (409 PAYMENT_EXCEEDS_AMOUNT_DUE with details.amount_due); ' +
          'a VOID invoice takes no payment (409 INVOICE_VOID). Payments racing for one invoice queue on it: together they never exceed what is due. ' +
          'When amount_due reaches 0 the invoice is PAID, in the same transaction (events payment.succeeded, then invoice.paid). ' +
          'Test mode: the reference DECLINE is always declined: the payment is created (201) with status FAILED and failure_code DECLINED, and the invoice is unchanged (event payment.failed).',
        tags,
        body: CreatePaymentBody,
        response: { 201: PaymentSchema },
      },
    },
    async (request, reply) => {
      const payment = presentPayment(await svc(request).payments.create(scopeOf(callerOf(request)), request.body))
      return reply.code(201).header('location', `${publicBaseUrl}/v1/payments/${payment.id}`).send(payment)
    },
  )

  app.get(
    '/v1/payments/:id',
    {
      config: { permission: 'payment.read', bucket: 'read' },
      schema: { operationId: 'getPayment', summary: 'Get a payment', tags, params: PathId, querystring: FieldsQuery, response: { 200: PaymentSchema, 304: { description: 'Not modified.', type: 'null' } } },
    },
    async (request, reply) => sendResource(request, reply, presentPayment(await svc(request).payments.get(scopeOf(callerOf(request)), request.params.id)), paymentSpec, request.query.fields),
  )

  app.post(
    '/v1/payments/:id(^.+)::refund',
    {
      config: { permission: 'payment.write', bucket: 'write', errors: ['PAYMENT_NOT_REFUNDABLE', 'REFUND_EXCEEDS_PAYMENT'] },
      schema: {
        operationId: 'refundPayment',
        summary: 'Refund a payment',
        description:
          'Refunds all that is left of the payment (the default) or part of it; never more than amount − amount_refunded (409 REFUND_EXCEEDS_PAYMENT with details.refundable_amount). ' +
          'The payment becomes PARTIALLY_REFUNDED or REFUNDED. On its invoice, amount_refunded grows and amount_due grows by the same amount: a PAID invoice becomes OPEN again ' +
          '(to close a cancelled booking\'s paid invoice, refund its payments, then void it). Send an Idempotency-Key to make a retry safe. Event: payment.refunded.',
        tags,
        params: PathId,
        body: RefundBody,
        response: { 200: PaymentSchema },
      },
    },
    async (request) => presentPayment(await svc(request).payments.refund(scopeOf(callerOf(request)), request.params.id, request.body)),
  )
}
