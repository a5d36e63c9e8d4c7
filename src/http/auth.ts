import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ApiError } from '../platform/errors.ts'
import type { ErrorCode, FieldErrors } from '../platform/errors.ts'
import type { Bucket } from '../modules/limits/buckets.ts'
import type { Permission } from '../modules/tokens/permissions.ts'
import type { AuthContext, TokenVerifier } from '../modules/tokens/verifier.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** true: no token needed (health, docs, error catalogue). */
    public?: boolean
    /** The permission(s) the route requires beyond a valid token, all of them (API.md §5). */
    permission?: Permission | readonly Permission[]
    /**
     * The domain error codes the route's service can answer with, beyond those the shared machinery
     * sends (auth, limits, validation, idempotency …), which the OpenAPI document derives itself.
     */
    errors?: readonly ErrorCode[]
    /** The body may be left out (an action's options): the document marks it not required. */
    optionalBody?: boolean
    /** The POST moves money: without an Idempotency-Key it is refused (400 IDEMPOTENCY_KEY_REQUIRED) before anything else is read. */
    idempotencyKeyRequired?: boolean
    /** Media types the route can answer with (406 otherwise); default application/json. */
    produces?: string[]
    /** The rate-limit bucket the route draws on (API.md §8); every authenticated route names one. */
    bucket?: Bucket
    /** The route's errors are the External API's flat {code, message, details} (API.md §13), not the envelope. */
    flatErrors?: boolean
    /** Checks beyond the schema, run on the raw input when the schema refused it, so all field errors come at once. */
    fieldChecks?: (request: FastifyRequest, errors: FieldErrors) => void
  }
  interface FastifyRequest {
    auth: AuthContext | null
  }
}

/** Every non-public route authenticates in onRequest, before the body is even read. */
export function authenticator(app: FastifyInstance, verifier: TokenVerifier): (request: FastifyRequest) => Promise<void> {
  app.decorateRequest('auth', null)
  return async (request) => {
    if (request.is404) {
      // an unknown route with a token still authenticates (and is charged to the read bucket),
      // so its 404 carries rate-limit headers; without a token (OPTIONS preflights) it is just a 404/405
      if (request.headers.authorization) request.auth = await verifier.authenticate(request.headers.authorization, request.ip)
      return
    }
    const config = request.routeOptions.config
    if (config.public) return
    const query = request.query as Record<string, unknown> | undefined
    if (query && ('access_token' in query || 'token' in query) && !request.headers.authorization) {
      throw new ApiError('UNAUTHENTICATED', 'Tokens are never accepted in the query string; send Authorization: Bearer <token>.')
    }
    request.auth = await verifier.authenticate(request.headers.authorization, request.ip)
  }
}

/** The route's permission, checked after the rate limit so a 403 is charged and carries its headers. */
export function checkPermission(request: FastifyRequest): void {
  if (request.is404 || !request.auth) return
  const required = request.routeOptions.config.permission
  if (!required) return
  const missing = typeof required === 'string' ? (request.auth.permissions.has(required) ? undefined : required) : required.find((p) => !request.auth!.permissions.has(p))
  if (missing) {
    throw new ApiError('PERMISSION_DENIED', `This operation needs the ${missing} permission, which this token does not have.`, { required_permission: missing })
  }
}

/** The caller of an authenticated route (the auth hook guarantees it is set). */
export function callerOf(request: { auth: AuthContext | null }): AuthContext {
  if (!request.auth) throw new ApiError('UNAUTHENTICATED')
  return request.auth
}

/** The permissions a route requires, as a list (the route config takes one or several). */
export function requiredPermissions(permission: Permission | readonly Permission[] | undefined): Permission[] {
  return permission === undefined ? [] : typeof permission === 'string' ? [permission] : [...permission]
}
