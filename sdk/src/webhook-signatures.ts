import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import type { Event } from './types.ts'

export { WebhookVerificationError }

/** Headers as fetch (Headers), Node's http (IncomingHttpHeaders) or a plain object hands them over. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>

const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const

function signatureHeaders(headers: WebhookHeaders): Record<string, string> {
  const picked: Record<string, string> = {}
  const lowered = headers instanceof Headers ? undefined : Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  for (const name of SIGNATURE_HEADERS) {
    const value = lowered ? lowered[name] : (headers as Headers).get(name)
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
