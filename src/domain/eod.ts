// End of day (domain.md section 6), the pure part: what closing business date D does to one
// account's open loans. No I/O, no clock: the runner (src/modules/eod) loads the state, calls
// closeDay for each date in order, and writes what comes back set-based.
//
// Per loan, in order: 1. due (upcoming demands due on D), 3. overdue (anything unpaid on a demand
// due on or before D), 4. accrual rows for D (NI, OI, PI with its tax), 5. DPD and the loan's own
// asset class, then over the account: borrower-level NPA, loan status, 6. last_eod_date = D.
// Step 2 (held excess applied through the allocation engine) moves money, so the runner does it
// before calling closeDay, with the same engine records use.
//
// Exactness: every OI/PI day is computed at full precision (a numerator over ACCRUAL_DEN, kept on
// the demand as a running total) and the rows are differences of the rounded running total, so
// no paisa drifts however many days accrue. NI rows are differences of the rounded cumulative
// scheduled interest, so an installment's rows sum exactly to its NI due.
import { addDays, daysBetween, isLeapYear, yearOf } from './dates.js';
import { RATE_SCALE, rateToScaled, slabInterest, type RateSlab } from './interest.js';
import { rupeesToPaise, roundDiv } from './money.js';
import { slabBound, type Slab, type StoredParams } from './loan-params.js';
import { loanKindOf } from './loan-terms.js';
import { bulletInterestOnTranches, type PrincipalRepayment, type PrincipalTranche } from './prepay.js';
import { outstandingOf, totalOutstanding, type Amounts, type DemandState } from './replay.js';
import { interestDays } from './schedule.js';
import type { BusinessDate } from './time.js';

export type AssetClass = 'standard' | 'sma_0' | 'sma_1' | 'sma_2' | 'npa';
export type AccrualComponent = 'NI' | 'OI' | 'PI';

/** 360 x 365 x 366: one denominator for every year basis, so running totals of any loan add up exactly. */
const YEAR_LCM = 48_092_400n;
/** A running OI/PI total is a numerator over this: paise x 100 (percent) x RATE_SCALE x YEAR_LCM. */
export const ACCRUAL_DEN = 100n * RATE_SCALE * YEAR_LCM;

/** The EOD-relevant part of a loan's terms, derived once per loan (see eodTermsOf). */
export interface EodTerms {
  kind: 'emi' | 'bullet';
  upfront: boolean;
  interestStarts: 'same_day' | 'next_day';
  daysInYear: 360 | 365 | 'actual';
  /** For bullet NI: the contract slabs and the year base the schedule used. */
  roiSlabs: readonly RateSlab[];
  bulletYearDays: 360n | 365n;
  /** Overdue interest slabs by days past due (one open slab when flat). */
  overdueSlabs: readonly RateSlab[];
  penal: {
    /** Slabs by days past due; a percentage a year, or (fixed) rupees a day as paise text. */
    slabs: readonly RateSlab[];
    fixed: boolean;
    lagDays: number;
    includeGrace: boolean;
    minPaise: bigint;
    maxPaise: bigint;
    taxRate: string;
  };
}

/** One open slab at the contract's rate, or its slabs: "same as roi". */
function slabsOf(slabs: readonly Slab[], slabBased: boolean): RateSlab[] {
  if (slabs.length === 0) return [];
  if (!slabBased) return [{ upToDay: null, rate: slabs.at(-1)!.value }];
  return slabs.map((s) => ({ upToDay: slabBound(s.days), rate: s.value }));
}

/** Refusals of params EOD cannot honour; the HTTP layer turns them into 400s naming the field. */
export class EodTermsError extends Error {
  override name = 'EodTermsError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export function eodTermsOf(p: StoredParams): EodTerms {
  if (p.penal_accrual_frequency !== 'daily') throw new EodTermsError('penal_accrual_frequency', `"${p.penal_accrual_frequency}" is not supported yet; only "daily"`);
  const kind = loanKindOf(p) === 'bullet' ? 'bullet' : 'emi';
  const roi = slabsOf(p.roi_value, p.roi_slab_based);
  const flat = p.flat_roi_value !== null ? [{ upToDay: null, rate: p.flat_roi_value }] : [];
  const contract = roi.length > 0 ? roi : flat;
  const fixed = p.penal_roi_value_type === 'fixed';
  const penalSlabs = p.penal_roi_same_as_roi && !fixed ? contract : slabsOf(p.penal_roi_value, p.penal_roi_slab_based);
  return {
    kind, upfront: p.interest_collection === 'upfront', interestStarts: p.interest_starts, daysInYear: p.days_in_year === 'actual' ? 'actual' : p.days_in_year === 360 ? 360 : 365,
    roiSlabs: roi, bulletYearDays: p.days_in_year === 360 ? 360n : 365n,
    overdueSlabs: p.overdue_roi_same_as_roi ? contract : slabsOf(p.overdue_roi_value, p.overdue_roi_slab_based),
    penal: {
      slabs: fixed ? penalSlabs.map((s) => ({ ...s, rate: String(rupeesToPaise(s.rate)) })) : penalSlabs, fixed,
      lagDays: p.penal_lag_days_after_due, includeGrace: p.penal_calculation_type === 'include_grace_period',
      minPaise: p.penal_min_amount, maxPaise: p.penal_max_amount, taxRate: p.penal_tax,
    },
  };
}

/** The rate of the slab containing day k (1-based); null when no slab covers it. */
export function slabRateAt(slabs: readonly RateSlab[], k: number): string | null {
  for (const slab of slabs) if (slab.upToDay === null || k <= slab.upToDay) return slab.rate;
  return null;
}

/** Days in the year of `date` under the loan's basis (OI and PI divide by it). */
function yearDaysOn(basis: EodTerms['daysInYear'], date: BusinessDate): bigint {
  if (basis === 'actual') return isLeapYear(yearOf(date)) ? 366n : 365n;
  return BigInt(basis);
}

/** One day's interest on `base` paise at an annual `rate` %, as a numerator over ACCRUAL_DEN. */
export function dayInterestNumerator(base: bigint, rate: string, yearDays: bigint): bigint {
  return base * rateToScaled(rate) * (YEAR_LCM / yearDays);
}

export function assetClassOf(dpd: number): AssetClass {
  if (dpd <= 0) return 'standard';
  if (dpd <= 30) return 'sma_0';
  if (dpd <= 60) return 'sma_1';
  if (dpd <= 90) return 'sma_2';
  return 'npa';
}

/** A demand with what EOD keeps on it between days: running exact totals and what rows hold. */
export interface EodDemand extends DemandState {
  status: string;
  dpd: number;
  peakDpd: number;
  /** OI: running exact total (over ACCRUAL_DEN) and the sum of its rows (= round of the total). */
  oiExact: bigint;
  oiAccrued: bigint;
  /** PI: running exact charge, the charge its rows hold (after min/max), and their tax. */
  piExact: bigint;
  piCharged: bigint;
  piTax: bigint;
}

export interface EodLoan {
  id: string;
  accountId: string;
  terms: EodTerms;
  disbursementDate: BusinessDate;
  /** Maturity: no NI accrues after it. */
  maturityDate: BusinessDate | null;
  status: string;
  assetClass: AssetClass;
  dpd: number;
  peakDpd: number;
  lastEodDate: BusinessDate | null;
  upfrontInterest: bigint;
  /** Further tranches paid out (multi-tranche bullet loans). */
  tranches: readonly PrincipalTranche[];
  /** Principal prepaid, by value date (bullet NI follows it). */
  prepaid: readonly PrincipalRepayment[];
}

export interface AccrualRow {
  loanId: string;
  demandId: string;
  date: BusinessDate;
  component: AccrualComponent;
  /** Paise; the charge alone for PI. */
  amount: bigint;
  /** PI: the GST on the charge (part of the PI due). 0 otherwise. */
  tax: bigint;
  inSuspense: boolean;
  /** OI/PI: the demand's running exact total after this day (for replays); null for NI. */
  exactAfter: bigint | null;
}

export interface LoanDay {
  loan: EodLoan;
  demands: EodDemand[];
  rows: AccrualRow[];
}

const OPEN = new Set(['active', 'overdue', 'npa']);
export const isOpenLoan = (status: string): boolean => OPEN.has(status);

/** A demand's status at the end of a closed day D (steps 1 and 3). */
export function statusAtEod(d: DemandState, date: BusinessDate, current: string): string {
  if (current === 'cancelled') return current;
  const outstanding = totalOutstanding(d);
  const settled = (['P', 'NI', 'OI', 'PI', 'FEE'] as const).reduce((s, c) => s + d.paid[c] + d.waived[c], 0n);
  if (outstanding === 0n) {
    const paid = (['P', 'NI', 'OI', 'PI', 'FEE'] as const).reduce((s, c) => s + d.paid[c], 0n);
    return paid > 0n || settled === 0n ? 'paid' : 'waived';
  }
  if (d.dueDate <= date) return 'overdue';
  return settled > 0n ? 'partially_paid' : 'upcoming';
}

/** Cumulative scheduled NI through `date` of an installment (rounded): rows are its differences. */
function niCumulativeThrough(loan: EodLoan, installment: EodDemand, date: BusinessDate): bigint {
  const t = loan.terms;
  if (t.kind === 'bullet') {
    if (date > installment.dueDate) date = installment.dueDate;
    if (t.upfront) {
      // The interest was deducted at disbursement; it is earned day by day, each day weighted by
      // the rate of the slab containing its number (flat rates: evenly), so the rows sum to it.
      const n = interestDays(loan.disbursementDate, installment.dueDate, t.interestStarts);
      const k = Math.min(interestDays(loan.disbursementDate, date, t.interestStarts), n);
      if (n <= 0 || k <= 0) return 0n;
      const whole = slabInterest(1n, t.roiSlabs, 1, n, 1n).num;
      if (whole === 0n) return roundDiv(loan.upfrontInterest * BigInt(k), BigInt(n));
      return roundDiv(loan.upfrontInterest * slabInterest(1n, t.roiSlabs, 1, k, 1n).num, whole);
    }
    if (interestDays(loan.disbursementDate, date, t.interestStarts) === 0) return 0n;
    const tranches: PrincipalTranche[] = [
      { date: loan.disbursementDate, amount: installment.due.P - loan.tranches.reduce((s, x) => s + x.amount, 0n) }, ...loan.tranches,
    ].filter((x) => x.date <= date);
    return bulletInterestOnTranches({ slabs: t.roiSlabs, interestStarts: t.interestStarts, yearDays: t.bulletYearDays }, tranches, loan.prepaid.filter((r) => r.valueDate <= date), date);
  }
  const start = installment.periodStart!;
  const n = daysBetween(start, installment.dueDate);
  if (n <= 0) return 0n;
  // same_day: the period's dates are start..due-1; next_day: start+1..due.
  const k = t.interestStarts === 'same_day' ? daysBetween(start, date) + 1 : daysBetween(start, date);
  const bounded = Math.max(0, Math.min(k, n));
  return roundDiv(installment.due.NI * BigInt(bounded), BigInt(n));
}

/** The EMI installment whose interest period contains `date`, if any. */
function runningInstallment(loan: EodLoan, demands: readonly EodDemand[], date: BusinessDate): EodDemand | null {
  const emis = demands.filter((d) => d.kind === 'emi' && d.status !== 'cancelled');
  if (loan.terms.kind === 'bullet') {
    const maturity = emis.reduce<EodDemand | null>((last, d) => (last === null || d.dueDate > last.dueDate ? d : last), null);
    if (!maturity || date > maturity.dueDate || date < loan.disbursementDate) return null;
    return maturity;
  }
  const sameDay = loan.terms.interestStarts === 'same_day';
  for (const d of emis) {
    if (!d.periodStart) continue;
    const inside = sameDay ? d.periodStart <= date && date < d.dueDate : d.periodStart < date && date <= d.dueDate;
    if (inside) return d;
  }
  return null;
}

/** NI income of day D (step 4): the difference of rounded cumulative scheduled interest. */
function niRow(loan: EodLoan, demands: readonly EodDemand[], date: BusinessDate, inSuspense: boolean): AccrualRow | null {
  if (loan.maturityDate && date > loan.maturityDate) return null;
  const d = runningInstallment(loan, demands, date);
  if (!d) return null;
  const amount = niCumulativeThrough(loan, d, date) - niCumulativeThrough(loan, d, addDays(date, -1));
  if (amount === 0n) return null;
  return { loanId: loan.id, demandId: d.id, date, component: 'NI', amount, tax: 0n, inSuspense, exactAfter: null };
}

/** OI of day k past due on a demand (mutates the working copy `d`). */
function accrueOi(loan: EodLoan, d: EodDemand, date: BusinessDate, k: number, inSuspense: boolean): AccrualRow | null {
  const rate = slabRateAt(loan.terms.overdueSlabs, k);
  const principal = outstandingOf(d, 'P');
  if (rate === null || principal <= 0n) return null;
  const day = dayInterestNumerator(principal, rate, yearDaysOn(loan.terms.daysInYear, date));
  if (day === 0n) return null;
  d.oiExact += day;
  const rounded = roundDiv(d.oiExact, ACCRUAL_DEN);
  const amount = rounded - d.oiAccrued;
  d.oiAccrued = rounded;
  d.due.OI += amount;
  return { loanId: loan.id, demandId: d.id, date, component: 'OI', amount, tax: 0n, inSuspense, exactAfter: d.oiExact };
}

/**
 * PI of day k past due (mutates `d`): on unpaid P + NI, charged once k > lag. With
 * include_grace_period the lag days' own charges (each on its day's balance, at its day's rate)
 * are counted in the running total as they pass and become due on the first charged day.
 * The first charged day is a day past the lag on which P + NI is still unpaid at its end: a demand
 * whose P + NI is all paid by the end of day lag + 1 (records of a day come first) is never
 * charged, so its grace days are dropped and neither they nor penal_min_amount reopen it.
 */
function accruePi(loan: EodLoan, d: EodDemand, date: BusinessDate, k: number, inSuspense: boolean): AccrualRow | null {
  const p = loan.terms.penal;
  const charged = k > p.lagDays;
  if (!charged && !p.includeGrace) return null;
  const base = outstandingOf(d, 'P') + outstandingOf(d, 'NI');
  if (charged && base === 0n && d.piCharged === 0n && d.piTax === 0n) {
    d.piExact = 0n;
    return null;
  }
  const rate = slabRateAt(p.slabs, k);
  if (base > 0n && rate !== null) {
    d.piExact += p.fixed ? BigInt(rate) * ACCRUAL_DEN : dayInterestNumerator(base, rate, yearDaysOn(loan.terms.daysInYear, date));
  }
  if (!charged || d.piExact === 0n) return null;
  let total = roundDiv(d.piExact, ACCRUAL_DEN);
  if (p.minPaise > 0n && total < p.minPaise) total = p.minPaise;
  if (p.maxPaise > 0n && total > p.maxPaise) total = p.maxPaise;
  const amount = total - d.piCharged;
  const taxTotal = roundDiv(total * rateToScaled(p.taxRate), 100n * RATE_SCALE);
  const tax = taxTotal - d.piTax;
  if (amount === 0n && tax === 0n) return null;
  d.piCharged = total;
  d.piTax = taxTotal;
  d.due.PI += amount + tax;
  return { loanId: loan.id, demandId: d.id, date, component: 'PI', amount, tax, inSuspense, exactAfter: d.piExact };
}

const cloneEodDemand = (d: EodDemand): EodDemand => ({ ...d, due: { ...d.due }, paid: { ...d.paid }, waived: { ...d.waived } });

/** Loan DPD at EOD of D: D - oldest due date with anything unpaid + 1, or 0. */
export function dpdOf(demands: readonly DemandState[], date: BusinessDate): number {
  let oldest: BusinessDate | null = null;
  for (const d of demands) {
    if (d.dueDate > date || totalOutstanding(d) === 0n) continue;
    if (oldest === null || d.dueDate < oldest) oldest = d.dueDate;
  }
  return oldest === null ? 0 : daysBetween(oldest, date) + 1;
}

/**
 * Steps 1, 3, 4 and 5 (the loan's own part) for one loan on date D. `demands` hold what was paid
 * by the end of D (records of D come first). `npaYesterday`: the loan was NPA at the end of D-1,
 * so the day's accruals are in suspense. Returns new objects; the input is not mutated.
 */
export function closeLoanDay(loan: EodLoan, demands: readonly EodDemand[], date: BusinessDate): LoanDay {
  const inSuspense = loan.assetClass === 'npa';
  const working = demands.map(cloneEodDemand);
  const rows: AccrualRow[] = [];
  for (const d of working) d.status = statusAtEod(d, date, d.status);
  const ni = niRow(loan, working, date, inSuspense);
  if (ni) rows.push(ni);
  for (const d of working) {
    if (d.status === 'cancelled' || d.dueDate >= date) continue;
    const k = daysBetween(d.dueDate, date);
    if (d.kind === 'emi') {
      const oi = accrueOi(loan, d, date, k, inSuspense);
      if (oi) rows.push(oi);
    }
    const pi = accruePi(loan, d, date, k, inSuspense);
    if (pi) rows.push(pi);
  }
  for (const d of working) {
    d.status = statusAtEod(d, date, d.status);
    d.dpd = d.status === 'overdue' ? daysBetween(d.dueDate, date) + 1 : 0;
    if (d.dpd > d.peakDpd) d.peakDpd = d.dpd;
  }
  const dpd = dpdOf(working.filter((d) => d.status !== 'cancelled'), date);
  return { loan: { ...loan, dpd, peakDpd: Math.max(loan.peakDpd, dpd), lastEodDate: date }, demands: working, rows };
}

/**
 * Borrower-level classification (step 5, over the account): when any loan is NPA (DPD > 90), or
 * the account was NPA yesterday and any arrears remain, every open loan of the account is NPA;
 * otherwise each loan takes the class of its own DPD. Status follows: npa, overdue (DPD > 0), active.
 * `wasNpa`: some loan of the account was NPA at the end of D-1.
 */
export function classifyAccount(loans: readonly EodLoan[], wasNpa: boolean, others: readonly EodLoan[] = []): EodLoan[] {
  // `others`: the account's open loans not closed today (already at D, or not yet disbursed into
  // this day's set): their DPD as it stands still counts for the borrower.
  const anyNpa = loans.some((l) => l.dpd > 90) || others.some((l) => l.dpd > 90);
  const arrears = loans.some((l) => l.dpd > 0) || others.some((l) => l.dpd > 0);
  const npa = anyNpa || (wasNpa && arrears);
  return loans.map((l) => {
    const assetClass: AssetClass = npa ? 'npa' : assetClassOf(l.dpd);
    const status = npa ? 'npa' : l.dpd > 0 ? 'overdue' : 'active';
    return { ...l, assetClass, status };
  });
}

export interface AccountDay {
  loans: LoanDay[];
}

/**
 * Closes date D for an account's open loans (those whose last EOD date is before D and that were
 * disbursed by D). `wasNpa` covers the account's loans at the end of D-1, including any not
 * closed today. The result holds every loan's new state, its demands and its accrual rows.
 */
export function closeAccountDay(
  entries: readonly { loan: EodLoan; demands: readonly EodDemand[] }[], date: BusinessDate, wasNpa: boolean, others: readonly EodLoan[] = [],
): AccountDay {
  const days = entries.map((e) => closeLoanDay(e.loan, e.demands, date));
  const classified = classifyAccount(days.map((d) => d.loan), wasNpa, others);
  return { loans: days.map((d, i) => ({ ...d, loan: classified[i]! })) };
}

export type { Amounts };
