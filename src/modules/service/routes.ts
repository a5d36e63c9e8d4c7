import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import type { Db } from '../../platform/db.ts'
import { ApiError } from '../../platform/errors.ts'
import { ping } from './repository.ts'
import type { Metrics } from '../../http/metrics.ts'

const READY_TIMEOUT_MS = 2000

/** Health, readiness and metrics: public, outside the versioned API. */
export const serviceRoutes: FastifyPluginAsyncTypebox<{ db: Db; metrics: Metrics }> = async (app, { db, metrics }) => {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process is up',
        tags: ['Service'],
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database answers',
        description: 'Answers 503 SERVICE_UNAVAILABLE when the database does not answer within 2 s.',
        tags: ['Service'],
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }) },
      },
    },
    async () => {
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          ping(db),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS)
          }),
        ])
      } catch {
        throw new ApiError('SERVICE_UNAVAILABLE', 'The database is not reachable.', { dependency: 'database' })
      } finally {
        clearTimeout(timer)
      }
      return { status: 'ready' as const, database: db.kind }
    },
  )

  app.get(
    '/metrics',
    {
      config: { public: true, produces: ['text/plain', 'application/openmetrics-text'] },
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        description: 'Requests by route and status, latency histogram, token cache and database query counters.',
        tags: ['Service'],
        security: [],
        response: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  )
}
