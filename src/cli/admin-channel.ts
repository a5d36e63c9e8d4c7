import { createHash } from 'node:crypto'
import { chmodSync, rmSync } from 'node:fs'
import { createServer, request } from 'node:http'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * The CLI's way into a running server that owns an embedded data directory: a local HTTP channel
 * on a unix socket beside the data (owner-only, like the data itself), which runs the CLI command
 * inside the server on its own database, so there is never a second writer.
 */
export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

export type CommandRunner = (argv: string[]) => Promise<CommandResult>

/** The socket path for a data directory (unix socket paths are limited to ~107 bytes). */
export function adminSocketPath(dataDir: string): string {
  const beside = join(resolve(dataDir), 'tvb-admin.sock')
  if (Buffer.byteLength(beside) < 100) return beside
  return join(tmpdir(), `tvb-admin-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}.sock`)
}

const MAX_REQUEST_BYTES = 64 * 1024

export async function startAdminChannel(socketPath: string, runCommand: CommandRunner): Promise<{ close(): Promise<void> }> {
  // a socket file left by a killed owner (we hold the data-dir lock, so it is not in use)
  rmSync(socketPath, { force: true })
  const server: Server = createServer((req, res) => {
    const reply = (status: number, result: CommandResult) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(result))
    }
    if (req.method !== 'POST' || req.url !== '/cli') return reply(404, { code: 2, stdout: '', stderr: 'unknown admin request\n' })
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
      if (body.length > MAX_REQUEST_BYTES) req.destroy()
    })
    req.on('end', () => {
      let argv: unknown
      try {
        argv = (JSON.parse(body) as { argv?: unknown }).argv
      } catch {
        argv = undefined
      }
      if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return reply(400, { code: 2, stdout: '', stderr: 'malformed admin request\n' })
      runCommand(argv as string[]).then(
        (result) => reply(200, result),
        (error: unknown) => reply(500, { code: 1, stdout: '', stderr: `${(error as Error).message}\n` }),
      )
    })
  })
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolvePromise())
  })
  chmodSync(socketPath, 0o600)
  return {
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => {
          rmSync(socketPath, { force: true })
          resolvePromise()
        })
      }),
  }
}

/** Runs a CLI command inside the server listening on socketPath. */
export function callAdminChannel(socketPath: string, argv: string[]): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath, path: '/cli', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        try {
          resolvePromise(JSON.parse(body) as CommandResult)
        } catch (error) {
          reject(error as Error)
        }
      })
    })
    req.on('error', reject)
    req.end(JSON.stringify({ argv }))
  })
}
