import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Clock } from '../../platform/clock.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { v1ErrorRenderer } from '../v1/render.ts'
import { bookingV2Routes } from './bookings.ts'

export interface V2SurfaceOptions {
  clock: Clock
  svc: ServicesFor
  publicBaseUrl: string
}

/**
 * The public API v2 (API.md §12): only the resources with a breaking change — bookings
 * (docs/migrating-to-v2.md). Everything else stays on /v1. Errors, lists, limits and idempotency are
 * v1's; only the booking representation differs.
 */
export const v2Surface: FastifyPluginAsyncTypebox<V2SurfaceOptions> = async (app, { clock, svc, publicBaseUrl }) => {
  app.setErrorHandler(v1ErrorRenderer(publicBaseUrl))
  await app.register(bookingV2Routes, { clock, svc, publicBaseUrl })
}
