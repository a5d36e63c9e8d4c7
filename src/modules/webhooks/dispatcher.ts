import { Agent, request } from 'undici'
import { Webhook } from 'standardwebhooks'
import type { Clock } from '../../platform/clock.ts'
import type { Db } from '../../platform/db.ts'
import { findEventById } from '../events/repository.ts'
import type { Event } from '../events/service.ts'
import { toEvent } from '../events/service.ts'
import * as repo from './repository.ts'
import type { ClaimedDelivery, EndpointRow } from './repository.ts'
import { DISABLE_AFTER_FAILING_MS, nextAttemptAt, parseRetryAfter } from './schedule.ts'
import { checkTargetUrl, guardedLookup } from './targets.ts'
import { disableAndRecord } from './service.ts'

/** Renders an event's body in an endpoint's api_version (the surface presenters, injected from above). */
export type EventRenderer = (apiVersion: string, event: Event) => string

export interface DispatcherMetrics {
  outcome(outcome: 'succeeded' | 'retrying' | 'failed' | 'disabled'): void
  attemptSeconds(seconds: number): void
}

export interface DispatcherOptions {
  db: Db
  clock: Clock
  render: EventRenderer
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: local development and tests only. */
  allowPrivateTargets: boolean
  metrics?: DispatcherMetrics
  /** An attempt that could not be recorded (the database went away): it is retried after its lease. */
  onError?: (error: unknown, deliveryId: string) => void
  /** Deliveries one dispatcher has in flight at most, and per endpoint. */
  concurrency?: number
  perEndpoint?: number
  timeoutMs?: number
  /** How long a claim holds: longer than an attempt can take, short enough that a crashed dispatcher's claims come back soon. */
  leaseMs?: number
}

/** The part of a response body kept with an attempt. */
export const RESPONSE_BODY_CAP = 2048
const USER_AGENT = 'travoBooks-Webhooks/1.0 (+https://docs.travobooks.example/webhooks)'

/**
 * Delivers webhook deliveries: claims due ones (repo.claimDue, FOR UPDATE SKIP LOCKED, with a lease),
 * POSTs each signed event through undici (keep-alive per origin, 15 s in all, no redirects, the
 * resolved address checked at connect time), and records the attempt. It never awaits one
 * endpoint to serve another: each delivery runs on its own, at most `perEndpoint` per endpoint at
 * once, and a finished one wakes the next claim.
 */
export class Dispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'metrics' | 'onError'>> & Pick<DispatcherOptions, 'metrics' | 'onError'>
  readonly #agent: Agent
  readonly #inFlight = new Map<string, number>()
  readonly #running = new Set<Promise<void>>()
  #total = 0
  #wake: () => void = () => {}

  constructor(options: DispatcherOptions) {
    this.#o = { concurrency: 64, perEndpoint: 16, timeoutMs: 15_000, leaseMs: 60_000, ...options }
    this.#agent = new Agent({
      connect: { lookup: guardedLookup({ allowPrivate: options.allowPrivateTargets }), timeout: this.#o.timeoutMs },
      connections: this.#o.perEndpoint,
      keepAliveTimeout: 30_000,
      headersTimeout: this.#o.timeoutMs,
      bodyTimeout: this.#o.timeoutMs,
    })
  }

  /** Called when a delivery finishes, so the job runner claims again (set by the job). */
  onCapacity(wake: () => void): void {
    this.#wake = wake
  }

  /** One claim: starts up to the free capacity of due deliveries; returns how many it started. */
  async runOnce(): Promise<{ handled: number; more: boolean }> {
    const free = this.#o.concurrency - this.#total
    if (free <= 0) return { handled: 0, more: false }
    const now = this.#o.clock.now()
    const claimed = await repo.claimDue(this.#o.db, now, new Date(now.getTime() + this.#o.leaseMs), free, this.#o.perEndpoint, this.#inFlight)
    for (const delivery of claimed) this.#start(delivery)
    return { handled: claimed.length, more: claimed.length === free }
  }

  /** Waits for the attempts under way (graceful stop), then closes the connections. */
  async stop(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running])
    await this.#agent.close()
  }

  #start(delivery: ClaimedDelivery): void {
    const endpointId = delivery.endpoint_id
    this.#inFlight.set(endpointId, (this.#inFlight.get(endpointId) ?? 0) + 1)
    this.#total++
    const run = this.#attempt(delivery)
      .catch((error: unknown) => {
        // the lease lapses and another pass retries it: nothing is lost, but say why
        this.#o.onError?.(error, delivery.id)
      })
      .finally(() => {
        this.#running.delete(run)
        this.#total--
        const left = (this.#inFlight.get(endpointId) ?? 1) - 1
        if (left === 0) this.#inFlight.delete(endpointId)
        else this.#inFlight.set(endpointId, left)
        this.#wake()
      })
    this.#running.add(run)
  }

  async #attempt(delivery: ClaimedDelivery): Promise<void> {
    const { db } = this.#o
    // the delivery's own time: its partner's test clock in test mode (attempts, retries and the
    // failing streak follow it); signatures stay on real time (#send), as receivers check them
    const offsetMs = delivery.clock_offset_seconds * 1000
    const clock = { now: () => new Date(this.#o.clock.now().getTime() + offsetMs) }
    const [endpoint, eventRow] = await Promise.all([repo.findEndpointById(db, delivery.endpoint_id), findEventById(db, delivery.event_id)])
    const at = clock.now()
    if (!endpoint || !eventRow) return // deleted since the claim (cascade): nothing to deliver
    if (!endpoint.enabled) {
      await repo.recordAttempt(db, { deliveryId: delivery.id, attempt: delivery.attempt, at, statusCode: null, errorClass: 'endpoint_disabled', latencyMs: 0, responseBody: null }, { status: 'FAILED', nextAttemptAt: null, error: 'The endpoint is disabled.' })
      return
    }
    const body = this.#o.render(endpoint.api_version, toEvent(eventRow))
    const started = performance.now()
    const result = await this.#send(endpoint, eventRow.id, body)
    const latencyMs = Math.round(performance.now() - started)
    this.#o.metrics?.attemptSeconds(latencyMs / 1000)
    const now = clock.now()
    const record = { deliveryId: delivery.id, attempt: delivery.attempt, at, statusCode: result.status, errorClass: result.errorClass, latencyMs, responseBody: result.body }

    if (result.status !== null && result.status >= 200 && result.status < 300) {
      await repo.recordSuccess(db, record)
      this.#o.metrics?.outcome('succeeded')
      return
    }
    if (result.status === 410) {
      await db.transaction(async (tx) => {
        await repo.recordAttempt(tx, record, { status: 'FAILED', nextAttemptAt: null, error: 'The endpoint answered 410 Gone: it is disabled.' })
        await disableAndRecord(tx, endpoint, 'gone', now)
      })
      this.#o.metrics?.outcome('disabled')
      return
    }
    // an HTTP-date Retry-After is the receiver's real time
    const retryAfter = result.status === 429 || result.status === 503 ? parseRetryAfter(result.retryAfter, this.#o.clock.now()) : null
    const next = nextAttemptAt(delivery.attempt, now, retryAfter)
    const error = result.error ?? `HTTP ${result.status}`
    await db.transaction(async (tx) => {
      await repo.recordAttempt(tx, record, { status: next ? 'PENDING' : 'FAILED', nextAttemptAt: next, error })
      const failingSince = await repo.markEndpointFailing(tx, endpoint.id, now)
      if (failingSince && now.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_MS) await disableAndRecord(tx, endpoint, 'failing', now)
    })
    this.#o.metrics?.outcome(next ? 'retrying' : 'failed')
  }

  async #send(endpoint: EndpointRow, eventId: string, body: string): Promise<{ status: number | null; errorClass: string | null; error: string | null; body: string | null; retryAfter?: string | string[] }> {
    // an IP literal never reaches the resolver: check it here (the registration check may predate a policy change)
    const problem = checkTargetUrl(endpoint.url, { mode: endpoint.mode, allowPrivate: this.#o.allowPrivateTargets })
    if (problem) return { status: null, errorClass: 'forbidden_target', error: problem.message, body: null }
    const now = this.#o.clock.now()
    const timestamp = new Date(Math.floor(now.getTime() / 1000) * 1000)
    const signatures = [new Webhook(endpoint.secret).sign(eventId, timestamp, body)]
    if (endpoint.previous_secret && endpoint.previous_secret_valid_until && endpoint.previous_secret_valid_until > now) {
      signatures.push(new Webhook(endpoint.previous_secret).sign(eventId, timestamp, body))
    }
    try {
      const response = await request(endpoint.url, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'webhook-id': eventId,
          'webhook-timestamp': String(timestamp.getTime() / 1000),
          'webhook-signature': signatures.join(' '),
        },
        body,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      })
      const text = await readCapped(response.body, RESPONSE_BODY_CAP)
      const status = response.statusCode
      const redirect = status >= 300 && status < 400
      return {
        status,
        errorClass: status >= 200 && status < 300 ? null : redirect ? 'redirect' : 'http_status',
        error: redirect ? `HTTP ${status}: redirects are not followed; register the final URL.` : null,
        body: text,
        retryAfter: response.headers['retry-after'],
      }
    } catch (error) {
      const { errorClass, message } = classify(error)
      return { status: null, errorClass, error: message, body: null }
    }
  }
}

async function readCapped(stream: AsyncIterable<Buffer> & { destroy(): void }, cap: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= cap) break
    }
  } catch {
    // a reset mid-body still leaves the status and what arrived
  } finally {
    stream.destroy()
  }
  const text = Buffer.concat(chunks).subarray(0, cap).toString('utf8')
  return size > cap ? `${text}…[truncated]` : text
}

/** An error class for the record (and the partner): what went wrong, without a stack. */
function classify(error: unknown): { errorClass: string; message: string } {
  const chain: unknown[] = []
  for (let e: unknown = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e)
  // both: an AbortSignal timeout is a DOMException named TimeoutError whose code is a number
  const codes = chain.flatMap((e) => [String((e as { code?: unknown }).code ?? ''), String((e as { name?: unknown }).name ?? '')])
  const has = (...names: string[]) => codes.some((c) => names.includes(c))
  if (has('WEBHOOK_TARGET_FORBIDDEN')) return { errorClass: 'forbidden_target', message: 'The URL resolves to an address webhooks may not reach (private, loopback, link-local or metadata).' }
  if (has('TimeoutError', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'AbortError')) return { errorClass: 'timeout', message: 'No complete answer within 15 s.' }
  if (has('ENOTFOUND', 'EAI_AGAIN')) return { errorClass: 'dns', message: 'The host name does not resolve.' }
  if (has('ECONNREFUSED')) return { errorClass: 'connection_refused', message: 'The connection was refused.' }
  if (has('ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE')) return { errorClass: 'connection_reset', message: 'The connection was closed before a complete answer.' }
  if (codes.some((c) => c.startsWith('ERR_TLS') || c.includes('CERT') || c === 'EPROTO')) return { errorClass: 'tls', message: 'The TLS handshake failed (certificate or protocol).' }
  return { errorClass: 'network', message: error instanceof Error ? error.message.slice(0, 200) : 'The request failed.' }
}
