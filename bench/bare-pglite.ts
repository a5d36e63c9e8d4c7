/**
 * The start-up baseline: opens DATA_DIR with PGlite (new PGlite(dir) + waitReady) and serves one
 * Fastify route, /healthz. Compiled to .bench/ by bench/startup.ts and run by plain node, as the
 * server is; imports packages only.
 */
import { PGlite } from '@electric-sql/pglite'
import Fastify from 'fastify'

const pglite = new PGlite(process.env.DATA_DIR!)
await pglite.waitReady
const app = Fastify({ logger: false })
app.get('/healthz', async () => ({ status: 'ok' }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pglite.close())
    .then(() => process.exit(0))
})
