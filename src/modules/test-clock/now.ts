import type { Clock } from '../../platform/clock.ts'
import type { Scope } from '../../platform/keyset.ts'

/**
 * The time of a request's data (API.md §9): real time, or — for a test-mode scope whose partner
 * has advanced its test clock — real time plus that partner's offset. A live scope never carries
 * an offset (scopeOf sets it for test tokens only) and is answered without looking further.
 */
export function nowIn(clock: Clock, scope: Pick<Scope, 'mode' | 'clockOffsetMs'>): Date {
  const now = clock.now()
  return scope.mode === 'test' && scope.clockOffsetMs ? new Date(now.getTime() + scope.clockOffsetMs) : now
}

/** The calendar day (UTC) of nowIn: "today" for stay dates and due dates. */
export function todayIn(clock: Clock, scope: Pick<Scope, 'mode' | 'clockOffsetMs'>): string {
  return nowIn(clock, scope).toISOString().slice(0, 10)
}
