import { PGlite } from '@electric-sql/pglite'
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist'
import { createRequire } from 'node:module'
import type pg from 'pg'
import { acquireDataDirLock } from './data-dir-lock.ts'
import type { DataDirLock } from './data-dir-lock.ts'

/**
 * One Postgres dialect behind a small interface: the embedded PGlite (one connection, one process)
 * or a PostgreSQL pool. Repositories only ever see `Queryable`.
 */
export interface QueryResult<Row> {
  rows: Row[]
  rowCount: number
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres'
  /** Runs fn in one transaction: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Queries sent since start (the benchmark proves the token cache path sends none). */
  readonly queryCount: number
  /** The lock this process holds on an embedded data directory (PGlite on disk), else null. */
  readonly dataDirLock?: DataDirLock | null
  /**
   * Calls onNotify for each NOTIFY on the channel (delivered at the notifying transaction's commit,
   * from any process on PostgreSQL, from this one on PGlite); resolves to an unsubscribe.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

/** A transaction held open across steps that are not one callback (a request's hooks). */
export interface OpenTransaction extends Queryable {
  commit(): Promise<void>
  rollback(): Promise<void>
}

/** A Db that lets a whole request share one transaction (see RequestDb). */
export interface RequestScopedDb extends Db {
  begin(): Promise<OpenTransaction>
  /** A Db whose queries run on tx and whose transactions are savepoints inside it. */
  joined(tx: Queryable): Db
}

// Both drivers hand back the same JS shapes: dates stay 'YYYY-MM-DD' strings (no time-zone
// guessing), bigints become numbers (money is stored in minor units, far below 2^53).
const OID_INT8 = 20
const OID_DATE = 1082
const OID_NUMERIC = 1700

class PgliteDb implements Db {
  readonly kind = 'pglite' as const
  queryCount = 0
  readonly #pglite: PGlite
  readonly dataDirLock: DataDirLock | null
  constructor(pglite: PGlite, lock: DataDirLock | null) {
    this.#pglite = pglite
    this.dataDirLock = lock
  }
  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    this.queryCount++
    const result = await this.#pglite.query<Row>(sql, params as unknown[])
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#pglite.transaction(async (tx) =>
      fn({
        query: async <Row>(sql: string, params: readonly unknown[] = []) => {
          this.queryCount++
          const result = await tx.query<Row>(sql, params as unknown[])
          return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
        },
      }),
    )
  }
  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    return this.#pglite.listen(checkedChannel(channel), () => onNotify())
  }
  async close(): Promise<void> {
    if (!this.#pglite.closed) await this.#pglite.close()
    this.dataDirLock?.release()
  }
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const
  queryCount = 0
  readonly #pool: pg.Pool
  readonly #connect: () => pg.Client
  constructor(pool: pg.Pool, connect: () => pg.Client) {
    this.#pool = pool
    this.#connect = connect
  }
  /** LISTEN on a connection of its own (a pooled one would be handed to others); reconnects after a loss. */
  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    const name = checkedChannel(channel)
    let client: pg.Client | undefined
    let closed = false
    const open = async (): Promise<void> => {
      if (closed) return
      const c = this.#connect()
      c.on('notification', () => onNotify())
      c.on('error', () => {
        void c.end().catch(() => {})
        if (!closed) setTimeout(() => void open().catch(() => {}), 1000).unref()
      })
      await c.connect()
      await c.query(`LISTEN ${name}`)
      client = c
      onNotify() // whatever was notified while it was away
    }
    await open()
    return async () => {
      closed = true
      await client?.end().catch(() => {})
    }
  }
  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    this.queryCount++
    const result = await this.#pool.query(sql, params as unknown[])
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 }
  }
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const value = await fn({
        query: async <Row>(sql: string, params: readonly unknown[] = []) => {
          this.queryCount++
          const result = await client.query(sql, params as unknown[])
          return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 }
        },
      })
      await client.query('COMMIT')
      return value
    } catch (error) {
      try {
        await client.query('ROLLBACK')
      } catch {
        broken = true // the connection is unusable: drop it from the pool rather than reuse it
      }
      throw error
    } finally {
      client.release(broken)
    }
  }
  async close(): Promise<void> {
    await this.#pool.end()
  }
}

class RollbackSignal extends Error {}

function checkedChannel(channel: string): string {
  if (!/^[a-z_]{1,63}$/.test(channel)) throw new Error(`not a channel name: ${channel}`)
  return channel
}

/**
 * A Db bound to an open transaction: what a request whose idempotency key must commit together
 * with its writes hands to its services. A nested transaction() is a SAVEPOINT, so a failed
 * operation still undoes exactly its own writes. (Passed explicitly rather than through
 * AsyncLocalStorage: on Node 20 that slows every promise of every request by a quarter.)
 */
class JoinedDb implements Db {
  #savepoints = 0
  constructor(
    private readonly base: Db,
    private readonly tx: Queryable,
  ) {}
  get kind() {
    return this.base.kind
  }
  get queryCount() {
    return this.base.queryCount
  }
  query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    return this.tx.query<Row>(sql, params)
  }
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const name = `sp_${++this.#savepoints}`
    await this.tx.query(`SAVEPOINT ${name}`)
    try {
      const value = await fn(this.tx)
      await this.tx.query(`RELEASE SAVEPOINT ${name}`)
      return value
    } catch (error) {
      await this.tx.query(`ROLLBACK TO SAVEPOINT ${name}`)
      throw error
    }
  }
  async close(): Promise<void> {}
}

/** Adds to a Db the two things a request-long transaction needs: begin() and joined(). */
class RequestDb implements RequestScopedDb {
  readonly #base: Db
  constructor(base: Db) {
    this.#base = base
  }
  get kind() {
    return this.#base.kind
  }
  get queryCount() {
    return this.#base.queryCount
  }
  get dataDirLock() {
    return this.#base.dataDirLock ?? null
  }
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    if (!this.#base.listen) throw new Error(`this database (${this.#base.kind}) cannot LISTEN`)
    return this.#base.listen(channel, onNotify)
  }
  query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    return this.#base.query<Row>(sql, params)
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#base.transaction(fn)
  }
  joined(tx: Queryable): Db {
    return new JoinedDb(this.#base, tx)
  }
  begin(): Promise<OpenTransaction> {
    return new Promise((resolveOpen, rejectOpen) => {
      let finish!: (commit: boolean) => void
      const decided = new Promise<boolean>((resolve) => (finish = resolve))
      let opened = false
      const settled = this.#base.transaction(async (tx) => {
        opened = true
        resolveOpen({
          query: (sql, params) => tx.query(sql, params),
          commit: async () => {
            finish(true)
            await settled
          },
          rollback: async () => {
            finish(false)
            await settled.catch(() => {})
          },
        })
        if (!(await decided)) throw new RollbackSignal('rolled back')
      })
      settled.catch((error: unknown) => {
        if (!opened) rejectOpen(error)
      })
    })
  }
  close(): Promise<void> {
    return this.#base.close()
  }
}

function pgTypes(driver: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === OID_INT8) return (value: string) => Number(value)
      if (oid === OID_DATE) return (value: string) => value
      return driver.types.getTypeParser(oid, format)
    },
  } as pg.CustomTypesConfig
}

export interface OpenDbOptions {
  databaseUrl?: string | undefined
  /** PGlite directory; 'memory://' (or undefined) for an in-memory database. */
  dataDir?: string | undefined
  poolSize?: number
}

export async function openDb(options: OpenDbOptions): Promise<RequestScopedDb> {
  return new RequestDb(await openBaseDb(options))
}

/** The request-scoped view of any Db (openDb's already is one). */
export function requestScoped(db: Db): RequestScopedDb {
  return db instanceof RequestDb ? db : new RequestDb(db)
}

async function openBaseDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl) {
    // pg is loaded only when PostgreSQL is configured (start-up time of the embedded default)
    const driver = createRequire(import.meta.url)('pg') as typeof pg
    const pool = new driver.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes(driver),
      connectionTimeoutMillis: 5000,
      // a statement that hangs must not hold a request (or a pool slot) forever, and a transaction
      // left open by a stuck process (an idempotency key's lock) is ended by the server
      statement_timeout: 30_000,
      idle_in_transaction_session_timeout: 60_000,
    })
    // an idle client losing its connection emits 'error' on the pool; without a listener it would crash the process
    pool.on('error', () => {})
    return new PostgresDb(pool, () => new driver.Client({ connectionString: options.databaseUrl, types: pgTypes(driver) }))
  }
  const dataDir = options.dataDir ?? 'memory://'
  // exactly one process owns a data directory on disk: a second one stops here (DataDirLockedError)
  const lock = dataDir.startsWith('memory://') ? null : acquireDataDirLock(dataDir)
  const pglite = new PGlite(dataDir, {
    extensions: { btree_gist },
    parsers: {
      [OID_INT8]: (value: string) => Number(value),
      [OID_DATE]: (value: string) => value,
      [OID_NUMERIC]: (value: string) => value,
    },
  })
  try {
    await pglite.waitReady
  } catch (error) {
    lock?.release()
    throw error
  }
  return new PgliteDb(pglite, lock)
}
