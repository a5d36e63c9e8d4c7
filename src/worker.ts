import { ConfigError, loadConfig } from './config.ts'
import { DataDirLockedError } from './platform/data-dir-lock.ts'
import { openDb } from './platform/db.ts'
import { migrate } from './platform/migrate.ts'

/**
 * The worker entrypoint: npm run worker (or tvb worker). Runs the background jobs (hold expiry,
 * idempotency-key purge, and the webhook dispatcher to come) without serving HTTP. At scale, N API
 * processes run with RUN_WORKERS=false beside any number of these, all on one PostgreSQL: every
 * job claims its rows with FOR UPDATE SKIP LOCKED, so workers share the work and never do one item
 * twice. On the embedded PGlite the server runs the jobs itself (one process owns the data).
 */
export async function runWorker(): Promise<number> {
  const config = loadConfig()
  const [{ createLogger }, { JobRunner }, { jobRegistry }, { systemClock }] = await Promise.all([
    import('./app.ts'),
    import('./jobs/runner.ts'),
    import('./jobs/registry.ts'),
    import('./platform/clock.ts'),
  ])
  const log = createLogger(config.logLevel)
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: Math.min(config.databasePoolSize, 4) })
  await migrate(db)
  const runner = new JobRunner(jobRegistry({ db, clock: systemClock, holdMinutes: config.holdMinutes, holdSweepSeconds: config.holdSweepSeconds, webhookAllowPrivateTargets: config.webhookAllowPrivateTargets, webhookLeaseMs: config.webhookLeaseSeconds * 1000, log: log }), log)
  runner.start()
  log.info({ jobs: runner.names, database: db.kind }, 'worker started')
  process.stdout.write(`travoBooks worker running: ${runner.names.join(', ')} — database: ${db.kind}\n`)
  return new Promise((resolve) => {
    let stopping = false
    const stop = async (signal: string) => {
      if (stopping) return
      stopping = true
      log.info({ signal }, 'worker stopping: finishing the passes under way')
      await runner.stop()
      await db.close()
      log.info('worker stopped')
      resolve(0)
    }
    process.on('SIGTERM', () => void stop('SIGTERM'))
    process.on('SIGINT', () => void stop('SIGINT'))
  })
}

if (/\/(src\/|dist\/|dist\/bundle\/)worker\.(ts|js)$/.test(process.argv[1] ?? '')) {
  runWorker().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const known = error instanceof ConfigError || error instanceof DataDirLockedError
      process.stderr.write(`worker failed to start: ${known ? (error as Error).message : String((error as Error).stack ?? error)}\n`)
      process.exit(1)
    },
  )
}
