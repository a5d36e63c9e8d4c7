/**
 * The retry schedule (API.md §11, "about three days"): Svix's first steps (5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h), then 14 h, 20 h and 24 h, so the ninth retry comes ~75 h (3.15 days) after the event.
 * Each wait is jittered by ±20 % so endpoints that failed together do not all retry together.
 * A receiver's Retry-After (on 429 and 503) replaces the wait when it asks for longer, up to a day.
 */
export const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600] as const

/** Attempts a delivery gets before it is FAILED: the first, then one per step of the schedule. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1

/** An endpoint failing without one success for this long is disabled (webhook.disabled). */
export const DISABLE_AFTER_FAILING_MS = 5 * 86_400_000

const MAX_RETRY_AFTER_SECONDS = 86_400

/** When attempt number `attempt` (1-based, just failed) should be followed by the next, or null when it was the last. */
export function nextAttemptAt(attempt: number, now: Date, retryAfterSeconds: number | null = null, random: () => number = Math.random): Date | null {
  if (attempt >= MAX_ATTEMPTS) return null
  const base = RETRY_DELAYS_SECONDS[attempt - 1]!
  const jittered = base * (0.8 + 0.4 * random())
  const wait = retryAfterSeconds !== null ? Math.max(jittered, Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS)) : jittered
  return new Date(now.getTime() + Math.round(wait * 1000))
}

/** Retry-After as seconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | null {
  const raw = Array.isArray(value) ? value[0] : value
  if (!raw) return null
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim())
  const at = Date.parse(raw)
  return Number.isNaN(at) ? null : Math.max(0, (at - now.getTime()) / 1000)
}
