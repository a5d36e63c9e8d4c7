import type { Queryable } from '../../platform/db.ts'

/** The database answers at all (readiness). */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1')
}

/** A secret every instance shares (the cursor signing key), made by a migration. */
export async function readServerSecret(db: Queryable, name: string): Promise<string | undefined> {
  const { rows } = await db.query<{ value: string }>('SELECT value FROM server_secrets WHERE name = $1', [name])
  return rows[0]?.value
}
