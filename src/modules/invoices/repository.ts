import type { Queryable } from '../../platform/db.ts'
import { notFound } from '../../platform/errors.ts'
import type { ListPlan, Scope } from '../../platform/keyset.ts'
import { pageSql, scopeSql } from '../../platform/keyset.ts'
import type { InvoiceStatus } from './schemas.ts'

export interface InvoiceLineRow {
  description: string
  quantity: number
  unit_amount_minor: number
  amount_minor: number
}

export interface InvoiceRow {
  id: string
  partner_id: string
  team_id: string
  mode: 'live' | 'test'
  number: string
  customer_id: string
  booking_id: string | null
  from_booking: boolean
  currency: string
  line_items: InvoiceLineRow[]
  subtotal_minor: number
  total_minor: number
  amount_paid_minor: number
  amount_refunded_minor: number
  status: InvoiceStatus
  due_date: string
  issued_at: Date
  paid_at: Date | null
  voided_at: Date | null
  void_reason: string | null
  version: number
  created_at: Date
  updated_at: Date
}

export const INVOICE_COLUMNS = `i.id, i.partner_id, i.team_id, i.mode, i.number, i.customer_id, i.booking_id, i.from_booking, i.currency, i.line_items, i.subtotal_minor,
  i.total_minor, i.amount_paid_minor, i.amount_refunded_minor, i.status, i.due_date, i.issued_at, i.paid_at, i.voided_at, i.void_reason,
  i.version, i.created_at, i.updated_at`

/**
 * The next document number of a partner's mode and year, gap-free: the counter row is updated in
 * the invoice's own transaction, so concurrent invoices queue on it and a rolled-back one gives
 * its number back.
 */
export async function nextInvoiceNumber(tx: Queryable, partnerId: string, mode: string, at: Date): Promise<string> {
  const year = at.getUTCFullYear()
  const { rows } = await tx.query<{ last_number: number }>(
    `INSERT INTO invoice_number_counters (partner_id, mode, year, last_number) VALUES ($1, $2, $3, 1)
     ON CONFLICT (partner_id, mode, year) DO UPDATE SET last_number = invoice_number_counters.last_number + 1
     RETURNING last_number`,
    [partnerId, mode, year],
  )
  return `INV-${year}-${String(rows[0]!.last_number).padStart(6, '0')}`
}

export async function insertInvoice(tx: Queryable, row: InvoiceRow): Promise<InvoiceRow> {
  const { rows } = await tx.query<InvoiceRow>(
    `INSERT INTO invoices AS i (id, partner_id, team_id, mode, number, customer_id, booking_id, from_booking, currency, line_items, subtotal_minor, total_minor,
       amount_paid_minor, amount_refunded_minor, status, due_date, issued_at, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $14, $8, $9, $10, $11, 0, 0, 'OPEN', $12, $13, 1, $13, $13)
     RETURNING ${INVOICE_COLUMNS}`,
    [row.id, row.partner_id, row.team_id, row.mode, row.number, row.customer_id, row.booking_id, row.currency, JSON.stringify(row.line_items),
      row.subtotal_minor, row.total_minor, row.due_date, row.issued_at, row.from_booking],
  )
  return rows[0]!
}

export async function findInvoice(db: Queryable, scope: Scope, id: string, forUpdate = false): Promise<InvoiceRow | undefined> {
  const params: unknown[] = [id]
  const { rows } = await db.query<InvoiceRow>(`SELECT ${INVOICE_COLUMNS} FROM invoices i WHERE i.id = $1 AND ${scopeSql('i', scope, params)}${forUpdate ? ' FOR UPDATE' : ''}`, params)
  return rows[0]
}

/** Every write carries the tenant predicate itself, not only the read before it. */
export async function updateInvoice(db: Queryable, scope: Scope, id: string, set: Record<string, unknown>, now: Date): Promise<InvoiceRow> {
  const names = Object.keys(set)
  const params: unknown[] = [id, now, ...names.map((name) => set[name])]
  const assignments = names.map((name, i) => `${name} = $${i + 3}`)
  const { rows } = await db.query<InvoiceRow>(
    `UPDATE invoices i SET ${assignments.join(', ')}, updated_at = $2, version = i.version + 1 WHERE i.id = $1 AND ${scopeSql('i', scope, params)} RETURNING ${INVOICE_COLUMNS}`,
    params,
  )
  if (!rows[0]) throw notFound('invoice')
  return rows[0]
}

/** A booking's invoices that nothing has been paid on (net), locked: cancelling the booking voids them. */
export async function unpaidInvoicesOfBooking(tx: Queryable, bookingId: string): Promise<InvoiceRow[]> {
  const { rows } = await tx.query<InvoiceRow>(
    `SELECT ${INVOICE_COLUMNS} FROM invoices i WHERE i.booking_id = $1 AND i.status = 'OPEN' AND i.amount_paid_minor = i.amount_refunded_minor ORDER BY i.id FOR UPDATE`,
    [bookingId],
  )
  return rows
}

/** The invoices a booking made itself (confirmation, stay changes) that are not void, locked: a change of its stay revisits them. */
export async function bookingMadeInvoices(tx: Queryable, bookingId: string): Promise<InvoiceRow[]> {
  const { rows } = await tx.query<InvoiceRow>(
    `SELECT ${INVOICE_COLUMNS} FROM invoices i WHERE i.booking_id = $1 AND i.from_booking AND i.status <> 'VOID' ORDER BY i.id FOR UPDATE`,
    [bookingId],
  )
  return rows
}

export interface InvoiceFilters {
  status?: InvoiceStatus[]
  customer_id?: string
  booking_id?: string
  created_after?: string
  created_before?: string
  due_date_from?: string
  due_date_to?: string
}

export async function listInvoices(db: Queryable, scope: Scope, filters: InvoiceFilters, plan: ListPlan): Promise<(InvoiceRow & { _sort_key: string })[]> {
  const params: unknown[] = []
  let where = ''
  const simple: [keyof InvoiceFilters, string][] = [
    ['status', 'i.status = ANY($'],
    ['customer_id', 'i.customer_id = ($'],
    ['booking_id', 'i.booking_id = ($'],
    ['created_after', 'i.created_at > ($'],
    ['created_before', 'i.created_at < ($'],
    ['due_date_from', 'i.due_date >= ($'],
    ['due_date_to', 'i.due_date <= ($'],
  ]
  for (const [key, sql] of simple) {
    if (filters[key] === undefined) continue
    params.push(filters[key])
    where += ` AND ${sql}${params.length})`
  }
  const { rows } = await db.query<InvoiceRow & { _sort_key: string }>(pageSql({ from: 'invoices i', alias: 'i', columns: INVOICE_COLUMNS, scope, filters: where, params, plan }), params)
  return rows
}
