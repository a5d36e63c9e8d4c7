/**
 * The baseline: a bare Fastify route with no auth, tenancy, limits, logging or metrics, returning
 * the JSON body it is given. Started in its own process by bench/run.ts.
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const body = readFileSync(process.env.BODY_FILE ?? '/dev/null', 'utf8')
const app = Fastify({ logger: false })
app.get('/bare', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.stdout.write('ready\n')
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
