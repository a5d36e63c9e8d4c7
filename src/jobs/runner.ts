import type { FastifyBaseLogger } from 'fastify'

/**
 * A background job: one pass of work, safe to run in any number of processes at once (each pass
 * claims its rows with FOR UPDATE SKIP LOCKED), repeated every intervalMs. A pass that did a full
 * batch runs again at once, so a backlog drains without waiting for the next tick.
 */
export interface Job {
  name: string
  intervalMs: number
  /** Does one batch; returns how many items it handled and whether more may be waiting. */
  runOnce(): Promise<{ handled: number; more: boolean }>
  /** Passes too frequent to log each (the webhook dispatcher runs one per delivery burst). */
  quiet?: boolean
  /** Subscribes to what should wake it besides its timer (a NOTIFY); given the runner's wake. */
  start?(wake: () => void): Promise<void>
  /** Ends what start began and waits for work it runs beyond a pass (deliveries in flight). */
  stop?(): Promise<void>
}

type Log = Pick<FastifyBaseLogger, 'info' | 'warn'>

/** Runs a registry of jobs on timers, never one job twice at once, and stops gracefully. */
export class JobRunner {
  readonly #jobs: Job[]
  readonly #log: Log
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #running = new Map<string, Promise<void>>()
  /** Jobs woken while a pass was under way: they run once more when it ends. */
  readonly #again = new Set<string>()
  #stopped = false

  constructor(jobs: Job[], log: Log) {
    this.#jobs = jobs
    this.#log = log
  }

  get names(): string[] {
    return this.#jobs.map((job) => job.name)
  }

  start(): void {
    for (const job of this.#jobs) {
      job.start?.(() => void this.wake(job.name)).catch((error: unknown) => this.#log.warn({ err: error, job: job.name }, 'job could not subscribe to its wake-ups; its timer still runs it'))
      if (job.intervalMs <= 0) continue
      const timer = setInterval(() => this.wake(job.name), job.intervalMs)
      timer.unref()
      this.#timers.set(job.name, timer)
    }
  }

  /** Runs a job now unless it is already running (a wake-up from a NOTIFY, a test, a timer). */
  wake(name: string): Promise<void> {
    const running = this.#running.get(name)
    if (running) this.#again.add(name)
    if (running || this.#stopped) return running ?? Promise.resolve()
    const job = this.#jobs.find((j) => j.name === name)
    if (!job) throw new Error(`no job ${name}`)
    const pass = this.#drain(job).finally(() => {
      this.#running.delete(name)
      if (this.#again.delete(name)) void this.wake(name)
    })
    this.#running.set(name, pass)
    return pass
  }

  async #drain(job: Job): Promise<void> {
    let total = 0
    try {
      for (;;) {
        const { handled, more } = await job.runOnce()
        total += handled
        if (!more || this.#stopped) break
      }
      if (total > 0 && !job.quiet) this.#log.info({ job: job.name, handled: total }, 'job pass done')
    } catch (error) {
      this.#log.warn({ err: error, job: job.name }, 'job pass failed; it runs again at its next tick')
    }
  }

  /** Stops the timers and waits for the passes under way (their transactions commit or roll back). */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const timer of this.#timers.values()) clearInterval(timer)
    this.#timers.clear()
    await Promise.all(this.#running.values())
    await Promise.all(this.#jobs.map((job) => job.stop?.()))
  }
}
