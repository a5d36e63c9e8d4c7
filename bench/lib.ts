import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

export const ROOT = new URL('..', import.meta.url).pathname

export interface Started {
  child: ChildProcess
  port: number
  url: string
  stdout: () => string
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): number
  stop(): Promise<number | null>
}

let nextPort = 41000 + Math.floor(Math.random() * 2000)

export async function startProcess(command: string, args: string[], env: Record<string, string>, readyPath = '/healthz', timeoutMs = 60_000, logsTo: 'pipe' | 'ignore' = 'pipe'): Promise<Started> {
  const port = nextPort++
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env }, stdio: ['ignore', logsTo, 'pipe'], detached: true })
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    if (out.length < 100_000) out += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    if (out.length < 100_000) out += chunk.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited early:\n${out}`)
    try {
      const res = await fetch(url + readyPath)
      if (res.status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url}${readyPath}:\n${out}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return {
    child,
    port,
    url,
    stdout: () => out,
    peakRssMiB() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
        return Math.round(kb / 1024)
      } catch {
        return NaN
      }
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once('exit', (code) => resolve(code))
        // the whole process group: `npm start` runs the server as a grandchild
        process.kill(-child.pid!, 'SIGTERM')
      }),
  }
}

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  non2xx: number
  errors: number
  requests: number
}

export async function load(options: { url: string; headers?: Record<string, string>; method?: 'GET' | 'POST'; body?: string; connections?: number; duration?: number; requests?: autocannon.Request[] }): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 32,
    duration: options.duration ?? 8,
    headers: options.headers,
    method: options.method ?? 'GET',
    body: options.body,
    requests: options.requests,
  })
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    requests: result.requests.total,
  }
}

export async function warm(url: string, headers?: Record<string, string>): Promise<void> {
  await autocannon({ url, connections: 16, duration: 2, headers })
}

/** A counter's value from a Prometheus text exposition. */
export async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
  return line ? Number(line.split(' ').pop()) : 0
}

export function ratio(ours: number, theirs: number): string {
  return theirs === 0 ? 'n/a' : (ours / theirs).toFixed(2)
}

export function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join(' ')
}
