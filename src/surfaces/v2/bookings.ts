import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { checkIfMatch, etagOf, listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { PathId, calendarDate, commaList, listOf } from '../../http/schemas.ts'
import { BOOKING_STATUSES, CancelBody, GuestDetailsBody, StayBody } from '../../modules/bookings/schemas.ts'
import type { CreateBookingInput } from '../../modules/bookings/schemas.ts'
import { bookingSpec, checkStay } from '../../modules/bookings/service.ts'
import type { Booking } from '../../modules/bookings/service.ts'
import type { ServicesFor } from '../../modules/services.ts'
import type { Clock } from '../../platform/clock.ts'
import { todayIn } from '../../modules/test-clock/now.ts'
import { ApiError, FieldErrors, field, validationError } from '../../platform/errors.ts'
import type { ErrorCode, FieldError } from '../../platform/errors.ts'
import type { ListSpec } from '../../platform/pagination.ts'
import { daysBetween, isCalendarDate } from '../../platform/dates.ts'
import { parseFields } from '../../platform/pagination.ts'
import { replacementGuard, sendPage } from '../v1/render.ts'
import { presentBookingV2 } from './presenters.ts'
import { BookingV2Schema, CreateBookingV2Body } from './schemas.ts'
import type { CreateBookingV2Input } from './schemas.ts'

const tags = ['Bookings (v2)']

/** v2 lists and fields= name v2's top-level fields; filters, sorts and cursors are v1's. */
export const bookingV2Spec: ListSpec = { ...bookingSpec, resource: 'bookings-v2', fields: Object.keys(BookingV2Schema.properties) }

const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })
/** v2's stay as GET shows it, nights included: the stay a GET returned, with a date changed, is a valid PUT. */
const StayV2Body = Type.Object({ ...StayBody.properties, nights: Type.Optional(Type.Integer({ description: 'Derived: accepted when it matches check_in and check_out.' })) }, { additionalProperties: false })

const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag of the v2 representation, from GET /v2/bookings/{id}; 412 when the booking changed since.' })) })

const filterQuery = {
  status: commaList(BOOKING_STATUSES, 'status=CONFIRMED,ISSUED. '),
  listing_id: Type.Optional(Type.String({ maxLength: 64 })),
  check_in_from: Type.Optional(calendarDate('YYYY-MM-DD, inclusive.')),
  check_in_to: Type.Optional(calendarDate('YYYY-MM-DD, inclusive.')),
  created_after: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601, or a calendar date (midnight UTC).' })),
  created_before: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601, or a calendar date (midnight UTC).' })),
  external_booking_id: Type.Optional(Type.String({ maxLength: 200, description: 'external_reference.booking_id' })),
}

/** The service names v1's flat fields; a v2 client sent them inside stay and external_reference. */
const V2_FIELD_NAMES: Record<string, string> = {
  check_in: 'stay.check_in',
  check_out: 'stay.check_out',
  guests: 'stay.guests',
  external_system: 'external_reference.system',
  external_booking_id: 'external_reference.booking_id',
}

function renamed(fields: readonly FieldError[]): FieldError[] {
  return fields.map((f) => {
    const head = f.field.split('.')[0]!
    const v2 = V2_FIELD_NAMES[head]
    return v2 ? { ...f, field: v2 + f.field.slice(head.length) } : f
  })
}

/** Runs a service call, reporting any field it names by its v2 name. */
async function inV2Terms<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof ApiError && error.code === 'VALIDATION_ERROR' && Array.isArray(error.details?.fields)) throw validationError(renamed(error.details.fields as FieldError[]))
    throw error
  }
}

function createInput(body: CreateBookingV2Input): CreateBookingInput {
  return {
    listing_id: body.listing_id,
    customer_id: body.customer_id,
    check_in: body.stay.check_in,
    check_out: body.stay.check_out,
    guests: body.stay.guests,
    expected_total: body.expected_total ?? null,
    external_system: body.external_reference?.system ?? null,
    external_booking_id: body.external_reference?.booking_id ?? null,
    guest_details: body.guest_details ?? null,
  }
}

function sendListPage(request: FastifyRequest, reply: FastifyReply, page: Parameters<typeof sendPage<Booking, ReturnType<typeof presentBookingV2>>>[1], fields: string | undefined) {
  return sendPage(reply, page, parseFields(bookingV2Spec, fields), presentBookingV2)
}

/**
 * /v2/bookings: the same bookings, services, permissions, limits and errors as /v1/bookings, in v2's
 * representation (presentBookingV2). v1's fields= is checked against v1's names, so it is taken off
 * the query here and checked against v2's.
 */
export const bookingV2Routes: FastifyPluginAsyncTypebox<{ clock: Clock; svc: ServicesFor; publicBaseUrl: string }> = async (app, { clock, svc, publicBaseUrl }) => {
  app.get(
    '/v2/bookings',
    {
      config: { permission: 'booking.read', bucket: 'read' },
      schema: {
        operationId: 'listBookingsV2',
        summary: 'List bookings',
        description: 'Filters combine with AND. A hold that has lapsed is EXPIRED here, whether or not the sweeper has run.',
        tags,
        querystring: Type.Object({ ...listQuerySchema(bookingV2Spec), ...filterQuery, customer_id: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: listOf(BookingV2Schema) },
      },
    },
    async (request, reply) => {
      const { fields, ...query } = request.query
      parseFields(bookingV2Spec, fields)
      const { page } = await svc(request).bookings.list(scopeOf(callerOf(request), query.team_ids), query)
      return sendListPage(request, reply, page, fields)
    },
  )

  app.get(
    '/v2/customers/:id/bookings',
    {
      config: { permission: ['customer.read', 'booking.read'], bucket: 'read' },
      schema: {
        operationId: 'listCustomerBookingsV2',
        summary: 'List a customer\'s bookings',
        tags,
        params: PathId,
        querystring: Type.Object({ ...listQuerySchema(bookingV2Spec), ...filterQuery }, { additionalProperties: false }),
        response: { 200: listOf(BookingV2Schema) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { fields, ...query } = request.query
      parseFields(bookingV2Spec, fields)
      const { page } = await svc(request).bookings.listForCustomer(scopeOf(caller), request.params.id, scopeOf(caller, query.team_ids), query)
      return sendListPage(request, reply, page, fields)
    },
  )

  app.post(
    '/v2/bookings',
    {
      config: {
        permission: 'booking.create.partner',
        bucket: 'booking_create',
        errors: ['NOT_FOUND', 'LISTING_NOT_BOOKABLE', 'LISTING_UNAVAILABLE', 'PRICE_CHANGED', 'EXTERNAL_BOOKING_DUPLICATE'],
        fieldChecks: (request, errors) => {
          const stay = new FieldErrors()
          checkStay(stay, field(request.body, 'stay', 'check_in'), field(request.body, 'stay', 'check_out'), todayIn(clock, scopeOf(callerOf(request))))
          for (const f of renamed(stay.fields)) errors.add(f.field, f.code, f.message, f.location)
        },
      },
      schema: {
        operationId: 'createBookingV2',
        summary: 'Hold a listing for a stay',
        description:
          'Creates a HELD booking with hold_expires_at (15 minutes by default) and its price night by night. Confirm it before the hold lapses. ' +
          'Errors that no retry can fix come first: 404 (listing, customer), LISTING_NOT_BOOKABLE, EXTERNAL_BOOKING_DUPLICATE, LISTING_UNAVAILABLE, then PRICE_CHANGED.',
        tags,
        body: CreateBookingV2Body,
        response: { 201: BookingV2Schema },
      },
    },
    async (request, reply) => {
      const booking = presentBookingV2(await inV2Terms(() => svc(request).bookings.create(scopeOf(callerOf(request)), createInput(request.body))))
      return reply.code(201).header('location', `${publicBaseUrl}/v2/bookings/${booking.id}`).send(booking)
    },
  )

  app.get(
    '/v2/bookings/:id',
    {
      config: { permission: 'booking.read', bucket: 'read' },
      schema: { operationId: 'getBookingV2', summary: 'Get a booking', tags, params: PathId, querystring: FieldsQuery, response: { 200: BookingV2Schema, 304: { description: 'Not modified.', type: 'null' } } },
    },
    async (request, reply) => sendResource(request, reply, presentBookingV2(await svc(request).bookings.get(scopeOf(callerOf(request)), request.params.id)), bookingV2Spec, request.query.fields),
  )

  const action = (name: string, summary: string, description: string, permission: 'booking.create.partner' | 'booking.issue', bucket: 'write' | 'ticket_issue', errors: ErrorCode[]) => ({
    config: { permission, bucket, errors },
    schema: { operationId: `${name}BookingV2`, summary, description, tags, params: PathId, response: { 200: BookingV2Schema } },
  })

  app.post(
    '/v2/bookings/:id(^.+)::confirm',
    action('confirm', 'Confirm a held booking', 'HELD → CONFIRMED, before the hold lapses.', 'booking.create.partner', 'write', ['BOOKING_HOLD_EXPIRED', 'BOOKING_INVALID_TRANSITION']),
    async (request) => presentBookingV2(await svc(request).bookings.confirm(scopeOf(callerOf(request)), request.params.id)),
  )

  app.post(
    '/v2/bookings/:id(^.+)::issue',
    action('issue', 'Issue the voucher', 'CONFIRMED → ISSUED; the booking gains its voucher_number.', 'booking.issue', 'ticket_issue', ['BOOKING_INVALID_TRANSITION']),
    async (request) => presentBookingV2(await svc(request).bookings.issue(scopeOf(callerOf(request)), request.params.id)),
  )

  app.post(
    '/v2/bookings/:id(^.+)::cancel',
    {
      config: { permission: 'booking.create.partner', bucket: 'write', errors: ['BOOKING_INVALID_TRANSITION'] },
      schema: { operationId: 'cancelBookingV2', summary: 'Cancel a booking', description: 'HELD, CONFIRMED or ISSUED → CANCELLED, with a reason.', tags, params: PathId, body: CancelBody, response: { 200: BookingV2Schema } },
    },
    async (request) => presentBookingV2(await svc(request).bookings.cancel(scopeOf(callerOf(request)), request.params.id, request.body.reason)),
  )

  app.put(
    '/v2/bookings/:id/guest-details',
    {
      config: { permission: 'booking.create.partner', bucket: 'write', errors: ['BOOKING_INVALID_TRANSITION'] },
      schema: { operationId: 'replaceBookingGuestDetailsV2', summary: 'Replace the guest details', tags, params: PathId, headers: IfMatch, body: GuestDetailsBody, response: { 200: BookingV2Schema } },
    },
    async (request, reply) => {
      const booking = presentBookingV2(
        await svc(request).bookings.replaceGuestDetails(scopeOf(callerOf(request)), request.params.id, request.body, replacementGuard(presentBookingV2, request.body, request.headers['if-match'])),
      )
      reply.header('etag', etagOf(booking))
      return booking
    },
  )

  app.put(
    '/v2/bookings/:id/stay',
    {
      config: {
        permission: 'booking.create.partner',
        bucket: 'write',
        errors: ['LISTING_NOT_BOOKABLE', 'LISTING_UNAVAILABLE', 'PRICE_CHANGED', 'BOOKING_INVALID_TRANSITION'],
        fieldChecks: (request, errors) => checkStay(errors, field(request.body, 'check_in'), field(request.body, 'check_out'), todayIn(clock, scopeOf(callerOf(request)))),
      },
      schema: {
        operationId: 'replaceBookingStayV2',
        summary: 'Change the dates or guests',
        description: 'The body is the stay object without nights (and an optional expected_total). For HELD or CONFIRMED bookings: re-priced at the listing\'s current rate, availability checked again (the booking\'s own nights do not block it).',
        tags,
        params: PathId,
        headers: IfMatch,
        body: StayV2Body,
        response: { 200: BookingV2Schema },
      },
    },
    async (request, reply) => {
      const { nights, ...stay } = request.body
      // derived, so checked against the new dates rather than the stored stay: a GET's stay with
      // check_out moved and nights updated (or left as it was) must not be refused for it
      if (nights !== undefined && isCalendarDate(stay.check_in) && isCalendarDate(stay.check_out) && nights !== daysBetween(stay.check_in, stay.check_out)) {
        const fresh = daysBetween(stay.check_in, stay.check_out)
        throw validationError([{ field: 'nights', location: 'body', code: 'const', message: `must be ${fresh}, the nights from check_in to check_out (or be left out)` }])
      }
      const guard = (current: Booking) => checkIfMatch(request.headers['if-match'], presentBookingV2(current))
      const booking = presentBookingV2(await svc(request).bookings.replaceStay(scopeOf(callerOf(request)), request.params.id, stay, guard))
      reply.header('etag', etagOf(booking))
      return booking
    },
  )
}
