import type { FastifyInstance, onSendHookHandler } from 'fastify'
import type { DeprecatedCalls } from '../modules/usage/deprecated-calls.ts'
import { openApiPath } from './openapi.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The operation is deprecated in favour of this one ("GET /v2/bookings"): it answers with Deprecation, Sunset and Link, and its calls are counted per token. */
    replacedBy?: string
  }
}

/** When v1's booking routes were deprecated (RFC 9745) and when they go (RFC 8594): 12 months and more apart (API.md §12). */
export const V1_BOOKINGS_DEPRECATED_AT = new Date('2026-11-22T00:00:00Z')
export const V1_BOOKINGS_SUNSET_AT = new Date('2027-12-01T00:00:00Z')
export const MIGRATION_GUIDE_PATH = '/docs/guides/migrating-to-v2'

/** A deprecated operation, as GET /v1/me names it. */
export interface DeprecatedOperation {
  method: string
  path: string
  replaced_by: string
  deprecated_at: string
  sunset_at: string
}

/**
 * Installs, on the routes of the plugin it is called in, the deprecation headers of every route whose
 * config names its replacement, and counts each authenticated call of one (in memory: no write per
 * request). Returns the deprecated operations by operationId, filled as routes are added.
 */
export function installDeprecation(app: FastifyInstance, options: { publicBaseUrl: string; calls: DeprecatedCalls }): Map<string, DeprecatedOperation> {
  const operations = new Map<string, DeprecatedOperation>()
  const link = `<${options.publicBaseUrl}${MIGRATION_GUIDE_PATH}>; rel="deprecation"; type="text/html"`
  const headers = {
    deprecation: `@${Math.floor(V1_BOOKINGS_DEPRECATED_AT.getTime() / 1000)}`,
    sunset: V1_BOOKINGS_SUNSET_AT.toUTCString(),
  }
  // a hook on the deprecated routes only: the others pay nothing
  const onSend: onSendHookHandler = (request, reply, payload, done) => {
    const replacedBy = request.routeOptions.config.replacedBy!
    reply.headers(headers)
    const successor = replacedBy.split(' ')[1]
    reply.header('link', successor ? `${link}, <${options.publicBaseUrl}${successor.replace(/\{[a-z_]+\}/g, (m) => paramOf(request.params, m))}>; rel="successor-version"` : link)
    const operationId = request.routeOptions.schema?.operationId as string | undefined
    if (request.auth && operationId) options.calls.count(request.auth.tokenId, operationId)
    done(null, payload)
  }
  app.addHook('onRoute', (route) => {
    const replacedBy = route.config?.replacedBy
    const operationId = route.schema?.operationId as string | undefined
    if (!replacedBy || !operationId) return
    const existing = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend]
    route.onSend = [...existing, onSend]
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (methods.includes('HEAD') && !methods.includes('GET')) return
    operations.set(operationId, {
      method: methods.filter((m) => m !== 'HEAD')[0]!,
      path: openApiPath(route.url),
      replaced_by: replacedBy,
      deprecated_at: V1_BOOKINGS_DEPRECATED_AT.toISOString(),
      sunset_at: V1_BOOKINGS_SUNSET_AT.toISOString(),
    })
  })
  return operations
}

function paramOf(params: unknown, placeholder: string): string {
  const value = (params as Record<string, unknown> | undefined)?.[placeholder.slice(1, -1)]
  return typeof value === 'string' ? encodeURIComponent(value) : placeholder
}
