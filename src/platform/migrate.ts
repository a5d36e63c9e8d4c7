import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { Db } from './db.ts'

/** migrations/ beside package.json, found upwards from this module: src/, dist/ and dist/bundle/ alike. */
export const MIGRATIONS_DIR = findMigrationsDir(path.dirname(fileURLToPath(import.meta.url)))

function findMigrationsDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) return path.join(dir, 'migrations') + path.sep
    if (path.dirname(dir) === dir) throw new Error(`no migrations/ directory beside a package.json above ${from}`)
  }
}

// Any fixed number: every server instance and CLI run takes the same lock, so concurrent starts
// against one PostgreSQL apply each migration exactly once.
const MIGRATION_LOCK_KEY = 7_276_201

export interface Migration {
  version: number
  name: string
  sql: string
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f)).sort()
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 4)),
      name: path.basename(file, '.sql'),
      sql: await readFile(path.join(dir, file), 'utf8'),
    })),
  )
}

/** Applies pending forward-only migrations in one transaction under an advisory lock; returns their names. */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir)
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map((r) => r.version))
    const done: string[] = []
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      // each statement separately: PGlite's extended protocol takes one statement per query
      for (const statement of splitStatements(migration.sql)) await tx.query(statement)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
      done.push(migration.name)
    }
    return done
  })
}

/** Splits a migration on semicolons that end a line; migrations keep $$-bodies free of such lines. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql.replace(/^\s*--.*$/gm, '')
  const statements: string[] = []
  let current = ''
  let inDollar = false
  for (const line of withoutComments.split('\n')) {
    if ((line.match(/\$\$/g)?.length ?? 0) % 2 === 1) inDollar = !inDollar
    current += line + '\n'
    if (!inDollar && /;\s*$/.test(line)) {
      statements.push(current.trim())
      current = ''
    }
  }
  if (current.trim()) statements.push(current.trim())
  return statements
}
