import type { RequestOptions } from './resources/request-options.ts'

/**
 * The ETag each resource arrived with, kept beside the object rather than in it, so a resource
 * stays exactly the body the server sent (and can be sent back as a PUT unchanged).
 */
const etags = new WeakMap<object, string>()

export function rememberEtag(resource: unknown, response: Response): void {
  const etag = response.headers.get('etag')
  if (etag && typeof resource === 'object' && resource !== null) etags.set(resource, etag)
}

/** The ETag of a resource the SDK fetched or wrote, for `replace(id, body, { ifMatch })`; undefined when the server sent none. */
export function etagOf(resource: object): string | undefined {
  return etags.get(resource)
}

/** Options of a conditional replacement: the PUT answers 412 PRECONDITION_FAILED when the resource changed since that ETag. */
export interface ReplaceOptions extends RequestOptions {
  ifMatch?: string | undefined
}
