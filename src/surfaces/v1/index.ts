import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Clock } from '../../platform/clock.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { bookingRoutes } from './bookings.ts'
import { customerRoutes } from './customers.ts'
import { eventRoutes } from './events.ts'
import { listingRoutes } from './listings.ts'
import { identityRoutes } from './me.ts'
import { invoiceRoutes } from './invoices.ts'
import { paymentRoutes } from './payments.ts'
import { reportRoutes } from './reports.ts'
import { v1ErrorRenderer } from './render.ts'
import { tokenRoutes } from './tokens.ts'
import { webhookRoutes } from './webhooks.ts'
import { testClockRoutes } from './test-clock.ts'
import { sandboxRoutes } from './sandbox.ts'
import { installDeprecation } from '../../http/deprecation.ts'
import type { DeprecatedCalls } from '../../modules/usage/deprecated-calls.ts'

export interface V1SurfaceOptions {
  clock: Clock
  svc: ServicesFor
  publicBaseUrl: string
  deprecatedCalls: DeprecatedCalls
}

/**
 * The public API v1 (API.md §3–§10) as one encapsulated surface: its routes, its error envelope
 * ({"error": {…}}) and its list envelope ({"data", "pagination"}). Authentication, rate limits,
 * idempotency and the input guard are the app's, shared by every surface; a sibling surface (the
 * External API's flat errors and page/limit, /v2's representations) renders the same services'
 * answers its own way.
 */
export const v1Surface: FastifyPluginAsyncTypebox<V1SurfaceOptions> = async (app, { clock, svc, publicBaseUrl, deprecatedCalls }) => {
  app.setErrorHandler(v1ErrorRenderer(publicBaseUrl))
  // v1's booking routes are replaced by /v2's: Deprecation, Sunset and Link, and counted per token
  const deprecated = installDeprecation(app, { publicBaseUrl, calls: deprecatedCalls })
  await app.register(identityRoutes, { svc, deprecated, deprecatedCalls })
  await app.register(tokenRoutes, { svc, publicBaseUrl })
  await app.register(listingRoutes, { svc, publicBaseUrl })
  await app.register(customerRoutes, { svc, publicBaseUrl })
  await app.register(bookingRoutes, { clock, svc, publicBaseUrl })
  await app.register(eventRoutes, { svc })
  await app.register(webhookRoutes, { svc, publicBaseUrl })
  await app.register(invoiceRoutes, { svc, publicBaseUrl })
  await app.register(paymentRoutes, { svc, publicBaseUrl })
  await app.register(reportRoutes, { svc })
  await app.register(testClockRoutes, { svc })
  await app.register(sandboxRoutes, { publicBaseUrl })
}
