import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { businessDateInput, dateToColumn, idParams, mapPage, optionalText, pageOf, pageQuery, rupeesInput, uuid } from '../../http/wire.js';
import { addDays } from '../../domain/interest.js';
import { istDayStart } from '../../domain/time.js';
import { COMPONENT_ORDER_HINT, componentOrderInput, epochInstant, settledAtInput } from './schemas.js';
import { RecordOut, recordToWire, SettlementOut, settlementToWire } from './presenters.js';
import { PAYMENT_MODES, RECORD_STATUSES } from './service.js';
import { BULK_RECORDS_MAX, EXPORT_COLUMNS_HINT } from './limits.js';

const tags = ['Records'];
const security = [{ bearer: [] }];
const CHECKER_ROLES = ['admin', 'checker'] as const;
const text = optionalText;
const utr = text(40).regex(/^[A-Za-z0-9]+$/, 'must be letters and digits');

export const RecordIn = z.strictObject({
  account: uuid.optional().meta({ description: 'The account; leave out (or give account_external_id) to create an unmatched record' }),
  account_external_id: text(100).optional().meta({ description: "The account's external id; a record whose account is not found this way is unmatched" }),
  type: z.enum(['repayment', 'adjustment']).default('repayment'),
  received_amount: rupeesInput({ allowZero: true }).optional(),
  tds_amount: rupeesInput({ allowZero: true }).optional(),
  amount: rupeesInput().optional().meta({ description: 'received_amount + tds_amount; give either, or both when they agree' }),
  payment_mode: z.enum(PAYMENT_MODES).optional(),
  utr: utr.optional(),
  date: epochInstant.optional().meta({ description: 'Record date (epoch seconds); default now' }),
  settled_at: settledAtInput.optional(),
  collection_bank_id: uuid.optional(),
  settlement_order: z.enum(['due_date_first', 'component_first']).optional(),
  component_order: componentOrderInput.optional().meta({ description: COMPONENT_ORDER_HINT }),
  excess_handling: z.enum(['hold', 'prepay']).optional(),
  loans: z.array(uuid).max(100, 'at most 100 loans').optional().meta({ description: 'Settle only these loans (default: all of the account\'s loans)' }),
  remark: text(500).optional(),
  payer: z.strictObject({
    name: text(200).optional(), account_no: text(34).optional(), ifsc: text(11).optional(), vpa: text(100).optional(), reference: text(100).optional(),
  }).optional().meta({ description: 'Who paid, to help match an unmatched record' }),
}).superRefine((body, ctx) => {
  if (body.received_amount === undefined && body.amount === undefined) ctx.addIssue({ code: 'custom', path: ['amount'], message: 'give amount or received_amount' });
  // A record of nothing moves nothing: received and TDS may each be 0, not both.
  else if (body.amount === undefined && body.received_amount! + (body.tds_amount ?? 0n) === 0n) ctx.addIssue({ code: 'custom', path: ['amount'], message: 'must be more than 0 (received_amount + tds_amount)' });
  if (body.amount !== undefined && body.received_amount !== undefined && body.amount !== body.received_amount + (body.tds_amount ?? 0n)) {
    ctx.addIssue({ code: 'custom', path: ['amount'], message: 'must equal received_amount + tds_amount' });
  }
  if (body.amount !== undefined && body.tds_amount !== undefined && body.tds_amount > body.amount) ctx.addIssue({ code: 'custom', path: ['tds_amount'], message: 'must not exceed amount' });
  if (body.account && body.account_external_id) ctx.addIssue({ code: 'custom', path: ['account_external_id'], message: 'give account or account_external_id, not both' });
});
export type RecordBody = z.infer<typeof RecordIn>;

/** The body as the service takes it: received is amount - tds when only amount is given. */
export const toNewRecord = (b: RecordBody) => ({
  ...b, received_amount: b.received_amount ?? b.amount! - (b.tds_amount ?? 0n),
});

const filterFields = {
  account: uuid.optional(), status: z.enum(RECORD_STATUSES).optional(), type: z.string().trim().max(40).optional(), utr: utr.optional(),
  loan: uuid.optional(), payment_mode: z.enum(PAYMENT_MODES).optional(), date_from: businessDateInput.optional(), date_to: businessDateInput.optional(),
  value_date_from: businessDateInput.optional(), value_date_to: businessDateInput.optional(),
};
const ListQuery = z.strictObject({ ...pageQuery, ...filterFields });
export type RecordListQuery = z.infer<typeof ListQuery>;


export const recordFilterOf = (q: Omit<RecordListQuery, 'page' | 'page_size'>) => ({
  account: q.account, status: q.status, type: q.type, utr: q.utr, loan: q.loan, payment_mode: q.payment_mode,
  date_from: q.date_from ? istDayStart(q.date_from) : undefined, date_to: q.date_to ? istDayStart(addDays(q.date_to, 1)) : undefined,
  value_date_from: q.value_date_from ? dateToColumn(q.value_date_from) : undefined, value_date_to: q.value_date_to ? dateToColumn(q.value_date_to) : undefined,
});

export const recordRoutes: FastifyPluginAsyncZod = async (app) => {
  const records = () => app.services.records;
  const wire = async (companyId: string, list: Parameters<typeof recordToWire>[0][]) => {
    const ctx = await records().wireContext(companyId, list);
    return list.map((r) => recordToWire(r, ctx));
  };
  const one = async (companyId: string, r: Parameters<typeof recordToWire>[0]) => (await wire(companyId, [r]))[0]!;

  app.post('/v1/lms/records/', {
    schema: { tags, security, summary: 'Create Record: money received, pending until marked processed (unmatched when its account is unknown)', body: RecordIn, response: { 201: RecordOut } },
  }, async (request, reply) => {
    const by = authOf(request);
    const record = await records().create(by, toNewRecord(request.body));
    reply.code(201);
    return one(by.companyId, record);
  });

  app.post('/v1/lms/records/bulk_create/', {
    schema: {
      tags, security, summary: `Bulk Create Records: up to ${BULK_RECORDS_MAX}, all or nothing; every bad row is named (records.<i>.<field>)`,
      body: z.strictObject({ records: z.array(RecordIn).min(1, 'must not be empty').max(BULK_RECORDS_MAX, `at most ${BULK_RECORDS_MAX} records`) }),
      response: { 201: z.object({ count: z.number().int(), results: z.array(RecordOut) }) },
    },
  }, async (request, reply) => {
    const by = authOf(request);
    const created = await app.services.recordBulk.createMany(by, request.body.records.map(toNewRecord));
    reply.code(201);
    return { count: created.length, results: await wire(by.companyId, created) };
  });

  app.put('/v1/lms/records/export/', {
    schema: {
      tags, security, summary: 'Export record: a CSV (streamed) of the filtered records with their settlements, one line per settlement, oldest first',
      body: z.strictObject(filterFields).default({}),
      response: { 200: z.string().meta({ description: `text/csv with columns ${EXPORT_COLUMNS_HINT}` }) },
    },
    // Reading only; the file is streamed, so there is no stored response to replay.
    config: { idempotent: false },
  }, async (request, reply) => {
    const { companyId } = authOf(request);
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="records-${new Date().toISOString().slice(0, 19).replace(/\D/g, '')}.csv"`);
    // Fastify sends a returned stream as it is (no serialisation); the schema above documents the CSV.
    return app.services.recordExports.stream(companyId, recordFilterOf(request.body)) as unknown as string;
  });

  app.get('/v1/lms/records/', {
    schema: { tags, security, summary: 'Record Listing', querystring: ListQuery, response: { 200: pageOf(RecordOut) } },
  }, async (request) => {
    const { companyId } = authOf(request);
    const { page, page_size, ...query } = request.query;
    const result = await records().list(companyId, { page, page_size }, recordFilterOf(query));
    return { ...result, results: await wire(companyId, result.results) };
  });

  app.get('/v1/lms/records/unmatched/', {
    schema: { tags, security, summary: 'Unmatched: records whose account could not be resolved', querystring: z.strictObject({ ...pageQuery }), response: { 200: pageOf(RecordOut) } },
  }, async (request) => {
    const { companyId } = authOf(request);
    const result = await records().list(companyId, request.query, { status: 'unmatched' });
    return { ...result, results: await wire(companyId, result.results) };
  });

  app.get('/v1/lms/records/:id/', {
    schema: { tags, security, params: idParams, summary: 'Get Single Record', response: { 200: RecordOut } },
  }, async (request) => {
    const { companyId } = authOf(request);
    return one(companyId, await records().get(companyId, request.params.id));
  });

  app.put('/v1/lms/records/:id/mark_processed/', {
    schema: {
      tags, security, params: idParams, summary: 'Mark Processed: pending -> processed, allocated at once under the account lock',
      body: z.strictObject({ utr, settled_at: settledAtInput, collection_bank_id: uuid }), response: { 200: RecordOut },
    },
  }, async (request) => {
    const by = authOf(request);
    return one(by.companyId, await records().markProcessed(by, request.params.id, request.body));
  });

  app.put('/v1/lms/records/:id/match/', {
    schema: {
      tags, security, params: idParams, summary: 'Match an unmatched record to an account; it allocates at once if it carries its settlement details',
      body: z.strictObject({ account: uuid }), response: { 200: RecordOut },
    },
  }, async (request) => {
    const by = authOf(request);
    return one(by.companyId, await records().match(by, request.params.id, request.body.account));
  });

  app.put('/v1/lms/records/:id/request_approval/', {
    schema: {
      tags, security, params: idParams, summary: "Request Approval: a pending record waits for a checker's approval before it allocates",
      body: z.strictObject({ remarks: text(500).optional() }).default({}), response: { 200: RecordOut },
    },
  }, async (request) => {
    const by = authOf(request);
    return one(by.companyId, await records().requestApproval(by, request.params.id, request.body.remarks));
  });

  app.put('/v1/lms/records/:id/approve/', {
    schema: {
      tags, security, params: idParams, summary: 'Approve a record awaiting approval (not by its maker); it allocates if it carries its settlement details',
      body: z.strictObject({ remarks: text(500).optional() }).default({}), response: { 200: RecordOut },
    },
    config: { roles: CHECKER_ROLES },
  }, async (request) => {
    const by = authOf(request);
    return one(by.companyId, await records().approve(by, request.params.id, request.body.remarks));
  });

  app.put('/v1/lms/records/:id/reject/', {
    schema: {
      tags, security, params: idParams, summary: 'Reject a record awaiting approval (not by its maker)',
      body: z.strictObject({ remarks: text(500) }), response: { 200: RecordOut },
    },
    config: { roles: CHECKER_ROLES },
  }, async (request) => {
    const by = authOf(request);
    return one(by.companyId, await records().reject(by, request.params.id, request.body.remarks));
  });

  app.get('/v1/lms/settlements/', {
    schema: {
      tags: ['EMIs'], security, summary: 'List Settlements: one row per (record, demand, component); reversals are negative rows pointing at what they reverse',
      querystring: z.strictObject({ ...pageQuery, account: uuid.optional(), loan: uuid.optional(), demand: uuid.optional(), record: uuid.optional(), expand: z.enum(['record']).optional() }),
      response: { 200: pageOf(SettlementOut) },
    },
  }, async (request) => {
    const { companyId } = authOf(request);
    const { page, page_size, expand, ...filter } = request.query;
    const result = await records().listSettlements(companyId, { page, page_size }, filter);
    if (expand !== 'record') return mapPage(result, (s) => settlementToWire(s));
    const ids = [...new Set(result.results.map((s) => s.recordId))];
    const expanded = new Map((await wire(companyId, await records().getMany(companyId, ids))).map((r) => [r.id, r]));
    return mapPage(result, (s) => settlementToWire(s, expanded.get(s.recordId)));
  });
};
