import type { Clock } from '../../platform/clock.ts'
import { systemClock } from '../../platform/clock.ts'
import type { Db } from '../../platform/db.ts'
import { insertPartner, insertTeam, insertUser } from '../partners/repository.ts'
import type { UserRow } from '../partners/repository.ts'
import { ROLES } from '../tokens/permissions.ts'
import type { Role } from '../tokens/permissions.ts'
import { TokenService } from '../tokens/service.ts'
import { BookingService } from '../bookings/service.ts'
import { CustomerService } from '../customers/service.ts'
import { InvoiceService } from '../invoices/service.ts'
import { ListingService } from '../listings/service.ts'
import { PaymentService } from '../payments/service.ts'
import { addDays } from '../../platform/dates.ts'
import { CursorCodec } from '../../platform/cursor.ts'
import { WebhookService } from '../webhooks/service.ts'
import { randomBytes } from 'node:crypto'

export interface DemoSeed {
  partnerId: string
  teamIds: string[]
  users: Record<Role, UserRow>
  token: string
  tokenId: string
}

/** A demo partner with two teams, one user per role, a test-mode token for the owner, and bookable data. */
export async function seedDemo(db: Db, clock: Clock = systemClock): Promise<DemoSeed> {
  const now = clock.now()
  const { partner, teams, users } = await db.transaction(async (tx) => {
    const partner = await insertPartner(tx, 'Demo Travel Co', now)
    const teams = [await insertTeam(tx, partner.id, 'Saigon Office', now), await insertTeam(tx, partner.id, 'Hanoi Office', now)]
    const users = {} as Record<Role, UserRow>
    for (const role of ROLES) {
      const slug = role.toLowerCase().replace('_', '-')
      // the owner and admin see both offices; the others work in Saigon
      const teamIds = role === 'OWNER' || role === 'ADMIN' ? teams.map((t) => t.id) : [teams[0]!.id]
      users[role] = await insertUser(tx, { partnerId: partner.id, email: `${slug}@demo.travobooks.test`, name: `Demo ${role.replace('_', ' ').toLowerCase()}`, role, teamIds }, now)
    }
    return { partner, teams, users }
  })
  const tokens = new TokenService({ db, clock, onTokenChanged: () => {} })
  const token = await tokens.create(users.OWNER.id, 'test', { name: 'Demo owner token (created on first run)' }, null)
  // a narrower token beside it, so rotating or revoking one (as the docs show) leaves the owner's working
  // (expiring with it: a token sees only tokens that expire no later than itself)
  const expires_at = token.expires_at
  await tokens.create(users.OWNER.id, 'test', { name: 'Reporting script (read-only)', scopes: ['booking.read', 'invoice.read', 'report.read'], expires_at }, null)
  await tokens.create(users.OWNER.id, 'test', { name: 'Old CI pipeline (to revoke)', scopes: ['listing.read'], expires_at }, null)
  await seedDemoBookings(db, clock, partner.id, teams.map((t) => t.id))
  return { partnerId: partner.id, teamIds: teams.map((t) => t.id), users, token: token.secret, tokenId: token.id }
}

const DEMO_LISTINGS = [
  { name: 'Villa Đà Lạt Pine Hill', province_code: '35', city: 'Đà Lạt', line1: '12 Trần Hưng Đạo', max_guests: 8, bedrooms: 4, amount: '3500000', currency: 'VND', team: 0 },
  { name: 'Saigon Riverside Loft', province_code: 'SG', city: 'Hồ Chí Minh', line1: '88 Tôn Đức Thắng', max_guests: 4, bedrooms: 2, amount: '2200000', currency: 'VND', team: 0 },
  { name: 'Hội An Garden House', province_code: '27', city: 'Hội An', line1: '5 Nguyễn Phúc Chu', max_guests: 6, bedrooms: 3, amount: '120.00', currency: 'USD', team: 0 },
  { name: 'Phú Quốc Beach Villa', province_code: '47', city: 'Phú Quốc', line1: '1 Trần Hưng Đạo', max_guests: 10, bedrooms: 5, amount: '450.00', currency: 'USD', team: 0 },
  { name: 'Hanoi Old Quarter Studio', province_code: 'HN', city: 'Hà Nội', line1: '21 Hàng Bạc', max_guests: 2, bedrooms: 1, amount: '900000', currency: 'VND', team: 1 },
  { name: 'Hạ Long Bay View', province_code: '13', city: 'Hạ Long', line1: '3 Hạ Long', max_guests: 4, bedrooms: 2, amount: '1800000', currency: 'VND', team: 1 },
]

const ABROAD = [
  { name: 'Chiang Mai Teak House', country_code: 'TH', province_code: '50', city: 'Chiang Mai', line1: '9 Ratchadamnoen Rd', timezone: 'Asia/Bangkok', amount: '3200.00', currency: 'THB' },
  { name: 'Ubud Rice Field Villa', country_code: 'ID', province_code: 'BA', city: 'Ubud', line1: 'Jl. Raya Ubud 7', timezone: 'Asia/Makassar', amount: '180.00', currency: 'USD' },
  { name: 'Lisbon Alfama Flat', country_code: 'PT', province_code: '11', city: 'Lisboa', line1: 'Rua dos Remédios 40', timezone: 'Europe/Lisbon', amount: '140.00', currency: 'EUR' },
]

const DEMO_CUSTOMERS = [
  { name: 'Nguyễn Văn An', email: 'an.nguyen@example.com', phone: '+84901234567', language: 'vi', country_code: 'VN' },
  { name: 'Trần Thị Bình', email: 'binh.tran@example.com', phone: '+84912345678', language: 'vi', country_code: 'VN' },
  { name: 'Emma Schmidt', email: 'emma.schmidt@example.com', phone: '+4915123456789', language: 'de-DE', country_code: 'DE' },
  { name: 'James Carter', email: 'james.carter@example.com', phone: '+14155552671', language: 'en-US', country_code: 'US' },
]

/**
 * Listings in several provinces (VN and abroad), customers, a booking in every status, and money
 * in four currencies: the confirmed and issued bookings' invoices (one partly paid, one paid), a
 * manual EUR invoice paid and partly refunded, and a THB invoice with a declined payment.
 */
async function seedDemoBookings(db: Db, clock: Clock, partnerId: string, teamIds: string[]): Promise<void> {
  const scopeFor = (team: number) => ({ partnerId, mode: 'test' as const, teamIds: [teamIds[team]!] })
  const listings = new ListingService({ db, clock })
  const customers = new CustomerService({ db, clock })
  const bookings = new BookingService({ db, clock, holdMinutes: 15 })
  const listingIds: string[] = []
  for (const l of DEMO_LISTINGS) {
    const created = await listings.create(scopeFor(l.team), {
      name: l.name,
      description: `${l.bedrooms} bedrooms in ${l.city}.`,
      address: { country_code: 'VN', province_code: l.province_code, city: l.city, line1: l.line1 },
      max_guests: l.max_guests,
      bedrooms: l.bedrooms,
      nightly_rate: { amount: l.amount, currency: l.currency },
      timezone: 'Asia/Ho_Chi_Minh',
    })
    listingIds.push(created.id)
  }
  for (const l of ABROAD) {
    await listings.create(scopeFor(0), {
      name: l.name,
      address: { country_code: l.country_code, province_code: l.province_code, city: l.city, line1: l.line1 },
      max_guests: 4,
      bedrooms: 2,
      nightly_rate: { amount: l.amount, currency: l.currency },
      timezone: l.timezone,
    })
  }
  const customerIds: string[] = []
  for (const c of DEMO_CUSTOMERS) customerIds.push((await customers.create(scopeFor(0), c)).id)

  const today = clock.now().toISOString().slice(0, 10)
  const stay = (offset: number, nights: number) => ({ check_in: addDays(today, offset), check_out: addDays(today, offset + nights) })
  const book = (listing: number, customer: number, offset: number, nights: number, guests = 2) =>
    bookings.create(scopeFor(0), { listing_id: listingIds[listing]!, customer_id: customerIds[customer]!, guests, ...stay(offset, nights) })

  await book(0, 0, 14, 3) // HELD (lapses 15 minutes after the first start)
  const confirmed = await book(1, 1, 21, 2)
  await bookings.confirm(scopeFor(0), confirmed.id)
  const issued = await book(2, 2, 30, 5, 4)
  await bookings.confirm(scopeFor(0), issued.id)
  await bookings.issue(scopeFor(0), issued.id)
  await seedDemoMoney(db, clock, scopeFor(0), customerIds, { partlyPaid: confirmed.id, paid: issued.id })
  const cancelled = await book(3, 3, 45, 4, 6)
  await bookings.cancel(scopeFor(0), cancelled.id, 'Guest changed travel plans')
  // a hold made an hour ago, already lapsed and expired by the sweeper's pass
  const anHourAgo = { now: () => new Date(clock.now().getTime() - 3_600_000) }
  await new BookingService({ db, clock: anHourAgo, holdMinutes: 15 }).create(scopeFor(0), { listing_id: listingIds[0]!, customer_id: customerIds[1]!, guests: 2, ...stay(60, 2) })
  await bookings.expireLapsed()
  // more bookings for the documentation's examples to act on, each its own (a second hold to confirm,
  // a confirmed one to issue, one to cancel), so trying one example never spoils another
  await book(1, 0, 70, 2)
  await bookings.confirm(scopeFor(0), (await book(2, 1, 75, 2)).id)
  await bookings.confirm(scopeFor(0), (await book(3, 2, 80, 2)).id)
  // an endpoint to show webhooks with; created last, so no seeded event is queued for it
  const webhooks = new WebhookService({ db, clock, cursors: new CursorCodec(randomBytes(32).toString('hex')), allowPrivateTargets: false })
  const scope = { partnerId, mode: 'test' as const, teamIds }
  const { webhook } = await webhooks.create(scope, { url: 'https://hooks.example.com/travobooks', description: 'Demo receiver (replace with your own URL)', event_types: ['booking.confirmed', 'booking.cancelled'] })
  // its first delivery (a test event; hooks.example.com does not answer, so it shows failed attempts and can be retried)
  await webhooks.test(scope, webhook.id)
  await webhooks.create(scope, { url: 'https://old-receiver.example.com/hooks', description: 'A retired receiver (to delete)', enabled: false })
}

async function seedDemoMoney(db: Db, clock: Clock, scope: { partnerId: string; mode: 'test'; teamIds: string[] }, customerIds: string[], bookings: { partlyPaid: string; paid: string }): Promise<void> {
  const invoices = new InvoiceService({ db, clock })
  const payments = new PaymentService({ db, clock })
  const invoiceOfBooking = async (bookingId: string) => {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM invoices WHERE booking_id = $1', [bookingId])
    return rows[0]!.id
  }
  // VND 4,400,000 due: 2,000,000 paid by bank transfer
  await payments.create(scope, { invoice_id: await invoiceOfBooking(bookings.partlyPaid), amount: { amount: '2000000', currency: 'VND' }, method: 'BANK_TRANSFER', reference: 'VCB-TRX-20260412-0042' })
  // USD 600.00, paid in full by card: PAID
  await payments.create(scope, { invoice_id: await invoiceOfBooking(bookings.paid), amount: { amount: '600.00', currency: 'USD' }, method: 'CARD', reference: 'ch_demo_4242' })
  // a manual EUR invoice, paid by e-wallet, then 20.00 refunded (the late checkout did not happen): 20.00 due again
  const extras = await invoices.create(scope, {
    customer_id: customerIds[2]!,
    line_items: [
      { description: 'Airport transfer, Lisbon', quantity: 2, unit_amount: { amount: '35.00', currency: 'EUR' } },
      { description: 'Late checkout', quantity: 1, unit_amount: { amount: '20.00', currency: 'EUR' } },
    ],
  })
  const paidExtras = await payments.create(scope, { invoice_id: extras.id, amount: { amount: '90.00', currency: 'EUR' }, method: 'E_WALLET', reference: 'PAYPAL-7Q2X' })
  await payments.refund(scope, paidExtras.id, { amount: { amount: '20.00', currency: 'EUR' }, reason: 'Late checkout not used' })
  // a THB invoice whose card payment was declined (test mode: reference DECLINE): still OPEN
  const cooking = await invoices.create(scope, {
    customer_id: customerIds[3]!,
    line_items: [{ description: 'Thai cooking class, Chiang Mai', quantity: 2, unit_amount: { amount: '1500.00', currency: 'THB' } }],
  })
  await payments.create(scope, { invoice_id: cooking.id, amount: { amount: '3000.00', currency: 'THB' }, method: 'CARD', reference: 'DECLINE' })
}
