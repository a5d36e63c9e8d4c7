import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import type { FuzzCase } from './generators.ts'
import type { Operation, Problem } from './openapi-ops.ts'
import { preview } from './openapi-ops.ts'

/**
 * One deduplicated failure: an operation and a kind of problem, the input classes that showed it,
 * and the smallest reproduction seen.
 */
export interface Failure {
  operation: string
  problem: string
  inputClasses: Set<string>
  count: number
  repro: string
  reproSize: number
}

/** Collects failures, deduplicated by operation × problem kind. */
export class FailureLog {
  readonly byKey = new Map<string, Failure>()
  requests = 0

  record(op: Operation, c: FuzzCase, res: LightMyRequestResponse | undefined, problems: Problem[], token: string | null): void {
    // the smallest request that shows the problem is the reproduction; a valid one beats any other
    const size = (c.label === 'valid' ? 0 : 1_000_000) + c.url.length + (c.payload?.length ?? 0)
    for (const p of problems) {
      const key = `${op.key}|${p.kind}`
      const existing = this.byKey.get(key)
      if (existing) {
        existing.count++
        existing.inputClasses.add(c.label)
        if (size < existing.reproSize) {
          existing.repro = reproduction(c, res, p, token)
          existing.reproSize = size
        }
        continue
      }
      this.byKey.set(key, { operation: op.key, problem: p.kind, inputClasses: new Set([c.label]), count: 1, repro: reproduction(c, res, p, token), reproSize: size })
    }
  }

  for(op: Operation): Failure[] {
    return [...this.byKey.values()].filter((f) => f.operation === op.key)
  }

  all(): Failure[] {
    return [...this.byKey.values()]
  }
}

export function classesOf(f: Failure, max = 6): string {
  const list = [...f.inputClasses].sort((a, b) => (a === 'valid' ? -1 : b === 'valid' ? 1 : a.localeCompare(b)))
  return list.length > max ? `${list.slice(0, max).join(', ')} … (+${list.length - max})` : list.join(', ')
}

export function describeFailure(f: Failure): string {
  return `${f.problem} (×${f.count}; inputs: ${classesOf(f)})\n${f.repro}`
}

export function reproduction(c: FuzzCase, res: LightMyRequestResponse | undefined, p: Problem, token: string | null): string {
  const headers = Object.entries(c.headers)
    .map(([k, v]) => `${k}: ${preview(token ? v.split(token).join('<token>') : v, 120)}`)
    .join(' | ')
  return [
    `  [${c.label}] ${c.method} ${preview(c.url, 300)}`,
    `  headers: ${headers || '(none)'}`,
    `  body: ${preview(c.payload)}`,
    res ? `  → ${res.statusCode} ${res.headers['content-type'] ?? ''} ${preview(res.body)}` : '  → (no response)',
    `  problem: ${p.kind}${p.detail ? ` — ${preview(p.detail, 300)}` : ''}`,
  ].join('\n')
}

export function injectOptions(c: FuzzCase): InjectOptions {
  return { method: c.method as InjectOptions['method'], url: c.url, headers: c.headers, ...(c.payload !== undefined ? { payload: c.payload } : {}) }
}

/** Groups failures for printing: problem kind → operations (with the input classes that showed it). */
export function summarize(failures: Failure[]): string {
  const byProblem = new Map<string, Failure[]>()
  for (const f of failures) byProblem.set(f.problem, [...(byProblem.get(f.problem) ?? []), f])
  const lines: string[] = []
  for (const [problem, list] of [...byProblem.entries()].sort()) {
    lines.push(`• ${problem}`)
    for (const f of list) lines.push(`    ${f.operation}  ← ${classesOf(f, 4)}`)
  }
  return lines.join('\n')
}
