import { describe, expect, it } from 'vitest'
import { makeTenant } from './helpers/harness.ts'
import {
  START,
  TODAY,
  allEvents,
  apr,
  confirmed,
  createInvoice,
  customer,
  eventsOf,
  expectError,
  expectFieldErrors,
  getInvoice,
  getOk,
  held,
  invoiced,
  line,
  listAll,
  mar,
  money,
  moneyWorld,
  newKey,
  number,
  paid,
  pay,
  refund,
  rowCount,
  sameAsUnknown,
  unknownId,
  usd,
  world,
} from './helpers/money.ts'
import type { Json, MoneyWorld } from './helpers/money.ts'

/**
 * Invoices (API.md §3 money, §10): made by a booking's confirmation or by POST /v1/invoices,
 * numbered INV-<year>-<000001> without gaps per partner, mode and year; money exact in each
 * currency's minor units; lists and filters; :void; a cancelled booking voids its unpaid invoice;
 * permissions, tenancy and events.
 *
 * Time: the file's shared app runs on a ManualClock at START (2031-03-01T10:00Z) that never moves,
 * so TODAY is today; a test that moves time makes an app of its own (moneyWorld()).
 */

const ids = (items: Json[]) => items.map((i) => i.id as string).sort()

describe('the invoice of a confirmed booking', () => {
  it('is made by the confirmation: one line (nights × nightly rate), numbered, OPEN, due in 14 days, events booking.confirmed then invoice.created', async () => {
    const w = await world()
    const { booking, invoice } = await confirmed(w, apr(10), apr(13))
    expect(invoice).toEqual({
      id: expect.stringMatching(/^inv_[0-7][0-9a-hjkmnp-tv-z]{25}$/),
      number: number(1),
      status: 'OPEN',
      team_id: w.t.teamIds[0],
      mode: 'test',
      customer_id: w.customerId,
      booking_id: booking.id,
      currency: 'USD',
      line_items: [{ description: expect.stringContaining('3 nights'), quantity: 3, unit_amount: usd('100.00'), amount: usd('300.00') }],
      subtotal: usd('300.00'),
      total: usd('300.00'),
      amount_paid: usd('0.00'),
      amount_refunded: usd('0.00'),
      amount_due: usd('300.00'),
      // check-in is 40 days away: 14 days from today
      due_date: mar(15),
      issued_at: booking.confirmed_at,
      paid_at: null,
      voided_at: null,
      void_reason: null,
      created_at: booking.confirmed_at,
      updated_at: booking.confirmed_at,
    })
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)

    // the invoice's event right after the booking's, in one transaction (same time)
    const events = (await allEvents(w)).filter((e) => ['booking.confirmed', 'invoice.created'].includes(e.event_type))
    expect(events.map((e) => [e.event_type, e.data.id])).toEqual([
      ['booking.confirmed', booking.id],
      ['invoice.created', invoice.id],
    ])
    expect(events[1].created_at).toBe(events[0].created_at)
    expect(events[1]).toMatchObject({ sequence: 1, mode: 'test', team_id: w.t.teamIds[0], data: invoice })
  })

  it('only a confirmation invoices: a HELD booking has no invoice', async () => {
    const w = await world()
    const b = await held(w, apr(10), apr(11))
    expect((await getOk(w, `/v1/invoices?booking_id=${b.id}`)).data).toEqual([])
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(0)
  })

  it('is due on check-in when the stay starts within 14 days (today when it starts today)', async () => {
    const w = await world()
    const listingId = (await held(w, apr(20), apr(21))).listing_id
    const cases: [string, string, string][] = [
      [TODAY, mar(2), TODAY],
      [mar(5), mar(6), mar(5)],
      [mar(14), mar(15), mar(14)],
      [mar(15), mar(16), mar(15)],
      [mar(16), mar(17), mar(15)],
    ]
    for (const [checkIn, checkOut, due] of cases) {
      const { invoice } = await confirmed(w, checkIn, checkOut, { listingId })
      expect(invoice.due_date, checkIn).toBe(due)
      expect(invoice.line_items[0].quantity).toBe(1)
    }
  })

  it('is in the listing\'s currency, exact: VND 1500000 × 3 nights = 4500000, KWD 12.505 × 2 nights = 25.010', async () => {
    const w = await world()
    const vnd = await confirmed(w, apr(1), apr(4), { rate: money('1500000', 'VND') })
    expect(vnd.invoice).toMatchObject({
      currency: 'VND',
      line_items: [{ quantity: 3, unit_amount: money('1500000', 'VND'), amount: money('4500000', 'VND') }],
      total: money('4500000', 'VND'),
      amount_due: money('4500000', 'VND'),
      amount_paid: money('0', 'VND'),
    })
    const kwd = await confirmed(w, apr(1), apr(3), { rate: money('12.505', 'KWD') })
    expect(kwd.invoice).toMatchObject({
      currency: 'KWD',
      line_items: [{ quantity: 2, unit_amount: money('12.505', 'KWD'), amount: money('25.010', 'KWD') }],
      total: money('25.010', 'KWD'),
      amount_paid: money('0.000', 'KWD'),
    })
    expect([vnd.invoice.number, kwd.invoice.number]).toEqual([number(1), number(2)])
  })
})

describe('invoice numbers: INV-<year>-<6 digits>, gap-free and sequential per partner, mode and year', () => {
  it('10 concurrent creations get exactly 000001..000010, no gap, no duplicate', async () => {
    const w = await world()
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => createInvoice(w, { line_items: [line(1, `${i + 1}.00`)] })))
    for (const res of responses) expect(res.statusCode, res.body).toBe(201)
    const numbers = responses.map((r) => r.json().number as string).sort()
    expect(numbers).toEqual(Array.from({ length: 10 }, (_, i) => number(i + 1)))
    // and the next one follows on
    expect((await invoiced(w, '1.00')).number).toBe(number(11))
  })

  it('confirmations and manual invoices racing share one sequence', async () => {
    const w = await world()
    const listingId = (await held(w, apr(1), apr(2))).listing_id
    const bookings = []
    for (let d = 3; d < 13; d += 2) bookings.push(await held(w, apr(d), apr(d + 1), { listingId }))
    const responses = await Promise.all([
      ...bookings.map((b) => w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:confirm`)),
      ...Array.from({ length: 5 }, () => createInvoice(w, { line_items: [line(1, '5.00')] })),
    ])
    for (const res of responses) expect(res.statusCode, res.body).toBeLessThan(300)
    const all = await listAll(w, '/v1/invoices')
    expect(all.map((i) => i.number).sort()).toEqual(Array.from({ length: 10 }, (_, i) => number(i + 1)))
    expect(all.filter((i) => i.booking_id !== null)).toHaveLength(5)
  })

  it('each partner starts at 000001, and live mode counts apart from test mode', async () => {
    const w = await world()
    expect((await invoiced(w)).number).toBe(number(1))
    expect((await invoiced(w)).number).toBe(number(2))

    const other = await world()
    expect((await invoiced(other)).number).toBe(number(1))

    const live = await w.t.addToken({ mode: 'live' })
    const liveCustomer = await customer(w.h, live.token)
    const liveInvoice = await invoiced(w, '9.00', 'USD', { customerId: liveCustomer, token: live.token })
    expect(liveInvoice).toMatchObject({ number: number(1), mode: 'live' })
    expect((await invoiced(w)).number).toBe(number(3))
    expect((await invoiced(w, '9.00', 'USD', { customerId: liveCustomer, token: live.token })).number).toBe(number(2))
  })

  it('a confirmation that fails (the hold expired) makes no invoice and takes no number', async () => {
    const w = await moneyWorld()
    const b = await held(w, apr(1), apr(2))
    w.clock.advance(15 * 60_000)
    expectError(await w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:confirm`), 409, 'BOOKING_HOLD_EXPIRED')
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(0)
    expect((await invoiced(w)).number).toBe(number(1))
  })

  it('a creation retried with its Idempotency-Key is replayed: one invoice, one number', async () => {
    const w = await world()
    const key = newKey('inv')
    const body = { line_items: [line(1, '10.00')] }
    const first = await createInvoice(w, body, w.t.token, { 'idempotency-key': key })
    expect(first.statusCode, first.body).toBe(201)
    const replay = await createInvoice(w, body, w.t.token, { 'idempotency-key': key })
    expect(replay.statusCode).toBe(201)
    expect(replay.body).toBe(first.body)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.headers.location).toBe(first.headers.location)
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(1)
    expect((await invoiced(w)).number).toBe(number(2))
  })

  it('a new year starts again at 000001', async () => {
    const w = await moneyWorld({ start: '2031-12-31T23:59:00.000Z' })
    expect((await invoiced(w)).number).toBe('INV-2031-000001')
    expect((await invoiced(w)).number).toBe('INV-2031-000002')
    w.clock.advance(60_000)
    expect((await invoiced(w)).number).toBe('INV-2032-000001')
    expect((await invoiced(w)).number).toBe('INV-2032-000002')
  })

  it('a creation that fails takes no number: unknown customer or booking, another customer\'s booking, a validation error, a past due date', async () => {
    const w = await world()
    expect((await invoiced(w)).number).toBe(number(1))
    const otherCustomer = await customer(w.h, w.t.token, undefined, 'Binh')
    const othersBooking = await held(w, apr(1), apr(2), { customerId: otherCustomer })

    expectError(await createInvoice(w, { customer_id: unknownId('cus'), line_items: [line(1, '1.00')] }), 404, 'NOT_FOUND')
    expectError(await createInvoice(w, { booking_id: unknownId('bkg'), line_items: [line(1, '1.00')] }), 404, 'NOT_FOUND')
    expectFieldErrors(await createInvoice(w, { booking_id: othersBooking.id, line_items: [line(1, '1.00')] }), 'booking_id')
    expectFieldErrors(await createInvoice(w, { line_items: [line(1, '1.00'), line(1, '1.00', 'EUR')] }), 'line_items[1].unit_amount.currency')
    expectFieldErrors(await createInvoice(w, { line_items: [line(1, '1.00')], due_date: '2031-02-28' }), 'due_date')
    // the same failures with an Idempotency-Key (the request's own transaction)
    expectError(await createInvoice(w, { booking_id: unknownId('bkg'), line_items: [line(1, '1.00')] }, w.t.token, { 'idempotency-key': newKey('inv') }), 404, 'NOT_FOUND')
    expectFieldErrors(await createInvoice(w, { booking_id: othersBooking.id, line_items: [line(1, '1.00')] }, w.t.token, { 'idempotency-key': newKey('inv') }), 'booking_id')

    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(1)
    expect((await invoiced(w)).number).toBe(number(2))
    const keyed = await createInvoice(w, { line_items: [line(1, '1.00')] }, w.t.token, { 'idempotency-key': newKey('inv') })
    expect(keyed.statusCode, keyed.body).toBe(201)
    expect(keyed.json().number).toBe(number(3))
  })
})

describe('POST /v1/invoices', () => {
  it('201 with Location, the body GET returns; OPEN, nothing paid, due in 14 days by default; ETag and If-None-Match → 304', async () => {
    const w = await world()
    const res = await createInvoice(w, { line_items: [line(2, '45.50', 'USD', 'Airport transfer'), line(1, '9.00', 'USD', 'Breakfast')] })
    expect(res.statusCode, res.body).toBe(201)
    const invoice = res.json()
    expect(res.headers.location).toBe(`http://api.test/v1/invoices/${invoice.id}`)
    expect(invoice).toEqual({
      id: expect.stringMatching(/^inv_/),
      number: number(1),
      status: 'OPEN',
      team_id: w.t.teamIds[0],
      mode: 'test',
      customer_id: w.customerId,
      booking_id: null,
      currency: 'USD',
      line_items: [
        { description: 'Airport transfer', quantity: 2, unit_amount: usd('45.50'), amount: usd('91.00') },
        { description: 'Breakfast', quantity: 1, unit_amount: usd('9.00'), amount: usd('9.00') },
      ],
      subtotal: usd('100.00'),
      total: usd('100.00'),
      amount_paid: usd('0.00'),
      amount_refunded: usd('0.00'),
      amount_due: usd('100.00'),
      due_date: mar(15),
      issued_at: START,
      paid_at: null,
      voided_at: null,
      void_reason: null,
      created_at: START,
      updated_at: START,
    })

    const got = await w.h.call(w.t.token, 'GET', `/v1/invoices/${invoice.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.body).toBe(res.body)
    const etag = got.headers.etag as string
    expect(etag).toMatch(/^"/)
    const notModified = await w.h.call(w.t.token, 'GET', `/v1/invoices/${invoice.id}`, undefined, { 'if-none-match': etag })
    expect(notModified.statusCode).toBe(304)
    expect(notModified.body).toBe('')
    expect((await w.h.call(w.t.token, 'GET', `/v1/invoices/${invoice.id}`, undefined, { 'if-none-match': '"stale"' })).statusCode).toBe(200)

    // a payment changes the representation, so the ETag
    await paid(w, invoice.id, usd('1.00'))
    const changed = await w.h.call(w.t.token, 'GET', `/v1/invoices/${invoice.id}`, undefined, { 'if-none-match': etag })
    expect(changed.statusCode).toBe(200)
    expect(changed.headers.etag).not.toBe(etag)
  })

  it('totals are exact in each currency\'s minor units', async () => {
    const w = await world()
    const cases: [Record<string, unknown>[], string, string][] = [
      [[line(3, '0.10')], 'USD', '0.30'],
      [[line(3, '0.10'), line(1, '0.20'), line(7, '19.99')], 'USD', '140.43'],
      [[line(2, '12.505', 'KWD')], 'KWD', '25.010'],
      [[line(1, '1.005', 'KWD')], 'KWD', '1.005'],
      [[line(3, '0.001', 'KWD'), line(1, '0.1', 'KWD')], 'KWD', '0.103'],
      [[line(3, '1500000', 'VND')], 'VND', '4500000'],
      [[line(3, '500', 'JPY')], 'JPY', '1500'],
      // fewer decimals than the currency has are exact too: "5" USD is 5.00
      [[line(1, '5', 'USD'), line(1, '0.5', 'USD')], 'USD', '5.50'],
      [[line(100000, '99999.99')], 'USD', '9999999000.00'],
    ]
    for (const [lines, currency, total] of cases) {
      const res = await createInvoice(w, { line_items: lines })
      expect(res.statusCode, res.body).toBe(201)
      expect(res.json(), JSON.stringify(lines)).toMatchObject({ currency, subtotal: money(total, currency), total: money(total, currency), amount_due: money(total, currency) })
    }
    const kwd = (await listAll(w, '/v1/invoices')).find((i) => i.total.amount === '25.010')
    expect(kwd.line_items[0]).toEqual({ description: 'Item', quantity: 2, unit_amount: money('12.505', 'KWD'), amount: money('25.010', 'KWD') })
  })

  it('money that is not exact, not positive or not a string is a 400 naming the exact field, and nothing is written', async () => {
    const w = await world()
    const at = 'line_items[0].unit_amount'
    const cases: [unknown, string][] = [
      [{ amount: '10.5', currency: 'VND' }, `${at}.amount`],
      [{ amount: '1.005', currency: 'USD' }, `${at}.amount`],
      [{ amount: '1.0005', currency: 'KWD' }, `${at}.amount`],
      [{ amount: '-1.00', currency: 'USD' }, `${at}.amount`],
      [{ amount: '0.00', currency: 'USD' }, `${at}.amount`],
      [{ amount: '0', currency: 'VND' }, `${at}.amount`],
      [{ amount: 1.5, currency: 'USD' }, `${at}.amount`],
      [{ amount: 15, currency: 'VND' }, `${at}.amount`],
      [{ amount: '1e3', currency: 'USD' }, `${at}.amount`],
      [{ amount: '1,50', currency: 'USD' }, `${at}.amount`],
      [{ amount: ' 1.50', currency: 'USD' }, `${at}.amount`],
      [{ amount: '01.50', currency: 'USD' }, `${at}.amount`],
      [{ amount: '1.', currency: 'USD' }, `${at}.amount`],
      [{ amount: '', currency: 'USD' }, `${at}.amount`],
      [{ amount: '99999999999999999999', currency: 'USD' }, `${at}.amount`],
      [{ amount: '1.00', currency: 'usd' }, `${at}.currency`],
      [{ amount: '1.00', currency: 'XYZ' }, `${at}.currency`],
      [{ amount: '1.00' }, `${at}.currency`],
      [{ currency: 'USD' }, `${at}.amount`],
      [{ amount: '1.00', currency: 'USD', fx: 1 }, `${at}.fx`],
      ['1.00', at],
    ]
    for (const [unitAmount, field] of cases) {
      const res = await createInvoice(w, { line_items: [{ description: 'Item', quantity: 1, unit_amount: unitAmount }] })
      expectFieldErrors(res, field)
      // only that field
      expect((res.json().error.details.fields as { field: string }[]).map((f) => f.field), JSON.stringify(unitAmount)).toEqual([field])
    }
    expect((await getOk(w, '/v1/invoices')).data).toEqual([])
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(0)
    expect((await invoiced(w)).number).toBe(number(1))
  })

  it('lines in one currency: a mixed one is a 400 naming line_items[1].unit_amount.currency; every field error at once', async () => {
    const w = await world()
    expectFieldErrors(await createInvoice(w, { line_items: [line(1, '1.00'), line(1, '1.00', 'EUR')] }), 'line_items[1].unit_amount.currency')
    expectFieldErrors(await createInvoice(w, { line_items: [line(1, '1.00', 'EUR'), line(1, '1.00', 'EUR'), line(1, '1', 'VND')] }), 'line_items[2].unit_amount.currency')
    // several problems, all reported
    const res = await createInvoice(w, { line_items: [line(1, '1.00'), line(1, '1.001'), line(1, '1.00', 'EUR')], due_date: '2031-02-28' })
    expectFieldErrors(res, 'line_items[1].unit_amount.amount', 'line_items[2].unit_amount.currency', 'due_date')
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(0)
  })

  it('line items, quantities, descriptions and required fields are checked; unknown fields are a 400', async () => {
    const w = await world()
    const cases: [Record<string, unknown>, string][] = [
      [{ line_items: [] }, 'line_items'],
      [{ line_items: undefined }, 'line_items'],
      [{ line_items: [{ ...line(1, '1.00'), quantity: 0 }] }, 'line_items[0].quantity'],
      [{ line_items: [{ ...line(1, '1.00'), quantity: -2 }] }, 'line_items[0].quantity'],
      [{ line_items: [{ ...line(1, '1.00'), quantity: 1.5 }] }, 'line_items[0].quantity'],
      [{ line_items: [{ ...line(1, '1.00'), quantity: '2' }] }, 'line_items[0].quantity'],
      [{ line_items: [{ ...line(1, '1.00'), description: '' }] }, 'line_items[0].description'],
      [{ line_items: [{ quantity: 1, unit_amount: usd('1.00') }] }, 'line_items[0].description'],
      [{ line_items: [{ ...line(1, '1.00'), amount: usd('1.00') }] }, 'line_items[0].amount'],
      [{ line_items: [line(1, '1.00')], discount: usd('1.00') }, 'discount'],
      [{ line_items: [line(1, '1.00')], total: usd('1.00') }, 'total'],
      [{ line_items: [line(1, '1.00')], status: 'PAID' }, 'status'],
      [{ line_items: [line(1, '1.00')], customer_id: undefined }, 'customer_id'],
      [{ line_items: [{ ...line(1, '1.00'), quantity: 100001 }] }, 'line_items[0].quantity'],
      // more than an invoice can hold (2^53 − 1 minor units): a 400, not a 500
      [{ line_items: [line(100000, '99999999999.99')] }, 'line_items'],
      [{ line_items: [line(1, '999999999999999.99')] }, 'line_items[0].unit_amount.amount'],
      [{ line_items: Array.from({ length: 101 }, () => line(1, '1.00')) }, 'line_items'],
    ]
    for (const [body, field] of cases) expectFieldErrors(await createInvoice(w, body), field)
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(0)
  })

  it('due_date: default today + 14, today allowed, a past or impossible date a 400', async () => {
    const w = await world()
    expect((await invoiced(w)).due_date).toBe(mar(15))
    expect((await invoiced(w, '1.00', 'USD', { due_date: TODAY })).due_date).toBe(TODAY)
    expect((await invoiced(w, '1.00', 'USD', { due_date: '2031-06-30' })).due_date).toBe('2031-06-30')
    const nulled = await createInvoice(w, { line_items: [line(1, '1.00')], due_date: null })
    expect(nulled.statusCode, nulled.body).toBe(201)
    expect(nulled.json().due_date).toBe(mar(15))
    for (const bad of ['2031-02-28', '2030-03-01', '2031-02-30', '2031-3-5', '31-03-05', 'tomorrow', '2031-03-05T00:00:00Z']) {
      expectFieldErrors(await createInvoice(w, { line_items: [line(1, '1.00')], due_date: bad }), 'due_date')
    }
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(4)
  })

  it('booking_id: a booking of the same customer is linked; another customer\'s booking is a 400 naming booking_id', async () => {
    const w = await world()
    const { booking } = await confirmed(w, apr(1), apr(3))
    const extra = await createInvoice(w, { booking_id: booking.id, line_items: [line(1, '25.00', 'USD', 'Late check-out')] })
    expect(extra.statusCode, extra.body).toBe(201)
    expect(extra.json()).toMatchObject({ booking_id: booking.id, customer_id: w.customerId, number: number(2), total: usd('25.00') })
    expect(ids((await getOk(w, `/v1/invoices?booking_id=${booking.id}`)).data)).toHaveLength(2)

    const otherCustomer = await customer(w.h, w.t.token, undefined, 'Binh')
    const res = await createInvoice(w, { customer_id: otherCustomer, booking_id: booking.id, line_items: [line(1, '1.00')] })
    expectFieldErrors(res, 'booking_id')
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(2)
  })

  it('an unknown customer is a 404', async () => {
    const w = await world()
    const error = expectError(await createInvoice(w, { customer_id: unknownId('cus'), line_items: [line(1, '1.00')] }), 404, 'NOT_FOUND')
    expect(error.details.resource).toBe('customer')
  })
})

describe('GET /v1/invoices: filters, sort, pages', () => {
  /** Invoices made a minute apart: a (OPEN, due 10th), b (PAID, due 20th), c (another customer, VOID, due 5th), d (a booking's, due 15th). */
  async function listed(): Promise<{ w: MoneyWorld; a: Json; b: Json; c: Json; d: Json; other: string; times: string[] }> {
    const w = await moneyWorld()
    const other = await customer(w.h, w.t.token, undefined, 'Binh')
    const times: string[] = []
    const next = () => {
      w.clock.advance(60_000)
      times.push(w.clock.now().toISOString())
    }
    next()
    const a = await invoiced(w, '10.00', 'USD', { due_date: mar(10) })
    next()
    const b = await invoiced(w, '20.00', 'USD', { due_date: mar(20) })
    await paid(w, b.id, usd('20.00'))
    next()
    const c = await invoiced(w, '30.00', 'USD', { customerId: other, due_date: mar(5) })
    expect((await w.h.call(w.t.token, 'POST', `/v1/invoices/${c.id}:void`)).statusCode).toBe(200)
    next()
    const { invoice: d } = await confirmed(w, apr(1), apr(2))
    return { w, a, b, c, d, other, times }
  }

  it('each filter, alone and together', async () => {
    const { w, a, b, c, d, other, times } = await listed()
    const list = async (query: string) => ids((await getOk(w, `/v1/invoices?${query}`)).data)
    expect(await list('')).toEqual(ids([a, b, c, d]))
    expect(await list('status=OPEN')).toEqual(ids([a, d]))
    expect(await list('status=PAID,VOID')).toEqual(ids([b, c]))
    expect(await list('status=PAID&status=VOID')).toEqual(ids([b, c]))
    expect(await list(`customer_id=${other}`)).toEqual(ids([c]))
    expect(await list(`customer_id=${w.customerId}&status=OPEN`)).toEqual(ids([a, d]))
    expect(await list(`booking_id=${d.booking_id}`)).toEqual(ids([d]))
    expect(await list(`customer_id=${unknownId('cus')}`)).toEqual([])
    expect(await list(`due_date_from=${mar(10)}&due_date_to=${mar(15)}`)).toEqual(ids([a, d]))
    expect(await list(`due_date_from=${mar(16)}`)).toEqual(ids([b]))
    expect(await list(`due_date_to=${mar(5)}`)).toEqual(ids([c]))
    expect(await list(`created_after=${times[0]}`)).toEqual(ids([b, c, d]))
    expect(await list(`created_after=${encodeURIComponent(times[0]!)}&created_before=${encodeURIComponent(times[3]!)}`)).toEqual(ids([b, c]))
    expect(await list(`created_before=${times[1]}`)).toEqual(ids([a]))
  })

  it('created_after / created_before also take a calendar date, midnight UTC (API.md §14)', async () => {
    const w = await world()
    const a = await invoiced(w)
    expect(ids((await getOk(w, `/v1/invoices?created_after=${TODAY}`)).data)).toEqual([a.id])
    expect((await getOk(w, `/v1/invoices?created_before=${TODAY}`)).data).toEqual([])
    expect(ids((await getOk(w, `/v1/invoices?created_before=${mar(2)}`)).data)).toEqual([a.id])
  })

  it('sort by created_at (default newest first) and due_date, both ways; pages of 1 walk every invoice once', async () => {
    const { w, a, b, c, d } = await listed()
    const order = async (query: string) => (await getOk(w, `/v1/invoices?${query}`)).data.map((i: Json) => i.id)
    expect(await order('')).toEqual([d.id, c.id, b.id, a.id])
    expect(await order('sort=created_at')).toEqual([a.id, b.id, c.id, d.id])
    expect(await order('sort=-created_at')).toEqual([d.id, c.id, b.id, a.id])
    expect(await order('sort=due_date')).toEqual([c.id, a.id, d.id, b.id])
    expect(await order('sort=-due_date')).toEqual([b.id, d.id, a.id, c.id])

    const seen: string[] = []
    let cursor: string | undefined
    for (let i = 0; i < 10; i++) {
      const page = await getOk(w, `/v1/invoices?sort=due_date&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      seen.push(...page.data.map((x: Json) => x.id))
      if (!page.pagination.has_more) break
      cursor = page.pagination.next_cursor
    }
    expect(seen).toEqual([c.id, a.id, d.id, b.id])

    // a cursor is bound to its filters and sort
    const first = await getOk(w, '/v1/invoices?limit=1&status=OPEN')
    expect(first.pagination.has_more).toBe(true)
    expectError(await w.h.call(w.t.token, 'GET', `/v1/invoices?limit=1&status=PAID&cursor=${encodeURIComponent(first.pagination.next_cursor)}`), 400, 'INVALID_CURSOR')
    expectError(await w.h.call(w.t.token, 'GET', `/v1/invoices?limit=1&status=OPEN&sort=due_date&cursor=${encodeURIComponent(first.pagination.next_cursor)}`), 400, 'INVALID_CURSOR')
  })

  it('bad filter values are a 400', async () => {
    const w = await world()
    await invoiced(w)
    const bad = [
      'status=BOGUS',
      'status=open',
      'status=OPEN,NOPE',
      'due_date_from=2031-02-30',
      'due_date_to=tomorrow',
      'due_date_from=2031-03-01T00:00:00Z',
      'created_after=yesterday',
      'created_before=2031-13-01',
      'sort=total',
      'sort=amount_due',
      'sort=number',
      'limit=0',
      'limit=101',
      'cursor=garbage',
      'colour=red',
      'fields=id,nope',
    ]
    for (const query of bad) {
      const res = await w.h.call(w.t.token, 'GET', `/v1/invoices?${query}`)
      expect(res.statusCode, `${query}: ${res.body}`).toBe(400)
    }
    // fields= selects
    const picked = await getOk(w, '/v1/invoices?fields=id,number,amount_due')
    expect(Object.keys(picked.data[0]).sort()).toEqual(['amount_due', 'id', 'number'])
  })

  it('GET /v1/customers/{id}/invoices: that customer\'s invoices only; needs customer.read and invoice.read', async () => {
    const w = await world()
    const other = await customer(w.h, w.t.token, undefined, 'Binh')
    const mine = [await invoiced(w), await invoiced(w, '2.00')]
    const theirs = await invoiced(w, '3.00', 'USD', { customerId: other })
    await w.h.call(w.t.token, 'POST', `/v1/invoices/${mine[1].id}:void`)
    expect(ids((await getOk(w, `/v1/customers/${w.customerId}/invoices`)).data)).toEqual(ids(mine))
    expect(ids((await getOk(w, `/v1/customers/${w.customerId}/invoices?status=VOID`)).data)).toEqual([mine[1].id])
    expect(ids((await getOk(w, `/v1/customers/${other}/invoices`)).data)).toEqual([theirs.id])
    expectError(await w.h.call(w.t.token, 'GET', `/v1/customers/${unknownId('cus')}/invoices`), 404, 'NOT_FOUND')
    expect((await w.h.call(w.t.token, 'GET', `/v1/customers/${w.customerId}/invoices?status=NOPE`)).statusCode).toBe(400)

    const viewer = await w.t.addUser('VIEWER')
    expect(ids((await getOk(w, `/v1/customers/${w.customerId}/invoices`, viewer.token)).data)).toEqual(ids(mine))
    const accountant = await w.t.addUser('ACCOUNTANT')
    expect(expectError(await w.h.call(accountant.token, 'GET', `/v1/customers/${w.customerId}/invoices`), 403, 'PERMISSION_DENIED').details.required_permission).toBe('customer.read')
    const agent = await w.t.addUser('TRAVEL_AGENT')
    expect(expectError(await w.h.call(agent.token, 'GET', `/v1/customers/${w.customerId}/invoices`), 403, 'PERMISSION_DENIED').details.required_permission).toBe('invoice.read')
  })
})

describe('POST /v1/invoices/{id}:void', () => {
  it('OPEN with nothing paid → VOID: no body, {}, an empty JSON body, or a reason; voided_at set, amount_due 0, event invoice.voided', async () => {
    const w = await world()
    const invoices = [await invoiced(w), await invoiced(w), await invoiced(w), await invoiced(w), await invoiced(w)]
    const responses = [
      await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoices[0].id}:void`),
      await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoices[1].id}:void`, {}),
      await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoices[2].id}:void`, ''),
      await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoices[3].id}:void`, { reason: 'Sent twice' }),
      await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoices[4].id}:void`, { reason: null }),
    ]
    responses.forEach((res, i) => {
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json()).toEqual({
        ...invoices[i],
        status: 'VOID',
        voided_at: START,
        void_reason: i === 3 ? 'Sent twice' : null,
        amount_due: usd('0.00'),
        updated_at: START,
      })
    })
    expect(await getInvoice(w, invoices[3].id)).toEqual(responses[3]!.json())
    const events = await eventsOf(w, invoices[3].id)
    expect(events.map((e) => [e.event_type, e.sequence])).toEqual([
      ['invoice.created', 1],
      ['invoice.voided', 2],
    ])
    expect(events[1].data).toEqual(responses[3]!.json())
  })

  it('a VOID invoice: :void again is a 409 INVOICE_VOID, and nothing changes', async () => {
    const w = await world()
    const invoice = await invoiced(w)
    const voided = await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, { reason: 'first' })
    expect(voided.statusCode).toBe(200)
    const error = expectError(await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, { reason: 'again' }), 409, 'INVOICE_VOID')
    expect(error.details).toMatchObject({ invoice_id: invoice.id })
    expect(error.retry_advice).toBe('non_retryable')
    expect(await getInvoice(w, invoice.id)).toEqual(voided.json())
    expect(await eventsOf(w, invoice.id, 'invoice.voided')).toHaveLength(1)
  })

  it('money paid (net) → 409 INVOICE_HAS_PAYMENTS with details.amount_paid_net; once every payment is refunded, :void works', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const first = await paid(w, invoice.id, usd('30.00'))
    let error = expectError(await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`), 409, 'INVOICE_HAS_PAYMENTS')
    expect(error.details).toMatchObject({ invoice_id: invoice.id, amount_paid_net: usd('30.00') })

    const second = await paid(w, invoice.id, usd('60.00'))
    expect((await getInvoice(w, invoice.id)).status).toBe('PAID')
    error = expectError(await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, { reason: 'x' }), 409, 'INVOICE_HAS_PAYMENTS')
    expect(error.details.amount_paid_net).toEqual(usd('90.00'))

    expect((await refund(w, first.id)).statusCode).toBe(200)
    expect((await refund(w, second.id, { amount: usd('59.99'), reason: 'partial' })).statusCode).toBe(200)
    error = expectError(await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`), 409, 'INVOICE_HAS_PAYMENTS')
    expect(error.details.amount_paid_net).toEqual(usd('0.01'))
    const before = await getInvoice(w, invoice.id)
    expect(before).toMatchObject({ status: 'OPEN', amount_paid: usd('90.00'), amount_refunded: usd('89.99'), amount_due: usd('89.99') })

    expect((await refund(w, second.id)).statusCode).toBe(200)
    const voided = await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, { reason: 'Refunded in full' })
    expect(voided.statusCode, voided.body).toBe(200)
    expect(voided.json()).toMatchObject({ status: 'VOID', amount_paid: usd('90.00'), amount_refunded: usd('90.00'), amount_due: usd('0.00'), paid_at: null, void_reason: 'Refunded in full' })
  })

  it('a declined payment is no money: the invoice can still be voided', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    expect((await paid(w, invoice.id, usd('90.00'), { reference: 'DECLINE' })).status).toBe('FAILED')
    expect((await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`)).statusCode).toBe(200)
  })

  it('a bad body is a 400 and changes nothing; an unknown invoice a 404', async () => {
    const w = await world()
    const invoice = await invoiced(w)
    expectFieldErrors(await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, { reason: '' }), 'reason')
    expectFieldErrors(await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, { reason: 'x', status: 'VOID' }), 'status')
    expect((await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, '{"reason":')).statusCode).toBe(400)
    expect((await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`, '"x"')).statusCode).toBe(400)
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
    expectError(await w.h.call(w.t.token, 'POST', `/v1/invoices/${unknownId('inv')}:void`), 404, 'NOT_FOUND')
  })

  it('a void and payments racing: either the void wins (every payment 409 INVOICE_VOID) or a payment does (the void 409 INVOICE_HAS_PAYMENTS)', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const [voidRes, ...payments] = await Promise.all([
      w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`),
      ...Array.from({ length: 5 }, () => pay(w, invoice.id, usd('10.00'))),
    ])
    const final = await getInvoice(w, invoice.id)
    const succeeded = payments.filter((p) => p.statusCode === 201)
    if (voidRes!.statusCode === 200) {
      expect(final.status).toBe('VOID')
      expect(final.amount_paid).toEqual(usd('0.00'))
      expect(succeeded).toHaveLength(0)
      for (const p of payments) expectError(p, 409, 'INVOICE_VOID')
    } else {
      expectError(voidRes!, 409, 'INVOICE_HAS_PAYMENTS')
      expect(final.status).toBe('OPEN')
      expect(final.amount_paid).toEqual(usd(`${succeeded.length * 10}.00`))
      for (const p of payments) expect([201, 409]).toContain(p.statusCode)
    }
  })
})

describe('cancelling a booking', () => {
  it('voids its unpaid invoice (event invoice.voided after booking.cancelled)', async () => {
    const w = await world()
    const { booking, invoice } = await confirmed(w, apr(1), apr(3))
    const cancelled = await w.h.call(w.t.token, 'POST', `/v1/bookings/${booking.id}:cancel`, { reason: 'guest asked' })
    expect(cancelled.statusCode, cancelled.body).toBe(200)
    const voided = await getInvoice(w, invoice.id)
    expect(voided).toMatchObject({ status: 'VOID', voided_at: START, amount_due: usd('0.00'), amount_paid: usd('0.00') })
    expect(voided.void_reason).toEqual(expect.any(String))
    const events = (await allEvents(w)).filter((e) => (e.event_type === 'booking.cancelled' && e.data.id === booking.id) || e.event_type === 'invoice.voided')
    expect(events.map((e) => e.event_type)).toEqual(['booking.cancelled', 'invoice.voided'])
    expect(events[1]).toMatchObject({ sequence: 2, data: voided })
  })

  it('also one with only a declined payment, and a manual unpaid invoice of the booking', async () => {
    const w = await world()
    const { booking, invoice } = await confirmed(w, apr(1), apr(3))
    await paid(w, invoice.id, usd('200.00'), { reference: 'DECLINE' })
    const extra = await invoiced(w, '15.00', 'USD', { booking_id: booking.id })
    expect((await w.h.call(w.t.token, 'POST', `/v1/bookings/${booking.id}:cancel`, { reason: 'guest asked' })).statusCode).toBe(200)
    expect((await getInvoice(w, invoice.id)).status).toBe('VOID')
    expect((await getInvoice(w, extra.id)).status).toBe('VOID')
  })

  it('leaves a partly paid invoice OPEN and a paid one PAID (refunds are explicit)', async () => {
    const w = await world()
    const listingId = (await held(w, apr(20), apr(21))).listing_id
    const partly = await confirmed(w, apr(1), apr(3), { listingId })
    const full = await confirmed(w, apr(5), apr(6), { listingId })
    await paid(w, partly.invoice.id, usd('50.00'))
    await paid(w, full.invoice.id, usd('100.00'))
    const partlyBefore = await getInvoice(w, partly.invoice.id)
    const fullBefore = await getInvoice(w, full.invoice.id)
    for (const b of [partly.booking, full.booking]) expect((await w.h.call(w.t.token, 'POST', `/v1/bookings/${b.id}:cancel`, { reason: 'guest asked' })).statusCode).toBe(200)
    expect(await getInvoice(w, partly.invoice.id)).toEqual(partlyBefore)
    expect(partlyBefore).toMatchObject({ status: 'OPEN', amount_due: usd('150.00') })
    expect(await getInvoice(w, full.invoice.id)).toEqual(fullBefore)
    expect(fullBefore.status).toBe('PAID')
    expect(await eventsOf(w, partly.invoice.id, 'invoice.voided')).toEqual([])
    expect(await eventsOf(w, full.invoice.id, 'invoice.voided')).toEqual([])
  })
})

describe('permissions', () => {
  it('an ACCOUNTANT lists, reads, creates and voids invoices', async () => {
    const w = await world()
    const { invoice } = await confirmed(w, apr(1), apr(2))
    const accountant = await w.t.addUser('ACCOUNTANT')
    expect(ids((await getOk(w, '/v1/invoices', accountant.token)).data)).toEqual([invoice.id])
    expect(await getInvoice(w, invoice.id, accountant.token)).toEqual(invoice)
    const created = await createInvoice(w, { line_items: [line(1, '12.00')] }, accountant.token)
    expect(created.statusCode, created.body).toBe(201)
    const voided = await w.h.call(accountant.token, 'POST', `/v1/invoices/${created.json().id}:void`, { reason: 'typo' })
    expect(voided.statusCode, voided.body).toBe(200)
    expect(voided.json().status).toBe('VOID')
  })

  it('a TRAVEL_AGENT gets 403 PERMISSION_DENIED on every invoice route, and nothing is written', async () => {
    const w = await world()
    const invoice = await invoiced(w)
    const agent = await w.t.addUser('TRAVEL_AGENT')
    const required = (res: Awaited<ReturnType<typeof createInvoice>>) => expectError(res, 403, 'PERMISSION_DENIED').details.required_permission
    expect(required(await w.h.call(agent.token, 'GET', '/v1/invoices'))).toBe('invoice.read')
    expect(required(await w.h.call(agent.token, 'GET', `/v1/invoices/${invoice.id}`))).toBe('invoice.read')
    expect(required(await createInvoice(w, { line_items: [line(1, '1.00')] }, agent.token))).toBe('invoice.write')
    expect(required(await w.h.call(agent.token, 'POST', `/v1/invoices/${invoice.id}:void`))).toBe('invoice.write')
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(1)
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
    // and the refused creation took no number
    expect((await invoiced(w)).number).toBe(number(2))
  })

  it('a VIEWER reads invoices but gets 403 on POST', async () => {
    const w = await world()
    const invoice = await invoiced(w)
    const viewer = await w.t.addUser('VIEWER')
    expect(ids((await getOk(w, '/v1/invoices', viewer.token)).data)).toEqual([invoice.id])
    expect(await getInvoice(w, invoice.id, viewer.token)).toEqual(invoice)
    expect(expectError(await createInvoice(w, { line_items: [line(1, '1.00')] }, viewer.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('invoice.write')
    expect(expectError(await w.h.call(viewer.token, 'POST', `/v1/invoices/${invoice.id}:void`), 403, 'PERMISSION_DENIED').details.required_permission).toBe('invoice.write')
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(1)
  })

  it('a token scoped to invoice.read only cannot write', async () => {
    const w = await world()
    const invoice = await invoiced(w)
    const reader = await w.t.addToken({ scopes: ['invoice.read'] })
    expect(await getInvoice(w, invoice.id, reader.token)).toEqual(invoice)
    expect(expectError(await w.h.call(reader.token, 'POST', `/v1/invoices/${invoice.id}:void`), 403, 'PERMISSION_DENIED').details.required_permission).toBe('invoice.write')
  })
})

describe('tenancy', () => {
  it('another partner\'s invoice, customer or booking answers exactly like an unknown id', async () => {
    const w = await world()
    const them = await world()
    const { booking: theirBooking, invoice: theirs } = await confirmed(them, apr(1), apr(2))

    sameAsUnknown(await w.h.call(w.t.token, 'GET', `/v1/invoices/${theirs.id}`), await w.h.call(w.t.token, 'GET', `/v1/invoices/${unknownId('inv')}`))
    sameAsUnknown(await w.h.call(w.t.token, 'POST', `/v1/invoices/${theirs.id}:void`), await w.h.call(w.t.token, 'POST', `/v1/invoices/${unknownId('inv')}:void`))
    sameAsUnknown(
      await createInvoice(w, { customer_id: them.customerId, line_items: [line(1, '1.00')] }),
      await createInvoice(w, { customer_id: unknownId('cus'), line_items: [line(1, '1.00')] }),
    )
    sameAsUnknown(
      await createInvoice(w, { booking_id: theirBooking.id, line_items: [line(1, '1.00')] }),
      await createInvoice(w, { booking_id: unknownId('bkg'), line_items: [line(1, '1.00')] }),
    )
    sameAsUnknown(await w.h.call(w.t.token, 'GET', `/v1/customers/${them.customerId}/invoices`), await w.h.call(w.t.token, 'GET', `/v1/customers/${unknownId('cus')}/invoices`))
    expect((await getOk(w, `/v1/invoices?booking_id=${theirBooking.id}`)).data).toEqual([])
    expect((await getOk(w, `/v1/invoices?customer_id=${them.customerId}`)).data).toEqual([])

    expect(await rowCount(w.h, 'invoices', w.t.partnerId)).toBe(0)
    expect(await getInvoice(them, theirs.id)).toEqual(theirs)
    expect((await invoiced(them)).number).toBe(number(2))
  })

  it('a live token does not see test-mode invoices', async () => {
    const w = await world()
    const invoice = await invoiced(w)
    const live = await w.t.addToken({ mode: 'live' })
    sameAsUnknown(await w.h.call(live.token, 'GET', `/v1/invoices/${invoice.id}`), await w.h.call(live.token, 'GET', `/v1/invoices/${unknownId('inv')}`))
    sameAsUnknown(await w.h.call(live.token, 'POST', `/v1/invoices/${invoice.id}:void`), await w.h.call(live.token, 'POST', `/v1/invoices/${unknownId('inv')}:void`))
    expect((await getOk(w, '/v1/invoices', live.token)).data).toEqual([])
    // nor may it invoice a test-mode customer
    sameAsUnknown(await createInvoice(w, { line_items: [line(1, '1.00')] }, live.token), await createInvoice(w, { customer_id: unknownId('cus'), line_items: [line(1, '1.00')] }, live.token))
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
  })

  it('a token of one team sees only that team\'s invoices; team_ids outside the token is a 400 INVALID_TEAM_IDS', async () => {
    const w = await world({ teams: 2 })
    const [teamA, teamB] = w.t.teamIds as [string, string]
    const customerB = await customer(w.h, w.t.token, teamB, 'Binh')
    const a = await invoiced(w)
    const b = await invoiced(w, '5.00', 'USD', { customerId: customerB })
    expect(a.team_id).toBe(teamA)
    expect(b.team_id).toBe(teamB)

    const onlyA = await w.t.addUser('ACCOUNTANT', { teamIds: [teamA] })
    expect(ids((await getOk(w, '/v1/invoices', onlyA.token)).data)).toEqual([a.id])
    sameAsUnknown(await w.h.call(onlyA.token, 'GET', `/v1/invoices/${b.id}`), await w.h.call(onlyA.token, 'GET', `/v1/invoices/${unknownId('inv')}`))
    sameAsUnknown(await w.h.call(onlyA.token, 'POST', `/v1/invoices/${b.id}:void`), await w.h.call(onlyA.token, 'POST', `/v1/invoices/${unknownId('inv')}:void`))
    sameAsUnknown(
      await createInvoice(w, { customer_id: customerB, line_items: [line(1, '1.00')] }, onlyA.token),
      await createInvoice(w, { customer_id: unknownId('cus'), line_items: [line(1, '1.00')] }, onlyA.token),
    )
    expect((await getInvoice(w, b.id)).status).toBe('OPEN')

    const error = expectError(await w.h.call(onlyA.token, 'GET', `/v1/invoices?team_ids=${encodeURIComponent(JSON.stringify([teamB]))}`), 400, 'INVALID_TEAM_IDS')
    expect(error.details.invalid_team_ids).toEqual([teamB])
    const foreign = (await makeTenant(w.h.db)).teamIds[0]!
    expect(expectError(await w.h.call(w.t.token, 'GET', `/v1/invoices?team_ids=${encodeURIComponent(JSON.stringify([teamA, foreign]))}`), 400, 'INVALID_TEAM_IDS').details.invalid_team_ids).toEqual([foreign])
    expectError(await w.h.call(w.t.token, 'GET', '/v1/invoices?team_ids=%5B'), 400, 'INVALID_TEAM_IDS')

    // the owner narrows with team_ids
    expect(ids((await getOk(w, `/v1/invoices?team_ids=${encodeURIComponent(JSON.stringify([teamB]))}`)).data)).toEqual([b.id])
    expect(ids((await getOk(w, `/v1/invoices?team_ids=${teamA}&team_ids=${teamB}`)).data)).toEqual(ids([a, b]))
  })
})

describe('events', () => {
  it('invoice.created, invoice.paid, invoice.voided carry the v1 invoice (money as {amount, currency}), sequence increasing', async () => {
    const w = await world()
    const invoice = await invoiced(w, '25.010', 'KWD')
    const payment = await paid(w, invoice.id, money('25.010', 'KWD'))
    const paidInvoice = await getInvoice(w, invoice.id)
    expect(paidInvoice).toMatchObject({ status: 'PAID', paid_at: START, amount_due: money('0.000', 'KWD') })
    expect((await refund(w, payment.id)).statusCode).toBe(200)
    const voided = await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`)
    expect(voided.statusCode, voided.body).toBe(200)

    const events = await eventsOf(w, invoice.id)
    // the refund reopens the invoice: invoice.updated says so
    expect(events.map((e) => e.event_type)).toEqual(['invoice.created', 'invoice.paid', 'invoice.updated', 'invoice.voided'])
    // every change of the invoice has its event: sequence counts them, 1, 2, 3, 4
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4])
    expect(events[0].data).toEqual(invoice)
    expect(events[1].data).toEqual(paidInvoice)
    expect(events[2].data).toMatchObject({ status: 'OPEN', paid_at: null, amount_refunded: money('25.010', 'KWD'), amount_due: money('25.010', 'KWD') })
    expect(events[3].data).toEqual(voided.json())
    for (const e of events) expect(e).toMatchObject({ mode: 'test', team_id: w.t.teamIds[0], data: { total: { amount: '25.010', currency: 'KWD' } } })

    const one = await getOk(w, `/v1/events/${events[1].id}`)
    expect(one).toEqual(events[1])
    expect((await getOk(w, '/v1/events?event_type=invoice.paid')).data.map((e: Json) => e.id)).toEqual([events[1].id])
  })
})

describe('payments recorded against an invoice show on it', () => {
  it('amount_paid, amount_refunded and amount_due follow the payments, exactly', async () => {
    const w = await world()
    const invoice = await invoiced(w, '0.30')
    const p1 = await paid(w, invoice.id, usd('0.10'))
    await paid(w, invoice.id, usd('0.10'))
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', amount_paid: usd('0.20'), amount_due: usd('0.10'), paid_at: null })
    await paid(w, invoice.id, usd('0.10'))
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'PAID', amount_paid: usd('0.30'), amount_due: usd('0.00'), paid_at: START })
    expect((await refund(w, p1.id, { amount: usd('0.01'), reason: 'rounding' })).statusCode).toBe(200)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', amount_paid: usd('0.30'), amount_refunded: usd('0.01'), amount_due: usd('0.01'), paid_at: null })
    expectError(await pay(w, invoice.id, usd('0.02')), 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE')
    await paid(w, invoice.id, usd('0.01'))
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'PAID', amount_paid: usd('0.31'), amount_refunded: usd('0.01'), amount_due: usd('0.00') })
  })
})

describe('a confirmed booking whose stay changes', () => {
  const stay = (w: MoneyWorld, id: string, checkIn: string, checkOut: string) => w.h.call(w.t.token, 'PUT', `/v1/bookings/${id}/stay`, { check_in: checkIn, check_out: checkOut, guests: 2 })
  const byBooking = async (w: MoneyWorld, id: string) => (await getOk(w, `/v1/invoices?booking_id=${id}&sort=created_at`)).data as Json[]

  it('nothing paid yet: the old invoice is voided and the new stay invoiced afresh', async () => {
    const w = await world()
    const { booking, invoice } = await confirmed(w, apr(10), apr(13))
    const manual = await invoiced(w, '15.00', 'USD', { booking_id: booking.id })
    const res = await stay(w, booking.id, apr(10), apr(15))
    expect(res.statusCode, res.body).toBe(200)
    const [old, extras, fresh] = await byBooking(w, booking.id)
    expect(old).toMatchObject({ id: invoice.id, status: 'VOID', void_reason: 'Stay changed' })
    // an invoice made by hand for the booking is the partner's: it stays as it was
    expect(extras).toMatchObject({ id: manual.id, status: 'OPEN' })
    expect(fresh).toMatchObject({ status: 'OPEN', total: usd('500.00'), amount_due: usd('500.00'), line_items: [{ quantity: 5, unit_amount: usd('100.00'), amount: usd('500.00') }] })
    expect(fresh.number).not.toBe(invoice.number)
    expect((await eventsOf(w, invoice.id)).map((e) => e.event_type)).toEqual(['invoice.created', 'invoice.voided'])
  })

  it('money paid: the invoice stands; a higher price is invoiced as the difference, a lower one is left to an explicit refund', async () => {
    const w = await world()
    const { booking, invoice } = await confirmed(w, apr(10), apr(13))
    await paid(w, invoice.id, usd('100.00'))
    expect((await stay(w, booking.id, apr(10), apr(15))).statusCode).toBe(200)
    const [first, supplement] = await byBooking(w, booking.id)
    expect(first).toMatchObject({ id: invoice.id, status: 'OPEN', total: usd('300.00'), amount_due: usd('200.00') })
    expect(supplement).toMatchObject({ status: 'OPEN', total: usd('200.00'), line_items: [{ quantity: 1, amount: usd('200.00') }] })
    expect(supplement.line_items[0].description).toContain('difference')

    // shorter again: nothing new is invoiced (the partner refunds what it owes)
    expect((await stay(w, booking.id, apr(10), apr(12))).statusCode).toBe(200)
    expect(await byBooking(w, booking.id)).toHaveLength(2)
  })

  it('a held booking has no invoice, and changing its stay makes none', async () => {
    const w = await world()
    const b = await held(w, apr(10), apr(13))
    expect((await stay(w, b.id, apr(10), apr(14))).statusCode).toBe(200)
    expect(await byBooking(w, b.id)).toEqual([])
  })
})
