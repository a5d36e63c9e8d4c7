import type { ListPlan, Scope } from '../../platform/keyset.ts'
import { notFound } from '../../platform/errors.ts'
import type { Queryable } from '../../platform/db.ts'
import { pageSql, scopeSql } from '../../platform/keyset.ts'

export interface CustomerRow {
  id: string
  team_id: string
  mode: 'live' | 'test'
  name: string
  email: string | null
  phone: string | null
  language: string | null
  country_code: string | null
  version: number
  created_at: Date
  updated_at: Date
}

export interface CustomerValues {
  name: string
  email: string | null
  phone: string | null
  language: string | null
  country_code: string | null
}

const COLUMNS = 'c.id, c.team_id, c.mode, c.name, c.email, c.phone, c.language, c.country_code, c.version, c.created_at, c.updated_at'

export async function insertCustomer(db: Queryable, row: { id: string; partnerId: string; teamId: string; mode: string; now: Date } & CustomerValues): Promise<CustomerRow> {
  const { rows } = await db.query<CustomerRow>(
    `INSERT INTO customers AS c (id, partner_id, team_id, mode, name, email, phone, language, country_code, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ${COLUMNS}`,
    [row.id, row.partnerId, row.teamId, row.mode, row.name, row.email, row.phone, row.language, row.country_code, row.now],
  )
  return rows[0]!
}

/** findCustomer: confined to the scope; deleted customers do not exist. */
export async function findCustomer(db: Queryable, scope: Scope, id: string, forUpdate = false): Promise<CustomerRow | undefined> {
  const params: unknown[] = [id]
  const { rows } = await db.query<CustomerRow>(`SELECT ${COLUMNS} FROM customers c WHERE c.id = $1 AND c.deleted_at IS NULL AND ${scopeSql('c', scope, params)}${forUpdate ? ' FOR UPDATE' : ''}`, params)
  return rows[0]
}

/** Every write carries the tenant predicate itself, not only the read before it. */
export async function updateCustomer(db: Queryable, scope: Scope, id: string, values: CustomerValues, now: Date): Promise<CustomerRow> {
  const params: unknown[] = [id, values.name, values.email, values.phone, values.language, values.country_code, now]
  const { rows } = await db.query<CustomerRow>(
    `UPDATE customers c SET name = $2, email = $3, phone = $4, language = $5, country_code = $6, updated_at = $7, version = version + 1
     WHERE c.id = $1 AND c.deleted_at IS NULL AND ${scopeSql('c', scope, params)} RETURNING ${COLUMNS}`,
    params,
  )
  if (!rows[0]) throw notFound('customer')
  return rows[0]
}

export async function softDeleteCustomer(db: Queryable, scope: Scope, id: string, now: Date): Promise<CustomerRow> {
  const params: unknown[] = [id, now]
  const { rows } = await db.query<CustomerRow>(
    `UPDATE customers c SET deleted_at = $2, updated_at = $2, version = version + 1 WHERE c.id = $1 AND c.deleted_at IS NULL AND ${scopeSql('c', scope, params)} RETURNING ${COLUMNS}`,
    params,
  )
  if (!rows[0]) throw notFound('customer')
  return rows[0]
}

export async function countLiveBookings(db: Queryable, customerId: string, now: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM bookings WHERE customer_id = $1 AND (status IN ('CONFIRMED', 'ISSUED') OR (status = 'HELD' AND hold_expires_at > $2))`,
    [customerId, now],
  )
  return rows[0]?.n ?? 0
}

export interface CustomerFilters {
  email?: string
  q?: string
}

export async function listCustomers(db: Queryable, scope: Scope, filters: CustomerFilters, plan: ListPlan): Promise<(CustomerRow & { _sort_key: string })[]> {
  const params: unknown[] = []
  let where = ' AND c.deleted_at IS NULL'
  if (filters.email) {
    params.push(filters.email)
    where += ` AND lower(c.email) = lower($${params.length})`
  }
  if (filters.q) {
    params.push(`%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    where += ` AND (c.name ILIKE $${params.length} OR c.email ILIKE $${params.length})`
  }
  const sql = pageSql({ from: 'customers c', alias: 'c', columns: COLUMNS, scope, filters: where, params, plan })
  const { rows } = await db.query<CustomerRow & { _sort_key: string }>(sql, params)
  return rows
}
