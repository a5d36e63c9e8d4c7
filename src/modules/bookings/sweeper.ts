import type { FastifyBaseLogger } from 'fastify'
import { purgeExpiredKeys } from '../../http/idempotency.ts'
import type { Clock } from '../../platform/clock.ts'
import type { RequestScopedDb } from '../../platform/db.ts'
import type { BookingService } from './service.ts'

/**
 * Background housekeeping, every few seconds: moves lapsed holds to EXPIRED (with their
 * booking.expired events) and deletes idempotency keys past their 24 hours. Reads already show a
 * lapsed hold as EXPIRED and lookups ignore old keys; the sweeper makes it so in the database.
 * Safe on several instances at once: holds are claimed with FOR UPDATE SKIP LOCKED.
 */
export class Sweeper {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  constructor(
    private readonly deps: { bookings: BookingService; db: RequestScopedDb; clock: Clock; log: FastifyBaseLogger },
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      if (!this.#running) this.#running = this.sweep().then(() => (this.#running = undefined))
    }, this.intervalMs)
    this.#timer.unref()
  }

  async sweep(): Promise<{ expired: number; purgedKeys: number }> {
    let expired = 0
    let purgedKeys = 0
    try {
      for (;;) {
        const n = await this.deps.bookings.expireLapsed()
        expired += n
        if (n < 500) break
      }
      purgedKeys = await purgeExpiredKeys(this.deps.db, this.deps.clock.now())
      if (expired > 0 || purgedKeys > 0) this.deps.log.info({ expired, purged_idempotency_keys: purgedKeys }, 'swept lapsed holds and old idempotency keys')
    } catch (error) {
      this.deps.log.warn({ err: error }, 'sweep failed; will retry')
    }
    return { expired, purgedKeys }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.#running
  }
}
