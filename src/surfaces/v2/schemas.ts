import Type from 'typebox'
import { MoneySchema } from '../../http/money-schema.ts'
import { NullableTimestamp, Timestamp, idSchema, stringEnum } from '../../http/schemas.ts'
import { BOOKING_STATUSES, CreateBookingBody, GuestDetailsSchema } from '../../modules/bookings/schemas.ts'

/** v2's booking: see presentBookingV2 and docs/migrating-to-v2.md. */
export const BookingV2Schema = Type.Object(
  {
    id: idSchema('bkg'),
    status: stringEnum(BOOKING_STATUSES),
    team_id: idSchema('team'),
    mode: stringEnum(['live', 'test']),
    listing_id: idSchema('lst'),
    customer_id: idSchema('cus'),
    stay: Type.Object(
      {
        check_in: Type.String({ format: 'date' }),
        check_out: Type.String({ format: 'date', description: 'The morning the guests leave: not a night of the stay.' }),
        nights: Type.Integer({ minimum: 1 }),
        guests: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    price: Type.Object(
      {
        total: MoneySchema,
        nightly: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), rate: MoneySchema }, { additionalProperties: false }), {
          description: 'One entry per night, check_in first; the rates add up to total.',
        }),
      },
      { additionalProperties: false, description: 'Fixed when the booking was made (or its stay changed).' },
    ),
    hold_expires_at: Timestamp,
    confirmed_at: NullableTimestamp,
    issued_at: NullableTimestamp,
    voucher_number: Type.Union([Type.String(), Type.Null()]),
    cancelled_at: NullableTimestamp,
    cancellation_reason: Type.Union([Type.String(), Type.Null()]),
    expired_at: NullableTimestamp,
    external_reference: Type.Union([
      Type.Object({ system: Type.String(), booking_id: Type.String() }, { additionalProperties: false, description: 'The booking in your own system; unique per partner and mode.' }),
      Type.Null(),
    ]),
    guest_details: Type.Union([GuestDetailsSchema, Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'BookingV2', additionalProperties: false },
)

const v1 = CreateBookingBody.properties

/** v2's creation body: the stay as one object, the external reference as one object (both halves or neither). */
export const CreateBookingV2Body = Type.Object(
  {
    listing_id: v1.listing_id,
    customer_id: v1.customer_id,
    stay: Type.Object({ check_in: v1.check_in, check_out: v1.check_out, guests: v1.guests }, { additionalProperties: false }),
    expected_total: v1.expected_total,
    external_reference: Type.Optional(
      Type.Union([
        Type.Object({ system: Type.String({ minLength: 1, maxLength: 100 }), booking_id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        Type.Null(),
      ]),
    ),
    guest_details: v1.guest_details,
  },
  { additionalProperties: false },
)
export type CreateBookingV2Input = Type.Static<typeof CreateBookingV2Body>
