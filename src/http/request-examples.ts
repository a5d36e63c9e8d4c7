import { addDays } from '../platform/dates.ts'
import { demoId } from '../platform/ids.ts'

/**
 * One example request per operation, written against the first-run demo data (fixed ids, see
 * demoId), so every example in /docs and /openapi.json works when sent to a fresh `npm start`,
 * in the document's order: each changing example acts on a record of its own (the demo seeds a
 * second hold, a second token, a second endpoint … for that), so trying one never spoils another.
 * test/openapi-examples.test.ts sends them all to a fresh demo server and checks each status.
 *
 * Dates are relative to the day the document is built: the demo's bookings are seeded relative to
 * the first start, and a stay must be in the future. They live in media-type examples only (never
 * in schemas), so the SDK's generated types do not change from one day to the next.
 */
export interface RequestExample {
  path?: Record<string, string>
  query?: Record<string, string>
  header?: Record<string, string>
  body?: unknown
}

const listing = (n: number) => demoId('listing', n)
const customer = (n: number) => demoId('customer', n)
const booking = (n: number) => demoId('booking', n)
const invoice = (n: number) => demoId('invoice', n)
const payment = (n: number) => demoId('payment', n)
const token = (n: number) => demoId('token', n)
const webhook = (n: number) => demoId('webhook', n)

/** The request examples by operationId, for a document built on `today` (YYYY-MM-DD, UTC). */
export function requestExamples(today: string): Record<string, RequestExample> {
  const day = (n: number) => addDays(today, n)
  const guestDetails = { lead_guest_name: 'Nguyễn Văn An', lead_guest_email: 'an.nguyen@example.com', lead_guest_phone: '+84901234567', additional_guest_names: ['Nguyễn Thị Hoa'], special_requests: 'Late arrival, around 22:00.' }
  return {
    getHealth: {},
    getReadiness: {},
    getMetrics: {},
    getOpenApi: {},
    listErrorCodes: {},
    getErrorDocs: {},
    listGuides: {},
    getGuide: { path: { name: 'getting-started' } },
    getMe: {},
    listTeams: {},
    getTeam: { path: { id: demoId('team', 1) } },

    createToken: { body: { name: 'Reporting script', scopes: ['booking.read', 'report.read'] } },
    listTokens: {},
    getToken: { path: { id: token(1) } },
    revokeToken: { path: { id: token(3) } },
    rotateToken: { path: { id: token(2) }, body: { grace_period_seconds: 600 } },

    listListings: { query: { state: 'ACTIVE', country_code: 'VN', limit: '5' } },
    createListing: {
      body: {
        team_id: demoId('team', 1),
        name: 'Nha Trang Seaside Villa',
        description: '3 bedrooms on the beach.',
        address: { country_code: 'VN', province_code: '34', city: 'Nha Trang', line1: '15 Trần Phú' },
        max_guests: 6,
        bedrooms: 3,
        nightly_rate: { amount: '2800000', currency: 'VND' },
        timezone: 'Asia/Ho_Chi_Minh',
      },
    },
    getListing: { path: { id: listing(1) } },
    replaceListing: {
      path: { id: listing(2) },
      body: {
        name: 'Saigon Riverside Loft',
        description: '2 bedrooms in Hồ Chí Minh, with a river view.',
        state: 'ACTIVE',
        address: { country_code: 'VN', province_code: 'SG', city: 'Hồ Chí Minh', line1: '88 Tôn Đức Thắng' },
        max_guests: 4,
        bedrooms: 2,
        nightly_rate: { amount: '2200000', currency: 'VND' },
        timezone: 'Asia/Ho_Chi_Minh',
      },
    },
    archiveListing: { path: { id: listing(9) } },
    getListingCalendar: { path: { id: listing(1) }, query: { from: day(90), to: day(120) } },
    searchAvailability: { query: { check_in: day(100), check_out: day(103), guests: '2', country_code: 'VN' } },

    listCustomers: { query: { limit: '10' } },
    createCustomer: { body: { team_id: demoId('team', 1), name: 'Lê Minh Châu', email: 'chau.le@example.com', phone: '+84987654321', language: 'vi', country_code: 'VN' } },
    getCustomer: { path: { id: customer(1) } },
    replaceCustomer: { path: { id: customer(4) }, body: { name: 'James Carter', email: 'james.carter@example.com', phone: '+14155552671', language: 'en-US', country_code: 'US' } },
    deleteCustomer: { path: { id: customer(4) } },

    listBookings: { query: { status: 'CONFIRMED,ISSUED', sort: '-created_at' } },
    createBooking: { body: { listing_id: listing(1), customer_id: customer(1), check_in: day(100), check_out: day(103), guests: 2 } },
    listCustomerBookings: { path: { id: customer(1) } },
    getBooking: { path: { id: booking(1) } },
    confirmBooking: { path: { id: booking(1) } },
    issueBooking: { path: { id: booking(2) } },
    cancelBooking: { path: { id: booking(3) }, body: { reason: 'Guest changed travel plans' } },
    replaceBookingGuestDetails: { path: { id: booking(2) }, body: guestDetails },
    replaceBookingStay: { path: { id: booking(1) }, body: { check_in: day(14), check_out: day(17), guests: 3 } },

    listEvents: { query: { event_type: 'booking.confirmed' } },
    getEvent: { path: { id: demoId('event', 1) } },

    createWebhook: { body: { url: 'https://partner.example.com/travobooks/webhooks', description: 'Booking updates for our channel manager', event_types: ['booking.confirmed', 'booking.cancelled'], api_version: 'v2' } },
    listWebhooks: {},
    getWebhook: { path: { id: webhook(1) } },
    replaceWebhook: {
      path: { id: webhook(1) },
      body: { url: 'https://hooks.example.com/travobooks', description: 'Demo receiver (replace with your own URL)', event_types: ['booking.confirmed', 'booking.cancelled', 'booking.expired'], team_ids: [demoId('team', 1), demoId('team', 2)], enabled: true, api_version: 'v1' },
    },
    deleteWebhook: { path: { id: webhook(2) } },
    rotateWebhookSecret: { path: { id: webhook(1) }, body: { grace_period_seconds: 3600 } },
    testWebhook: { path: { id: webhook(1) } },
    recoverWebhook: { path: { id: webhook(1) }, body: { since: `${day(-1)}T00:00:00Z` } },
    listWebhookDeliveries: { path: { id: webhook(1) } },
    retryWebhookDelivery: { path: { id: demoId('delivery', 1) } },

    listInvoices: { query: { status: 'OPEN' } },
    createInvoice: {
      body: { customer_id: customer(3), line_items: [{ description: 'Airport transfer, Đà Nẵng', quantity: 2, unit_amount: { amount: '25.00', currency: 'USD' } }] },
    },
    listCustomerInvoices: { path: { id: customer(2) } },
    getInvoice: { path: { id: invoice(1) } },
    voidInvoice: { path: { id: invoice(4) }, body: { reason: 'The cooking class was cancelled' } },

    listPayments: { query: { status: 'SUCCEEDED' } },
    createPayment: {
      header: { 'idempotency-key': 'pay-inv1-2026-0001' },
      body: { invoice_id: invoice(1), amount: { amount: '1000000', currency: 'VND' }, method: 'BANK_TRANSFER', reference: 'VCB-TRX-0043' },
    },
    getPayment: { path: { id: payment(1) } },
    refundPayment: { path: { id: payment(1) }, header: { 'idempotency-key': 'refund-pay1-0001' }, body: { amount: { amount: '500000', currency: 'VND' }, reason: 'One night refunded as a goodwill gesture' } },

    getReport: { path: { type: 'bookings-summary' }, query: { from: day(-30), to: day(90), group_by: 'month' } },

    getTestClock: {},
    advanceTestClock: { body: { seconds: 60 } },
    getSandbox: {},

    listBookingsV2: { query: { status: 'HELD' } },
    createBookingV2: { body: { listing_id: listing(2), customer_id: customer(2), stay: { check_in: day(110), check_out: day(112), guests: 2 } } },
    listCustomerBookingsV2: { path: { id: customer(1) } },
    getBookingV2: { path: { id: booking(2) } },
    confirmBookingV2: { path: { id: booking(6) } },
    issueBookingV2: { path: { id: booking(7) } },
    cancelBookingV2: { path: { id: booking(8) }, body: { reason: 'Guest changed travel plans' } },
    replaceBookingGuestDetailsV2: { path: { id: booking(7) }, body: guestDetails },
    replaceBookingStayV2: { path: { id: booking(6) }, body: { check_in: day(70), check_out: day(72), guests: 3 } },

    externalListListings: { query: { page: '1', limit: '20' } },
    externalGetListing: { path: { id: listing(1) } },
    externalListBookings: { query: { state: 'CONFIRMED,ISSUED', sort_by: 'created_at', sort_order: 'desc' } },
    externalCreateBooking: { body: { listing_id: listing(3), customer_id: customer(2), check_in: day(120), check_out: day(123), guests: 2 } },
    externalGetBooking: { path: { id: booking(2) } },
  }
}
