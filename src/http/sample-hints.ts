import type { JsonSchema } from './sample-data.ts'

/**
 * The content of samples (sample-data.ts gives their shape): what a field of a given name holds in
 * a realistic travoBooks answer — a villa in Hội An, a three-night stay whose money adds up, ids
 * with their resource's prefix, timestamps at one fixed sample time.
 */

/** When every sample happens: the example time of API.md §6. */
const BASE_TIME = Date.parse('2026-05-02T15:22:00.000Z')
export const STAY_START = '2026-06-12'
export const STAY_NIGHTS = 3
const NIGHTLY_RATE = '120.00'
const STAY_TOTAL = '360.00'

export const ID_PATTERN = /^\^([a-z]+)_\[0-7\]\[0-9a-hjkmnp-tv-z\]\{25\}\$$/
const TYPEID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** What a resource of each id prefix is called in hints (an object's kind comes from its id's pattern). */
const NAMES: Record<string, string> = {
  lst: 'Villa Hoa Sen',
  cus: 'Nguyen Minh Anh',
  tok: 'Booking sync (staging)',
  team: 'Hoi An sales',
  ptn: 'Saigon Travel Co.',
  usr: 'Linh Tran',
  whk: 'Booking notifications',
}

/**
 * Nullable fields that describe a state the sample has not reached (a HELD booking was never
 * cancelled), or a filter the request did not set (a report's currency): null.
 */
export const NULL_BY_DEFAULT = new Set([
  'confirmed_at', 'issued_at', 'voucher_number', 'cancelled_at', 'cancellation_reason', 'expired_at', 'voided_at', 'void_reason',
  'revoked_at', 'failure_code', 'failure_message', 'disabled_reason', 'last_error', 'error_class', 'previous_secret_expires_at',
  'next_cursor', 'paid_at', 'delivered_at', 'next_attempt_at', 'response_body', 'status_code', 'last_status_code', 'scopes', 'currency',
])

/** What an action fills in: a confirmed booking has its confirmed_at (its status comes from the action's name). */
export const FILLED_BY_ACTION: Record<string, string[]> = {
  confirm: ['confirmed_at'],
  issue: ['confirmed_at', 'issued_at', 'voucher_number'],
  cancel: ['cancelled_at', 'cancellation_reason'],
  void: ['voided_at', 'void_reason'],
  rotate: ['previous_secret_expires_at'],
  'rotate-secret': ['previous_secret_expires_at'],
}

export const TRUE_BY_DEFAULT = new Set(['enabled', 'available', 'active'])

const MONEY_AMOUNTS: Record<string, string> = {
  nightly_rate: NIGHTLY_RATE,
  rate: NIGHTLY_RATE,
  unit_amount: NIGHTLY_RATE,
  price: NIGHTLY_RATE,
  total: STAY_TOTAL,
  subtotal: STAY_TOTAL,
  amount: STAY_TOTAL,
  amount_due: STAY_TOTAL,
  revenue: STAY_TOTAL,
  actual_total: '396.00',
  expected_total: STAY_TOTAL,
  amount_paid: '0.00',
  amount_refunded: '0.00',
}

export const INTEGERS: Record<string, number> = {
  guests: 2, max_guests: 6, bedrooms: 3, nights: STAY_NIGHTS, quantity: STAY_NIGHTS, sequence: 1, attempt: 1, attempt_count: 1,
  latency_ms: 184, status_code: 200, last_status_code: 200, window_seconds: 60, requeued: 2, bookings: 12, held: 2, confirmed: 5,
  issued: 3, cancelled: 1, expired: 1, listings: 4, available_nights: 120, occupied_nights: 90, page: 1, total: 2, total_pages: 1,
  limit: 20, remaining: 1180, usage_count: 3,
}

const DATE_TIMES: Record<string, number> = {
  hold_expires_at: BASE_TIME + 15 * 60_000,
  expires_at: BASE_TIME + 90 * 86_400_000,
  last_used_at: BASE_TIME - 19_000,
  sunset_at: Date.parse('2027-12-01T00:00:00.000Z'),
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
}

export function isDate(value: unknown): value is string {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
}

/** A field's place in the answer: its name, its parent's name, and its index when it is an array item. */
export interface Place {
  path: string
  name: string
  parent: string
  index: number
  /** The field is itself an array item (the index picks among an enum's values). */
  item: boolean
  /** The id prefix of the object the field belongs to (lst, bkg, …), when its id says. */
  kind: string | null
}

export function pick(chars: string, random: () => number, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += chars[Math.floor(random() * chars.length)]
  return out
}

/** A TypeID as newId makes them: 2026 timestamps start 01k…, the rest looks random. */
export function typeId(prefix: string, random: () => number): string {
  return `${prefix}_01k${pick(TYPEID_ALPHABET, random, 23)}`
}

const ID_KIND_OF_FIELD: Record<string, string> = {
  team_id: 'team', listing_id: 'lst', customer_id: 'cus', booking_id: 'bkg', invoice_id: 'inv', payment_id: 'pay', partner_id: 'ptn',
  user_id: 'usr', token_id: 'tok', webhook_id: 'whk', event_id: 'evt', delivery_id: 'dlv',
}

/**
 * Candidate values for a string field, best first, from its name, its object's kind and what the
 * request gave; the generator keeps the first that fits the field's schema.
 */
export function stringHints(schema: JsonSchema, place: Place, given: Record<string, unknown>, random: () => number): (string | undefined)[] {
  const { name, parent, index, kind } = place
  // the reason an action's body gave (:cancel, :void), for the field that keeps it
  const reasonGiven = typeof given.reason === 'string' ? given.reason : undefined
  // a partner's own reference to a booking, not one of ours
  if (parent === 'external_reference') return [name === 'system' ? 'channel-manager' : 'CM-88231']
  const idKind = (typeof schema.pattern === 'string' ? ID_PATTERN.exec(schema.pattern)?.[1] : undefined) ?? ID_KIND_OF_FIELD[name] ?? (name === 'id' ? (kind ?? undefined) : undefined)
  if (idKind) return [typeId(idKind, random)]
  if (schema.format === 'date-time' || name.endsWith('_at')) return [new Date(DATE_TIMES[name] ?? BASE_TIME).toISOString()]
  const from = isDate(given.from) ? given.from : isDate(given.check_in) ? given.check_in : STAY_START
  switch (name) {
    case 'amount':
      return [MONEY_AMOUNTS[parent] ?? STAY_TOTAL]
    case 'currency':
      return ['USD']
    case 'name':
      return [NAMES[kind ?? ''] ?? 'Sample name']
    case 'team_name':
      return [NAMES.team]
    case 'listing_name':
      return [NAMES.lst]
    case 'lead_guest_name':
      return [NAMES.cus]
    case 'additional_guest_names':
      return ['Tran Thi Bich']
    case 'description':
      return ['Three-bedroom villa with a private pool, ten minutes by bicycle from the Old Town.']
    case 'email':
      return [kind === 'usr' ? 'linh.tran@saigontravel.example' : 'minh.anh@example.com']
    case 'lead_guest_email':
      return ['minh.anh@example.com']
    case 'phone':
    case 'lead_guest_phone':
      return ['+84905123456']
    case 'language':
      return ['vi']
    case 'country_code':
      return ['VN']
    case 'province_code':
      return ['27']
    case 'city':
      return ['Hội An']
    case 'line1':
      return ['12 Nguyễn Phúc Chu']
    case 'timezone':
      return ['Asia/Ho_Chi_Minh']
    case 'url':
      return ['https://partner.example.com/webhooks/travobooks']
    case 'reason':
    case 'cancellation_reason':
      return [reasonGiven, 'The guest changed their travel plans.']
    case 'void_reason':
      return [reasonGiven, 'Issued in error.']
    case 'number':
      return ['INV-2026-000123']
    case 'voucher_number':
      return ['VCH-2026-000042']
    case 'external_system':
      return ['channel-manager']
    case 'external_booking_id':
      return ['CM-88231']
    case 'reference':
      return ['BT-20260502-0042']
    case 'special_requests':
      return ['Late check-in, around 22:00.']
    case 'role':
      return ['OWNER']
    case 'permissions':
      return [['listing.read', 'booking.read'][index % 2]]
    case 'operation_id':
      return ['getBooking']
    case 'method':
      return ['GET']
    case 'path':
      return ['/v1/bookings/{id}']
    case 'replaced_by':
      return ['GET /v2/bookings/{id}']
    case 'bucket':
      return ['read']
    case 'prefix':
      return [`tvb_test_${pick(BASE62, random, 4)}`]
    case 'secret':
      return [`tvb_test_${pick(BASE62, random, 32)}`]
    case 'occupancy_rate':
      return ['0.7500']
    case 'check_in':
    case 'from':
    case 'period':
    case 'period_start':
      return [from]
    case 'check_out':
      return [isDate(given.check_out) ? given.check_out : addDays(from, STAY_NIGHTS)]
    case 'to':
    case 'period_end':
      return [isDate(given.to) ? given.to : addDays(from, STAY_NIGHTS)]
    case 'date':
      return [addDays(from, index)]
    case 'due_date':
      return [addDays(STAY_START, 14)]
    default:
      if (schema.format === 'uri' || name.endsWith('_url')) return [`https://api.travobooks.example/${name.replace(/_url$/, '').replace(/_/g, '-')}`]
      return schema.format === 'date' ? [addDays(STAY_START, index)] : []
  }
}
