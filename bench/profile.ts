/**
 * Where a server's CPU time went: the self time in a V8 .cpuprofile (node --cpu-prof, or
 * BENCH_CPU_PROF=<dir> npm run bench -- …), grouped by package (node_modules/<name>), by file of
 * ours (dist/…), by Node's internals and by V8 (GC, program), then the top functions.
 *
 *   npx tsx bench/profile.ts <file.cpuprofile> [--top 25] [--skip-ms 0] [--requests N]
 *
 * --skip-ms leaves out the first milliseconds (start-up: module loading, schema compilation);
 * --requests prints the time per request too (µs/req) for a run of N requests.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ROOT } from './lib.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface SummaryOptions {
  top?: number
  skipMs?: number
  requests?: number
}

/** The package, file of ours, or V8 pseudo-frame a frame belongs to. */
export function groupOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/')
    return first!.startsWith('@') ? `${first}/${second}` : first!
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  const local = url.replace(/^file:\/\//, '')
  return local.startsWith(ROOT) ? local.slice(ROOT.length) : local
}

function table(totals: Map<string, number>, all: number, options: SummaryOptions): string[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, options.top ?? 25)
    .map(([name, us]) => {
      const perRequest = options.requests ? `${(us / options.requests).toFixed(1).padStart(7)} µs/req ` : ''
      return `${(us / 1000).toFixed(0).padStart(8)} ms ${((us / all) * 100).toFixed(1).padStart(5)} % ${perRequest} ${name}`
    })
}

export function summarise(profile: Profile, options: SummaryOptions = {}): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const byGroup = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let all = 0
  let at = 0
  // time delta i is the time up to sample i: charged to the frame sampled
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    at += us
    if (at < (options.skipMs ?? 0) * 1000) return
    const node = byId.get(id)!
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === '(idle)') return
    all += us
    const group = groupOf(url, functionName)
    byGroup.set(group, (byGroup.get(group) ?? 0) + us)
    const fn = `${functionName || '(anonymous)'}  ${group}${url ? `:${lineNumber + 1}` : ''}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
  })
  const busy = `busy (not idle): ${(all / 1000).toFixed(0)} ms${options.requests ? `, ${(all / options.requests).toFixed(0)} µs/req` : ''}`
  return [busy, '', 'self time by package / file:', ...table(byGroup, all, options), '', 'top functions by self time:', ...table(byFunction, all, options)].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, 'skip-ms': { type: 'string' }, requests: { type: 'string' } } })
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v))
  if (positionals.length !== 1) {
    console.error('usage: npx tsx bench/profile.ts <file.cpuprofile> [--top 25] [--skip-ms 0] [--requests N]')
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile
  console.log(summarise(profile, { top: number(values.top), skipMs: number(values['skip-ms']), requests: number(values.requests) }))
}
