import Type from 'typebox'
import { MoneySchema } from '../../http/money-schema.ts'
import { Timestamp, idSchema, stringEnum } from '../../http/schemas.ts'

export const PAYMENT_STATUSES = ['SUCCEEDED', 'FAILED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number]

export const PAYMENT_METHODS = ['CARD', 'BANK_TRANSFER', 'CASH', 'E_WALLET'] as const
export type PaymentMethod = (typeof PAYMENT_METHODS)[number]

/** The test-mode reference that is always declined (API.md §9): the payment is recorded FAILED and the invoice is untouched. */
export const DECLINE_REFERENCE = 'DECLINE'

export const PAYMENT_FAILURE_CODES = ['DECLINED'] as const
export type PaymentFailureCode = (typeof PAYMENT_FAILURE_CODES)[number]

const RefundSchema = Type.Object(
  {
    amount: MoneySchema,
    reason: Type.String(),
    created_at: Timestamp,
  },
  { title: 'Refund', additionalProperties: false },
)

export const PaymentSchema = Type.Object(
  {
    id: idSchema('pay'),
    status: stringEnum(PAYMENT_STATUSES, { description: 'SUCCEEDED, FAILED (declined: nothing changed on the invoice), PARTIALLY_REFUNDED or REFUNDED.' }),
    team_id: idSchema('team'),
    mode: stringEnum(['live', 'test']),
    invoice_id: idSchema('inv'),
    customer_id: idSchema('cus'),
    amount: MoneySchema,
    amount_refunded: MoneySchema,
    method: stringEnum(PAYMENT_METHODS),
    reference: Type.Union([Type.String(), Type.Null()]),
    received_at: Timestamp,
    failure_code: Type.Union([stringEnum(PAYMENT_FAILURE_CODES), Type.Null()], { description: 'Why a FAILED payment failed; null otherwise.' }),
    failure_message: Type.Union([Type.String(), Type.Null()]),
    refunds: Type.Array(RefundSchema, { description: 'The refunds of this payment, oldest first.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Payment', additionalProperties: false },
)

export const CreatePaymentBody = Type.Object(
  {
    invoice_id: Type.String({ minLength: 1, maxLength: 64 }),
    amount: { ...MoneySchema, description: 'Greater than zero, at most the invoice\'s amount_due, in the invoice\'s currency.' },
    method: stringEnum(PAYMENT_METHODS),
    reference: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], { description: 'Your reference (a bank transfer id, a receipt number). In test mode, DECLINE records a FAILED payment.' }),
    ),
    received_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the money was received; default now; not in the future (5 minutes of clock skew are allowed).' })),
  },
  { additionalProperties: false },
)
export type CreatePaymentInput = Type.Static<typeof CreatePaymentBody>

export const RefundBody = Type.Object(
  {
    amount: Type.Optional(Type.Union([MoneySchema, Type.Null()], { description: 'Default: all that is left to refund.' })),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
)
export type RefundInput = Type.Static<typeof RefundBody>

