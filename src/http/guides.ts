import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync } from 'fastify'
import { Marked } from 'marked'
import type { Token, Tokens } from 'marked'
import { ApiError } from '../platform/errors.ts'
import { FAVICON } from './reference.ts'

/** docs/ at the repository's root: two levels up from src/http/ and from dist/bundle/ alike. */
const DOCS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs')

/**
 * The reading path: a partner new to the API reads the guides in this order, from a first call to
 * the details that matter once an integration is live; each with the line the index shows. A guide
 * not named here comes after these, by name, so a new file in docs/ is served even before it gets
 * its place.
 */
const READING_PATH = [
  { name: 'getting-started', summary: 'Run the API with demo data, make your first calls, and hold and confirm a booking, with curl and with the TypeScript SDK.' },
  { name: 'tokens-and-permissions', summary: 'Tokens for scripts and colleagues, roles and permissions, scopes, test and live mode, rotation and revocation.' },
  { name: 'errors', summary: 'The one error shape, what retry_advice tells you to do, Retry-After and X-Request-Id.' },
  { name: 'pagination', summary: 'Cursor pages, limit, filters, sort and fields; page numbers on the External API.' },
  { name: 'idempotency', summary: 'Idempotency-Key: retry a POST without booking or paying twice.' },
  { name: 'rate-limits', summary: 'The buckets, the headers that tell you where you stand, and what to do on a 429.' },
  { name: 'webhooks', summary: 'Events pushed to your endpoint, verifying their signatures in Node, Python and PHP, retries and recovery.' },
  { name: 'sandbox', summary: 'Test mode, mock answers and magic values that always fail the same way.' },
  { name: 'test-clock', summary: 'Move your test data\'s time forward: lapse a hold, make a retry fall due.' },
  { name: 'versions', summary: 'What a new version means, and how a deprecation and its sunset reach you.' },
  { name: 'migrating-to-v2', summary: 'Bookings on /v2: what changed, field by field, and a checklist.' },
  { name: 'external-api', summary: 'The page-numbered integration surface at /api/v1/external: filters, pages and flat errors.' },
] as const

export const READING_ORDER = READING_PATH.map((g) => g.name)

interface Guide {
  name: string
  title: string
  /** The index's one line about it (empty for a guide not on the reading path yet). */
  summary: string
  html: string
}

const STYLE =
  'body{font-family:system-ui,sans-serif;line-height:1.55;margin:0;color:#1d1d1f}' +
  '.layout{display:grid;grid-template-columns:15rem minmax(0,50rem);gap:2.5rem;max-width:70rem;margin:0 auto;padding:1.5rem 1rem}' +
  'nav{position:sticky;top:1rem;align-self:start;font-size:.92rem}nav ol,nav ul{padding-left:1.2rem;margin:.3rem 0 1rem}nav li{margin:.25rem 0}' +
  'nav .here{font-weight:600}nav h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:#666;margin:1rem 0 .2rem}' +
  'a{color:#0b5cad}pre{background:#f4f4f4;padding:.8rem;overflow-x:auto;border-radius:4px}code{font-size:.9em}' +
  'table{border-collapse:collapse;display:block;overflow-x:auto}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}' +
  '.pager{display:flex;justify-content:space-between;gap:1rem;margin-top:3rem;padding-top:1rem;border-top:1px solid #ddd}' +
  '.guides li{margin:.6rem 0}.guides p{margin:.1rem 0;color:#444}' +
  '@media (max-width:50rem){.layout{grid-template-columns:1fr}nav{position:static}}'

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** An anchor id for a heading: "Over the limit: `429`" → "over-the-limit-429". */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/&#?\w+;/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-|-$/g, '')
}

/** A heading's markdown as plain text: code ticks and emphasis dropped. */
function plainText(markdown: string): string {
  return markdown.replace(/`|\*\*/g, '').replace(/\s+/g, ' ').trim()
}

function byReadingOrder(a: string, b: string): number {
  const rank = (name: string) => {
    const at = (READING_ORDER as string[]).indexOf(name)
    return at === -1 ? READING_ORDER.length : at
  }
  return rank(a) - rank(b) || a.localeCompare(b)
}

/** The guides: docs/<name>.md, rendered once at start (they ship with the server and never change under it). */
function loadGuides(): Guide[] {
  const marked = new Marked({
    gfm: true,
    renderer: {
      // headings get ids, so a section of a guide can be linked to (/docs/guides/errors#retry-after)
      heading({ tokens, depth }) {
        const inner = this.parser.parseInline(tokens)
        return `<h${depth} id="${slug(inner)}">${inner}</h${depth}>\n`
      },
    },
  })
  let files: string[]
  try {
    files = readdirSync(DOCS_DIR).filter((f) => /^[a-z0-9-]+\.md$/.test(f))
  } catch {
    return []
  }
  return files
    .map((file) => file.slice(0, -3))
    .sort(byReadingOrder)
    .map((name) => {
      const markdown = readFileSync(path.join(DOCS_DIR, `${name}.md`), 'utf8')
      const tokens: Token[] = marked.lexer(markdown)
      const heading = tokens.find((t): t is Tokens.Heading => t.type === 'heading' && t.depth === 1)
      return {
        name,
        title: heading ? plainText(heading.text) : name,
        summary: READING_PATH.find((g) => g.name === name)?.summary ?? '',
        html: marked.parser(tokens),
      }
    })
}

/** The sidebar: every guide in reading order, then the reference pages. */
function nav(guides: Guide[], current: string | null): string {
  const items = guides
    .map((g) => (g.name === current ? `<li class="here" aria-current="page">${escapeHtml(g.title)}</li>` : `<li><a href="/docs/guides/${g.name}">${escapeHtml(g.title)}</a></li>`))
    .join('')
  return (
    `<nav aria-label="Guides"><h2>Guides</h2><p>${current === null ? '<strong>All guides</strong>' : '<a href="/docs/guides">All guides</a>'}</p><ol>${items}</ol>` +
    '<h2>Reference</h2><ul><li><a href="/docs">API reference</a></li><li><a href="/docs/errors">Error codes</a></li><li><a href="/openapi.json">OpenAPI document</a></li></ul></nav>'
  )
}

function page(guides: Guide[], current: string | null, title: string, main: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)} — travoBooks API</title><link rel="icon" href="${FAVICON}"><style>${STYLE}</style></head>` +
    `<body><div class="layout">${nav(guides, current)}<main>${main}</main></div></body></html>`
  )
}

/** Previous and next guide on the reading path. */
function pager(guides: Guide[], at: number): string {
  const previous = guides[at - 1]
  const next = guides[at + 1]
  return (
    `<div class="pager"><span>${previous ? `← <a href="/docs/guides/${previous.name}">${escapeHtml(previous.title)}</a>` : ''}</span>` +
    `<span>${next ? `<a href="/docs/guides/${next.name}">${escapeHtml(next.title)}</a> →` : ''}</span></div>`
  )
}

/** GET /docs/guides and /docs/guides/{name}: the partner guides, in reading order, as HTML. */
export const guideRoutes: FastifyPluginAsync = async (app) => {
  const guides = loadGuides()
  const html = { public: true, produces: ['text/html'] }
  // a function: the document's machinery adds each route's error responses to its own object
  const htmlResponse = () => ({ 200: { description: 'HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } })

  app.get('/docs/guides', { config: html, schema: { operationId: 'listGuides', summary: 'The guides for partners', tags: ['Service'], security: [], response: htmlResponse() } }, async (_request, reply) => {
    const items = guides
      .map((g) => `<li><a href="/docs/guides/${g.name}">${escapeHtml(g.title)}</a>${g.summary ? `<p>${escapeHtml(g.summary)}</p>` : ''}</li>`)
      .join('')
    const main =
      '<h1>travoBooks API guides</h1>' +
      '<p>Written to be read in this order: start with the first, and every example runs as written against <code>npm start</code> on your machine.</p>' +
      `<ol class="guides">${items}</ol>` +
      '<p>Every operation, with its parameters, permissions and error codes: the <a href="/docs">API reference</a>. Every error code: <a href="/docs/errors">/docs/errors</a>.</p>'
    return reply.type('text/html; charset=utf-8').send(page(guides, null, 'Guides', main))
  })

  app.get<{ Params: { name: string } }>(
    '/docs/guides/:name',
    {
      config: html,
      schema: {
        operationId: 'getGuide',
        summary: 'A guide for partners',
        tags: ['Service'],
        security: [],
        params: { type: 'object', properties: { name: { type: 'string', maxLength: 100 } }, required: ['name'] },
        response: htmlResponse(),
      },
    },
    async (request, reply) => {
      const at = guides.findIndex((g) => g.name === request.params.name)
      const guide = guides[at]
      if (!guide) throw new ApiError('NOT_FOUND', `No guide named ${request.params.name}; GET /docs/guides lists them.`, { guides: guides.map((g) => g.name) })
      return reply.type('text/html; charset=utf-8').send(page(guides, guide.name, guide.title, guide.html + pager(guides, at)))
    },
  )
}
