import type { Clock } from '../platform/clock.ts'
import type { Db } from '../platform/db.ts'
import { purgeExpiredKeys } from '../modules/idempotency/repository.ts'
import { BookingService } from '../modules/bookings/service.ts'
import type { Job } from './runner.ts'

export interface JobDeps {
  db: Db
  clock: Clock
  holdMinutes: number
  /** How often lapsed holds are expired (0: never). */
  holdSweepSeconds: number
}

const BATCH = 500

/** Every background job of the API, in one place: the server (RUN_WORKERS) and npm run worker run these. */
export function jobRegistry(deps: JobDeps): Job[] {
  const bookings = new BookingService({ db: deps.db, clock: deps.clock, holdMinutes: deps.holdMinutes })
  return [
    {
      // reads already show a lapsed hold as EXPIRED; this writes it, with its booking.expired event
      name: 'hold-expiry',
      intervalMs: deps.holdSweepSeconds * 1000,
      async runOnce() {
        const handled = await bookings.expireLapsed(BATCH)
        return { handled, more: handled === BATCH }
      },
    },
    {
      // lookups already ignore keys past their 24 hours; this deletes them
      name: 'idempotency-key-purge',
      intervalMs: Math.max(deps.holdSweepSeconds, 60) * 1000,
      async runOnce() {
        return { handled: await purgeExpiredKeys(deps.db, deps.clock.now()), more: false }
      },
    },
  ]
}
