import type { Clock } from '../platform/clock.ts'
import type { Db } from '../platform/db.ts'
import { purgeExpiredKeys } from '../modules/idempotency/repository.ts'
import { BookingService } from '../modules/bookings/service.ts'
import { Dispatcher } from '../modules/webhooks/dispatcher.ts'
import type { DispatcherMetrics } from '../modules/webhooks/dispatcher.ts'
import { DELIVERIES_CHANNEL } from '../modules/webhooks/repository.ts'
import { renderEvent } from '../surfaces/renderers.ts'
import type { Job } from './runner.ts'

export interface JobDeps {
  db: Db
  clock: Clock
  holdMinutes: number
  /** How often lapsed holds are expired (0: never). */
  holdSweepSeconds: number
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS. */
  webhookAllowPrivateTargets: boolean
  /** How often the dispatcher looks for due retries (ms); new deliveries wake it at once. */
  webhookPollMs?: number
  /** WEBHOOK_LEASE_SECONDS, in ms (default 60 s). */
  webhookLeaseMs?: number
  webhookMetrics?: DispatcherMetrics
  /** Where a job's own failures are told (a delivery attempt that could not be recorded). */
  log?: { warn(obj: object, msg: string): void }
}

const BATCH = 500

/** Every background job of the API, in one place: the server (RUN_WORKERS) and npm run worker run these. */
export function jobRegistry(deps: JobDeps): Job[] {
  const bookings = new BookingService({ db: deps.db, clock: deps.clock, holdMinutes: deps.holdMinutes })
  const dispatcher = new Dispatcher({ db: deps.db, clock: deps.clock, render: renderEvent, allowPrivateTargets: deps.webhookAllowPrivateTargets, metrics: deps.webhookMetrics,
    onError: (error, deliveryId) => deps.log?.warn({ err: error, delivery_id: deliveryId }, 'a webhook attempt could not be recorded; it is retried when its lease lapses'),
    ...(deps.webhookLeaseMs ? { leaseMs: deps.webhookLeaseMs } : {}) })
  let unlisten: (() => Promise<void>) | undefined
  return [
    {
      // webhook deliveries: woken by the NOTIFY of each committed fan-out (and each finished
      // attempt), and every second for retries that fall due
      name: 'webhook-dispatch',
      intervalMs: deps.webhookPollMs ?? 1000,
      quiet: true,
      runOnce: () => dispatcher.runOnce(),
      async start(wake) {
        dispatcher.onCapacity(wake)
        if (deps.db.listen) unlisten = await deps.db.listen(DELIVERIES_CHANNEL, wake)
      },
      async stop() {
        await unlisten?.()
        await dispatcher.stop()
      },
    },
    {
      // booking.hold_expiring, once per hold, a few minutes before it lapses
      name: 'hold-expiring',
      intervalMs: deps.holdSweepSeconds * 1000,
      async runOnce() {
        const handled = await bookings.notifyExpiringHolds(BATCH)
        return { handled, more: handled === BATCH }
      },
    },
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
