import Type from 'typebox'

/** One call moves the clock at most this far (400 days: past any due date or retry schedule). */
export const MAX_ADVANCE_SECONDS = 400 * 86_400
/** The clock never runs more than this far ahead in all (ten years): dates stay well inside what the database and ISO 8601 hold. */
export const MAX_OFFSET_SECONDS = 3650 * 86_400

export const TestClockSchema = Type.Object(
  {
    now: Type.String({ format: 'date-time', description: 'The partner\'s test-mode time: real time plus offset_seconds. ISO 8601, UTC.' }),
    offset_seconds: Type.Integer({ minimum: 0, description: 'How far the partner\'s test-mode time runs ahead of real time; starts at 0 and only grows.' }),
    mode: Type.Literal('test', { description: 'The test clock exists in test mode only; live mode always runs on real time.' }),
  },
  { title: 'TestClock', additionalProperties: false },
)
export type TestClock = Type.Static<typeof TestClockSchema>

export const AdvanceBody = Type.Object(
  {
    seconds: Type.Integer({ minimum: 1, maximum: MAX_ADVANCE_SECONDS, description: `How far to move the clock forward, in whole seconds (1 to ${MAX_ADVANCE_SECONDS}, i.e. 400 days).`, examples: [1200] }),
  },
  { additionalProperties: false },
)
export type AdvanceInput = Type.Static<typeof AdvanceBody>
