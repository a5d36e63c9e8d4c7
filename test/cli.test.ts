import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp, createLogger } from '../src/app.ts'
import { openDb } from '../src/platform/db.ts'
import { testConfig } from './helpers/harness.ts'

const ROOT = resolve(import.meta.dirname, '..')
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL
const TIMEOUT = 120_000

const dirs: string[] = []
function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tvb-cli-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs `node bin/tvb.js …` against a PGlite data dir (or TEST_DATABASE_URL when set). */
function tvb(args: string[], dataDir: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', DATA_DIR: dataDir }
  delete env.DATABASE_URL
  if (TEST_DATABASE_URL) env.DATABASE_URL = TEST_DATABASE_URL
  return new Promise((done) => {
    execFile(process.execPath, ['bin/tvb.js', ...args], { cwd: ROOT, env: { ...env, TVB_FROM_SOURCE: '1' }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      done({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

/** A usage error: exit 2 and one line on stderr, `tvb: <reason>`. */
function expectUsageError(run: Run, reason: RegExp): void {
  expect(run.code, run.stderr).toBe(2)
  const stderr = run.stderr.replace(/\n$/, '')
  expect(stderr).not.toContain('\n')
  expect(stderr).toMatch(/^tvb: /)
  expect(stderr).toMatch(reason)
  expect(stderr).not.toMatch(/\bat \S+ \(|\.ts:\d+/)
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim())
}

describe('tvb command-line tool', () => {
  it(
    'prints usage: --help exits 0, no command or an unknown command exits 2',
    async () => {
      const dir = freshDataDir()
      const [help, none, unknown] = await Promise.all([tvb(['--help'], dir), tvb([], dir), tvb(['frobnicate'], dir)])

      expect(help.code, help.stderr).toBe(0)
      expect(help.stdout).toMatch(/^Usage: tvb/m)
      for (const command of ['migrate', 'demo', 'partners create', 'users create', 'tokens create', 'tokens list', 'tokens revoke']) expect(help.stdout).toContain(command)
      expect(help.stderr).toBe('')

      expect(none.stdout).toMatch(/^Usage: tvb/m)
      expectUsageError(none, /command/)

      expectUsageError(unknown, /frobnicate/)
    },
    TIMEOUT,
  )

  it(
    'creates a partner, a user and a token that authenticates; lists and revokes it',
    async () => {
      const dir = freshDataDir()

      const partner = await tvb(['partners', 'create', '--name', 'Acme'], dir)
      expect(partner.code, partner.stderr).toBe(0)
      const partnerId = /\b(ptn_[0-9a-z]{26})\b/.exec(partner.stdout)?.[1]
      expect(partnerId, partner.stdout).toBeDefined()
      expect(partner.stdout).toMatch(/\bteam_[0-9a-z]{26}\b/)

      const badRole = await tvb(['users', 'create', '--partner', partnerId!, '--email', 'a@b.co', '--name', 'A', '--role', 'EMPEROR'], dir)
      expectUsageError(badRole, /--role/)
      expect(badRole.stdout).toBe('')

      const user = await tvb(['users', 'create', '--partner', partnerId!, '--email', 'a@b.co', '--name', 'A', '--role', 'ADMIN'], dir)
      expect(user.code, user.stderr).toBe(0)
      const userId = /\b(usr_[0-9a-z]{26})\b/.exec(user.stdout)?.[1]
      expect(userId, user.stdout).toBeDefined()
      expect(user.stdout).toContain('ADMIN')

      const created = await tvb(['tokens', 'create', '--user', userId!, '--mode', 'test'], dir)
      expect(created.code, created.stderr).toBe(0)
      const secret = lines(created.stdout).find((l) => /^tvb_test_[0-9A-Za-z]{32}$/.test(l))
      expect(secret, `the secret on its own line: ${created.stdout}`).toBeDefined()
      const tokenId = /\b(tok_[0-9a-z]{26})\b/.exec(created.stdout)?.[1]
      expect(tokenId, created.stdout).toBeDefined()

      // the printed secret is a working token for that user (the CLI has exited, so the data dir is free)
      const db = await openDb({ databaseUrl: TEST_DATABASE_URL, dataDir: dir })
      try {
        const { app } = await buildApp({ config: testConfig(), db, logger: createLogger('silent') })
        const me = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${secret}` } })
        await app.close()
        expect(me.statusCode, me.body).toBe(200)
        expect(me.json()).toMatchObject({ partner: { id: partnerId }, user: { id: userId }, role: 'ADMIN', mode: 'test' })
      } finally {
        await db.close()
      }

      const listed = await tvb(['tokens', 'list', '--user', userId!], dir)
      expect(listed.code, listed.stderr).toBe(0)
      expect(listed.stdout).toContain(tokenId!)
      expect(listed.stdout).not.toContain(secret!)

      const revoked = await tvb(['tokens', 'revoke', tokenId!], dir)
      expect(revoked.code, revoked.stderr).toBe(0)
      expect(revoked.stdout).toContain(tokenId!)

      const after = await tvb(['tokens', 'list', '--user', userId!], dir)
      expect(after.code, after.stderr).toBe(0)
      expect(after.stdout).not.toContain(tokenId!)
      expect(after.stdout).not.toMatch(/\btok_/)
    },
    TIMEOUT,
  )

  it(
    'migrate exits 0; demo seeds data and prints a test token',
    async () => {
      // separate data dirs, so both can run at once on PGlite
      const [migrate, demo] = await Promise.all([tvb(['migrate'], freshDataDir()), tvb(['demo'], freshDataDir())])

      expect(migrate.code, migrate.stderr).toBe(0)
      expect(migrate.stdout).toMatch(/migrations/i)

      expect(demo.code, demo.stderr).toBe(0)
      expect(demo.stdout).toMatch(/\bptn_[0-9a-z]{26}\b/)
      expect(lines(demo.stdout).some((l) => /^tvb_test_[0-9A-Za-z]{32}$/.test(l)), demo.stdout).toBe(true)
    },
    TIMEOUT,
  )
})
