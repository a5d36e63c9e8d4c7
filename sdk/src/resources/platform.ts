import type { TravobooksCore } from '../core.ts'
import type { ReplaceOptions } from '../etag.ts'
import type { CursorList } from '../pagination.ts'
import type { CreatedToken, Event, ListQuery, Replacement, RequestBody, ResponseBody, TestClock, Token, WebhookDelivery, WebhookEndpoint } from '../types.ts'
import { cursorList, ifMatchHeader, keyHeader, withEtag } from './request-options.ts'
import type { PostOptions, WithEtag } from './request-options.ts'
import { verifyWebhook } from '../webhook-signatures.ts'
import type { WebhookHeaders } from '../webhook-signatures.ts'

export class Events {
  constructor(private readonly core: TravobooksCore) {}
  /** Events stay listable for 30 days: catch up after an outage with `{ after: lastSeenId }` or a time filter. */
  list(query: ListQuery<'/v1/events'> = {}): CursorList<Event> {
    return cursorList(query, (q) => this.core.GET('/v1/events', { params: { query: q } }))
  }
  async get(id: string): Promise<Event> {
    return (await this.core.GET('/v1/events/{id}', { params: { path: { id } } })) as Event
  }
}

export class Tokens {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/tokens'> = {}): CursorList<Token> {
    return cursorList(query, (q) => this.core.GET('/v1/tokens', { params: { query: q } }))
  }
  async get(id: string): Promise<Token> {
    return (await this.core.GET('/v1/tokens/{id}', { params: { path: { id } } })) as Token
  }
  /** The answer holds the secret, once: store it now. */
  create(body: RequestBody<'/v1/tokens', 'post'>, options?: PostOptions): Promise<CreatedToken> {
    return this.core.POST('/v1/tokens', { params: { header: keyHeader(options) }, body })
  }
  async revoke(id: string): Promise<void> {
    await this.core.DELETE('/v1/tokens/{id}', { params: { path: { id } } })
  }
  /** A new secret; the old one keeps working for the stated grace period. */
  rotate(id: string, body?: RequestBody<'/v1/tokens/{id}:rotate', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/tokens/{id}:rotate', 'post'>> {
    return this.core.POST('/v1/tokens/{id}:rotate', { params: { path: { id }, header: keyHeader(options) }, ...(body ? { body } : {}) })
  }
}

export class Webhooks {
  constructor(private readonly core: TravobooksCore) {}
  list(query: ListQuery<'/v1/webhooks'> = {}): CursorList<WebhookEndpoint> {
    return cursorList(query, (q) => this.core.GET('/v1/webhooks', { params: { query: q } }))
  }
  async get(id: string): Promise<WebhookEndpoint> {
    return (await this.core.GET('/v1/webhooks/{id}', { params: { path: { id } } })) as WebhookEndpoint
  }
  getWithEtag(id: string): Promise<WithEtag<WebhookEndpoint>> {
    return withEtag(this.get(id))
  }
  /** The answer holds the signing secret (whsec_…), once: store it now. */
  create(body: RequestBody<'/v1/webhooks', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks', 'post'>> {
    return this.core.POST('/v1/webhooks', { params: { header: keyHeader(options) }, body })
  }
  replace(id: string, body: Replacement<'/v1/webhooks/{id}', WebhookEndpoint>, options?: ReplaceOptions): Promise<WebhookEndpoint> {
    return this.core.PUT('/v1/webhooks/{id}', { params: { path: { id }, header: ifMatchHeader(options) }, body: body as RequestBody<'/v1/webhooks/{id}', 'put'> })
  }
  async delete(id: string): Promise<void> {
    await this.core.DELETE('/v1/webhooks/{id}', { params: { path: { id } } })
  }
  rotateSecret(id: string, body?: RequestBody<'/v1/webhooks/{id}:rotate-secret', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks/{id}:rotate-secret', 'post'>> {
    return this.core.POST('/v1/webhooks/{id}:rotate-secret', { params: { path: { id }, header: keyHeader(options) }, ...(body ? { body } : {}) })
  }
  test(id: string, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks/{id}:test', 'post'>> {
    return this.core.POST('/v1/webhooks/{id}:test', { params: { path: { id }, header: keyHeader(options) } })
  }
  /** Re-queues this endpoint's failed deliveries since a time. */
  recover(id: string, body: RequestBody<'/v1/webhooks/{id}:recover', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/webhooks/{id}:recover', 'post'>> {
    return this.core.POST('/v1/webhooks/{id}:recover', { params: { path: { id }, header: keyHeader(options) }, body })
  }
  listDeliveries(id: string, query: ListQuery<'/v1/webhooks/{id}/deliveries'> = {}): CursorList<WebhookDelivery> {
    return cursorList(query, (q) => this.core.GET('/v1/webhooks/{id}/deliveries', { params: { path: { id }, query: q } }))
  }
  retryDelivery(deliveryId: string, options?: PostOptions): Promise<ResponseBody<'/v1/webhook-deliveries/{id}:retry', 'post'>> {
    return this.core.POST('/v1/webhook-deliveries/{id}:retry', { params: { path: { id: deliveryId }, header: keyHeader(options) } })
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
  get(): Promise<TestClock> {
    return this.core.GET('/v1/test-clock')
  }
  /** Moves this partner's test-mode time forward: holds expire, invoices fall due, webhook retries come round. */
  advance(body: RequestBody<'/v1/test-clock:advance', 'post'>, options?: PostOptions): Promise<ResponseBody<'/v1/test-clock:advance', 'post'>> {
    return this.core.POST('/v1/test-clock:advance', { params: { header: keyHeader(options) }, body })
  }
}
