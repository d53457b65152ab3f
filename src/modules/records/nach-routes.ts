// NACH over HTTP: mandates (nach_mandates/), Bulk Nach Request and NACH presentation status.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { addDays } from '../../domain/dates.js';
import { MANDATE_STATUSES, UMRN_PATTERN } from '../../domain/nach.js';
import { istDateOf } from '../../domain/time.js';
import type { NachMandate } from '../../generated/prisma/client.js';
import {
  businessDateInput, businessDateOutput, epochSeconds, idParams, mapPage, pageOf, pageQuery, rupeesInput, rupeesOutput, toWireRupees, toWireTime, uuid,
  optionalText,
} from '../../http/wire.js';
import { businessDateToEpoch } from '../../domain/time.js';
import { authOf } from '../../plugins/auth.js';
import { accountNo, ifsc } from '../collection-banks/routes.js';
import { paramsFields } from '../loan-params/schemas.js';
import { NACH_MAX_ACCOUNTS, NACH_MAX_SKIPPED_LISTED, NACH_MAX_STATUS_ROWS, type StatusRowResult } from './nach.js';
import { RecordOut, recordToWire } from './presenters.js';
import { settledAtInput } from './schemas.js';

const tags = ['Records'];
const security = [{ bearer: [] }];
/** Presentations may be prepared up to this many days ahead of the debit date. */
const MAX_DAYS_AHEAD = 30;

const umrn = z.string().trim().toUpperCase().regex(UMRN_PATTERN, 'must be exactly 20 characters: uppercase letters and digits')
  .meta({ description: 'Unique Mandate Reference Number (NPCI): 20 letters and digits' });
const text = optionalText;
const utr = text(40).regex(/^[A-Za-z0-9]+$/, 'must be letters and digits');

const MandateIn = z.strictObject({
  account: uuid,
  umrn,
  max_amount: rupeesInput().optional().meta({ description: 'Most the mandate allows per debit (rupees); presentations are capped at it' }),
  bank_account_no: accountNo.optional().meta({ description: "The borrower's bank account the mandate debits" }),
  ifsc: ifsc.optional(),
});

const MandatePatchIn = z.strictObject({
  status: z.enum(MANDATE_STATUSES).optional().meta({ description: 'cancelled stops presentations; active again only if the account has no other active mandate' }),
  max_amount: rupeesInput().nullable().optional().meta({ description: 'New cap in rupees; null removes it' }),
});

const MandateOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, account: z.string(), umrn: z.string(), status: z.enum(MANDATE_STATUSES),
  max_amount: rupeesOutput.nullable(), bank_account_no: z.string().nullable(), ifsc: z.string().nullable(), created_by: z.string().nullable(), company: z.string(),
}).meta({ id: 'NachMandate' });

const mandateToWire = (m: NachMandate): z.infer<typeof MandateOut> => ({
  id: m.id, created_at: toWireTime(m.createdAt), updated_at: toWireTime(m.updatedAt), account: m.accountId, umrn: m.umrn,
  status: m.status as (typeof MANDATE_STATUSES)[number], max_amount: m.maxAmountPaise === null ? null : toWireRupees(m.maxAmountPaise),
  bank_account_no: m.bankAccountNo, ifsc: m.ifsc, created_by: m.createdBy, company: m.companyId,
});

const BulkIn = z.strictObject({
  date: businessDateInput.optional().meta({ description: `Presentation (debit) date; demands due on or before it are presented. Default today (IST); at most ${MAX_DAYS_AHEAD} days ahead` }),
  accounts: z.array(uuid).min(1, 'must not be empty').max(NACH_MAX_ACCOUNTS, `at most ${NACH_MAX_ACCOUNTS} accounts`).optional()
    .meta({ description: 'Present only these accounts (default: every account with an active mandate)' }),
}).superRefine((body, ctx) => {
  if (body.date !== undefined && body.date > addDays(istDateOf(new Date()), MAX_DAYS_AHEAD)) {
    ctx.addIssue({ code: 'custom', path: ['date'], message: `must be at most ${MAX_DAYS_AHEAD} days ahead` });
  }
});

const BulkOut = z.object({
  batch: z.string().nullable().meta({ description: 'The batch reference on every presentation of this call (null when nothing was presented)' }),
  date: businessDateOutput, count: z.number().int(), results: z.array(RecordOut),
  skipped: z.array(z.object({ account: z.string(), reason: z.enum(['no_active_mandate', 'nothing_due', 'already_presented']) }))
    .meta({ description: `Accounts not presented, with why (at most ${NACH_MAX_SKIPPED_LISTED} listed)` }),
  skipped_count: z.number().int(),
  remaining: z.number().int().meta({ description: `Accounts with something to present beyond this call's ${NACH_MAX_ACCOUNTS}: call again` }),
});

const StatusRowIn = z.strictObject({
  record: uuid.optional().meta({ description: 'The presentation (record id); or give ref_id' }),
  ref_id: text(20).optional(),
  status: z.enum(['success', 'bounce']),
  utr: utr.optional().meta({ description: 'success: the bank reference (default NACH<ref_id>)' }),
  settled_at: settledAtInput.optional().meta({ description: 'success: when the money settled (default: the presentation date); bounce: the return date (default today)' }),
  amount: rupeesInput().optional().meta({ description: 'If given, must equal the presented amount' }),
  reason: text(200).optional().meta({ description: "bounce: the bank's return reason (required)" }),
}).superRefine((row, ctx) => {
  if (!row.record && !row.ref_id) ctx.addIssue({ code: 'custom', path: ['record'], message: 'give record or ref_id' });
  if (row.status === 'bounce' && !row.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'required for a bounce' });
});

const StatusFileIn = z.strictObject({
  collection_bank_id: uuid.meta({ description: 'The collection bank the debited money reached (for success rows)' }),
  bounce_charge: rupeesInput({ allowZero: true }).optional()
    .meta({ description: 'Bounce charge per bounced presentation, rupees (default: the company setting nach_bounce_charge_paise, else none)' }),
  bounce_charge_gst_rate: paramsFields.pf_gst.refine((rate) => Number(rate) <= 100, 'must be a rate from 0 to 100').optional()
    .meta({ description: 'GST on the bounce charge, percent (default: company setting nach_bounce_charge_gst_rate, else 0)' }),
  rows: z.array(StatusRowIn).min(1, 'must not be empty').max(NACH_MAX_STATUS_ROWS, `at most ${NACH_MAX_STATUS_ROWS} rows`),
});

const StatusRowOut = z.object({
  index: z.number().int(), outcome: z.enum(['processed', 'failed', 'unchanged', 'error']),
  record: z.string().nullable(), ref_id: z.string().nullable(), status: z.string().nullable(), amount: rupeesOutput.nullable(),
  remaining_amount: rupeesOutput.nullable(), utr: z.string().nullable(), failure_reason: z.string().nullable(), bounce_fee: z.string().nullable(),
  error: z.object({ code: z.string(), detail: z.string(), errors: z.record(z.string(), z.array(z.string())) }).nullable(),
});

const StatusOut = z.object({
  count: z.number().int(), processed: z.number().int(), failed: z.number().int(), unchanged: z.number().int(), errors: z.number().int(),
  results: z.array(StatusRowOut),
});

const rowToWire = (r: StatusRowResult): z.infer<typeof StatusRowOut> => ({
  index: r.index, outcome: r.outcome, record: r.record?.id ?? r.named.record, ref_id: r.record?.refId ?? r.named.ref_id, status: r.record?.status ?? null,
  amount: r.record ? toWireRupees(r.record.amountPaise) : null, remaining_amount: r.record ? toWireRupees(r.record.remainingPaise) : null,
  utr: r.record?.utr ?? null, failure_reason: r.record?.failureReason ?? null, bounce_fee: r.bounceFeeId,
  error: r.error ? { code: r.error.code, detail: r.error.message, errors: r.error.fieldErrors ?? {} } : null,
});

export const nachRoutes: FastifyPluginAsyncZod = async (app) => {
  const nach = () => app.services.nach;

  app.post('/v1/lms/nach_mandates/', {
    schema: { tags, security, summary: 'Register a NACH mandate for an account (one active mandate per account)', body: MandateIn, response: { 201: MandateOut } },
  }, async (request, reply) => {
    const mandate = await nach().createMandate(authOf(request), request.body);
    reply.code(201);
    return mandateToWire(mandate);
  });

  app.get('/v1/lms/nach_mandates/', {
    schema: {
      tags, security, summary: 'List NACH mandates',
      querystring: z.strictObject({ ...pageQuery, account: uuid.optional(), status: z.enum(MANDATE_STATUSES).optional(), umrn: umrn.optional() }),
      response: { 200: pageOf(MandateOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await nach().listMandates(authOf(request).companyId, { page, page_size }, filter), mandateToWire);
  });

  app.get('/v1/lms/nach_mandates/:id/', {
    schema: { tags, security, summary: 'Get a NACH mandate', params: idParams, response: { 200: MandateOut } },
  }, async (request) => mandateToWire(await nach().getMandate(authOf(request).companyId, request.params.id)));

  app.patch('/v1/lms/nach_mandates/:id/', {
    schema: { tags, security, summary: 'Update a NACH mandate: cancel or reactivate it, change its cap', params: idParams, body: MandatePatchIn, response: { 200: MandateOut } },
  }, async (request) => mandateToWire(await nach().updateMandate(authOf(request), request.params.id, request.body)));

  app.post('/v1/lms/records/bulk_nach_request/', {
    schema: {
      tags, security, body: BulkIn, response: { 201: BulkOut },
      summary: 'Bulk Nach Request: a pending NACH presentation per account for what is due by the date (demands already presented and pending are left out)',
    },
  }, async (request, reply) => {
    const by = authOf(request);
    const date = request.body.date ?? istDateOf(new Date());
    const accounts = request.body.accounts ? [...new Set(request.body.accounts)] : undefined;
    const result = await nach().bulkRequest(by, { date, accounts });
    const ctx = await app.services.records.wireContext(by.companyId, result.records);
    reply.code(201);
    return {
      batch: result.batch, date: businessDateToEpoch(result.date), count: result.records.length, results: result.records.map((r) => recordToWire(r, ctx)),
      skipped: result.skipped, skipped_count: result.skippedCount, remaining: result.remaining,
    };
  });

  app.put('/v1/lms/records/nach_presentation_status/', {
    schema: {
      tags, security, body: StatusFileIn, response: { 200: StatusOut },
      summary: "NACH presentation status: the bank's status file; success rows are processed and allocated, bounce rows fail (with a bounce charge); per-row results",
    },
    // Each row commits on its own (a 1,000-row file does not fit one transaction), and a replayed
    // file changes nothing by design, so the route is not wrapped by Idempotency-Key.
    config: { idempotent: false },
  }, async (request) => {
    const results = await nach().applyStatusFile(authOf(request), request.body);
    const counted = (outcome: StatusRowResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
    return {
      count: results.length, processed: counted('processed'), failed: counted('failed'), unchanged: counted('unchanged'), errors: counted('error'),
      results: results.map(rowToWire),
    };
  });
};
