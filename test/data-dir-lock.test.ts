import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { TIMEOUT, TOKEN_LINE, freshDataDir, runCli, startServer, stop } from './helpers/processes.ts'

/**
 * One process owns an embedded data directory (the audit lost a CLI-made token and double-booked a
 * villa with two writers). Always on PGlite, whichever database the suite runs on: the lock is
 * what PGlite needs.
 */
async function me(base: string, token: string): Promise<number> {
  return (await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status
}

describe('the embedded data directory has one owner', () => {
  it('a second server on the same directory exits at once, with one line naming the owner and the fix; the first keeps serving', async () => {
    const dir = freshDataDir()
    const first = await startServer(dir, { embedded: true })
    const token = TOKEN_LINE.exec(first.output())![1]!
    const started = Date.now()
    const second = await startServer(dir, { embedded: true, expectExit: true })
    expect(await second.exited).not.toBe(0)
    expect(Date.now() - started).toBeLessThan(15_000)
    const lines = second.output().split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`PID ${first.child.pid}`)
    expect(lines[0]).toMatch(/stop it|DATABASE_URL/)
    expect(await me(first.base, token)).toBe(200)
    expect(await stop(first)).toBe(0)
  }, TIMEOUT * 2)

  it('the CLI works while the server runs, through it: a token it makes is accepted at once and survives a restart', async () => {
    const dir = freshDataDir()
    const server = await startServer(dir, { embedded: true })
    const demoToken = TOKEN_LINE.exec(server.output())![1]!
    const meBody = await (await fetch(`${server.base}/v1/me`, { headers: { authorization: `Bearer ${demoToken}` } })).json()
    const made = await runCli(['tokens', 'create', '--user', meBody.user.id, '--name', 'made while running'], { DATA_DIR: dir })
    expect(made.code, made.stderr).toBe(0)
    const secret = TOKEN_LINE.exec(made.stdout)![1]!
    expect(await me(server.base, secret)).toBe(200)

    // revoking through the CLI reaches the server's token cache at once
    const tokenId = /token (tok_\w+)/.exec(made.stdout)![1]!
    const revoked = await runCli(['tokens', 'revoke', tokenId], { DATA_DIR: dir })
    expect(revoked.code, revoked.stderr).toBe(0)
    expect(await me(server.base, secret)).toBe(401)

    const kept = await runCli(['tokens', 'create', '--user', meBody.user.id, '--name', 'kept'], { DATA_DIR: dir })
    const keptSecret = TOKEN_LINE.exec(kept.stdout)![1]!
    expect(await stop(server)).toBe(0)
    const again = await startServer(dir, { embedded: true })
    expect(await me(again.base, keptSecret)).toBe(200)
    expect(await stop(again)).toBe(0)
  }, TIMEOUT * 3)

  it('after a SIGKILL the stale lock is taken over: the next start owns the directory and the data is intact', async () => {
    const dir = freshDataDir()
    const first = await startServer(dir, { embedded: true })
    const token = TOKEN_LINE.exec(first.output())![1]!
    first.child.kill('SIGKILL')
    await first.exited
    expect(JSON.parse(readFileSync(join(dir, 'tvb.lock'), 'utf8')).pid).toBe(first.child.pid)
    const second = await startServer(dir, { embedded: true })
    expect(await me(second.base, token)).toBe(200)
    expect(JSON.parse(readFileSync(join(dir, 'tvb.lock'), 'utf8')).pid).toBe(second.child.pid)
    expect(await stop(second)).toBe(0)
  }, TIMEOUT * 2)
})
