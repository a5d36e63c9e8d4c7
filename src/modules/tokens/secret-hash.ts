/**
 * Argon2id for token secrets (@node-rs/argon2, its defaults). The native addon is loaded on the
 * first hash or verification, not at start: a server answers /healthz before any token arrives.
 */
import type * as Argon2 from '@node-rs/argon2'

let argon2: Promise<typeof Argon2> | undefined

const load = () => (argon2 ??= import('@node-rs/argon2'))

export async function hashSecret(secret: string): Promise<string> {
  return (await load()).hash(secret)
}

export async function verifySecret(hash: string, secret: string): Promise<boolean> {
  return (await load()).verify(hash, secret)
}
