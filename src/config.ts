/**
 * Typed configuration, read once from the environment at the edge (main, CLI, bench) and passed
 * in. Nothing below src/ reads process.env.
 */
export type Mode = 'live' | 'test'

export interface Config {
  port: number
  host: string
  /** PGlite data directory, used when databaseUrl is not set. */
  dataDir: string
  /** postgres://… — switches from the embedded PGlite to a PostgreSQL pool. */
  databaseUrl: string | undefined
  databasePoolSize: number
  redisUrl: string | undefined
  logLevel: string
  /** Base of the URLs the API prints (doc_url, Location, docs). */
  publicBaseUrl: string
  /** Modes this server accepts tokens for; a staging server refuses live tokens. */
  allowedModes: Mode[]
  /** How long a verified token stays in the in-memory cache: the revocation bound on other instances. */
  tokenCacheTtlSeconds: number
  /** Failed authentications allowed per client address per minute before 429. */
  authFailuresPerMinute: number
  /** Seed demo data (partner, teams, users, a token) when the database is empty. */
  seedDemo: boolean
  /** Trust X-Forwarded-For from a proxy in front (needed to rate limit by real client address). */
  trustProxy: boolean
  /** How long a new booking holds its listing before it lapses to EXPIRED. */
  holdMinutes: number
  /** How often the sweeper moves lapsed holds to EXPIRED (0: never, e.g. in tests). */
  holdSweepSeconds: number
  /** Run the background jobs inside the server process (false: leave them to npm run worker). */
  runWorkers: boolean
  /** Let webhook endpoints target private, loopback and link-local addresses (local development and tests only). */
  webhookAllowPrivateTargets: boolean
  /** How long a dispatcher's claim on a delivery holds: a crashed dispatcher's deliveries are taken over after it. */
  webhookLeaseSeconds: number
  /** Answer ?mock=true (test tokens) with schema-valid sample data; false: mock=true is a 400 in every mode. */
  mockResponses: boolean
}

const MODES: readonly Mode[] = ['live', 'test']

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false
  throw new ConfigError(`${name} must be true or false, got "${raw}"`)
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535)
  const host = env.HOST || '127.0.0.1'
  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://')
  }
  const allowedModes = (env.ALLOWED_MODES || 'live,test').split(',').map((m) => m.trim())
  for (const mode of allowedModes) {
    if (!MODES.includes(mode as Mode)) throw new ConfigError(`ALLOWED_MODES has an unknown mode "${mode}" (live, test)`)
  }
  const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host === '127.0.0.1' ? 'localhost' : host
  return {
    port,
    host,
    dataDir: env.DATA_DIR || './data',
    databaseUrl,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    redisUrl: env.REDIS_URL || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    publicBaseUrl: (env.PUBLIC_BASE_URL || `http://${displayHost}:${port}`).replace(/\/$/, ''),
    allowedModes: allowedModes as Mode[],
    tokenCacheTtlSeconds: integer(env, 'TOKEN_CACHE_TTL_SECONDS', 30, 0, 300),
    authFailuresPerMinute: integer(env, 'AUTH_FAILURES_PER_MINUTE', 30, 1, 100000),
    seedDemo: boolean(env, 'SEED_DEMO', true),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    holdMinutes: integer(env, 'HOLD_MINUTES', 15, 1, 1440),
    holdSweepSeconds: integer(env, 'HOLD_SWEEP_SECONDS', 5, 0, 3600),
    runWorkers: boolean(env, 'RUN_WORKERS', true),
    webhookAllowPrivateTargets: boolean(env, 'WEBHOOK_ALLOW_PRIVATE_TARGETS', false),
    webhookLeaseSeconds: integer(env, 'WEBHOOK_LEASE_SECONDS', 60, 20, 3600),
    mockResponses: boolean(env, 'MOCK_RESPONSES', true),
  }
}
