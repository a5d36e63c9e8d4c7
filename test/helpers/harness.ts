import pg from 'pg'
import { Writable } from 'node:stream'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { afterAll } from 'vitest'
import { buildApp, createLogger } from '../../src/app.ts'
import type { App } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import type { Config, Mode } from '../../src/config.ts'
import { insertPartner, insertTeam, insertUser } from '../../src/modules/partners/repository.ts'
import type { Role } from '../../src/modules/tokens/permissions.ts'
import { TokenService } from '../../src/modules/tokens/service.ts'
import type { CreateTokenInput } from '../../src/modules/tokens/service.ts'
import { ManualClock, systemClock } from '../../src/platform/clock.ts'
import type { Clock } from '../../src/platform/clock.ts'
import { openDb } from '../../src/platform/db.ts'
import type { Db } from '../../src/platform/db.ts'
import { migrate } from '../../src/platform/migrate.ts'

/**
 * The test harness: one database per test file (in-memory PGlite, or TEST_DATABASE_URL), apps
 * built in-process and driven with inject. Every test makes its own partner, teams and token.
 */
export const onPostgres = Boolean(process.env.TEST_DATABASE_URL)

let shared: Promise<Db> | undefined

/**
 * On PostgreSQL, points this test file at a database of its own on the TEST_DATABASE_URL server
 * (created now, dropped after the file). For files that run a webhook dispatcher: it claims every
 * tenant's due deliveries, so in the shared database it would deliver (and sign, on its own clock)
 * the deliveries of the files running beside it. Call it before testApp(). No-op on PGlite.
 */
export async function ownDatabaseOnPostgres(label: string): Promise<void> {
  const sharedUrl = process.env.TEST_DATABASE_URL
  if (!sharedUrl) return
  const name = `tvb_${label}_${process.pid}`
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: sharedUrl })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin(`CREATE DATABASE ${name}`)
  const own = new URL(sharedUrl)
  own.pathname = `/${name}`
  process.env.TEST_DATABASE_URL = own.toString()
  // hooks run in reverse order: this drop runs after the harness has closed its pool
  afterAll(async () => {
    process.env.TEST_DATABASE_URL = sharedUrl
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
}

/** The database of this test file, migrated; closed after the file's tests. */
export function testDb(): Promise<Db> {
  if (!shared) {
    shared = (async () => {
      const db = await openDb({ databaseUrl: process.env.TEST_DATABASE_URL, dataDir: 'memory://', poolSize: 20 })
      await migrate(db)
      return db
    })()
    afterAll(async () => {
      const db = await shared
      shared = undefined
      await db?.close()
    })
  }
  return shared
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'http://api.test' }), ...overrides }
}

/** Captures every log line the app writes, to prove what never reaches the logs. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean))
    callback()
  }
  get text(): string {
    return this.lines.join('\n')
  }
}

export interface TestApp extends App {
  db: Db
  clock: Clock
  config: Config
  logs: LogCapture
  inject(options: InjectOptions): Promise<LightMyRequestResponse>
  /** Shorthand: a request with a bearer token. */
  call(token: string | null, method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>
}

export async function testApp(options: { clock?: Clock; config?: Partial<Config>; logLevel?: string } = {}): Promise<TestApp> {
  const db = await testDb()
  const config = testConfig(options.config)
  const logs = new LogCapture()
  const clock = options.clock ?? systemClock
  const built = await buildApp({ config, db, clock, logger: createLogger(options.logLevel ?? 'info', logs) })
  afterAll(async () => {
    await built.app.close()
  })
  return {
    ...built,
    db,
    clock,
    config,
    logs,
    inject: (o) => built.app.inject(o),
    call: (token, method, url, body, headers = {}) =>
      built.app.inject({
        method,
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      }),
  }
}

export interface Tenant {
  partnerId: string
  teamIds: string[]
  userId: string
  role: Role
  token: string
  tokenId: string
  /** Another user of the same partner, with a token of the given role. */
  addUser(role: Role, opts?: { teamIds?: string[]; mode?: Mode; token?: CreateTokenInput }): Promise<{ userId: string; token: string; tokenId: string }>
  /** One more token for this tenant's user. */
  addToken(input?: Partial<CreateTokenInput> & { mode?: Mode }): Promise<{ token: string; tokenId: string }>
}

let counter = 0

/** A fresh partner with `teams` teams, a user of `role` in all of them, and a token. */
export async function makeTenant(db: Db, options: { role?: Role; teams?: number; mode?: Mode; clock?: Clock; token?: Partial<CreateTokenInput> } = {}): Promise<Tenant> {
  const clock = options.clock ?? systemClock
  const now = clock.now()
  const n = ++counter
  const partner = await insertPartner(db, `Test partner ${n} ${process.pid}`, now)
  const teams = []
  for (let i = 0; i < (options.teams ?? 2); i++) teams.push(await insertTeam(db, partner.id, `Team ${i + 1}`, now))
  const teamIds = teams.map((t) => t.id)
  const tokens = new TokenService({ db, clock, onTokenChanged: () => {} })
  const role = options.role ?? 'OWNER'
  const user = await insertUser(db, { partnerId: partner.id, email: `user${n}-${process.pid}@test.example`, name: `User ${n}`, role, teamIds }, now)
  // the tenant's first token is its widest: it outlives the tokens made after it (90 days by
  // default), so it may see and manage them (API.md §4: only tokens within its own grants)
  const widest = new Date(now.getTime() + 364 * 86_400_000).toISOString()
  const token = await tokens.create(user.id, options.mode ?? 'test', { name: 'test token', expires_at: widest, ...options.token }, null)
  let extra = 0
  return {
    partnerId: partner.id,
    teamIds,
    userId: user.id,
    role,
    token: token.secret,
    tokenId: token.id,
    async addUser(userRole, opts = {}) {
      const other = await insertUser(db, { partnerId: partner.id, email: `user${n}-${++extra}-${process.pid}@test.example`, name: `User ${n}.${extra}`, role: userRole, teamIds: opts.teamIds ?? teamIds }, clock.now())
      const t = await tokens.create(other.id, opts.mode ?? 'test', { name: 'other', ...opts.token }, null)
      return { userId: other.id, token: t.secret, tokenId: t.id }
    },
    async addToken(input = {}) {
      const t = await tokens.create(user.id, input.mode ?? options.mode ?? 'test', { name: 'extra', ...input }, null)
      return { token: t.secret, tokenId: t.id }
    },
  }
}

export { ManualClock }
