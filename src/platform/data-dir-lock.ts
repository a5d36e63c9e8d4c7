import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'

/**
 * Exactly one process owns an embedded (PGlite) data directory: PGlite is one connection in one
 * process, and a second writer silently loses data (the audit saw a double booking). The owner
 * holds `tvb.lock`, created with O_EXCL and naming its PID, start time and admin socket; other
 * processes (a second server, the CLI) read it and either stop or talk to the owner.
 *
 * A lock whose owner is gone (SIGKILL, power loss) is stale: the PID no longer runs, or runs a
 * different process (its start time differs). A stale lock is moved aside and taken over.
 */
export interface LockOwner {
  pid: number
  /** The owner's start time in clock ticks since boot (Linux), to tell a reused PID apart. */
  startTicks: number | null
  /** The owner's local admin socket (the CLI's way in while it runs), or null. */
  adminSocket: string | null
  startedAt: string
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `the data directory ${dataDir} is in use by another travoBooks process (PID ${owner.pid}, since ${owner.startedAt}): ` +
        `stop it first, or give this one another DATA_DIR, or use PostgreSQL (DATABASE_URL) to run several processes`,
    )
    this.name = 'DataDirLockedError'
  }
}

export const LOCK_FILE = 'tvb.lock'

export function lockPath(dataDir: string): string {
  return join(resolve(dataDir), LOCK_FILE)
}

/** The process start time (field 22 of /proc/PID/stat), or null where /proc is not there. */
export function startTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    return Number.isFinite(ticks) ? ticks : null
  } catch {
    return null
  }
}

function isRunning(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    // EPERM: it runs, as another user
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (owner.startTicks === null) return true
  const ticks = startTicksOf(owner.pid)
  return ticks === null || ticks === owner.startTicks
}

/** The live owner of the data directory, or null when it is free (no lock, or a stale one). */
export function readLockOwner(dataDir: string): LockOwner | null {
  let owner: LockOwner
  try {
    owner = JSON.parse(readFileSync(lockPath(dataDir), 'utf8')) as LockOwner
  } catch {
    return null
  }
  return isRunning(owner) ? owner : null
}

export interface DataDirLock {
  readonly owner: LockOwner
  /** Records the owner's admin socket once it listens. */
  setAdminSocket(path: string): void
  release(): void
}

/** Takes the data directory for this process, or throws DataDirLockedError naming the owner. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true })
  const path = lockPath(dataDir)
  const owner: LockOwner = { pid: process.pid, startTicks: startTicksOf(process.pid), adminSocket: null, startedAt: new Date().toISOString() }
  for (let attempt = 0; attempt < 3; attempt++) {
    // the lock appears whole or not at all: written aside, then linked into place (link fails if
    // the lock exists, as O_EXCL would, and a reader never sees it half-written)
    const temp = writeTemp(path, owner)
    try {
      linkSync(temp, path)
      return handle(path, owner)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    } finally {
      unlinkSync(temp)
    }
    const current = readLockOwner(dataDir)
    if (current) throw new DataDirLockedError(dataDir, current)
    // stale: move it aside atomically (only one contender wins the rename), then try again
    const aside = `${path}.stale.${process.pid}`
    try {
      renameSync(path, aside)
    } catch {
      continue // another process took it aside first; the next attempt sees who holds it now
    }
    // between our look and our rename another process may have taken the directory: if what we
    // moved aside is a live owner's lock, it goes back (link fails rather than overwrite)
    const moved = JSON.parse(readFileSync(aside, 'utf8')) as LockOwner
    if (isRunning(moved)) {
      try {
        linkSync(aside, path)
      } finally {
        unlinkSync(aside)
      }
      throw new DataDirLockedError(dataDir, moved)
    }
    unlinkSync(aside)
  }
  const current = readLockOwner(dataDir)
  if (current) throw new DataDirLockedError(dataDir, current)
  throw new Error(`could not take the lock ${path}`)
}

function writeTemp(path: string, owner: LockOwner): string {
  const temp = `${path}.${process.pid}.tmp`
  const fd = openSync(temp, 'w', 0o600)
  try {
    writeSync(fd, JSON.stringify(owner))
  } finally {
    closeSync(fd)
  }
  return temp
}

function handle(path: string, owner: LockOwner): DataDirLock {
  let released = false
  const release = () => {
    if (released) return
    released = true
    try {
      // only our own lock is removed
      const current = JSON.parse(readFileSync(path, 'utf8')) as LockOwner
      if (current.pid === owner.pid && current.startedAt === owner.startedAt) unlinkSync(path)
    } catch {
      // already gone
    }
  }
  // a normal exit frees the directory at once; after a SIGKILL the lock is stale and taken over
  process.once('exit', release)
  return {
    owner,
    setAdminSocket(socketPath) {
      owner.adminSocket = socketPath
      renameSync(writeTemp(path, owner), path)
    },
    release,
  }
}
