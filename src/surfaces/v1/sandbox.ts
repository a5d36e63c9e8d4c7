import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { idSchema, stringEnum } from '../../http/schemas.ts'
import { ERROR_CODES } from '../../platform/errors.ts'
import { MAGIC_LISTING_CATALOGUE, MAGIC_PAYMENT_REFERENCES, PRICE_RISE_PERCENT } from '../../modules/sandbox/magic-values.ts'
import { PAYMENT_FAILURE_CODES } from '../../modules/payments/schemas.ts'

const SandboxSchema = Type.Object(
  {
    mode: stringEnum(['live', 'test'], { description: 'The calling token\'s mode.' }),
    magic_values_active: Type.Boolean({ description: 'Whether the magic values below work for this token: test mode only. In live mode the listing ids are unknown ids (404) and DECLINE is an ordinary reference.' }),
    note: Type.String(),
    listings: Type.Array(
      Type.Object(
        {
          id: idSchema('lst', 'The magic listing\'s id: use it as any listing id.'),
          behaviour: stringEnum(['ALWAYS_UNAVAILABLE', 'PRICE_CHANGES']),
          description: Type.String(),
          expect: Type.Array(
            Type.Object(
              {
                operation: Type.String({ description: 'The operationId (createBooking: POST /v1/bookings, and the External API\'s POST /bookings).' }),
                status: Type.Integer(),
                code: stringEnum(ERROR_CODES),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    payment_references: Type.Array(
      Type.Object(
        {
          reference: Type.String({ description: 'The reference to send in POST /v1/payments.' }),
          description: Type.String(),
          expect: Type.Object({ status: stringEnum(['FAILED']), failure_code: stringEnum(PAYMENT_FAILURE_CODES) }, { additionalProperties: false }),
        },
        { additionalProperties: false },
      ),
    ),
    test_clock: Type.Object(
      {
        read: Type.String({ description: 'The operation that reads the partner\'s test clock.' }),
        advance: Type.String({ description: 'The operation that moves it forward.' }),
        description: Type.String(),
      },
      { additionalProperties: false },
    ),
    mock_responses: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Whether this server answers mock=true.' }),
        parameter: Type.String(),
        description: Type.String(),
      },
      { additionalProperties: false },
    ),
    docs_url: Type.String({ format: 'uri', description: 'The sandbox guide.' }),
  },
  { title: 'Sandbox', additionalProperties: false },
)

/**
 * GET /v1/sandbox: what test mode offers for rehearsing failures (API.md §9). Any valid token may
 * read it, live ones included: it is documentation, and a live token learns at once that the magic
 * values do nothing for it (magic_values_active: false) rather than meeting an error.
 */
export const sandboxRoutes: FastifyPluginAsyncTypebox<{ publicBaseUrl: string }> = async (app, { publicBaseUrl }) => {
  app.get(
    '/v1/sandbox',
    {
      config: { bucket: 'read' },
      schema: {
        operationId: 'getSandbox',
        summary: 'Test mode\'s magic values, test clock and mock answers',
        description:
          'The documented magic values of test mode: listings that always fail a booking in a known way, payment references that are always declined, ' +
          `and pointers to the test clock and to ?mock=true. The price-changing listing asks ${PRICE_RISE_PERCENT}% more at booking than was expected. ` +
          'Any valid token; with a live token the list comes back with magic_values_active false.',
        tags: ['Sandbox'],
        response: { 200: SandboxSchema },
      },
    },
    async (request) => {
      const { mode } = callerOf(request)
      return {
        mode,
        magic_values_active: mode === 'test',
        note:
          mode === 'test'
            ? 'These values behave as described for every test-mode token, in every partner; nothing they do is stored.'
            : 'This is a live token: the magic values below work in test mode only. Here the listing ids are unknown ids (404) and DECLINE is an ordinary reference.',
        listings: MAGIC_LISTING_CATALOGUE.map((l) => ({ id: l.id, behaviour: l.behaviour, description: l.description, expect: l.expect.map((e) => ({ ...e })) })),
        payment_references: MAGIC_PAYMENT_REFERENCES.map((p) => ({ reference: p.reference, description: p.description, expect: { ...p.expect } })),
        test_clock: {
          read: 'GET /v1/test-clock',
          advance: 'POST /v1/test-clock:advance',
          description: 'Moves your partner\'s test-mode time forward (body {"seconds": …}): holds, booking.hold_expiring, expiry, due dates and webhook retry times of your test data follow it. Live mode never reads it.',
        },
        mock_responses: {
          enabled: app.mockResponsesEnabled,
          parameter: 'mock=true',
          description: 'On any operation of /v1, /v2 and /api/v1/external, with a test token: a realistic, schema-valid sample of its success answer, the same bytes every time, with nothing read or changed.',
        },
        docs_url: `${publicBaseUrl}/docs/guides/sandbox`,
      }
    },
  )
}
