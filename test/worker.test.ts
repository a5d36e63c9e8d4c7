import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { BookingService } from '../src/modules/bookings/service.ts'
import { CustomerService } from '../src/modules/customers/service.ts'
import { ListingService } from '../src/modules/listings/service.ts'
import { JobRunner } from '../src/jobs/runner.ts'
import type { Job } from '../src/jobs/runner.ts'
import { ManualClock, makeTenant, onPostgres, testDb } from './helpers/harness.ts'
import { ROOT, TIMEOUT, sleep } from './helpers/processes.ts'

const silent = { info: () => {}, warn: () => {} }

describe('the job runner', () => {
  it('never runs a job twice at once, drains a backlog in one wake-up, and stops after the pass under way', async () => {
    let concurrent = 0
    let peak = 0
    let left = 5
    let passes = 0
    const job: Job = {
      name: 'drain',
      intervalMs: 0,
      async runOnce() {
        passes++
        if (left === 0) return { handled: 0, more: false }
        concurrent++
        peak = Math.max(peak, concurrent)
        await sleep(5)
        concurrent--
        left--
        return { handled: 1, more: left > 0 }
      },
    }
    const runner = new JobRunner([job], silent)
    await Promise.all([runner.wake('drain'), runner.wake('drain'), runner.wake('drain')])
    expect(left).toBe(0)
    expect(peak).toBe(1)
    // the wake-ups that came during the drain (a NOTIFY mid-pass) are not lost: one more pass follows it
    await sleep(20)
    expect(passes).toBe(6)
    await runner.stop()
    await runner.wake('drain')
    expect(passes).toBe(6)
  })

  it('a failing pass is logged and the runner goes on', async () => {
    const warnings: unknown[] = []
    let calls = 0
    const runner = new JobRunner([{ name: 'flaky', intervalMs: 0, runOnce: async () => (calls++ === 0 ? Promise.reject(new Error('db down')) : { handled: 0, more: false }) }], { info: () => {}, warn: (o: unknown) => warnings.push(o) })
    await runner.wake('flaky')
    await runner.wake('flaky')
    expect(calls).toBe(2)
    expect(warnings).toHaveLength(1)
  })
})

/**
 * Several worker processes on one PostgreSQL share the jobs: every lapsed hold is expired exactly
 * once, with exactly one booking.expired event, however the passes interleave. (PGlite has one
 * owner process, which runs the jobs itself.)
 */
describe.runIf(onPostgres)('worker processes on one PostgreSQL', () => {
  it('two workers at once expire 1,200 lapsed holds exactly once each, then stop on SIGTERM', async () => {
    const db = await testDb()
    // holds made two hours ago have lapsed by the real clock the workers use
    const clock = new ManualClock(new Date(Date.now() - 2 * 3_600_000))
    const t = await makeTenant(db, { teams: 1, clock })
    const scope = { partnerId: t.partnerId, mode: 'test' as const, teamIds: t.teamIds }
    const listings = new ListingService({ db, clock })
    const customers = new CustomerService({ db, clock })
    const bookings = new BookingService({ db, clock, holdMinutes: 15 })
    const customer = await customers.create(scope, { name: 'Worker test' })
    const ids: string[] = []
    for (let l = 0; l < 4; l++) {
      const listing = await listings.create(scope, {
        name: `Worker villa ${l}`, max_guests: 4, bedrooms: 1, nightly_rate: { amount: '10.00', currency: 'USD' }, timezone: 'UTC',
        address: { country_code: 'VN', province_code: 'SG', city: 'HCMC', line1: `${l} Le Loi` },
      })
      const base = Date.parse('2040-01-01T00:00:00Z')
      const day = (n: number) => new Date(base + n * 86_400_000).toISOString().slice(0, 10)
      for (let n = 0; n < 300; n++) ids.push((await bookings.create(scope, { listing_id: listing.id, customer_id: customer.id, check_in: day(n), check_out: day(n + 1), guests: 1 })).id)
    }

    const env = { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL, HOLD_SWEEP_SECONDS: '1', LOG_LEVEL: 'warn', RUN_WORKERS: 'true' }
    const workers = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
      return { child, output: () => out, exited: new Promise<number | null>((done) => child.once('exit', (code) => done(code))) }
    })
    try {
      const deadline = Date.now() + 45_000
      for (;;) {
        const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bookings WHERE id = ANY($1) AND status = 'EXPIRED'`, [ids])
        if (rows[0]!.n === ids.length) break
        if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of ${ids.length} expired:\n${workers.map((w) => w.output()).join('\n')}`)
        await sleep(250)
      }
      const { rows: events } = await db.query<{ resource_id: string; n: number }>(
        `SELECT resource_id, count(*)::int AS n FROM events WHERE resource_id = ANY($1) AND event_type = 'booking.expired' GROUP BY resource_id`,
        [ids],
      )
      expect(events).toHaveLength(ids.length)
      expect(events.every((e) => e.n === 1)).toBe(true)
    } finally {
      for (const w of workers) w.child.kill('SIGTERM')
    }
    for (const w of workers) expect(await w.exited, w.output()).toBe(0)
  }, TIMEOUT * 3)
})
