import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync } from 'fastify'
import { Marked } from 'marked'
import { ApiError } from '../platform/errors.ts'

/** docs/ at the repository's root: two levels up from src/http/ and from dist/bundle/ alike. */
const DOCS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs')

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5}' +
  'pre{background:#f4f4f4;padding:.8rem;overflow-x:auto}code{font-size:.9em}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}'

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The guides: docs/<name>.md, rendered once at start (they ship with the server and never change under it). */
function loadGuides(): Map<string, { title: string; html: string }> {
  const marked = new Marked({ gfm: true })
  const guides = new Map<string, { title: string; html: string }>()
  let files: string[]
  try {
    files = readdirSync(DOCS_DIR).filter((f) => /^[a-z0-9-]+\.md$/.test(f))
  } catch {
    return guides
  }
  for (const file of files.sort()) {
    const markdown = readFileSync(path.join(DOCS_DIR, file), 'utf8')
    const title = (/^# (.+)$/m.exec(markdown)?.[1] ?? file.slice(0, -3)).replace(/`/g, '')
    guides.set(file.slice(0, -3), { title, html: marked.parse(markdown, { async: false }) })
  }
  return guides
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} — travoBooks API</title><style>${STYLE}</style></head><body>${body}</body></html>`
}

/** GET /docs/guides and /docs/guides/{name}: the partner guides (migration to v2, sandbox, test clock …) as HTML. */
export const guideRoutes: FastifyPluginAsync = async (app) => {
  const guides = loadGuides()
  const html = { public: true, produces: ['text/html'] }
  // a function: the document's machinery adds each route's error responses to its own object
  const htmlResponse = () => ({ 200: { description: 'HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } })

  app.get('/docs/guides', { config: html, schema: { operationId: 'listGuides', summary: 'The guides for partners', tags: ['Service'], security: [], response: htmlResponse() } }, async (_request, reply) => {
    const items = [...guides].map(([name, g]) => `<li><a href="/docs/guides/${name}">${escapeHtml(g.title)}</a></li>`).join('')
    return reply.type('text/html; charset=utf-8').send(page('Guides', `<h1>Guides</h1><ul>${items}</ul><p>API reference: <a href="/docs">/docs</a>. Error codes: <a href="/docs/errors">/docs/errors</a>.</p>`))
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
      const guide = guides.get(request.params.name)
      if (!guide) throw new ApiError('NOT_FOUND', `No guide named ${request.params.name}; GET /docs/guides lists them.`, { guides: [...guides.keys()] })
      return reply.type('text/html; charset=utf-8').send(page(guide.title, `<p><a href="/docs/guides">All guides</a></p>${guide.html}`))
    },
  )
}
