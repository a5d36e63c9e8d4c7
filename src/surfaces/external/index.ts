import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { renderErrorsUnder, unroutedError } from '../../http/errors.ts'
import { RouteTable } from '../../http/route-table.ts'
import type { Clock } from '../../platform/clock.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { externalRoutes } from './routes.ts'
import { flatErrorHandler, sendFlatError } from './render.ts'

export interface ExternalSurfaceOptions {
  clock: Clock
  svc: ServicesFor
  publicBaseUrl: string
}

export const EXTERNAL_PREFIX = '/api/v1/external'

/**
 * The External API (API.md §13, seed 000): /api/v1/external, listings and bookings with page/limit
 * lists and flat errors, over the same services, tokens, permissions, rate limits, idempotency and
 * events as /v1. Everything answered under the prefix is flat: the routes' errors (the shared
 * onRequest hooks' included: Fastify hands them to the route's encapsulated handler), unknown
 * routes and wrong methods (this prefix's not-found handler), and what the router refuses before
 * routing (renderErrorsUnder).
 */
export const externalSurface: FastifyPluginAsyncTypebox<ExternalSurfaceOptions> = async (app, { clock, svc, publicBaseUrl }) => {
  renderErrorsUnder(EXTERNAL_PREFIX, sendFlatError)
  await app.register(
    async (external) => {
      // this surface's own paths, for the 405's Allow and OPTIONS (the app's table answers the rest)
      const routes = new RouteTable()
      external.addHook('onRoute', (route) => {
        for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.add(method, route.url)
      })
      external.setErrorHandler(flatErrorHandler)
      external.setNotFoundHandler((request, reply) => {
        const error = unroutedError(routes, request, reply)
        return error ? sendFlatError(reply, error) : reply
      })
      await external.register(externalRoutes, { clock, svc, publicBaseUrl, basePath: EXTERNAL_PREFIX })
    },
    { prefix: EXTERNAL_PREFIX },
  )
}
