import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../platform/db.ts'
import { oldestPendingAgeSeconds } from '../modules/webhooks/repository.ts'

/** Prometheus metrics of one app instance (own registry, so several apps in one process never clash). */
export function createMetrics(db: Db) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'tvb_process_' })
  const httpRequests = new Counter({
    name: 'tvb_http_requests_total',
    help: 'HTTP requests by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  })
  const httpDuration = new Histogram({
    name: 'tvb_http_request_duration_seconds',
    help: 'HTTP request latency by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const argon2Verifications = new Counter({ name: 'tvb_token_argon2_verifications_total', help: 'Argon2id verifications (token cache misses that reached a hash).', registers: [registry] })
  const cacheHits = new Counter({ name: 'tvb_token_cache_hits_total', help: 'Requests authenticated from the in-memory token cache.', registers: [registry] })
  const authFailures = new Counter({ name: 'tvb_auth_failures_total', help: 'Failed authentications by reason.', labelNames: ['reason'] as const, registers: [registry] })
  const rateLimitFallbacks = new Counter({ name: 'tvb_rate_limit_fallback_total', help: 'Requests whose rate limit was counted in this instance\'s memory because Redis did not answer.', registers: [registry] })
  const rateLimitDegraded = new Gauge({ name: 'tvb_rate_limit_store_degraded', help: '1 while Redis is unreachable and rate limits are per instance, else 0.', registers: [registry] })
  new Gauge({
    name: 'tvb_db_queries_total',
    help: 'Database queries sent by this process since start.',
    registers: [registry],
    collect() {
      this.set(db.queryCount)
    },
  })
  const webhookDeliveries = new Counter({
    name: 'tvb_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: succeeded, retrying (failed, will retry), failed (attempts exhausted), disabled (410 Gone or 5 days failing).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const webhookAttemptSeconds = new Histogram({
    name: 'tvb_webhook_attempt_duration_seconds',
    help: 'Latency of webhook delivery attempts, from request to the end of the answer (or the error).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  })
  new Gauge({
    name: 'tvb_webhook_oldest_pending_seconds',
    help: 'Age of the oldest webhook delivery not yet delivered (0: none pending).',
    registers: [registry],
    async collect() {
      this.set(await oldestPendingAgeSeconds(db, new Date()))
    },
  })
  return { registry, webhookDeliveries, webhookAttemptSeconds, httpRequests, httpDuration, argon2Verifications, cacheHits, authFailures, rateLimitFallbacks, rateLimitDegraded }
}

export type Metrics = ReturnType<typeof createMetrics>
