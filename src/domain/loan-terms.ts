// From a loan's params snapshot to what its schedule needs: the kind of loan, the schedule
// itself, the processing fee and the amount paid out. Pure; refuses params that cannot make a
// schedule, naming the field.
import { dayCountOf } from './interest.js';
import { slabBound, type StoredParams } from './loan-params.js';
import { amortisingSchedule, bulletSchedule, flatSchedule, processingFee, type Schedule } from './schedule.js';
import type { BusinessDate } from './time.js';

export type LoanKind = 'emi' | 'flat' | 'bullet';

export class TermsError extends Error {
  override name = 'TermsError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export function loanKindOf(p: StoredParams): LoanKind {
  if (p.emi_count > 0) return p.flat_roi_value !== null ? 'flat' : 'emi';
  return 'bullet';
}

/** The single annual rate of a non-slab loan. */
function singleRate(p: StoredParams): string {
  const open = p.roi_value.at(-1);
  if (!open) throw new TermsError('roi_value', 'the params name no interest rate');
  return open.value;
}

function bulletTenureDays(p: StoredParams): number {
  if (p.tenure_period !== 'days' || p.tenure_value < 1) throw new TermsError('tenure_value', 'a bullet loan needs a tenure in days (tenure_period "days", tenure_value at least 1)');
  return p.tenure_value;
}

export function scheduleFor(p: StoredParams, principal: bigint, disbursementDate: BusinessDate): Schedule {
  const kind = loanKindOf(p);
  const frequency = p.emi_frequency ?? 'monthly';
  if (kind === 'flat') {
    return flatSchedule({ principal, flatRate: p.flat_roi_value!, count: p.emi_count, frequency, disbursementDate });
  }
  if (kind === 'emi') {
    return amortisingSchedule({ principal, rate: singleRate(p), count: p.emi_count, frequency, disbursementDate, dayCount: dayCountOf(p.days_in_year, p.days_in_month) });
  }
  if (p.roi_value.length === 0) throw new TermsError('roi_value', 'the params name no interest rate');
  return bulletSchedule({
    principal, tenureDays: bulletTenureDays(p), disbursementDate, interestStarts: p.interest_starts,
    yearDays: p.days_in_year === 360 ? 360n : 365n,
    slabs: p.roi_value.map((s) => ({ upToDay: slabBound(s.days), rate: s.value })),
  });
}

export interface Disbursal {
  kind: LoanKind;
  fee: bigint;
  feeGst: bigint;
  /** Fee and GST taken out of the payout (pf_collection deduct_from_payout) or 0. */
  feeDeducted: bigint;
  /** Interest deducted at disbursement for upfront bullet loans, else 0. */
  upfrontInterest: bigint;
  netDisbursal: bigint;
}

/** What the borrower receives for `principal` under params `p` if disbursed on `date`. */
export function disbursalFor(p: StoredParams, principal: bigint, date: BusinessDate): Disbursal {
  const kind = loanKindOf(p);
  const schedule = scheduleFor(p, principal, date);
  const { fee, gst } = p.pf_is_enabled ? processingFee(principal, p.pf_value_type, p.pf_value, p.pf_gst) : { fee: 0n, gst: 0n };
  const feeDeducted = p.pf_collection === 'deduct_from_payout' ? fee + gst : 0n;
  const upfrontInterest = kind === 'bullet' && p.interest_collection === 'upfront' ? schedule.totalInterest : 0n;
  const netDisbursal = principal - feeDeducted - upfrontInterest;
  if (netDisbursal <= 0n) throw new TermsError('amount', 'fees and upfront interest would take the whole amount');
  return { kind, fee, feeGst: gst, feeDeducted, upfrontInterest, netDisbursal };
}
