import { daysBetween } from '../../platform/dates.ts'

/**
 * The one price rule (availability quotes, booking holds and stay changes all use it): a stay
 * costs nights × the listing's nightly rate, in minor units of the listing's currency.
 */
export function priceOfStay(listing: { nightly_rate_minor: number; currency: string }, checkIn: string, checkOut: string): { nights: number; totalMinor: number } {
  const nights = daysBetween(checkIn, checkOut)
  return { nights, totalMinor: listing.nightly_rate_minor * nights }
}

/** The price of a stay, version-neutral: minor units of the listing's currency. */
export interface Quote {
  check_in: string
  check_out: string
  guests: number
  nights: number
  nightly_rate_minor: number
  total_minor: number
  currency: string
}

export function quoteOf(listing: { nightly_rate_minor: number; currency: string }, stay: { check_in: string; check_out: string; guests: number }): Quote {
  const { nights, totalMinor } = priceOfStay(listing, stay.check_in, stay.check_out)
  return { ...stay, nights, nightly_rate_minor: listing.nightly_rate_minor, total_minor: totalMinor, currency: listing.currency }
}
