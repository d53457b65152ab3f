// Repayment schedules (RPS) as pure functions. Amounts are paise; rates are decimal strings.
// Rounding: the EMI rounds once; interest is accumulated at full precision and each period takes
// the difference of rounded cumulative figures, so the schedule's interest sums to the one-step
// figure to the paisa; the last installment takes whatever principal is left, so principal sums
// to the disbursed amount exactly.
import { addDays, addMonths, daysBetween } from './dates.js';
import { add, rateToScaled, RATE_SCALE, simpleInterest, slabInterest, yearFraction, ZERO, type DayCount, type Fraction, type RateSlab } from './interest.js';
import { roundDiv, rupeesToPaise, type RoundingMode } from './money.js';
import type { BusinessDate } from './time.js';

export type Frequency = 'weekly' | 'fortnightly' | 'monthly' | 'quarterly';
export const PERIODS_PER_YEAR: Record<Frequency, bigint> = { weekly: 52n, fortnightly: 26n, monthly: 12n, quarterly: 4n };

export interface Installment {
  number: number;
  periodStart: BusinessDate;
  dueDate: BusinessDate;
  openingPrincipal: bigint;
  principal: bigint;
  interest: bigint;
  closingPrincipal: bigint;
}

export interface Schedule {
  /** The level installment (EMI); for a bullet loan, the single amount due. */
  emi: bigint;
  installments: Installment[];
  totalInterest: bigint;
}

const round = (f: Fraction, mode: RoundingMode) => roundDiv(f.num, f.den, mode);

/** EMI = P·r·(1+r)^n / ((1+r)^n − 1), r the rate per period, computed exactly and rounded once. */
export function emiAmount(principal: bigint, rate: string, count: number, frequency: Frequency, mode: RoundingMode = 'half_up'): bigint {
  if (count < 1) throw new RangeError('count must be at least 1');
  const scaled = rateToScaled(rate);
  if (scaled === 0n) return roundDiv(principal, BigInt(count), mode);
  const base = 100n * PERIODS_PER_YEAR[frequency] * RATE_SCALE; // r = scaled / base
  const grown = (base + scaled) ** BigInt(count);
  const unit = base ** BigInt(count);
  return roundDiv(principal * scaled * grown, base * (grown - unit), mode);
}

/** Due date of installment i (1-based) counted from an anchor date. */
export function dueDateOf(anchor: BusinessDate, i: number, frequency: Frequency, dayOfMonth?: number): BusinessDate {
  switch (frequency) {
    case 'weekly': return addDays(anchor, 7 * i);
    case 'fortnightly': return addDays(anchor, 14 * i);
    case 'monthly': return addMonths(anchor, i, dayOfMonth);
    case 'quarterly': return addMonths(anchor, 3 * i, dayOfMonth);
  }
}

export interface AmortisingTerms {
  principal: bigint;
  rate: string;
  count: number;
  frequency: Frequency;
  disbursementDate: BusinessDate;
  /** Default: one period after disbursement. A later or earlier date makes a broken first period. */
  firstDueDate?: BusinessDate;
  dayCount: DayCount;
  rounding?: RoundingMode;
}

function dueDates(t: { count: number; frequency: Frequency; disbursementDate: BusinessDate; firstDueDate?: BusinessDate }): BusinessDate[] {
  if (!t.firstDueDate) return Array.from({ length: t.count }, (_, i) => dueDateOf(t.disbursementDate, i + 1, t.frequency));
  const first = t.firstDueDate;
  const day = Number(first.slice(8, 10));
  return Array.from({ length: t.count }, (_, i) => (i === 0 ? first : dueDateOf(first, i, t.frequency, day)));
}

/**
 * Reducing-balance EMI schedule. Interest for each period runs on the opening principal for
 * the actual period by the day count, from the disbursement date for the first (broken) period.
 */
export function amortisingSchedule(t: AmortisingTerms): Schedule {
  const mode = t.rounding ?? 'half_up';
  if (t.firstDueDate && t.firstDueDate <= t.disbursementDate) throw new RangeError('first due date must be after disbursement');
  const emi = emiAmount(t.principal, t.rate, t.count, t.frequency, mode);
  const dates = dueDates(t);
  const installments: Installment[] = [];
  let outstanding = t.principal;
  let cumulative: Fraction = ZERO;
  let roundedSoFar = 0n;
  let periodStart = t.disbursementDate;
  dates.forEach((dueDate, index) => {
    cumulative = add(cumulative, simpleInterest(outstanding, t.rate, yearFraction(periodStart, dueDate, t.dayCount)));
    const roundedCumulative = round(cumulative, mode);
    const interest = roundedCumulative - roundedSoFar;
    roundedSoFar = roundedCumulative;
    const last = index === dates.length - 1;
    let principal = last ? outstanding : emi - interest;
    if (principal < 0n) principal = 0n;
    if (principal > outstanding) principal = outstanding;
    installments.push({ number: index + 1, periodStart, dueDate, openingPrincipal: outstanding, principal, interest, closingPrincipal: outstanding - principal });
    outstanding -= principal;
    periodStart = dueDate;
  });
  return { emi, installments, totalInterest: roundedSoFar };
}

export interface FlatTerms {
  principal: bigint;
  flatRate: string;
  count: number;
  frequency: Frequency;
  disbursementDate: BusinessDate;
  firstDueDate?: BusinessDate;
  rounding?: RoundingMode;
}

/**
 * Flat-rate schedule: interest on the original principal for the whole tenure
 * (principal × rate × count / periods-per-year), spread evenly; principal spread evenly.
 */
export function flatSchedule(t: FlatTerms): Schedule {
  const mode = t.rounding ?? 'half_up';
  const total: Fraction = { num: t.principal * rateToScaled(t.flatRate) * BigInt(t.count), den: 100n * RATE_SCALE * PERIODS_PER_YEAR[t.frequency] };
  const totalInterest = round(total, mode);
  const dates = dueDates(t);
  const n = BigInt(t.count);
  let outstanding = t.principal;
  let periodStart = t.disbursementDate;
  const installments = dates.map((dueDate, index) => {
    const i = BigInt(index);
    const principal = roundDiv(t.principal * (i + 1n), n, mode) - roundDiv(t.principal * i, n, mode);
    const interest = roundDiv(totalInterest * (i + 1n), n, mode) - roundDiv(totalInterest * i, n, mode);
    const row = { number: index + 1, periodStart, dueDate, openingPrincipal: outstanding, principal, interest, closingPrincipal: outstanding - principal };
    outstanding -= principal;
    periodStart = dueDate;
    return row;
  });
  return { emi: installments[0]!.principal + installments[0]!.interest, installments, totalInterest };
}

export type InterestStarts = 'same_day' | 'next_day';

/** Interest days from disbursement through `until` (inclusive): same_day counts the disbursement day. */
export function interestDays(disbursementDate: BusinessDate, until: BusinessDate, starts: InterestStarts): number {
  return Math.max(0, daysBetween(disbursementDate, until) + (starts === 'same_day' ? 1 : 0));
}

/** The due date of a bullet loan of `tenureDays` interest days. */
export function bulletDueDate(disbursementDate: BusinessDate, tenureDays: number, starts: InterestStarts): BusinessDate {
  return addDays(disbursementDate, tenureDays - (starts === 'same_day' ? 1 : 0));
}

export interface BulletTerms {
  principal: bigint;
  slabs: readonly RateSlab[];
  tenureDays: number;
  disbursementDate: BusinessDate;
  interestStarts: InterestStarts;
  yearDays: 360n | 365n;
  rounding?: RoundingMode;
}

/** Interest owed on a bullet loan paid off on `until`, at the marginal slab rates, rounded once. */
export function bulletInterestUntil(t: Omit<BulletTerms, 'tenureDays'>, until: BusinessDate): bigint {
  const days = interestDays(t.disbursementDate, until, t.interestStarts);
  return days === 0 ? 0n : round(slabInterest(t.principal, t.slabs, 1, days, t.yearDays), t.rounding ?? 'half_up');
}

/** Bullet (invoice) loan: principal and the interest for the whole tenure due at maturity. */
export function bulletSchedule(t: BulletTerms): Schedule {
  if (t.tenureDays < 1) throw new RangeError('tenure must be at least one day');
  const dueDate = bulletDueDate(t.disbursementDate, t.tenureDays, t.interestStarts);
  const interest = bulletInterestUntil(t, dueDate);
  return {
    emi: t.principal + interest,
    installments: [{ number: 1, periodStart: t.disbursementDate, dueDate, openingPrincipal: t.principal, principal: t.principal, interest, closingPrincipal: 0n }],
    totalInterest: interest,
  };
}

/** Processing fee and the GST on it: two rounding points, fee first. */
export function processingFee(principal: bigint, valueType: 'percentage' | 'fixed', value: string, gstRate: string, mode: RoundingMode = 'half_up'): { fee: bigint; gst: bigint } {
  const fee = valueType === 'fixed' ? rupeesToPaise(value) : roundDiv(principal * rateToScaled(value), 100n * RATE_SCALE, mode);
  const gst = roundDiv(fee * rateToScaled(gstRate), 100n * RATE_SCALE, mode);
  return { fee, gst };
}
