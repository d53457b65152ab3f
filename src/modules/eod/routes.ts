// Run EOD (Crego's path), the run objects, and the accrual rows EOD writes.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  businessDateInput, businessDateOutput, dateColumnToWire, epochSeconds, idParams, pageOf, pageQuery, rupeesOutput, toWireRupees,
  toWireTimeOrNull, uuid,
} from '../../http/wire.js';
import { authOf } from '../../plugins/auth.js';
import type { EodRunView } from './service.js';
import { ACCRUAL_COMPONENTS, type AccrualView } from './accruals.js';

const RunEodIn = z.strictObject({
  date: businessDateInput.optional().meta({ description: 'The business date to close (default today, IST); not after today' }),
});

const StepOut = z.object({
  name: z.string(), ms: z.number().meta({ description: 'Time spent in the step, summed over partitions (and workers)' }), rows: z.number().int(),
});

const EodRunOut = z.object({
  id: z.string(), date: businessDateOutput, status: z.enum(['queued', 'running', 'completed', 'failed']), trigger: z.string(),
  loans_total: z.number().int().meta({ description: 'Open loans behind the date when the run was planned' }), loans_done: z.number().int(),
  partitions_total: z.number().int(), partitions_done: z.number().int(),
  steps: z.array(StepOut), failures: z.array(z.record(z.string(), z.unknown())),
  started_at: epochSeconds.nullable(), finished_at: epochSeconds.nullable(), created_at: epochSeconds, created_by: z.string().nullable(), company: z.string(),
}).meta({ id: 'EodRun' });

function runToWire({ run, steps }: EodRunView): z.infer<typeof EodRunOut> {
  return {
    id: run.id, date: dateColumnToWire(run.businessDate)!, status: run.status as z.infer<typeof EodRunOut>['status'], trigger: run.trigger,
    loans_total: run.loansTotal, loans_done: run.loansDone, partitions_total: run.partitionsTotal, partitions_done: run.partitionsDone,
    steps: steps.map((s) => ({ name: s.name, ms: Number(s.ms), rows: Number(s.rows) })), failures: run.failures as Record<string, unknown>[],
    started_at: toWireTimeOrNull(run.startedAt), finished_at: toWireTimeOrNull(run.finishedAt), created_at: toWireTimeOrNull(run.createdAt)!,
    created_by: run.createdBy, company: run.companyId,
  };
}

const AccrualOut = z.object({
  id: z.string(), loan: z.string(), account: z.string(), demand: z.string(), date: businessDateOutput, component: z.enum(ACCRUAL_COMPONENTS),
  amount: rupeesOutput.meta({ description: 'The accrual (the charge alone for PI); negative on a reversal row' }),
  tax_amount: rupeesOutput.meta({ description: 'PI only: the GST on the charge, part of the PI due' }),
  in_suspense: z.boolean().meta({ description: 'Accrued while the loan was NPA: a due, but not income' }),
  reverses: z.string().nullable().meta({ description: 'The row this one reverses (a recomputed day)' }),
  eod_run: z.string().nullable(), created_at: epochSeconds,
}).meta({ id: 'Accrual' });

const accrualToWire = (a: AccrualView): z.infer<typeof AccrualOut> => ({
  id: a.id, loan: a.loanId, account: a.accountId, demand: a.demandId, date: dateColumnToWire(a.accrualDate)!, component: a.component as 'NI' | 'OI' | 'PI',
  amount: toWireRupees(a.amountPaise), tax_amount: toWireRupees(a.taxPaise), in_suspense: a.inSuspense, reverses: a.reversesId,
  eod_run: a.eodRunId, created_at: toWireTimeOrNull(a.createdAt)!,
});

export const eodRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/emis/run_eod/', {
    config: { roles: ['admin', 'maker'] },
    schema: {
      tags: ['End of day'], security: [{ bearer: [] }],
      summary: 'Run EOD: closes the business date for every loan of the company (catching up missed days), in the background; poll the run object',
      body: RunEodIn, response: { 202: EodRunOut },
    },
  }, async (request, reply) => {
    const view = await app.services.eod.start(authOf(request), { date: request.body.date });
    reply.code(202);
    return runToWire(view);
  });

  app.get('/v1/lms/eod_runs/', {
    schema: {
      tags: ['End of day'], security: [{ bearer: [] }], summary: 'EOD runs, newest first',
      querystring: z.strictObject({ ...pageQuery, status: z.enum(['queued', 'running', 'completed', 'failed']).optional(), date: businessDateInput.optional() }),
      response: { 200: pageOf(EodRunOut) },
    },
  }, async (request) => {
    const { page, page_size, status, date } = request.query;
    const result = await app.services.eod.list(authOf(request).companyId, { page, page_size }, { status, date });
    return { ...result, results: result.results.map(runToWire) };
  });

  app.get('/v1/lms/eod_runs/:id/', {
    schema: { tags: ['End of day'], security: [{ bearer: [] }], summary: 'One EOD run with its progress, step timings and failures', params: idParams, response: { 200: EodRunOut } },
  }, async (request) => runToWire(await app.services.eod.get(authOf(request).companyId, request.params.id)));

  app.get('/v1/lms/accruals/', {
    schema: {
      tags: ['End of day'], security: [{ bearer: [] }],
      summary: 'Accrual rows EOD wrote (NI income, OI, PI with its GST), by date; filter by loan, demand, component and dates',
      querystring: z.strictObject({
        ...pageQuery, loan: uuid.optional(), demand: uuid.optional(), account: uuid.optional(), component: z.enum(ACCRUAL_COMPONENTS).optional(),
        date_from: businessDateInput.optional(), date_to: businessDateInput.optional(),
      }),
      response: { 200: pageOf(AccrualOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    const result = await app.services.accruals.list(authOf(request).companyId, { page, page_size }, filter);
    return { ...result, results: result.results.map(accrualToWire) };
  });
};
