import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { istDateOf, businessDateToEpoch } from '../../domain/time.js';
import { validateParams, DEFAULT_PARAMS } from '../../domain/loan-params.js';
import { validationFailed } from '../../errors.js';
import {
  businessDateInput, businessDateOutput, dateColumnToWire, epochSeconds, rupeesInput, rupeesOutput, toWireRupees, toWireTime, uuid,
} from '../../http/wire.js';
import { paramsFields } from '../loan-params/schemas.js';
import { calculate } from './calculator.js';
import { authOf } from '../../plugins/auth.js';
import { OVERDUE_TREATMENTS } from '../../domain/restructure.js';
import type { Restructure } from '../../generated/prisma/client.js';
import { DemandOut, demandToWire, LoanOut, loanToWire } from '../loans/presenters.js';

const FREQUENCIES = ['weekly', 'fortnightly', 'monthly', 'quarterly'] as const;

const RestructureIn = z.strictObject({
  loan: uuid.meta({ description: 'The loan to restructure (an open EMI loan)' }),
  from_date: businessDateInput.optional().meta({ description: 'Reschedule from this date (default today, IST); not after today, not before disbursement' }),
  emi_count: z.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(600, 'must be at most 600')
    .meta({ description: 'New tenure: the number of new installments' }),
  rate: paramsFields.flat_roi_value.unwrap().refine((rate) => Number(rate) <= 100, 'must be a rate from 0 to 100').optional()
    .meta({ description: "New annual rate in percent (default: the loan's current rate)" }),
  emi_frequency: z.enum(FREQUENCIES).optional().meta({ description: "Default: the loan's current frequency" }),
  overdue_treatment: z.enum(OVERDUE_TREATMENTS).meta({
    description: 'Interest and charges owed by from_date: capitalise (NI, OI, FEE into principal; PI to a separate demand), separate_demand (one demand due on from_date), first_emi (added to the first new installment). PI is never capitalised.',
  }),
  remarks: z.string().trim().max(500, 'must be at most 500 characters').optional(),
});

const TermsOut = z.object({ rate: z.number(), emi_count: z.number().int(), emi_frequency: z.string(), maturity_date: businessDateOutput.nullable() });
const ArrearsOut = z.object({ NI: rupeesOutput, OI: rupeesOutput, PI: rupeesOutput, FEE: rupeesOutput, total: rupeesOutput });

const RestructureOut = z.object({
  id: z.string(), created_at: epochSeconds, loan: z.string(), account: z.string(), from_date: businessDateOutput,
  from_schedule_version: z.number().int(), to_schedule_version: z.number().int(), overdue_treatment: z.enum(OVERDUE_TREATMENTS),
  old_terms: TermsOut, new_terms: TermsOut,
  outstanding_principal: rupeesOutput.meta({ description: 'Principal outstanding on the old schedule, rescheduled whole' }),
  capitalised_amount: rupeesOutput, new_principal: rupeesOutput,
  arrears: ArrearsOut.meta({ description: 'What was owed by from_date and moved (NI includes accrued_interest)' }),
  accrued_interest: rupeesOutput.meta({ description: 'Interest of the running period up to the day before from_date' }),
  dropped_interest: rupeesOutput.meta({ description: 'Old scheduled interest not yet accrued, replaced by the new schedule' }),
  separate_demand: z.string().nullable(), cancelled_demands: z.array(z.string()), trimmed_demands: z.array(z.string()),
  remarks: z.string().nullable(), created_by: z.string().nullable(), company: z.string(),
}).meta({ id: 'Restructure' });

function restructureToWire(r: Restructure): z.infer<typeof RestructureOut> {
  const changes = r.demandChanges as { cancelled: string[]; trimmed: { id: string }[] };
  const total = r.niPaise + r.oiPaise + r.piPaise + r.feePaise;
  return {
    id: r.id, created_at: toWireTime(r.createdAt), loan: r.loanId, account: r.accountId, from_date: dateColumnToWire(r.fromDate)!,
    from_schedule_version: r.fromScheduleVersion, to_schedule_version: r.toScheduleVersion,
    overdue_treatment: r.overdueTreatment as z.infer<typeof RestructureOut>['overdue_treatment'],
    old_terms: { rate: Number(r.oldRate.toString()), emi_count: r.oldEmiCount, emi_frequency: r.oldEmiFrequency, maturity_date: dateColumnToWire(r.oldMaturityDate) },
    new_terms: { rate: Number(r.newRate.toString()), emi_count: r.newEmiCount, emi_frequency: r.newEmiFrequency, maturity_date: dateColumnToWire(r.newMaturityDate) },
    outstanding_principal: toWireRupees(r.principalPaise), capitalised_amount: toWireRupees(r.capitalisedPaise),
    new_principal: toWireRupees(r.principalPaise + r.capitalisedPaise),
    arrears: { NI: toWireRupees(r.niPaise), OI: toWireRupees(r.oiPaise), PI: toWireRupees(r.piPaise), FEE: toWireRupees(r.feePaise), total: toWireRupees(total) },
    accrued_interest: toWireRupees(r.accruedInterestPaise), dropped_interest: toWireRupees(r.droppedInterestPaise),
    separate_demand: r.separateDemandId, cancelled_demands: changes.cancelled, trimmed_demands: changes.trimmed.map((t) => t.id),
    remarks: r.remarks, created_by: r.createdBy, company: r.companyId,
  };
}

const CalculateIn = z.strictObject({
  type: z.enum(['emi', 'flat', 'bullet']).default('emi').meta({ description: 'emi: reducing balance; flat: flat rate on the original principal; bullet: one repayment at maturity' }),
  amount: rupeesInput(),
  rate: paramsFields.flat_roi_value.unwrap().optional().meta({ description: 'Annual rate in percent' }),
  roi_value: paramsFields.roi_value.optional().meta({ description: 'Bullet loans: marginal rate slabs by interest day' }),
  tenure: z.number().int().min(1, 'must be at least 1').max(3650, 'must be at most 3650').meta({ description: 'Installments (emi, flat) or interest days (bullet)' }),
  frequency: z.enum(['weekly', 'fortnightly', 'monthly', 'quarterly']).default('monthly'),
  day_count: z.enum(['actual/365', 'actual/360', '30/360', 'actual/actual']).default('actual/365'),
  disbursement_date: businessDateInput.optional(),
  first_due_date: businessDateInput.optional(),
  interest_starts: z.enum(['same_day', 'next_day']).default('same_day'),
});

const Row = z.object({
  installment_number: z.number().int(), due_date: businessDateOutput, opening_principal: rupeesOutput, principal: rupeesOutput,
  interest: rupeesOutput, amount: rupeesOutput, closing_principal: rupeesOutput,
});

const CalculateOut = z.object({
  emi: rupeesOutput, total_interest: rupeesOutput, total_payable: rupeesOutput, disbursement_date: businessDateOutput, schedule: z.array(Row),
}).meta({ id: 'EmiCalculation' });

export const emiRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/emis/restructure/', {
    schema: {
      tags: ['EMIs'], security: [{ bearer: [] }],
      summary: "Restructure: reschedule a loan's outstanding principal from a date under a new tenure and rate; the old schedule is kept as history",
      body: RestructureIn,
      response: { 201: z.object({ loan: LoanOut, restructure: RestructureOut, demands: z.array(DemandOut) }) },
    },
  }, async (request, reply) => {
    const result = await app.services.restructure.restructure(authOf(request), request.body);
    reply.code(201);
    return { loan: loanToWire(result.loan), restructure: restructureToWire(result.restructure), demands: result.demands.map(demandToWire) };
  });

  app.post('/v1/lms/emis/calculate/', {
    config: { roles: ['admin', 'maker', 'checker', 'viewer'] },
    schema: {
      tags: ['EMIs'], security: [{ bearer: [] }], summary: 'Calculate EMI: the EMI and the full schedule for given terms (stores nothing)',
      body: CalculateIn, response: { 200: CalculateOut },
    },
  }, async (request) => {
    const body = request.body;
    if (body.roi_value) {
      const errors = validateParams({ ...DEFAULT_PARAMS, roi_slab_based: true, roi_value: body.roi_value });
      if (Object.keys(errors).length > 0) throw validationFailed(errors);
    }
    const disbursementDate = body.disbursement_date ?? istDateOf(new Date());
    const schedule = calculate({ ...body, disbursement_date: disbursementDate });
    const total = schedule.installments.reduce((sum, i) => sum + i.principal + i.interest, 0n);
    return {
      emi: toWireRupees(schedule.emi), total_interest: toWireRupees(schedule.totalInterest), total_payable: toWireRupees(total),
      disbursement_date: businessDateToEpoch(disbursementDate),
      schedule: schedule.installments.map((i) => ({
        installment_number: i.number, due_date: businessDateToEpoch(i.dueDate), opening_principal: toWireRupees(i.openingPrincipal),
        principal: toWireRupees(i.principal), interest: toWireRupees(i.interest), amount: toWireRupees(i.principal + i.interest),
        closing_principal: toWireRupees(i.closingPrincipal),
      })),
    };
  });
};
