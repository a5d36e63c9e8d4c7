import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import type { Browser, ConsoleMessage, Page, Request } from 'playwright-core'

/**
 * A real headless Chromium for tests of what a browser renders: Debian's package (apt-get install
 * chromium), driven by playwright-core, which brings no browser of its own. CHROMIUM_PATH points
 * elsewhere. A missing browser fails the test that needs it, with how to install one: a skipped
 * browser test would pass a CI that never renders the docs.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage']

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: the docs browser tests need one. Install it (Debian/Ubuntu: apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary.`)
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS })
}

export interface PageLog {
  /** Every URL the page requested (documents, scripts, styles, fonts, images, fetches). */
  requests: string[]
  /** Console errors and uncaught exceptions. */
  errors: string[]
  /** Requests to anything but the given origins' hosts. */
  foreign(): string[]
}

/** Records what a page asks of the network and what it complains about, from before its first load. */
export function recordPage(page: Page, allowedHosts: readonly string[]): PageLog {
  const log: PageLog = {
    requests: [],
    errors: [],
    foreign: () =>
      log.requests.filter((url) => {
        const { protocol, hostname } = new URL(url)
        // data: and blob: URLs never leave the browser
        if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return false
        return !allowedHosts.includes(hostname)
      }),
  }
  page.on('request', (request: Request) => log.requests.push(request.url()))
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') log.errors.push(`console: ${message.text()} (${message.location().url})`)
  })
  page.on('pageerror', (error: Error) => log.errors.push(`uncaught: ${error.message}`))
  return log
}
