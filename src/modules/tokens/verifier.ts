import { createHash } from 'node:crypto'
import type { Mode } from '../../config.ts'
import type { Clock } from '../../platform/clock.ts'
import type { Db } from '../../platform/db.ts'
import { ApiError } from '../../platform/errors.ts'
import type { ErrorCode } from '../../platform/errors.ts'
import { DEFAULT_LIMITS_PER_MINUTE } from '../limits/buckets.ts'
import type { Bucket } from '../limits/buckets.ts'
import type { Charge, RateLimitStore } from '../limits/store.ts'
import { rateLimitExceeded, rateLimitHeaders } from '../../http/rate-limit.ts'
import type { Permission, Role } from './permissions.ts'
import { effectivePermissions } from './permissions.ts'
import { findSecretByLookup, touchLastUsed } from './repository.ts'
import { parseToken } from './token-format.ts'
import { verifySecret } from './secret-hash.ts'

/** Who is calling: derived from a verified token, attached to the request. */
export interface AuthContext {
  tokenId: string
  partnerId: string
  userId: string
  role: Role
  mode: Mode
  /** The token's teams that its user still belongs to; every tenant query is confined to these. */
  teamIds: string[]
  /** How many teams the partner had when the token was verified (a hint for list plans, never a grant). */
  partnerTeamCount: number
  scopes: string[] | null
  permissions: ReadonlySet<Permission>
  expiresAt: Date
  /** Descriptive fields kept so GET /v1/me answers from the cache without a query. */
  tokenName: string
  tokenPrefix: string
  partnerName: string
  userName: string
  userEmail: string
  teams: { id: string; name: string }[]
  /** Requests a minute per bucket: the defaults with the partner's overrides applied. */
  rateLimits: Record<Bucket, number>
  /**
   * Test tokens: how far the partner's test clock runs ahead of real time, in seconds (API.md §9);
   * 0 for live tokens. Cached with the token: an advance reaches this instance's cache at once
   * (testClockSeen) and other instances within cacheTtlSeconds.
   */
  testClockOffsetSeconds: number
}

interface CacheEntry {
  context: AuthContext
  cachedAtMs: number
  /** When this secret stops working on its own: the token's expiry or the end of a rotation grace. */
  secretValidUntilMs: number | null
}

export interface VerifierMetrics {
  argon2Verifications: { inc(): void }
  cacheHits: { inc(): void }
  authFailures: { inc(labels: { reason: string }): void }
}

export interface TokenVerifierOptions {
  db: Db
  clock: Clock
  /** Cache bound: a revocation on another instance takes effect within this time. */
  cacheTtlSeconds: number
  maxCacheEntries?: number
  allowedModes: readonly Mode[]
  /** Counts failed authentications per client address; over the limit, cache misses get 429 before any work. */
  failureStore: RateLimitStore
  failuresPerMinute: number
  /** Argon2id runs at once (the CPU a flood of forged tokens can take); default 4. */
  maxConcurrentHashes?: number
  /** Verifications waiting for a slot before 503; default 256. */
  maxQueuedHashes?: number
  metrics: VerifierMetrics
  onBackgroundError: (error: unknown) => void
}

const LAST_USED_WRITE_INTERVAL_MS = 60_000
/** The bucket that counts failed authentications, per client address (its headers go on every 401). */
export const FAILURE_BUCKET = 'auth_failure'
const failureKey = (address: string) => `auth_failure:${address}`

/**
 * Verifies bearer tokens. A malformed or bad-checksum token is refused before any database or hash
 * work; a verified token is cached in memory (keyed by its SHA-256, never the secret) for at most
 * cacheTtlSeconds, so the hot path costs neither an Argon2id run nor a query.
 */
export class TokenVerifier {
  readonly #options: TokenVerifierOptions
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #cache = new Map<string, CacheEntry>()
  readonly #keysByToken = new Map<string, Set<string>>()
  readonly #inFlight = new Map<string, Promise<CacheEntry>>()
  readonly #lastUsedWrittenMs = new Map<string, number>()
  readonly #hashGate: HashGate

  constructor(options: TokenVerifierOptions) {
    this.#options = options
    this.#ttlMs = options.cacheTtlSeconds * 1000
    this.#maxEntries = options.maxCacheEntries ?? 10_000
    this.#hashGate = new HashGate(options.maxConcurrentHashes ?? 4, options.maxQueuedHashes ?? 256)
  }

  async authenticate(authorization: string | undefined, clientAddress: string): Promise<AuthContext> {
    const secret = bearerSecret(authorization)
    const parsed = secret === null ? null : parseToken(secret)
    if (secret === null || parsed === null) {
      // costs nothing, so it is not counted: a missing or mistyped token never locks anyone out
      this.#options.metrics.authFailures.inc({ reason: authorization ? 'malformed' : 'missing' })
      throw new ApiError('UNAUTHENTICATED', authorization ? 'The bearer token is malformed or its checksum is wrong.' : undefined)
    }
    if (!this.#options.allowedModes.includes(parsed.mode)) {
      this.#options.metrics.authFailures.inc({ reason: 'mode' })
      throw new ApiError('TOKEN_MODE_NOT_ALLOWED', `This server does not accept ${parsed.mode} tokens.`, { mode: parsed.mode })
    }
    const key = createHash('sha256').update(secret).digest('base64url')
    const nowMs = this.#options.clock.now().getTime()
    let entry = this.#cache.get(key)
    if (entry && nowMs - entry.cachedAtMs < this.#ttlMs) {
      this.#options.metrics.cacheHits.inc()
    } else {
      entry = await this.#verifyOnce(key, secret, parsed.lookup, clientAddress)
    }
    if (entry.context.expiresAt.getTime() <= nowMs) {
      throw await this.#fail(clientAddress, 'expired', 'TOKEN_EXPIRED', `The token expired at ${entry.context.expiresAt.toISOString()}.`, { expired_at: entry.context.expiresAt.toISOString() })
    }
    if (entry.secretValidUntilMs !== null && entry.secretValidUntilMs <= nowMs) {
      throw await this.#fail(clientAddress, 'rotated', 'TOKEN_REVOKED', 'This secret was rotated and its grace period has ended.')
    }
    this.#touch(entry.context.tokenId, nowMs)
    return entry.context
  }

  /** Drops every cached secret of a token at once (revocation, rotation) on this instance. */
  evictToken(tokenId: string): void {
    for (const key of this.#keysByToken.get(tokenId) ?? []) this.#cache.delete(key)
    this.#keysByToken.delete(tokenId)
  }

  /**
   * A partner's test clock was advanced (or read further ahead than cached) through this instance:
   * its cached test-token contexts take the new offset at once, without a new verification. The
   * clock only moves forward, so an older offset never replaces a newer one.
   */
  testClockSeen(partnerId: string, offsetSeconds: number): void {
    for (const entry of this.#cache.values()) {
      const context = entry.context
      if (context.partnerId === partnerId && context.mode === 'test' && context.testClockOffsetSeconds < offsetSeconds) {
        entry.context = { ...context, testClockOffsetSeconds: offsetSeconds }
      }
    }
  }

  // Concurrent first requests with the same new token share one verification (one Argon2id run).
  #verifyOnce(key: string, secret: string, lookup: string, clientAddress: string): Promise<CacheEntry> {
    let pending = this.#inFlight.get(key)
    if (!pending) {
      pending = this.#verify(key, secret, lookup, clientAddress).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, pending)
    }
    return pending
  }

  async #verify(key: string, secret: string, lookup: string, clientAddress: string): Promise<CacheEntry> {
    const row = await findSecretByLookup(this.#options.db, lookup)
    if (!row) throw await this.#fail(clientAddress, 'unknown', 'UNAUTHENTICATED', 'The bearer token is not valid.')
    const matches = await this.#hashGate.run(() => {
      this.#options.metrics.argon2Verifications.inc()
      return verifySecret(row.hash, secret)
    })
    if (!matches) throw await this.#fail(clientAddress, 'mismatch', 'UNAUTHENTICATED', 'The bearer token is not valid.')
    if (row.revoked_at) {
      throw await this.#fail(clientAddress, 'revoked', 'TOKEN_REVOKED', `The token was revoked at ${row.revoked_at.toISOString()}.`, { revoked_at: row.revoked_at.toISOString() })
    }
    const entry: CacheEntry = {
      context: {
        tokenId: row.token_id,
        partnerId: row.partner_id,
        userId: row.user_id,
        role: row.role,
        mode: row.mode,
        teamIds: row.teams.map((team) => team.id),
        partnerTeamCount: row.partner_team_count,
        scopes: row.scopes,
        permissions: new Set(effectivePermissions(row.role, row.scopes)),
        expiresAt: row.expires_at,
        tokenName: row.token_name,
        tokenPrefix: row.display_prefix,
        partnerName: row.partner_name,
        userName: row.user_name,
        userEmail: row.user_email,
        teams: row.teams,
        rateLimits: { ...DEFAULT_LIMITS_PER_MINUTE, ...(row.rate_limits ?? {}) },
        testClockOffsetSeconds: row.mode === 'test' ? row.test_clock_offset_seconds : 0,
      },
      cachedAtMs: this.#options.clock.now().getTime(),
      secretValidUntilMs: row.valid_until ? row.valid_until.getTime() : null,
    }
    this.#remember(key, entry)
    return entry
  }

  #remember(key: string, entry: CacheEntry): void {
    if (this.#ttlMs === 0) return
    if (this.#cache.size >= this.#maxEntries) {
      // Map keeps insertion order: drop the oldest entry
      const oldest = this.#cache.keys().next().value
      if (oldest !== undefined) this.#cache.delete(oldest)
    }
    this.#cache.set(key, entry)
    const keys = this.#keysByToken.get(entry.context.tokenId) ?? new Set()
    keys.add(key)
    this.#keysByToken.set(entry.context.tokenId, keys)
  }

  /**
   * Counts a failed authentication of a well-formed token against the client address. Within the
   * limit the answer is the 401; past it, 429 with Retry-After, so a guesser is told to back off.
   * Only failing tokens are ever answered so: a valid token is verified first and never refused.
   */
  async #fail(clientAddress: string, reason: string, code: ErrorCode, message?: string, details?: Record<string, unknown>): Promise<ApiError> {
    this.#options.metrics.authFailures.inc({ reason })
    try {
      const charge: Charge = await this.#options.failureStore.consume(failureKey(clientAddress), this.#options.failuresPerMinute)
      const nowMs = this.#options.clock.now().getTime()
      if (!charge.allowed) return rateLimitExceeded(FAILURE_BUCKET, charge, nowMs, 'Too many failed authentications from this address.')
      return new ApiError(code, message, details, rateLimitHeaders(FAILURE_BUCKET, charge, nowMs))
    } catch (error) {
      this.#options.onBackgroundError(error)
      return new ApiError(code, message, details)
    }
  }

  // last_used_at is written at most once a minute per token (per instance, and the UPDATE itself
  // skips rows written less than a minute ago), never on every request.
  #touch(tokenId: string, nowMs: number): void {
    const last = this.#lastUsedWrittenMs.get(tokenId)
    if (last !== undefined && nowMs - last < LAST_USED_WRITE_INTERVAL_MS) return
    this.#lastUsedWrittenMs.set(tokenId, nowMs)
    if (this.#lastUsedWrittenMs.size > this.#maxEntries) {
      const oldest = this.#lastUsedWrittenMs.keys().next().value
      if (oldest !== undefined) this.#lastUsedWrittenMs.delete(oldest)
    }
    touchLastUsed(this.#options.db, tokenId, new Date(nowMs)).catch(this.#options.onBackgroundError)
  }
}

/** The secret from "Authorization: Bearer <secret>", or null. Tokens are never read from the query string. */
function bearerSecret(authorization: string | undefined): string | null {
  if (!authorization) return null
  const match = /^Bearer +(\S+) *$/i.exec(authorization)
  return match ? match[1]! : null
}

/**
 * Bounds the CPU that Argon2id verifications take, whoever sends them: at most `concurrency` run
 * at once and `maxQueued` wait; beyond that a verification is refused with a retryable 503. A
 * cache hit never passes through here, and neither does a missing, malformed or unknown token.
 */
export class HashGate {
  #running = 0
  readonly #waiting: (() => void)[] = []
  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueued) {
        throw new ApiError('SERVICE_UNAVAILABLE', 'Too many token verifications are waiting; retry in a second.', { retry_after_seconds: 1 }, { 'retry-after': '1' })
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    } else {
      this.#running++
    }
    try {
      return await work()
    } finally {
      const next = this.#waiting.shift()
      // a waiter inherits the slot; otherwise it is freed
      if (next) next()
      else this.#running--
    }
  }
}
