import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, idParams, toWireRupees, toWireTime, uuid } from '../../http/wire.js';
import type { LoanData } from '../../generated/prisma/client.js';
import { ParamsPatch } from '../loan-params/schemas.js';
import { termsFromJson, type Terms } from './service.js';

const DECIMAL_FIELDS = new Set(['penal_tax', 'subvention_value', 'cashback_deduction_value', 'holdback_rate', 'margin_value', 'pf_value', 'pf_gst', 'flat_roi_value']);
const SLAB_FIELDS = new Set(['roi_value', 'overdue_roi_value', 'penal_roi_value']);

/** Terms on the wire: rates as numbers, amounts in rupees, slabs as sent. */
function termsToWire(terms: Terms): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(terms)) {
    if (typeof value === 'bigint') out[key] = toWireRupees(value);
    else if (DECIMAL_FIELDS.has(key) && typeof value === 'string') out[key] = Number(value);
    else if (SLAB_FIELDS.has(key)) out[key] = (value as { days: unknown; value: string }[]).map((s) => ({ days: s.days, value: Number(s.value) }));
    else out[key] = value;
  }
  return out;
}

const LoanDataOut = z.object({
  id: z.string(), account: z.string(), loan: z.string().nullable(), terms: z.record(z.string(), z.unknown()),
  created_at: epochSeconds, updated_at: epochSeconds, company: z.string(),
}).meta({ id: 'LoanData' });

const toWire = (row: LoanData): z.infer<typeof LoanDataOut> => ({
  id: row.id, account: row.accountId, loan: row.loanId, terms: termsToWire(termsFromJson(row.terms)),
  created_at: toWireTime(row.createdAt), updated_at: toWireTime(row.updatedAt), company: row.companyId,
});

const tags = ['Loan Data'];
const security = [{ bearer: [] }];

export const loanDataRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/loan_data/', {
    schema: {
      tags, security, summary: "Create loan data: terms for one loan over the account's params (loan-params vocabulary)",
      body: ParamsPatch.extend({ account: uuid }), response: { 201: LoanDataOut },
    },
  }, async (request, reply) => {
    const { account, ...terms } = request.body;
    const row = await app.services.loanData.create(authOf(request), account, terms as Terms);
    reply.code(201);
    return toWire(row);
  });

  app.patch('/v1/lms/loan_data/:id/', {
    schema: { tags, security, summary: 'Update loan data (only before a loan is disbursed under it)', params: idParams, body: ParamsPatch, response: { 200: LoanDataOut } },
  }, async (request) => toWire(await app.services.loanData.update(authOf(request), request.params.id, request.body as Terms)));

  app.get('/v1/lms/loan_data/:id/', {
    schema: { tags, security, summary: 'Retrieve loan data', params: idParams, response: { 200: LoanDataOut } },
  }, async (request) => toWire(await app.services.loanData.get(authOf(request).companyId, request.params.id)));
};
