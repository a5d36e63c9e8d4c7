import swagger from '@fastify/swagger'
import type { FastifyInstance, RouteOptions } from 'fastify'
import Type from 'typebox'
import { ERROR_CATALOGUE, ERROR_CODES } from '../platform/errors.ts'
import type { ErrorCode } from '../platform/errors.ts'
import type { Permission } from '../modules/tokens/permissions.ts'
import { requiredPermissions } from './auth.ts'
import { isMockable } from './mock.ts'
import { codeSamplesFor } from './code-samples.ts'
import type { CodeSampleInput } from './code-samples.ts'
import { finishDocument } from './openapi-document.ts'
import type { OpenApiDocument, OperationExtras } from './openapi-document.ts'
import { PERMISSIONS, ROLES, ROLE_PERMISSIONS } from '../modules/tokens/permissions.ts'
import { ErrorEnvelopeSchema, FlatErrorSchema, stringEnum } from './schemas.ts'
import { installReference } from './reference.ts'

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request',
  401: 'Not authenticated',
  403: 'Not permitted',
  404: 'Not found',
  406: 'Not acceptable',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Body too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  422: 'Unprocessable',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable',
}

interface RouteShape {
  method: string[]
  url: string
  public: boolean
  hasBody: boolean
  query: Record<string, unknown>
  declared: readonly ErrorCode[]
  permissions: string[]
  /** config.flatErrors: the External API's body, and its own codes for an unknown id (declared) */
  flat: boolean
}

/**
 * Every error code an operation can answer with: those the shared machinery sends, derived from the
 * route's shape (authenticated, has a body, path ids, cursor, team_ids, POST, PUT), and the domain
 * codes the route declares (config.errors). The document lists exactly these per status, and the
 * contract fuzz suite fails when the server sends a code that is not listed.
 */
export function errorCodesOf(route: RouteShape): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>(['VALIDATION_ERROR', 'INVALID_REQUEST', 'NOT_ACCEPTABLE', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE', ...route.declared])
  if (!route.public) for (const code of ['UNAUTHENTICATED', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'TOKEN_MODE_NOT_ALLOWED', 'RATE_LIMIT_EXCEEDED'] as const) codes.add(code)
  if (route.permissions.length > 0) codes.add('PERMISSION_DENIED')
  const writes = route.method.some((m) => m === 'POST' || m === 'PUT' || m === 'DELETE')
  if (writes) for (const code of ['INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const) codes.add(code)
  if (route.url.includes(':')) codes.add('URI_TOO_LONG')
  if (route.url.includes(':') && !route.flat) codes.add('NOT_FOUND')
  if ('cursor' in route.query) codes.add('INVALID_CURSOR')
  if ('team_ids' in route.query && !route.flat) codes.add('INVALID_TEAM_IDS')
  if (route.method.includes('PUT')) codes.add('PRECONDITION_FAILED')
  if (route.method.includes('POST') && !route.public) codes.add('IDEMPOTENCY_REQUEST_IN_PROGRESS').add('IDEMPOTENCY_KEY_REUSED')
  if (isMockable(route)) codes.add('MOCK_NOT_ALLOWED_IN_LIVE_MODE').add('MOCK_RESPONSES_DISABLED')
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of ERROR_CODES) {
    if (!codes.has(code)) continue
    const status = ERROR_CATALOGUE[code].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return byStatus
}

function shapeOf(route: RouteOptions): RouteShape {
  const schema = (route.schema ?? {}) as { body?: unknown; querystring?: { properties?: Record<string, unknown> } }
  const config = (route.config ?? {}) as { public?: boolean; permission?: Permission | readonly Permission[]; errors?: readonly ErrorCode[]; flatErrors?: boolean }
  return {
    method: Array.isArray(route.method) ? route.method : [route.method],
    url: route.url,
    public: Boolean(config.public),
    hasBody: Boolean(schema.body),
    query: schema.querystring?.properties ?? {},
    declared: config.errors ?? [],
    permissions: requiredPermissions(config.permission),
    flat: Boolean(config.flatErrors),
  }
}

/**
 * Every array and object a request can carry is bounded (maxItems, maxProperties), so the document
 * says what the server enforces and no schema invites an unbounded input. A closed object's bound
 * is its number of properties; an array without maxItems stops the server from starting.
 */
function requireBounds(route: RouteOptions): void {
  const schema = (route.schema ?? {}) as Record<string, unknown>
  const visit = (node: unknown, where: string): void => {
    if (!node || typeof node !== 'object') return
    const s = node as Record<string, unknown>
    if (s.type === 'array' && typeof s.maxItems !== 'number') throw new Error(`${route.method} ${route.url}: ${where} is an array without maxItems`)
    // path and query objects are bounded by the URL (16 KiB); a body's objects by their schema
    if (s.type === 'object' && typeof s.maxProperties !== 'number' && where.startsWith('body')) {
      if (s.additionalProperties !== false) throw new Error(`${route.method} ${route.url}: ${where} is an open object without maxProperties`)
      s.maxProperties = Object.keys((s.properties as object | undefined) ?? {}).length
    }
    for (const [key, child] of Object.entries(s)) {
      if (key === 'properties' && child && typeof child === 'object') for (const [name, prop] of Object.entries(child)) visit(prop, `${where}.${name}`)
      else if (key === 'items' || key === 'anyOf' || key === 'oneOf' || key === 'allOf') (Array.isArray(child) ? child : [child]).forEach((c) => visit(c, where))
    }
  }
  for (const part of ['params', 'querystring', 'body']) visit(schema[part], part)
}

/** Adds every error status the route can send to its response schemas (the envelope for each). */
function addErrorResponses(route: RouteOptions, errors: Map<number, ErrorCode[]>, flat: boolean): void {
  const schema = (route.schema ??= {}) as Record<string, unknown> & { response?: Record<string | number, unknown> }
  const response = (schema.response ??= {})
  for (const [status, codes] of errors) response[status] = { description: `${STATUS_TEXT[status] ?? 'Error'}. Codes: ${codes.join(', ')}.`, $ref: flat ? 'FlatError#' : 'ErrorEnvelope#' }
}

/**
 * The one table of authorization rules, rendered into the document (and so into /docs): what each
 * role may do. A token's permissions are its role's, narrowed by its scopes; each operation names
 * the permissions it needs (x-required-permissions), and needs all of them.
 */
function permissionTable(): string {
  const header = `| permission | ${ROLES.join(' | ')} |\n|---|${ROLES.map(() => '---').join('|')}|`
  const rows = PERMISSIONS.map((p) => `| \`${p}\` | ${ROLES.map((r) => (ROLE_PERMISSIONS[r].includes(p) ? '✓' : '')).join(' | ')} |`)
  return (
    '## Permissions\n\nA token acts with its role\'s permissions, narrowed by its `scopes`. Each operation states the permissions it needs ' +
    '(`x-required-permissions`, all of them); a missing one is `403 PERMISSION_DENIED` naming it in `details.required_permission`. ' +
    '`GET /v1/me` and `/v1/teams` need only a valid token. A token sees and manages only tokens within its own teams, permissions and expiry.\n\n' +
    [header, ...rows].join('\n')
  )
}

export interface OpenApiOptions {
  publicBaseUrl: string
}

/** The OpenAPI path of a Fastify route: :id → {id}, :id(regex)::rotate → {id}:rotate. */
export function openApiPath(url: string): string {
  return url
    .replace(/:(\w+)\([^)]*\)/g, ':$1')
    .split('::')
    .map((part) => part.replace(/:(\w+)/g, '{$1}'))
    .join(':')
}

export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  app.addSchema(ErrorEnvelopeSchema)
  app.addSchema(FlatErrorSchema)
  // every endpoint draws on exactly one rate-limit bucket; the document says which (x-rate-limit-bucket),
  // with the permissions it needs and the error codes it can send
  const extras = new Map<string, OperationExtras>()
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { hide?: boolean; deprecated?: boolean } | undefined
    if (schema?.hide) return
    const shape = shapeOf(route)
    requireBounds(route)
    const errors = errorCodesOf(shape)
    addErrorResponses(route, errors, shape.flat)
    const config = (route.config ?? {}) as { bucket?: string; optionalBody?: boolean }
    for (const method of shape.method) {
      extras.set(`${method.toLowerCase()} ${openApiPath(route.url)}`, {
        routeUrl: route.url,
        public: shape.public,
        optionalBody: Boolean(config.optionalBody),
        permissions: shape.permissions,
        errors,
        fieldsSelectable: 'fields' in shape.query,
        mockable: isMockable(shape),
        flat: shape.flat,
        deprecated: Boolean(schema?.deprecated),
        bucket: config.bucket,
      })
    }
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'travoBooks Public API',
        version: '1.0.0',
        description:
          'The travoBooks public REST API for partners: listings, availability, customers, bookings, tokens and more.\n\n' +
          'Authenticate with `Authorization: Bearer tvb_test_…` (or `tvb_live_…`). Every error uses one envelope; ' +
          'the catalogue of codes, with what each means and how to fix it, is at [/docs/errors](/docs/errors) ([/v1/errors](/v1/errors) as JSON). Guides: [/docs/guides](/docs/guides). Every response carries `X-Request-Id`.\n\n' +
          permissionTable(),
        contact: { name: 'travoBooks API', url: `${options.publicBaseUrl}/docs` },
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      },
      servers: [{ url: options.publicBaseUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A personal access token: tvb_live_… or tvb_test_…' } } },
      security: [{ bearer: [] }],
      tags: [
        { name: 'Listings', description: 'Villas and other places to stay, their calendars.' },
        { name: 'Availability', description: 'Find bookable listings for a stay.' },
        { name: 'Customers', description: 'The people bookings are made for.' },
        { name: 'Bookings', description: 'Hold, confirm, issue, change and cancel stays. Deprecated (sunset 2027-12-01): use Bookings (v2); guide at [/docs/guides/migrating-to-v2](/docs/guides/migrating-to-v2).' },
        { name: 'Bookings (v2)', description: 'The same bookings in v2\'s representation: the stay as one object, the price night by night, the external reference as one object.' },
        { name: 'Invoices', description: 'Invoices of bookings and manual ones; amounts exact to the minor unit.' },
        { name: 'Payments', description: 'Payments against invoices, and their refunds.' },
        { name: 'Reports', description: 'Bookings, revenue and occupancy over a date range, in JSON or CSV.' },
        { name: 'Webhooks', description: 'Signed event deliveries (Standard Webhooks) to your endpoints, their attempts and retries.' },
        { name: 'Sandbox', description: 'Test mode\'s tools: magic values and the per-partner test clock. Guides: [/docs/guides/sandbox](/docs/guides/sandbox), [/docs/guides/test-clock](/docs/guides/test-clock).' },
        { name: 'Events', description: 'What changed: the outbox behind webhooks, listable for 30 days.' },
        { name: 'Tokens', description: 'Personal access tokens.' },
        { name: 'Identity', description: 'The calling token, its partner and teams.' },
        { name: 'Service', description: 'Health, readiness, metrics, documentation.' },
        {
          name: 'External API',
          description:
            'The partner integration surface at /api/v1/external: listings and bookings with page/limit pagination ' +
            '({"items", "total", "page", "limit", "total_pages", "next_cursor"}) and flat errors ({"code", "message", "details"}); ' +
            'same tokens, permissions, rate limits, idempotency and webhooks as /v1. Guide: [/docs/guides/external-api](/docs/guides/external-api).',
        },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: OpenApiDocument }).openapiObject
      return finishDocument(document, extras, {
        publicBaseUrl: options.publicBaseUrl,
        today: new Date().toISOString().slice(0, 10),
        codeSamples: ({ method, path, operationId, example, bodyIsOptional, parameters }) =>
          codeSamplesFor({ method, path, operationId, pathParams: example.path ?? {}, query: example.query ?? {}, headers: example.header ?? {}, body: example.body, bodyIsOptional, parameters: parameters as unknown as CodeSampleInput['parameters'], isPublic: extras.get(`${method} ${path}`)?.public ?? false, baseUrl: options.publicBaseUrl }),
      })
    },
  })
  await installReference(app, options)

  app.get(
    '/openapi.json',
    {
      config: { public: true },
      schema: {
        operationId: 'getOpenApi',
        summary: 'The OpenAPI 3.1 document of this API',
        tags: ['Service'],
        security: [],
        response: { 200: { description: 'The OpenAPI document.', type: 'object', additionalProperties: true } },
      },
    },
    async () => app.swagger(),
  )

  app.get(
    '/v1/errors',
    {
      config: { public: true },
      schema: {
        operationId: 'listErrorCodes',
        summary: 'The catalogue of error codes',
        description: 'Every code the API can send in error.code, with its HTTP status and retry advice.',
        tags: ['Service'],
        security: [],
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                code: stringEnum(ERROR_CODES),
                status: Type.Integer(),
                retry_advice: stringEnum(['retryable', 'retry_after_fix', 'non_retryable']),
                description: Type.String(),
                doc_url: Type.String(),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      data: ERROR_CODES.map((code) => ({
        code,
        status: ERROR_CATALOGUE[code].status,
        retry_advice: ERROR_CATALOGUE[code].retry_advice,
        description: ERROR_CATALOGUE[code].title,
        doc_url: `${options.publicBaseUrl}/docs/errors#${code}`,
      })),
    }),
  )
}
