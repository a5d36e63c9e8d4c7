import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { callerOf } from '../../http/auth.ts'
import { scopeOf } from '../../http/list-query.ts'
import { ApiError } from '../../platform/errors.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { AdvanceBody, TestClockSchema } from '../../modules/test-clock/schemas.ts'

const tags = ['Sandbox']

const DESCRIPTION =
  'Test mode only. The partner\'s test-mode time is real time plus offset_seconds: holds and booking.hold_expiring, hold expiry, ' +
  '"today" for stay dates, invoice due dates, webhook retry times and the timestamps of its test data follow it. Live mode never reads it.'

/** A live token is told so before its body is even looked at: no body makes the call work in live mode. */
async function testTokensOnly(request: FastifyRequest): Promise<void> {
  const caller = callerOf(request)
  if (caller.mode !== 'test') throw new ApiError('TEST_CLOCK_LIVE_MODE', 'Live mode always runs on real time: the test clock is for test tokens (tvb_test_…) only.', { mode: caller.mode })
}

/**
 * The per-partner test clock (API.md §9). Reading it needs no permission (like GET /v1/me: it is
 * the caller's own context); moving it needs booking.create.partner, the permission of whoever
 * rehearses a booking's life (its main use is a hold that lapses), which VIEWER and ACCOUNTANT
 * tokens lack.
 */
export const testClockRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor }> = async (app, { svc }) => {
  app.get(
    '/v1/test-clock',
    {
      config: { bucket: 'read', errors: ['TEST_CLOCK_LIVE_MODE'] },
      preValidation: testTokensOnly,
      schema: { operationId: 'getTestClock', summary: 'Read the partner\'s test clock', description: DESCRIPTION, tags, response: { 200: TestClockSchema } },
    },
    async (request) => svc(request).testClock.get(scopeOf(callerOf(request))),
  )

  app.post(
    '/v1/test-clock::advance',
    {
      config: { permission: 'booking.create.partner', bucket: 'write', errors: ['TEST_CLOCK_LIVE_MODE'] },
      preValidation: testTokensOnly,
      schema: {
        operationId: 'advanceTestClock',
        summary: 'Move the partner\'s test clock forward',
        description: `${DESCRIPTION} The clock only moves forward, by 1 second to 400 days a call, at most 10 years in all. The answer is the clock after the move.`,
        tags,
        body: AdvanceBody,
        response: { 200: TestClockSchema },
      },
    },
    async (request) => svc(request).testClock.advance(scopeOf(callerOf(request)), request.body.seconds),
  )
}
