import type { Mode } from '../../config.ts'
import type { Queryable } from '../../platform/db.ts'
import type { Role } from './permissions.ts'

export interface TokenRow {
  id: string
  partner_id: string
  user_id: string
  name: string
  mode: Mode
  team_ids: string[]
  scopes: string[] | null
  display_prefix: string
  expires_at: Date
  last_used_at: Date | null
  revoked_at: Date | null
  created_at: Date
  updated_at: Date
  /** Latest end of a rotated-out secret's grace period, if one is still pending. */
  previous_secret_valid_until: Date | null
}

export interface SecretLookupRow {
  hash: string
  valid_until: Date | null
  token_id: string
  partner_id: string
  user_id: string
  mode: Mode
  scopes: string[] | null
  expires_at: Date
  revoked_at: Date | null
  role: Role
  token_name: string
  display_prefix: string
  partner_name: string
  user_name: string
  user_email: string
  /** The token's teams that the user still belongs to. */
  teams: { id: string; name: string }[]
  /** How many teams the partner has: a token that covers all of them lists by a partner-wide index walk. */
  partner_team_count: number
  /** The partner's rate-limit overrides, bucket → per minute (cached with the token). */
  rate_limits: Record<string, number> | null
  /** Test tokens: how far the partner's test clock runs ahead, in seconds (always 0 for live tokens). */
  test_clock_offset_seconds: number
}

const TOKEN_COLUMNS = `t.id, t.partner_id, t.user_id, t.name, t.mode, t.team_ids, t.scopes, t.display_prefix,
  t.expires_at, t.last_used_at, t.revoked_at, t.created_at, t.updated_at,
  (SELECT max(s.valid_until) FROM token_secrets s WHERE s.token_id = t.id AND s.valid_until IS NOT NULL) AS previous_secret_valid_until`

/** findSecretByLookup: the single query of a token cache miss. */
export async function findSecretByLookup(db: Queryable, lookup: string): Promise<SecretLookupRow | undefined> {
  const { rows } = await db.query<SecretLookupRow>(
    `SELECT s.hash, s.valid_until, t.id AS token_id, t.partner_id, t.user_id, t.mode, t.scopes, t.expires_at, t.revoked_at,
       t.name AS token_name, t.display_prefix, u.role, u.name AS user_name, u.email AS user_email, p.name AS partner_name,
       (SELECT coalesce(json_agg(json_build_object('id', tm.id, 'name', tm.name) ORDER BY tm.created_at, tm.id), '[]'::json)
          FROM user_teams ut JOIN teams tm ON tm.id = ut.team_id
         WHERE ut.user_id = t.user_id AND ut.team_id = ANY(t.team_ids)) AS teams,
       (SELECT count(*)::int FROM teams pt WHERE pt.partner_id = t.partner_id) AS partner_team_count,
       (SELECT json_object_agg(r.bucket, r.limit_per_minute) FROM partner_rate_limits r WHERE r.partner_id = t.partner_id) AS rate_limits,
       -- a live token never reads the test clock (CASE runs the look-up for test tokens only)
       CASE WHEN t.mode = 'test' THEN coalesce((SELECT c.offset_seconds FROM test_clocks c WHERE c.partner_id = t.partner_id), 0) ELSE 0 END AS test_clock_offset_seconds
     FROM token_secrets s
     JOIN tokens t ON t.id = s.token_id
     JOIN users u ON u.id = t.user_id
     JOIN partners p ON p.id = t.partner_id
     WHERE s.lookup = $1`,
    [lookup],
  )
  return rows[0]
}

export interface NewToken {
  id: string
  partnerId: string
  userId: string
  name: string
  mode: Mode
  teamIds: string[]
  scopes: string[] | null
  displayPrefix: string
  expiresAt: Date
  now: Date
}

export async function insertToken(db: Queryable, token: NewToken): Promise<void> {
  await db.query(
    `INSERT INTO tokens (id, partner_id, user_id, name, mode, team_ids, scopes, display_prefix, expires_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
    [token.id, token.partnerId, token.userId, token.name, token.mode, token.teamIds, token.scopes, token.displayPrefix, token.expiresAt, token.now],
  )
}

export async function insertSecret(db: Queryable, tokenId: string, lookup: string, hash: string, now: Date): Promise<void> {
  await db.query('INSERT INTO token_secrets (lookup, token_id, hash, created_at) VALUES ($1, $2, $3, $4)', [lookup, tokenId, hash, now])
}

/** Ends the current secret (and shortens any older one) at graceEnd; the new secret is inserted separately. */
export async function retireSecrets(db: Queryable, tokenId: string, graceEnd: Date): Promise<void> {
  await db.query(
    `UPDATE token_secrets SET valid_until = CASE WHEN valid_until IS NULL OR valid_until > $2 THEN $2 ELSE valid_until END
     WHERE token_id = $1`,
    [tokenId, graceEnd],
  )
}

export async function setDisplayPrefix(db: Queryable, tokenId: string, displayPrefix: string, now: Date): Promise<void> {
  await db.query('UPDATE tokens SET display_prefix = $2, updated_at = $3 WHERE id = $1', [tokenId, displayPrefix, now])
}

/** Tokens are personal: every read is confined to one user and one mode. */
export async function findToken(db: Queryable, userId: string, mode: Mode, id: string): Promise<TokenRow | undefined> {
  const { rows } = await db.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1 AND t.user_id = $2 AND t.mode = $3`, [id, userId, mode])
  return rows[0]
}

export async function findTokenById(db: Queryable, id: string): Promise<TokenRow | undefined> {
  const { rows } = await db.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens t WHERE t.id = $1`, [id])
  return rows[0]
}

export async function listActiveTokens(db: Queryable, userId: string, mode: Mode | null): Promise<TokenRow[]> {
  const { rows } = await db.query<TokenRow>(
    `SELECT ${TOKEN_COLUMNS} FROM tokens t
     WHERE t.user_id = $1 AND ($2::text IS NULL OR t.mode = $2) AND t.revoked_at IS NULL
     ORDER BY t.created_at, t.id`,
    [userId, mode],
  )
  return rows
}

export async function countActiveTokens(db: Queryable, userId: string, mode: Mode): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tokens WHERE user_id = $1 AND mode = $2 AND revoked_at IS NULL', [userId, mode])
  return rows[0]?.n ?? 0
}

export async function revokeToken(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE tokens SET revoked_at = coalesce(revoked_at, $2), updated_at = $2 WHERE id = $1', [id, now])
}

/** Conditional, so several instances together still write at most about once a minute per token. */
export async function touchLastUsed(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`,
    [id, now],
  )
}
