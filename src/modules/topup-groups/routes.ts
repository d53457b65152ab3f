import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { idParams, mapPage, optionalText, pageOf, pageQuery } from '../../http/wire.js';
import { GROUP_STATUSES } from '../topups/groups.js';
import { groupToWire, TopupGroupOut } from '../topups/presenters.js';

const tags = ['Topup Group'];
const security = [{ bearer: [] }];

export const topupGroupRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/topup_groups/', {
    schema: {
      tags, security, summary: 'Create Topup Group: an open group; topups join it through their topup_group field',
      body: z.strictObject({ name: optionalText(200), remarks: optionalText(500).optional() }), response: { 201: TopupGroupOut },
    },
  }, async (request, reply) => {
    const group = await app.services.topups.groups.create(authOf(request), request.body);
    reply.code(201);
    return groupToWire(group);
  });

  app.get('/v1/lms/topup_groups/', {
    schema: {
      tags, security, summary: 'List Topup Group, with member counts and amounts',
      querystring: z.strictObject({ ...pageQuery, status: z.enum(GROUP_STATUSES).optional() }), response: { 200: pageOf(TopupGroupOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await app.services.topups.groups.list(authOf(request).companyId, { page, page_size }, filter), groupToWire);
  });

  app.get('/v1/lms/topup_groups/:id/', {
    schema: { tags, security, summary: 'Get a topup group', params: idParams, response: { 200: TopupGroupOut } },
  }, async (request) => groupToWire(await app.services.topups.groups.get(authOf(request).companyId, request.params.id)));

  app.patch('/v1/lms/topup_groups/:id/', {
    schema: {
      tags, security, params: idParams, response: { 200: TopupGroupOut },
      summary: "Update TopupGroup: name, remarks; status approved pays out every waiting topup together (a checker's or admin's act, not the creator's); status cancelled releases them",
      body: z.strictObject({
        name: optionalText(200).optional(), remarks: optionalText(500).nullable().optional(),
        status: z.enum(['approved', 'cancelled']).optional().meta({ description: 'approved: pay out all waiting topups (all pass their checks or none is paid); cancelled: unschedule them' }),
      }),
    },
  }, async (request) => groupToWire(await app.services.topups.groups.update(authOf(request), request.params.id, request.body)));
};
