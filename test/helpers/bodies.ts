/**
 * Bodies for the replacing PUTs (API.md §3): a PUT is a full replacement, so it must carry every
 * writable field (null clears a nullable one). These build such a body from a resource as GET
 * returned it (or from a POST body, whose omitted optional fields take their creation defaults),
 * with `overrides` replacing whole top-level fields.
 */

type Body = Record<string, unknown>

function pick(from: Body, names: readonly string[], defaults: Body): Body {
  const out: Body = {}
  for (const name of names) out[name] = name in from ? from[name] : defaults[name]
  return out
}

export const LISTING_WRITABLE = ['name', 'description', 'state', 'address', 'max_guests', 'bedrooms', 'nightly_rate', 'timezone'] as const
export const LISTING_ADDRESS_WRITABLE = ['country_code', 'province_code', 'city', 'line1'] as const
export const CUSTOMER_WRITABLE = ['name', 'email', 'phone', 'language', 'country_code'] as const
export const GUEST_DETAILS_WRITABLE = ['lead_guest_name', 'lead_guest_email', 'lead_guest_phone', 'additional_guest_names', 'special_requests'] as const

/** A complete PUT /v1/listings/{id} body: the listing's writable fields, then the overrides. */
export function listingReplacement(from: Body, overrides: Body = {}): Body {
  const body = pick(from, LISTING_WRITABLE, { description: '', state: 'ACTIVE' })
  body.address = pick((from.address ?? {}) as Body, LISTING_ADDRESS_WRITABLE, { province_code: null })
  return { ...body, ...overrides }
}

/** A complete PUT /v1/customers/{id} body: the customer's writable fields, then the overrides. */
export function customerReplacement(from: Body, overrides: Body = {}): Body {
  return { ...pick(from, CUSTOMER_WRITABLE, { email: null, phone: null, language: null, country_code: null }), ...overrides }
}

/** A complete PUT /v1/bookings/{id}/guest-details body: empty optional parts, then the overrides. */
export function guestDetailsBody(overrides: Body = {}): Body {
  return { lead_guest_name: 'An', lead_guest_email: null, lead_guest_phone: null, additional_guest_names: [], special_requests: null, ...overrides }
}
