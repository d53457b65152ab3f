import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import {
  businessDateInput, businessDateOutput, dateColumnToWire, epochSeconds, idParams, mapPage, pageOf, pageQuery, rupeesInput,
  rupeesOutput, toWireRupees, toWireTime, uuid,
} from '../../http/wire.js';
import type { LineDetail } from '../../generated/prisma/client.js';

const lineType = z.string().trim().regex(/^[a-z][a-z0-9_]{1,39}$/, 'must be 2 to 40 lowercase letters, digits or _ (e.g. primary, adhoc)');
const remarks = z.string().trim().max(500, 'must be at most 500 characters');
const BULK_MAX = 500;

const LineDetailIn = z.strictObject({
  account: uuid,
  type: lineType,
  approved_amount: rupeesInput({ allowZero: true }),
  valid_from: businessDateInput.optional(),
  valid_till: businessDateInput.optional(),
  remarks: remarks.optional(),
});

const LineDetailPatch = z.strictObject({
  approved_amount: rupeesInput({ allowZero: true }).optional(),
  status: z.enum(['active', 'inactive']).optional(),
  valid_from: businessDateInput.nullable().optional(),
  valid_till: businessDateInput.nullable().optional(),
  remarks: remarks.nullable().optional(),
});

export const LineDetailOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, account: z.string(), type: z.string(),
  status: z.enum(['active', 'inactive']),
  approved_amount: rupeesOutput, available_amount: rupeesOutput, used_amount: rupeesOutput, blocked_amount: rupeesOutput,
  valid_from: businessDateOutput.nullable(), valid_till: businessDateOutput.nullable(), remarks: z.string().nullable(), company: z.string(),
}).meta({ id: 'LineDetail' });

export const lineDetailToWire = (l: LineDetail): z.infer<typeof LineDetailOut> => ({
  id: l.id, created_at: toWireTime(l.createdAt), updated_at: toWireTime(l.updatedAt), account: l.accountId, type: l.type,
  status: l.status as 'active' | 'inactive',
  approved_amount: toWireRupees(l.approvedPaise), available_amount: toWireRupees(l.availablePaise),
  used_amount: toWireRupees(l.usedPaise), blocked_amount: toWireRupees(l.blockedPaise),
  valid_from: dateColumnToWire(l.validFrom), valid_till: dateColumnToWire(l.validTill), remarks: l.remarks, company: l.companyId,
});

const tags = ['Line Details'];
const security = [{ bearer: [] }];

export const lineDetailRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/lms/line_details/', {
    schema: {
      tags, security, summary: 'Filter Line Details',
      querystring: z.strictObject({ ...pageQuery, account: uuid.optional(), type: lineType.optional(), status: z.enum(['active', 'inactive']).optional() }),
      response: { 200: pageOf(LineDetailOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await app.services.lineDetails.list(authOf(request).companyId, { page, page_size }, filter), lineDetailToWire);
  });

  app.post('/v1/lms/line_details/', {
    schema: { tags, security, summary: 'Create a line detail', body: LineDetailIn, response: { 201: LineDetailOut } },
  }, async (request, reply) => {
    const line = await app.services.lineDetails.create(authOf(request), request.body);
    reply.code(201);
    return lineDetailToWire(line);
  });

  app.get('/v1/lms/line_details/type/:type/', {
    schema: {
      tags, security, summary: 'Get a line detail by type', params: z.strictObject({ type: lineType }),
      querystring: z.strictObject({ account: uuid }), response: { 200: LineDetailOut },
    },
  }, async (request) => lineDetailToWire(await app.services.lineDetails.getByType(authOf(request).companyId, request.query.account, request.params.type)));

  app.post('/v1/lms/line_details/bulk_internal/', {
    schema: {
      tags, security, summary: `Create or update up to ${BULK_MAX} line details (by account and type), all or nothing`,
      body: z.strictObject({ line_details: z.array(LineDetailIn).min(1, 'must not be empty').max(BULK_MAX, `at most ${BULK_MAX} rows`) }),
      response: { 200: z.object({ count: z.number().int(), results: z.array(LineDetailOut) }) },
    },
  }, async (request) => {
    const results = await app.services.lineDetails.bulkInternal(authOf(request), request.body.line_details);
    return { count: results.length, results: results.map(lineDetailToWire) };
  });

  app.get('/v1/lms/line_details/:id/', {
    schema: { tags, security, summary: 'Retrieve a line detail', params: idParams, response: { 200: LineDetailOut } },
  }, async (request) => lineDetailToWire(await app.services.lineDetails.get(authOf(request).companyId, request.params.id)));

  app.patch('/v1/lms/line_details/:id/', {
    schema: { tags, security, summary: 'Update a line detail', params: idParams, body: LineDetailPatch, response: { 200: LineDetailOut } },
  }, async (request) => lineDetailToWire(await app.services.lineDetails.update(authOf(request), request.params.id, request.body)));
};
