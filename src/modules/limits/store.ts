import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import type * as IORedis from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'

/** One request's charge against a bucket: allowed or not, and the numbers the headers print. */
export interface Charge {
  allowed: boolean
  limit: number
  remaining: number
  /** Milliseconds until the window resets. */
  resetMs: number
}

/**
 * Fixed one-minute windows counted per key. Memory: one process. Redis: shared and exact across
 * instances (an atomic INCR per request, so request N+1 is the first refused).
 */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis'
  /** Adds `points` to key's count (penalty: counted even when over). */
  consume(key: string, limit: number, points?: number): Promise<Charge>
  /** The current state without consuming. */
  peek(key: string, limit: number): Promise<Charge>
  close(): Promise<void>
}

const WINDOW_SECONDS = 60

function charge(res: RateLimiterRes | null, limit: number, allowed: boolean): Charge {
  if (!res) return { allowed: true, limit, remaining: limit, resetMs: WINDOW_SECONDS * 1000 }
  return { allowed, limit, remaining: Math.max(0, limit - res.consumedPoints), resetMs: Math.max(0, res.msBeforeNext) }
}

/** One limiter per distinct limit (per-partner overrides give different limits for one bucket). */
class LimiterFamily<L extends RateLimiterAbstract> {
  readonly #byLimit = new Map<number, L>()
  constructor(private readonly make: (points: number) => L) {}
  get(limit: number): L {
    let limiter = this.#byLimit.get(limit)
    if (!limiter) this.#byLimit.set(limit, (limiter = this.make(limit)))
    return limiter
  }
}

async function consumeWith(limiter: RateLimiterAbstract, key: string, limit: number, points: number): Promise<Charge> {
  try {
    return charge(await limiter.consume(key, points), limit, true)
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return charge(rejection, limit, false)
    throw rejection
  }
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly kind = 'memory' as const
  readonly #family = new LimiterFamily((points) => new RateLimiterMemory({ points, duration: WINDOW_SECONDS }))
  consume(key: string, limit: number, points = 1): Promise<Charge> {
    return consumeWith(this.#family.get(limit), key, limit, points)
  }
  async peek(key: string, limit: number): Promise<Charge> {
    const res = await this.#family.get(limit).get(key)
    return charge(res, limit, !res || res.consumedPoints < limit)
  }
  async close(): Promise<void> {}
}

export interface StoreHealth {
  /** Called when the store falls back to memory (Redis unreachable) and when it recovers. */
  onDegraded(degraded: boolean, error?: unknown): void
  onFallbackCharge(): void
}

/**
 * Redis, shared by every instance. When Redis does not answer, each instance falls back to its own
 * in-memory counts (never unlimited, never a 5xx), says so once, and returns to Redis as soon as a
 * command succeeds again.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis' as const
  readonly #redis: Redis
  readonly #family: LimiterFamily<RateLimiterRedis>
  readonly #fallback = new MemoryRateLimitStore()
  readonly #health: StoreHealth
  #degraded = false

  constructor(url: string, health: StoreHealth, keyPrefix = 'tvb_rl') {
    this.#health = health
    // ioredis is loaded only when Redis is configured (start-up time of the embedded default)
    const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof IORedis
    this.#redis = new RedisClient(url, {
      // fail fast while disconnected instead of queueing: the fallback answers meanwhile
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectTimeout: 1000,
      retryStrategy: (times: number) => Math.min(200 * times, 2000),
    })
    this.#redis.on('error', () => {})
    this.#family = new LimiterFamily((points) => new RateLimiterRedis({ storeClient: this.#redis, points, duration: WINDOW_SECONDS, keyPrefix, rejectIfRedisNotReady: true }))
  }

  /** Waits (bounded) for the first connection, so a fresh instance starts on Redis, not on the fallback. */
  async ready(timeoutMs = 3000): Promise<boolean> {
    if (this.#redis.status === 'ready') return true
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.#redis.once('ready', () => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }

  async consume(key: string, limit: number, points = 1): Promise<Charge> {
    try {
      const result = await consumeWith(this.#family.get(limit), key, limit, points)
      this.#setDegraded(false)
      return result
    } catch (error) {
      this.#setDegraded(true, error)
      this.#health.onFallbackCharge()
      return this.#fallback.consume(key, limit, points)
    }
  }

  async peek(key: string, limit: number): Promise<Charge> {
    try {
      const res = await this.#family.get(limit).get(key)
      this.#setDegraded(false)
      return charge(res, limit, !res || res.consumedPoints < limit)
    } catch (error) {
      this.#setDegraded(true, error)
      return this.#fallback.peek(key, limit)
    }
  }

  #setDegraded(degraded: boolean, error?: unknown): void {
    if (degraded === this.#degraded) return
    this.#degraded = degraded
    this.#health.onDegraded(degraded, error)
  }

  async close(): Promise<void> {
    this.#redis.disconnect()
  }
}
