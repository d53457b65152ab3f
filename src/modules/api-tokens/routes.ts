import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, idParams, mapPage, pageOf, pageQuery, toWireTime, toWireTimeOrNull } from '../../http/wire.js';
import type { ApiToken } from '../../generated/prisma/client.js';
import { ROLES } from '../auth/roles.js';

const ApiTokenOut = z.object({
  id: z.string(), name: z.string(), role: z.enum(ROLES), prefix: z.string().meta({ description: 'First characters of the token, to recognise it' }),
  created_by: z.string().nullable(), last_used_at: epochSeconds.nullable(), revoked_at: epochSeconds.nullable(),
  created_at: epochSeconds, company: z.string(),
}).meta({ id: 'ApiToken' });

const CreatedApiTokenOut = ApiTokenOut.extend({ token: z.string().meta({ description: 'The bearer token. Shown only once.' }) }).meta({ id: 'CreatedApiToken' });

const toWire = (t: ApiToken): z.infer<typeof ApiTokenOut> => ({
  id: t.id, name: t.name, role: t.role as (typeof ROLES)[number], prefix: t.prefix, created_by: t.createdById,
  last_used_at: toWireTimeOrNull(t.lastUsedAt), revoked_at: toWireTimeOrNull(t.revokedAt), created_at: toWireTime(t.createdAt), company: t.companyId,
});

const admin = { roles: ['admin'] as const };
const tags = ['API tokens'];
const security = [{ bearer: [] }];

export const apiTokenRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/api_tokens/', {
    config: admin,
    schema: {
      tags, security, summary: 'Create an API token (admin); the token is shown once',
      body: z.strictObject({ name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'), role: z.enum(ROLES).default('maker') }),
      response: { 201: CreatedApiTokenOut },
    },
  }, async (request, reply) => {
    const created = await app.services.apiTokens.create(authOf(request), request.body);
    reply.code(201);
    return { ...toWire(created.record), token: created.token };
  });

  app.get('/v1/lms/api_tokens/', {
    config: admin,
    schema: {
      tags, security, summary: 'List API tokens (admin)',
      querystring: z.strictObject({ ...pageQuery, include_revoked: z.enum(['true', 'false']).default('false') }),
      response: { 200: pageOf(ApiTokenOut) },
    },
  }, async (request) => {
    const { page, page_size, include_revoked } = request.query;
    return mapPage(await app.services.apiTokens.list(authOf(request).companyId, { page, page_size }, include_revoked === 'true'), toWire);
  });

  app.get('/v1/lms/api_tokens/:id/', {
    config: admin,
    schema: { tags, security, summary: 'Get an API token (admin)', params: idParams, response: { 200: ApiTokenOut } },
  }, async (request) => toWire(await app.services.apiTokens.get(authOf(request).companyId, request.params.id)));

  app.post('/v1/lms/api_tokens/:id/revoke/', {
    config: admin,
    schema: { tags, security, summary: 'Revoke an API token (admin)', params: idParams, response: { 200: ApiTokenOut } },
  }, async (request) => toWire(await app.services.apiTokens.revoke(authOf(request), request.params.id)));
};
