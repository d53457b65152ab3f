import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, idParams, mapPage, pageOf, pageQuery, toWireTime, uuid } from '../../http/wire.js';
import type { ExtraData } from '../../generated/prisma/client.js';
import { EXTRA_DATA_ENTITY_TYPES, EXTRA_DATA_MAX_BYTES } from './service.js';

const entityType = z.enum(EXTRA_DATA_ENTITY_TYPES);

const ExtraDataOut = z.object({
  id: z.string(), entity_type: z.string(), entity_id: z.string(), data: z.record(z.string(), z.unknown()),
  updated_by: z.string().nullable(), created_at: epochSeconds, updated_at: epochSeconds, company: z.string(),
}).meta({ id: 'ExtraData' });

const toWire = (e: ExtraData): z.infer<typeof ExtraDataOut> => ({
  id: e.id, entity_type: e.entityType, entity_id: e.entityId, data: e.data as Record<string, unknown>, updated_by: e.updatedBy,
  created_at: toWireTime(e.createdAt), updated_at: toWireTime(e.updatedAt), company: e.companyId,
});

const tags = ['Extra Data'];
const security = [{ bearer: [] }];

export const extraDataRoutes: FastifyPluginAsyncZod = async (app) => {
  app.patch('/v1/lms/extra_data/:id/', {
    schema: {
      tags, security, params: idParams,
      summary: `Update Extra Data of the object {id} (merge patch: null removes a key; at most ${EXTRA_DATA_MAX_BYTES} bytes in all)`,
      body: z.strictObject({ entity_type: entityType, data: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }) }),
      response: { 200: ExtraDataOut },
    },
  }, async (request) => toWire(await app.services.extraData.update(authOf(request), request.params.id, request.body)));

  app.get('/v1/lms/extra_data/', {
    schema: {
      tags, security, summary: 'List Extra Data',
      querystring: z.strictObject({ ...pageQuery, entity_type: entityType.optional(), entity_id: uuid.optional() }),
      response: { 200: pageOf(ExtraDataOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await app.services.extraData.list(authOf(request).companyId, { page, page_size }, filter), toWire);
  });
};
