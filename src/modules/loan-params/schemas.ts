// Wire forms of the loan-params object. Crego sends numbers as JSON numbers or numeric strings
// ("12", "500000"); both are accepted. Rates become decimal strings, amounts paise.
import { z } from 'zod';
import { MoneyFormatError, rupeesToPaise } from '../../domain/money.js';
import { DEFAULT_PARAMS, type Slab, type StoredParams } from '../../domain/loan-params.js';
import { epochSeconds, rupeesOutput, toWireRupees } from '../../http/wire.js';

const DECIMAL = /^\d+(\.\d{1,6})?$/;

/** A non-negative decimal (rates, percentages) as number or string -> canonical decimal string. */
const decimal = z.union([z.number(), z.string()], { error: 'must be a number' }).transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!DECIMAL.test(text)) {
    ctx.addIssue({ code: 'custom', message: text.startsWith('-') ? 'must not be negative' : 'must be a number with at most 6 decimals' });
    return z.NEVER;
  }
  return text.replace(/^0+(?=\d)/, '').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
});

/** A whole number as number or digit string. */
const whole = (max: number) => z.union([z.number(), z.string()], { error: 'must be a whole number' }).transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^\d+$/.test(text) || Number(text) > max) {
    ctx.addIssue({ code: 'custom', message: `must be a whole number from 0 to ${max}` });
    return z.NEVER;
  }
  return Number(text);
});

/** Rupees as number or numeric string -> paise. */
export const rupeesLoose = z.union([z.number(), z.string()], { error: 'must be an amount in rupees' }).transform((value, ctx) => {
  try {
    return rupeesToPaise(value);
  } catch (error) {
    if (!(error instanceof MoneyFormatError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

const slab = z.strictObject({
  days: z.union([z.number().int('must be a whole number'), z.string()], { error: 'must be a number of days, -1 or "inf"' }),
  value: decimal,
});
const slabs = z.array(slab).max(50, 'at most 50 slabs');

/** Every field of the loan-params object, each optional; cross-field rules run on the merged whole. */
export const paramsFields = {
  type: z.string().trim().min(1).max(40),
  days_in_month: z.union([z.literal(30), z.literal('30').transform(() => 30 as const), z.literal('actual')], { error: 'must be 30 or "actual"' }),
  days_in_year: z.union([z.literal(360), z.literal(365), z.literal('360').transform(() => 360 as const), z.literal('365').transform(() => 365 as const), z.literal('actual')], { error: 'must be 360, 365 or "actual"' }),
  tenure_period: z.enum(['days', 'weeks', 'months', 'years']),
  tenure_value: whole(3650),
  tenure_period_type: z.string().trim().min(1).max(40),
  tenure_fixed_due_date: z.boolean(),
  tenure_due_days: z.array(whole(31)).max(31),
  tenure_min_days: whole(3650),
  tenure_starts_at: z.string().trim().min(1).max(40),
  roi_period: z.enum(['years', 'months', 'days']),
  roi_slab_based: z.boolean(),
  roi_value: slabs,
  overdue_roi_same_as_roi: z.boolean(),
  overdue_roi_slab_based: z.boolean(),
  overdue_roi_value: slabs,
  penal_roi_same_as_roi: z.boolean(),
  penal_roi_slab_based: z.boolean(),
  penal_tax: decimal,
  penal_min_amount: rupeesLoose,
  penal_max_amount: rupeesLoose,
  penal_roi_value: slabs,
  penal_roi_value_type: z.enum(['percentage', 'fixed']).nullable(),
  penal_accrual_frequency: z.enum(['daily', 'monthly', 'one_time']),
  penal_lag_days_after_due: whole(365),
  penal_calculation_type: z.enum(['exclude_grace_period', 'include_grace_period']),
  interest_starts: z.enum(['same_day', 'next_day']),
  interest_lock_in_enabled: z.boolean(),
  interest_lock_in_days: whole(3650),
  subvention_is_enabled: z.boolean(),
  subvention_value_type: z.enum(['percentage', 'fixed']),
  subvention_value: decimal,
  subvention_days: whole(3650),
  cashback_is_enabled: z.boolean(),
  cashback_use_as: z.string().trim().min(1).max(40),
  cashback_payment_to: z.string().trim().min(1).max(40),
  cashback_release_at: z.string().trim().min(1).max(40),
  cashback_deduction_is_enabled: z.boolean(),
  cashback_deduction_type: z.enum(['fixed', 'percentage']),
  cashback_deduction_value: decimal,
  holdback_is_enabled: z.boolean(),
  holdback_rate: decimal,
  holdback_return_is_enabled: z.boolean(),
  holdback_return_payment_to: z.string().trim().min(1).max(40).nullable(),
  margin_is_enabled: z.boolean(),
  margin_value_type: z.enum(['percentage', 'fixed']).nullable(),
  margin_value: decimal,
  margin_receive_before_disbursement: z.boolean(),
  pf_is_enabled: z.boolean(),
  pf_value_type: z.enum(['percentage', 'fixed']),
  pf_value: decimal,
  pf_gst: decimal,
  emi_frequency: z.enum(['weekly', 'fortnightly', 'monthly', 'quarterly']).nullable(),
  emi_count: whole(600),
  flat_roi_value: decimal.nullable(),
  settlement_order: z.enum(['due_date_first', 'component_first']),
  component_order: z.string().trim().min(1).max(40),
  excess_handling: z.enum(['hold', 'prepay']).nullable(),
  interest_collection: z.enum(['rear_ended', 'upfront']),
  pf_collection: z.enum(['deduct_from_payout', 'fee_demand']),
} satisfies { [K in keyof StoredParams]: z.ZodType<unknown> };

const optionalFields = Object.fromEntries(Object.entries(paramsFields).map(([k, v]) => [k, v.optional()])) as {
  [K in keyof typeof paramsFields]: z.ZodOptional<(typeof paramsFields)[K]>;
};

export const ParamsPatch = z.strictObject(optionalFields);
export type ParamsInput = z.infer<typeof ParamsPatch>;

/** The body of Initiate / Update Loan Params: Crego's short form, or the whole object, or both. */
export const InitiateLoanParamsIn = z.strictObject({
  lead_id: z.uuid({ error: 'must be a UUID' }),
  program_id: z.uuid({ error: 'must be a UUID' }),
  line_detail: z.strictObject({ approved_line_amount: rupeesLoose }).optional(),
  loan_data: ParamsPatch.optional(),
  // Read-only fields of the object as GET returns it; accepted so a client can post it back.
  id: z.unknown().optional(),
  created_at: z.unknown().optional(),
  updated_at: z.unknown().optional(),
  version: z.unknown().optional(),
  approved_line_amount: z.unknown().optional(),
  ...optionalFields,
});
export type InitiateLoanParams = z.infer<typeof InitiateLoanParamsIn>;

/** JSON in the database: paise as numbers (exact below 2^53), everything else as stored. */
export function paramsToJson(p: StoredParams): Record<string, unknown> {
  return { ...p, penal_min_amount: Number(p.penal_min_amount), penal_max_amount: Number(p.penal_max_amount) };
}

export function paramsFromJson(json: unknown): StoredParams {
  const raw = { ...DEFAULT_PARAMS, ...(json as Partial<Record<keyof StoredParams, unknown>>) } as Record<string, unknown>;
  return { ...(raw as unknown as StoredParams), penal_min_amount: BigInt(raw.penal_min_amount as number), penal_max_amount: BigInt(raw.penal_max_amount as number) };
}

const rate = z.number();
const slabOut = z.object({ days: z.union([z.number(), z.string()]), value: rate });
const slabsToWire = (s: Slab[]) => s.map((x) => ({ days: x.days, value: Number(x.value) }));

export const LoanParamsOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, lead_id: z.string(), program_id: z.string(), version: z.number().int(),
  approved_line_amount: rupeesOutput.nullable(),
  type: z.string(), days_in_month: z.union([z.number(), z.literal('actual')]), days_in_year: z.union([z.number(), z.literal('actual')]),
  tenure_period: z.string(), tenure_value: z.number(), tenure_period_type: z.string(), tenure_fixed_due_date: z.boolean(),
  tenure_due_days: z.array(z.number()), tenure_min_days: z.number(), tenure_starts_at: z.string(), roi_period: z.string(),
  roi_slab_based: z.boolean(), roi_value: z.array(slabOut), overdue_roi_same_as_roi: z.boolean(), overdue_roi_slab_based: z.boolean(),
  overdue_roi_value: z.array(slabOut), penal_roi_same_as_roi: z.boolean(), penal_roi_slab_based: z.boolean(), penal_tax: rate,
  penal_min_amount: rupeesOutput, penal_max_amount: rupeesOutput, penal_roi_value: z.array(slabOut), penal_roi_value_type: z.string().nullable(),
  penal_accrual_frequency: z.string(), penal_lag_days_after_due: z.number(), penal_calculation_type: z.string(), interest_starts: z.string(),
  interest_lock_in_enabled: z.boolean(), interest_lock_in_days: z.number(), subvention_is_enabled: z.boolean(), subvention_value_type: z.string(),
  subvention_value: rate, subvention_days: z.number(), cashback_is_enabled: z.boolean(), cashback_use_as: z.string(), cashback_payment_to: z.string(),
  cashback_release_at: z.string(), cashback_deduction_is_enabled: z.boolean(), cashback_deduction_type: z.string(), cashback_deduction_value: rate,
  holdback_is_enabled: z.boolean(), holdback_rate: rate, holdback_return_is_enabled: z.boolean(), holdback_return_payment_to: z.string().nullable(),
  margin_is_enabled: z.boolean(), margin_value_type: z.string().nullable(), margin_value: rate, margin_receive_before_disbursement: z.boolean(),
  pf_is_enabled: z.boolean(), pf_value_type: z.string(), pf_value: rate, pf_gst: rate, emi_frequency: z.string().nullable(), emi_count: z.number(),
  flat_roi_value: rate.nullable(), settlement_order: z.string(), component_order: z.string(), excess_handling: z.string().nullable(),
  interest_collection: z.string(), pf_collection: z.string(),
}).meta({ id: 'LoanParams' });

export interface LoanParamsRow {
  id: string; createdAt: Date; updatedAt: Date; leadId: string; programId: string; version: number; lineAmountPaise: bigint | null; params: unknown;
}

export function loanParamsToWire(row: LoanParamsRow): z.infer<typeof LoanParamsOut> {
  const p = paramsFromJson(row.params);
  return {
    id: row.id, created_at: row.createdAt.getTime() / 1000, updated_at: row.updatedAt.getTime() / 1000,
    lead_id: row.leadId, program_id: row.programId, version: row.version,
    approved_line_amount: row.lineAmountPaise === null ? null : toWireRupees(row.lineAmountPaise),
    ...p,
    roi_value: slabsToWire(p.roi_value), overdue_roi_value: slabsToWire(p.overdue_roi_value), penal_roi_value: slabsToWire(p.penal_roi_value),
    penal_tax: Number(p.penal_tax), penal_min_amount: toWireRupees(p.penal_min_amount), penal_max_amount: toWireRupees(p.penal_max_amount),
    subvention_value: Number(p.subvention_value), cashback_deduction_value: Number(p.cashback_deduction_value), holdback_rate: Number(p.holdback_rate),
    margin_value: Number(p.margin_value), pf_value: Number(p.pf_value), pf_gst: Number(p.pf_gst),
    flat_roi_value: p.flat_roi_value === null ? null : Number(p.flat_roi_value),
  };
}
