import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { buildApp, createLogger } from '../app.ts'
import { ConfigError, loadConfig } from '../config.ts'
import type { Config, Mode } from '../config.ts'
import { seedDemo } from '../modules/demo/seed.ts'
import { BUCKETS, DEFAULT_LIMITS_PER_MINUTE } from '../modules/limits/buckets.ts'
import type { Bucket } from '../modules/limits/buckets.ts'
import { partnerLimits, resetPartnerLimit, setPartnerLimit } from '../modules/limits/repository.ts'
import { findPartner, findUser, insertPartner, insertTeam, insertUser, listPartnerTeamIds } from '../modules/partners/repository.ts'
import { ROLES, isPermission } from '../modules/tokens/permissions.ts'
import type { Role } from '../modules/tokens/permissions.ts'
import { listActiveTokens } from '../modules/tokens/repository.ts'
import { TokenService, toTokenResource } from '../modules/tokens/service.ts'
import { systemClock } from '../platform/clock.ts'
import { openDb } from '../platform/db.ts'
import type { Db } from '../platform/db.ts'
import { ApiError } from '../platform/errors.ts'
import { isIdOf } from '../platform/ids.ts'
import { migrate } from '../platform/migrate.ts'
import { readLockOwner } from '../platform/data-dir-lock.ts'
import { callAdminChannel } from './admin-channel.ts'
import type { CommandResult } from './admin-channel.ts'

const USAGE = `Usage: tvb <command> [options]

Commands:
  migrate                                   apply pending database migrations
  demo                                      seed a demo partner, teams, a user per role, and print a test token
  partners create --name NAME [--team NAME]…
                                            create a partner (and its teams; default one team "Default")
  teams create --partner PTN_ID --name NAME create a team
  users create --partner PTN_ID --email EMAIL --name NAME --role ROLE [--team TEAM_ID]…
                                            create a user (default: in all the partner's teams)
                                            roles: ${ROLES.join(', ')}
  tokens create --user USR_ID [--mode test|live] [--name NAME] [--team TEAM_ID]… [--scope PERMISSION]… [--expires-in-days N]
                                            create a token and print its secret (shown once)
  tokens list --user USR_ID [--mode test|live]
                                            list a user's unrevoked tokens
  tokens revoke TOK_ID                      revoke a token
  limits set --partner PTN_ID --bucket BUCKET --limit N
                                            override a rate limit (requests a minute) for one partner
  limits reset --partner PTN_ID --bucket BUCKET
                                            back to the default
  limits list --partner PTN_ID              the partner's limits, defaults and overrides
                                            buckets: ${BUCKETS.join(', ')}
  openapi [--out FILE]                      write the OpenAPI document (default: stdout)
  worker                                    run the background jobs (hold expiry, key purge) until SIGTERM;
                                            beside API processes started with RUN_WORKERS=false

The database is DATABASE_URL when set, otherwise the embedded PGlite in DATA_DIR (./data). While a\nserver runs on that data directory, commands run inside it (it owns the directory).
`

class UsageError extends Error {}

const OPTIONS = {
  name: { type: 'string' },
  team: { type: 'string', multiple: true },
  partner: { type: 'string' },
  email: { type: 'string' },
  role: { type: 'string' },
  user: { type: 'string' },
  mode: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'expires-in-days': { type: 'string' },
  out: { type: 'string' },
  bucket: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']

function required(values: Values, name: 'name' | 'partner' | 'email' | 'role' | 'user' | 'bucket' | 'limit'): string {
  const value = values[name]
  if (!value) throw new UsageError(`--${name} is required`)
  return value
}

function modeOf(values: Values): Mode {
  const mode = values.mode ?? 'test'
  if (mode !== 'test' && mode !== 'live') throw new UsageError(`--mode must be test or live, not "${mode}"`)
  return mode
}

/**
 * Where a command's output goes and how it reaches the database: locally (the CLI opens the
 * database itself) or inside the running server, through its admin channel, when the server owns
 * the embedded data directory (a second writer would lose data).
 */
export interface CliIo {
  out(line: string): void
  withDb<T>(fn: (db: Db) => Promise<T>): Promise<T>
  /** Told when a command revokes a token, so a running server drops it from its cache at once. */
  onTokenChanged(tokenId: string): void
}

function localIo(config: Config): CliIo {
  return {
    out: (line) => process.stdout.write(line + '\n'),
    async withDb(fn) {
      const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
      try {
        await migrate(db)
        return await fn(db)
      } finally {
        await db.close()
      }
    },
    onTokenChanged: () => {},
  }
}

export async function run(argv: string[], io?: CliIo): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  const [command, sub, ...rest] = positionals
  if (values.help || !command) {
    process.stdout.write(USAGE + '\n')
    if (!command && !values.help) throw new UsageError('a command is required')
    return
  }
  const config = loadConfig()
  const { out, withDb: on } = io ?? localIo(config)
  const withDb = <T>(_config: Config, fn: (db: Db) => Promise<T>) => on(fn)
  const onTokenChanged = io?.onTokenChanged ?? (() => {})
  const key = sub && !['openapi', 'migrate', 'demo', 'worker'].includes(command) ? `${command} ${sub}` : command
  if (rest.length > 0 && key !== 'tokens revoke') throw new UsageError(`unexpected argument "${rest[0]}"`)

  switch (key) {
    case 'migrate':
      return withDb(config, async (db) => {
        out(`migrations: ${db.kind}, applied ${(await migrate(db)).length === 0 ? 'nothing new (up to date)' : 'pending ones'}`)
      })
    case 'demo':
      return withDb(config, async (db) => {
        const demo = await seedDemo(db)
        out(`partner ${demo.partnerId}`)
        for (const id of demo.teamIds) out(`team    ${id}`)
        for (const role of ROLES) out(`user    ${demo.users[role].id}  ${role}  ${demo.users[role].email}`)
        out(`token   ${demo.tokenId}  (test mode, demo owner)`)
        out(demo.token)
      })
    case 'partners create':
      return withDb(config, async (db) => {
        const name = required(values, 'name')
        const teamNames = values.team?.length ? values.team : ['Default']
        const now = systemClock.now()
        const { partner, teams } = await db.transaction(async (tx) => {
          const partner = await insertPartner(tx, name, now)
          const teams = []
          for (const teamName of teamNames) teams.push(await insertTeam(tx, partner.id, teamName, now))
          return { partner, teams }
        })
        out(`partner ${partner.id}  ${partner.name}`)
        for (const team of teams) out(`team    ${team.id}  ${team.name}`)
      })
    case 'teams create':
      return withDb(config, async (db) => {
        const partnerId = required(values, 'partner')
        if (!(await findPartner(db, partnerId))) throw new UsageError(`no partner ${partnerId}`)
        const team = await insertTeam(db, partnerId, required(values, 'name'), systemClock.now())
        out(`team ${team.id}  ${team.name}`)
      })
    case 'users create':
      return withDb(config, async (db) => {
        const partnerId = required(values, 'partner')
        const role = required(values, 'role').toUpperCase()
        if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`)
        const email = required(values, 'email')
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError(`--email "${email}" is not an email address`)
        if (!(await findPartner(db, partnerId))) throw new UsageError(`no partner ${partnerId}`)
        let teamIds = values.team ?? []
        if (teamIds.length === 0) {
          teamIds = await listPartnerTeamIds(db, partnerId)
        }
        try {
          const user = await insertUser(db, { partnerId, email, name: required(values, 'name'), role: role as Role, teamIds }, systemClock.now())
          out(`user ${user.id}  ${user.role}  ${user.email}  teams: ${user.team_ids.join(', ')}`)
        } catch (error) {
          const message = (error as Error).message
          if (/users_partner_email_idx|duplicate key/.test(message)) throw new UsageError(`a user with email ${email} already exists in ${partnerId}`)
          if (/does not belong/.test(message)) throw new UsageError(message)
          throw error
        }
      })
    case 'tokens create':
      return withDb(config, async (db) => {
        const userId = required(values, 'user')
        const scopes = values.scope
        for (const scope of scopes ?? []) if (!isPermission(scope)) throw new UsageError(`--scope ${scope} is not a permission`)
        let expiresAt: string | undefined
        if (values['expires-in-days'] !== undefined) {
          const days = Number(values['expires-in-days'])
          if (!Number.isInteger(days) || days < 1 || days > 365) throw new UsageError('--expires-in-days must be a whole number from 1 to 365')
          expiresAt = new Date(Date.now() + days * 86_400_000 - 1000).toISOString()
        }
        const tokens = new TokenService({ db, clock: systemClock, onTokenChanged: () => {} })
        const token = await tokens.create(userId, modeOf(values), { name: values.name ?? 'CLI token', team_ids: values.team, scopes, expires_at: expiresAt }, null)
        out(`token ${token.id}  ${token.mode}  expires ${token.expires_at}  teams: ${token.team_ids.join(', ')}`)
        out(token.secret)
      })
    case 'tokens list':
      return withDb(config, async (db) => {
        const userId = required(values, 'user')
        const user = await findUser(db, userId)
        if (!user) throw new UsageError(`no user ${userId}`)
        const rows = await listActiveTokens(db, userId, values.mode ? modeOf(values) : null)
        if (rows.length === 0) out('(no unrevoked tokens)')
        for (const row of rows) {
          const t = toTokenResource(row, user.role, systemClock.now())
          out(`${t.id}  ${t.mode}  ${t.status}  ${t.prefix}…  expires ${t.expires_at}  "${t.name}"`)
        }
      })
    case 'tokens revoke':
      return withDb(config, async (db) => {
        const id = rest[0] ?? values.name
        if (!id || !isIdOf('token', id)) throw new UsageError('tokens revoke needs a token id (tok_…)')
        const tokens = new TokenService({ db, clock: systemClock, onTokenChanged })
        const token = await tokens.revokeById(id)
        out(`revoked ${token.id} at ${token.revoked_at}`)
      })
    case 'limits set':
    case 'limits reset':
    case 'limits list':
      return withDb(config, async (db) => {
        const partnerId = required(values, 'partner')
        if (!(await findPartner(db, partnerId))) throw new UsageError(`no partner ${partnerId}`)
        if (sub !== 'list') {
          const bucket = required(values, 'bucket')
          if (!(BUCKETS as readonly string[]).includes(bucket)) throw new UsageError(`--bucket must be one of ${BUCKETS.join(', ')}`)
          if (sub === 'set') {
            const limit = Number(required(values, 'limit'))
            if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000) throw new UsageError('--limit must be a whole number from 1 to 1000000 (requests a minute)')
            await setPartnerLimit(db, partnerId, bucket as Bucket, limit)
          } else await resetPartnerLimit(db, partnerId, bucket as Bucket)
        }
        const overrides = await partnerLimits(db, partnerId)
        for (const bucket of BUCKETS) {
          const override = overrides[bucket]
          out(`${bucket.padEnd(15)} ${String(override ?? DEFAULT_LIMITS_PER_MINUTE[bucket]).padStart(7)}/min  ${override ? `(override; default ${DEFAULT_LIMITS_PER_MINUTE[bucket]})` : '(default)'}`)
        }
        if (sub !== 'list') out(`takes effect within the token cache bound (TOKEN_CACHE_TTL_SECONDS, default 30 s)`)
      })
    case 'worker': {
      const { runWorker } = await import('../worker.ts')
      const code = await runWorker()
      if (code !== 0) throw new Error(`worker exited with ${code}`)
      return
    }
    case 'openapi': {
      const document = await openApiDocument(config)
      const text = JSON.stringify(document, null, 2) + '\n'
      if (values.out) {
        await writeFile(values.out, text)
        out(`wrote ${values.out}`)
      } else process.stdout.write(text)
      return
    }
    default:
      throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"`)
  }
}

/** The document needs the routes, not a database: build the app over a database that refuses every query. */
export async function openApiDocument(config: Config): Promise<unknown> {
  const refuse = async (): Promise<never> => {
    throw new Error('no database while exporting OpenAPI')
  }
  const db: Db = { kind: 'pglite', queryCount: 0, query: refuse, transaction: refuse, close: async () => {} }
  const { app } = await buildApp({ config, db, logger: createLogger('silent'), cursorKey: '00' })
  const document = app.swagger()
  await app.close()
  return document
}

/** Resolves once everything written to stdout has been handed to the OS (a pipe would lose it on exit). */
function flushed(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()))
}

/** The exit code for an error, its message written to err: usage 2, a refused operation 1. */
function failure(error: unknown, err: (text: string) => void): number {
  if (error instanceof UsageError || error instanceof ConfigError) {
    err(`tvb: ${error.message} (see tvb --help)\n`)
    return 2
  }
  if (error instanceof ApiError) {
    err(`tvb: ${error.message}${error.details ? ' ' + JSON.stringify(error.details) : ''}\n`)
    return 1
  }
  err(`tvb: ${(error as Error).message}\n`)
  return 1
}

/** Runs a command on the given database, capturing its output: what the server's admin channel answers. */
export async function runCaptured(argv: string[], db: Db, onTokenChanged: (tokenId: string) => void): Promise<CommandResult> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = { out: (line) => (stdout += line + '\n'), withDb: (fn) => fn(db), onTokenChanged }
  try {
    await run(argv, io)
    return { code: 0, stdout, stderr }
  } catch (error) {
    const code = failure(error, (text) => (stderr += text))
    return { code, stdout, stderr }
  }
}

const LOCAL_ONLY = new Set(['openapi', 'worker'])
const OWNER_WAIT_MS = 10_000

/**
 * When a server owns the embedded data directory, the command runs inside it (through its admin
 * channel) instead of opening the directory as a second writer. null: run here.
 */
async function viaRunningServer(argv: string[]): Promise<CommandResult | null> {
  const command = argv.find((a) => !a.startsWith('-'))
  if (!command || LOCAL_ONLY.has(command) || argv.includes('--help') || argv.includes('-h')) return null
  const config = loadConfig()
  if (config.databaseUrl) return null
  const deadline = Date.now() + OWNER_WAIT_MS
  for (;;) {
    const owner = readLockOwner(config.dataDir)
    if (!owner) return null
    // the owner is still starting: its admin channel opens once it serves
    if (owner.adminSocket) return callAdminChannel(owner.adminSocket, argv)
    if (Date.now() > deadline) {
      return { code: 1, stdout: '', stderr: `tvb: ${config.dataDir} is held by PID ${owner.pid}, which opened no admin channel; stop it, or use DATABASE_URL\n` }
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function cli(argv: string[]): Promise<number> {
  try {
    const remote = await viaRunningServer(argv)
    if (remote) {
      process.stdout.write(remote.stdout)
      process.stderr.write(remote.stderr)
      await flushed()
      return remote.code
    }
    await run(argv)
    await flushed()
    return 0
  } catch (error) {
    return failure(error, (text) => process.stderr.write(text))
  }
}

// run as a script (node dist/cli/main.js, tsx src/cli/main.ts), not when imported (bin/tvb.js, the
// server's admin channel, whose bundle shares one import.meta.url with every module in it)
if (/\/(src|dist)\/cli\/main\.(ts|js)$/.test(process.argv[1] ?? '')) {
  cli(process.argv.slice(2)).then((code) => process.exit(code))
}
