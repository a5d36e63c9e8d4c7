import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { scopeOf } from '../../http/list-query.ts'
import { PathId } from '../../http/schemas.ts'
import { BOOKING_STATUSES, BookingSchema, CreateBookingBody } from '../../modules/bookings/schemas.ts'
import { bookingSpec, checkStay } from '../../modules/bookings/service.ts'
import { LISTING_STATES, ListingSchema } from '../../modules/listings/schemas.ts'
import { listingSpec } from '../../modules/listings/service.ts'
import type { ServicesFor } from '../../modules/services.ts'
import { nowIn } from '../../modules/test-clock/now.ts'
import type { Clock } from '../../platform/clock.ts'
import { field } from '../../platform/errors.ts'
import type { ErrorCode } from '../../platform/errors.ts'
import { presentBooking, presentListing } from '../v1/presenters.ts'
import { externalScope, numberedQueryOf, pageQuerySchema, parseDay, parseInstant, parseStates, stateQuery } from './query.ts'
import { pageOf } from './render.ts'

const tags = ['External API']
/** No query parameters: an unknown one is a 400, not silently ignored. */
const NoQuery = Type.Object({}, { additionalProperties: false })
const LIST_ERRORS: ErrorCode[] = ['EXTERNAL_INVALID_REQUEST', 'EXTERNAL_INVALID_STATE', 'EXTERNAL_INVALID_DATE_FORMAT']
const COUNTING =
  'total is exact on every page. Unfiltered, or filtered only by team_ids and state, it is read from counts kept with the data (cheap on any size); ' +
  'any other filter counts the matching rows.'

/** Routes relative to the surface's prefix, /api/v1/external. */
export const externalRoutes: FastifyPluginAsyncTypebox<{ clock: Clock; svc: ServicesFor; publicBaseUrl: string; basePath: string }> = async (app, { clock, svc, publicBaseUrl, basePath }) => {
  app.get(
    '/listings',
    {
      config: { permission: 'listing.read', bucket: 'read', flatErrors: true, errors: LIST_ERRORS },
      schema: {
        operationId: 'externalListListings',
        summary: 'List listings (page/limit)',
        description: `Listings of the token's teams. Filters combine with AND. ${COUNTING}`,
        tags,
        querystring: Type.Object(
          {
            ...pageQuerySchema(Object.keys(listingSpec.sortKeys)),
            state: stateQuery(LISTING_STATES),
            country_code: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. VN.' })),
            province_code: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,3}$', description: 'ISO 3166-2 subdivision suffix, e.g. SG.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(ListingSchema) },
      },
    },
    async (request) => {
      const q = request.query
      const scope = externalScope(callerOf(request), q.team_ids)
      const filters = {
        state: parseStates(q.state, LISTING_STATES),
        country_code: q.country_code,
        province_code: q.province_code,
        created_after: parseInstant('created_after', q.created_after),
        created_before: parseInstant('created_before', q.created_before),
      }
      const page = await svc(request).listings.listNumbered(scope, numberedQueryOf(q), filters)
      return { ...page, items: page.items.map(presentListing) }
    },
  )

  app.get(
    '/listings/:id',
    {
      config: { permission: 'listing.read', bucket: 'read', flatErrors: true, errors: ['EXTERNAL_LISTING_NOT_ACCESSIBLE'] },
      schema: {
        operationId: 'externalGetListing',
        summary: 'Get a listing',
        description: 'An unknown id and a listing outside the token\'s teams get the same 404 EXTERNAL_LISTING_NOT_ACCESSIBLE.',
        tags,
        params: PathId,
        querystring: NoQuery,
        response: { 200: ListingSchema },
      },
    },
    async (request) => presentListing(await svc(request).listings.get(scopeOf(callerOf(request)), request.params.id)),
  )

  app.get(
    '/bookings',
    {
      config: { permission: 'booking.read', bucket: 'read', flatErrors: true, errors: LIST_ERRORS },
      schema: {
        operationId: 'externalListBookings',
        summary: 'List bookings (page/limit)',
        description:
          'Bookings of the token\'s teams. Filters combine with AND; a hold that has lapsed is EXPIRED here, whether or not the sweeper has run. ' +
          `country_code and province_code are those of the booking's listing. ${COUNTING}`,
        tags,
        querystring: Type.Object(
          {
            ...pageQuerySchema(Object.keys(bookingSpec.sortKeys)),
            state: stateQuery(BOOKING_STATUSES),
            user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The customer (cus_…) the bookings are for.' })),
            check_in_from: Type.Optional(Type.String({ maxLength: 64, description: 'Check-in on or after this date (YYYY-MM-DD, or the UTC date of a date-time).' })),
            check_in_to: Type.Optional(Type.String({ maxLength: 64, description: 'Check-in on or before this date (YYYY-MM-DD, or the UTC date of a date-time).' })),
            country_code: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'The listing\'s country, ISO 3166-1 alpha-2.' })),
            province_code: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,3}$', description: 'The listing\'s ISO 3166-2 subdivision suffix.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageOf(BookingSchema) },
      },
    },
    async (request) => {
      const q = request.query
      const scope = externalScope(callerOf(request), q.team_ids)
      const filters = {
        status: parseStates(q.state, BOOKING_STATUSES),
        customer_id: q.user_id,
        created_after: parseInstant('created_after', q.created_after),
        created_before: parseInstant('created_before', q.created_before),
        check_in_from: parseDay('check_in_from', q.check_in_from),
        check_in_to: parseDay('check_in_to', q.check_in_to),
        country_code: q.country_code,
        province_code: q.province_code,
      }
      const page = await svc(request).bookings.listNumbered(scope, numberedQueryOf(q), filters)
      return { ...page, items: page.items.map(presentBooking) }
    },
  )

  app.get(
    '/bookings/:id',
    {
      config: { permission: 'booking.read', bucket: 'read', flatErrors: true, errors: ['EXTERNAL_BOOKING_NOT_ACCESSIBLE'] },
      schema: {
        operationId: 'externalGetBooking',
        summary: 'Get a booking',
        description: 'An unknown id and a booking outside the token\'s teams get the same 404 EXTERNAL_BOOKING_NOT_ACCESSIBLE.',
        tags,
        params: PathId,
        querystring: NoQuery,
        response: { 200: BookingSchema },
      },
    },
    async (request) => presentBooking(await svc(request).bookings.get(scopeOf(callerOf(request)), request.params.id)),
  )

  app.post(
    '/bookings',
    {
      config: {
        permission: 'booking.create.partner',
        bucket: 'booking_create',
        flatErrors: true,
        errors: ['EXTERNAL_BOOKING_ID_REQUIRED', 'EXTERNAL_CUSTOMER_NOT_ACCESSIBLE', 'EXTERNAL_LISTING_NOT_ACCESSIBLE', 'LISTING_NOT_BOOKABLE', 'LISTING_UNAVAILABLE', 'PRICE_CHANGED', 'EXTERNAL_BOOKING_DUPLICATE'],
        fieldChecks: (request, errors) => checkStay(errors, field(request.body, 'check_in'), field(request.body, 'check_out'), nowIn(clock, request.auth ? scopeOf(request.auth) : { mode: 'live' }).toISOString().slice(0, 10)),
      },
      schema: {
        operationId: 'externalCreateBooking',
        summary: 'Hold a listing for a stay',
        description:
          'The body of POST /v1/bookings. Creates a HELD booking with hold_expires_at and the price (booking.created is sent to webhooks); confirm it before the hold lapses. ' +
          'A listing the token cannot see is 404 EXTERNAL_LISTING_NOT_ACCESSIBLE, a customer it cannot see 403 EXTERNAL_CUSTOMER_NOT_ACCESSIBLE (unknown and foreign ids alike). ' +
          'Errors that no retry can fix come first: LISTING_NOT_BOOKABLE, EXTERNAL_BOOKING_DUPLICATE, LISTING_UNAVAILABLE, then PRICE_CHANGED. Idempotency-Key makes it safe to retry.',
        tags,
        querystring: NoQuery,
        body: CreateBookingBody,
        response: { 201: BookingSchema },
      },
    },
    async (request, reply) => {
      const booking = presentBooking(await svc(request).bookings.create(scopeOf(callerOf(request)), request.body))
      return reply.code(201).header('location', `${publicBaseUrl}${basePath}/bookings/${booking.id}`).send(booking)
    },
  )
}
