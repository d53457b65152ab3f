import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, idParams, mapPage, pageOf, pageQuery, toWireTime } from '../../http/wire.js';
import { InitiateLoanParamsIn, LoanParamsOut, loanParamsToWire } from './schemas.js';

const tags = ['Accounts'];
const security = [{ bearer: [] }];
const Empty = z.object({}).strict();

const VersionOut = z.object({
  version: z.number().int(), changed_by: z.string().nullable(), created_at: epochSeconds,
  changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
}).meta({ id: 'LoanParamsVersion' });

export const loanParamsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/accounts/initiate_loan_params/', {
    schema: {
      tags, security, summary: 'Initiate Loan Params for a lead and program (Crego short form or the full object)',
      body: InitiateLoanParamsIn, response: { 201: Empty },
    },
  }, async (request, reply) => {
    await app.services.loanParams.initiate(authOf(request), request.body);
    reply.code(201);
    return {};
  });

  app.patch('/v1/lms/accounts/initiate_loan_params/', {
    schema: { tags, security, summary: 'Update Loan Params of a lead and program', body: InitiateLoanParamsIn, response: { 200: Empty } },
  }, async (request) => {
    await app.services.loanParams.update(authOf(request), request.body);
    return {};
  });

  app.get('/v1/lms/accounts/:id/loan_params/', {
    schema: { tags, security, summary: "Get Loan Params: the account's params with defaults filled", params: idParams, response: { 200: LoanParamsOut } },
  }, async (request) => loanParamsToWire(await app.services.loanParams.forAccount(authOf(request).companyId, request.params.id)));

  app.get('/v1/lms/accounts/:id/loan_params/history/', {
    schema: {
      tags, security, summary: "Versions of the account's loan params, newest first: who changed which fields, when",
      params: idParams, querystring: z.strictObject(pageQuery), response: { 200: pageOf(VersionOut) },
    },
  }, async (request) => {
    const page = await app.services.loanParams.history(authOf(request).companyId, request.params.id, request.query);
    return mapPage(page, (v) => ({ version: v.version, changed_by: v.changedBy, created_at: toWireTime(v.createdAt), changes: v.changes as { field: string; from: unknown; to: unknown }[] }));
  });
};
