import Type from 'typebox'
import { NullableTimestamp, Timestamp, idSchema, stringEnum } from '../../http/schemas.ts'
import { PERMISSIONS } from './permissions.ts'
import { MAX_ROTATION_GRACE_SECONDS } from './service.ts'

const Mode = stringEnum(['live', 'test'])
const PermissionName = stringEnum(PERMISSIONS)

export const TokenSchema = Type.Object(
  {
    id: idSchema('tok'),
    name: Type.String(),
    mode: Mode,
    status: stringEnum(['ACTIVE', 'EXPIRED', 'REVOKED']),
    partner_id: idSchema('ptn'),
    user_id: idSchema('usr'),
    team_ids: Type.Array(idSchema('team')),
    scopes: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: all of the user\'s role permissions.' }),
    permissions: Type.Array(Type.String(), { description: 'Effective permissions: the role\'s permissions ∩ scopes.' }),
    prefix: Type.String({ description: 'The non-secret start of the current secret, to recognise it (tvb_test_AbCd1234).' }),
    expires_at: Timestamp,
    last_used_at: Type.Union([Timestamp, Type.Null()], { description: 'Updated at most once a minute.' }),
    revoked_at: NullableTimestamp,
    previous_secret_expires_at: Type.Union([Timestamp, Type.Null()], { description: 'After a rotation: when the previous secret stops working.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Token', additionalProperties: false },
)

export const TokenWithSecretSchema = Type.Object(
  {
    ...TokenSchema.properties,
    secret: Type.String({ description: 'The token itself. Shown once, now; only a hash is kept.', pattern: '^tvb_(live|test)_[0-9A-Za-z]{32}$' }),
  },
  { title: 'TokenWithSecret', additionalProperties: false },
)

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    mode: Type.Optional(stringEnum(['live', 'test'], { description: 'Must equal the calling token\'s mode (the default).' })),
    team_ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 100, description: 'Default: all of the calling token\'s teams.' })),
    scopes: Type.Optional(Type.Array(PermissionName, { maxItems: PERMISSIONS.length, description: 'Default: the calling token\'s permissions.' })),
    expires_at: Type.Optional(Type.String({ format: 'date-time', description: 'At most 365 days ahead and no later than the calling token. Default: 90 days (or the calling token\'s expiry, if sooner).' })),
  },
  { additionalProperties: false },
)

export const RotateTokenBody = Type.Object(
  {
    grace_period_seconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_ROTATION_GRACE_SECONDS, description: 'How long the previous secret keeps working. Default 3600 (1 h), at most 86400 (24 h).' }),
    ),
  },
  { additionalProperties: false },
)
