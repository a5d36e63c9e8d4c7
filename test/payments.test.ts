import type { LightMyRequestResponse } from 'fastify'
import { describe, expect, it } from 'vitest'
import { makeTenant } from './helpers/harness.ts'
import {
  START,
  allEvents,
  apr,
  confirmed,
  held,
  customer,
  eventsOf,
  expectError,
  expectFieldErrors,
  getInvoice,
  getOk,
  getPayment,
  invoiced,
  listAll,
  money,
  moneyWorld,
  newKey,
  paid,
  pay,
  refund,
  rowCount,
  sameAsUnknown,
  sumCents,
  unknownId,
  usd,
  world,
} from './helpers/money.ts'
import type { Json, MoneyWorld } from './helpers/money.ts'

/**
 * Payments (API.md §3, §8, §9, §10): recorded against an invoice with a required Idempotency-Key,
 * never more than is due (the invoice row is the queue), in the invoice's currency; PAID in the
 * same transaction; test-mode DECLINE; refunds, never more than was paid; races, replays,
 * permissions, tenancy and events.
 *
 * Time: the file's shared app runs on a ManualClock at START that never moves; a test that moves
 * time makes an app of its own (moneyWorld()).
 */

const ids = (items: Json[]) => items.map((i) => i.id as string).sort()

/** Headers that describe the exchange, not the stored response: they may differ on a replay. */
const PER_EXCHANGE = new Set([
  'x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'retry-after', 'idempotent-replayed',
  'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-bucket', 'ratelimit', 'ratelimit-policy',
])

/** The replay: same status, body byte for byte, same headers (Location included) apart from per-exchange ones, and the marker. */
function expectReplay(replay: LightMyRequestResponse, first: LightMyRequestResponse): void {
  expect(first.headers['idempotent-replayed']).toBeUndefined()
  expect(replay.statusCode, replay.body).toBe(first.statusCode)
  expect(replay.body).toBe(first.body)
  expect(replay.headers['idempotent-replayed']).toBe('true')
  for (const [name, value] of Object.entries(first.headers)) {
    if (PER_EXCHANGE.has(name)) continue
    expect(replay.headers[name], name).toEqual(value)
  }
}

/** The invoice's figures agree with its payments: amount_paid = Σ non-failed amounts, amount_refunded = Σ refunded, due = total − net. */
async function expectConsistent(w: MoneyWorld, invoiceId: string): Promise<Json> {
  const invoice = await getInvoice(w, invoiceId)
  const payments = await listAll(w, `/v1/payments?invoice_id=${invoiceId}`)
  const counted = payments.filter((p) => p.status !== 'FAILED')
  const paidSum = sumCents(counted.map((p) => p.amount.amount))
  const refundedSum = sumCents(counted.map((p) => p.amount_refunded.amount))
  expect(invoice.amount_paid.amount).toBe(paidSum)
  expect(invoice.amount_refunded.amount).toBe(refundedSum)
  for (const p of counted) expect(sumCents(p.refunds.map((r: Json) => r.amount.amount))).toBe(p.amount_refunded.amount)
  const cents = (a: string) => Math.round(Number(a) * 100)
  const due = cents(invoice.total.amount) - (cents(paidSum) - cents(refundedSum))
  expect(due).toBeGreaterThanOrEqual(0)
  expect(cents(invoice.amount_due.amount)).toBe(due)
  expect(invoice.status).toBe(due === 0 ? 'PAID' : 'OPEN')
  expect(invoice.paid_at === null).toBe(due !== 0)
  return invoice
}

describe('POST /v1/payments', () => {
  it('requires an Idempotency-Key: 400 IDEMPOTENCY_KEY_REQUIRED naming the header (before the body is looked at), and nothing is written', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const error = expectError(await pay(w, invoice.id, usd('30.00'), {}, null), 400, 'IDEMPOTENCY_KEY_REQUIRED')
    expect(error.details.fields).toEqual([expect.objectContaining({ field: 'Idempotency-Key', location: 'header' })])
    expect(error.retry_advice).toBe('retry_after_fix')
    expectError(await w.h.call(w.t.token, 'POST', '/v1/payments', { nonsense: true }), 400, 'IDEMPOTENCY_KEY_REQUIRED')
    // an empty key is no key
    expect((await pay(w, invoice.id, usd('30.00'), {}, '')).statusCode).toBe(400)
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(0)
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
    expect((await getOk(w, '/v1/payments')).data).toEqual([])
    expect((await allEvents(w)).filter((e) => e.event_type.startsWith('payment.'))).toEqual([])
  })

  it('a partial payment: 201 with Location and the body GET returns; the invoice stays OPEN with amount_paid and amount_due; event payment.succeeded only', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const res = await pay(w, invoice.id, usd('30.00'), { method: 'BANK_TRANSFER', reference: 'TT-2031-0001' })
    expect(res.statusCode, res.body).toBe(201)
    const payment = res.json()
    expect(res.headers.location).toBe(`http://api.test/v1/payments/${payment.id}`)
    expect(payment).toEqual({
      id: expect.stringMatching(/^pay_[0-7][0-9a-hjkmnp-tv-z]{25}$/),
      status: 'SUCCEEDED',
      team_id: w.t.teamIds[0],
      mode: 'test',
      invoice_id: invoice.id,
      customer_id: w.customerId,
      amount: usd('30.00'),
      amount_refunded: usd('0.00'),
      method: 'BANK_TRANSFER',
      reference: 'TT-2031-0001',
      received_at: START,
      failure_code: null,
      failure_message: null,
      refunds: [],
      created_at: START,
      updated_at: START,
    })
    const got = await w.h.call(w.t.token, 'GET', `/v1/payments/${payment.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.body).toBe(res.body)
    const notModified = await w.h.call(w.t.token, 'GET', `/v1/payments/${payment.id}`, undefined, { 'if-none-match': got.headers.etag as string })
    expect(notModified.statusCode).toBe(304)

    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', amount_paid: usd('30.00'), amount_refunded: usd('0.00'), amount_due: usd('60.00'), paid_at: null })
    const events = await eventsOf(w, payment.id)
    expect(events.map((e) => [e.event_type, e.sequence])).toEqual([['payment.succeeded', 1]])
    expect(events[0].data).toEqual(payment)
    expect(await eventsOf(w, invoice.id, 'invoice.paid')).toEqual([])
  })

  it('the payment that brings amount_due to 0 makes the invoice PAID with paid_at, in the same transaction: payment.succeeded, then invoice.paid', async () => {
    const w = await moneyWorld()
    const invoice = await invoiced(w, '90.00')
    await paid(w, invoice.id, usd('30.00'))
    w.clock.advance(60_000)
    const now = w.clock.now().toISOString()
    const last = await paid(w, invoice.id, usd('60.00'), { method: 'CASH' })
    const after = await getInvoice(w, invoice.id)
    expect(after).toMatchObject({ status: 'PAID', amount_paid: usd('90.00'), amount_due: usd('0.00'), paid_at: now, updated_at: now })

    const events = (await allEvents(w)).filter((e) => e.created_at === now)
    expect(events.map((e) => [e.event_type, e.data.id])).toEqual([
      ['payment.succeeded', last.id],
      ['invoice.paid', invoice.id],
    ])
    expect(events[1].data).toEqual(after)

    // nothing more is due
    const error = expectError(await pay(w, invoice.id, usd('0.01')), 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE')
    expect(error.details.amount_due).toEqual(usd('0.00'))
  })

  it('exact in three-decimal and zero-decimal currencies: KWD 12.505 + 12.505 pays 25.010; VND 1500000 + 3000000 pays 4500000', async () => {
    const w = await world()
    const kwd = await invoiced(w, '25.010', 'KWD')
    expect((await paid(w, kwd.id, money('12.505', 'KWD'))).amount).toEqual(money('12.505', 'KWD'))
    expect((await getInvoice(w, kwd.id)).amount_due).toEqual(money('12.505', 'KWD'))
    await paid(w, kwd.id, money('12.5', 'KWD'))
    expect((await getInvoice(w, kwd.id)).amount_due).toEqual(money('0.005', 'KWD'))
    await paid(w, kwd.id, money('0.005', 'KWD'))
    expect(await getInvoice(w, kwd.id)).toMatchObject({ status: 'PAID', amount_paid: money('25.010', 'KWD'), amount_due: money('0.000', 'KWD') })

    const vnd = await invoiced(w, '4500000', 'VND')
    await paid(w, vnd.id, money('1500000', 'VND'))
    await paid(w, vnd.id, money('3000000', 'VND'))
    expect(await getInvoice(w, vnd.id)).toMatchObject({ status: 'PAID', amount_paid: money('4500000', 'VND'), amount_due: money('0', 'VND') })
  })

  it('every method is accepted: CARD, BANK_TRANSFER, CASH, E_WALLET; another is a 400 naming method', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    for (const method of ['CARD', 'BANK_TRANSFER', 'CASH', 'E_WALLET']) expect((await paid(w, invoice.id, usd('1.00'), { method })).method).toBe(method)
    for (const method of ['CHEQUE', 'card', '', null]) expectFieldErrors(await pay(w, invoice.id, usd('1.00'), { method }), 'method')
    expectFieldErrors(await w.h.call(w.t.token, 'POST', '/v1/payments', { invoice_id: invoice.id, amount: usd('1.00') }, { 'idempotency-key': newKey() }), 'method')
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(4)
  })

  it('an amount that is not exact, not positive or not a string is a 400 naming amount.amount, and nothing is written', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const kwdInvoice = await invoiced(w, '90.000', 'KWD')
    const vndInvoice = await invoiced(w, '900000', 'VND')
    const cases: [string, unknown, string][] = [
      [invoice.id, usd('1.005'), 'amount.amount'],
      [invoice.id, usd('0.00'), 'amount.amount'],
      [invoice.id, usd('0'), 'amount.amount'],
      [invoice.id, usd('-1.00'), 'amount.amount'],
      [invoice.id, { amount: 1.5, currency: 'USD' }, 'amount.amount'],
      [invoice.id, usd('1e2'), 'amount.amount'],
      [invoice.id, usd(''), 'amount.amount'],
      [invoice.id, { currency: 'USD' }, 'amount.amount'],
      [invoice.id, { amount: '1.00' }, 'amount.currency'],
      [invoice.id, '1.00', 'amount'],
      [invoice.id, { ...usd('1.00'), extra: 1 }, 'amount.extra'],
      [kwdInvoice.id, money('1.0005', 'KWD'), 'amount.amount'],
      [vndInvoice.id, money('10.5', 'VND'), 'amount.amount'],
    ]
    for (const [invoiceId, amount, field] of cases) expectFieldErrors(await pay(w, invoiceId, amount as never), field)
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(0)
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
    // the exact ones pass
    await paid(w, kwdInvoice.id, money('1.005', 'KWD'))
    await paid(w, vndInvoice.id, money('10', 'VND'))
  })

  it('a currency other than the invoice\'s is a 400 naming amount.currency, and nothing is written', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    for (const amount of [money('10.00', 'EUR'), money('10', 'VND'), money('10.000', 'KWD'), money('10.00', 'usd'), money('10.00', 'XYZ')]) {
      const res = await pay(w, invoice.id, amount)
      expectFieldErrors(res, 'amount.currency')
      expect((res.json().error.details.fields as { field: string }[]).map((f) => f.field), JSON.stringify(amount)).toEqual(['amount.currency'])
    }
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(0)
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
  })

  it('a currency other than the invoice\'s is named as such even when the amount does not fit that currency (VND "10.5" on a USD invoice)', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    for (const amount of [money('10.5', 'VND'), money('10.50', 'JPY'), money('10.0005', 'KWD')]) {
      expectFieldErrors(await pay(w, invoice.id, amount), 'amount.currency')
    }
    const payment = await paid(w, invoice.id, usd('10.00'))
    expectFieldErrors(await refund(w, payment.id, { amount: money('1.5', 'VND'), reason: 'x' }), 'amount.currency')
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
  })

  it('more than amount_due is a 409 PAYMENT_EXCEEDS_AMOUNT_DUE with details.amount_due, and nothing is written', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    let error = expectError(await pay(w, invoice.id, usd('90.01')), 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE')
    expect(error.details).toMatchObject({ invoice_id: invoice.id, amount_due: usd('90.00') })
    expect(error.retry_advice).toBe('retry_after_fix')
    await paid(w, invoice.id, usd('50.00'))
    error = expectError(await pay(w, invoice.id, usd('40.01')), 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE')
    expect(error.details.amount_due).toEqual(usd('40.00'))
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', amount_paid: usd('50.00'), amount_due: usd('40.00') })
  })

  it('a VOID invoice takes no payment: 409 INVOICE_VOID', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    expect((await w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`)).statusCode).toBe(200)
    const error = expectError(await pay(w, invoice.id, usd('10.00')), 409, 'INVOICE_VOID')
    expect(error.details.invoice_id).toBe(invoice.id)
    expectError(await pay(w, invoice.id, usd('10.00'), { reference: 'DECLINE' }), 409, 'INVOICE_VOID')
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(0)
  })

  it('received_at: now by default, a past time is kept, a future one is a 400 naming received_at', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    expect((await paid(w, invoice.id, usd('1.00'))).received_at).toBe(START)
    expect((await paid(w, invoice.id, usd('1.00'), { received_at: '2031-02-20T08:30:00Z' })).received_at).toBe('2031-02-20T08:30:00.000Z')
    expect((await paid(w, invoice.id, usd('1.00'), { received_at: null })).received_at).toBe(START)
    for (const future of ['2031-03-01T11:00:00Z', '2031-03-02T10:00:00Z', '2040-01-01T00:00:00Z']) expectFieldErrors(await pay(w, invoice.id, usd('1.00'), { received_at: future }), 'received_at')
    for (const bad of ['yesterday', '2031-02-30T00:00:00Z', 1234]) expectFieldErrors(await pay(w, invoice.id, usd('1.00'), { received_at: bad }), 'received_at')
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(3)
  })

  it('an unknown invoice is a 404; missing or unknown fields are a 400', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    expect(expectError(await pay(w, unknownId('inv'), usd('1.00')), 404, 'NOT_FOUND').details.resource).toBe('invoice')
    expectFieldErrors(await w.h.call(w.t.token, 'POST', '/v1/payments', { amount: usd('1.00'), method: 'CARD' }, { 'idempotency-key': newKey() }), 'invoice_id')
    expectFieldErrors(await w.h.call(w.t.token, 'POST', '/v1/payments', { invoice_id: invoice.id, method: 'CARD' }, { 'idempotency-key': newKey() }), 'amount')
    expectFieldErrors(await pay(w, invoice.id, usd('1.00'), { status: 'SUCCEEDED' }), 'status')
    expectFieldErrors(await pay(w, invoice.id, usd('1.00'), { reference: '' }), 'reference')
    expectFieldErrors(await pay(w, invoice.id, usd('1.00'), { customer_id: w.customerId }), 'customer_id')
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(0)
  })
})

describe('test mode: the reference DECLINE', () => {
  it('is declined: 201 with status FAILED and failure_code DECLINED; the invoice is unchanged; event payment.failed; it cannot be refunded', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const res = await pay(w, invoice.id, usd('90.00'), { reference: 'DECLINE' })
    expect(res.statusCode, res.body).toBe(201)
    const declined = res.json()
    expect(declined).toMatchObject({
      status: 'FAILED',
      failure_code: 'DECLINED',
      failure_message: expect.any(String),
      amount: usd('90.00'),
      amount_refunded: usd('0.00'),
      reference: 'DECLINE',
      refunds: [],
    })
    expect(await getPayment(w, declined.id)).toEqual(declined)
    expect(await getInvoice(w, invoice.id)).toEqual(invoice)
    const events = await eventsOf(w, declined.id)
    expect(events.map((e) => [e.event_type, e.sequence])).toEqual([['payment.failed', 1]])
    expect(events[0].data).toEqual(declined)
    expect(await eventsOf(w, invoice.id, 'invoice.paid')).toEqual([])

    const error = expectError(await refund(w, declined.id), 409, 'PAYMENT_NOT_REFUNDABLE')
    expect(error.details).toMatchObject({ payment_id: declined.id, status: 'FAILED' })
    expectError(await refund(w, declined.id, { amount: usd('1.00'), reason: 'x' }), 409, 'PAYMENT_NOT_REFUNDABLE')
    expect(await getPayment(w, declined.id)).toEqual(declined)

    // the whole amount is still due
    await paid(w, invoice.id, usd('90.00'))
    expect((await getInvoice(w, invoice.id)).status).toBe('PAID')
    expect(ids(await listAll(w, `/v1/payments?invoice_id=${invoice.id}&status=FAILED`))).toEqual([declined.id])
  })

  it('in live mode DECLINE is an ordinary reference', async () => {
    const w = await world({ mode: 'live' })
    const invoice = await invoiced(w, '90.00')
    expect(invoice.mode).toBe('live')
    const payment = await paid(w, invoice.id, usd('90.00'), { reference: 'DECLINE' })
    expect(payment).toMatchObject({ status: 'SUCCEEDED', failure_code: null, reference: 'DECLINE', mode: 'live' })
    expect((await getInvoice(w, invoice.id)).status).toBe('PAID')
    expect((await eventsOf(w, payment.id)).map((e) => e.event_type)).toEqual(['payment.succeeded'])
  })
})

describe('POST /v1/payments/{id}:refund', () => {
  it('refunds all by default: REFUNDED, the refunds list; the invoice PAID → OPEN (paid_at null), amount_refunded and amount_due grow; event payment.refunded; then a new payment can be recorded', async () => {
    const w = await moneyWorld()
    const invoice = await invoiced(w, '90.00')
    const payment = await paid(w, invoice.id, usd('90.00'))
    expect((await getInvoice(w, invoice.id)).status).toBe('PAID')
    w.clock.advance(60_000)
    const now = w.clock.now().toISOString()
    const res = await refund(w, payment.id, { reason: 'Stay cancelled' })
    expect(res.statusCode, res.body).toBe(200)
    const refunded = res.json()
    expect(refunded).toEqual({
      ...payment,
      status: 'REFUNDED',
      amount_refunded: usd('90.00'),
      refunds: [{ amount: usd('90.00'), reason: 'Stay cancelled', created_at: now }],
      updated_at: now,
    })
    expect(await getPayment(w, payment.id)).toEqual(refunded)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', paid_at: null, amount_paid: usd('90.00'), amount_refunded: usd('90.00'), amount_due: usd('90.00'), updated_at: now })
    const events = await eventsOf(w, payment.id)
    expect(events.map((e) => [e.event_type, e.sequence])).toEqual([
      ['payment.succeeded', 1],
      ['payment.refunded', 2],
    ])
    expect(events[1].data).toEqual(refunded)

    // nothing left to refund
    expect(expectError(await refund(w, payment.id), 409, 'REFUND_EXCEEDS_PAYMENT').details.refundable_amount).toEqual(usd('0.00'))
    // paid again
    await paid(w, invoice.id, usd('90.00'))
    expect(await expectConsistent(w, invoice.id)).toMatchObject({ status: 'PAID', amount_paid: usd('180.00'), amount_refunded: usd('90.00'), amount_due: usd('0.00') })
  })

  it('partial refunds: PARTIALLY_REFUNDED and a growing refunds list, then the rest → REFUNDED; more than is left → 409 REFUND_EXCEEDS_PAYMENT with details.refundable_amount', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const payment = await paid(w, invoice.id, usd('50.00'))

    let res = await refund(w, payment.id, { amount: usd('20.00'), reason: 'one night' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: usd('20.00'), refunds: [{ amount: usd('20.00'), reason: 'one night' }] })
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', amount_paid: usd('50.00'), amount_refunded: usd('20.00'), amount_due: usd('60.00') })

    const error = expectError(await refund(w, payment.id, { amount: usd('30.01'), reason: 'too much' }), 409, 'REFUND_EXCEEDS_PAYMENT')
    expect(error.details).toMatchObject({ payment_id: payment.id, refundable_amount: usd('30.00') })
    expect(error.retry_advice).toBe('retry_after_fix')

    res = await refund(w, payment.id, { amount: usd('10.00'), reason: 'breakfast' })
    expect(res.json()).toMatchObject({ status: 'PARTIALLY_REFUNDED', amount_refunded: usd('30.00') })
    expect(res.json().refunds.map((r: Json) => [r.amount.amount, r.reason])).toEqual([
      ['20.00', 'one night'],
      ['10.00', 'breakfast'],
    ])

    res = await refund(w, payment.id, { amount: null, reason: 'the rest' })
    expect(res.json()).toMatchObject({ status: 'REFUNDED', amount_refunded: usd('50.00') })
    expect(res.json().refunds.map((r: Json) => r.amount.amount)).toEqual(['20.00', '10.00', '20.00'])
    expect(expectError(await refund(w, payment.id, { amount: usd('0.01'), reason: 'x' }), 409, 'REFUND_EXCEEDS_PAYMENT').details.refundable_amount).toEqual(usd('0.00'))
    expect(await expectConsistent(w, invoice.id)).toMatchObject({ amount_refunded: usd('50.00'), amount_due: usd('90.00') })
    expect((await eventsOf(w, payment.id, 'payment.refunded')).map((e) => e.sequence)).toEqual([2, 3, 4])
  })

  it('a partial refund of a PAID invoice\'s payment reopens it for exactly that amount', async () => {
    const w = await world()
    const invoice = await invoiced(w, '25.010', 'KWD')
    const payment = await paid(w, invoice.id, money('25.010', 'KWD'))
    expect((await refund(w, payment.id, { amount: money('0.005', 'KWD'), reason: 'rounding' })).statusCode).toBe(200)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', paid_at: null, amount_refunded: money('0.005', 'KWD'), amount_due: money('0.005', 'KWD') })
    expectError(await pay(w, invoice.id, money('0.006', 'KWD')), 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE')
    await paid(w, invoice.id, money('0.005', 'KWD'))
    expect((await getInvoice(w, invoice.id)).status).toBe('PAID')
  })

  it('a wrong currency is a 400 naming amount.currency; a bad amount or a missing reason a 400; nothing changes', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const payment = await paid(w, invoice.id, usd('50.00'))
    expectFieldErrors(await refund(w, payment.id, { amount: money('10.00', 'EUR'), reason: 'x' }), 'amount.currency')
    expectFieldErrors(await refund(w, payment.id, { amount: money('10', 'VND'), reason: 'x' }), 'amount.currency')
    expectFieldErrors(await refund(w, payment.id, { amount: usd('0.00'), reason: 'x' }), 'amount.amount')
    expectFieldErrors(await refund(w, payment.id, { amount: usd('1.001'), reason: 'x' }), 'amount.amount')
    expectFieldErrors(await refund(w, payment.id, { amount: usd('-1.00'), reason: 'x' }), 'amount.amount')
    expectFieldErrors(await refund(w, payment.id, { amount: { amount: 1, currency: 'USD' }, reason: 'x' }), 'amount.amount')
    expectFieldErrors(await refund(w, payment.id, {}), 'reason')
    expectFieldErrors(await refund(w, payment.id, { reason: '' }), 'reason')
    expectFieldErrors(await refund(w, payment.id, { reason: 'x', status: 'REFUNDED' }), 'status')
    expect((await w.h.call(w.t.token, 'POST', `/v1/payments/${payment.id}:refund`)).statusCode).toBe(400)
    expect(await getPayment(w, payment.id)).toEqual(payment)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ amount_refunded: usd('0.00'), amount_due: usd('40.00') })
  })

  it('an unknown payment is a 404', async () => {
    const w = await world()
    expect(expectError(await refund(w, unknownId('pay')), 404, 'NOT_FOUND').details.resource).toBe('payment')
  })
})

describe('races (real concurrency against one app)', () => {
  it('50 concurrent payments of 3.00 against 90.00 due: exactly 30 succeed, 20 get 409 PAYMENT_EXCEEDS_AMOUNT_DUE; the invoice is exactly PAID', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const responses = await Promise.all(Array.from({ length: 50 }, () => pay(w, invoice.id, usd('3.00'))))
    const created = responses.filter((r) => r.statusCode === 201)
    const refused = responses.filter((r) => r.statusCode !== 201)
    expect(created).toHaveLength(30)
    expect(refused).toHaveLength(20)
    for (const res of refused) expect(expectError(res, 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE').details.amount_due).toEqual(usd('0.00'))

    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'PAID', amount_paid: usd('90.00'), amount_due: usd('0.00'), paid_at: START })
    const payments = await listAll(w, `/v1/payments?invoice_id=${invoice.id}`)
    expect(payments).toHaveLength(30)
    expect(payments.every((p) => p.status === 'SUCCEEDED')).toBe(true)
    expect(sumCents(payments.filter((p) => p.status === 'SUCCEEDED').map((p) => p.amount.amount))).toBe('90.00')
    expect(ids(payments)).toEqual(ids(created.map((r) => r.json())))
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(30)
    expect(await eventsOf(w, invoice.id, 'invoice.paid')).toHaveLength(1)
    expect((await allEvents(w)).filter((e) => e.event_type === 'payment.succeeded')).toHaveLength(30)
  })

  it('uneven amounts: 30 concurrent payments of 7.00 against 100.00 due: 14 succeed (98.00), the rest are refused with the 2.00 left', async () => {
    const w = await world()
    const invoice = await invoiced(w, '100.00')
    const responses = await Promise.all(Array.from({ length: 30 }, () => pay(w, invoice.id, usd('7.00'))))
    expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(14)
    for (const res of responses.filter((r) => r.statusCode !== 201)) expect(expectError(res, 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE').details.amount_due).toEqual(usd('2.00'))
    expect(await expectConsistent(w, invoice.id)).toMatchObject({ status: 'OPEN', amount_paid: usd('98.00'), amount_due: usd('2.00') })
  })

  it('20 concurrent refunds of 1.00 on one 10.00 payment: exactly 10 succeed, 10 get 409 REFUND_EXCEEDS_PAYMENT; the payment REFUNDED, the invoice OPEN again', async () => {
    const w = await world()
    const invoice = await invoiced(w, '10.00')
    const payment = await paid(w, invoice.id, usd('10.00'))
    expect((await getInvoice(w, invoice.id)).status).toBe('PAID')
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => refund(w, payment.id, { amount: usd('1.00'), reason: `refund ${i}` })))
    const ok = responses.filter((r) => r.statusCode === 200)
    const refused = responses.filter((r) => r.statusCode !== 200)
    expect(ok).toHaveLength(10)
    expect(refused).toHaveLength(10)
    for (const res of refused) expect(expectError(res, 409, 'REFUND_EXCEEDS_PAYMENT').details.refundable_amount).toEqual(usd('0.00'))

    const after = await getPayment(w, payment.id)
    expect(after).toMatchObject({ status: 'REFUNDED', amount: usd('10.00'), amount_refunded: usd('10.00') })
    expect(after.refunds).toHaveLength(10)
    expect(after.refunds.every((r: Json) => r.amount.amount === '1.00')).toBe(true)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ status: 'OPEN', paid_at: null, amount_paid: usd('10.00'), amount_refunded: usd('10.00'), amount_due: usd('10.00') })
    const sequences = (await eventsOf(w, payment.id, 'payment.refunded')).map((e) => e.sequence as number)
    expect([...sequences].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  })

  it('refunds of two payments, new payments and a void racing on one invoice leave its figures consistent with its payments', async () => {
    const w = await world()
    const invoice = await invoiced(w, '100.00')
    const p1 = await paid(w, invoice.id, usd('50.00'))
    const p2 = await paid(w, invoice.id, usd('50.00'))
    const responses = await Promise.all([
      refund(w, p1.id, { reason: 'a' }),
      refund(w, p2.id, { amount: usd('20.00'), reason: 'b' }),
      refund(w, p2.id, { amount: usd('20.00'), reason: 'c' }),
      ...Array.from({ length: 6 }, () => pay(w, invoice.id, usd('30.00'))),
      w.h.call(w.t.token, 'POST', `/v1/invoices/${invoice.id}:void`),
    ])
    for (const res of responses) expect([200, 201, 409], res.body).toContain(res.statusCode)
    // the two refunds of p2 (40.00 of 50.00) and p1's fit whatever the order
    expect(responses.slice(0, 3).map((r) => r.statusCode)).toEqual([200, 200, 200])
    // the void never wins: money is paid (net) all along
    expectError(responses.at(-1)!, 409, 'INVOICE_HAS_PAYMENTS')
    await expectConsistent(w, invoice.id)
  })

  it('a booking\'s cancellation and a payment of its invoice racing: either the invoice is VOID and the payment refused, or it is PAID and stays so', async () => {
    const w = await world()
    const listingId = (await held(w, apr(20), apr(21))).listing_id
    for (let round = 0; round < 4; round++) {
      const { booking, invoice } = await confirmed(w, apr(1 + 2 * round), apr(2 + 2 * round), { listingId })
      const [cancel, payment] = await Promise.all([
        w.h.call(w.t.token, 'POST', `/v1/bookings/${booking.id}:cancel`, { reason: 'guest asked' }),
        pay(w, invoice.id, usd('100.00')),
      ])
      expect(cancel.statusCode, cancel.body).toBe(200)
      const final = await getInvoice(w, invoice.id)
      if (payment.statusCode === 201) {
        expect(final).toMatchObject({ status: 'PAID', amount_paid: usd('100.00'), voided_at: null })
      } else {
        expectError(payment, 409, 'INVOICE_VOID')
        expect(final).toMatchObject({ status: 'VOID', amount_paid: usd('0.00') })
      }
    }
  })
})

describe('idempotency', () => {
  it('a lost response retried with its key records one payment: the replay is byte-identical, with Idempotent-Replayed: true and the same Location', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const key = newKey()
    const first = await pay(w, invoice.id, usd('30.00'), { reference: 'R-1' }, key)
    expect(first.statusCode, first.body).toBe(201)
    const replay = await pay(w, invoice.id, usd('30.00'), { reference: 'R-1' }, key)
    expectReplay(replay, first)
    expect(replay.headers.location).toBe(`http://api.test/v1/payments/${first.json().id}`)
    // the same body in another key order is the same request
    const reordered = await w.h.call(w.t.token, 'POST', '/v1/payments', { reference: 'R-1', method: 'CARD', amount: { currency: 'USD', amount: '30.00' }, invoice_id: invoice.id }, { 'idempotency-key': key })
    expectReplay(reordered, first)

    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ amount_paid: usd('30.00'), amount_due: usd('60.00') })
    expect((await allEvents(w)).filter((e) => e.event_type === 'payment.succeeded')).toHaveLength(1)
  })

  it('the same request sent concurrently records one payment: each answer is that payment or 409 IDEMPOTENCY_REQUEST_IN_PROGRESS, and a later retry replays it', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const key = newKey()
    const responses = await Promise.all(Array.from({ length: 5 }, () => pay(w, invoice.id, usd('30.00'), {}, key)))
    const created = responses.filter((r) => r.statusCode === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    for (const res of responses) {
      if (res.statusCode === 201) expect(res.body).toBe(created[0]!.body)
      else expect(expectError(res, 409, 'IDEMPOTENCY_REQUEST_IN_PROGRESS').retry_advice).toBe('retryable')
    }
    expect(created.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1)
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
    expect(await getInvoice(w, invoice.id)).toMatchObject({ amount_paid: usd('30.00') })
    const later = await pay(w, invoice.id, usd('30.00'), {}, key)
    expect(later.headers['idempotent-replayed']).toBe('true')
    expect(later.body).toBe(created[0]!.body)
  })

  it('the same key with another body is a 422 IDEMPOTENCY_KEY_REUSED, and nothing is written', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const other = await invoiced(w, '90.00')
    const key = newKey()
    const first = await pay(w, invoice.id, usd('30.00'), {}, key)
    expect(first.statusCode).toBe(201)
    for (const res of [await pay(w, invoice.id, usd('30.01'), {}, key), await pay(w, other.id, usd('30.00'), {}, key), await pay(w, invoice.id, usd('30.00'), { method: 'CASH' }, key)]) {
      expect(expectError(res, 422, 'IDEMPOTENCY_KEY_REUSED').retry_advice).toBe('retry_after_fix')
    }
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
    expect((await getInvoice(w, other.id)).amount_paid).toEqual(usd('0.00'))
    expectReplay(await pay(w, invoice.id, usd('30.00'), {}, key), first)
  })

  it('a key reused after a 409 PAYMENT_EXCEEDS_AMOUNT_DUE replays the 409, even once the amount would fit', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const earlier = await paid(w, invoice.id, usd('60.00'))
    const key = newKey()
    const refused = await pay(w, invoice.id, usd('40.00'), {}, key)
    expect(expectError(refused, 409, 'PAYMENT_EXCEEDS_AMOUNT_DUE').details.amount_due).toEqual(usd('30.00'))
    expectReplay(await pay(w, invoice.id, usd('40.00'), {}, key), refused)
    // 90.00 due again: the same key still answers the stored 409, a new key pays
    expect((await refund(w, earlier.id)).statusCode).toBe(200)
    expectReplay(await pay(w, invoice.id, usd('40.00'), {}, key), refused)
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
    await paid(w, invoice.id, usd('40.00'))
  })

  it('a refused 400 is not stored: the corrected request may use the key', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const key = newKey()
    expectFieldErrors(await pay(w, invoice.id, money('30.00', 'EUR'), {}, key), 'amount.currency')
    expectFieldErrors(await pay(w, invoice.id, usd('30.001'), {}, key), 'amount.amount')
    const ok = await pay(w, invoice.id, usd('30.00'), {}, key)
    expect(ok.statusCode, ok.body).toBe(201)
    expect(ok.headers['idempotent-replayed']).toBeUndefined()
  })

  it('a refund sent twice with one key refunds once', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const payment = await paid(w, invoice.id, usd('90.00'))
    const key = newKey('refund')
    const body = { amount: usd('10.00'), reason: 'one night' }
    const first = await w.h.call(w.t.token, 'POST', `/v1/payments/${payment.id}:refund`, body, { 'idempotency-key': key })
    expect(first.statusCode, first.body).toBe(200)
    expectReplay(await w.h.call(w.t.token, 'POST', `/v1/payments/${payment.id}:refund`, body, { 'idempotency-key': key }), first)
    expect(await getPayment(w, payment.id)).toMatchObject({ amount_refunded: usd('10.00'), refunds: [{ amount: usd('10.00') }] })
    expect((await getInvoice(w, invoice.id)).amount_refunded).toEqual(usd('10.00'))
  })
})

describe('GET /v1/payments: filters, sort, pages', () => {
  it('filters by invoice, customer, status, method and creation time; sorts by created_at; pages', async () => {
    const w = await moneyWorld()
    const other = await customer(w.h, w.t.token, undefined, 'Binh')
    const i1 = await invoiced(w, '90.00')
    const i2 = await invoiced(w, '90.00', 'USD', { customerId: other })
    const t0 = w.clock.now().toISOString()
    w.clock.advance(60_000)
    const a = await paid(w, i1.id, usd('10.00'), { method: 'CASH' })
    w.clock.advance(60_000)
    const b = await paid(w, i1.id, usd('20.00'), { method: 'CARD', reference: 'DECLINE' })
    w.clock.advance(60_000)
    const c = await paid(w, i2.id, usd('30.00'), { method: 'E_WALLET' })
    expect((await refund(w, c.id, { amount: usd('1.00'), reason: 'x' })).statusCode).toBe(200)
    w.clock.advance(60_000)
    const t4 = w.clock.now().toISOString()
    const d = await paid(w, i2.id, usd('40.00'), { method: 'BANK_TRANSFER' })
    expect((await refund(w, d.id)).statusCode).toBe(200)

    const list = async (query: string) => ids((await getOk(w, `/v1/payments?${query}`)).data)
    expect(await list('')).toEqual(ids([a, b, c, d]))
    expect(await list(`invoice_id=${i1.id}`)).toEqual(ids([a, b]))
    expect(await list(`customer_id=${other}`)).toEqual(ids([c, d]))
    expect(await list('status=SUCCEEDED')).toEqual([a.id])
    expect(await list('status=FAILED')).toEqual([b.id])
    expect(await list('status=PARTIALLY_REFUNDED,REFUNDED')).toEqual(ids([c, d]))
    expect(await list('method=CASH,E_WALLET')).toEqual(ids([a, c]))
    expect(await list(`method=CARD&invoice_id=${i1.id}`)).toEqual([b.id])
    expect(await list(`created_after=${encodeURIComponent(t0)}&created_before=${encodeURIComponent(t4)}`)).toEqual(ids([a, b, c]))
    expect(await list(`invoice_id=${unknownId('inv')}`)).toEqual([])
    // a calendar date is midnight UTC (API.md §14)
    expect(await list('created_after=2031-03-01&created_before=2031-03-02')).toEqual(ids([a, b, c, d]))
    expect(await list('created_before=2031-03-01')).toEqual([])

    const order = async (query: string) => (await getOk(w, `/v1/payments?${query}`)).data.map((p: Json) => p.id)
    expect(await order('')).toEqual([d.id, c.id, b.id, a.id])
    expect(await order('sort=created_at')).toEqual([a.id, b.id, c.id, d.id])
    const seen: string[] = []
    let cursor: string | undefined
    for (let i = 0; i < 10; i++) {
      const page = await getOk(w, `/v1/payments?sort=created_at&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      seen.push(...page.data.map((p: Json) => p.id))
      if (!page.pagination.has_more) break
      cursor = page.pagination.next_cursor
    }
    expect(seen).toEqual([a.id, b.id, c.id, d.id])
  })

  it('bad filter values are a 400', async () => {
    const w = await world()
    for (const query of ['status=PAID', 'status=succeeded', 'method=CHEQUE', 'sort=amount', 'sort=-received_at', 'limit=0', 'limit=101', 'created_after=yesterday', 'cursor=nope', 'colour=red', 'fields=id,nope']) {
      const res = await w.h.call(w.t.token, 'GET', `/v1/payments?${query}`)
      expect(res.statusCode, `${query}: ${res.body}`).toBe(400)
    }
  })
})

describe('permissions', () => {
  it('an ACCOUNTANT records, lists, reads and refunds payments', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const accountant = await w.t.addUser('ACCOUNTANT')
    const payment = await paid(w, invoice.id, usd('90.00'), {}, accountant.token)
    expect(ids((await getOk(w, '/v1/payments', accountant.token)).data)).toEqual([payment.id])
    expect(await getPayment(w, payment.id, accountant.token)).toEqual(payment)
    const res = await refund(w, payment.id, { amount: usd('5.00'), reason: 'x' }, accountant.token)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().status).toBe('PARTIALLY_REFUNDED')
  })

  it('a TRAVEL_AGENT gets 403 PERMISSION_DENIED on every payment route, and nothing is written', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const payment = await paid(w, invoice.id, usd('10.00'))
    const agent = await w.t.addUser('TRAVEL_AGENT')
    const required = (res: LightMyRequestResponse) => expectError(res, 403, 'PERMISSION_DENIED').details.required_permission
    expect(required(await pay(w, invoice.id, usd('10.00'), {}, newKey(), agent.token))).toBe('payment.write')
    // permission comes before the key
    expect(required(await pay(w, invoice.id, usd('10.00'), {}, null, agent.token))).toBe('payment.write')
    expect(required(await refund(w, payment.id, { reason: 'x' }, agent.token))).toBe('payment.write')
    expect(required(await w.h.call(agent.token, 'GET', '/v1/payments'))).toBe('payment.read')
    expect(required(await w.h.call(agent.token, 'GET', `/v1/payments/${payment.id}`))).toBe('payment.read')
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
    expect(await getPayment(w, payment.id)).toEqual(payment)
    expect((await getInvoice(w, invoice.id)).amount_paid).toEqual(usd('10.00'))
  })

  it('a VIEWER reads payments but gets 403 on POST', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const payment = await paid(w, invoice.id, usd('10.00'))
    const viewer = await w.t.addUser('VIEWER')
    expect(ids((await getOk(w, '/v1/payments', viewer.token)).data)).toEqual([payment.id])
    expect(await getPayment(w, payment.id, viewer.token)).toEqual(payment)
    expect(expectError(await pay(w, invoice.id, usd('10.00'), {}, newKey(), viewer.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('payment.write')
    expect(expectError(await refund(w, payment.id, { reason: 'x' }, viewer.token), 403, 'PERMISSION_DENIED').details.required_permission).toBe('payment.write')
    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(1)
    expect(await getPayment(w, payment.id)).toEqual(payment)
  })
})

describe('tenancy', () => {
  it('another partner\'s invoice or payment answers exactly like an unknown id, and nothing is written on either side', async () => {
    const w = await world()
    const them = await world()
    const theirInvoice = await invoiced(them, '90.00')
    const theirPayment = await paid(them, theirInvoice.id, usd('10.00'))

    sameAsUnknown(await w.h.call(w.t.token, 'GET', `/v1/payments/${theirPayment.id}`), await w.h.call(w.t.token, 'GET', `/v1/payments/${unknownId('pay')}`))
    sameAsUnknown(await refund(w, theirPayment.id), await refund(w, unknownId('pay')))
    sameAsUnknown(await pay(w, theirInvoice.id, usd('10.00')), await pay(w, unknownId('inv'), usd('10.00')))
    expect((await getOk(w, `/v1/payments?invoice_id=${theirInvoice.id}`)).data).toEqual([])

    expect(await rowCount(w.h, 'payments', w.t.partnerId)).toBe(0)
    expect(await getPayment(them, theirPayment.id)).toEqual(theirPayment)
    expect(await getInvoice(them, theirInvoice.id)).toMatchObject({ amount_paid: usd('10.00'), amount_refunded: usd('0.00') })
  })

  it('a live token does not see or pay test-mode payments and invoices', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    const payment = await paid(w, invoice.id, usd('10.00'))
    const live = await w.t.addToken({ mode: 'live' })
    sameAsUnknown(await w.h.call(live.token, 'GET', `/v1/payments/${payment.id}`), await w.h.call(live.token, 'GET', `/v1/payments/${unknownId('pay')}`))
    sameAsUnknown(await refund(w, payment.id, { reason: 'x' }, live.token), await refund(w, unknownId('pay'), { reason: 'x' }, live.token))
    sameAsUnknown(await pay(w, invoice.id, usd('10.00'), {}, newKey(), live.token), await pay(w, unknownId('inv'), usd('10.00'), {}, newKey(), live.token))
    expect((await getOk(w, '/v1/payments', live.token)).data).toEqual([])
    expect(await getPayment(w, payment.id)).toEqual(payment)
  })

  it('a token of one team does not see or touch the other team\'s payments; team_ids outside the token is a 400 INVALID_TEAM_IDS', async () => {
    const w = await world({ teams: 2 })
    const [teamA, teamB] = w.t.teamIds as [string, string]
    const customerB = await customer(w.h, w.t.token, teamB, 'Binh')
    const invoiceA = await invoiced(w, '90.00')
    const invoiceB = await invoiced(w, '90.00', 'USD', { customerId: customerB })
    const a = await paid(w, invoiceA.id, usd('10.00'))
    const b = await paid(w, invoiceB.id, usd('10.00'))
    expect([a.team_id, b.team_id]).toEqual([teamA, teamB])

    const onlyA = await w.t.addUser('ACCOUNTANT', { teamIds: [teamA] })
    expect(ids((await getOk(w, '/v1/payments', onlyA.token)).data)).toEqual([a.id])
    sameAsUnknown(await w.h.call(onlyA.token, 'GET', `/v1/payments/${b.id}`), await w.h.call(onlyA.token, 'GET', `/v1/payments/${unknownId('pay')}`))
    sameAsUnknown(await refund(w, b.id, { reason: 'x' }, onlyA.token), await refund(w, unknownId('pay'), { reason: 'x' }, onlyA.token))
    sameAsUnknown(await pay(w, invoiceB.id, usd('10.00'), {}, newKey(), onlyA.token), await pay(w, unknownId('inv'), usd('10.00'), {}, newKey(), onlyA.token))
    expect(await getPayment(w, b.id)).toEqual(b)
    expect((await getInvoice(w, invoiceB.id)).amount_paid).toEqual(usd('10.00'))

    expect(expectError(await w.h.call(onlyA.token, 'GET', `/v1/payments?team_ids=${encodeURIComponent(JSON.stringify([teamB]))}`), 400, 'INVALID_TEAM_IDS').details.invalid_team_ids).toEqual([teamB])
    const foreign = (await makeTenant(w.h.db)).teamIds[0]!
    expect(expectError(await w.h.call(w.t.token, 'GET', `/v1/payments?team_ids=${foreign}`), 400, 'INVALID_TEAM_IDS').details.invalid_team_ids).toEqual([foreign])
    expect(ids((await getOk(w, `/v1/payments?team_ids=${encodeURIComponent(JSON.stringify([teamB]))}`)).data)).toEqual([b.id])
  })
})

describe('events', () => {
  it('payment.succeeded, payment.refunded and payment.failed carry the v1 payment (money as {amount, currency}), sequence counting per payment', async () => {
    const w = await world()
    const invoice = await invoiced(w, '1500000', 'VND')
    const payment = await paid(w, invoice.id, money('1000000', 'VND'))
    const r1 = await refund(w, payment.id, { amount: money('250000', 'VND'), reason: 'one night' })
    const r2 = await refund(w, payment.id, { reason: 'the rest' })
    const declined = await paid(w, invoice.id, money('500000', 'VND'), { reference: 'DECLINE' })

    const events = await eventsOf(w, payment.id)
    expect(events.map((e) => [e.event_type, e.sequence])).toEqual([
      ['payment.succeeded', 1],
      ['payment.refunded', 2],
      ['payment.refunded', 3],
    ])
    expect(events.map((e) => e.data)).toEqual([payment, r1.json(), r2.json()])
    expect(events[2].data.refunds).toEqual([
      { amount: money('250000', 'VND'), reason: 'one night', created_at: START },
      { amount: money('750000', 'VND'), reason: 'the rest', created_at: START },
    ])
    for (const e of events) expect(e).toMatchObject({ mode: 'test', team_id: w.t.teamIds[0], data: { amount: money('1000000', 'VND') } })
    const failed = await eventsOf(w, declined.id)
    expect(failed.map((e) => [e.event_type, e.sequence])).toEqual([['payment.failed', 1]])
    expect(failed[0].data).toEqual(declined)
    expect(await getOk(w, `/v1/events/${events[1].id}`)).toEqual(events[1])
    expect(ids((await getOk(w, '/v1/events?event_type=payment.refunded')).data)).toEqual(ids(events.slice(1)))
  })

  it('an invoice\'s events keep an increasing sequence through payments, refunds and payments again', async () => {
    const w = await world()
    const invoice = await invoiced(w, '90.00')
    await paid(w, invoice.id, usd('40.00'))
    const last = await paid(w, invoice.id, usd('50.00'))
    expect((await refund(w, last.id)).statusCode).toBe(200)
    await paid(w, invoice.id, usd('50.00'))
    const events = await eventsOf(w, invoice.id)
    // a partial payment and a refund change the invoice too: invoice.updated, so the sequence has no gap
    expect(events.map((e) => e.event_type)).toEqual(['invoice.created', 'invoice.updated', 'invoice.paid', 'invoice.updated', 'invoice.paid'])
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5])
    expect(events[3].data).toMatchObject({ status: 'OPEN', paid_at: null, amount_due: usd('50.00') })
    expect(events[4].data).toEqual(await getInvoice(w, invoice.id))
  })
})
