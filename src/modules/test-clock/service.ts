import type { Clock } from '../../platform/clock.ts'
import type { Db } from '../../platform/db.ts'
import { ApiError, FieldErrors } from '../../platform/errors.ts'
import type { Scope } from '../../platform/keyset.ts'
import * as repo from './repository.ts'
import { MAX_OFFSET_SECONDS } from './schemas.ts'
import type { TestClock } from './schemas.ts'

export interface TestClockServiceDeps {
  db: Db
  clock: Clock
  /**
   * Told the partner's new offset after an advance (and after a read that found this instance
   * behind), so the cached token contexts of this instance follow at once.
   */
  onOffsetSeen: (partnerId: string, offsetSeconds: number) => void
}

/**
 * A partner's test clock (API.md §9): test-mode time = real time + the partner's offset. Reads and
 * moves go to the database (the truth every instance and the worker share); what a request runs
 * on comes with its token context (see TokenVerifier).
 */
export class TestClockService {
  readonly #deps: TestClockServiceDeps
  constructor(deps: TestClockServiceDeps) {
    this.#deps = deps
  }

  async get(scope: Scope): Promise<TestClock> {
    testModeOnly(scope)
    const offset = await repo.findOffsetSeconds(this.#deps.db, scope.partnerId)
    this.#deps.onOffsetSeen(scope.partnerId, offset)
    return this.#present(offset)
  }

  async advance(scope: Scope, seconds: number): Promise<TestClock> {
    testModeOnly(scope)
    const { db, clock } = this.#deps
    const offset = await repo.advanceOffset(db, scope.partnerId, seconds, MAX_OFFSET_SECONDS, clock.now())
    if (offset === null) {
      const current = await repo.findOffsetSeconds(db, scope.partnerId)
      new FieldErrors().add('seconds', 'maximum', `must be at most ${MAX_OFFSET_SECONDS - current}: the test clock runs at most ${MAX_OFFSET_SECONDS / 86_400} days ahead of real time (it is ${current} seconds ahead now)`).throwIfAny()
    }
    this.#deps.onOffsetSeen(scope.partnerId, offset!)
    return this.#present(offset!)
  }

  #present(offsetSeconds: number): TestClock {
    return { now: new Date(this.#deps.clock.now().getTime() + offsetSeconds * 1000).toISOString(), offset_seconds: offsetSeconds, mode: 'test' }
  }
}

function testModeOnly(scope: Scope): void {
  if (scope.mode !== 'test') throw new ApiError('TEST_CLOCK_LIVE_MODE', 'Live mode always runs on real time: the test clock is for test tokens (tvb_test_…) only.', { mode: scope.mode })
}
