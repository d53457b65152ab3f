import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import type { Fee } from '../../generated/prisma/client.js';
import {
  businessDateInput, businessDateOutput, dateColumnToWire, epochSeconds, idParams, mapPage, pageOf, pageQuery, rupeesInput, rupeesOutput,
  toWireRupees, toWireTime, toWireTimeOrNull, uuid,
} from '../../http/wire.js';
import { DemandOut, demandToWire } from '../loans/presenters.js';
import { paramsFields } from '../loan-params/schemas.js';
import { FEE_TYPES } from './service.js';

const BULK_MAX = 500;

const FeeIn = z.strictObject({
  loan: uuid,
  fee_type: z.enum(FEE_TYPES),
  amount: rupeesInput(),
  gst_rate: paramsFields.pf_gst.refine((rate) => Number(rate) <= 100, 'must be a rate from 0 to 100').default('18').meta({ description: 'GST on the fee, percent (default 18; 0 for none)' }),
  due_date: businessDateInput,
  remarks: z.string().trim().max(500).optional(),
});

const FeeOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, account: z.string(), loan: z.string(), demand: z.string(),
  fee_type: z.string(), amount: rupeesOutput, gst_rate: z.number(), gst_amount: rupeesOutput, total_amount: rupeesOutput,
  due_date: businessDateOutput, status: z.enum(['active', 'deleted']), remarks: z.string().nullable(), deleted_at: epochSeconds.nullable(), company: z.string(),
}).meta({ id: 'Fee' });

const toWire = (f: Fee): z.infer<typeof FeeOut> => ({
  id: f.id, created_at: toWireTime(f.createdAt), updated_at: toWireTime(f.updatedAt), account: f.accountId, loan: f.loanId, demand: f.demandId,
  fee_type: f.feeType, amount: toWireRupees(f.amountPaise), gst_rate: Number(f.gstRate), gst_amount: toWireRupees(f.gstPaise),
  total_amount: toWireRupees(f.amountPaise + f.gstPaise), due_date: dateColumnToWire(f.dueDate)!, status: f.status as 'active' | 'deleted',
  remarks: f.remarks, deleted_at: toWireTimeOrNull(f.deletedAt), company: f.companyId,
});

const tags = ['Fee'];
const security = [{ bearer: [] }];

export const feeRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/fees/', {
    schema: { tags, security, summary: 'Create Fee: a FEE demand of amount + GST on a loan', body: FeeIn, response: { 201: FeeOut } },
  }, async (request, reply) => {
    const [fee] = await app.services.fees.createMany(authOf(request), [request.body]);
    reply.code(201);
    return toWire(fee!);
  });

  app.post('/v1/lms/fees/bulk_create/', {
    schema: {
      tags, security, summary: `Bulk Create Fee: up to ${BULK_MAX}, all or nothing`,
      body: z.strictObject({ fees: z.array(FeeIn).min(1, 'must not be empty').max(BULK_MAX, `at most ${BULK_MAX} fees`) }),
      response: { 201: z.object({ count: z.number().int(), results: z.array(FeeOut) }) },
    },
  }, async (request, reply) => {
    const fees = await app.services.fees.createMany(authOf(request), request.body.fees);
    reply.code(201);
    return { count: fees.length, results: fees.map(toWire) };
  });

  app.get('/v1/lms/fees/', {
    schema: {
      tags, security, summary: 'List Fee',
      querystring: z.strictObject({ ...pageQuery, account: uuid.optional(), loan: uuid.optional(), fee_type: z.enum(FEE_TYPES).optional(), status: z.enum(['active', 'deleted']).optional() }),
      response: { 200: pageOf(FeeOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await app.services.fees.list(authOf(request).companyId, { page, page_size }, filter), toWire);
  });

  app.get('/v1/lms/fees/demands/', {
    schema: {
      tags, security, summary: 'Get Fee Demands',
      querystring: z.strictObject({ ...pageQuery, account: uuid.optional(), loan: uuid.optional() }),
      response: { 200: pageOf(DemandOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await app.services.loans.listDemands(authOf(request).companyId, { page, page_size }, { ...filter, kind: 'fee' }), demandToWire);
  });

  app.get('/v1/lms/fees/:id/', {
    schema: { tags, security, summary: 'Fee Details', params: idParams, response: { 200: FeeOut } },
  }, async (request) => toWire(await app.services.fees.get(authOf(request).companyId, request.params.id)));

  app.delete('/v1/lms/fees/:id/', {
    schema: { tags, security, summary: 'Delete Fee (only with nothing paid or waived; else 409)', params: idParams, response: { 200: FeeOut } },
  }, async (request) => toWire(await app.services.fees.delete(authOf(request), request.params.id)));
};
