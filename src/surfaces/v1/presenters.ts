import type { Booking } from '../../modules/bookings/service.ts'
import type { Customer } from '../../modules/customers/service.ts'
import type { Event } from '../../modules/events/service.ts'
import type { Invoice } from '../../modules/invoices/service.ts'
import type { Quote } from '../../modules/listings/pricing.ts'
import type { Payment } from '../../modules/payments/service.ts'
import type { Calendar, Listing } from '../../modules/listings/service.ts'
import type { Delivery, Webhook } from '../../modules/webhooks/service.ts'
import { formatMinor } from '../../platform/money.ts'

/**
 * v1's representations (API.md §3): the domain's version-neutral records rendered as v1 JSON. Money
 * is {"amount": decimal string, "currency"}, a listing's address is an object, a booking's price is
 * {nightly_rate, nights, total}. The key order here is the order partners see.
 */

export function presentListing(l: Listing) {
  return {
    id: l.id,
    team_id: l.team_id,
    mode: l.mode,
    name: l.name,
    description: l.description,
    state: l.state,
    address: { country_code: l.country_code, province_code: l.province_code, city: l.city, line1: l.line1 },
    max_guests: l.max_guests,
    bedrooms: l.bedrooms,
    nightly_rate: formatMinor(l.nightly_rate_minor, l.currency),
    timezone: l.timezone,
    created_at: l.created_at,
    updated_at: l.updated_at,
  }
}

export function presentCustomer(c: Customer) {
  return {
    id: c.id,
    team_id: c.team_id,
    mode: c.mode,
    name: c.name,
    email: c.email,
    phone: c.phone,
    language: c.language,
    country_code: c.country_code,
    created_at: c.created_at,
    updated_at: c.updated_at,
  }
}

export function presentBooking(b: Booking) {
  return {
    id: b.id,
    status: b.status,
    team_id: b.team_id,
    mode: b.mode,
    listing_id: b.listing_id,
    customer_id: b.customer_id,
    check_in: b.check_in,
    check_out: b.check_out,
    guests: b.guests,
    price: { nightly_rate: formatMinor(b.nightly_rate_minor, b.currency), nights: b.nights, total: formatMinor(b.total_minor, b.currency) },
    hold_expires_at: b.hold_expires_at,
    confirmed_at: b.confirmed_at,
    issued_at: b.issued_at,
    voucher_number: b.voucher_number,
    cancelled_at: b.cancelled_at,
    cancellation_reason: b.cancellation_reason,
    expired_at: b.expired_at,
    external_system: b.external_system,
    external_booking_id: b.external_booking_id,
    guest_details: b.guest_details,
    created_at: b.created_at,
    updated_at: b.updated_at,
  }
}

export function presentQuote(q: Quote) {
  return { check_in: q.check_in, check_out: q.check_out, guests: q.guests, nights: q.nights, nightly_rate: formatMinor(q.nightly_rate_minor, q.currency), total: formatMinor(q.total_minor, q.currency) }
}

export function presentCalendar(c: Calendar) {
  return { listing_id: c.listing_id, from: c.from, to: c.to, nights: c.nights.map((n) => ({ date: n.date, available: n.available, price: formatMinor(n.price_minor, c.currency) })) }
}

export function presentWebhook(w: Webhook) {
  return {
    id: w.id,
    team_ids: w.team_ids,
    mode: w.mode,
    url: w.url,
    description: w.description,
    event_types: w.event_types,
    enabled: w.enabled,
    disabled_reason: w.disabled_reason,
    api_version: w.api_version,
    previous_secret_expires_at: w.previous_secret_expires_at,
    created_at: w.created_at,
    updated_at: w.updated_at,
  }
}

export function presentDelivery(d: Delivery) {
  return { ...d, attempts: d.attempts.map((a) => ({ ...a })) }
}

export function presentInvoice(i: Invoice) {
  const money = (minor: number) => formatMinor(minor, i.currency)
  return {
    id: i.id,
    number: i.number,
    status: i.status,
    team_id: i.team_id,
    mode: i.mode,
    customer_id: i.customer_id,
    booking_id: i.booking_id,
    currency: i.currency,
    line_items: i.line_items.map((l) => ({ description: l.description, quantity: l.quantity, unit_amount: money(l.unit_amount_minor), amount: money(l.amount_minor) })),
    subtotal: money(i.subtotal_minor),
    total: money(i.total_minor),
    amount_paid: money(i.amount_paid_minor),
    amount_refunded: money(i.amount_refunded_minor),
    amount_due: money(i.amount_due_minor),
    due_date: i.due_date,
    issued_at: i.issued_at,
    paid_at: i.paid_at,
    voided_at: i.voided_at,
    void_reason: i.void_reason,
    created_at: i.created_at,
    updated_at: i.updated_at,
  }
}

export function presentPayment(p: Payment) {
  const money = (minor: number) => formatMinor(minor, p.currency)
  return {
    id: p.id,
    status: p.status,
    team_id: p.team_id,
    mode: p.mode,
    invoice_id: p.invoice_id,
    customer_id: p.customer_id,
    amount: money(p.amount_minor),
    amount_refunded: money(p.amount_refunded_minor),
    method: p.method,
    reference: p.reference,
    received_at: p.received_at,
    failure_code: p.failure_code,
    failure_message: p.failure_message,
    refunds: p.refunds.map((r) => ({ amount: money(r.amount_minor), reason: r.reason, created_at: r.created_at })),
    created_at: p.created_at,
    updated_at: p.updated_at,
  }
}

const snapshotPresenters: Record<Event['resource_type'], (snapshot: never) => Record<string, unknown>> = {
  booking: presentBooking,
  customer: presentCustomer,
  listing: presentListing,
  webhook: presentWebhook,
  invoice: presentInvoice,
  payment: presentPayment,
}

/** An event with its snapshot rendered as the v1 resource it records ("the full resource as it was after the change"). */
export function presentEvent(e: Event) {
  return { id: e.id, event_type: e.event_type, created_at: e.created_at, mode: e.mode, team_id: e.team_id, sequence: e.sequence, data: snapshotPresenters[e.resource_type](e.data as never) }
}
