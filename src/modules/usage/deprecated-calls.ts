import type { Clock } from '../../platform/clock.ts'
import type { Db } from '../../platform/db.ts'

/** What a token called of the deprecated operations over the last 30 days. */
export interface DeprecatedUsage {
  operation_id: string
  calls: number
  last_called_at: string
}

interface Pending {
  tokenId: string
  operationId: string
  day: string
  calls: number
  lastAt: Date
}

const WINDOW_DAYS = 30
const READ_CACHE_MS = 60_000

/**
 * Counts calls of deprecated operations without a write per request: counts gather in memory and
 * are added to deprecated_calls by flush() (every minute, and when the server closes). A token's
 * usage is what the table holds (read at most once a minute per token) plus what this instance has
 * not flushed yet; another instance's calls show within its next flush. A crash loses at most the
 * last minute of this instance's counts: usage figures, never data.
 */
export class DeprecatedCalls {
  readonly #db: Db
  readonly #clock: Clock
  #pending = new Map<string, Pending>()
  readonly #stored = new Map<string, { at: number; rows: DeprecatedUsage[] }>()
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(deps: { db: Db; clock: Clock }) {
    this.#db = deps.db
    this.#clock = deps.clock
  }

  count(tokenId: string, operationId: string): void {
    const now = this.#clock.now()
    const day = now.toISOString().slice(0, 10)
    const key = `${tokenId}\n${operationId}\n${day}`
    const entry = this.#pending.get(key)
    if (entry) {
      entry.calls++
      entry.lastAt = now
    } else this.#pending.set(key, { tokenId, operationId, day, calls: 1, lastAt: now })
  }

  /** The token's calls of deprecated operations in the last 30 days, most called first. */
  async usage(tokenId: string): Promise<DeprecatedUsage[]> {
    const now = this.#clock.now()
    const since = sinceDay(now)
    let stored = this.#stored.get(tokenId)
    if (!stored || now.getTime() - stored.at > READ_CACHE_MS) {
      const { rows } = await this.#db.query<{ operation_id: string; calls: string; last_at: Date }>(
        `SELECT operation_id, sum(calls)::text AS calls, max(last_at) AS last_at FROM deprecated_calls
         WHERE token_id = $1 AND day >= $2 GROUP BY operation_id`,
        [tokenId, since],
      )
      stored = { at: now.getTime(), rows: rows.map((r) => ({ operation_id: r.operation_id, calls: Number(r.calls), last_called_at: r.last_at.toISOString() })) }
      this.#stored.set(tokenId, stored)
    }
    const merged = new Map(stored.rows.map((r) => [r.operation_id, { ...r }]))
    for (const p of this.#pending.values()) {
      if (p.tokenId !== tokenId || p.day < since) continue
      const row = merged.get(p.operationId)
      if (!row) merged.set(p.operationId, { operation_id: p.operationId, calls: p.calls, last_called_at: p.lastAt.toISOString() })
      else {
        row.calls += p.calls
        if (p.lastAt.toISOString() > row.last_called_at) row.last_called_at = p.lastAt.toISOString()
      }
    }
    return [...merged.values()].sort((a, b) => b.calls - a.calls || a.operation_id.localeCompare(b.operation_id))
  }

  /** Adds this instance's counts to the table (one statement) and drops rows past the window. */
  flush(): Promise<void> {
    // one flush at a time; a failed one does not stop the next
    this.#flushing = this.#flushing.catch(() => {}).then(() => this.#flushNow())
    return this.#flushing
  }

  async #flushNow(): Promise<void> {
    if (this.#pending.size === 0) return
    const batch = [...this.#pending.values()]
    this.#pending = new Map()
    try {
      await this.#db.query(
        `WITH gone AS (DELETE FROM deprecated_calls WHERE day < $6::date - 1)
         INSERT INTO deprecated_calls AS d (token_id, operation_id, day, calls, last_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::timestamptz[])
         ON CONFLICT (token_id, operation_id, day) DO UPDATE SET calls = d.calls + EXCLUDED.calls, last_at = greatest(d.last_at, EXCLUDED.last_at)`,
        [batch.map((p) => p.tokenId), batch.map((p) => p.operationId), batch.map((p) => p.day), batch.map((p) => p.calls), batch.map((p) => p.lastAt), sinceDay(this.#clock.now())],
      )
    } catch (error) {
      // keep the counts for the next flush
      for (const p of batch) {
        const key = `${p.tokenId}\n${p.operationId}\n${p.day}`
        const entry = this.#pending.get(key)
        if (entry) {
          entry.calls += p.calls
          if (p.lastAt > entry.lastAt) entry.lastAt = p.lastAt
        } else this.#pending.set(key, p)
      }
      throw error
    }
    // what was pending is now stored: the cached reads no longer include it
    for (const tokenId of new Set(batch.map((p) => p.tokenId))) this.#stored.delete(tokenId)
  }

  start(everyMs = 60_000, onError: (error: unknown) => void = () => {}): void {
    this.#timer = setInterval(() => this.flush().catch(onError), everyMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }
}

function sinceDay(now: Date): string {
  return new Date(now.getTime() - WINDOW_DAYS * 86_400_000).toISOString().slice(0, 10)
}
