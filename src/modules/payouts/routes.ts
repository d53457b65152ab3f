import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { businessDateInput, idParams, mapPage, optionalText, pageOf, pageQuery, rupeesInput, uuid } from '../../http/wire.js';
import { addDays } from '../../domain/interest.js';
import { istDateOf, istDayStart } from '../../domain/time.js';
import { DomainError } from '../../errors.js';
import { COMPANY_HEADER, SIGNATURE_HEADER } from './callbacks.js';
import { EXPORT_MAX } from './export.js';
import { attemptToWire, callbackToWire, PayoutAttemptOut, PayoutCallbackOut, PayoutOut, payoutToWire } from './presenters.js';
import { CreditBankIn, PayoutToIn } from './schemas.js';
import { PAYOUT_STATUSES, PAYOUT_TYPES } from './service.js';

const tags = ['Payouts'];
const security = [{ bearer: [] }];
/** Confirming that money left the bank, or cancelling a payout, is a checker's or an admin's act. */
const CONFIRM_ROLES = ['admin', 'checker'] as const;
/** The day the bank moved the money: not in the future (IST), and not absurdly old. */
const bankDate = businessDateInput.refine((d) => d <= istDateOf(new Date()), 'must not be in the future').refine((d) => d >= '2000-01-01', 'must be from 2000 on');
const text = optionalText;
const utr = text(40).regex(/^[A-Za-z0-9]+$/, 'must be letters and digits');

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
    callbackCompany?: string;
  }
}

const ProcessIn = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('processing') }),
  z.strictObject({ status: z.literal('processed'), utr, bank_date: bankDate.optional() }),
  z.strictObject({ status: z.literal('failed'), failed_remark: text(500), utr: utr.optional() }),
], { error: 'status must be one of processing, processed, failed' });

const CallbackIn = z.strictObject({
  reference: text(60).meta({ description: 'The bank reference of the attempt (`<ref_id>-<attempt>`, as in the export file)' }),
  status: z.enum(['processed', 'failed']),
  utr: utr.optional(),
  bank_date: bankDate.optional(),
  amount: rupeesInput().optional().meta({ description: 'If sent, must equal the payout amount, else the callback is kept as unmatched' }),
  failed_remark: text(500).optional(),
});

export const payoutRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/payouts/', {
    schema: {
      tags, security, summary: 'Create Payout: a new disbursement payout for a pending loan whose previous payout was cancelled',
      body: z.strictObject({ loan: uuid, credit_bank: CreditBankIn.optional(), payout_to: PayoutToIn.optional() }),
      response: { 201: PayoutOut },
    },
  }, async (request, reply) => {
    const payout = await app.services.loans.createPayout(authOf(request), request.body.loan, request.body);
    reply.code(201);
    return payoutToWire(payout);
  });

  app.post('/v1/lms/payouts/add_tranche/', {
    schema: {
      tags: ['EMIs'], security, summary: 'Request Tranche: a further disbursement of a multi-tranche loan within its sanctioned amount',
      body: z.strictObject({ loan_id: uuid, amount: rupeesInput(), credit_bank: CreditBankIn.optional() }),
      response: { 200: PayoutOut },
    },
  }, async (request) => payoutToWire(await app.services.tranches.request(authOf(request), request.body.loan_id, request.body.amount, request.body.credit_bank)));

  app.get('/v1/lms/payouts/', {
    schema: {
      tags, security, summary: 'List Payouts',
      querystring: z.strictObject({
        ...pageQuery, account: uuid.optional(), loan: uuid.optional(), topup: uuid.optional(), status: z.enum(PAYOUT_STATUSES).optional(),
        type: z.enum(PAYOUT_TYPES).optional(), is_downloaded: z.enum(['true', 'false']).optional(),
        created_from: businessDateInput.optional(), created_to: businessDateInput.optional(),
      }),
      response: { 200: pageOf(PayoutOut) },
    },
  }, async (request) => {
    const { page, page_size, is_downloaded, created_from, created_to, ...filter } = request.query;
    const result = await app.services.payouts.list(authOf(request).companyId, { page, page_size }, {
      ...filter, is_downloaded: is_downloaded === undefined ? undefined : is_downloaded === 'true',
      // Business dates are IST days; a day starts at 18:30 UTC the evening before.
      created_from: created_from ? istDayStart(created_from) : undefined, created_to: created_to ? istDayStart(addDays(created_to, 1)) : undefined,
    });
    return mapPage(result, payoutToWire);
  });

  app.get('/v1/lms/payouts/unmatched/', {
    schema: {
      tags, security, summary: 'Unmatched Payouts: callbacks that matched no payout attempt, or contradicted one, kept for an operator',
      querystring: z.strictObject({ ...pageQuery, resolved: z.enum(['true', 'false']).optional() }),
      response: { 200: pageOf(PayoutCallbackOut) },
    },
  }, async (request) => {
    const { page, page_size, resolved } = request.query;
    const result = await app.services.payoutCallbacks.unmatched(authOf(request).companyId, { page, page_size }, resolved === undefined ? undefined : resolved === 'true');
    return mapPage(result, callbackToWire);
  });

  app.put('/v1/lms/payouts/unmatched/:id/resolve/', {
    schema: {
      tags, security, params: idParams, summary: 'Resolve an unmatched payout callback with what was done about it',
      body: z.strictObject({ resolution: text(1000) }), response: { 200: PayoutCallbackOut },
    },
    config: { roles: CONFIRM_ROLES },
  }, async (request) => callbackToWire(await app.services.payoutCallbacks.resolve(authOf(request), request.params.id, request.body.resolution)));

  app.get('/v1/lms/payouts/:id/', {
    schema: {
      tags, security, params: idParams, summary: 'Get a payout with its attempts',
      response: { 200: PayoutOut.extend({ attempts: z.array(PayoutAttemptOut) }) },
    },
  }, async (request) => {
    const { companyId } = authOf(request);
    const payout = await app.services.payouts.get(companyId, request.params.id);
    return { ...payoutToWire(payout), attempts: (await app.services.payouts.attempts(companyId, payout.id)).map(attemptToWire) };
  });

  app.put('/v1/lms/payouts/:id/process/', {
    schema: {
      tags, security, params: idParams, body: ProcessIn, response: { 200: PayoutOut },
      summary: "Process Payout: record the bank's outcome by hand (processing; processed with UTR; failed with a remark)",
    },
    config: { roles: CONFIRM_ROLES },
  }, async (request) => {
    const by = authOf(request);
    const body = request.body;
    const { id } = request.params;
    if (body.status === 'processing') return payoutToWire(await app.services.payouts.markProcessing(by, id));
    if (body.status === 'processed') return payoutToWire(await app.services.payouts.markProcessed(by, id, { utr: body.utr, bankDate: body.bank_date }));
    return payoutToWire(await app.services.payouts.markFailed(by, id, { failedRemark: body.failed_remark, utr: body.utr }));
  });

  app.put('/v1/lms/payouts/:id/retry/', {
    schema: { tags, security, params: idParams, summary: 'Retry Failed Payout: a new attempt with a new bank reference', response: { 200: PayoutOut } },
  }, async (request) => payoutToWire(await app.services.payouts.retry(authOf(request), request.params.id)));

  app.put('/v1/lms/payouts/:id/cancel/', {
    schema: {
      tags, security, params: idParams, summary: 'Cancel a payout that is requested (not yet at the bank) or failed; what it held is released',
      body: z.strictObject({ remark: text(500).optional() }).default({}), response: { 200: PayoutOut },
    },
    config: { roles: CONFIRM_ROLES },
  }, async (request) => payoutToWire(await app.services.payouts.cancel(authOf(request), request.params.id, request.body.remark)));

  app.put('/v1/lms/payouts/export/', {
    schema: {
      tags, security, summary: `Export Payout for Bank: a bulk-transfer CSV of requested payouts (at most ${EXPORT_MAX}); marks them downloaded and processing`,
      body: z.strictObject({
        ids: z.array(uuid).min(1, 'must not be empty').max(EXPORT_MAX, `at most ${EXPORT_MAX} ids`).optional(),
        include_downloaded: z.boolean().default(false).meta({ description: 'Export again payouts already exported (same bank reference)' }),
      }).default({ include_downloaded: false }),
      response: { 200: z.string().meta({ description: 'text/csv; headers X-Exported-Count, X-Skipped (ref_id: reason; ...)' }) },
    },
    // The file is the effect's record; a second export simply finds nothing new.
    config: { idempotent: false },
  }, async (request, reply) => {
    const result = await app.services.payoutExports.export(authOf(request), request.body);
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="payouts-${new Date().toISOString().slice(0, 19).replace(/\D/g, '')}.csv"`);
    reply.header('x-exported-count', String(result.exported.length));
    if (result.skipped.length > 0) reply.header('x-skipped', result.skipped.map((s) => `${s.ref_id}: ${s.reason}`).join('; '));
    return result.csv;
  });

  app.post('/v1/lms/company/payout_callback_secret/', {
    schema: {
      tags: ['Company'], security, summary: 'Rotate the payout callback secret (HMAC-SHA256 key); shown only in this response',
      response: { 201: z.object({ secret: z.string(), signature_header: z.string(), company_header: z.string() }) },
    },
    config: { roles: ['admin'], idempotent: false },
  }, async (request, reply) => {
    const secret = await app.services.payoutCallbacks.rotateSecret(authOf(request));
    reply.code(201);
    return { secret, signature_header: SIGNATURE_HEADER, company_header: COMPANY_HEADER };
  });

  app.post('/v1/lms/payouts/callback/', {
    schema: {
      tags, summary: `Payout Callback from the bank or gateway. Not a user token: headers ${COMPANY_HEADER} (company id) and ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the raw body with the company's callback secret>`,
      body: CallbackIn,
      response: { 200: z.object({ outcome: z.enum(['applied', 'replay', 'unmatched']), callback: z.string(), payout: PayoutOut.nullable() }) },
    },
    config: { public: true },
    // Keep the exact bytes: the signature is over the raw body, not over re-serialised JSON.
    preParsing: async (request, _reply, payload) => {
      // Buffered by hand, so the body limit is enforced here too: this route has no token.
      const limit = app.initialConfig.bodyLimit ?? 1024 * 1024;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of payload) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new DomainError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`);
        chunks.push(chunk as Buffer);
      }
      request.rawBody = Buffer.concat(chunks);
      return Readable.from([request.rawBody]);
    },
    // The signature is checked before the body is validated, so an unsigned caller learns nothing.
    preValidation: async (request: FastifyRequest) => {
      request.callbackCompany = await app.services.payoutCallbacks.authenticate(request.headers[COMPANY_HEADER], request.headers[SIGNATURE_HEADER], request.rawBody ?? Buffer.alloc(0));
    },
  }, async (request) => {
    if (!request.callbackCompany) throw new DomainError('UNAUTHENTICATED', 'The callback signature is missing or does not match.');
    const { callback, payout } = await app.services.payoutCallbacks.receive(request.callbackCompany, request.body, JSON.parse(request.rawBody!.toString('utf8').replace(/^\uFEFF/, '')));
    return { outcome: callback.outcome as 'applied' | 'replay' | 'unmatched', callback: callback.id, payout: payout && payoutToWire(payout) };
  });
};
