import { etagOf } from '../etag.ts'
import type { ReplaceOptions } from '../etag.ts'
import { CursorList } from '../pagination.ts'
import type { CursorPage } from '../pagination.ts'

/** What every resource method shares: abort signals, POST keys, If-Match, ETag reads, and cursor lists. */

/** What every resource method takes last: an AbortSignal that cancels the call, retries and back-off included. */
export interface RequestOptions {
  signal?: AbortSignal | undefined
}

/** Options of a POST: your own Idempotency-Key, to make the call safe to repeat across processes too. */
export interface PostOptions extends RequestOptions {
  idempotencyKey?: string | undefined
}

export const signalOf = (options: RequestOptions | undefined) => (options?.signal ? { signal: options.signal } : {})

export const keyHeader = (options: PostOptions | undefined) => (options?.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {})

export const ifMatchHeader = (options: ReplaceOptions | undefined) => (options?.ifMatch ? { 'if-match': options.ifMatch } : {})

export interface WithEtag<T> {
  data: T
  etag: string | undefined
}

export async function withEtag<T extends object>(resource: Promise<T>): Promise<WithEtag<T>> {
  const data = await resource
  return { data, etag: etagOf(data) }
}

/** The async-iterable of a cursor list, from a function that fetches one page for a query. */
export function cursorList<T, Q extends { cursor?: string | undefined }>(query: Q, fetchPage: (query: Q) => Promise<unknown>): CursorList<T> {
  return new CursorList<T>((cursor) => fetchPage({ ...query, cursor }) as Promise<CursorPage<T>>, query.cursor)
}
