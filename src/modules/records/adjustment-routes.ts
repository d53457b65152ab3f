// Adjustments (cashback, holdback), excess refunds and the loans that hold excess (issue 5).
// Handlers return their payload (never reply.send), so the idempotency wrapper stores it in the
// same transaction as the effect.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { businessDateInput, idParams, optionalText, pageOf, pageQuery, rupeesInput, rupeesOutput, toWireRupees, uuid } from '../../http/wire.js';
import { authOf } from '../../plugins/auth.js';
import { LoanOut, loanToWire } from '../loans/presenters.js';
import { PayoutOut, payoutToWire } from '../payouts/presenters.js';
import { CreditBankIn, PayoutToIn } from '../payouts/schemas.js';
import { ADJUSTMENT_TYPES, BULK_ADJUSTMENTS_MAX, type Refund } from './adjustments.js';
import { RecordOut, recordToWire } from './presenters.js';

const security = [{ bearer: [] }];
const text = optionalText;

const adjustmentFields = {
  amount: rupeesInput(),
  type: z.enum(ADJUSTMENT_TYPES),
  date: businessDateInput.optional().meta({ description: "Value date (YYYY-MM-DD or epoch seconds): not in the future, not before the loan's disbursement; default today" }),
  remark: text(500).optional(),
};
const AdjustmentIn = z.strictObject(adjustmentFields);
const BulkAdjustmentIn = z.strictObject({
  adjustments: z.array(z.strictObject({ loan: uuid, ...adjustmentFields }))
    .min(1, 'must not be empty').max(BULK_ADJUSTMENTS_MAX, `at most ${BULK_ADJUSTMENTS_MAX} adjustments`),
});

const RefundIn = z.strictObject({
  amount: rupeesInput().optional().meta({ description: 'Default: all the excess available' }),
  credit_bank: CreditBankIn.optional().meta({ description: "The beneficiary; required unless the record carries the payer's bank account (name, account_no, ifsc), which is then refunded" }),
  payout_to: PayoutToIn.optional(),
  remark: text(500).optional(),
}).default({});

const RecordWithPayout = RecordOut.extend({ payout: PayoutOut });
const LoanExcessOut = LoanOut.extend({
  excess_amount: rupeesOutput.meta({ description: 'Available excess (remaining - reserved) of the records attributed to this loan' }),
  refundable_amount: rupeesOutput.meta({ description: 'The part of excess_amount that was money received (repayment, NACH), which Initiate Refund can pay back' }),
  account_excess_amount: rupeesOutput.meta({ description: "Available excess of all the account's records, each counted once (a record that names no loan shows under each loan it is attributed to)" }),
  excess_records: z.number().int().meta({ description: 'How many records make up excess_amount' }),
});

export const adjustmentRoutes: FastifyPluginAsyncZod = async (app) => {
  const service = () => app.services.adjustments;
  const wire = async (companyId: string, list: Parameters<typeof recordToWire>[0][]) => {
    const ctx = await app.services.records.wireContext(companyId, list);
    return list.map((r) => recordToWire(r, ctx));
  };
  const refundsToWire = async (companyId: string, refunds: Refund[]) => {
    const records = await wire(companyId, refunds.map((r) => r.record));
    return refunds.map((r, i) => ({ ...records[i]!, payout: payoutToWire(r.payout) }));
  };

  app.post('/v1/lms/loans/:id/adjustments/', {
    schema: {
      tags: ['Loans'], security, params: idParams, body: AdjustmentIn, response: { 201: RecordOut },
      summary: "Initiate Adjustment: a cashback or holdback record (no money moved) that awaits a checker's approval and then settles the loan's dues like a payment",
    },
  }, async (request, reply) => {
    const by = authOf(request);
    const record = await service().initiate(by, { ...request.body, loan: request.params.id });
    reply.code(201);
    return (await wire(by.companyId, [record]))[0]!;
  });

  app.post('/v1/lms/records/adjustments/', {
    schema: {
      tags: ['Records'], security, body: BulkAdjustmentIn, response: { 201: z.object({ count: z.number().int(), results: z.array(RecordOut) }) },
      summary: `Initiate Adjustment for Cashback & Holdback: up to ${BULK_ADJUSTMENTS_MAX} loans, all or nothing; each row awaits a checker's approval`,
    },
  }, async (request, reply) => {
    const by = authOf(request);
    const records = await service().initiateMany(by, request.body.adjustments);
    reply.code(201);
    return { count: records.length, results: await wire(by.companyId, records) };
  });

  app.post('/v1/lms/records/:id/initiate_excess_refund/', {
    schema: {
      tags: ['Records'], security, params: idParams, body: RefundIn, response: { 201: RecordWithPayout },
      summary: "Initiate Excess Payment Refund: reserves the record's excess at once and creates a refund payout; success consumes it, failure or cancellation releases it",
    },
  }, async (request, reply) => {
    const by = authOf(request);
    const refund = await service().refundRecord(by, request.params.id, request.body);
    reply.code(201);
    return (await refundsToWire(by.companyId, [refund]))[0]!;
  });

  app.post('/v1/lms/loans/:id/refunds/', {
    schema: {
      tags: ['Loans'], security, params: idParams, body: RefundIn,
      response: { 201: z.object({ amount: rupeesOutput, count: z.number().int(), results: z.array(RecordWithPayout) }) },
      summary: "Initiate Refund: pays back the loan's refundable excess (oldest record first), one refund payout per record used",
    },
  }, async (request, reply) => {
    const by = authOf(request);
    const refunds = await service().refundLoan(by, request.params.id, request.body);
    reply.code(201);
    const amount = refunds.reduce((s, r) => s + r.payout.amountPaise, 0n);
    return { amount: toWireRupees(amount), count: refunds.length, results: await refundsToWire(by.companyId, refunds) };
  });

  app.get('/v1/lms/loans/excess/', {
    schema: {
      tags: ['Loans'], security, querystring: z.strictObject({ ...pageQuery, account: uuid.optional() }), response: { 200: pageOf(LoanExcessOut) },
      summary: 'List Loans with Excess Balance: loans with excess attributed to them, newest loan first',
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    const result = await service().loansWithExcess(authOf(request).companyId, { page, page_size }, filter);
    return {
      ...result,
      results: result.results.map((e) => ({
        ...loanToWire(e.loan), excess_amount: toWireRupees(e.excessPaise), refundable_amount: toWireRupees(e.refundablePaise),
        account_excess_amount: toWireRupees(e.accountExcessPaise), excess_records: e.records,
      })),
    };
  });
};
