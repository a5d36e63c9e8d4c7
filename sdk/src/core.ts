import createClient from 'openapi-fetch'
import type { Client, ClientPathsWithMethod, MaybeOptionalInit } from 'openapi-fetch'
import { rememberEtag } from './etag.ts'
import { errorFromResponse } from './errors.ts'
import { serializeQuery } from './query.ts'
import { DEFAULT_RETRY_POLICY, retryingFetch } from './retrying-fetch.ts'
import type { HttpMethod, SdkPaths, Success } from './types.ts'

export interface TravobooksOptions {
  /** A token, `tvb_test_…` or `tvb_live_…`. Default: the TVB_TOKEN environment variable (Node). */
  token?: string | undefined
  /** Default: TVB_BASE_URL, else http://localhost:3000. */
  baseUrl?: string | undefined
  /** Retries of a request after its first attempt (429, 503, 409 in progress, network). Default 3; 0 turns retrying off. */
  maxRetries?: number | undefined
  /**
   * How long each attempt waits for the server's answer to start, in milliseconds (default 60000).
   * A timed-out GET or POST is retried like a lost connection; the last one throws code `TIMEOUT`.
   * To bound a whole call, retries included, pass a `signal` (e.g. `AbortSignal.timeout(…)`).
   */
  timeoutMs?: number | undefined
  /** A fetch to use instead of the global one (a proxy agent, a test double, an instrumented fetch). */
  fetch?: typeof fetch | undefined
}

// Declared here rather than through @types/node: the SDK compiles for browsers too.
declare const process: { env: Record<string, string | undefined> }

/** Reads the environment where there is one (Node, Deno, Bun), and nothing in a browser. */
function fromEnv(name: string): string | undefined {
  if (typeof process === 'undefined' || typeof process.env !== 'object') return undefined
  const value = process.env[name]
  return value === undefined || value === '' ? undefined : value
}

type PathsWith<M extends HttpMethod> = ClientPathsWithMethod<Client<SdkPaths>, M>
type Operation<P, M extends HttpMethod> = P extends keyof SdkPaths ? NonNullable<SdkPaths[P][M & keyof SdkPaths[P]]> : never
type InitOf<P, M extends HttpMethod> = P extends keyof SdkPaths ? MaybeOptionalInit<SdkPaths[P], M & keyof SdkPaths[P]> : never
/** The init argument, optional exactly when the operation needs no parameters or body. */
type InitArgs<P, M extends HttpMethod> = undefined extends InitOf<P, M> ? [init?: InitOf<P, M>] : [init: InitOf<P, M>]
export type Result<P, M extends HttpMethod> = Success<Operation<P, M>>

interface RawResult {
  data?: unknown
  error?: unknown
  response: Response
}

/**
 * Typed calls on every path of the OpenAPI document. Each resolves to the success body and
 * rejects with a TravobooksError; retries and Idempotency-Keys happen underneath.
 */
export class TravobooksCore {
  readonly baseUrl: string
  readonly #client: Client<SdkPaths>

  constructor(options: TravobooksOptions = {}) {
    const token = options.token ?? fromEnv('TVB_TOKEN')
    this.baseUrl = (options.baseUrl ?? fromEnv('TVB_BASE_URL') ?? 'http://localhost:3000').replace(/\/+$/, '')
    const custom = options.fetch
    // Looked up per call, so a fetch patched or polyfilled after construction is still used.
    const send = (request: Request) => (custom ?? globalThis.fetch)(request)
    this.#client = createClient<SdkPaths>({
      baseUrl: this.baseUrl,
      fetch: retryingFetch(send, {
        ...DEFAULT_RETRY_POLICY,
        maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
        timeoutMs: options.timeoutMs ?? DEFAULT_RETRY_POLICY.timeoutMs,
      }),
      querySerializer: (query) => serializeQuery(query as Record<string, unknown>),
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
  }

  GET<P extends PathsWith<'get'>>(path: P, ...init: InitArgs<P, 'get'>): Promise<Result<P, 'get'>> {
    return this.#call('get', path, init[0])
  }

  POST<P extends PathsWith<'post'>>(path: P, ...init: InitArgs<P, 'post'>): Promise<Result<P, 'post'>> {
    return this.#call('post', path, init[0])
  }

  PUT<P extends PathsWith<'put'>>(path: P, ...init: InitArgs<P, 'put'>): Promise<Result<P, 'put'>> {
    return this.#call('put', path, init[0])
  }

  DELETE<P extends PathsWith<'delete'>>(path: P, ...init: InitArgs<P, 'delete'>): Promise<Result<P, 'delete'>> {
    return this.#call('delete', path, init[0])
  }

  async #call<R>(method: HttpMethod, path: string, init: object | undefined): Promise<R> {
    const request = this.#client.request as (method: HttpMethod, path: string, init?: object) => Promise<RawResult>
    const { data, error, response } = await request(method, path, init)
    if (!response.ok) throw errorFromResponse(response, error)
    rememberEtag(data, response)
    return data as R
  }
}
