import type { Queryable } from '../../platform/db.ts'
import { notFound } from '../../platform/errors.ts'
import type { ListPlan, Scope } from '../../platform/keyset.ts'
import { pageSql, scopeSql } from '../../platform/keyset.ts'
import type { PaymentMethod, PaymentStatus } from './schemas.ts'

export interface RefundRow {
  amount_minor: number
  reason: string
  created_at: string
}

export interface PaymentRow {
  id: string
  partner_id: string
  team_id: string
  mode: 'live' | 'test'
  invoice_id: string
  customer_id: string
  status: PaymentStatus
  amount_minor: number
  amount_refunded_minor: number
  currency: string
  method: PaymentMethod
  reference: string | null
  received_at: Date
  failure_code: string | null
  failure_message: string | null
  refunds: RefundRow[]
  version: number
  created_at: Date
  updated_at: Date
}

export const PAYMENT_COLUMNS = `p.id, p.partner_id, p.team_id, p.mode, p.invoice_id, p.customer_id, p.status, p.amount_minor, p.amount_refunded_minor,
  p.currency, p.method, p.reference, p.received_at, p.failure_code, p.failure_message, p.refunds, p.version, p.created_at, p.updated_at`

export async function insertPayment(tx: Queryable, row: Omit<PaymentRow, 'amount_refunded_minor' | 'refunds' | 'version' | 'updated_at'>): Promise<PaymentRow> {
  const { rows } = await tx.query<PaymentRow>(
    `INSERT INTO payments AS p (id, partner_id, team_id, mode, invoice_id, customer_id, status, amount_minor, currency, method, reference, received_at,
       failure_code, failure_message, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
     RETURNING ${PAYMENT_COLUMNS}`,
    [row.id, row.partner_id, row.team_id, row.mode, row.invoice_id, row.customer_id, row.status, row.amount_minor, row.currency, row.method,
      row.reference, row.received_at, row.failure_code, row.failure_message, row.created_at],
  )
  return rows[0]!
}

export async function findPayment(db: Queryable, scope: Scope, id: string, forUpdate = false): Promise<PaymentRow | undefined> {
  const params: unknown[] = [id]
  const { rows } = await db.query<PaymentRow>(`SELECT ${PAYMENT_COLUMNS} FROM payments p WHERE p.id = $1 AND ${scopeSql('p', scope, params)}${forUpdate ? ' FOR UPDATE' : ''}`, params)
  return rows[0]
}

/** Adds one refund to a (locked) payment. */
export async function addRefund(tx: Queryable, scope: Scope, id: string, refund: RefundRow, status: PaymentStatus, now: Date): Promise<PaymentRow> {
  const params: unknown[] = [id, now, refund.amount_minor, JSON.stringify([refund]), status]
  const { rows } = await tx.query<PaymentRow>(
    `UPDATE payments p SET amount_refunded_minor = p.amount_refunded_minor + $3, refunds = p.refunds || $4::jsonb, status = $5,
       updated_at = $2, version = p.version + 1
     WHERE p.id = $1 AND ${scopeSql('p', scope, params)} RETURNING ${PAYMENT_COLUMNS}`,
    params,
  )
  if (!rows[0]) throw notFound('payment')
  return rows[0]
}

export interface PaymentFilters {
  status?: PaymentStatus[]
  method?: PaymentMethod[]
  invoice_id?: string
  customer_id?: string
  created_after?: string
  created_before?: string
}

export async function listPayments(db: Queryable, scope: Scope, filters: PaymentFilters, plan: ListPlan): Promise<(PaymentRow & { _sort_key: string })[]> {
  const params: unknown[] = []
  let where = ''
  const simple: [keyof PaymentFilters, string][] = [
    ['status', 'p.status = ANY($'],
    ['method', 'p.method = ANY($'],
    ['invoice_id', 'p.invoice_id = ($'],
    ['customer_id', 'p.customer_id = ($'],
    ['created_after', 'p.created_at > ($'],
    ['created_before', 'p.created_at < ($'],
  ]
  for (const [key, sql] of simple) {
    if (filters[key] === undefined) continue
    params.push(filters[key])
    where += ` AND ${sql}${params.length})`
  }
  const { rows } = await db.query<PaymentRow & { _sort_key: string }>(pageSql({ from: 'payments p', alias: 'p', columns: PAYMENT_COLUMNS, scope, filters: where, params, plan }), params)
  return rows
}
