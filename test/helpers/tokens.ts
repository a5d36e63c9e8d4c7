import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import type { TestApp } from './harness.ts'

/** Shared by the tokens-*.test.ts files: token shapes, what a request costs, error checks. */

export const TEST_SECRET = /^tvb_test_[0-9A-Za-z]{32}$/
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const SECOND = 1000

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Lets fire-and-forget work of earlier requests (the last_used_at UPDATE) finish. */
export const settle = () => sleep(50)

/** The tvb_token_argon2_verifications_total counter, read the way Prometheus would see it. */
async function argon2Runs(h: TestApp): Promise<number> {
  const text = await h.metrics.registry.getSingleMetricAsString('tvb_token_argon2_verifications_total')
  const line = text.split('\n').find((l) => l.startsWith('tvb_token_argon2_verifications_total '))
  expect(line, text).toBeDefined()
  return Number(line!.split(' ')[1])
}

/** Queries and Argon2id runs caused by fn. */
export async function cost(h: TestApp, fn: () => Promise<unknown>): Promise<{ queries: number; argon2: number }> {
  await settle()
  const q0 = h.db.queryCount
  const a0 = await argon2Runs(h)
  await fn()
  return { queries: h.db.queryCount - q0, argon2: (await argon2Runs(h)) - a0 }
}

export function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = res.json()
  expect(body.error.code, res.body).toBe(code)
  expect(body.error.request_id).toBe(res.headers['x-request-id'])
  if (status === 401) expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer\b/)
  return body.error as { code: string; message: string; details?: Record<string, unknown> }
}

/** The same token with one character of its random part replaced by another base62 character. */
export function flipRandomChar(secret: string, index = 12): string {
  const pos = 9 + index
  const c = secret[pos]!
  const replacement = BASE62[(BASE62.indexOf(c) + 1) % 62]!
  return secret.slice(0, pos) + replacement + secret.slice(pos + 1)
}
