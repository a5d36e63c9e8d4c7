import type { CursorCodec } from '../../platform/cursor.ts'
import { MAX_STAY_NIGHTS, checkRange } from '../../platform/dates.ts'
import { planList, teamForCreate, toPage } from '../../platform/pagination.ts'
import type { ListSpec, Page } from '../../platform/pagination.ts'
import { numberedPage } from '../../platform/numbered-pages.ts'
import type { NumberedPage, NumberedQuery } from '../../platform/numbered-pages.ts'
import { quoteOf } from './pricing.ts'
import type { Quote } from './pricing.ts'
import type { Scope } from '../../platform/keyset.ts'
import type { Clock } from '../../platform/clock.ts'
import { nowIn } from '../test-clock/now.ts'
import { addDays } from '../../platform/dates.ts'
import type { Db } from '../../platform/db.ts'
import { ApiError, FieldErrors, notFound, parseCommaList, textField } from '../../platform/errors.ts'
import { newId } from '../../platform/ids.ts'
import { isCurrency, parseAmount } from '../../platform/money.ts'
import { isCountryCode, isSubdivisionCode, isTimeZone } from '../../platform/reference-data.ts'
import { recordEvent } from '../events/repository.ts'
import * as repo from './repository.ts'
import { sandboxCalendar, sandboxListingFor } from '../sandbox/magic-values.ts'
import type { ListingRow, ListingValues } from './repository.ts'
import { LISTING_STATES, ListingSchema } from './schemas.ts'
import type { CreateListingInput, ReplaceListingInput } from './schemas.ts'

/** A listing as the domain knows it: version-neutral and JSON-safe (the snapshot its events keep); surfaces present it. */
export interface Listing {
  id: string
  team_id: string
  mode: 'live' | 'test'
  name: string
  description: string
  state: ListingRow['state']
  country_code: string
  province_code: string | null
  city: string
  line1: string
  max_guests: number
  bedrooms: number
  nightly_rate_minor: number
  currency: string
  timezone: string
  created_at: string
  updated_at: string
}

export function listingOf(row: ListingRow): Listing {
  return {
    id: row.id,
    team_id: row.team_id,
    mode: row.mode,
    name: row.name,
    description: row.description,
    state: row.state,
    country_code: row.country_code,
    province_code: row.province_code,
    city: row.city,
    line1: row.line1,
    max_guests: row.max_guests,
    bedrooms: row.bedrooms,
    nightly_rate_minor: row.nightly_rate_minor,
    currency: row.currency,
    timezone: row.timezone,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }
}

/** A night of a listing's calendar: bookable or not, and its price in minor units of the listing's currency. */
export interface CalendarNight {
  date: string
  available: boolean
  price_minor: number
}

export interface Calendar {
  listing_id: string
  from: string
  to: string
  currency: string
  nights: CalendarNight[]
}

/** The longest calendar one request may ask for. */
export const MAX_CALENDAR_NIGHTS = 366

export const listingSpec: ListSpec = {
  resource: 'listings',
  sortKeys: { created_at: { column: 'l.created_at', type: 'timestamptz' }, updated_at: { column: 'l.updated_at', type: 'timestamptz' } },
  defaultSort: '-created_at',
  fields: Object.keys(ListingSchema.properties),
}

const availabilitySpec: ListSpec = { ...listingSpec, resource: 'availability', fields: ['listing', 'quote'] }

export interface ListingListQuery {
  limit?: number
  cursor?: string
  sort?: string
  fields?: string
  state?: string[]
  country_code?: string
  province_code?: string
  q?: string
}

export interface AvailabilityQuery {
  check_in: string
  check_out: string
  guests: number
  country_code?: string
  province_code?: string
  q?: string
  limit?: number
  cursor?: string
}

/**
 * The standard codes in a listing body (country, subdivision, currency, amount, time zone), all
 * checked so every problem is reported at once. Takes raw input: it also runs when the schema
 * refused the body, to add what the schema cannot know. Returns the rate in minor units.
 */
export function checkListingCodes(body: unknown, errors: FieldErrors): number | null {
  const country = textField(body, 'address', 'country_code')
  const province = textField(body, 'address', 'province_code')
  if (country !== undefined) {
    if (!isCountryCode(country)) errors.add('address.country_code', 'iso3166_1', 'is not an ISO 3166-1 alpha-2 country code')
    else if (province && !isSubdivisionCode(country, province)) errors.add('address.province_code', 'iso3166_2', `is not an ISO 3166-2 subdivision of ${country}`)
  }
  const currency = textField(body, 'nightly_rate', 'currency')
  const amount = textField(body, 'nightly_rate', 'amount')
  let minor: number | null = null
  if (currency !== undefined) {
    if (!isCurrency(currency)) errors.add('nightly_rate.currency', 'iso4217', 'is not an ISO 4217 currency code')
    else if (amount !== undefined) {
      minor = parseAmount(amount, currency)
      if (minor === null) errors.add('nightly_rate.amount', 'minor_units', `has more decimals than ${currency} allows`)
      else if (minor <= 0) errors.add('nightly_rate.amount', 'minimum', 'must be greater than zero')
    }
  }
  const timezone = textField(body, 'timezone')
  if (timezone !== undefined && !isTimeZone(timezone)) errors.add('timezone', 'iana_time_zone', 'is not an IANA time zone')
  return minor
}

function validatedValues(input: CreateListingInput, errors: FieldErrors): ListingValues {
  const { address, nightly_rate: rate } = input
  const minor = checkListingCodes(input, errors)
  return {
    name: input.name,
    description: input.description ?? '',
    state: input.state ?? 'ACTIVE',
    country_code: address.country_code,
    province_code: address.province_code ?? null,
    city: address.city,
    line1: address.line1,
    max_guests: input.max_guests,
    bedrooms: input.bedrooms,
    nightly_rate_minor: minor ?? 0,
    currency: rate.currency,
    timezone: input.timezone,
  }
}

export class ListingService {
  readonly #db: Db
  readonly #clock: Clock
  readonly #codec: CursorCodec | undefined
  /** cursors: needed by lists only (the demo seed and jobs never page). */
  constructor(deps: { db: Db; clock: Clock; cursors?: CursorCodec }) {
    this.#codec = deps.cursors
    this.#db = deps.db
    this.#clock = deps.clock
  }

  async create(scope: Scope, input: CreateListingInput): Promise<Listing> {
    const errors = new FieldErrors()
    const teamId = teamForCreate(scope, input.team_id, errors)
    const values = validatedValues(input, errors)
    errors.throwIfAny()
    const now = nowIn(this.#clock, scope)
    return this.#db.transaction(async (tx) => {
      const row = await repo.insertListing(tx, { id: newId('listing'), partnerId: scope.partnerId, teamId, mode: scope.mode, now, ...values })
      const listing = listingOf(row)
      await recordEvent(tx, { partnerId: scope.partnerId, teamId, mode: scope.mode, type: 'listing.created', resourceType: 'listing', resourceId: row.id, sequence: row.version, data: listing, now })
      return listing
    })
  }

  async get(scope: Scope, id: string): Promise<Listing> {
    const magic = sandboxListingFor(scope, id)
    if (magic) return magic
    const row = await repo.findListing(this.#db, scope, id)
    if (!row) throw notFound('listing')
    return listingOf(row)
  }

  async replace(scope: Scope, id: string, input: ReplaceListingInput, checkPrecondition: (current: Listing) => void): Promise<Listing> {
    const errors = new FieldErrors()
    const values = validatedValues(input, errors)
    errors.throwIfAny()
    const now = nowIn(this.#clock, scope)
    return this.#db.transaction(async (tx) => {
      const current = await repo.findListing(tx, scope, id, true)
      if (!current) throw notFound('listing')
      checkPrecondition(listingOf(current))
      if (current.state === 'ARCHIVED') throw new ApiError('CONFLICT', 'An archived listing cannot be changed.', { state: 'ARCHIVED' })
      const row = await repo.updateListing(tx, scope, id, values, now)
      const listing = listingOf(row)
      await recordEvent(tx, { partnerId: scope.partnerId, teamId: row.team_id, mode: scope.mode, type: 'listing.updated', resourceType: 'listing', resourceId: id, sequence: row.version, data: listing, now })
      return listing
    })
  }

  /** DELETE archives: the listing stays readable and is never bookable again. Idempotent. */
  async archive(scope: Scope, id: string): Promise<void> {
    const now = nowIn(this.#clock, scope)
    await this.#db.transaction(async (tx) => {
      const current = await repo.findListing(tx, scope, id, true)
      if (!current) throw notFound('listing')
      if (current.state === 'ARCHIVED') return
      const row = await repo.archiveListing(tx, scope, id, now)
      await recordEvent(tx, { partnerId: scope.partnerId, teamId: row.team_id, mode: scope.mode, type: 'listing.updated', resourceType: 'listing', resourceId: id, sequence: row.version, data: listingOf(row), now })
    })
  }

  get #cursors(): CursorCodec {
    if (!this.#codec) throw new Error('ListingService was built without a cursor codec; lists need one')
    return this.#codec
  }

  async list(scope: Scope, query: ListingListQuery): Promise<{ page: Page<Listing>; fields: string[] | null }> {
    const errors = new FieldErrors()
    const state = parseCommaList(query.state, LISTING_STATES, 'state', errors)
    errors.throwIfAny()
    const filters = { state, country_code: query.country_code, province_code: query.province_code, q: query.q }
    const plan = planList(listingSpec, query, scope, filters, this.#cursors)
    return { page: toPage(await repo.listListings(this.#db, scope, filters, plan), plan, this.#cursors, listingOf), fields: plan.fields }
  }

  /** The External API's page/limit list: a page by number or by cursor, with the total (platform/numbered-pages.ts). */
  listNumbered(scope: Scope, query: NumberedQuery, filters: repo.NumberedListingFilters): Promise<NumberedPage<Listing>> {
    return numberedPage({ ...listingSpec, resource: 'external_listings' }, query, scope, filters, this.#cursors, {
      rows: (plan, offset) => repo.listListingsNumbered(this.#db, scope, filters, plan, offset),
      total: () => repo.countListingsNumbered(this.#db, scope, filters),
      present: (row) => listingOf(row),
    })
  }

  /** Bookable listings for a stay (active, room for the guests, no live booking in the way), each with its quote. */
  async searchAvailability(scope: Scope, query: AvailabilityQuery): Promise<Page<{ listing: Listing; quote: Quote }>> {
    const errors = new FieldErrors()
    checkRange(errors, 'check_in', query.check_in, 'check_out', query.check_out, MAX_STAY_NIGHTS)
    errors.throwIfAny()
    const search = { check_in: query.check_in, check_out: query.check_out, guests: query.guests, country_code: query.country_code, province_code: query.province_code, q: query.q }
    const plan = planList(availabilitySpec, { limit: query.limit, cursor: query.cursor, sort: 'created_at' }, scope, search, this.#cursors)
    const rows = await repo.searchAvailable(this.#db, scope, search, plan, nowIn(this.#clock, scope))
    return toPage(rows, plan, this.#cursors, (row) => ({ listing: listingOf(row), quote: quoteOf(row, { check_in: query.check_in, check_out: query.check_out, guests: query.guests }) }))
  }

  async calendar(scope: Scope, id: string, from: string, to: string): Promise<Calendar> {
    const errors = new FieldErrors()
    checkRange(errors, 'from', from, 'to', to, MAX_CALENDAR_NIGHTS)
    errors.throwIfAny()
    const magic = sandboxListingFor(scope, id)
    if (magic) return sandboxCalendar(magic, from, to)
    const row = await repo.findListing(this.#db, scope, id)
    if (!row) throw notFound('listing')
    const booked = await repo.bookedRanges(this.#db, id, from, to, nowIn(this.#clock, scope))
    const nights: CalendarNight[] = []
    for (let date = from; date < to; date = addDays(date, 1)) {
      const taken = booked.some((b) => b.check_in <= date && date < b.check_out)
      nights.push({ date, available: row.state === 'ACTIVE' && !taken, price_minor: row.nightly_rate_minor })
    }
    return { listing_id: id, from, to, currency: row.currency, nights }
  }
}
