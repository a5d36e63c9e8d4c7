import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { READING_ORDER } from '../src/http/guides.ts'
import { testApp } from './helpers/harness.ts'
import { ROOT, TOKEN_LINE, freePort, freshDataDir, startServer, stop } from './helpers/processes.ts'

/**
 * Every shell example in docs/*.md runs as written (the house rule), against a fresh demo server
 * per guide, so the fixed demo ids (lst_00000000demx…01 …) hold. A guide's blocks run in file
 * order and share shell variables, as a reader pasting them into one terminal would. The only
 * change to a block is the base URL (http://localhost:3000 → this server's); the webhooks guide's
 * receiver port 4000 is moved to a free one as well, so parallel runs never collide.
 *
 * Conventions the guides follow (docs/README is the guides themselves):
 * - `<!-- not-run: reason -->` on the line before a block: not run (npm install, starting servers).
 * - `<!-- file: name -->` before a block: written to the shell's working directory under that
 *   name before the guide's blocks run (the webhook receiver).
 * - a comment line `# → text` shows what comes back: every piece of text between `…` must appear
 *   in the block's output, in order.
 *
 * The server always runs on an embedded PGlite (also when the suite runs on PostgreSQL): the
 * examples use the demo data, which only the first run of an empty data directory seeds.
 */

const DOCS = join(ROOT, 'docs')
const DOCS_BASE = 'http://localhost:3000'

interface Block {
  lang: string
  code: string
  line: number
  notRun: string | null
  file: string | null
}

export function blocksOf(markdown: string): Block[] {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!)
    if (!open) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
    let before = start - 1
    while (before >= 0 && lines[before]!.trim() === '') before--
    const marker = before >= 0 ? lines[before]!.trim() : ''
    blocks.push({
      lang: open[1] ?? '',
      code: body.join('\n'),
      line: start + 1,
      notRun: /^<!-- not-run: (.+) -->$/.exec(marker)?.[1] ?? null,
      file: /^<!-- file: ([\w.-]+) -->$/.exec(marker)?.[1] ?? null,
    })
  }
  return blocks
}

const isShell = (b: Block) => b.lang === 'sh' || b.lang === 'bash'

/** `# → …` lines: the fragments between ellipses, each to be found in the output after the previous one. */
export function expectedFragments(code: string): string[] {
  return code
    .split('\n')
    .map((l) => /^\s*# → (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined)
    .flatMap((l) => l.split('…').map((f) => f.trim()))
    .filter((f) => f.length > 0)
}

// Bash state carried from block to block: the variables a block set (not bash's own, not read-only).
const SAVE_STATE = `
__tvb_status=$?
for __v in $(compgen -v); do
  case "$__v" in BASH*|__*|_|PIPESTATUS|FUNCNAME|GROUPS|DIRSTACK|RANDOM|SRANDOM|LINENO|SECONDS|EPOCH*|HIST*|COMP*|OPTIND|OPTARG|PPID|UID|EUID|SHELLOPTS|SHLVL|PWD|OLDPWD|IFS|PS4) continue;; esac
  __decl=$(declare -p "$__v" 2>/dev/null) || continue
  [[ $__decl =~ ^declare\\ -[a-zA-Z-]*r ]] && continue
  printf '%s\\n' "$__decl"
done > "$TVB_GUIDE_STATE"
exit $__tvb_status`

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('close', (code) => done({ code: code ?? -1, output }))
  })
}

const guides = readdirSync(DOCS)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((file) => ({ file, blocks: blocksOf(readFileSync(join(DOCS, file), 'utf8')) }))

/** The README's examples are held to the same rule: they run on a fresh demo server too. */
const documents = [...guides.map((g) => ({ ...g, label: g.file })), { file: 'README.md', label: '../README.md', blocks: blocksOf(readFileSync(join(ROOT, 'README.md'), 'utf8')) }]

const workDirs: string[] = []
afterAll(() => {
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true })
})

const h = await testApp()

describe('GET /docs/guides', () => {
  it('lists every guide in docs/, in reading order, beside the API reference and the error codes', async () => {
    const files = guides.map((g) => g.file.slice(0, -3))
    // the reading path names only guides that exist, and every guide has its place on it
    expect([...READING_ORDER].sort()).toEqual([...files].sort())
    const res = await h.call(null, 'GET', '/docs/guides')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('text/html')
    const listed = [...res.body.matchAll(/<li><a href="\/docs\/guides\/([a-z0-9-]+)">/g)].map((m) => m[1])
    // the sidebar's list, then the index's: both in reading order
    expect(listed).toEqual([...READING_ORDER, ...READING_ORDER])
    expect(res.body).toContain('href="/docs"')
    expect(res.body).toContain('href="/docs/errors"')
  })

  it('serves each guide with the sidebar, the next guide, and only links to guides that exist', async () => {
    for (const [at, name] of READING_ORDER.entries()) {
      const res = await h.call(null, 'GET', `/docs/guides/${name}`)
      expect(res.statusCode, name).toBe(200)
      expect(res.body, name).toContain('aria-current="page"')
      expect(res.body, name).toContain('href="/docs/errors"')
      const next = READING_ORDER[at + 1]
      if (next) expect(res.body, name).toMatch(new RegExp(`<a href="/docs/guides/${next}">[^<]+</a> →`))
      for (const [, target] of res.body.matchAll(/href="\/docs\/guides\/([^"#]+)/g)) {
        expect(READING_ORDER as readonly string[], `${name} links to /docs/guides/${target}`).toContain(target)
      }
    }
    const missing = await h.call(null, 'GET', '/docs/guides/nope')
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.details.guides).toEqual([...READING_ORDER])
  })
})

describe('the guides in docs/', () => {
  it('mark the examples that do not run, with a reason, and keep them few', () => {
    for (const { file, blocks } of documents) {
      const shell = blocks.filter(isShell)
      const skipped = shell.filter((b) => b.notRun)
      expect(skipped.length, `${file}: more shell blocks are not run than run`).toBeLessThanOrEqual(Math.max(1, shell.length - skipped.length))
    }
  })

  for (const { file, label, blocks } of documents) {
    const runnable = blocks.filter((b) => isShell(b) && !b.notRun)
    it.skipIf(runnable.length === 0)(`${label}: every shell example runs as written`, { timeout: 180_000 }, async () => {
      const server = await startServer(freshDataDir(), { embedded: true, env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } })
      const receiverPort = await freePort()
      const adapt = (text: string) => {
        const moved = text.replaceAll(DOCS_BASE, `http://localhost:${server.port}`)
        return file === 'webhooks.md' ? moved.replace(/\b4000\b/g, String(receiverPort)) : moved
      }
      const token = TOKEN_LINE.exec(server.output())?.[1]
      expect(token, server.output()).toBeDefined()

      const cwd = mkdtempSync(join(tmpdir(), 'tvb-guide-'))
      workDirs.push(cwd)
      // what "npm install standardwebhooks" gives a reader: the receiver's import resolves
      symlinkSync(join(ROOT, 'node_modules'), join(cwd, 'node_modules'), 'dir')
      for (const b of blocks.filter((x) => x.file)) writeFileSync(join(cwd, b.file!), adapt(b.code))
      const state = join(cwd, '.state')
      writeFileSync(state, '')
      const env: NodeJS.ProcessEnv = { ...process.env, TVB_TOKEN: token!, TVB_GUIDE_STATE: state }
      delete env.TVB_BASE_URL

      try {
        for (const block of runnable) {
          const code = adapt(block.code)
          const script = `set -euo pipefail\nsource "$TVB_GUIDE_STATE"\ntrap '${SAVE_STATE.replaceAll("'", "'\\''")}' EXIT\n${code}\n`
          const { code: status, output } = await runBash(script, cwd, env)
          const where = `${file}:${block.line}\n${code}\n--- output ---\n${output}`
          expect(status, where).toBe(0)
          let from = 0
          for (const fragment of expectedFragments(code)) {
            const at = output.indexOf(fragment, from)
            expect(at, `${where}\n--- expected, after offset ${from} ---\n${fragment}`).toBeGreaterThanOrEqual(0)
            from = at + fragment.length
          }
        }
      } finally {
        // a receiver a block started in the background must not outlive the guide
        await runBash('[ -n "${RECEIVER_PID:-}" ] && kill "$RECEIVER_PID" 2>/dev/null; true', cwd, { ...env, ...stateEnv(state) })
        await stop(server)
      }
    })
  }
})

/** RECEIVER_PID from a guide's saved shell state, if a block set it. */
function stateEnv(state: string): NodeJS.ProcessEnv {
  const pid = /declare -\S+ RECEIVER_PID="(\d+)"/.exec(readFileSync(state, 'utf8'))?.[1]
  return pid ? { RECEIVER_PID: pid } : {}
}
