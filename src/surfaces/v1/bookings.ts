import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { etagOf, listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { presentBooking } from './presenters.ts'
import { replacementGuard, sendPage } from './render.ts'
import { PathId, calendarDate, commaList, listOf } from '../../http/schemas.ts'
import type { Clock } from '../../platform/clock.ts'
import { todayIn } from '../../modules/test-clock/now.ts'
import { field } from '../../platform/errors.ts'
import type { ErrorCode } from '../../platform/errors.ts'
import { BOOKING_STATUSES, BookingSchema, CancelBody, CreateBookingBody, GuestDetailsBody, StayBody } from '../../modules/bookings/schemas.ts'
import { bookingSpec, checkStay } from '../../modules/bookings/service.ts'
import type { ServicesFor } from '../../modules/services.ts'

const tags = ['Bookings']

const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag from GET; 412 when the booking changed since.' })) })

const filterQuery = {
  status: commaList(BOOKING_STATUSES, 'status=CONFIRMED,ISSUED. '),
  listing_id: Type.Optional(Type.String({ maxLength: 64 })),
  check_in_from: Type.Optional(calendarDate('YYYY-MM-DD, inclusive.')),
  check_in_to: Type.Optional(calendarDate('YYYY-MM-DD, inclusive.')),
  created_after: Type.Optional(Type.String({ format: 'date-time' })),
  created_before: Type.Optional(Type.String({ format: 'date-time' })),
  external_booking_id: Type.Optional(Type.String({ maxLength: 200 })),
}

export const bookingRoutes: FastifyPluginAsyncTypebox<{ clock: Clock; svc: ServicesFor; publicBaseUrl: string }> = async (app, { clock, svc, publicBaseUrl }) => {
  app.get(
    '/v1/bookings',
    {
      config: { permission: 'booking.read', bucket: 'read', replacedBy: 'GET /v2/bookings' },
      schema: {
        operationId: 'listBookings',
        deprecated: true,
        summary: 'List bookings',
        description: 'Filters combine with AND. A hold that has lapsed is EXPIRED here, whether or not the sweeper has run.',
        tags,
        querystring: Type.Object({ ...listQuerySchema(bookingSpec), ...filterQuery, customer_id: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: listOf(BookingSchema) },
      },
    },
    async (request, reply) => {
      const { page, fields } = await svc(request).bookings.list(scopeOf(callerOf(request), request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentBooking)
    },
  )

  app.get(
    '/v1/customers/:id/bookings',
    {
      // a customer's bookings say who the customer is: both reads are needed
      config: { permission: ['customer.read', 'booking.read'], bucket: 'read', replacedBy: 'GET /v2/customers/{id}/bookings' },
      schema: {
        operationId: 'listCustomerBookings',
        deprecated: true,
        summary: 'List a customer\'s bookings',
        tags: ['Customers'],
        params: PathId,
        querystring: Type.Object({ ...listQuerySchema(bookingSpec), ...filterQuery }, { additionalProperties: false }),
        response: { 200: listOf(BookingSchema) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { page, fields } = await svc(request).bookings.listForCustomer(scopeOf(caller), request.params.id, scopeOf(caller, request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentBooking)
    },
  )

  app.post(
    '/v1/bookings',
    {
      config: {
        permission: 'booking.create.partner',
        bucket: 'booking_create',
        replacedBy: 'POST /v2/bookings',
        errors: ['NOT_FOUND', 'INVALID_TEAM_IDS', 'EXTERNAL_BOOKING_ID_REQUIRED', 'LISTING_NOT_BOOKABLE', 'LISTING_UNAVAILABLE', 'PRICE_CHANGED', 'EXTERNAL_BOOKING_DUPLICATE'],
        fieldChecks: (request, errors) => checkStay(errors, field(request.body, 'check_in'), field(request.body, 'check_out'), todayIn(clock, scopeOf(callerOf(request)))),
      },
      schema: {
        operationId: 'createBooking',
        deprecated: true,
        summary: 'Hold a listing for a stay',
        description:
          'Creates a HELD booking with hold_expires_at (15 minutes by default) and the price. Confirm it before the hold lapses. ' +
          'Errors that no retry can fix come first: 404 (listing, customer), LISTING_NOT_BOOKABLE, EXTERNAL_BOOKING_DUPLICATE, LISTING_UNAVAILABLE, then PRICE_CHANGED.',
        tags,
        body: CreateBookingBody,
        response: { 201: BookingSchema },
      },
    },
    async (request, reply) => {
      const booking = presentBooking(await svc(request).bookings.create(scopeOf(callerOf(request)), request.body))
      return reply.code(201).header('location', `${publicBaseUrl}/v1/bookings/${booking.id}`).send(booking)
    },
  )

  app.get(
    '/v1/bookings/:id',
    {
      config: { permission: 'booking.read', bucket: 'read', replacedBy: 'GET /v2/bookings/{id}' },
      schema: { operationId: 'getBooking', deprecated: true, summary: 'Get a booking', tags, params: PathId, querystring: FieldsQuery, response: { 200: BookingSchema, 304: { description: 'Not modified.', type: 'null' } } },
    },
    async (request, reply) => sendResource(request, reply, presentBooking(await svc(request).bookings.get(scopeOf(callerOf(request)), request.params.id)), bookingSpec, request.query.fields),
  )

  const action = (name: string, summary: string, description: string, permission: 'booking.create.partner' | 'booking.issue', bucket: 'write' | 'ticket_issue', errors: ErrorCode[]) => ({
    config: { permission, bucket, errors, replacedBy: `POST /v2/bookings/{id}:${name}` },
    schema: { operationId: `${name}Booking`, deprecated: true, summary, description, tags, params: PathId, response: { 200: BookingSchema } },
  })

  app.post(
    '/v1/bookings/:id(^.+)::confirm',
    action('confirm', 'Confirm a held booking', 'HELD → CONFIRMED, before the hold lapses.', 'booking.create.partner', 'write', ['BOOKING_HOLD_EXPIRED', 'BOOKING_INVALID_TRANSITION']),
    async (request) => presentBooking(await svc(request).bookings.confirm(scopeOf(callerOf(request)), request.params.id)),
  )

  app.post(
    '/v1/bookings/:id(^.+)::issue',
    action('issue', 'Issue the voucher', 'CONFIRMED → ISSUED; the booking gains its voucher_number.', 'booking.issue', 'ticket_issue', ['BOOKING_INVALID_TRANSITION']),
    async (request) => presentBooking(await svc(request).bookings.issue(scopeOf(callerOf(request)), request.params.id)),
  )

  app.post(
    '/v1/bookings/:id(^.+)::cancel',
    {
      config: { permission: 'booking.create.partner', bucket: 'write', errors: ['BOOKING_INVALID_TRANSITION'], replacedBy: 'POST /v2/bookings/{id}:cancel' },
      schema: {
        operationId: 'cancelBooking',
        deprecated: true,
        summary: 'Cancel a booking',
        description: 'HELD, CONFIRMED or ISSUED → CANCELLED, with a reason.',
        tags,
        params: PathId,
        body: CancelBody,
        response: { 200: BookingSchema },
      },
    },
    async (request) => presentBooking(await svc(request).bookings.cancel(scopeOf(callerOf(request)), request.params.id, request.body.reason)),
  )

  app.put(
    '/v1/bookings/:id/guest-details',
    {
      config: { permission: 'booking.create.partner', bucket: 'write', errors: ['BOOKING_INVALID_TRANSITION'], replacedBy: 'PUT /v2/bookings/{id}/guest-details' },
      schema: {
        operationId: 'replaceBookingGuestDetails',
        deprecated: true,
        summary: 'Replace the guest details',
        tags,
        params: PathId,
        headers: IfMatch,
        body: GuestDetailsBody,
        response: { 200: BookingSchema },
      },
    },
    async (request, reply) => {
      const booking = presentBooking(await svc(request).bookings.replaceGuestDetails(scopeOf(callerOf(request)), request.params.id, request.body, replacementGuard(presentBooking, request.body, request.headers['if-match'])))
      reply.header('etag', etagOf(booking))
      return booking
    },
  )

  app.put(
    '/v1/bookings/:id/stay',
    {
      config: {
        permission: 'booking.create.partner',
        bucket: 'write',
        errors: ['LISTING_NOT_BOOKABLE', 'LISTING_UNAVAILABLE', 'PRICE_CHANGED', 'BOOKING_INVALID_TRANSITION'],
        replacedBy: 'PUT /v2/bookings/{id}/stay',
        fieldChecks: (request, errors) => checkStay(errors, field(request.body, 'check_in'), field(request.body, 'check_out'), todayIn(clock, scopeOf(callerOf(request)))),
      },
      schema: {
        operationId: 'replaceBookingStay',
        deprecated: true,
        summary: 'Change the dates or guests',
        description: 'For HELD or CONFIRMED bookings: re-priced at the listing\'s current rate, availability checked again (the booking\'s own nights do not block it).',
        tags,
        params: PathId,
        headers: IfMatch,
        body: StayBody,
        response: { 200: BookingSchema },
      },
    },
    async (request, reply) => {
      const booking = presentBooking(await svc(request).bookings.replaceStay(scopeOf(callerOf(request)), request.params.id, request.body, replacementGuard(presentBooking, request.body, request.headers['if-match'])))
      reply.header('etag', etagOf(booking))
      return booking
    },
  )
}
