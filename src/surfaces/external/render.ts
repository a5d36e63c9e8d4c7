import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import type { TSchema } from 'typebox'
import { toApiError } from '../../http/errors.ts'
import { ApiError } from '../../platform/errors.ts'
import type { ErrorCode } from '../../platform/errors.ts'

/**
 * The External API's renderings (API.md §2, §13): errors are flat, {"code", "message", "details"}
 * (details is {} when there is nothing to add; the request id is in X-Request-Id), with the
 * catalogue's codes and statuses; lists are {"items", "total", "page", "limit", "total_pages",
 * "next_cursor"}.
 */

/**
 * The guide's codes for an id the token cannot see. The services answer NOT_FOUND naming the
 * resource, for an unknown id and another tenant's alike; here both become one body with no id in
 * it, byte for byte the same. A customer is a 403, as the guide has it.
 */
const NOT_ACCESSIBLE: Record<string, { code: ErrorCode; message: string }> = {
  listing: { code: 'EXTERNAL_LISTING_NOT_ACCESSIBLE', message: 'The listing does not exist or does not belong to the token\'s teams.' },
  booking: { code: 'EXTERNAL_BOOKING_NOT_ACCESSIBLE', message: 'The booking does not exist or does not belong to the token\'s teams.' },
  customer: { code: 'EXTERNAL_CUSTOMER_NOT_ACCESSIBLE', message: 'The customer does not exist or does not belong to the token\'s teams.' },
}

export function externalError(error: ApiError): ApiError {
  if (error.code !== 'NOT_FOUND') return error
  const mapped = NOT_ACCESSIBLE[String(error.details?.resource)]
  return mapped ? new ApiError(mapped.code, mapped.message, {}, error.headers) : error
}

export function sendFlatError(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.headers) reply.headers(error.headers)
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="travoBooks"')
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ code: error.code, message: error.message, details: error.details ?? {} }))
}

/** The surface's error handler: whatever was thrown (auth, rate limit, permission, validation, the services) rendered flat. */
export function flatErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const apiError = externalError(toApiError(error, request))
  if (apiError.status >= 500) request.log.error({ err: error }, 'request failed')
  else request.log.info({ code: apiError.code }, 'request refused')
  return sendFlatError(reply, apiError)
}

export function pageOf<T extends TSchema>(item: T) {
  return Type.Object(
    {
      items: Type.Array(item),
      total: Type.Integer({ minimum: 0, description: 'Items matching the filters, on every page.' }),
      page: Type.Integer({ minimum: 1, description: 'This page\'s number (with cursor=: the number of the page the cursor leads to).' }),
      limit: Type.Integer({ minimum: 1, maximum: 100 }),
      total_pages: Type.Integer({ minimum: 0, description: 'ceil(total / limit); 0 when nothing matches.' }),
      next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor= for the next page (stable under concurrent changes); null on the last page.' }),
    },
    { additionalProperties: false },
  )
}
