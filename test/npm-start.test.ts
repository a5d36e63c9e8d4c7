import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROOT, TIMEOUT, freePort, freshDataDir, sleep } from './helpers/processes.ts'

/**
 * `npm start` is what a newcomer runs: compiled JavaScript on plain node (built by npm install's
 * prepare step), and a signal to the npm process stops everything it started (the audit found the
 * tsx child left serving the port after npm had gone).
 */
beforeAll(() => {
  // the suite tests the source: build it, as npm install does
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore' })
}, 120_000)

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
  const children = new Map<number, number[]>()
  for (const line of out.trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number)
    children.set(parent!, [...(children.get(parent!) ?? []), child!])
  }
  const all: number[] = []
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (all.push(c), walk(c)))
  walk(pid)
  return all
}

describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`runs compiled JavaScript on node, and ${signal} to npm stops everything it started within the graceful bound`, async () => {
      const dir = freshDataDir()
      const port = await freePort()
      const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dir, LOG_LEVEL: 'warn' }
      delete env.DATABASE_URL
      const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      npm.stdout!.on('data', (c: Buffer) => (out += c.toString()))
      npm.stderr!.on('data', (c: Buffer) => (out += c.toString()))
      const deadline = Date.now() + 45_000
      while (!/Try it:/.test(out)) {
        if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`no banner:\n${out}`)
        await sleep(100)
      }
      const started = descendants(npm.pid!)
      const commands = execFileSync('ps', ['-o', 'args=', '-p', started.join(',')], { encoding: 'utf8' })
      expect(commands).toContain('node dist/bundle/server.js')
      expect(commands).not.toContain('tsx')

      const exited = new Promise<number | null>((done) => npm.once('exit', (code) => done(code)))
      const sent = Date.now()
      npm.kill(signal)
      await exited
      for (;;) {
        const left = started.filter(alive)
        if (left.length === 0) break
        if (Date.now() - sent > 15_000) throw new Error(`still running 15 s after ${signal}: ${left.join(', ')}`)
        await sleep(50)
      }
      // the port and the data directory are free again
      expect(existsSync(join(dir, 'tvb.lock'))).toBe(false)
      const again = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => 'answered',
        () => 'refused',
      )
      expect(again).toBe('refused')
    }, TIMEOUT)
  }
})
