import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, idParams, mapPage, pageOf, pageQuery, toWireTime, toWireTimeOrNull } from '../../http/wire.js';
import type { User } from '../../generated/prisma/client.js';
import { ROLES } from '../auth/roles.js';

const role = z.enum(ROLES);
const password = z.string().min(10, 'must be at least 10 characters').max(200, 'must be at most 200 characters');

const UserOut = z.object({
  id: z.string(), username: z.string(), role, is_active: z.boolean(),
  last_login_at: epochSeconds.nullable(), created_at: epochSeconds, updated_at: epochSeconds, company: z.string(),
}).meta({ id: 'User' });

const toWire = (u: User): z.infer<typeof UserOut> => ({
  id: u.id, username: u.username, role: u.role as z.infer<typeof role>, is_active: u.isActive,
  last_login_at: toWireTimeOrNull(u.lastLoginAt), created_at: toWireTime(u.createdAt), updated_at: toWireTime(u.updatedAt), company: u.companyId,
});

const admin = { roles: ['admin'] as const };
const tags = ['Users'];
const security = [{ bearer: [] }];

export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/users/', {
    config: admin,
    schema: {
      tags, security, summary: 'Create a staff user (admin)',
      body: z.strictObject({ username: z.string().trim().regex(/^[A-Za-z0-9_.@+-]{3,150}$/, 'must be 3 to 150 letters, digits or _.@+-'), password, role }),
      response: { 201: UserOut },
    },
  }, async (request, reply) => {
    const auth = authOf(request);
    const user = await app.services.users.create(auth, request.body);
    reply.code(201);
    return toWire(user);
  });

  app.get('/v1/lms/users/', {
    config: admin,
    schema: {
      tags, security, summary: 'List staff users (admin)',
      querystring: z.strictObject({ ...pageQuery, role: role.optional(), is_active: z.enum(['true', 'false']).optional() }),
      response: { 200: pageOf(UserOut) },
    },
  }, async (request) => {
    const { page, page_size, role: r, is_active } = request.query;
    const result = await app.services.users.list(authOf(request).companyId, { page, page_size }, {
      role: r, isActive: is_active === undefined ? undefined : is_active === 'true',
    });
    return mapPage(result, toWire);
  });

  app.get('/v1/lms/users/:id/', {
    config: admin,
    schema: { tags, security, summary: 'Get a staff user (admin)', params: idParams, response: { 200: UserOut } },
  }, async (request) => toWire(await app.services.users.get(authOf(request).companyId, request.params.id)));

  app.patch('/v1/lms/users/:id/', {
    config: admin,
    schema: {
      tags, security, summary: 'Change a staff user (admin)', params: idParams,
      body: z.strictObject({ role: role.optional(), is_active: z.boolean().optional(), password: password.optional() }),
      response: { 200: UserOut },
    },
  }, async (request) => toWire(await app.services.users.update(authOf(request), request.params.id, request.body)));
};
