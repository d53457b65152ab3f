import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { businessDateInput, dateToColumn, idParams, mapPage, pageOf, pageQuery, rupeesInput, rupeesOutput, toWireRupees, uuid } from '../../http/wire.js';
import { DemandOut, demandToWire, LoanOut, loanToWire, PayoutOut, payoutToWire } from './presenters.js';

const LOAN_STATUSES = ['pending_disbursement', 'active', 'overdue', 'npa', 'closed', 'written_off'] as const;
const DEMAND_STATUSES = ['upcoming', 'due', 'overdue', 'partially_paid', 'paid', 'waived', 'cancelled'] as const;
const security = [{ bearer: [] }];

export const loanRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/accounts/:id/initiate_disbursement/', {
    schema: {
      tags: ['Accounts'], security, params: idParams,
      summary: 'Initiate Disbursement: blocks the limit, creates a pending loan and a payout for the net amount',
      body: z.strictObject({
        amount: rupeesInput(), loan_data: uuid.optional().meta({ description: 'Loan data (per-loan terms) to disburse under' }),
        line_type: z.string().trim().min(2).max(40).optional().meta({ description: 'The line to draw on; default primary' }),
      }),
      response: { 201: LoanOut.extend({ payout: PayoutOut }) },
    },
  }, async (request, reply) => {
    const { loan, payout } = await app.services.loans.initiateDisbursement(authOf(request), request.params.id, request.body);
    reply.code(201);
    return { ...loanToWire(loan), payout: payoutToWire(payout) };
  });

  app.get('/v1/lms/loans/', {
    schema: {
      tags: ['Loans'], security, summary: 'List Loans',
      querystring: z.strictObject({ ...pageQuery, account: uuid.optional(), status: z.enum(LOAN_STATUSES).optional() }),
      response: { 200: pageOf(LoanOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await app.services.loans.list(authOf(request).companyId, { page, page_size }, filter), loanToWire);
  });

  app.get('/v1/lms/loans/:id/', {
    schema: { tags: ['Loans'], security, summary: 'Get a loan', params: idParams, response: { 200: LoanOut } },
  }, async (request) => loanToWire(await app.services.loans.get(authOf(request).companyId, request.params.id)));

  app.get('/v1/lms/loans/:id/emi_amount/', {
    schema: {
      tags: ['Loans'], security, summary: 'Get Emi Amount: the installment amount of the loan', params: idParams,
      response: { 200: z.object({ loan: z.string(), emi_amount: rupeesOutput.nullable(), installments: z.number().int() }) },
    },
  }, async (request) => {
    const demands = (await app.services.loans.demandsOf(authOf(request).companyId, request.params.id)).filter((d) => d.kind === 'emi');
    const first = demands[0];
    return { loan: request.params.id, emi_amount: first ? toWireRupees(first.pDuePaise + first.niDuePaise) : null, installments: demands.length };
  });

  app.get('/v1/lms/emis/', {
    schema: {
      tags: ['EMIs'], security, summary: 'List EMI: demands with their components',
      querystring: z.strictObject({
        ...pageQuery, account: uuid.optional(), loan: uuid.optional(), status: z.enum(DEMAND_STATUSES).optional(),
        due_date_from: businessDateInput.optional(), due_date_to: businessDateInput.optional(),
      }),
      response: { 200: pageOf(DemandOut) },
    },
  }, async (request) => {
    const { page, page_size, due_date_from, due_date_to, ...filter } = request.query;
    const result = await app.services.loans.listDemands(authOf(request).companyId, { page, page_size }, {
      ...filter, due_from: due_date_from ? dateToColumn(due_date_from) : undefined, due_to: due_date_to ? dateToColumn(due_date_to) : undefined,
    });
    return mapPage(result, demandToWire);
  });
};
