import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import type { Event } from './types.ts'

export { WebhookVerificationError }

/** Headers as fetch (Headers), Node's http (IncomingHttpHeaders) or a plain object hands them over. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>

const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const

/**
 * A Headers by shape, not by `instanceof`: a framework's or polyfill's Headers (undici's in a
 * bundle, a test double, another realm's) is a different class with the same methods.
 */
function isHeadersLike(headers: WebhookHeaders): headers is Headers {
  const candidate = headers as Partial<Record<'get' | 'forEach' | 'entries', unknown>>
  return typeof candidate.get === 'function' && (typeof candidate.forEach === 'function' || typeof candidate.entries === 'function')
}

function signatureHeaders(headers: WebhookHeaders): Record<string, string> {
  const picked: Record<string, string> = {}
  const fetchHeaders = isHeadersLike(headers) ? headers : undefined
  const lowered = fetchHeaders ? undefined : Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  for (const name of SIGNATURE_HEADERS) {
    const value = fetchHeaders ? fetchHeaders.get(name) : lowered?.[name]
    const text = Array.isArray(value) ? value.join(' ') : value
    if (typeof text !== 'string' || text === '') throw new WebhookVerificationError(`Missing ${name} header`)
    picked[name] = text
  }
  return picked
}

/** Verifies a Standard Webhooks delivery (signature and timestamp tolerance) and returns its event. */
export function verifyWebhook(body: string | Uint8Array, headers: WebhookHeaders, secret: string): Event {
  const payload = typeof body === 'string' ? body : new TextDecoder().decode(body)
  return new Webhook(secret).verify(payload, signatureHeaders(headers)) as Event
}
