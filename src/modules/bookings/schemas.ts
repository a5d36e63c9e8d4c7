import Type from 'typebox'
import { MoneySchema } from '../../http/money-schema.ts'
import { NullableTimestamp, Timestamp, calendarDate, idSchema, stringEnum } from '../../http/schemas.ts'

export const BOOKING_STATUSES = ['HELD', 'CONFIRMED', 'ISSUED', 'CANCELLED', 'EXPIRED'] as const
export type BookingStatus = (typeof BOOKING_STATUSES)[number]

const GuestDetails = Type.Object(
  {
    lead_guest_name: Type.String({ minLength: 1, maxLength: 200 }),
    lead_guest_email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
    lead_guest_phone: Type.Optional(Type.Union([Type.String({ maxLength: 16, description: 'E.164.' }), Type.Null()])),
    additional_guest_names: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 })),
    special_requests: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  },
  { additionalProperties: false },
)

export const GuestDetailsSchema = Type.Object(
  {
    lead_guest_name: Type.String(),
    lead_guest_email: Type.Union([Type.String(), Type.Null()]),
    lead_guest_phone: Type.Union([Type.String(), Type.Null()]),
    additional_guest_names: Type.Array(Type.String()),
    special_requests: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'GuestDetails', additionalProperties: false },
)

export const BookingSchema = Type.Object(
  {
    id: idSchema('bkg'),
    status: stringEnum(BOOKING_STATUSES),
    team_id: idSchema('team'),
    mode: stringEnum(['live', 'test']),
    listing_id: idSchema('lst'),
    customer_id: idSchema('cus'),
    check_in: Type.String({ format: 'date' }),
    check_out: Type.String({ format: 'date' }),
    guests: Type.Integer(),
    price: Type.Object(
      { nightly_rate: MoneySchema, nights: Type.Integer(), total: MoneySchema },
      { additionalProperties: false, description: 'nights × nightly_rate = total, fixed when the booking was made (or its stay changed).' },
    ),
    hold_expires_at: Timestamp,
    confirmed_at: NullableTimestamp,
    issued_at: NullableTimestamp,
    voucher_number: Type.Union([Type.String(), Type.Null()]),
    cancelled_at: NullableTimestamp,
    cancellation_reason: Type.Union([Type.String(), Type.Null()]),
    expired_at: NullableTimestamp,
    external_system: Type.Union([Type.String(), Type.Null()]),
    external_booking_id: Type.Union([Type.String(), Type.Null()]),
    guest_details: Type.Union([GuestDetailsSchema, Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Booking', additionalProperties: false },
)

export const CreateBookingBody = Type.Object(
  {
    listing_id: Type.String({ minLength: 1, maxLength: 64 }),
    customer_id: Type.String({ minLength: 1, maxLength: 64 }),
    check_in: calendarDate('YYYY-MM-DD'),
    check_out: calendarDate('YYYY-MM-DD, 1–90 nights after check_in'),
    guests: Type.Integer({ minimum: 1, maximum: 1000 }),
    expected_total: Type.Optional(Type.Union([MoneySchema, Type.Null()], { description: 'The total you quoted; 409 PRICE_CHANGED when it differs.' })),
    external_system: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
    external_booking_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], { description: 'Required with external_system; the pair is unique per partner and mode.' })),
    guest_details: Type.Optional(Type.Union([GuestDetails, Type.Null()])),
  },
  { additionalProperties: false },
)
export type CreateBookingInput = Type.Static<typeof CreateBookingBody>

/** PUT replaces the guest details whole: every field is required (null clears a nullable one). */
export const GuestDetailsBody = Type.Object(Type.Required(GuestDetails).properties, { additionalProperties: false })
export type GuestDetailsInput = Type.Static<typeof GuestDetailsBody>

export const StayBody = Type.Object(
  {
    check_in: calendarDate('YYYY-MM-DD'),
    check_out: calendarDate('YYYY-MM-DD, after check_in'),
    guests: Type.Integer({ minimum: 1, maximum: 1000 }),
    expected_total: Type.Optional(Type.Union([MoneySchema, Type.Null()])),
  },
  { additionalProperties: false },
)
export type StayInput = Type.Static<typeof StayBody>

export const CancelBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why the booking is cancelled.' }) }, { additionalProperties: false })
