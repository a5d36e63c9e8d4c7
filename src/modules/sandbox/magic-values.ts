import type { Queryable } from '../../platform/db.ts'
import { addDays } from '../../platform/dates.ts'
import { ApiError, FieldErrors, notFound } from '../../platform/errors.ts'
import type { Scope } from '../../platform/keyset.ts'
import { formatMinor, parseAmount } from '../../platform/money.ts'
import type { Money } from '../../platform/money.ts'
import { findCustomer } from '../customers/repository.ts'
import { duplicateExternal, findByExternalId, unavailable } from '../bookings/repository.ts'
import { priceOfStay } from '../listings/pricing.ts'
import type { Calendar, Listing } from '../listings/service.ts'
import { DECLINE_REFERENCE } from '../payments/schemas.ts'

/**
 * Test mode's magic values (API.md §9): fixed, documented inputs that always fail the same way, so
 * a partner can rehearse the failures a real booking flow meets without arranging them. The two
 * listings are virtual: every test-mode partner sees them, in its first team, and nothing about
 * them is ever stored, so no partner's rehearsal can disturb another's. In live mode their ids are
 * ordinary unknown ids.
 *
 * Their ids are well-formed TypeIDs (the lst_ pattern every schema and client checks), with an
 * all-zero time prefix that newId can never produce (it would be 1970), so they never collide with
 * a real listing and pass every validation a real id passes.
 */
export const ALWAYS_UNAVAILABLE_LISTING_ID = 'lst_00000000sandbx0a1waystaken'
export const PRICE_CHANGES_LISTING_ID = 'lst_00000000sandbx0ratechanges'

/** How much the price-changing listing's total rises between the quote and the booking. */
export const PRICE_RISE_PERCENT = 10

/** When the virtual listings were "created": fixed, so their representation (and ETag) never changes. */
const CREATED_AT = '2026-01-01T00:00:00.000Z'

type Behaviour = 'ALWAYS_UNAVAILABLE' | 'PRICE_CHANGES'

const MAGIC_LISTINGS: Record<string, { behaviour: Behaviour; name: string; description: string; nightly_rate_minor: number; city: string; line1: string }> = {
  [ALWAYS_UNAVAILABLE_LISTING_ID]: {
    behaviour: 'ALWAYS_UNAVAILABLE',
    name: 'Sandbox: Always Booked Villa',
    description: 'Test-mode magic listing: every night is taken. Its calendar shows no available night, it never appears in availability searches, and POST /v1/bookings on it answers 409 LISTING_UNAVAILABLE.',
    nightly_rate_minor: 15000,
    city: 'Hội An',
    line1: '1 Sandbox Lane',
  },
  [PRICE_CHANGES_LISTING_ID]: {
    behaviour: 'PRICE_CHANGES',
    name: 'Sandbox: Repricing Apartment',
    description: `Test-mode magic listing: its calendar quotes a price, and POST /v1/bookings on it always answers 409 PRICE_CHANGED, the total ${PRICE_RISE_PERCENT}% above what you expected (details.actual_total).`,
    nightly_rate_minor: 12000,
    city: 'Hội An',
    line1: '2 Sandbox Lane',
  },
}

/** The magic listing an id names, as the caller sees it; null outside test mode or for any other id. */
export function sandboxListingFor(scope: Pick<Scope, 'mode' | 'teamIds'>, id: string): Listing | null {
  const magic = scope.mode === 'test' ? MAGIC_LISTINGS[id] : undefined
  if (!magic || scope.teamIds.length === 0) return null
  return {
    id,
    // the caller's first team in id order (the oldest: ids are time-ordered), the same on every call
    team_id: [...scope.teamIds].sort()[0]!,
    mode: 'test',
    name: magic.name,
    description: magic.description,
    state: 'ACTIVE',
    country_code: 'VN',
    province_code: null,
    city: magic.city,
    line1: magic.line1,
    max_guests: 4,
    bedrooms: 2,
    nightly_rate_minor: magic.nightly_rate_minor,
    currency: 'USD',
    timezone: 'Asia/Ho_Chi_Minh',
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
  }
}

/** A magic listing's calendar: like a real one, every night priced; the always-unavailable one has none free. */
export function sandboxCalendar(listing: Listing, from: string, to: string): Calendar {
  const available = MAGIC_LISTINGS[listing.id]?.behaviour !== 'ALWAYS_UNAVAILABLE'
  const nights = []
  for (let date = from; date < to; date = addDays(date, 1)) nights.push({ date, available, price_minor: listing.nightly_rate_minor })
  return { listing_id: listing.id, from, to, currency: listing.currency, nights }
}

export interface SandboxBookingInput {
  customer_id: string
  check_in: string
  check_out: string
  guests: number
  expected_total?: Money | null
  external_system?: string | null
  external_booking_id?: string | null
}

/**
 * POST /v1/bookings on a magic listing: the same checks, in the same order and with the same
 * answers, as a real listing (the customer, a duplicate external id, capacity), then the listing's
 * failure. Reads only; never returns.
 */
export async function refuseSandboxBooking(db: Queryable, scope: Scope, listing: Listing, input: SandboxBookingInput): Promise<never> {
  if (!(await findCustomer(db, scope, input.customer_id))) throw notFound('customer')
  if (input.external_system && input.external_booking_id) {
    const existing = await findByExternalId(db, scope, input.external_system, input.external_booking_id)
    if (existing) throw duplicateExternal(existing.id, input.external_system, input.external_booking_id)
  }
  if (input.guests > listing.max_guests) new FieldErrors().add('guests', 'maximum', `must be at most ${listing.max_guests}, the listing's capacity`).throwIfAny()
  if (MAGIC_LISTINGS[listing.id]?.behaviour === 'ALWAYS_UNAVAILABLE') throw unavailable()
  throw priceChanged(listing, input)
}

/**
 * The total always rises between quote and booking: PRICE_RISE_PERCENT above the total the caller
 * expected (or, without expected_total or in another currency, above the quote), so a retry with
 * the new total is refused again and the message always tells the truth.
 */
function priceChanged(listing: Listing, input: SandboxBookingInput): ApiError {
  const quoted = priceOfStay(listing, input.check_in, input.check_out).totalMinor
  const sent = input.expected_total
  const sentMinor = sent && sent.currency === listing.currency ? parseAmount(sent.amount, sent.currency) : null
  const base = sentMinor !== null && sentMinor > 0 ? sentMinor : quoted
  const actual = formatMinor(Math.round((base * (100 + PRICE_RISE_PERCENT)) / 100), listing.currency)
  const expected = sent ?? formatMinor(quoted, listing.currency)
  return new ApiError('PRICE_CHANGED', `The total is ${actual.amount} ${actual.currency}, not ${expected.amount} ${expected.currency}.`, { actual_total: actual, expected_total: expected })
}

/** What GET /v1/sandbox and docs/sandbox.md list. */
export const MAGIC_LISTING_CATALOGUE = [
  {
    id: ALWAYS_UNAVAILABLE_LISTING_ID,
    behaviour: 'ALWAYS_UNAVAILABLE' as const,
    description: 'Always fully booked. GET /v1/listings/{id} shows it (ACTIVE, in your first team); its calendar has no available night; it never appears in GET /v1/availability; POST /v1/bookings on it (and the External API\'s POST /bookings) is refused as a real conflict is.',
    expect: [{ operation: 'createBooking', status: 409, code: 'LISTING_UNAVAILABLE' as const }],
  },
  {
    id: PRICE_CHANGES_LISTING_ID,
    behaviour: 'PRICE_CHANGES' as const,
    description: `Its price always moves between quote and booking. Its calendar quotes every night at the listing's nightly rate; POST /v1/bookings on it is always refused with the new total in details.actual_total: ${PRICE_RISE_PERCENT}% above expected_total when you send it, above the quote when you do not. It never accepts a booking, so a retry with the new total is refused again. Like the other, it is in no list or availability search.`,
    expect: [{ operation: 'createBooking', status: 409, code: 'PRICE_CHANGED' as const }],
  },
]

export const MAGIC_PAYMENT_REFERENCES = [
  {
    reference: DECLINE_REFERENCE,
    description: 'POST /v1/payments with reference DECLINE records the payment as FAILED with failure_code DECLINED (201, a payment.failed event); the invoice is left as it was.',
    expect: { status: 'FAILED' as const, failure_code: 'DECLINED' as const },
  },
]
