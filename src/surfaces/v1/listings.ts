import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { callerOf } from '../../http/auth.ts'
import { etagOf, listQuerySchema, scopeOf, sendResource } from '../../http/list-query.ts'
import { presentCalendar, presentListing, presentQuote } from './presenters.ts'
import { replacementGuard, sendPage } from './render.ts'
import { MoneySchema } from '../../http/money-schema.ts'
import { PathId, calendarDate, commaList, listOf } from '../../http/schemas.ts'
import { MAX_STAY_NIGHTS, checkRange } from '../../platform/dates.ts'
import { field } from '../../platform/errors.ts'
import { CalendarSchema, CreateListingBody, LISTING_READ_ONLY, LISTING_STATES, ListingSchema, ReplaceListingBody } from '../../modules/listings/schemas.ts'
import { MAX_CALENDAR_NIGHTS, checkListingCodes, listingSpec } from '../../modules/listings/service.ts'
import type { ServicesFor } from '../../modules/services.ts'

const tags = ['Listings']

const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated top-level fields to return.' })) }, { additionalProperties: false })
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag from GET; 412 when the resource changed since.' })) })

export const listingRoutes: FastifyPluginAsyncTypebox<{ svc: ServicesFor; publicBaseUrl: string }> = async (app, { svc, publicBaseUrl }) => {
  app.get(
    '/v1/listings',
    {
      config: { permission: 'listing.read', bucket: 'read' },
      schema: {
        operationId: 'listListings',
        summary: 'List listings',
        tags,
        querystring: Type.Object(
          {
            ...listQuerySchema(listingSpec),
            state: commaList(LISTING_STATES),
            country_code: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
            province_code: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,3}$' })),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in name, city or description.' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(ListingSchema) },
      },
    },
    async (request, reply) => {
      const { page, fields } = await svc(request).listings.list(scopeOf(callerOf(request), request.query.team_ids), request.query)
      return sendPage(reply, page, fields, presentListing)
    },
  )

  app.post(
    '/v1/listings',
    {
      config: { permission: 'listing.write', bucket: 'write', errors: ['INVALID_TEAM_IDS'], fieldChecks: (request, errors) => void checkListingCodes(request.body, errors) },
      schema: { operationId: 'createListing', summary: 'Create a listing', tags, body: CreateListingBody, response: { 201: ListingSchema } },
    },
    async (request, reply) => {
      const listing = presentListing(await svc(request).listings.create(scopeOf(callerOf(request)), request.body))
      return reply.code(201).header('location', `${publicBaseUrl}/v1/listings/${listing.id}`).send(listing)
    },
  )

  app.get(
    '/v1/listings/:id',
    {
      config: { permission: 'listing.read', bucket: 'read' },
      schema: { operationId: 'getListing', summary: 'Get a listing', tags, params: PathId, querystring: FieldsQuery, response: { 200: ListingSchema, 304: { description: 'Not modified.', type: 'null' } } },
    },
    async (request, reply) => sendResource(request, reply, presentListing(await svc(request).listings.get(scopeOf(callerOf(request)), request.params.id)), listingSpec, request.query.fields),
  )

  app.put(
    '/v1/listings/:id',
    {
      config: { permission: 'listing.write', bucket: 'write', errors: ['CONFLICT'], fieldChecks: (request, errors) => void checkListingCodes(request.body, errors) },
      schema: {
        operationId: 'replaceListing',
        summary: 'Replace a listing',
        description: 'Replaces every writable field. team_id cannot change. Send If-Match with the ETag from GET to avoid overwriting a concurrent change (412).',
        tags,
        params: PathId,
        headers: IfMatch,
        body: ReplaceListingBody,
        response: { 200: ListingSchema },
      },
    },
    async (request, reply) => {
      const listing = presentListing(await svc(request).listings.replace(scopeOf(callerOf(request)), request.params.id, request.body, replacementGuard(presentListing, request.body, request.headers['if-match'], LISTING_READ_ONLY)))
      reply.header('etag', etagOf(listing))
      return listing
    },
  )

  app.delete(
    '/v1/listings/:id',
    {
      config: { permission: 'listing.write', bucket: 'write' },
      schema: {
        operationId: 'archiveListing',
        summary: 'Archive a listing',
        description: 'Sets state ARCHIVED: the listing stays readable and is never bookable again. Existing bookings are untouched.',
        tags,
        params: PathId,
        response: { 204: { description: 'Archived.', type: 'null' } },
      },
    },
    async (request, reply) => {
      await svc(request).listings.archive(scopeOf(callerOf(request)), request.params.id)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/v1/listings/:id/calendar',
    {
      config: { permission: 'listing.read', bucket: 'read', fieldChecks: (request, errors) => checkRange(errors, 'from', field(request.query, 'from'), 'to', field(request.query, 'to'), MAX_CALENDAR_NIGHTS) },
      schema: {
        operationId: 'getListingCalendar',
        summary: 'Nightly availability and price',
        description: `Each night from \`from\` (inclusive) to \`to\` (exclusive), at most ${MAX_CALENDAR_NIGHTS} nights: available or not, and its price.`,
        tags,
        params: PathId,
        querystring: Type.Object({ from: calendarDate('YYYY-MM-DD, the first night shown.'), to: calendarDate('YYYY-MM-DD, the last night shown.') }, { additionalProperties: false }),
        response: { 200: CalendarSchema },
      },
    },
    async (request) => presentCalendar(await svc(request).listings.calendar(scopeOf(callerOf(request)), request.params.id, request.query.from, request.query.to)),
  )

  app.get(
    '/v1/availability',
    {
      config: {
        permission: 'availability.search',
        bucket: 'search',
        fieldChecks: (request, errors) => checkRange(errors, 'check_in', field(request.query, 'check_in'), 'check_out', field(request.query, 'check_out'), MAX_STAY_NIGHTS),
      },
      schema: {
        operationId: 'searchAvailability',
        summary: 'Find bookable listings for a stay',
        description: `Active listings of the token's teams with room for the guests and no booking overlapping the nights, with the quoted total. Stays are 1–${MAX_STAY_NIGHTS} nights.`,
        tags: ['Availability'],
        querystring: Type.Object(
          {
            check_in: calendarDate('YYYY-MM-DD'),
            check_out: calendarDate('YYYY-MM-DD, after check_in'),
            guests: Type.Integer({ minimum: 1, maximum: 1000 }),
            country_code: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
            province_code: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,3}$' })),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
            team_ids: listQuerySchema(listingSpec).team_ids,
          },
          { additionalProperties: false },
        ),
        response: {
          200: listOf(
            Type.Object({
              listing: ListingSchema,
              quote: Type.Object({ check_in: Type.String(), check_out: Type.String(), guests: Type.Integer(), nights: Type.Integer(), nightly_rate: MoneySchema, total: MoneySchema }),
            }),
          ),
        },
      },
    },
    async (request, reply) => {
      const page = await svc(request).listings.searchAvailability(scopeOf(callerOf(request), request.query.team_ids), request.query)
      return sendPage(reply, page, null, (hit) => ({ listing: presentListing(hit.listing), quote: presentQuote(hit.quote) }))
    },
  )
}
