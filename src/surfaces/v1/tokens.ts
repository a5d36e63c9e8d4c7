import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { callerOf } from '../../http/auth.ts'
import { etagOf, notModified, sendNotModified } from '../../http/list-query.ts'
import { PathId, listOf } from '../../http/schemas.ts'
import { CreateTokenBody, RotateTokenBody, TokenSchema, TokenWithSecretSchema } from '../../modules/tokens/schemas.ts'
import { DEFAULT_ROTATION_GRACE_SECONDS } from '../../modules/tokens/service.ts'
import type { ServicesFor } from '../../modules/services.ts'

export interface TokenRoutesOptions {
  svc: ServicesFor
  publicBaseUrl: string
}

const tags = ['Tokens']

export const tokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (app, { svc, publicBaseUrl }) => {
  app.post(
    '/v1/tokens',
    {
      config: { permission: 'token.manage', bucket: 'write', errors: ['TOKEN_SCOPE_EXCEEDED', 'INVALID_TEAM_IDS', 'CONFLICT'] },
      schema: {
        operationId: 'createToken',
        summary: 'Create a personal access token',
        description:
          'Creates a token for the calling token\'s own user and mode, over a subset of its teams and permissions, expiring no later than it. ' +
          'The secret is in the response once and never again.',
        tags,
        body: CreateTokenBody,
        response: { 201: TokenWithSecretSchema },
      },
    },
    async (request, reply) => {
      const token = await svc(request).tokens.createForCaller(callerOf(request), request.body)
      return reply.code(201).header('location', `${publicBaseUrl}/v1/tokens/${token.id}`).send(token)
    },
  )

  app.get(
    '/v1/tokens',
    {
      config: { permission: 'token.read', bucket: 'read' },
      schema: {
        operationId: 'listTokens',
        summary: 'List your unrevoked tokens',
        description: 'Tokens are personal: this lists the calling user\'s unrevoked tokens of the calling token\'s mode (at most 100, one page).',
        tags,
        response: { 200: listOf(TokenSchema) },
      },
    },
    async (request) => ({ data: await svc(request).tokens.list(callerOf(request)), pagination: { next_cursor: null, has_more: false } }),
  )

  app.get(
    '/v1/tokens/:id',
    {
      config: { permission: 'token.read', bucket: 'read' },
      schema: { operationId: 'getToken', summary: 'Get a token', tags, params: PathId, response: { 200: TokenSchema, 304: { description: 'Not modified (If-None-Match).', type: 'null' } } },
    },
    async (request, reply) => {
      const token = await svc(request).tokens.get(callerOf(request), request.params.id)
      return notModified(request, reply, etagOf(token)) ? sendNotModified(reply) : token
    },
  )

  app.delete(
    '/v1/tokens/:id',
    {
      config: { permission: 'token.manage', bucket: 'write' },
      schema: {
        operationId: 'revokeToken',
        summary: 'Revoke a token',
        description: 'Takes effect at once on the instance that handles it, and within the token cache bound (30 s by default) on every other instance.',
        tags,
        params: PathId,
        response: { 204: { description: 'Revoked.', type: 'null' } },
      },
    },
    async (request, reply) => {
      await svc(request).tokens.revoke(callerOf(request), request.params.id)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/tokens/:id(^.+)::rotate',
    {
      config: { permission: 'token.manage', bucket: 'write', errors: ['CONFLICT'], optionalBody: true },
      // the body is optional: no body means the default grace period
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {}
      },
      schema: {
        operationId: 'rotateToken',
        summary: 'Rotate a token\'s secret',
        description: 'Issues a new secret (shown once). The previous secret keeps working for grace_period_seconds (default 1 h, at most 24 h).',
        tags,
        params: PathId,
        body: RotateTokenBody,
        response: { 200: TokenWithSecretSchema },
      },
    },
    async (request) => svc(request).tokens.rotate(callerOf(request), request.params.id, request.body?.grace_period_seconds ?? DEFAULT_ROTATION_GRACE_SECONDS),
  )
}


