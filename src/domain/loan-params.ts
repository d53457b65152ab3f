// The contract of a credit line (Crego's loan-params object) in its stored form, its defaults,
// and the rules a complete set of params must satisfy. Rates are decimal strings (never floats);
// amounts are paise; slab `days` keep the form the client sent ("15", 15, -1, "inf").
import { MoneyFormatError, rupeesToPaise } from './money.js';

export type SlabDays = number | string;
export interface Slab {
  days: SlabDays;
  value: string;
}

export const COMPONENTS = ['P', 'NI', 'OI', 'PI', 'FEE'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Field name -> the type its stored value has. */
export interface StoredParams {
  type: string;
  days_in_month: number | 'actual';
  days_in_year: number | 'actual';
  tenure_period: 'days' | 'weeks' | 'months' | 'years';
  tenure_value: number;
  tenure_period_type: string;
  tenure_fixed_due_date: boolean;
  tenure_due_days: number[];
  tenure_min_days: number;
  tenure_starts_at: string;
  roi_period: 'years' | 'months' | 'days';
  roi_slab_based: boolean;
  roi_value: Slab[];
  overdue_roi_same_as_roi: boolean;
  overdue_roi_slab_based: boolean;
  overdue_roi_value: Slab[];
  penal_roi_same_as_roi: boolean;
  penal_roi_slab_based: boolean;
  penal_tax: string;
  penal_min_amount: bigint;
  penal_max_amount: bigint;
  penal_roi_value: Slab[];
  penal_roi_value_type: 'percentage' | 'fixed' | null;
  penal_accrual_frequency: 'daily' | 'monthly' | 'one_time';
  penal_lag_days_after_due: number;
  penal_calculation_type: 'exclude_grace_period' | 'include_grace_period';
  interest_starts: 'same_day' | 'next_day';
  interest_lock_in_enabled: boolean;
  interest_lock_in_days: number;
  subvention_is_enabled: boolean;
  subvention_value_type: 'percentage' | 'fixed';
  subvention_value: string;
  subvention_days: number;
  cashback_is_enabled: boolean;
  cashback_use_as: string;
  cashback_payment_to: string;
  cashback_release_at: string;
  cashback_deduction_is_enabled: boolean;
  cashback_deduction_type: 'fixed' | 'percentage';
  cashback_deduction_value: string;
  holdback_is_enabled: boolean;
  holdback_rate: string;
  holdback_return_is_enabled: boolean;
  holdback_return_payment_to: string | null;
  margin_is_enabled: boolean;
  margin_value_type: 'percentage' | 'fixed' | null;
  margin_value: string;
  margin_receive_before_disbursement: boolean;
  pf_is_enabled: boolean;
  pf_value_type: 'percentage' | 'fixed';
  pf_value: string;
  pf_gst: string;
  emi_frequency: 'weekly' | 'fortnightly' | 'monthly' | 'quarterly' | null;
  emi_count: number;
  flat_roi_value: string | null;
  settlement_order: 'due_date_first' | 'component_first';
  component_order: string;
  excess_handling: 'hold' | 'prepay' | null;
  interest_collection: 'rear_ended' | 'upfront';
  pf_collection: 'deduct_from_payout' | 'fee_demand';
}

/** Defaults filled for every field a client leaves out (documented in docs/loan-params.md). */
export const DEFAULT_PARAMS: StoredParams = {
  type: 'loan', days_in_month: 'actual', days_in_year: 365,
  tenure_period: 'days', tenure_value: 0, tenure_period_type: 'as_per_days', tenure_fixed_due_date: false, tenure_due_days: [],
  tenure_min_days: 0, tenure_starts_at: 'disbursement_date',
  roi_period: 'years', roi_slab_based: false, roi_value: [],
  overdue_roi_same_as_roi: true, overdue_roi_slab_based: false, overdue_roi_value: [],
  penal_roi_same_as_roi: false, penal_roi_slab_based: false, penal_tax: '0', penal_min_amount: 0n, penal_max_amount: 0n,
  penal_roi_value: [], penal_roi_value_type: null, penal_accrual_frequency: 'daily', penal_lag_days_after_due: 0,
  penal_calculation_type: 'exclude_grace_period',
  interest_starts: 'same_day', interest_lock_in_enabled: false, interest_lock_in_days: 0,
  subvention_is_enabled: false, subvention_value_type: 'percentage', subvention_value: '0', subvention_days: 0,
  cashback_is_enabled: false, cashback_use_as: 'adjust', cashback_payment_to: 'borrower', cashback_release_at: 'loan_closure',
  cashback_deduction_is_enabled: false, cashback_deduction_type: 'fixed', cashback_deduction_value: '0',
  holdback_is_enabled: false, holdback_rate: '0', holdback_return_is_enabled: false, holdback_return_payment_to: null,
  margin_is_enabled: false, margin_value_type: null, margin_value: '0', margin_receive_before_disbursement: true,
  pf_is_enabled: false, pf_value_type: 'percentage', pf_value: '0', pf_gst: '18',
  emi_frequency: null, emi_count: 0,
  flat_roi_value: null, settlement_order: 'due_date_first', component_order: 'PI-OI-NI-P', excess_handling: null,
  interest_collection: 'rear_ended', pf_collection: 'deduct_from_payout',
};

export type ParamErrors = Record<string, string[]>;

/** An open-ended slab bound: -1 or "inf" (any case). */
export function isOpenEnded(days: SlabDays): boolean {
  return days === -1 || days === '-1' || (typeof days === 'string' && days.trim().toLowerCase() === 'inf');
}

/** The upper day bound of a slab, or null when open-ended; NaN when malformed. */
export function slabBound(days: SlabDays): number | null {
  if (isOpenEnded(days)) return null;
  const text = typeof days === 'number' ? String(days) : days.trim();
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

function checkSlabs(field: string, slabs: Slab[], errors: ParamErrors): void {
  const add = (path: string, message: string) => (errors[path] ??= []).push(message);
  if (slabs.length === 0) return;
  let previous = 0;
  slabs.forEach((slab, i) => {
    const bound = slabBound(slab.days);
    const last = i === slabs.length - 1;
    if (Number.isNaN(bound)) add(`${field}.${i}.days`, 'must be a whole number of days, -1 or "inf"');
    else if (bound === null && !last) add(`${field}.${i}.days`, 'only the last slab may be open-ended');
    else if (bound !== null && last) add(`${field}.${i}.days`, 'the last slab must be open-ended (-1 or "inf")');
    else if (bound !== null && bound <= previous) add(`${field}.${i}.days`, 'slabs must be sorted by days, strictly increasing, above 0');
    if (bound !== null && !Number.isNaN(bound)) previous = bound;
    checkRate(`${field}.${i}.value`, slab.value, errors);
  });
}

/** A fixed amount held in a rate-shaped field is rupees: at most two decimals, within range. */
function checkRupees(field: string, value: string, errors: ParamErrors): void {
  try {
    rupeesToPaise(value);
  } catch (error) {
    if (!(error instanceof MoneyFormatError)) throw error;
    (errors[field] ??= []).push(`as a fixed amount ${error.message}`);
  }
}

function checkRate(field: string, value: string | null, errors: ParamErrors): void {
  if (value === null) return;
  const n = Number(value);
  if (!(n >= 0 && n <= 100)) (errors[field] ??= []).push('must be a rate from 0 to 100');
}

/**
 * Parses a component order such as "PI-OI-NI-P" or "FEE-PI-OI-NI-P". PI, OI, NI and P must each
 * appear once; FEE may appear anywhere and, when absent, sits right after PI.
 */
export function parseComponentOrder(text: string): { order: Component[] } | { error: string } {
  const tokens = text.split('-').map((t) => t.trim().toUpperCase());
  for (const token of tokens) {
    if (!(COMPONENTS as readonly string[]).includes(token)) return { error: `unknown component "${token}"` };
  }
  for (const component of COMPONENTS) {
    const count = tokens.filter((t) => t === component).length;
    if (count > 1) return { error: `component "${component}" appears more than once` };
    if (count === 0 && component !== 'FEE') return { error: `component "${component}" is missing` };
  }
  const order = tokens as Component[];
  if (!order.includes('FEE')) order.splice(order.indexOf('PI') + 1, 0, 'FEE');
  return { order };
}

const TENURE_MAX: Record<StoredParams['tenure_period'], number> = { days: 3650, weeks: 520, months: 360, years: 30 };

/**
 * Fills what follows from other fields: EMIs without a stated frequency are monthly (Crego's
 * short initiate body sends emi_count alone).
 */
export function normalizeParams(p: StoredParams): StoredParams {
  return p.emi_count > 0 && p.emi_frequency === null ? { ...p, emi_frequency: 'monthly' } : p;
}

/** The rules a complete set of params must satisfy; returns errors by field path. */
export function validateParams(p: StoredParams): ParamErrors {
  const errors: ParamErrors = Object.create(null);
  const add = (path: string, message: string) => (errors[path] ??= []).push(message);
  if (p.days_in_year !== 'actual' && p.days_in_year !== 360 && p.days_in_year !== 365) add('days_in_year', 'must be 360, 365 or "actual"');
  if (p.days_in_month !== 'actual' && p.days_in_month !== 30) add('days_in_month', 'must be 30 or "actual"');
  if (p.tenure_value > TENURE_MAX[p.tenure_period]) add('tenure_value', `must be at most ${TENURE_MAX[p.tenure_period]} ${p.tenure_period}`);
  if (p.tenure_period === 'days' && p.tenure_value > 0 && p.tenure_min_days > p.tenure_value) add('tenure_min_days', 'must not exceed tenure_value');
  if (p.tenure_fixed_due_date && p.tenure_due_days.length === 0) add('tenure_due_days', 'must name at least one day when tenure_fixed_due_date is true');
  p.tenure_due_days.forEach((d, i) => { if (d < 1 || d > 31) add(`tenure_due_days.${i}`, 'must be a day of the month, 1 to 31'); });
  if (p.emi_count > 600) add('emi_count', 'must be at most 600');
  checkSlabs('roi_value', p.roi_value, errors);
  checkSlabs('overdue_roi_value', p.overdue_roi_value, errors);
  checkSlabs('penal_roi_value', p.penal_roi_value, errors);
  if (!p.roi_slab_based && p.roi_value.length > 1) add('roi_value', 'must have a single open-ended slab when roi_slab_based is false');
  for (const field of ['penal_tax', 'pf_gst', 'holdback_rate', 'flat_roi_value'] as const) checkRate(field, p[field], errors);
  for (const [field, type] of [['pf_value', p.pf_value_type], ['subvention_value', p.subvention_value_type], ['margin_value', p.margin_value_type], ['cashback_deduction_value', p.cashback_deduction_type]] as const) {
    if (type === 'percentage') checkRate(field, p[field], errors);
    if (type === 'fixed') checkRupees(field, p[field], errors);
  }
  if (p.penal_max_amount > 0n && p.penal_max_amount < p.penal_min_amount) add('penal_max_amount', 'must not be below penal_min_amount (0 means no cap)');
  // EOD accrues penal charges daily; other frequencies are refused until built (domain.md section 6).
  if (p.penal_accrual_frequency !== 'daily') add('penal_accrual_frequency', `"${p.penal_accrual_frequency}" is not supported yet; only "daily"`);
  const order = parseComponentOrder(p.component_order);
  if ('error' in order) add('component_order', order.error);
  return errors;
}

/**
 * Fields implied by what a client sent: a pf_value without pf_is_enabled switches the fee on
 * (Crego's short initiate body sends pf_value alone) or off (pf_value 0).
 */
export function withImpliedFields(fields: Partial<StoredParams>): Partial<StoredParams> {
  if (fields.pf_value !== undefined && fields.pf_is_enabled === undefined) return { ...fields, pf_is_enabled: Number(fields.pf_value) > 0 };
  return fields;
}
