import Type from 'typebox'
import { MoneySchema } from '../../http/money-schema.ts'
import { NullableTimestamp, Timestamp, calendarDate, idSchema, stringEnum } from '../../http/schemas.ts'

export const INVOICE_STATUSES = ['OPEN', 'PAID', 'VOID'] as const
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number]

const LineItemSchema = Type.Object(
  {
    description: Type.String(),
    quantity: Type.Integer(),
    unit_amount: MoneySchema,
    amount: { ...MoneySchema, description: 'quantity × unit_amount.' },
  },
  { title: 'LineItem', additionalProperties: false },
)

export const InvoiceSchema = Type.Object(
  {
    id: idSchema('inv'),
    number: Type.String({ description: 'The document number, INV-<year>-<000001>: gap-free per partner, mode and year.', examples: ['INV-2026-000123'] }),
    status: stringEnum(INVOICE_STATUSES, { description: 'OPEN while an amount is due, PAID when amount_due reaches 0, VOID once voided.' }),
    team_id: idSchema('team'),
    mode: stringEnum(['live', 'test']),
    customer_id: idSchema('cus'),
    booking_id: Type.Union([idSchema('bkg'), Type.Null()]),
    currency: Type.String({ description: 'ISO 4217; every amount of the invoice and of its payments is in it.' }),
    line_items: Type.Array(LineItemSchema),
    subtotal: MoneySchema,
    total: MoneySchema,
    amount_paid: { ...MoneySchema, description: 'The sum of the invoice\'s succeeded payments (refunds are not deducted here).' },
    amount_refunded: { ...MoneySchema, description: 'The sum of the refunds of those payments.' },
    amount_due: { ...MoneySchema, description: 'total − (amount_paid − amount_refunded): a refund makes its amount due again.' },
    due_date: Type.String({ format: 'date' }),
    issued_at: Timestamp,
    paid_at: NullableTimestamp,
    voided_at: NullableTimestamp,
    void_reason: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Invoice', additionalProperties: false },
)

export const CreateInvoiceBody = Type.Object(
  {
    customer_id: Type.String({ minLength: 1, maxLength: 64 }),
    booking_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], { description: 'A booking of the same customer this invoice is for.' })),
    line_items: Type.Array(
      Type.Object(
        {
          description: Type.String({ minLength: 1, maxLength: 500 }),
          quantity: Type.Integer({ minimum: 1, maximum: 100000 }),
          unit_amount: { ...MoneySchema, description: 'Greater than zero, in the currency\'s minor-unit exponent; every line in one currency.' },
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
    due_date: Type.Optional(Type.Union([calendarDate('YYYY-MM-DD, not before today (UTC); default 14 days from today.'), Type.Null()])),
  },
  { additionalProperties: false },
)
export type CreateInvoiceInput = Type.Static<typeof CreateInvoiceBody>

export const VoidInvoiceBody = Type.Object(
  { reason: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()], { description: 'Why the invoice is voided (optional).' })) },
  { additionalProperties: false },
)
