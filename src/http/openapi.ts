import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, RouteOptions } from 'fastify'
import Type from 'typebox'
import { ERROR_CATALOGUE, ERROR_CODES } from '../platform/errors.ts'
import { ErrorEnvelopeSchema } from './schemas.ts'

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request',
  401: 'Not authenticated',
  403: 'Not permitted',
  404: 'Not found',
  406: 'Not acceptable',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Body too large',
  415: 'Unsupported media type',
  422: 'Unprocessable',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable',
}

function errorResponse(status: number) {
  const codes = ERROR_CODES.filter((code) => ERROR_CATALOGUE[code].status === status && (status !== 409 || code.startsWith('IDEMPOTENCY')))
  return { description: `${STATUS_TEXT[status] ?? 'Error'}. Codes: ${codes.join(', ')}.`, $ref: 'ErrorEnvelope#' }
}

/**
 * Adds to every route the error statuses the shared machinery can send, so the document lists
 * every status a route can answer with, not only the ones its handler throws.
 */
function addSharedErrorResponses(route: RouteOptions): void {
  const schema = (route.schema ??= {}) as Record<string, unknown> & { response?: Record<string | number, unknown> }
  if ((schema as { hide?: boolean }).hide) return
  const response = (schema.response ??= {})
  const statuses = new Set<number>([406, 500])
  const config = (route.config ?? {}) as { public?: boolean; permission?: string }
  if (!config.public) statuses.add(401).add(429)
  if (config.permission) statuses.add(403)
  if (schema.body) statuses.add(400).add(413).add(415)
  if (schema.querystring || schema.params || schema.headers) statuses.add(400)
  if (route.url.includes(':')) statuses.add(404)
  const methods = Array.isArray(route.method) ? route.method : [route.method]
  if (methods.includes('POST') && !config.public) statuses.add(400).add(409).add(422)
  for (const status of statuses) response[status] ??= errorResponse(status)
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
  // every endpoint draws on exactly one rate-limit bucket; the document says which (x-rate-limit-bucket)
  const buckets = new Map<string, string>()
  app.addHook('onRoute', (route) => {
    addSharedErrorResponses(route)
    const bucket = (route.config as { bucket?: string } | undefined)?.bucket
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (bucket) for (const method of methods) buckets.set(`${method.toLowerCase()} ${openApiPath(route.url)}`, bucket)
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
          'the catalogue of codes is at [/v1/errors](/v1/errors). Every response carries `X-Request-Id`.',
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
        { name: 'Bookings', description: 'Hold, confirm, issue, change and cancel stays.' },
        { name: 'Events', description: 'What changed: the outbox behind webhooks, listable for 30 days.' },
        { name: 'Tokens', description: 'Personal access tokens.' },
        { name: 'Identity', description: 'The calling token, its partner and teams.' },
        { name: 'Service', description: 'Health, readiness, metrics, documentation.' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: { paths?: Record<string, Record<string, Record<string, unknown>>> } }).openapiObject
      for (const [path, operations] of Object.entries(document.paths ?? {})) {
        for (const [method, operation] of Object.entries(operations)) {
          const bucket = buckets.get(`${method} ${path}`)
          if (!bucket) continue
          operation['x-rate-limit-bucket'] = bucket
          const note = `Rate-limit bucket: \`${bucket}\`.`
          operation.description = operation.description ? `${operation.description}\n\n${note}` : note
        }
      }
      return document
    },
  })
  // the interactive reference is for browsers: public, and in the media types its files have
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = {
        ...(route.config as object),
        public: true,
        produces: ['text/html', 'text/css', 'application/javascript', 'application/json', 'application/yaml', 'image/png', 'image/svg+xml'],
      }
    })
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { deepLinking: true, tryItOutEnabled: true, persistAuthorization: true },
      staticCSP: false,
    })
  })

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
                code: Type.String(),
                status: Type.Integer(),
                retry_advice: Type.String(),
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

  app.get(
    '/docs/errors',
    {
      config: { public: true, produces: ['text/html'] },
      schema: { operationId: 'getErrorDocs', summary: 'Human-readable error catalogue', tags: ['Service'], security: [], response: { 200: { description: 'HTML page.', type: 'string' } } },
    },
    async (_request, reply) => {
      const rows = ERROR_CODES.map((code) => {
        const entry = ERROR_CATALOGUE[code]
        return `<tr id="${code}"><td><code>${code}</code></td><td>${entry.status}</td><td>${entry.retry_advice}</td><td>${escapeHtml(entry.title)}</td></tr>`
      }).join('\n')
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>travoBooks API errors</title>` +
            `<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{padding:.3rem .8rem;text-align:left;border-bottom:1px solid #ddd}tr:target{background:#ffd}</style></head>` +
            `<body><h1>travoBooks API error codes</h1><p>Every error body is <code>{"error": {"code", "message", "details", "request_id", "retry_advice", "doc_url"}}</code>. ` +
            `Machine-readable: <a href="/v1/errors">/v1/errors</a>. API reference: <a href="/docs">/docs</a>.</p>` +
            `<table><thead><tr><th>code</th><th>HTTP status</th><th>retry advice</th><th>meaning</th></tr></thead><tbody>${rows}</tbody></table></body></html>`,
        )
    },
  )
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
