import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, recordPage } from './helpers/browser.ts'
import type { PageLog } from './helpers/browser.ts'
import { freshDataDir, startServer, stop, tokenFor } from './helpers/processes.ts'
import type { Server } from './helpers/processes.ts'

/**
 * The documentation as a partner's browser gets it: a real server process (as npm start runs it)
 * and a real headless Chromium. The reference at /docs renders without a token, asks nothing of
 * any host but this server (no CDN, no web fonts, no telemetry), and its "Test Request" sends the
 * token the reader entered; /docs/errors and /docs/guides render. Chromium missing is a failure
 * (see helpers/browser.ts), not a skip.
 */
const LOCAL_HOSTS = ['localhost', '127.0.0.1']
const BROWSER_TIMEOUT = 150_000

interface OpenApiDoc {
  info: { title: string }
  servers: { url: string }[]
  tags: { name: string }[]
  paths: Record<string, Record<string, { operationId?: string; summary?: string; tags?: string[]; 'x-required-permissions'?: string[] }>>
}

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
}, 60_000)
afterAll(async () => {
  await browser?.close()
})

/** A server on a fresh data dir, addressed as localhost: the origin its document names, so "Test Request" is same-origin. */
async function serve(): Promise<{ server: Server; base: string; token: string; document: OpenApiDoc }> {
  const server = await startServer(freshDataDir())
  const token = await tokenFor(server)
  const base = `http://localhost:${server.port}`
  const document = (await (await fetch(`${server.base}/openapi.json`)).json()) as OpenApiDoc
  return { server, base, token, document }
}

async function openPage(): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  return { page, log: recordPage(page, LOCAL_HOSTS) }
}

function operation(document: OpenApiDoc, operationId: string): { method: string; path: string; summary: string; tag: string; permissions: string[] } {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (op.operationId === operationId) return { method: method.toUpperCase(), path, summary: op.summary ?? '', tag: op.tags?.[0] ?? '', permissions: op['x-required-permissions'] ?? [] }
    }
  }
  throw new Error(`no operation ${operationId} in the document`)
}

function startingWith(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)
}

/** The reference's element for an operation: Scalar's section id ends with tag/{tag slug}/{METHOD}{path}. */
function sectionOf(page: Page, op: { method: string; path: string; tag: string }) {
  const slug = op.tag.toLowerCase().replace(/[^a-z0-9 -]/g, '').trim().replace(/ +/g, '-')
  return page.locator(`section[id$="tag/${slug}/${op.method}${op.path}"]`)
}

describe('the documentation in headless Chromium', () => {
  it('the page log sees a request to another host, and a console error (what the checks below rely on)', async () => {
    const { page, log } = await openPage()
    // nothing may actually leave this machine: the request is recorded, then refused
    await page.route('**/*', (route) => (LOCAL_HOSTS.includes(new URL(route.request().url()).hostname) ? route.continue() : route.abort()))
    await page.setContent('<img src="https://fonts.example.net/font.png"><script>console.error("broken")</script>')
    await expect.poll(() => log.foreign()).toEqual(['https://fonts.example.net/font.png'])
    expect(log.errors.some((e) => e.includes('broken'))).toBe(true)
    await page.close()
  })

  it(
    '/docs renders without a token, from this server only: title, tags, an operation with its permission and code samples',
    async () => {
      const { server, base, document } = await serve()
      expect(document.servers[0]!.url).toBe(base)
      const { page, log } = await openPage()
      await page.goto(`${base}/docs`, { waitUntil: 'networkidle' })
      expect(await page.title()).toBe('travoBooks API reference')
      await expect.poll(() => page.getByRole('heading', { name: document.info.title }).first().isVisible(), { timeout: 15_000 }).toBe(true)

      // every tag with operations is in the sidebar
      const used = new Set(Object.values(document.paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags ?? [])))
      const tags = document.tags.map((t) => t.name).filter((name) => used.has(name))
      expect(tags.length).toBeGreaterThan(5)
      for (const tag of tags) expect(await page.getByRole('link', { name: tag, exact: true }).count(), tag).toBeGreaterThan(0)

      // the links beside the description lead to the guides and the error catalogue
      expect(await page.locator('a[href="/docs/guides"]').count()).toBeGreaterThan(0)
      expect(await page.locator('a[href="/docs/errors"]').count()).toBeGreaterThan(0)

      // "Create a booking": opened from the sidebar, with the permission it needs and both code samples
      const create = operation(document, 'createBooking')
      await page.getByRole('link', { name: create.tag, exact: true }).first().click()
      await page.getByRole('link', { name: startingWith(create.summary) }).first().click()
      const section = sectionOf(page, create)
      await expect.poll(() => section.isVisible(), { timeout: 15_000 }).toBe(true)
      await expect.poll(() => section.getByRole('heading', { name: create.summary }).first().isVisible()).toBe(true)
      expect(create.permissions.length).toBeGreaterThan(0)
      for (const permission of create.permissions) expect(await section.innerText()).toContain(permission)
      const example = section.locator('.examples')
      await expect.poll(() => example.innerText()).toContain('-H "Authorization: Bearer $TVB_TOKEN"')
      expect(await example.innerText()).toContain(`curl -s -X POST "${base}${create.path}"`)

      const screenshot = await page.screenshot({ fullPage: false })
      // a blank page compresses to a few KiB; a rendered reference (text, sidebar, code) to far more
      expect(screenshot.byteLength).toBeGreaterThan(40_000)
      const colours = await page.evaluate(async (png: string) => {
        const image = new Image()
        image.src = `data:image/png;base64,${png}`
        await image.decode()
        const canvas = window.document.createElement('canvas')
        canvas.width = image.width
        canvas.height = image.height
        const context = canvas.getContext('2d')!
        context.drawImage(image, 0, 0)
        const { data } = context.getImageData(0, 0, image.width, image.height)
        const seen = new Set<number>()
        for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!)
        return seen.size
      }, screenshot.toString('base64'))
      expect(colours).toBeGreaterThan(20)

      expect(log.foreign()).toEqual([])
      expect(log.errors).toEqual([])
      // the script and the document came from this server, and nothing else was needed
      expect(log.requests.some((url) => url === `${base}/docs/js/scalar.js`)).toBe(true)
      await page.close()
      await stop(server)
    },
    BROWSER_TIMEOUT,
  )

  it(
    '"Test Request" with the token entered: GET /v1/me answers 200 in the reference\'s client',
    async () => {
      const { server, base, token, document } = await serve()
      const { page, log } = await openPage()
      await page.goto(`${base}/docs`, { waitUntil: 'networkidle' })
      // the bearer token field of the reference's authentication panel
      const field = page.getByPlaceholder('Token').first()
      await field.waitFor({ state: 'visible', timeout: 15_000 })
      await field.fill(token)

      const me = operation(document, 'getMe')
      await page.getByRole('link', { name: me.tag, exact: true }).first().click()
      await page.getByRole('link', { name: startingWith(me.summary) }).first().click()
      const section = sectionOf(page, me)
      await expect.poll(() => section.isVisible(), { timeout: 15_000 }).toBe(true)
      await section.getByRole('button', { name: /Test Request/ }).first().click()

      const send = page.getByRole('button', { name: /^Send/ }).first()
      await send.waitFor({ state: 'visible', timeout: 15_000 })
      const [response] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/me' && r.request().method() === 'GET'), send.click()])
      expect(response.status()).toBe(200)
      expect(response.request().headers().authorization).toBe(`Bearer ${token}`)
      // and the client shows it
      await expect.poll(() => page.getByText('200 OK').first().isVisible(), { timeout: 10_000 }).toBe(true)
      const body = (await response.json()) as { mode?: string }
      expect(body.mode).toBe('test')

      expect(log.foreign()).toEqual([])
      expect(log.errors).toEqual([])
      await page.close()
      await stop(server)
    },
    BROWSER_TIMEOUT,
  )

  it(
    '/docs/errors shows each code\'s fix at its anchor, and /docs/guides renders',
    async () => {
      const { server, base } = await serve()
      const { page, log } = await openPage()
      await page.goto(`${base}/docs/errors#PERMISSION_DENIED`, { waitUntil: 'networkidle' })
      expect(await page.title()).toMatch(/error codes/i)
      const entry = page.locator('section#PERMISSION_DENIED')
      expect(await entry.isVisible()).toBe(true)
      // the anchor is the target: scrolled into view and highlighted
      expect(await entry.evaluate((el) => el.matches(':target'))).toBe(true)
      const box = await entry.boundingBox()
      expect(box!.y).toBeLessThan(1000)
      const fix = await entry.locator('dd.fix').innerText()
      expect(fix).toContain('details.required_permission')
      expect(await entry.innerText()).toContain('HTTP 403')
      // the operations that can send it, each a link into the reference
      await entry.locator('details summary').click()
      const links = entry.locator('details li a')
      expect(await links.count()).toBeGreaterThan(10)
      expect(await links.first().getAttribute('href')).toMatch(/^\/docs\/#tag\//)

      await page.goto(`${base}/docs/guides`, { waitUntil: 'networkidle' })
      expect(await page.getByRole('heading', { name: 'Guides', level: 1 }).isVisible()).toBe(true)
      const guides = page.locator('a[href^="/docs/guides/"]')
      expect(await guides.count()).toBeGreaterThan(0)
      await guides.first().click()
      await page.waitForLoadState('networkidle')
      expect(await page.locator('h1').first().innerText()).not.toBe('')

      expect(log.foreign()).toEqual([])
      expect(log.errors).toEqual([])
      await page.close()
      await stop(server)
    },
    BROWSER_TIMEOUT,
  )
})
