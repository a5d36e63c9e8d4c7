import type { Queryable } from '../../platform/db.ts'

/**
 * test_clocks (migration 0010): a row per partner that has advanced its test clock. No row means
 * offset 0. Read by the token look-up (test tokens only), the hold sweeps and the webhook claim.
 */

/** The offset of one partner's test clock, in seconds (0 when it never moved). */
export async function findOffsetSeconds(db: Queryable, partnerId: string): Promise<number> {
  const { rows } = await db.query<{ offset_seconds: number }>('SELECT offset_seconds FROM test_clocks WHERE partner_id = $1', [partnerId])
  return rows[0]?.offset_seconds ?? 0
}

/**
 * Moves a partner's test clock forward by `seconds`, atomically (two concurrent advances add up),
 * unless the total would pass maxOffsetSeconds; returns the new offset, or null when refused.
 */
export async function advanceOffset(db: Queryable, partnerId: string, seconds: number, maxOffsetSeconds: number, now: Date): Promise<number | null> {
  const { rows } = await db.query<{ offset_seconds: number }>(
    `INSERT INTO test_clocks AS c (partner_id, offset_seconds, updated_at)
     SELECT $1, $2::int, $4::timestamptz WHERE $2::int <= $3::int
     ON CONFLICT (partner_id) DO UPDATE SET offset_seconds = c.offset_seconds + EXCLUDED.offset_seconds, updated_at = EXCLUDED.updated_at
       WHERE c.offset_seconds + EXCLUDED.offset_seconds <= $3::int
     RETURNING offset_seconds`,
    [partnerId, seconds, maxOffsetSeconds, now],
  )
  return rows[0]?.offset_seconds ?? null
}

/**
 * SQL for "the partners whose test clock is ahead", for the cross-tenant jobs: their test rows get
 * a pass of their own at their partner's time, and the real-time pass leaves them alone. `alias`
 * is a row with partner_id and mode.
 */
export function onShiftedTestClockSql(alias: string): string {
  return `(${alias}.mode = 'test' AND ${alias}.partner_id IN (SELECT partner_id FROM test_clocks WHERE offset_seconds > 0))`
}
