import scalarReference from '@scalar/fastify-api-reference'
import type { FastifyInstance } from 'fastify'
import { ERROR_FIXES } from '../platform/error-fixes.ts'
import { ERROR_CATALOGUE, ERROR_CODES } from '../platform/errors.ts'
import type { ErrorCode, RetryAdvice } from '../platform/errors.ts'
import type { OpenApiOptions } from './openapi.ts'

/** The reference's own files: an HTML page, its one script, and the document it renders. */
const REFERENCE_MEDIA_TYPES = ['text/html', 'application/javascript', 'application/json', 'application/yaml']

/** Links shown beside the API's description in the reference (Scalar's x-scalar-links). */
const REFERENCE_LINKS = [
  { name: 'Guides', url: '/docs/guides' },
  { name: 'Error codes and fixes', url: '/docs/errors' },
  { name: 'OpenAPI document', url: '/openapi.json' },
]

/** A favicon inline, so the page asks nothing of the network beyond this server. */
export const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='6' fill='%230b5fff'/%3E%3Ctext x='16' y='22' font-size='16' text-anchor='middle' fill='white' font-family='sans-serif'%3Etb%3C/text%3E%3C/svg%3E"

/** Without Scalar's web fonts (withDefaultFonts: false), the system's. */
const SYSTEM_FONTS = `.scalar-app, .light-mode, .dark-mode {
  --scalar-font: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
  --scalar-font-code: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace;
}`

interface OpenApiDocument {
  info?: Record<string, unknown>
  paths?: Record<string, Record<string, { operationId?: string; summary?: string; tags?: string[]; responses?: Record<string, { 'x-error-codes'?: string[] }> }>>
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'])

/**
 * The human side of the documentation: the interactive reference at /docs (Scalar, served with its
 * script from this server: no CDN, no web fonts, no telemetry) and the error catalogue at
 * /docs/errors. Both need no token; "Test Request" in the reference sends the bearer token the
 * reader enters.
 */
export async function installReference(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(async (docs) => {
    // the server's authentication and content negotiation read these: the reference is public, for browsers
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), public: true, produces: REFERENCE_MEDIA_TYPES }
    })
    await docs.register(scalarReference, {
      routePrefix: '/docs',
      logLevel: 'warn',
      configuration: {
        pageTitle: 'travoBooks API reference',
        content: () => referenceDocument(app.swagger() as OpenApiDocument),
        withDefaultFonts: false,
        telemetry: false,
        favicon: FAVICON,
        customCss: SYSTEM_FONTS,
        mcp: { disabled: true },
        agent: { disabled: true },
        // its button opens Scalar's hosted client with this document's URL: off, the page's own "Test Request" stays
        hideClientButton: true,
        persistAuth: false,
        authentication: { preferredSecurityScheme: 'bearer' },
        documentDownloadType: 'json',
        showDeveloperTools: 'never',
        metaData: { title: 'travoBooks API reference', description: 'The travoBooks public REST API for partners.' },
      },
    })
  })

  let catalogue: string | undefined
  app.get(
    '/docs/errors',
    {
      config: { public: true, produces: ['text/html'] },
      schema: { operationId: 'getErrorDocs', summary: 'Human-readable error catalogue', tags: ['Service'], security: [], response: { 200: { description: 'HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } } },
    },
    async (_request, reply) => {
      // the document is complete once the app is ready, and never changes after: rendered once
      catalogue ??= errorCataloguePage(operationsByCode(app.swagger() as OpenApiDocument), options.publicBaseUrl)
      return reply.type('text/html; charset=utf-8').send(catalogue)
    },
  )
}

/** The document as the reference shows it: the same, with links to the guides and the error catalogue. */
function referenceDocument(document: OpenApiDocument): OpenApiDocument {
  return { ...document, info: { ...document.info, 'x-scalar-links': REFERENCE_LINKS } }
}

interface OperationRef {
  method: string
  path: string
  operationId?: string
  summary?: string
  tag?: string
}

/** Which operations can answer with each code: the x-error-codes the document lists on their error responses. */
function operationsByCode(document: OpenApiDocument): Map<ErrorCode, OperationRef[]> {
  const byCode = new Map<ErrorCode, OperationRef[]>(ERROR_CODES.map((code) => [code, []]))
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue
      const codes = new Set(Object.values(operation.responses ?? {}).flatMap((response) => response['x-error-codes'] ?? []))
      for (const code of codes) byCode.get(code as ErrorCode)?.push({ method: method.toUpperCase(), path, operationId: operation.operationId, summary: operation.summary, tag: operation.tags?.[0] })
    }
  }
  return byCode
}

const RETRY_TEXT: Record<RetryAdvice, string> = {
  retryable: 'Retryable: the same request may succeed later.',
  retry_after_fix: 'Retry after fixing the request.',
  non_retryable: 'Not retryable: this request will not succeed.',
}

const PAGE_STYLE = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#fff;--panel:#f5f7fb;--line:#dde2ea;--accent:#0b5fff;--target:#fff6d6}
@media (prefers-color-scheme:dark){:root{--fg:#e7eaf0;--muted:#a3abbb;--bg:#12151b;--panel:#1b2029;--line:#2c3340;--accent:#7aa7ff;--target:#3a3420}}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0;line-height:1.5}
header{padding:1.5rem 2rem;border-bottom:1px solid var(--line)}
header h1{margin:0 0 .3rem;font-size:1.6rem}
header p{margin:.2rem 0;color:var(--muted)}
a{color:var(--accent)}
main{display:grid;grid-template-columns:20rem 1fr;gap:2rem;padding:1.5rem 2rem;max-width:80rem}
nav{position:sticky;top:1rem;align-self:start;max-height:calc(100vh - 2rem);overflow:auto;font-size:.85rem}
nav h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:1rem 0 .3rem}
nav ul{list-style:none;margin:0;padding:0}
nav li a{display:block;padding:.1rem .3rem;text-decoration:none;border-radius:4px;overflow-wrap:anywhere}
nav li a:hover{background:var(--panel)}
section.code{border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;margin:0 0 1rem;scroll-margin-top:1rem}
section.code:target{background:var(--target);border-color:var(--accent)}
section.code h3{margin:0 0 .5rem;font-size:1.1rem;display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
.status{font-size:.8rem;font-weight:600;padding:.1rem .5rem;border-radius:999px;background:var(--panel);border:1px solid var(--line)}
.advice{font-size:.8rem;padding:.1rem .5rem;border-radius:999px}
.advice.retryable{background:#d9f5e3;color:#0c5a2a}.advice.retry_after_fix{background:#fff1cc;color:#6b4d00}.advice.non_retryable{background:#fde0e0;color:#7a1616}
dl{margin:0;display:grid;grid-template-columns:7rem 1fr;gap:.3rem 1rem}
dt{color:var(--muted);font-weight:600}
dd{margin:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:var(--panel);padding:.05rem .3rem;border-radius:4px}
details summary{cursor:pointer;color:var(--muted)}
details ul{margin:.3rem 0 0;padding-left:1.2rem;font-size:.9rem}
pre{background:var(--panel);padding:.8rem;border-radius:6px;overflow-x:auto}
@media (max-width:50rem){main{grid-template-columns:1fr}nav{position:static;max-height:none}}
`

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The fixes are written with `code` spans: rendered as <code>, everything else escaped. */
function inlineMarkup(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>')
}

/** Scalar's address of an operation in the reference: #tag/{tag slug}/{METHOD}{path}. */
function referenceLink(operation: OperationRef): string {
  if (!operation.tag) return '/docs/'
  const slug = operation.tag.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ +/g, '-')
  return `/docs/#tag/${slug}/${operation.method}${operation.path}`
}

function operationsList(code: ErrorCode, operations: OperationRef[], total: number): string {
  if (operations.length === 0) {
    return '<dd>No operation of the document lists it: the server sends it before a request reaches an operation (an unknown route or method, oversized headers, a request that arrives too slowly).</dd>'
  }
  const items = operations
    .map((op) => `<li><a href="${referenceLink(op)}"><code>${op.method} ${escapeHtml(op.path)}</code></a>${op.summary ? ` — ${escapeHtml(op.summary)}` : ''}</li>`)
    .join('')
  const label = operations.length === total ? `Every operation (${total})` : `${operations.length} operation${operations.length === 1 ? '' : 's'}`
  return `<dd><details id="${code}-operations"><summary>${label}</summary><ul>${items}</ul></details></dd>`
}

function errorCataloguePage(byCode: Map<ErrorCode, OperationRef[]>, publicBaseUrl: string): string {
  const total = new Set([...byCode.values()].flat().map((op) => `${op.method} ${op.path}`)).size
  const statuses = [...new Set(ERROR_CODES.map((code) => ERROR_CATALOGUE[code].status))].sort((a, b) => a - b)
  const nav = statuses
    .map((status) => {
      const codes = ERROR_CODES.filter((code) => ERROR_CATALOGUE[code].status === status)
      return `<h2>${status}</h2><ul>${codes.map((code) => `<li><a href="#${code}">${code}</a></li>`).join('')}</ul>`
    })
    .join('')
  const sections = ERROR_CODES.map((code) => {
    const entry = ERROR_CATALOGUE[code]
    return (
      `<section class="code" id="${code}"><h3><a href="#${code}"><code>${code}</code></a><span class="status">HTTP ${entry.status}</span>` +
      `<span class="advice ${entry.retry_advice}" title="retry_advice">${entry.retry_advice}</span></h3><dl>` +
      `<dt>Meaning</dt><dd>${inlineMarkup(entry.title)}</dd>` +
      `<dt>How to fix</dt><dd class="fix">${inlineMarkup(ERROR_FIXES[code])}</dd>` +
      `<dt>Retry</dt><dd>${RETRY_TEXT[entry.retry_advice]}</dd>` +
      `<dt>Sent by</dt>${operationsList(code, byCode.get(code) ?? [], total)}` +
      `</dl></section>`
    )
  }).join('\n')
  const example = escapeHtml(
    JSON.stringify(
      { error: { code: 'PERMISSION_DENIED', message: 'This operation needs the permission booking.create.partner.', details: { required_permission: 'booking.create.partner' }, request_id: 'req_…', retry_advice: 'retry_after_fix', doc_url: `${publicBaseUrl}/docs/errors#PERMISSION_DENIED` } },
      null,
      2,
    ),
  )
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>Error codes — travoBooks API</title><link rel="icon" href="${FAVICON}"><style>${PAGE_STYLE}</style></head><body>` +
    `<header><h1>travoBooks API error codes</h1>` +
    `<p>Every error answers with one envelope; <code>error.code</code> is one of the codes below, and <code>error.doc_url</code> links to its entry here.</p>` +
    `<p><a href="/docs">API reference</a> · <a href="/docs/guides">Guides</a> · <a href="/v1/errors">Machine-readable catalogue (GET /v1/errors)</a></p></header>` +
    `<main><nav aria-label="Error codes by HTTP status">${nav}</nav><div>` +
    `<p>An error body looks like this (the External API at <code>/api/v1/external</code> sends the flat <code>{"code", "message", "details"}</code> instead):</p><pre>${example}</pre>` +
    `<p><code>retry_advice</code> says what a client should do: <code>retryable</code> — send the same request again later (honour <code>Retry-After</code>); ` +
    `<code>retry_after_fix</code> — change the request first; <code>non_retryable</code> — this request will not succeed. Quote <code>request_id</code> when you contact support.</p>` +
    `${sections}</div></main></body></html>`
  )
}
