import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { ROLES } from './roles.js';

const tags = ['Auth'];

export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/auth/token/', {
    config: { public: true, idempotent: false },
    schema: {
      tags, summary: 'Get Token: staff login', body: z.strictObject({ username: z.string().min(1).max(150), password: z.string().min(1).max(200) }),
      response: { 200: z.object({ access: z.string(), refresh: z.string() }).meta({ id: 'TokenPair' }) },
    },
  }, async (request) => app.services.auth.login(request.body.username, request.body.password));

  app.post('/v1/auth/token/refresh/', {
    config: { public: true, idempotent: false },
    schema: {
      tags, summary: 'Refresh Token', body: z.strictObject({ refresh: z.string().min(1) }),
      response: { 200: z.object({ access: z.string() }) },
    },
  }, async (request) => app.services.auth.refresh(request.body.refresh));

  app.get('/v1/auth/ping/', {
    schema: {
      tags, summary: 'Ping: check a token', security: [{ bearer: [] }],
      response: { 200: z.object({ detail: z.literal('pong'), company_id: z.string(), user_id: z.string().nullable(), role: z.enum(ROLES), token_kind: z.enum(['jwt', 'api_token']) }) },
    },
  }, async (request) => {
    const auth = authOf(request);
    return { detail: 'pong' as const, company_id: auth.companyId, user_id: auth.userId, role: auth.role, token_kind: auth.tokenKind };
  });
};
