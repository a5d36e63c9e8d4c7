/**
 * The baselines: bare Fastify routes with no auth, tenancy, limits, logging or metrics. /bare
 * returns a fixed JSON body; with DATABASE_URL, /bare/bookings/:id answers the same single-row
 * query through pg, /bare/bookings a 50-row keyset page of one team (51 rows read, as a page and
 * its has_more), and /bare/availability runs the availability search's own SQL (searchAvailable
 * from src, same arguments). Started in its own process by bench/run.ts.
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import pg from 'pg'

const body = readFileSync(process.env.BODY_FILE ?? '/dev/null', 'utf8')
const app = Fastify({ logger: false })
app.get('/bare', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body))

if (process.env.DATABASE_URL) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
  const columns = `id, team_id, mode, listing_id, customer_id, status, check_in::text, check_out::text, guests, nights, nightly_rate_minor, total_minor,
    currency, hold_expires_at, confirmed_at, issued_at, voucher_number, cancelled_at, cancellation_reason, expired_at, external_system,
    external_booking_id, guest_details, created_at, updated_at`
  app.get<{ Params: { id: string } }>('/bare/bookings/:id', async (request) => {
    const { rows } = await pool.query(`SELECT ${columns} FROM bookings WHERE id = $1`, [request.params.id])
    return rows[0] ?? {}
  })
  app.get<{ Querystring: { team: string; before_created?: string; before_id?: string } }>('/bare/bookings', async (request) => {
    const q = request.query
    const params: unknown[] = [q.team]
    let keyset = ''
    if (q.before_created && q.before_id) {
      params.push(q.before_created, q.before_id)
      keyset = ' AND (created_at, id) < ($2::timestamptz, $3)'
    }
    const { rows } = await pool.query(`SELECT ${columns} FROM bookings WHERE team_id = $1 AND mode = 'test'${keyset} ORDER BY created_at DESC, id DESC LIMIT 51`, params)
    return { data: rows.slice(0, 50), has_more: rows.length > 50 }
  })
  const { searchAvailable } = await import('../src/modules/listings/repository.ts')
  const db = { query: async <Row>(sql: string, params?: readonly unknown[]) => (await pool.query(sql, params as unknown[])) as unknown as { rows: Row[]; rowCount: number } }
  app.get<{ Querystring: { partner: string; team: string; check_in: string; check_out: string; guests: string } }>('/bare/availability', async (request) => {
    const q = request.query
    // the plan the server makes for a first page: 20 (the default limit), created_at ascending, no cursor
    const plan = { limit: 20, column: 'l.created_at', type: 'timestamptz', desc: false, after: null, binding: '', fields: null }
    const scope = { partnerId: q.partner, mode: 'test' as const, teamIds: [q.team] }
    const rows = await searchAvailable(db, scope, { check_in: q.check_in, check_out: q.check_out, guests: Number(q.guests) }, plan, new Date())
    return { data: rows.slice(0, 20), has_more: rows.length > 20 }
  })
}

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('ready\n')
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
