import type { FastifyBaseLogger } from 'fastify'
import type { BookingService } from './service.ts'

/**
 * Moves lapsed holds to EXPIRED (with their booking.expired events). Reads already show a lapsed
 * hold as EXPIRED; the sweeper makes it so in the database and emits the event. Safe on several
 * instances at once: rows are claimed with FOR UPDATE SKIP LOCKED.
 */
export class HoldSweeper {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  constructor(
    private readonly bookings: BookingService,
    private readonly intervalMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      if (!this.#running) this.#running = this.sweep().then(() => (this.#running = undefined))
    }, this.intervalMs)
    this.#timer.unref()
  }

  async sweep(): Promise<number> {
    let total = 0
    try {
      for (;;) {
        const n = await this.bookings.expireLapsed()
        total += n
        if (n < 500) break
      }
      if (total > 0) this.log.info({ expired: total }, 'expired lapsed booking holds')
    } catch (error) {
      this.log.warn({ err: error }, 'hold sweep failed; will retry')
    }
    return total
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.#running
  }
}
