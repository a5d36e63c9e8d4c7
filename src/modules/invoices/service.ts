import type { Clock } from '../../platform/clock.ts'
import { nowIn } from '../test-clock/now.ts'
import type { CursorCodec } from '../../platform/cursor.ts'
import { addDays, isCalendarDate } from '../../platform/dates.ts'
import type { Db, Queryable } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, parseCommaList } from '../../platform/errors.ts'
import { newId } from '../../platform/ids.ts'
import type { Scope } from '../../platform/keyset.ts'
import { formatMinor, isCurrency, parseAmount } from '../../platform/money.ts'
import { planList, toPage } from '../../platform/pagination.ts'
import type { ListSpec, Page } from '../../platform/pagination.ts'
import { findBooking } from '../bookings/repository.ts'
import type { BookingRow } from '../bookings/repository.ts'
import { findCustomer } from '../customers/repository.ts'
import { recordEvent } from '../events/repository.ts'
import type { EventType } from '../events/service.ts'
import * as repo from './repository.ts'
import type { InvoiceFilters, InvoiceLineRow, InvoiceRow } from './repository.ts'
import { INVOICE_STATUSES, InvoiceSchema } from './schemas.ts'
import type { CreateInvoiceInput, InvoiceStatus } from './schemas.ts'

/** An invoice is due this many days after it is issued, unless the request says otherwise (or the stay starts sooner). */
export const DEFAULT_DUE_DAYS = 14

/**
 * An invoice as the domain knows it: version-neutral (minor units of its currency, ISO times),
 * JSON-safe, and the snapshot its events keep. amount_due is derived: total − (paid − refunded).
 */
export interface Invoice {
  id: string
  number: string
  status: InvoiceStatus
  team_id: string
  mode: 'live' | 'test'
  customer_id: string
  booking_id: string | null
  currency: string
  line_items: InvoiceLineRow[]
  subtotal_minor: number
  total_minor: number
  amount_paid_minor: number
  amount_refunded_minor: number
  amount_due_minor: number
  due_date: string
  issued_at: string
  paid_at: string | null
  voided_at: string | null
  void_reason: string | null
  created_at: string
  updated_at: string
}

export function amountDueOf(row: Pick<InvoiceRow, 'total_minor' | 'amount_paid_minor' | 'amount_refunded_minor'>): number {
  return row.total_minor - (row.amount_paid_minor - row.amount_refunded_minor)
}

export function invoiceOf(row: InvoiceRow): Invoice {
  return {
    id: row.id,
    number: row.number,
    status: row.status,
    team_id: row.team_id,
    mode: row.mode,
    customer_id: row.customer_id,
    booking_id: row.booking_id,
    currency: row.currency,
    line_items: row.line_items,
    subtotal_minor: row.subtotal_minor,
    total_minor: row.total_minor,
    amount_paid_minor: row.amount_paid_minor,
    amount_refunded_minor: row.amount_refunded_minor,
    // a void invoice asks for nothing
    amount_due_minor: row.status === 'VOID' ? 0 : amountDueOf(row),
    due_date: row.due_date,
    issued_at: row.issued_at.toISOString(),
    paid_at: row.paid_at?.toISOString() ?? null,
    voided_at: row.voided_at?.toISOString() ?? null,
    void_reason: row.void_reason,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

export async function invoiceEvent(tx: Queryable, row: InvoiceRow, type: EventType, now: Date): Promise<void> {
  await recordEvent(tx, { partnerId: row.partner_id, teamId: row.team_id, mode: row.mode, type, resourceType: 'invoice', resourceId: row.id, sequence: row.version, data: invoiceOf(row), now })
}

async function issue(tx: Queryable, draft: Omit<InvoiceRow, 'number' | 'amount_paid_minor' | 'amount_refunded_minor' | 'status' | 'paid_at' | 'voided_at' | 'void_reason' | 'version' | 'created_at' | 'updated_at'>): Promise<InvoiceRow> {
  const number = await repo.nextInvoiceNumber(tx, draft.partner_id, draft.mode, draft.issued_at)
  const row = await repo.insertInvoice(tx, {
    ...draft,
    number,
    amount_paid_minor: 0,
    amount_refunded_minor: 0,
    status: 'OPEN',
    paid_at: null,
    voided_at: null,
    void_reason: null,
    version: 1,
    created_at: draft.issued_at,
    updated_at: draft.issued_at,
  })
  await invoiceEvent(tx, row, 'invoice.created', draft.issued_at)
  return row
}

/**
 * The invoice of a booking being confirmed, in the confirmation's transaction: one line, nights ×
 * nightly rate; due on the earlier of check-in and DEFAULT_DUE_DAYS from today (never before today).
 */
export async function invoiceBooking(tx: Queryable, booking: BookingRow, now: Date): Promise<InvoiceRow> {
  return issueForBooking(tx, booking, now, async (listingName) => ({
    description: `${listingName}: ${nightsOf(booking.nights)}, ${booking.check_in} to ${booking.check_out}`,
    quantity: booking.nights,
    unit_amount_minor: booking.nightly_rate_minor,
    amount_minor: booking.total_minor,
  }))
}

const nightsOf = (n: number) => `${n} night${n === 1 ? '' : 's'}`

/** An invoice the booking makes itself: due on the earlier of check-in and DEFAULT_DUE_DAYS from today, never before today. */
async function issueForBooking(tx: Queryable, booking: BookingRow, now: Date, line: (listingName: string) => Promise<InvoiceLineRow>): Promise<InvoiceRow> {
  const { rows } = await tx.query<{ name: string }>('SELECT name FROM listings WHERE id = $1', [booking.listing_id])
  const today = now.toISOString().slice(0, 10)
  const byDefault = addDays(today, DEFAULT_DUE_DAYS)
  const dueDate = booking.check_in < today ? today : booking.check_in < byDefault ? booking.check_in : byDefault
  const item = await line(rows[0]?.name ?? 'Stay')
  return issue(tx, {
    id: newId('invoice'),
    partner_id: booking.partner_id,
    team_id: booking.team_id,
    mode: booking.mode,
    customer_id: booking.customer_id,
    booking_id: booking.id,
    from_booking: true,
    currency: booking.currency,
    line_items: [item],
    subtotal_minor: item.amount_minor,
    total_minor: item.amount_minor,
    due_date: dueDate,
    issued_at: now,
  })
}

/**
 * A confirmed booking's stay changed (PUT /v1/bookings/{id}/stay), in that transaction: the
 * invoices the booking made follow it. While nothing is paid on them they are voided and the new
 * stay is invoiced afresh; once money is paid they stand, a higher price is invoiced as a
 * supplement for the difference, and a lower one is settled by an explicit refund.
 */
export async function reinvoiceStay(tx: Queryable, booking: BookingRow, now: Date): Promise<void> {
  const invoices = await repo.bookingMadeInvoices(tx, booking.id)
  const netPaid = invoices.reduce((sum, i) => sum + i.amount_paid_minor - i.amount_refunded_minor, 0)
  if (netPaid === 0) {
    for (const invoice of invoices) await voidBookingInvoice(tx, invoice, 'Stay changed', now)
    await invoiceBooking(tx, booking, now)
    return
  }
  const billed = invoices.filter((i) => i.currency === booking.currency).reduce((sum, i) => sum + i.total_minor, 0)
  const difference = booking.total_minor - billed
  if (difference <= 0) return
  await issueForBooking(tx, booking, now, async (listingName) => ({
    description: `${listingName}: stay changed to ${nightsOf(booking.nights)}, ${booking.check_in} to ${booking.check_out} (difference)`,
    quantity: 1,
    unit_amount_minor: difference,
    amount_minor: difference,
  }))
}

async function voidBookingInvoice(tx: Queryable, invoice: InvoiceRow, reason: string, now: Date): Promise<void> {
  const scope = { partnerId: invoice.partner_id, mode: invoice.mode, teamIds: [invoice.team_id] }
  const voided = await repo.updateInvoice(tx, scope, invoice.id, { status: 'VOID', voided_at: now, void_reason: reason }, now)
  await invoiceEvent(tx, voided, 'invoice.voided', now)
}

/** Cancelling a booking voids its invoices nothing has been paid on (net); a paid one stays, and refunds are explicit. */
export async function voidUnpaidInvoicesOfBooking(tx: Queryable, booking: BookingRow, now: Date): Promise<void> {
  for (const invoice of await repo.unpaidInvoicesOfBooking(tx, booking.id)) await voidBookingInvoice(tx, invoice, 'Booking cancelled', now)
}

export const invoiceSpec: ListSpec = {
  resource: 'invoices',
  sortKeys: {
    created_at: { column: 'i.created_at', type: 'timestamptz' },
    due_date: { column: 'i.due_date', type: 'date' },
  },
  defaultSort: '-created_at',
  fields: Object.keys(InvoiceSchema.properties),
}

export interface InvoiceListQuery extends Omit<InvoiceFilters, 'status'> {
  limit?: number
  cursor?: string
  sort?: string
  fields?: string
  status?: string[]
}

function filtersOf(q: InvoiceListQuery): InvoiceFilters {
  const errors = new FieldErrors()
  for (const key of ['due_date_from', 'due_date_to'] as const) {
    const value = q[key]
    if (value !== undefined && !isCalendarDate(value)) errors.add(key, 'date', 'must be a calendar date YYYY-MM-DD', 'query')
  }
  const status = parseCommaList(q.status, INVOICE_STATUSES, 'status', errors)
  errors.throwIfAny()
  const filters: InvoiceFilters = {}
  if (status) filters.status = status
  for (const key of ['customer_id', 'booking_id', 'created_after', 'created_before', 'due_date_from', 'due_date_to'] as const) {
    if (q[key] !== undefined) filters[key] = q[key]
  }
  return filters
}

/** The lines of a new invoice, checked whole: one currency, every amount exact in it and above zero, a total that fits. */
function linesOf(input: CreateInvoiceInput, errors: FieldErrors): { currency: string; lines: InvoiceLineRow[]; totalMinor: number } {
  const currency = input.line_items[0]?.unit_amount.currency ?? ''
  const lines: InvoiceLineRow[] = []
  let total = 0n
  input.line_items.forEach((item, i) => {
    const at = `line_items[${i}].unit_amount`
    const { amount, currency: lineCurrency } = item.unit_amount
    if (!isCurrency(lineCurrency)) return void errors.add(`${at}.currency`, 'iso4217', 'is not an ISO 4217 currency code')
    if (lineCurrency !== currency) return void errors.add(`${at}.currency`, 'currency_mismatch', `must be ${currency}, like line_items[0]: an invoice has one currency`)
    const minor = parseAmount(amount, lineCurrency)
    if (minor === null) return void errors.add(`${at}.amount`, 'minor_units', `has more decimals than ${lineCurrency} allows, or is too large`)
    if (minor === 0) return void errors.add(`${at}.amount`, 'exclusive_minimum', 'must be greater than zero')
    const lineTotal = BigInt(minor) * BigInt(item.quantity)
    total += lineTotal
    lines.push({ description: item.description, quantity: item.quantity, unit_amount_minor: minor, amount_minor: Number(lineTotal) })
  })
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) errors.add('line_items', 'maximum', 'add up to more than an invoice can hold')
  return { currency, lines, totalMinor: Number(total) }
}

export interface InvoiceServiceDeps {
  db: Db
  clock: Clock
  cursors?: CursorCodec
}

export class InvoiceService {
  readonly #deps: InvoiceServiceDeps
  constructor(deps: InvoiceServiceDeps) {
    this.#deps = deps
  }

  /** A manual invoice for a customer (optionally for one of their bookings), issued now, OPEN. */
  async create(scope: Scope, input: CreateInvoiceInput): Promise<Invoice> {
    const { db, clock } = this.#deps
    const now = nowIn(clock, scope)
    const today = now.toISOString().slice(0, 10)
    const errors = new FieldErrors()
    const { currency, lines, totalMinor } = linesOf(input, errors)
    const dueDate = input.due_date ?? addDays(today, DEFAULT_DUE_DAYS)
    if (!isCalendarDate(dueDate)) errors.add('due_date', 'date', 'must be a calendar date YYYY-MM-DD')
    else if (dueDate < today) errors.add('due_date', 'minimum', `must not be before today (${today}, UTC)`)
    errors.throwIfAny()
    return db.transaction(async (tx) => {
      const customer = await findCustomer(tx, scope, input.customer_id)
      if (!customer) throw notFound('customer')
      if (input.booking_id) {
        const booking = await findBooking(tx, scope, input.booking_id)
        if (!booking) throw notFound('booking')
        if (booking.customer_id !== customer.id) new FieldErrors().add('booking_id', 'customer_mismatch', `is a booking of another customer, not of ${customer.id}`).throwIfAny()
      }
      const row = await issue(tx, {
        id: newId('invoice'),
        partner_id: scope.partnerId,
        team_id: customer.team_id,
        mode: scope.mode,
        customer_id: customer.id,
        booking_id: input.booking_id ?? null,
        from_booking: false,
        currency,
        line_items: lines,
        subtotal_minor: totalMinor,
        total_minor: totalMinor,
        due_date: dueDate,
        issued_at: now,
      })
      return invoiceOf(row)
    })
  }

  async get(scope: Scope, id: string): Promise<Invoice> {
    const row = await repo.findInvoice(this.#deps.db, scope, id)
    if (!row) throw notFound('invoice')
    return invoiceOf(row)
  }

  /** OPEN → VOID, only while nothing is paid on it net (refund first): 409 naming the amount otherwise. */
  async void(scope: Scope, id: string, reason: string | null): Promise<Invoice> {
    const { db, clock } = this.#deps
    const now = nowIn(clock, scope)
    return db.transaction(async (tx) => {
      const current = await repo.findInvoice(tx, scope, id, true)
      if (!current) throw notFound('invoice')
      if (current.status === 'VOID') throw new ApiError('INVOICE_VOID', `Invoice ${current.number} was voided at ${current.voided_at!.toISOString()}.`, { invoice_id: current.id, status: current.status, voided_at: current.voided_at!.toISOString() })
      const netPaid = current.amount_paid_minor - current.amount_refunded_minor
      if (netPaid > 0) {
        const paid = formatMinor(netPaid, current.currency)
        throw new ApiError('INVOICE_HAS_PAYMENTS', `${paid.amount} ${paid.currency} is paid on invoice ${current.number}; refund it before voiding the invoice.`, { invoice_id: current.id, amount_paid_net: paid })
      }
      const row = await repo.updateInvoice(tx, scope, id, { status: 'VOID', voided_at: now, void_reason: reason }, now)
      await invoiceEvent(tx, row, 'invoice.voided', now)
      return invoiceOf(row)
    })
  }

  async list(scope: Scope, query: InvoiceListQuery): Promise<{ page: Page<Invoice>; fields: string[] | null }> {
    return this.#page(scope, query, filtersOf(query))
  }

  /** A customer's invoices: the customer must be visible to the token (customerScope); the invoices are narrowed by team_ids (scope). */
  async listForCustomer(customerScope: Scope, customerId: string, scope: Scope, query: InvoiceListQuery): Promise<{ page: Page<Invoice>; fields: string[] | null }> {
    const customer = await findCustomer(this.#deps.db, customerScope, customerId)
    if (!customer) throw notFound('customer')
    return this.#page(scope, query, { ...filtersOf(query), customer_id: customer.id })
  }

  async #page(scope: Scope, query: InvoiceListQuery, filters: InvoiceFilters): Promise<{ page: Page<Invoice>; fields: string[] | null }> {
    const { db, cursors } = this.#deps
    if (!cursors) throw new Error('InvoiceService was built without a cursor codec; lists need one')
    const plan = planList(invoiceSpec, query, scope, filters, cursors)
    return { page: toPage(await repo.listInvoices(db, scope, filters, plan), plan, cursors, invoiceOf), fields: plan.fields }
  }
}
