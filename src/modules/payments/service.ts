import type { Clock } from '../../platform/clock.ts'
import { nowIn } from '../test-clock/now.ts'
import type { CursorCodec } from '../../platform/cursor.ts'
import type { Db, Queryable } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, parseCommaList } from '../../platform/errors.ts'
import { newId } from '../../platform/ids.ts'
import type { Scope } from '../../platform/keyset.ts'
import { formatMinor, isCurrency, parseAmount } from '../../platform/money.ts'
import type { Money } from '../../platform/money.ts'
import { planList, toPage } from '../../platform/pagination.ts'
import type { ListSpec, Page } from '../../platform/pagination.ts'
import { recordEvent } from '../events/repository.ts'
import type { EventType } from '../events/service.ts'
import { findInvoice, updateInvoice } from '../invoices/repository.ts'
import { amountDueOf, invoiceEvent } from '../invoices/service.ts'
import * as repo from './repository.ts'
import type { PaymentFilters, PaymentRow, RefundRow } from './repository.ts'
import { DECLINE_REFERENCE, PAYMENT_METHODS, PAYMENT_STATUSES, PaymentSchema } from './schemas.ts'
import type { CreatePaymentInput, PaymentFailureCode, PaymentMethod, PaymentStatus, RefundInput } from './schemas.ts'

/** received_at may run this far ahead of our clock (the payer's clock, a bank's), no further. */
const RECEIVED_AT_LEEWAY_MS = 5 * 60_000

/** A payment as the domain knows it: version-neutral, JSON-safe, the snapshot its events keep. */
export interface Payment {
  id: string
  status: PaymentStatus
  team_id: string
  mode: 'live' | 'test'
  invoice_id: string
  customer_id: string
  amount_minor: number
  amount_refunded_minor: number
  currency: string
  method: PaymentMethod
  reference: string | null
  received_at: string
  failure_code: PaymentFailureCode | null
  failure_message: string | null
  refunds: RefundRow[]
  created_at: string
  updated_at: string
}

export function paymentOf(row: PaymentRow): Payment {
  return {
    id: row.id,
    status: row.status,
    team_id: row.team_id,
    mode: row.mode,
    invoice_id: row.invoice_id,
    customer_id: row.customer_id,
    amount_minor: row.amount_minor,
    amount_refunded_minor: row.amount_refunded_minor,
    currency: row.currency,
    method: row.method,
    reference: row.reference,
    received_at: row.received_at.toISOString(),
    failure_code: row.failure_code as PaymentFailureCode | null,
    failure_message: row.failure_message,
    refunds: row.refunds,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

async function paymentEvent(tx: Queryable, row: PaymentRow, type: EventType, now: Date): Promise<void> {
  await recordEvent(tx, { partnerId: row.partner_id, teamId: row.team_id, mode: row.mode, type, resourceType: 'payment', resourceId: row.id, sequence: row.version, data: paymentOf(row), now })
}

/**
 * An amount of a request in the currency of what it pays or refunds: the currency is checked
 * first (a VND amount sent for a USD invoice is a wrong currency, not a VND amount with too many
 * decimals), then the amount, exact in that currency and above zero.
 */
function amountIn(money: Money, currency: string, what: string): number {
  const errors = new FieldErrors()
  if (money.currency !== currency) new FieldErrors().add('amount.currency', 'currency_mismatch', `must be ${currency}, the currency of the ${what}`).throwIfAny()
  const minor = parseAmount(money.amount, currency)
  if (minor === null) errors.add('amount.amount', 'minor_units', `has more decimals than ${currency} allows, or is too large`)
  else if (minor === 0) errors.add('amount.amount', 'exclusive_minimum', 'must be greater than zero')
  errors.throwIfAny()
  return minor!
}

export const paymentSpec: ListSpec = {
  resource: 'payments',
  sortKeys: { created_at: { column: 'p.created_at', type: 'timestamptz' } },
  defaultSort: '-created_at',
  fields: Object.keys(PaymentSchema.properties),
}

export interface PaymentListQuery extends Omit<PaymentFilters, 'status' | 'method'> {
  limit?: number
  cursor?: string
  sort?: string
  fields?: string
  status?: string[]
  method?: string[]
}

function filtersOf(q: PaymentListQuery): PaymentFilters {
  const errors = new FieldErrors()
  const status = parseCommaList(q.status, PAYMENT_STATUSES, 'status', errors)
  const method = parseCommaList(q.method, PAYMENT_METHODS, 'method', errors)
  errors.throwIfAny()
  const filters: PaymentFilters = {}
  if (status) filters.status = status
  if (method) filters.method = method
  for (const key of ['invoice_id', 'customer_id', 'created_after', 'created_before'] as const) {
    if (q[key] !== undefined) filters[key] = q[key]
  }
  return filters
}

export interface PaymentServiceDeps {
  db: Db
  clock: Clock
  cursors?: CursorCodec
}

export class PaymentService {
  readonly #deps: PaymentServiceDeps
  constructor(deps: PaymentServiceDeps) {
    this.#deps = deps
  }

  /**
   * Records a payment against an invoice, under the invoice's row lock: concurrent payments queue,
   * and each sees the amount due the one before it left, so an invoice is never overpaid. The
   * invoice becomes PAID in the same transaction when its amount due reaches 0. In test mode the
   * reference DECLINE records a FAILED payment and leaves the invoice as it was.
   */
  async create(scope: Scope, input: CreatePaymentInput): Promise<Payment> {
    const { db, clock } = this.#deps
    const now = nowIn(clock, scope)
    const errors = new FieldErrors()
    if (!isCurrency(input.amount.currency)) errors.add('amount.currency', 'iso4217', 'is not an ISO 4217 currency code')
    const receivedAt = input.received_at ? new Date(input.received_at) : now
    if (receivedAt.getTime() > now.getTime() + RECEIVED_AT_LEEWAY_MS) errors.add('received_at', 'maximum', 'must not be in the future')
    errors.throwIfAny()
    return db.transaction(async (tx) => {
      const invoice = await findInvoice(tx, scope, input.invoice_id, true)
      if (!invoice) throw notFound('invoice')
      const amount = amountIn(input.amount, invoice.currency, 'invoice')
      if (invoice.status === 'VOID') throw new ApiError('INVOICE_VOID', `Invoice ${invoice.number} is VOID; no payment can be recorded against it.`, { invoice_id: invoice.id, status: invoice.status })
      const due = amountDueOf(invoice)
      if (amount > due) {
        const amountDue = formatMinor(due, invoice.currency)
        throw new ApiError('PAYMENT_EXCEEDS_AMOUNT_DUE', `The amount due on invoice ${invoice.number} is ${amountDue.amount} ${amountDue.currency}.`, { invoice_id: invoice.id, amount_due: amountDue, amount: input.amount })
      }
      const declined = scope.mode === 'test' && input.reference === DECLINE_REFERENCE
      const payment = await repo.insertPayment(tx, {
        id: newId('payment'),
        partner_id: invoice.partner_id,
        team_id: invoice.team_id,
        mode: invoice.mode,
        invoice_id: invoice.id,
        customer_id: invoice.customer_id,
        status: declined ? 'FAILED' : 'SUCCEEDED',
        amount_minor: amount,
        currency: invoice.currency,
        method: input.method,
        reference: input.reference ?? null,
        received_at: receivedAt,
        failure_code: declined ? 'DECLINED' : null,
        failure_message: declined ? 'The payment was declined (test mode: the reference DECLINE is always declined).' : null,
        created_at: now,
      })
      if (declined) {
        await paymentEvent(tx, payment, 'payment.failed', now)
        return paymentOf(payment)
      }
      const paidInFull = amount === due
      const updated = await updateInvoice(tx, scope, invoice.id, paidInFull ? { amount_paid_minor: invoice.amount_paid_minor + amount, status: 'PAID', paid_at: now } : { amount_paid_minor: invoice.amount_paid_minor + amount }, now)
      await paymentEvent(tx, payment, 'payment.succeeded', now)
      // every change of the invoice has its event, so its sequence counts them without a gap
      await invoiceEvent(tx, updated, paidInFull ? 'invoice.paid' : 'invoice.updated', now)
      return paymentOf(payment)
    })
  }

  async get(scope: Scope, id: string): Promise<Payment> {
    const row = await repo.findPayment(this.#deps.db, scope, id)
    if (!row) throw notFound('payment')
    return paymentOf(row)
  }

  /**
   * Refunds part or all of what is left of a payment (default: all of it), under the payment's
   * lock, then the invoice's: never more than paid minus refunded. The invoice's amount_refunded
   * grows and its amount_due grows by the same amount, so a PAID invoice is OPEN again.
   */
  async refund(scope: Scope, id: string, input: RefundInput): Promise<Payment> {
    const { db, clock } = this.#deps
    const now = nowIn(clock, scope)
    if (input.amount && !isCurrency(input.amount.currency)) new FieldErrors().add('amount.currency', 'iso4217', 'is not an ISO 4217 currency code').throwIfAny()
    return db.transaction(async (tx) => {
      const payment = await repo.findPayment(tx, scope, id, true)
      if (!payment) throw notFound('payment')
      const requested = input.amount ? amountIn(input.amount, payment.currency, 'payment') : null
      if (payment.status === 'FAILED') throw new ApiError('PAYMENT_NOT_REFUNDABLE', 'The payment FAILED: no money was received, so there is nothing to refund.', { payment_id: payment.id, status: payment.status })
      const refundable = payment.amount_minor - payment.amount_refunded_minor
      const amount = requested ?? refundable
      if (amount > refundable || amount === 0) {
        const left = formatMinor(refundable, payment.currency)
        throw new ApiError('REFUND_EXCEEDS_PAYMENT', `${left.amount} ${left.currency} of payment ${payment.id} is left to refund.`, { payment_id: payment.id, refundable_amount: left, ...(input.amount ? { amount: input.amount } : {}) })
      }
      const invoiceScope = { partnerId: payment.partner_id, mode: payment.mode, teamIds: [payment.team_id] }
      const invoice = await findInvoice(tx, invoiceScope, payment.invoice_id, true)
      if (!invoice) throw notFound('invoice')
      const status: PaymentStatus = amount === refundable ? 'REFUNDED' : 'PARTIALLY_REFUNDED'
      const refunded = await repo.addRefund(tx, scope, id, { amount_minor: amount, reason: input.reason, created_at: now.toISOString() }, status, now)
      // a refund makes its amount due again: a PAID invoice is OPEN once more
      const reopened = await updateInvoice(tx, invoiceScope, invoice.id, invoice.status === 'PAID' ? { amount_refunded_minor: invoice.amount_refunded_minor + amount, status: 'OPEN', paid_at: null } : { amount_refunded_minor: invoice.amount_refunded_minor + amount }, now)
      await paymentEvent(tx, refunded, 'payment.refunded', now)
      await invoiceEvent(tx, reopened, 'invoice.updated', now)
      return paymentOf(refunded)
    })
  }

  async list(scope: Scope, query: PaymentListQuery): Promise<{ page: Page<Payment>; fields: string[] | null }> {
    const { db, cursors } = this.#deps
    if (!cursors) throw new Error('PaymentService was built without a cursor codec; lists need one')
    const filters = filtersOf(query)
    const plan = planList(paymentSpec, query, scope, filters, cursors)
    return { page: toPage(await repo.listPayments(db, scope, filters, plan), plan, cursors, paymentOf), fields: plan.fields }
  }
}
