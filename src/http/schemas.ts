import Type from 'typebox'
import type { TProperties, TSchema } from 'typebox'
import { ERROR_CODES } from '../platform/errors.ts'

/** Shared schemas: registered once with $id so the OpenAPI document lists them as components. */
export const ErrorEnvelopeSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: stringEnum(ERROR_CODES, { description: 'A code from the catalogue (GET /v1/errors).' }),
        message: Type.String({ description: 'A human-readable explanation; may change, do not parse it.' }),
        details: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Machine-readable context: fields, required_permission, …' })),
        request_id: Type.String({ description: 'The X-Request-Id of this request.' }),
        retry_advice: stringEnum(['retryable', 'retry_after_fix', 'non_retryable']),
        doc_url: Type.String({ format: 'uri' }),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'ErrorEnvelope', title: 'ErrorEnvelope', additionalProperties: false },
)

export const ErrorRef = Type.Ref('ErrorEnvelope')

/** The External API's error body (API.md §2, §13): flat, the same codes; the request id is in X-Request-Id. */
export const FlatErrorSchema = Type.Object(
  {
    code: stringEnum(ERROR_CODES, { description: 'A code from the catalogue (GET /v1/errors).' }),
    message: Type.String({ description: 'A human-readable explanation; may change, do not parse it.' }),
    details: Type.Record(Type.String(), Type.Unknown(), { description: 'Machine-readable context ({} when there is none): fields, required_permission, …' }),
  },
  { $id: 'FlatError', title: 'FlatError', additionalProperties: false },
)

/** A string enum as {"enum": […]}: one clear "must be one of" error instead of an anyOf of consts. */
export function stringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC.' })
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()])

export function idSchema(prefix: string, description?: string) {
  return Type.String({ pattern: `^${prefix}_[0-7][0-9a-hjkmnp-tv-z]{25}$`, description: description ?? `An id with the ${prefix}_ prefix.`, examples: [`${prefix}_01jq3v5x7e8f9g0h1j2k3m4n5p`] })
}

/**
 * The body of a replacing PUT (API.md §3): every writable field is required (null clears a
 * nullable one), so a PUT never wipes a field by omission; the resource's read-only fields may come
 * back as GET returned them (the service refuses them when they differ from what is stored).
 */
export function replacementBody<W extends TProperties, R extends TProperties>(writable: W, readOnly: R) {
  return Type.Object({ ...Type.Required(Type.Object(writable)).properties, ...Type.Partial(Type.Object(readOnly)).properties }, { additionalProperties: false })
}

/** A path id parameter: any non-empty string (an unknown or malformed id is a 404, not a 400). */
export const PathId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) })

export function listOf<T extends TSchema>(item: T) {
  return Type.Object(
    {
      data: Type.Array(item),
      pagination: Type.Object(
        {
          next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor= to get the next page; null on the last page.' }),
          has_more: Type.Boolean(),
        },
        { title: 'Pagination', additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  )
}

/** A filter taking several values, comma-separated (status=CONFIRMED,ISSUED) or repeated; checked by parseCommaList. */
export function commaList(values: readonly string[], description = '') {
  return Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
      maxItems: 50,
      description: `${description}Comma-separated or repeated; any of ${values.join(', ')}.`,
      // the document's enum: the validator takes each item as it comes (one may hold "A,B") and parseCommaList checks the values
      'x-openapi': { items: { type: 'string', enum: [...values] } },
    }),
  )
}

/**
 * A calendar date, YYYY-MM-DD. The document says format: date; the validator checks only the
 * length, and the service checks the date, so every problem of a request is reported at once.
 */
export function calendarDate(description: string) {
  return Type.String({ maxLength: 10, description, 'x-openapi': { format: 'date' } })
}
