import type { Queryable } from '../../platform/db.ts'
import type { Bucket } from './buckets.ts'

/** Per-partner overrides of the default limits (read with the token; written by the CLI). */
export async function partnerLimits(db: Queryable, partnerId: string): Promise<Partial<Record<Bucket, number>>> {
  const { rows } = await db.query<{ bucket: Bucket; limit_per_minute: number }>('SELECT bucket, limit_per_minute FROM partner_rate_limits WHERE partner_id = $1', [partnerId])
  return Object.fromEntries(rows.map((r) => [r.bucket, r.limit_per_minute]))
}

export async function setPartnerLimit(db: Queryable, partnerId: string, bucket: Bucket, limit: number): Promise<void> {
  await db.query(
    `INSERT INTO partner_rate_limits (partner_id, bucket, limit_per_minute, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (partner_id, bucket) DO UPDATE SET limit_per_minute = EXCLUDED.limit_per_minute, updated_at = now()`,
    [partnerId, bucket, limit],
  )
}

export async function resetPartnerLimit(db: Queryable, partnerId: string, bucket: Bucket): Promise<void> {
  await db.query('DELETE FROM partner_rate_limits WHERE partner_id = $1 AND bucket = $2', [partnerId, bucket])
}
