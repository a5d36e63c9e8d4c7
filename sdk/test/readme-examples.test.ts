import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, TIMEOUT } from '../../test/helpers/processes.ts'
import { sdkServer } from './fixtures.ts'

/**
 * Every TypeScript example marked `<!-- sdk-example -->` (the line before its ```ts block) in the
 * root README, sdk/README.md and docs/*.md is a whole program: it is type-checked (strict) against
 * the built SDK exactly as a reader installs it (`from '@travobooks/sdk'`), then run with tsx
 * against a fresh demo server, with TVB_TOKEN and TVB_BASE_URL set, and must exit 0.
 */

interface Example {
  source: string
  line: number
  code: string
}

export function sdkExamples(markdown: string, source: string): Example[] {
  const lines = markdown.split('\n')
  const examples: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '<!-- sdk-example -->') continue
    let open = i + 1
    while (open < lines.length && lines[open]!.trim() === '') open++
    if (!/^```(ts|typescript)\s*$/.test(lines[open] ?? '')) throw new Error(`${source}:${i + 1}: <!-- sdk-example --> is not followed by a \`\`\`ts block`)
    const body: string[] = []
    let close = open + 1
    for (; close < lines.length && !/^```\s*$/.test(lines[close]!); close++) body.push(lines[close]!)
    examples.push({ source, line: open + 1, code: body.join('\n') + '\n' })
    i = close
  }
  return examples
}

function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs')
  const inDocs = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => join(docs, f)) : []
  return [join(ROOT, 'README.md'), join(ROOT, 'sdk/README.md'), ...inDocs.sort()].filter((f) => existsSync(f))
}

const examples = markdownFiles().flatMap((file) => sdkExamples(readFileSync(file, 'utf8'), relative(ROOT, file)))

interface Run {
  code: number
  output: string
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, timeout: 50_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
      done({ code, output: `${stdout}${stderr}` })
    })
  })
}

/** A project of one's own, outside the repository, that has the SDK installed (a link to sdk/). */
let project: string
beforeAll(async () => {
  const build = await run('npm', ['run', 'build', '-w', 'sdk'], ROOT)
  expect(build.code, build.output).toBe(0)
  project = mkdtempSync(join(tmpdir(), 'tvb-sdk-examples-'))
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-examples', private: true, type: 'module' }))
  mkdirSync(join(project, 'node_modules/@travobooks'), { recursive: true })
  mkdirSync(join(project, 'node_modules/@types'), { recursive: true })
  symlinkSync(join(ROOT, 'sdk'), join(project, 'node_modules/@travobooks/sdk'), 'dir')
  symlinkSync(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'), 'dir')
}, 120_000)
afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true })
})

const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs')

describe('SDK examples in the READMEs and guides', () => {
  it('finds the marked examples, at least the SDK README\'s', () => {
    expect(examples.filter((e) => e.source === 'sdk/README.md').length).toBeGreaterThanOrEqual(1)
    for (const example of examples) expect(example.code).toMatch(/from '@travobooks\/sdk'/)
  })

  it.each(examples.map((e) => [`${e.source}:${e.line}`, e] as const))('%s type-checks and runs against a fresh server', { timeout: TIMEOUT * 2 }, async (name, example) => {
    const file = `example-${name.replace(/[^A-Za-z0-9]+/g, '-')}.ts`
    writeFileSync(join(project, file), example.code)
    const tsconfig = `tsconfig-${file}.json`
    writeFileSync(
      join(project, tsconfig),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'], strict: true, noEmit: true, skipLibCheck: true },
        files: [file],
      }),
    )
    const typecheck = await run(process.execPath, [TSC, '-p', tsconfig], project)
    expect(typecheck.code, `tsc on ${name}:\n${typecheck.output}`).toBe(0)

    // The demo data (fixed ids, listings to find) is seeded only into an empty embedded database.
    const { server, token } = await sdkServer({ embedded: true })
    const ran = await run(process.execPath, [TSX, file], project, { TVB_TOKEN: token, TVB_BASE_URL: server.base })
    expect(ran.code, `${name} exited with ${ran.code}:\n${ran.output}`).toBe(0)
  })
})
