import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ERROR_CATALOGUE, ERROR_CODES } from '../platform/errors.ts'
import type { OpenApiOptions } from './openapi.ts'

/** The human side of the documentation: the interactive reference at /docs and the error catalogue page. */
export async function installReference(app: FastifyInstance, _options: OpenApiOptions): Promise<void> {
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
    '/docs/errors',
    {
      config: { public: true, produces: ['text/html'] },
      schema: { operationId: 'getErrorDocs', summary: 'Human-readable error catalogue', tags: ['Service'], security: [], response: { 200: { description: 'HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } } },
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
