import Type from 'typebox'
import { Timestamp, idSchema, replacementBody, stringEnum } from '../../http/schemas.ts'

export const CustomerSchema = Type.Object(
  {
    id: idSchema('cus'),
    team_id: idSchema('team'),
    mode: stringEnum(['live', 'test']),
    name: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    phone: Type.Union([Type.String(), Type.Null()], { description: 'E.164.' }),
    language: Type.Union([Type.String(), Type.Null()], { description: 'BCP 47.' }),
    country_code: Type.Union([Type.String(), Type.Null()], { description: 'ISO 3166-1 alpha-2.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Customer', additionalProperties: false },
)

const writable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
  phone: Type.Optional(Type.Union([Type.String({ maxLength: 16, description: 'E.164: +84901234567.' }), Type.Null()])),
  language: Type.Optional(Type.Union([Type.String({ maxLength: 35, description: 'BCP 47: vi, en-US.' }), Type.Null()])),
  country_code: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Z]{2}$' }), Type.Null()])),
}

export const CreateCustomerBody = Type.Object({ team_id: Type.Optional(Type.String({ maxLength: 64, description: 'Required when the token covers several teams.' })), ...writable }, { additionalProperties: false })
/** What GET returns that a PUT may echo back unchanged. */
export const CUSTOMER_READ_ONLY = ['id', 'team_id', 'mode', 'created_at', 'updated_at'] as const
const { id, team_id, mode, created_at, updated_at } = CustomerSchema.properties
export const ReplaceCustomerBody = replacementBody(writable, { id, team_id, mode, created_at, updated_at })
export type CreateCustomerInput = Type.Static<typeof CreateCustomerBody>
export type ReplaceCustomerInput = Type.Static<typeof ReplaceCustomerBody>
