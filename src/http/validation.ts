import type { FastifyInstance, FastifySchema } from 'fastify'
import { Ajv } from 'ajv'
import type { Options } from 'ajv'
import formats from 'ajv-formats'

const addFormats = formats.default

/**
 * Validators per part of a request. Path, query and header values arrive as strings, so they are
 * coerced to the schema's types (a repeated query key becomes an array). A JSON body is already
 * typed and is never coerced: with coercion, null sent for a nullable string became "" (the
 * string branch of the union took it first), and "2" passed for an integer.
 */
const COMMON: Options = { allErrors: true, removeAdditional: false, useDefaults: true, addUsedSchema: false, strict: false }

export function installValidators(app: FastifyInstance): void {
  const strings = addFormats(new Ajv({ ...COMMON, coerceTypes: 'array' }))
  const json = addFormats(new Ajv({ ...COMMON, coerceTypes: false }))
  app.setValidatorCompiler(({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) => {
    const ajv = httpPart === 'body' ? json : strings
    return ajv.compile(schema as object) as (data: unknown) => boolean
  })
}
