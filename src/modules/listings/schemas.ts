import Type from 'typebox'
import { MoneySchema } from '../../http/money-schema.ts'
import { Timestamp, idSchema, replacementBody, stringEnum } from '../../http/schemas.ts'

export const LISTING_STATES = ['ACTIVE', 'INACTIVE', 'ARCHIVED'] as const

const Address = Type.Object(
  {
    country_code: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2.', examples: ['VN'] }),
    province_code: Type.Union([Type.String({ pattern: '^[A-Z0-9]{1,3}$', description: 'ISO 3166-2 subdivision suffix (SG for VN-SG).' }), Type.Null()]),
    city: Type.String({ minLength: 1, maxLength: 200 }),
    line1: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
)

export const ListingSchema = Type.Object(
  {
    id: idSchema('lst'),
    team_id: idSchema('team'),
    mode: stringEnum(['live', 'test']),
    name: Type.String(),
    description: Type.String(),
    state: stringEnum(LISTING_STATES),
    address: Address,
    max_guests: Type.Integer(),
    bedrooms: Type.Integer(),
    nightly_rate: MoneySchema,
    timezone: Type.String({ description: 'IANA time zone.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Listing', additionalProperties: false },
)

const writable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
  state: Type.Optional(stringEnum(['ACTIVE', 'INACTIVE'], { description: 'Default ACTIVE. ARCHIVED is reached with DELETE.' })),
  address: Type.Object(
    {
      country_code: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2.' }),
      province_code: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Z0-9]{1,3}$' }), Type.Null()])),
      city: Type.String({ minLength: 1, maxLength: 200 }),
      line1: Type.String({ minLength: 1, maxLength: 500 }),
    },
    { additionalProperties: false },
  ),
  max_guests: Type.Integer({ minimum: 1, maximum: 1000 }),
  bedrooms: Type.Integer({ minimum: 0, maximum: 1000 }),
  nightly_rate: MoneySchema,
  timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Asia/Ho_Chi_Minh.' }),
}

export const CreateListingBody = Type.Object(
  { team_id: Type.Optional(Type.String({ maxLength: 64, description: 'Required when the token covers several teams.' })), ...writable },
  { additionalProperties: false },
)

/** What GET returns that a PUT may echo back unchanged. */
export const LISTING_READ_ONLY = ['id', 'team_id', 'mode', 'created_at', 'updated_at'] as const
const { id, team_id, mode, created_at, updated_at } = ListingSchema.properties
export const ReplaceListingBody = replacementBody({ ...writable, address: Type.Object(Type.Required(writable.address).properties, { additionalProperties: false }) }, { id, team_id, mode, created_at, updated_at })

export type CreateListingInput = Type.Static<typeof CreateListingBody>
export type ReplaceListingInput = Type.Static<typeof ReplaceListingBody>

export const CalendarSchema = Type.Object(
  {
    listing_id: idSchema('lst'),
    from: Type.String({ format: 'date' }),
    to: Type.String({ format: 'date' }),
    nights: Type.Array(
      Type.Object({
        date: Type.String({ format: 'date', description: 'The night starting on this date.' }),
        available: Type.Boolean(),
        price: MoneySchema,
      }),
    ),
  },
  { title: 'Calendar', additionalProperties: false },
)
