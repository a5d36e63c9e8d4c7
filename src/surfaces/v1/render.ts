import type { FastifyReply } from 'fastify'
import { envelopeErrorHandler } from '../../http/errors.ts'
import { pick } from '../../platform/pagination.ts'
import type { Page } from '../../platform/pagination.ts'

/** v1's errors are the catalogue's envelope, {"error": {code, message, details, request_id, retry_advice, doc_url}} (API.md §6). */
export const v1ErrorRenderer = envelopeErrorHandler

/**
 * v1's list envelope: {"data": [...], "pagination": {"next_cursor", "has_more"}} (API.md §7). With
 * fields= the items no longer match the full schema, so they bypass the serializer.
 */
export function sendPage<T extends object>(reply: FastifyReply, page: Page<T>, fields: string[] | null): FastifyReply | Page<T> {
  if (!fields) return page
  return reply.type('application/json; charset=utf-8').send(JSON.stringify({ data: page.data.map((r) => pick(r, fields)), pagination: page.pagination }))
}
