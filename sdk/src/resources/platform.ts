import type { TravobooksCore } from '../core.ts'
import type { ReplaceOptions } from '../etag.ts'
import type { CursorList } from '../pagination.ts'
import type { CreatedToken, Event, ListQuery, Replacement, RequestBody, ResponseBody, Sandbox, TestClock, Token, WebhookDelivery, WebhookEndpoint } from '../types.ts'
import { cursorList, ifMatchHeader, keyHeader, signalOf, withEtag } from './request-options.ts'
import type { PostOptions, RequestOptions, WithEtag } from './request-options.ts'
import { verifyWebhook } from '../webhook-signatures.ts'
import type { WebhookHeaders } from '../webhook-signatures.ts'

export class Events {
  constructor(private readonly core: TravobooksCore) {}
  /** Events stay listable for 30 days: catch up after an outage with `{ after: lastSeenId }` or a time filter. */
  list(query: ListQuery<'/v1/events'> = {}, options?: RequestOptions): CursorList<Event> {
    return cursorList(query, (q) => this.core.GET('/v1/events', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Event> {
    return (await this.core.GET('/v1/events/{id}', { params: { path: { id } }, ...signalOf(options) })) as Event
  }
}

export class Tokens {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/tokens'> = {}, options?: RequestOptions): CursorList<Token> {
    return cursorList(query, (q) => this.core.GET('/v1/tokens', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<Token> {
    return (await this.core.GET('/v1/tokens/{id}', { params: { path: { id } }, ...signalOf(options) })) as Token
  }
  /** The answer holds the secret, once: store it now. */
  create(body: RequestBody<'/v1/tokens', 'post'>, options?: PostOptions): Promise<CreatedToken> {
    return this.core.POST('/v1/tokens', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  async revoke(id: string, options?: RequestOptions): Promise<void> {
    await this.core.DELETE('/v1/tokens/{id}', { params: { path: { id } }, ...signalOf(options) })
  }
  /** A new secret; the old one keeps working for the stated grace period. */
  rotate(id: string, body?: RequestBody<'/v1/tokens/{id}:rotate', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/tokens/{id}:rotate', 'post'>> {
    return this.core.POST('/v1/tokens/{id}:rotate', { params: { path: { id }, header: keyHeader(options) }, ...(body ? { body } : {}), ...signalOf(options) })
  }
}

export class Webhooks {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/webhooks'> = {}, options?: RequestOptions): CursorList<WebhookEndpoint> {
    return cursorList(query, (q) => this.core.GET('/v1/webhooks', { params: { query: q }, ...signalOf(options) }))
  }
  async get(id: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return (await this.core.GET('/v1/webhooks/{id}', { params: { path: { id } }, ...signalOf(options) })) as WebhookEndpoint
  }
  getWithEtag(id: string, options?: RequestOptions): Promise<WithEtag<WebhookEndpoint>> {
    return withEtag(this.get(id, options))
  }
  /** The answer holds the signing secret (whsec_…), once: store it now. */
  create(body: RequestBody<'/v1/webhooks', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks', 'post'>> {
    return this.core.POST('/v1/webhooks', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
  replace(id: string, body: Replacement<'/v1/webhooks/{id}', WebhookEndpoint>, options?: ReplaceOptions): Promise<WebhookEndpoint> {
    return this.core.PUT('/v1/webhooks/{id}', { params: { path: { id }, header: ifMatchHeader(options) }, body: body as RequestBody<'/v1/webhooks/{id}', 'put'>, ...signalOf(options) })
  }
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.core.DELETE('/v1/webhooks/{id}', { params: { path: { id } }, ...signalOf(options) })
  }
  rotateSecret(id: string, body?: RequestBody<'/v1/webhooks/{id}:rotate-secret', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks/{id}:rotate-secret', 'post'>> {
    return this.core.POST('/v1/webhooks/{id}:rotate-secret', { params: { path: { id }, header: keyHeader(options) }, ...(body ? { body } : {}), ...signalOf(options) })
  }
  test(id: string, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks/{id}:test', 'post'>> {
    return this.core.POST('/v1/webhooks/{id}:test', { params: { path: { id }, header: keyHeader(options) }, ...signalOf(options) })
  }
  /** Re-queues this endpoint's failed deliveries since a time. */
  recover(id: string, body: RequestBody<'/v1/webhooks/{id}:recover', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks/{id}:recover', 'post'>> {
    return this.core.POST('/v1/webhooks/{id}:recover', { params: { path: { id }, header: keyHeader(options) }, body, ...signalOf(options) })
  }
  listDeliveries(id: string, query: ListQuery<'/v1/webhooks/{id}/deliveries'> = {}, options?: RequestOptions): CursorList<WebhookDelivery> {
    return cursorList(query, (q) => this.core.GET('/v1/webhooks/{id}/deliveries', { params: { path: { id }, query: q }, ...signalOf(options) }))
  }
  retryDelivery(deliveryId: string, options?: PostOptions): Promise<ResponseBody<'/v1/webhook-deliveries/{id}:retry', 'post'>> {
    return this.core.POST('/v1/webhook-deliveries/{id}:retry', { params: { path: { id: deliveryId }, header: keyHeader(options) }, ...signalOf(options) })
  }
  /**
   * Checks a delivery's Standard Webhooks signature (and that its timestamp is recent) against the
   * endpoint's secret, and returns the parsed event; throws WebhookVerificationError otherwise.
   * Pass the raw body exactly as received: re-serialized JSON no longer matches its signature.
   */
  verify(body: string | Uint8Array, headers: WebhookHeaders, secret: string): Event {
    return verifyWebhook(body, headers, secret)
  }
}

export class TestClockResource {
  constructor(private readonly core: TravobooksCore) {}
  get(options?: RequestOptions): Promise<TestClock> {
    return this.core.GET('/v1/test-clock', signalOf(options))
  }
  /** Moves this partner's test-mode time forward: holds expire, invoices fall due, webhook retries come round. */
  advance(body: RequestBody<'/v1/test-clock:advance', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/test-clock:advance', 'post'>> {
    return this.core.POST('/v1/test-clock:advance', { params: { header: keyHeader(options) }, body, ...signalOf(options) })
  }
}

/** Test mode's rehearsal kit: the magic listings and payment references, the test clock, mock answers. */
export class SandboxResource {
  constructor(private readonly core: TravobooksCore) {}
  /** Any token may read it; with a live one, magic_values_active is false (the values do nothing there). */
  get(options?: RequestOptions): Promise<Sandbox> {
    return this.core.GET('/v1/sandbox', signalOf(options))
  }
}
