import { hashSecret } from './secret-hash.ts'
import type { Mode } from '../../config.ts'
import type { Clock } from '../../platform/clock.ts'
import type { Db, Queryable } from '../../platform/db.ts'
import { ApiError, notFound } from '../../platform/errors.ts'
import { newId } from '../../platform/ids.ts'
import { findUser } from '../partners/repository.ts'
import { effectivePermissions, isPermission } from './permissions.ts'
import * as repo from './repository.ts'
import type { TokenRow } from './repository.ts'
import { generateToken } from './token-format.ts'
import type { AuthContext } from './verifier.ts'

export const MAX_TOKEN_LIFETIME_DAYS = 365
export const DEFAULT_TOKEN_LIFETIME_DAYS = 90
export const MAX_ROTATION_GRACE_SECONDS = 86_400
export const DEFAULT_ROTATION_GRACE_SECONDS = 3_600
/** Unrevoked tokens one user may hold per mode: keeps GET /v1/tokens one page and leaks bounded. */
export const MAX_ACTIVE_TOKENS_PER_USER = 100
const DAY_MS = 86_400_000

export type TokenStatus = 'ACTIVE' | 'EXPIRED' | 'REVOKED'

export interface TokenResource {
  id: string
  name: string
  mode: Mode
  status: TokenStatus
  partner_id: string
  user_id: string
  team_ids: string[]
  scopes: string[] | null
  permissions: string[]
  prefix: string
  expires_at: string
  last_used_at: string | null
  revoked_at: string | null
  previous_secret_expires_at: string | null
  created_at: string
  updated_at: string
}

export interface TokenWithSecret extends TokenResource {
  secret: string
}

export interface TokenServiceDeps {
  db: Db
  clock: Clock
  /** Called after a revocation or rotation commits, so this instance stops honouring old secrets at once. */
  onTokenChanged: (tokenId: string) => void
}

export interface CreateTokenInput {
  name: string
  mode?: Mode | undefined
  team_ids?: string[] | undefined
  scopes?: string[] | undefined
  expires_at?: string | undefined
}

export function toTokenResource(row: TokenRow, role: Parameters<typeof effectivePermissions>[0], now: Date): TokenResource {
  const status: TokenStatus = row.revoked_at ? 'REVOKED' : row.expires_at.getTime() <= now.getTime() ? 'EXPIRED' : 'ACTIVE'
  const previous = row.previous_secret_valid_until && row.previous_secret_valid_until > now ? row.previous_secret_valid_until.toISOString() : null
  return {
    id: row.id,
    name: row.name,
    mode: row.mode,
    status,
    partner_id: row.partner_id,
    user_id: row.user_id,
    team_ids: row.team_ids,
    scopes: row.scopes,
    permissions: effectivePermissions(role, row.scopes),
    prefix: row.display_prefix,
    expires_at: row.expires_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
    previous_secret_expires_at: previous,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

/** The ceiling a new token must stay under: the caller's own grants (API.md §4, no escalation). */
export interface TokenCeiling {
  teamIds: readonly string[]
  permissions: ReadonlySet<string>
  expiresAt: Date | null
}

export class TokenService {
  readonly #deps: TokenServiceDeps
  constructor(deps: TokenServiceDeps) {
    this.#deps = deps
  }

  /** POST /v1/tokens: a token for the caller's own user and mode, within the caller's grants. */
  async createForCaller(caller: AuthContext, input: CreateTokenInput): Promise<TokenWithSecret> {
    if (input.mode && input.mode !== caller.mode) {
      throw new ApiError('TOKEN_SCOPE_EXCEEDED', `A ${caller.mode} token can only create ${caller.mode} tokens.`, { field: 'mode', allowed: [caller.mode] })
    }
    return this.create(caller.userId, caller.mode, input, {
      teamIds: caller.teamIds,
      permissions: caller.permissions,
      expiresAt: caller.expiresAt,
    })
  }

  /** Creates a token for a user. ceiling null: the CLI (an operator), bounded only by the user's own teams and role. */
  async create(userId: string, mode: Mode, input: CreateTokenInput, ceiling: TokenCeiling | null): Promise<TokenWithSecret> {
    const { db, clock } = this.#deps
    const now = clock.now()
    const user = await findUser(db, userId)
    if (!user) throw notFound('user')

    const allowedTeams = ceiling ? ceiling.teamIds : user.team_ids
    const teamIds = input.team_ids ? [...new Set(input.team_ids)] : [...allowedTeams]
    const outside = teamIds.filter((id) => !allowedTeams.includes(id) || !user.team_ids.includes(id))
    if (outside.length > 0) throw new ApiError('INVALID_TEAM_IDS', 'team_ids names teams outside the calling token.', { invalid_team_ids: outside })
    if (teamIds.length === 0) throw validation('team_ids', 'min_items', 'A token needs at least one team.')

    let scopes: string[] | null = null
    if (input.scopes) {
      const unknown = input.scopes.filter((s) => !isPermission(s))
      if (unknown.length > 0) throw validation('scopes', 'enum', `Unknown permissions: ${unknown.join(', ')}.`)
      scopes = [...new Set(input.scopes)].sort()
    }
    const permissions = effectivePermissions(user.role, scopes)
    if (ceiling) {
      const beyond = (scopes ?? []).filter((p) => !ceiling.permissions.has(p))
      if (beyond.length > 0) throw new ApiError('TOKEN_SCOPE_EXCEEDED', 'The new token would hold permissions the calling token does not.', { field: 'scopes', not_allowed: beyond })
      // a token without scopes inherits the whole role; bound it to the caller's own permissions
      if (scopes === null && permissions.some((p) => !ceiling.permissions.has(p))) scopes = [...ceiling.permissions].sort()
    }

    const maxExpiry = new Date(now.getTime() + MAX_TOKEN_LIFETIME_DAYS * DAY_MS)
    let expiresAt = input.expires_at ? new Date(input.expires_at) : new Date(now.getTime() + DEFAULT_TOKEN_LIFETIME_DAYS * DAY_MS)
    if (input.expires_at) {
      if (expiresAt.getTime() <= now.getTime()) throw validation('expires_at', 'minimum', 'expires_at must be in the future.')
      if (expiresAt.getTime() > maxExpiry.getTime()) throw validation('expires_at', 'maximum', `expires_at must be at most ${MAX_TOKEN_LIFETIME_DAYS} days ahead (${maxExpiry.toISOString()}).`)
    }
    if (ceiling?.expiresAt && expiresAt > ceiling.expiresAt) {
      if (input.expires_at) {
        throw new ApiError('TOKEN_SCOPE_EXCEEDED', 'The new token cannot outlive the calling token.', { field: 'expires_at', latest_allowed: ceiling.expiresAt.toISOString() })
      }
      expiresAt = ceiling.expiresAt
    }

    const secret = generateToken(mode)
    const hash = await hashSecret(secret.secret)
    const id = newId('token')
    const row = await db.transaction(async (tx) => {
      if ((await repo.countActiveTokens(tx, userId, mode)) >= MAX_ACTIVE_TOKENS_PER_USER) {
        throw new ApiError('CONFLICT', `A user can hold at most ${MAX_ACTIVE_TOKENS_PER_USER} unrevoked ${mode} tokens; revoke one first.`, { limit: MAX_ACTIVE_TOKENS_PER_USER })
      }
      await repo.insertToken(tx, { id, partnerId: user.partner_id, userId, name: input.name, mode, teamIds, scopes, displayPrefix: secret.lookup, expiresAt, now })
      await repo.insertSecret(tx, id, secret.lookup, hash, now)
      return (await repo.findTokenById(tx, id))!
    })
    return { ...toTokenResource(row, user.role, now), secret: secret.secret }
  }

  async list(caller: AuthContext): Promise<TokenResource[]> {
    const rows = await repo.listActiveTokens(this.#deps.db, caller.userId, caller.mode)
    const now = this.#deps.clock.now()
    return rows.filter((row) => withinCaller(caller, row)).map((row) => toTokenResource(row, caller.role, now))
  }

  async get(caller: AuthContext, id: string): Promise<TokenResource> {
    const row = await this.#findVisible(caller, id)
    return toTokenResource(row, caller.role, this.#deps.clock.now())
  }

  /** A token of the caller's user and mode that the caller may see and manage; any other id is the same 404. */
  async #findVisible(caller: AuthContext, id: string): Promise<TokenRow> {
    const row = await repo.findToken(this.#deps.db, caller.userId, caller.mode, id)
    if (!row || !withinCaller(caller, row)) throw notFound('token')
    return row
  }

  async revoke(caller: AuthContext, id: string): Promise<void> {
    const { db, clock } = this.#deps
    await this.#findVisible(caller, id)
    await repo.revokeToken(db, id, clock.now())
    this.#deps.onTokenChanged(id)
  }

  /** For the CLI: revoke any token by id. */
  async revokeById(id: string): Promise<TokenResource> {
    const { db, clock } = this.#deps
    const row = await repo.findTokenById(db, id)
    if (!row) throw notFound('token')
    await repo.revokeToken(db, id, clock.now())
    this.#deps.onTokenChanged(id)
    const user = await findUser(db, row.user_id)
    return toTokenResource((await repo.findTokenById(db, id))!, user!.role, clock.now())
  }

  async rotate(caller: AuthContext, id: string, graceSeconds: number): Promise<TokenWithSecret> {
    const { db, clock } = this.#deps
    const now = clock.now()
    const existing = await this.#findVisible(caller, id)
    if (existing.revoked_at) throw new ApiError('CONFLICT', 'A revoked token cannot be rotated.', { status: 'REVOKED' })
    if (existing.expires_at <= now) throw new ApiError('CONFLICT', 'An expired token cannot be rotated.', { status: 'EXPIRED' })
    const secret = generateToken(existing.mode)
    const hash = await hashSecret(secret.secret)
    const row = await db.transaction(async (tx: Queryable) => {
      await repo.retireSecrets(tx, id, new Date(now.getTime() + graceSeconds * 1000))
      await repo.insertSecret(tx, id, secret.lookup, hash, now)
      await repo.setDisplayPrefix(tx, id, secret.lookup, now)
      return (await repo.findTokenById(tx, id))!
    })
    this.#deps.onTokenChanged(id)
    return { ...toTokenResource(row, caller.role, now), secret: secret.secret }
  }
}

/**
 * No escalation through tokens (API.md §4): a token sees and manages only tokens within its own
 * grants (teams, effective permissions, expiry), so it can never read, revoke or rotate a wider one.
 */
function withinCaller(caller: AuthContext, row: TokenRow): boolean {
  return (
    row.team_ids.every((team) => caller.teamIds.includes(team)) &&
    effectivePermissions(caller.role, row.scopes).every((permission) => caller.permissions.has(permission)) &&
    row.expires_at.getTime() <= caller.expiresAt.getTime()
  )
}

function validation(field: string, code: string, message: string): ApiError {
  return new ApiError('VALIDATION_ERROR', message, { fields: [{ field, location: 'body', code, message }] })
}
