import type { Booking } from '../../modules/bookings/service.ts'
import type { Event } from '../../modules/events/service.ts'
import { addDays } from '../../platform/dates.ts'
import { formatMinor } from '../../platform/money.ts'
import { presentEvent as presentEventV1 } from '../v1/presenters.ts'

/**
 * v2's booking (docs/migrating-to-v2.md): the stay is one object with its nights counted, the price
 * is broken down night by night, and the external reference is one object whose two halves cannot
 * be sent apart. The rest is v1's, in v1's order.
 */
export function presentBookingV2(b: Booking) {
  const rate = formatMinor(b.nightly_rate_minor, b.currency)
  return {
    id: b.id,
    status: b.status,
    team_id: b.team_id,
    mode: b.mode,
    listing_id: b.listing_id,
    customer_id: b.customer_id,
    stay: { check_in: b.check_in, check_out: b.check_out, nights: b.nights, guests: b.guests },
    price: {
      total: formatMinor(b.total_minor, b.currency),
      // every night of a booking is priced at the rate fixed when it was made (or its stay changed)
      nightly: Array.from({ length: b.nights }, (_, i) => ({ date: addDays(b.check_in, i), rate: { ...rate } })),
    },
    hold_expires_at: b.hold_expires_at,
    confirmed_at: b.confirmed_at,
    issued_at: b.issued_at,
    voucher_number: b.voucher_number,
    cancelled_at: b.cancelled_at,
    cancellation_reason: b.cancellation_reason,
    expired_at: b.expired_at,
    external_reference: b.external_system !== null && b.external_booking_id !== null ? { system: b.external_system, booking_id: b.external_booking_id } : null,
    guest_details: b.guest_details,
    created_at: b.created_at,
    updated_at: b.updated_at,
  }
}

/** An event as an endpoint on api_version v2 receives it: bookings in v2, every other resource as in v1 (v2 changes only bookings). */
export function presentEventV2(e: Event) {
  if (e.resource_type !== 'booking') return presentEventV1(e)
  return { ...presentEventV1(e), data: presentBookingV2(e.data as unknown as Booking) }
}
