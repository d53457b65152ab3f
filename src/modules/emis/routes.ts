import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { istDateOf, businessDateToEpoch } from '../../domain/time.js';
import { validateParams, DEFAULT_PARAMS } from '../../domain/loan-params.js';
import { validationFailed } from '../../errors.js';
import { businessDateInput, businessDateOutput, rupeesInput, rupeesOutput, toWireRupees } from '../../http/wire.js';
import { paramsFields } from '../loan-params/schemas.js';
import { calculate } from './calculator.js';

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
