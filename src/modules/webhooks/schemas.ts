import Type from 'typebox'
import { NullableTimestamp, Timestamp, idSchema, replacementBody, stringEnum } from '../../http/schemas.ts'
import { API_VERSIONS, DELIVERY_STATUSES, MAX_SECRET_GRACE_SECONDS, SUBSCRIBABLE_EVENT_TYPES } from './service.ts'
import { EVENT_TYPES } from '../events/service.ts'
import { MAX_TARGET_URL_LENGTH } from './targets.ts'

export const WebhookSchema = Type.Object(
  {
    id: idSchema('whk'),
    team_ids: Type.Array(idSchema('team'), { description: 'The teams whose events this endpoint receives.' }),
    mode: stringEnum(['live', 'test']),
    url: Type.String({ format: 'uri' }),
    description: Type.String(),
    event_types: Type.Array(stringEnum(SUBSCRIBABLE_EVENT_TYPES), { description: 'The event types it receives; empty: all of them.' }),
    enabled: Type.Boolean(),
    disabled_reason: Type.Union([stringEnum(['manual', 'gone', 'failing']), Type.Null()], {
      description: 'Why it is disabled: manual (PUT enabled: false), gone (it answered 410), failing (5 days without a success).',
    }),
    api_version: stringEnum(API_VERSIONS, { description: 'The API version its payloads are rendered in: v2 renders bookings as /v2/bookings does (docs/migrating-to-v2.md), every other resource as v1.' }),
    previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], { description: 'After a rotation: until then every delivery is signed with both secrets.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Webhook', additionalProperties: false },
)

export const WebhookWithSecretSchema = Type.Object(
  {
    ...WebhookSchema.properties,
    secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{43}=$', description: 'The signing secret (Standard Webhooks). Shown once, now.' }),
  },
  { title: 'WebhookWithSecret', additionalProperties: false },
)

const writable = {
  url: Type.String({ minLength: 1, maxLength: MAX_TARGET_URL_LENGTH, description: 'https in live mode. Private, loopback and link-local addresses are refused.', examples: ['https://hooks.example.com/travobooks'] }),
  description: Type.String({ maxLength: 500 }),
  event_types: Type.Array(stringEnum(SUBSCRIBABLE_EVENT_TYPES), { maxItems: SUBSCRIBABLE_EVENT_TYPES.length, description: 'Empty or absent: every event type.' }),
  team_ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 100, description: 'A subset of the token\'s teams; default all of them.' }),
  enabled: Type.Boolean(),
  api_version: stringEnum(API_VERSIONS),
}

export const CreateWebhookBody = Type.Object(
  {
    url: writable.url,
    description: Type.Optional(writable.description),
    event_types: Type.Optional(writable.event_types),
    team_ids: Type.Optional(writable.team_ids),
    enabled: Type.Optional(writable.enabled),
    api_version: Type.Optional(writable.api_version),
  },
  { additionalProperties: false },
)

export const ReplaceWebhookBody = replacementBody(writable, {
  id: Type.String(),
  mode: Type.String(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  previous_secret_expires_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
})

/** Fields a PUT body may carry back from GET, refused when they differ from the stored ones. */
export const WEBHOOK_READ_ONLY = ['id', 'mode', 'disabled_reason', 'previous_secret_expires_at', 'created_at', 'updated_at'] as const

export const RotateSecretBody = Type.Object(
  {
    grace_period_seconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_SECRET_GRACE_SECONDS, description: 'How long the previous secret keeps signing beside the new one. Default and at most 86400 (24 h).' }),
    ),
  },
  { additionalProperties: false },
)

export const RecoverBody = Type.Object({ since: Type.String({ format: 'date-time', description: 'Re-queue the FAILED deliveries created since then.' }) }, { additionalProperties: false })

export const DeliverySchema = Type.Object(
  {
    id: idSchema('dlv'),
    webhook_id: idSchema('whk'),
    event_id: idSchema('evt'),
    event_type: stringEnum(EVENT_TYPES),
    status: stringEnum(DELIVERY_STATUSES, { description: 'PENDING (waiting for an attempt or a retry), SUCCEEDED (a 2xx), FAILED (attempts exhausted, 410, or endpoint disabled).' }),
    attempt_count: Type.Integer({ minimum: 0 }),
    next_attempt_at: Type.Union([Timestamp, Type.Null()]),
    delivered_at: NullableTimestamp,
    last_status_code: Type.Union([Type.Integer(), Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
    attempts: Type.Array(
      Type.Object(
        {
          attempt: Type.Integer({ minimum: 1 }),
          attempted_at: Timestamp,
          status_code: Type.Union([Type.Integer(), Type.Null()], { description: 'The HTTP status, or null when none came back (see error_class).' }),
          error_class: Type.Union([Type.String(), Type.Null()], { description: 'timeout, connection_refused, connection_reset, dns, tls, forbidden_target, redirect, http_status, …' }),
          latency_ms: Type.Integer({ minimum: 0 }),
          response_body: Type.Union([Type.String(), Type.Null()], { description: 'The first 2 KiB of the answer.' }),
        },
        { additionalProperties: false },
      ),
      { description: 'The last 20 attempts, oldest first.' },
    ),
  },
  { title: 'WebhookDelivery', additionalProperties: false },
)
