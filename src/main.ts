import { ConfigError, loadConfig } from './config.ts'
import { openDb } from './platform/db.ts'
import { migrate } from './platform/migrate.ts'
import { DataDirLockedError } from './platform/data-dir-lock.ts'
import type { Metrics } from './http/metrics.ts'
import type { DispatcherMetrics } from './modules/webhooks/dispatcher.ts'

/** The HTTP server entrypoint: npm start. */
async function main(): Promise<void> {
  const config = loadConfig()
  // start-up time: open (and migrate) the database while the app's modules load
  const opening = openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize }).then(async (db) => {
    await migrate(db)
    return db
  })
  // awaited below; until then a refusal (another process owns the data directory) is not unhandled
  opening.catch(() => {})
  const [{ buildApp }, { JobRunner }, { jobRegistry }, { firstRun }, { systemClock }] = await Promise.all([
    import('./app.ts'),
    import('./jobs/runner.ts'),
    import('./jobs/registry.ts'),
    import('./modules/demo/first-run.ts'),
    import('./platform/clock.ts'),
  ])
  const db = await opening
  const { app, verifier, compilers, metrics } = await buildApp({ config, db })
  let adminChannel: { close(): Promise<void> } | undefined
  const banner = config.seedDemo ? await firstRun(db, config) : null
  // the background jobs run here unless worker processes run them (RUN_WORKERS=false)
  const jobs = new JobRunner(config.runWorkers ? jobRegistry({ db, clock: systemClock, holdMinutes: config.holdMinutes, holdSweepSeconds: config.holdSweepSeconds, webhookAllowPrivateTargets: config.webhookAllowPrivateTargets, webhookLeaseMs: config.webhookLeaseSeconds * 1000, log: app.log, webhookMetrics: dispatcherMetrics(metrics) }) : [], app.log)
  jobs.start()

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests')
    try {
      await adminChannel?.close()
      await app.close()
      await jobs.stop()
      await db.close()
      app.log.info('shut down cleanly')
      await flushLogs(app.log)
      process.exit(0)
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed')
      await flushLogs(app.log)
      process.exit(1)
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))

  await app.listen({ port: config.port, host: config.host })
  // the CLI reaches an embedded database through this server, never as a second writer
  const lock = db.dataDirLock
  if (lock) {
    const [{ adminSocketPath, startAdminChannel }, { runCaptured }] = await Promise.all([import('./cli/admin-channel.ts'), import('./cli/main.ts')])
    const socketPath = adminSocketPath(config.dataDir)
    adminChannel = await startAdminChannel(socketPath, (argv) => runCaptured(argv, db, (tokenId) => verifier.evictToken(tokenId)))
    lock.setAdminSocket(socketPath)
  }
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`
  process.stdout.write(`\ntravoBooks API listening on ${config.publicBaseUrl} — database: ${where}\n`)
  process.stdout.write(`API reference: ${config.publicBaseUrl}/docs   OpenAPI: ${config.publicBaseUrl}/openapi.json\n`)
  process.stdout.write(`Start here: ${config.publicBaseUrl}/docs/guides/getting-started   (all guides: ${config.publicBaseUrl}/docs/guides, error codes: ${config.publicBaseUrl}/docs/errors)\n`)
  if (banner) process.stdout.write(banner)
  // the validators and serializers no request has needed yet, compiled while the server idles
  void compilers.warm().then(
    (count) => app.log.debug({ count }, 'route schemas compiled'),
    (error: unknown) => app.log.error({ err: error }, 'compiling a route schema failed'),
  )
}

/** The dispatcher's figures, on this server's /metrics. */
function dispatcherMetrics(metrics: Metrics): DispatcherMetrics {
  return { outcome: (outcome) => metrics.webhookDeliveries.inc({ outcome }), attemptSeconds: (seconds) => metrics.webhookAttemptSeconds.observe(seconds) }
}

/** Buffered log lines reach stdout before the process exits. */
function flushLogs(log: unknown): Promise<void> {
  return new Promise((resolve) => {
    const flush = (log as { flush?: (cb: () => void) => void }).flush
    if (!flush) return resolve()
    flush.call(log, () => resolve())
  })
}

main().catch((error: unknown) => {
  if (error instanceof DataDirLockedError) {
    process.stderr.write(`failed to start: ${error.message}\n`)
  } else if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`)
  } else {
    process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  }
  process.exit(1)
})
