import type { Mode } from '../../config.ts'
import type { Queryable } from '../../platform/db.ts'

/** The idempotency store (API.md §8): one row per partner × mode × key, kept 24 hours. */
export interface StoredResponse {
  fingerprint: string
  response_status: number
  response_headers: Record<string, string>
  response_body: string
}

/**
 * Takes the key's advisory lock for the rest of the transaction; false when another request with
 * the key holds it (its transaction has not ended). The lock dies with the transaction, so a
 * crashed request never leaves its key locked.
 */
export async function tryLockKey(tx: Queryable, partnerId: string, mode: Mode, key: string): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked', [`${partnerId}|${mode}|${key}`])
  return Boolean(rows[0]?.locked)
}

/** The stored response of a key still within its 24 hours, if any. */
export async function findStoredResponse(tx: Queryable, partnerId: string, mode: Mode, key: string, now: Date): Promise<StoredResponse | undefined> {
  const { rows } = await tx.query<StoredResponse>(
    'SELECT fingerprint, response_status, response_headers, response_body FROM idempotency_keys WHERE partner_id = $1 AND mode = $2 AND key = $3 AND expires_at > $4',
    [partnerId, mode, key, now],
  )
  return rows[0]
}

export interface NewStoredResponse extends StoredResponse {
  partnerId: string
  mode: Mode
  key: string
  createdAt: Date
  expiresAt: Date
}

/** Keeps a response under its key (replacing an expired one), in the request's own transaction. */
export async function storeResponse(tx: Queryable, r: NewStoredResponse): Promise<void> {
  await tx.query(
    `INSERT INTO idempotency_keys (partner_id, mode, key, fingerprint, response_status, response_headers, response_body, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (partner_id, mode, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, response_status = EXCLUDED.response_status,
       response_headers = EXCLUDED.response_headers, response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
    [r.partnerId, r.mode, r.key, r.fingerprint, r.response_status, JSON.stringify(r.response_headers), r.response_body, r.createdAt, r.expiresAt],
  )
}

/** Deletes keys past their 24 hours (a background job); lookups already ignore them. */
export async function purgeExpiredKeys(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM idempotency_keys WHERE expires_at <= $1', [now])
  return rowCount
}
