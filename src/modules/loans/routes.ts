import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { businessDateInput, dateToColumn, idParams, mapPage, pageOf, pageQuery, rupeesInput, rupeesOutput, toWireRupees, uuid } from '../../http/wire.js';
import { businessDateOutput, columnToDate } from '../../http/wire.js';
import { businessDateToEpoch, istDateOf } from '../../domain/time.js';
import { DemandOut, demandComponents, demandToWire, LoanOut, loanToWire } from './presenters.js';
import { PayoutOut, payoutToWire } from '../payouts/presenters.js';
import { CreditBankIn, PayoutToIn } from '../payouts/schemas.js';
import type { Demand } from '../../generated/prisma/client.js';

const Components = z.object({ P: rupeesOutput, NI: rupeesOutput, OI: rupeesOutput, PI: rupeesOutput, FEE: rupeesOutput, total: rupeesOutput });

/** Outstanding per component over demands. */
function componentTotals(demands: Demand[]) {
  const sums = { P: 0n, NI: 0n, OI: 0n, PI: 0n, FEE: 0n };
  for (const d of demands) {
    const parts = demandComponents(d);
    for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] += parts[key].outstanding;
  }
  const total = Object.values(sums).reduce((a, b) => a + b, 0n);
  return { P: toWireRupees(sums.P), NI: toWireRupees(sums.NI), OI: toWireRupees(sums.OI), PI: toWireRupees(sums.PI), FEE: toWireRupees(sums.FEE), total: toWireRupees(total) };
}

const outstandingOf = (d: Demand) => Object.values(demandComponents(d)).reduce((s, c) => s + c.outstanding, 0n);

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
        sanctioned_amount: rupeesInput().optional().meta({ description: 'Multi-tranche loans: the most the loan may disburse over all its tranches (default: amount)' }),
        credit_bank: CreditBankIn.optional(),
        payout_to: PayoutToIn.optional(),
      }),
      response: { 201: LoanOut.extend({ payout: PayoutOut }) },
    },
  }, async (request, reply) => {
    const { loan, payout } = await app.services.loans.initiateDisbursement(authOf(request), request.params.id, request.body);
    reply.code(201);
    return { ...loanToWire(loan), payout: payoutToWire(payout) };
  });

  app.post('/v1/lms/accounts/:id/reset_rps/', {
    schema: {
      tags: ['Accounts'], security, params: idParams,
      summary: "Reset RPS: regenerate the schedules of the account's open loans (or one) under current params; settled demands are kept as they are",
      body: z.strictObject({ loan: uuid.optional() }).default({}),
      response: { 200: z.object({ count: z.number().int(), results: z.array(LoanOut) }) },
    },
  }, async (request) => {
    const loans = await app.services.loans.resetRps(authOf(request), request.params.id, request.body.loan);
    return { count: loans.length, results: loans.map(loanToWire) };
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

  app.get('/v1/lms/loans/:id/summary/', {
    schema: {
      tags: ['Loans'], security, params: idParams, querystring: z.strictObject({ as_of: businessDateInput.optional() }),
      summary: 'Get Loan Summary: outstanding and overdue by component, DPD, next due, foreclosure amount as of a date (default today, IST)',
      response: {
        200: z.object({
          loan: LoanOut, as_of: businessDateOutput, principal: rupeesOutput, outstanding: Components, overdue: Components,
          dpd: z.number().int(), peak_dpd: z.number().int(),
          next_due: z.object({ due_date: businessDateOutput, amount: rupeesOutput, installment_number: z.number().int().nullable() }).nullable(),
          foreclosure: z.object({ amount: rupeesOutput, due_now: rupeesOutput, future_principal: rupeesOutput, accrued_interest: rupeesOutput, future_fees: rupeesOutput }).nullable(),
        }).meta({ id: 'LoanSummary' }),
      },
    },
  }, async (request) => {
    const asOf = request.query.as_of ?? istDateOf(new Date());
    const { loan, demands, foreclosure } = await app.services.loans.summary(authOf(request).companyId, request.params.id, asOf);
    const next = demands.find((d) => columnToDate(d.dueDate) >= asOf && outstandingOf(d) > 0n);
    return {
      loan: loanToWire(loan), as_of: businessDateToEpoch(asOf), principal: toWireRupees(loan.principalPaise),
      outstanding: componentTotals(demands), overdue: componentTotals(demands.filter((d) => columnToDate(d.dueDate) < asOf)),
      dpd: loan.dpd, peak_dpd: loan.peakDpd,
      next_due: next ? { due_date: businessDateToEpoch(columnToDate(next.dueDate)), amount: toWireRupees(outstandingOf(next)), installment_number: next.installmentNumber } : null,
      foreclosure: foreclosure && {
        amount: toWireRupees(foreclosure.total), due_now: toWireRupees(foreclosure.dueNow), future_principal: toWireRupees(foreclosure.futurePrincipal),
        accrued_interest: toWireRupees(foreclosure.accruedInterest), future_fees: toWireRupees(foreclosure.futureFees),
      },
    };
  });

  app.get('/v1/lms/emis/outstanding/', {
    schema: {
      tags: ['EMIs'], security, summary: 'Outstanding data: demands with anything outstanding, and the totals by component',
      querystring: z.strictObject({ ...pageQuery, account: uuid.optional(), loan: uuid.optional(), due_date_to: businessDateInput.optional() }),
      response: { 200: pageOf(DemandOut).extend({ totals: Components }) },
    },
  }, async (request) => {
    const { page, page_size, due_date_to, ...filter } = request.query;
    const result = await app.services.loans.outstanding(authOf(request).companyId, { page, page_size }, { ...filter, due_to: due_date_to ? dateToColumn(due_date_to) : undefined });
    const t = result.totals;
    return {
      ...mapPage(result.page, demandToWire),
      totals: { P: toWireRupees(t.P), NI: toWireRupees(t.NI), OI: toWireRupees(t.OI), PI: toWireRupees(t.PI), FEE: toWireRupees(t.FEE), total: toWireRupees(t.total) },
    };
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
