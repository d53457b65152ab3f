import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { ROLES, WRITE_ROLES } from '../auth/roles.js';
import { addDays } from '../../domain/dates.js';
import { dateToColumn, idParams, mapPage, pageOf } from '../../http/wire.js';
import { istDayStart } from '../../domain/time.js';
import { lineAmountToWire, LineAmountOut, TopupOut, topupToWire } from './presenters.js';
import { BULK_MAX, CheckLineAmountIn, InvoiceParseIn, TopupIn, TopupPatch, TopupQuery } from './schemas.js';

const tags = ['Topups'];
const security = [{ bearer: [] }];
/** The first instant of an IST day. */

export const topupRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/topups/', {
    schema: {
      tags, security, body: TopupIn, response: { 201: TopupOut },
      summary: 'Create Topup: runs the checks; passing, it pays out now, is scheduled (limit held) or waits for its group; failing, it is stored as checks_failed holding nothing',
    },
  }, async (request, reply) => {
    const topup = await app.services.topups.create(authOf(request), request.body);
    reply.code(201);
    return topupToWire(topup);
  });

  app.post('/v1/lms/topups/bulk_create/', {
    schema: {
      tags, security, summary: `Bulk Topup Create: up to ${BULK_MAX} topups in one transaction (a bad row fails the request, named topups.<index>.<field>)`,
      body: z.strictObject({ topups: z.array(TopupIn).min(1, 'must not be empty').max(BULK_MAX, `at most ${BULK_MAX} topups`) }),
      response: { 201: z.object({ count: z.number().int(), results: z.array(TopupOut) }) },
    },
  }, async (request, reply) => {
    const topups = await app.services.topups.bulkCreate(authOf(request), request.body.topups);
    reply.code(201);
    return { count: topups.length, results: topups.map(topupToWire) };
  });

  app.get('/v1/lms/topups/', {
    schema: { tags, security, summary: 'List Topups', querystring: TopupQuery, response: { 200: pageOf(TopupOut) } },
  }, async (request) => {
    const { page, page_size, created_from, created_to, disbursement_date_from, disbursement_date_to, ...filter } = request.query;
    const result = await app.services.topups.list(authOf(request).companyId, { page, page_size }, {
      ...filter,
      created_from: created_from ? istDayStart(created_from) : undefined,
      created_before: created_to ? istDayStart(addDays(created_to, 1)) : undefined,
      disbursement_from: disbursement_date_from ? dateToColumn(disbursement_date_from) : undefined,
      disbursement_to: disbursement_date_to ? dateToColumn(disbursement_date_to) : undefined,
    });
    return mapPage(result, topupToWire);
  });

  app.put('/v1/lms/topups/check_line_amount/', {
    schema: {
      tags, security, body: CheckLineAmountIn, response: { 200: LineAmountOut },
      summary: 'Check Line Amount: whether an amount fits the available limit of a line now (creates nothing, holds nothing)',
    },
    // A calculator: it changes nothing, so viewers may ask too.
    config: { roles: ROLES },
  }, async (request) => lineAmountToWire(await app.services.topups.checkLineAmount(authOf(request).companyId, request.body)));

  app.get('/v1/lms/topups/:id/', {
    schema: { tags, security, summary: 'Get a topup', params: idParams, response: { 200: TopupOut } },
  }, async (request) => topupToWire(await app.services.topups.get(authOf(request).companyId, request.params.id)));

  app.patch('/v1/lms/topups/:id/', {
    schema: {
      tags, security, params: idParams, body: TopupPatch, response: { 200: TopupOut },
      summary: 'Update Topup: only before payout (draft, checks_failed, scheduled, approved); the checks run again and the topup is placed anew',
    },
  }, async (request) => topupToWire(await app.services.topups.update(authOf(request), request.params.id, request.body)));

  app.get('/v1/lms/topups/:id/rerun_checks/', {
    schema: {
      tags, security, params: idParams, response: { 200: TopupOut },
      summary: 'Re Run Checks: evaluates and stores the checks again; a topup that now passes moves on, a waiting one that now fails releases its limit',
    },
    // A GET (Crego's path) that writes: not for viewers.
    config: { roles: WRITE_ROLES },
  }, async (request) => topupToWire(await app.services.topups.rerunChecks(authOf(request), request.params.id)));

  app.patch('/v1/lms/topups/:id/invoice_parse/', {
    schema: {
      tags, security, params: idParams, body: InvoiceParseIn, response: { 200: TopupOut },
      summary: 'Invoice Parse: fills the invoice fields from a GST e-invoice (INV-01) and runs the checks again; only before payout',
    },
  }, async (request) => topupToWire(await app.services.topups.invoiceParse(authOf(request), request.params.id, request.body)));

  app.put('/v1/lms/topups/:id/unschedule/', {
    schema: {
      tags, security, params: idParams, response: { 200: TopupOut },
      summary: 'Unschedule a scheduled topup (or one awaiting its group): it becomes unscheduled and its limit is released',
    },
  }, async (request) => topupToWire(await app.services.topups.unschedule(authOf(request), request.params.id)));

  app.post('/v1/lms/topups/:id/reinitiate_payout/', {
    schema: {
      tags, security, params: idParams, response: { 200: TopupOut },
      summary: 'Reinitiate Payout: retries the failed payout of a failed topup (the limit is blocked again; 409 when it no longer fits)',
    },
  }, async (request) => topupToWire(await app.services.topups.reinitiatePayout(authOf(request), request.params.id)));
};
