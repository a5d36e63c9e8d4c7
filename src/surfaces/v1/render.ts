import type { FastifyReply } from 'fastify'
import { checkIfMatch } from '../../http/list-query.ts'
import { checkReadOnlyFields } from '../../platform/replacement.ts'
import { envelopeErrorHandler } from '../../http/errors.ts'
import { pick } from '../../platform/pagination.ts'
import type { Page } from '../../platform/pagination.ts'

/** v1's errors are the catalogue's envelope, {"error": {code, message, details, request_id, retry_advice, doc_url}} (API.md §6). */
export const v1ErrorRenderer = envelopeErrorHandler

/**
 * v1's list envelope: {"data": [...], "pagination": {"next_cursor", "has_more"}} (API.md §7), each
 * item rendered by the resource's v1 presenter. With fields= the items no longer match the full
 * schema, so they bypass the serializer.
 */
export function sendPage<T, R extends object>(reply: FastifyReply, page: Page<T>, fields: string[] | null, present: (item: T) => R): FastifyReply | Page<R> {
  const data = page.data.map(present)
  if (!fields) return { data, pagination: page.pagination }
  return reply.type('application/json; charset=utf-8').send(JSON.stringify({ data: data.map((r) => pick(r, fields)), pagination: page.pagination }))
}

/**
 * What a PUT checks against the locked current resource, in its v1 representation: If-Match must
 * name its current ETag, then the read-only fields the body carries back must equal the stored ones
 * (a GET-modify-PUT round trip). In that order: a body read before someone else's change carries
 * their old updated_at, and what the client must hear is 412 (read it again), not that the
 * timestamp is read-only.
 */
export function replacementGuard<T>(present: (current: T) => object, body: object, ifMatch: string | undefined, readOnly: readonly string[] = []): (current: T) => void {
  return (current) => {
    const shown = present(current) as Record<string, unknown>
    checkIfMatch(ifMatch, shown)
    if (readOnly.length > 0) checkReadOnlyFields(shown, body as Record<string, unknown>, readOnly)
  }
}
