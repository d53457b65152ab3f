// End of day, the pure part (src/domain/eod.ts; domain.md section 6). Every expected figure in the
// tables was worked out by hand (and checked with python3's fractions module), never by running
// the code under test; the derivation sits next to each figure. The properties drive
// closeAccountDay day by day over random loans and payments, the way the EOD runner does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, daysBetween } from '../../src/domain/dates.js';
import {
  assetClassOf, classifyAccount, closeAccountDay, closeLoanDay, dpdOf, EodTermsError, eodTermsOf, slabRateAt, statusAtEod,
  type AccrualRow, type AssetClass, type EodDemand, type EodLoan,
} from '../../src/domain/eod.js';
import { DEFAULT_PARAMS, type Slab, type StoredParams } from '../../src/domain/loan-params.js';
import { scheduleFor } from '../../src/domain/loan-terms.js';
import type { Amounts } from '../../src/domain/replay.js';
import { amortisingSchedule, bulletInterestUntil, bulletSchedule } from '../../src/domain/schedule.js';

// Each property case simulates EOD over a few months of one or two loans (about 50 us a loan-day);
// 150 cases keep the whole file under 10 s on a loaded 2-core machine. FC_NUM_RUNS sizes every
// property at once (capped at 5,000).
const RUNS = Math.max(1, Math.min(Number(process.env.FC_NUM_RUNS ?? 150), 5000));
const SLOW = 120_000;

type Comp = keyof Amounts;
const COMPS: readonly Comp[] = ['P', 'NI', 'OI', 'PI', 'FEE'];
const zero = (): Amounts => ({ P: 0n, NI: 0n, OI: 0n, PI: 0n, FEE: 0n });
const sum = (xs: readonly bigint[]) => xs.reduce((s, x) => s + x, 0n);

// ---------------------------------------------------------------------------------------------
// Builders

function demand(id: string, dueDate: string, due: Partial<Amounts>, extra: Partial<EodDemand> = {}): EodDemand {
  return {
    id, loanId: 'L1', kind: 'emi', installmentNumber: 1, periodStart: null, dueDate, due: { ...zero(), ...due }, paid: zero(), waived: zero(),
    status: 'upcoming', dpd: 0, peakDpd: 0, oiExact: 0n, oiAccrued: 0n, piExact: 0n, piCharged: 0n, piTax: 0n, ...extra,
  };
}

function loanOf(params: StoredParams, disbursementDate: string, extra: Partial<EodLoan> = {}): EodLoan {
  return {
    id: 'L1', accountId: 'A1', terms: eodTermsOf(params), disbursementDate, maturityDate: null, status: 'active', assetClass: 'standard',
    dpd: 0, peakDpd: 0, lastEodDate: null, upfrontInterest: 0n, tranches: [], prepaid: [], ...extra,
  };
}

/** A payment of `amount` on one component (what a record of that day settled), immutably. */
function pay(d: EodDemand, c: Comp, amount: bigint): EodDemand {
  return { ...d, paid: { ...d.paid, [c]: d.paid[c] + amount } };
}
const outstanding = (d: EodDemand, c: Comp): bigint => d.due[c] - d.paid[c] - d.waived[c];
const totalOutstanding = (d: EodDemand): bigint => sum(COMPS.map((c) => outstanding(d, c)));
const payAll = (d: EodDemand): EodDemand => COMPS.reduce((x, c) => pay(x, c, outstanding(x, c)), d);

interface Entry { loan: EodLoan; demands: EodDemand[] }
/** Records of day D, applied before EOD of D closes it: (date, entries) -> entries. */
type Records = (date: string, entries: Entry[]) => Entry[];
interface Day { date: string; entries: Entry[]; rows: AccrualRow[] }

/** Exact text of a value holding bigints, for cheap deep comparison. */
const text = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** A cheap assertion for loops inside properties (expect() per day and demand is slow). */
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** Closes `from`..`to` day by day for one account, as the runner does; `wasNpa` from the previous day's classes. */
function runAccount(start: Entry[], from: string, to: string, records?: Records): { entries: Entry[]; rows: AccrualRow[]; days: Day[] } {
  let entries = start;
  let wasNpa = entries.some((e) => e.loan.assetClass === 'npa');
  const rows: AccrualRow[] = [];
  const days: Day[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) {
    if (records) entries = records(date, entries);
    const day = closeAccountDay(entries, date, wasNpa);
    entries = day.loans.map((l) => ({ loan: l.loan, demands: l.demands }));
    const dayRows = day.loans.flatMap((l) => l.rows);
    rows.push(...dayRows);
    days.push({ date, entries, rows: dayRows });
    wasNpa = entries.some((e) => e.loan.assetClass === 'npa');
  }
  return { entries, rows, days };
}

/** One loan: `payments` maps a date to what that day's records do to its demands. */
function runLoan(loan: EodLoan, demands: EodDemand[], from: string, to: string, payments: Record<string, (ds: EodDemand[]) => EodDemand[]> = {}) {
  return runAccount([{ loan, demands }], from, to, (date, [e]) => (payments[date] ? [{ loan: e!.loan, demands: payments[date]!(e!.demands) }] : [e!]));
}

const on = (id: string, f: (d: EodDemand) => EodDemand) => (ds: EodDemand[]) => ds.map((d) => (d.id === id ? f(d) : d));
const rowsOf = (rows: readonly AccrualRow[], component: string, demandId?: string) =>
  rows.filter((r) => r.component === component && (demandId === undefined || r.demandId === demandId));
const amountsByDate = (rows: readonly AccrualRow[]) => rows.map((r) => [r.date, r.amount]);
const datesFrom = (from: string, count: number) => Array.from({ length: count }, (_, i) => addDays(from, i));

const EMI_PARAMS: StoredParams = {
  ...DEFAULT_PARAMS, emi_count: 1, emi_frequency: 'monthly', roi_value: [{ days: -1, value: '12' }], days_in_year: 365,
};
/** No OI (overdue rate "not same as roi", no slabs) and no PI: isolates one component. */
const QUIET: Partial<StoredParams> = { overdue_roi_same_as_roi: false, overdue_roi_value: [], penal_roi_value: [] };

// ---------------------------------------------------------------------------------------------
// Tables

describe('demand status at EOD (steps 1 and 3)', () => {
  const D = '2024-03-31';
  it.each<[string, string, string, EodDemand]>([
    // Due on D, nothing paid: upcoming -> due -> overdue at the day-end of the due date.
    ['upcoming, due on D, unpaid', 'upcoming', 'overdue', demand('d', D, { P: 1000n, NI: 100n })],
    ['status "due", due on D, unpaid', 'due', 'overdue', demand('d', D, { P: 1000n, NI: 100n })],
    // Due on D and paid in full on D: paid, never overdue.
    ['due on D, paid in full on D', 'due', 'paid', payAll(demand('d', D, { P: 1000n, NI: 100n }))],
    // Not yet due, something paid: partially paid.
    ['due D+1, part paid', 'upcoming', 'partially_paid', pay(demand('d', addDays(D, 1), { P: 1000n, NI: 100n }), 'NI', 100n)],
    ['due D+1, nothing paid', 'upcoming', 'upcoming', demand('d', addDays(D, 1), { P: 1000n, NI: 100n })],
    // Due on D and part paid on D: anything unpaid at the day-end of the due date is overdue.
    ['due on D, part paid', 'partially_paid', 'overdue', pay(demand('d', D, { P: 1000n, NI: 100n }), 'P', 999n)],
    // Past due with a partial payment: stays overdue however much was paid.
    ['due D-10, all but 1 paisa paid', 'overdue', 'overdue', pay(pay(demand('d', addDays(D, -10), { P: 1000n, NI: 100n }), 'NI', 100n), 'P', 999n)],
    ['due D-10, OI alone unpaid', 'overdue', 'overdue', pay(pay(demand('d', addDays(D, -10), { P: 1000n, NI: 100n, OI: 5n }), 'NI', 100n), 'P', 1000n)],
    // Cancelled stays cancelled, however much is unpaid or past due.
    ['cancelled, past due, unpaid', 'cancelled', 'cancelled', demand('d', addDays(D, -10), { P: 1000n })],
    ['waived in full', 'overdue', 'waived', { ...demand('d', addDays(D, -1), { FEE: 500n }), waived: { ...zero(), FEE: 500n } }],
  ])('%s: %s -> %s', (_name, current, expected, d) => {
    expect(statusAtEod(d, D, current)).toBe(expected);
  });

  it('through closeLoanDay: upcoming on D-1, overdue with DPD 1 on D; paid on D never shows overdue', () => {
    const loan = loanOf({ ...EMI_PARAMS, ...QUIET }, '2024-02-29');
    const unpaid = runLoan(loan, [demand('a', D, { P: 1000n, NI: 100n })], addDays(D, -1), D);
    expect(unpaid.days.map((x) => [x.date, x.entries[0]!.demands[0]!.status, x.entries[0]!.demands[0]!.dpd])).toEqual([[addDays(D, -1), 'upcoming', 0], [D, 'overdue', 1]]);
    const paid = runLoan(loan, [demand('a', D, { P: 1000n, NI: 100n })], addDays(D, -1), addDays(D, 3), { [D]: on('a', payAll) });
    expect(paid.days.map((x) => x.entries[0]!.demands[0]!.status)).toEqual(['upcoming', 'paid', 'paid', 'paid', 'paid']);
    expect(paid.days.map((x) => x.entries[0]!.loan.dpd)).toEqual([0, 0, 0, 0, 0]);
    expect(paid.days.every((x) => x.entries[0]!.demands[0]!.peakDpd === 0)).toBe(true);
  });

  it('partially paid before the due date stays partially_paid, then turns overdue on the due date', () => {
    const loan = loanOf({ ...EMI_PARAMS, ...QUIET }, '2024-02-29');
    const r = runLoan(loan, [demand('a', D, { P: 1000n, NI: 100n })], addDays(D, -2), D, { [addDays(D, -2)]: on('a', (d) => pay(d, 'NI', 40n)) });
    expect(r.days.map((x) => x.entries[0]!.demands[0]!.status)).toEqual(['partially_paid', 'partially_paid', 'overdue']);
  });
});

describe('NI: rounded cumulative over the schedule\'s days (step 4)', () => {
  // Rs 1,00,000 at 12%, 2 monthly EMIs from 1 Feb 2023, Actual/365.
  //   EMI = P r (1+r)^2 / ((1+r)^2 - 1), r = 1%: 1,00,00,000 x 0.01 x 1.0201 / 0.0201 = 50,75,124.38 -> 50,75,124 paise.
  //   Installment 1, 1 Feb -> 1 Mar = 28 days: 1,00,00,000 x 12% x 28/365 = 92,054.79 -> NI 92,055; P 50,75,124 - 92,055 = 49,83,069.
  //   Installment 2, 1 Mar -> 1 Apr = 31 days: cumulative 92,054.79 + 50,16,931 x 12% x 31/365 (= 51,131.46)
  //   = 1,43,186.26 -> 1,43,186; NI 1,43,186 - 92,055 = 51,131.
  // Day rows are round(NI x k / n) - round(NI x (k-1) / n):
  //   28 days of 92,055: 92,055/28 = 3,287.68. k=1: 3,288. k=2: round(6,575.36) = 6,575 -> 3,287.
  //   k=3: round(9,863.04) = 9,863 -> 3,288. k=28: 92,055 - round(88,767.32) = 3,288.
  //   92,055 = 28 x 3,287 + 19: nineteen rows of 3,288 and nine of 3,287.
  //   31 days of 51,131: 51,131/31 = 1,649.39. k=1: 1,649. k=2: round(3,298.77) = 3,299 -> 1,650.
  //   k=3: round(4,948.16) = 4,948 -> 1,649. k=31: 51,131 - round(49,481.61) = 1,649.
  //   51,131 = 31 x 1,649 + 12: twelve rows of 1,650 and nineteen of 1,649.
  const schedule = amortisingSchedule({ principal: 1_00_00_000n, rate: '12', count: 2, frequency: 'monthly', disbursementDate: '2023-02-01', dayCount: 'actual/365' });

  it('the schedule is the hand-worked one', () => {
    expect(schedule.emi).toBe(50_75_124n);
    expect(schedule.installments.map((i) => [i.periodStart, i.dueDate, i.interest, i.principal])).toEqual([
      ['2023-02-01', '2023-03-01', 92_055n, 49_83_069n],
      ['2023-03-01', '2023-04-01', 51_131n, 50_16_931n],
    ]);
  });

  it.each<['same_day' | 'next_day', string, string]>([
    // same_day: the disbursement day is interest day 1, so a period's dates are start..due-1.
    ['same_day', '2023-02-01', '2023-03-01'],
    // next_day: the day after is day 1, so start+1..due.
    ['next_day', '2023-02-02', '2023-03-02'],
  ])('interest_starts %s: 28 rows from %s, 31 rows from %s, summing to each installment\'s NI', (starts, first1, first2) => {
    const params: StoredParams = { ...EMI_PARAMS, ...QUIET, emi_count: 2, interest_starts: starts };
    const demands = schedule.installments.map((i) => demand(`I${i.number}`, i.dueDate, { P: i.principal, NI: i.interest }, { installmentNumber: i.number, periodStart: i.periodStart }));
    const loan = loanOf(params, '2023-02-01', { maturityDate: '2023-04-01' });
    // Each installment paid in full on its due date (no OI or PI), run well past maturity.
    const r = runLoan(loan, demands, '2023-01-31', '2023-04-10', { '2023-03-01': on('I1', payAll), '2023-04-01': on('I2', payAll) });
    const ni1 = rowsOf(r.rows, 'NI', 'I1');
    const ni2 = rowsOf(r.rows, 'NI', 'I2');
    expect(rowsOf(r.rows, 'NI').length).toBe(28 + 31);
    expect(ni1.map((x) => x.date)).toEqual(datesFrom(first1, 28));
    expect(ni2.map((x) => x.date)).toEqual(datesFrom(first2, 31));
    expect(ni1.slice(0, 3).map((x) => x.amount)).toEqual([3288n, 3287n, 3288n]);
    expect(ni1.at(-1)!.amount).toBe(3288n);
    expect(ni1.filter((x) => x.amount === 3288n).length).toBe(19);
    expect(ni1.filter((x) => x.amount === 3287n).length).toBe(9);
    expect(sum(ni1.map((x) => x.amount))).toBe(92_055n);
    expect(ni2.slice(0, 3).map((x) => x.amount)).toEqual([1649n, 1650n, 1649n]);
    expect(ni2.at(-1)!.amount).toBe(1649n);
    expect(ni2.filter((x) => x.amount === 1650n).length).toBe(12);
    expect(ni2.filter((x) => x.amount === 1649n).length).toBe(19);
    expect(sum(ni2.map((x) => x.amount))).toBe(51_131n);
    // Nothing after maturity, nothing but NI (paid on the due dates), nothing in suspense.
    expect(r.rows.every((x) => x.component === 'NI' && x.date <= '2023-04-01' && !x.inSuspense && x.tax === 0n && x.exactAfter === null)).toBe(true);
  });

  // Crego's worked example (domain.md section 5): Rs 1,00,000 from 1 Jan 2024, 360-day year, slabs
  // days 1-15 at 18%, 16-30 at 24%, beyond at 36%; 20 interest days, same_day: maturity 20 Jan.
  //   Day 1-15: 1,00,00,000 x 18% / 360 = 5,000 paise a day exactly; cumulative 75,000 after day 15.
  //   Day 16-20 at 24%: 6,666.67 a day. Cumulative 81,666.67 -> 81,667 (row 6,667), 88,333.33 -> 88,333
  //   (6,666), 95,000 (6,667), 1,01,666.67 -> 1,01,667 (6,667), 1,08,333.33 -> 1,08,333 (6,666).
  //   Total Rs 1,083.33 = the schedule's interest.
  const CREGO: Slab[] = [{ days: '15', value: '18' }, { days: '30', value: '24' }, { days: -1, value: '36' }];
  const BULLET: StoredParams = { ...DEFAULT_PARAMS, ...QUIET, tenure_value: 20, days_in_year: 360, roi_slab_based: true, roi_value: CREGO };

  it('bullet, rear-ended: day n at the slab containing n; rows sum to the bullet interest; none after maturity', () => {
    const s = bulletSchedule({ principal: 1_00_00_000n, slabs: eodTermsOf(BULLET).roiSlabs, tenureDays: 20, disbursementDate: '2024-01-01', interestStarts: 'same_day', yearDays: 360n });
    expect([s.installments[0]!.dueDate, s.totalInterest]).toEqual(['2024-01-20', 1_08_333n]);
    const loan = loanOf(BULLET, '2024-01-01', { maturityDate: '2024-01-20' });
    const r = runLoan(loan, [demand('M', '2024-01-20', { P: 1_00_00_000n, NI: 1_08_333n }, { periodStart: '2024-01-01' })], '2024-01-01', '2024-01-25', { '2024-01-20': on('M', payAll) });
    const ni = rowsOf(r.rows, 'NI');
    expect(ni.map((x) => x.date)).toEqual(datesFrom('2024-01-01', 20));
    expect(ni.slice(0, 15).every((x) => x.amount === 5000n)).toBe(true);
    expect(ni.slice(15).map((x) => x.amount)).toEqual([6667n, 6666n, 6667n, 6667n, 6666n]);
    expect(sum(ni.map((x) => x.amount))).toBe(1_08_333n);
  });

  it('bullet, upfront with slabs: the deducted interest is earned day by day at the slab weights, not evenly', () => {
    // Upfront interest 1,08,333 (above). Day k's weight is its slab rate: W(k) = 18k for k <= 15,
    // W(20) = 15 x 18 + 5 x 24 = 390. Cumulative = round(1,08,333 x W(k) / 390):
    //   k <= 15: 1,08,333 x 18k / 390 = 4,999.98k, within half a paisa of 5,000k -> rows of 5,000.
    //   k=15: 74,999.77 -> 75,000. k=16 (W 294): 81,666.42 -> 81,666, row 6,666. k=17 (318): 88,333.06
    //   -> 88,333, row 6,667. k=18 (342): 94,999.71 -> 95,000, row 6,667. k=19 (366): 1,01,666.35 ->
    //   1,01,666, row 6,666. k=20: 1,08,333, row 6,667.
    // (Spread evenly it would be 1,08,333 / 20 = 5,416.65 a day: day 1 would be 5,417.)
    const params: StoredParams = { ...BULLET, interest_collection: 'upfront' };
    const loan = loanOf(params, '2024-01-01', { maturityDate: '2024-01-20', upfrontInterest: 1_08_333n });
    const m = pay(demand('M', '2024-01-20', { P: 1_00_00_000n, NI: 1_08_333n }, { periodStart: '2024-01-01' }), 'NI', 1_08_333n);
    const r = runLoan(loan, [m], '2024-01-01', '2024-01-22', { '2024-01-20': on('M', payAll) });
    const ni = rowsOf(r.rows, 'NI');
    expect(ni.map((x) => x.date)).toEqual(datesFrom('2024-01-01', 20));
    expect(ni.slice(0, 15).every((x) => x.amount === 5000n)).toBe(true);
    expect(ni.slice(15).map((x) => x.amount)).toEqual([6666n, 6667n, 6667n, 6666n, 6667n]);
    expect(sum(ni.map((x) => x.amount))).toBe(1_08_333n);
  });
});

describe('OI on overdue principal (step 4)', () => {
  // Unpaid principal Rs 36,500 (36,50,000 paise) on a 365-day year: 1% a year is 100 paise a day.
  const P = 36_50_000n;
  const DUE = '2024-03-31';
  const oiRun = (params: Partial<StoredParams>, days: number, payments: Record<string, (ds: EodDemand[]) => EodDemand[]> = {}) => {
    const loan = loanOf({ ...EMI_PARAMS, penal_roi_value: [], ...params }, '2024-02-29');
    return runLoan(loan, [demand('E', DUE, { P })], DUE, addDays(DUE, days), payments);
  };

  it('slabs by days past due (15, 30, -1): 24% on days 1-15, 30% on 16-30, 36% from 31; rate changes at the boundary', () => {
    // k = days after the due date (k = 1 is 1 Apr). 24%: 2,400 a day; 30%: 3,000; 36%: 3,600.
    // Through k = 31: 15 x 2,400 + 15 x 3,000 + 3,600 = 36,000 + 45,000 + 3,600 = 84,600.
    const r = oiRun({
      overdue_roi_same_as_roi: false, overdue_roi_slab_based: true,
      overdue_roi_value: [{ days: 15, value: '24' }, { days: '30', value: '30' }, { days: -1, value: '36' }],
    }, 31);
    const oi = rowsOf(r.rows, 'OI');
    expect(oi.map((x) => x.date)).toEqual(datesFrom('2024-04-01', 31));
    expect(amountsByDate(oi.filter((x) => ['2024-04-01', '2024-04-15', '2024-04-16', '2024-04-30', '2024-05-01'].includes(x.date)))).toEqual([
      ['2024-04-01', 2400n], ['2024-04-15', 2400n], ['2024-04-16', 3000n], ['2024-04-30', 3000n], ['2024-05-01', 3600n],
    ]);
    expect(sum(oi.map((x) => x.amount))).toBe(84_600n);
    // OI accrued becomes the demand's OI due; no OI on the due date itself.
    expect(r.entries[0]!.demands[0]!.due.OI).toBe(84_600n);
    expect(rowsOf(r.days[0]!.rows, 'OI')).toEqual([]);
  });

  it('flat overdue rate on the principal unpaid at the end of each day; interest and paid OI do not bear OI', () => {
    // 18%: 1,800 a day. On 3 Apr (k=3) half the principal is paid (records of the day come first): 900 a day from k=3.
    // The NI due (Rs 1,000 unpaid) and the OI due already accrued bear no OI.
    const loan = loanOf({ ...EMI_PARAMS, penal_roi_value: [], overdue_roi_same_as_roi: false, overdue_roi_value: [{ days: -1, value: '18' }] }, '2024-02-29');
    const r = runLoan(loan, [demand('E', DUE, { P, NI: 1_00_000n })], DUE, '2024-04-05', { '2024-04-03': on('E', (d) => pay(d, 'P', P / 2n)) });
    expect(amountsByDate(rowsOf(r.rows, 'OI'))).toEqual([['2024-04-01', 1800n], ['2024-04-02', 1800n], ['2024-04-03', 900n], ['2024-04-04', 900n], ['2024-04-05', 900n]]);
  });

  it('overdue_roi_same_as_roi: the contract rate (12% -> 1,200 a day); ignores overdue_roi_value', () => {
    const r = oiRun({ overdue_roi_same_as_roi: true, overdue_roi_value: [{ days: -1, value: '30' }] }, 3);
    expect(amountsByDate(rowsOf(r.rows, 'OI'))).toEqual([['2024-04-01', 1200n], ['2024-04-02', 1200n], ['2024-04-03', 1200n]]);
  });

  it('rounds the running total, not each day: Rs 10,000 at 24% is 657.53 a day -> 658, 657, 658, 657', () => {
    // 10,00,000 x 24% / 365 = 657.534 a day. Cumulative 657.53 -> 658; 1,315.07 -> 1,315 (657);
    // 1,972.60 -> 1,973 (658); 2,630.14 -> 2,630 (657). The row's exactAfter is the running numerator.
    const loan = loanOf({ ...EMI_PARAMS, penal_roi_value: [], overdue_roi_same_as_roi: false, overdue_roi_value: [{ days: -1, value: '24' }] }, '2024-02-29');
    const r = runLoan(loan, [demand('E', DUE, { P: 10_00_000n })], DUE, '2024-04-04');
    const oi = rowsOf(r.rows, 'OI');
    expect(oi.map((x) => x.amount)).toEqual([658n, 657n, 658n, 657n]);
    expect(oi[1]!.exactAfter).toBe(oi[0]!.exactAfter! * 2n);
    expect(r.entries[0]!.demands[0]!.oiAccrued).toBe(2630n);
  });

  it('slabRateAt: cumulative upper bounds', () => {
    const slabs = [{ upToDay: 15, rate: '24' }, { upToDay: 30, rate: '30' }, { upToDay: null, rate: '36' }];
    expect([1, 15, 16, 30, 31, 1000].map((k) => slabRateAt(slabs, k))).toEqual(['24', '24', '30', '30', '36', '36']);
    expect(slabRateAt([], 1)).toBeNull();
  });
});

describe('PI penal charge (step 4)', () => {
  // Unpaid P + NI of Rs 36,500 at 36% a year on a 365-day year: 3,600 paise a day. No OI.
  const DUE = '2024-03-31';
  const PENAL: StoredParams = { ...EMI_PARAMS, overdue_roi_same_as_roi: false, overdue_roi_value: [], penal_roi_value: [{ days: -1, value: '36' }] };
  const piRun = (params: Partial<StoredParams>, days: number, due: Partial<Amounts> = { P: 36_50_000n }, payments: Record<string, (ds: EodDemand[]) => EodDemand[]> = {}) =>
    runLoan(loanOf({ ...PENAL, ...params }, '2024-02-29'), [demand('E', DUE, due)], DUE, addDays(DUE, days), payments);
  const pi = (r: { rows: AccrualRow[] }) => rowsOf(r.rows, 'PI').map((x) => [x.date, x.amount, x.tax]);

  it('exclude_grace_period, lag 3: days 1-3 never charged; 3,600 from day 4', () => {
    expect(pi(piRun({ penal_lag_days_after_due: 3 }, 5))).toEqual([['2024-04-04', 3600n, 0n], ['2024-04-05', 3600n, 0n]]);
  });

  it('include_grace_period, lag 3: day 4 charges 4 days (14,400), then 3,600 a day', () => {
    expect(pi(piRun({ penal_lag_days_after_due: 3, penal_calculation_type: 'include_grace_period' }, 5))).toEqual([['2024-04-04', 14_400n, 0n], ['2024-04-05', 3600n, 0n]]);
  });

  it('include_grace_period: each lag day on its own day\'s unpaid P + NI', () => {
    // Half the principal paid on 2 Apr: day 1 3,600, days 2-4 1,800 each -> day 4 row 3,600 + 3 x 1,800 = 9,000.
    const r = piRun({ penal_lag_days_after_due: 3, penal_calculation_type: 'include_grace_period' }, 5, { P: 36_50_000n }, { '2024-04-02': on('E', (d) => pay(d, 'P', 18_25_000n)) });
    expect(pi(r)).toEqual([['2024-04-04', 9000n, 0n], ['2024-04-05', 1800n, 0n]]);
  });

  it('include_grace_period: a demand paid within the grace is never charged and never reopened', () => {
    // Fails without the fix: the lag days 1-2 used to become due on day 4 (7,200, or the minimum),
    // turning a paid demand back to overdue with DPD 5.
    for (const payOn of ['2024-04-03', '2024-04-04']) { // day 3 (inside the lag) and day 4 (k = lag + 1, records first)
      for (const min of [0n, 50_000n]) {
        const r = piRun({ penal_lag_days_after_due: 3, penal_calculation_type: 'include_grace_period', penal_min_amount: min }, 10, { P: 36_50_000n }, { [payOn]: on('E', payAll) });
        expect(pi(r)).toEqual([]);
        const last = r.entries[0]!;
        expect([last.demands[0]!.status, last.demands[0]!.due.PI, last.loan.dpd, last.loan.status]).toEqual(['paid', 0n, 0, 'active']);
      }
    }
    // Paid on day 5: day 4 was a charged day with P unpaid, so it carries days 1-4.
    const late = piRun({ penal_lag_days_after_due: 3, penal_calculation_type: 'include_grace_period' }, 10, { P: 36_50_000n }, { '2024-04-05': on('E', payAll) });
    expect(pi(late)).toEqual([['2024-04-04', 14_400n, 0n]]);
  });

  it('penal_min_amount Rs 500: the first charged day is raised to 50,000; later days accrue only beyond it', () => {
    // Day k exact total 3,600k: below 50,000 through k = 13 (46,800); k = 14 is 50,400 -> row 400; k = 15 row 3,600.
    const r = pi(piRun({ penal_min_amount: 50_000n }, 15));
    expect(r).toEqual([['2024-04-01', 50_000n, 0n], ['2024-04-14', 400n, 0n], ['2024-04-15', 3600n, 0n]]);
  });

  it('penal_max_amount Rs 100 caps the demand\'s total before tax: 3,600 + 3,600 + 2,800, then nothing', () => {
    const r = piRun({ penal_max_amount: 10_000n, penal_tax: '18' }, 6);
    // Tax on the capped cumulative charge: 648, 1,296, 1,800 (18% of 10,000) -> rows 648, 648, 504.
    expect(pi(r)).toEqual([['2024-04-01', 3600n, 648n], ['2024-04-02', 3600n, 648n], ['2024-04-03', 2800n, 504n]]);
    expect(r.entries[0]!.demands[0]!.due.PI).toBe(11_800n);
  });

  it('penal_tax 18%: the tax row is the rounded cumulative tax on the rounded cumulative charge; PI due includes it', () => {
    // Rs 10,000 at 24%: 657.534 a day. Charge cumulative 658, 1,315, 1,973 (rows 658, 657, 658).
    // Tax cumulative round(658 x 0.18 = 118.44) = 118, round(236.70) = 237, round(355.14) = 355
    // (rows 118, 119, 118). PI due 1,973 + 355 = 2,328.
    const r = piRun({ penal_roi_value: [{ days: -1, value: '24' }], penal_tax: '18' }, 3, { P: 5_00_000n, NI: 5_00_000n });
    expect(pi(r)).toEqual([['2024-04-01', 658n, 118n], ['2024-04-02', 657n, 119n], ['2024-04-03', 658n, 118n]]);
    const d = r.entries[0]!.demands[0]!;
    expect([d.due.PI, d.piCharged, d.piTax]).toEqual([2328n, 1973n, 355n]);
  });

  it('fixed amount (Rs 50 a day) with a 2-day lag: exclude charges 5,000 from day 3; include charges 15,000 on day 3', () => {
    const fixed: Partial<StoredParams> = { penal_roi_value_type: 'fixed', penal_roi_value: [{ days: -1, value: '50' }], penal_lag_days_after_due: 2 };
    expect(pi(piRun(fixed, 4))).toEqual([['2024-04-03', 5000n, 0n], ['2024-04-04', 5000n, 0n]]);
    expect(pi(piRun({ ...fixed, penal_calculation_type: 'include_grace_period' }, 4))).toEqual([['2024-04-03', 15_000n, 0n], ['2024-04-04', 5000n, 0n]]);
    // The amount does not depend on the size of the unpaid balance, only on something being unpaid.
    expect(pi(piRun(fixed, 4, { P: 1n }))).toEqual([['2024-04-03', 5000n, 0n], ['2024-04-04', 5000n, 0n]]);
  });

  it('slabs by days past due: 24% (2,400) through day 15, 36% (3,600) from day 16', () => {
    const r = pi(piRun({ penal_roi_slab_based: true, penal_roi_value: [{ days: 15, value: '24' }, { days: -1, value: '36' }] }, 16));
    expect(r.slice(13)).toEqual([['2024-04-14', 2400n, 0n], ['2024-04-15', 2400n, 0n], ['2024-04-16', 3600n, 0n]]);
  });

  it('base is unpaid P + NI only: unpaid OI, PI and FEE change nothing', () => {
    // P 18,25,000 + NI 18,25,000 = 36,50,000 -> 3,600 a day, with or without OI, PI and FEE dues beside them.
    const plain = pi(piRun({}, 3, { P: 18_25_000n, NI: 18_25_000n }));
    const loaded = pi(piRun({}, 3, { P: 18_25_000n, NI: 18_25_000n, OI: 9_99_999n, PI: 5_00_000n, FEE: 7_00_000n }));
    expect(plain).toEqual([['2024-04-01', 3600n, 0n], ['2024-04-02', 3600n, 0n], ['2024-04-03', 3600n, 0n]]);
    expect(loaded).toEqual(plain);
    // And with OI accruing on the principal (contract rate 12%), PI stays 3,600 a day.
    const withOi = runLoan(loanOf({ ...PENAL, overdue_roi_same_as_roi: true }, '2024-02-29'), [demand('E', DUE, { P: 18_25_000n, NI: 18_25_000n })], DUE, '2024-04-03');
    expect(pi(withOi)).toEqual(plain);
    expect(rowsOf(withOi.rows, 'OI').map((x) => x.amount)).toEqual([600n, 600n, 600n]);
  });

  it('penal_accrual_frequency other than daily is refused, naming the field', () => {
    for (const frequency of ['monthly', 'one_time'] as const) {
      let caught: unknown;
      try {
        eodTermsOf({ ...PENAL, penal_accrual_frequency: frequency });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EodTermsError);
      expect((caught as EodTermsError).field).toBe('penal_accrual_frequency');
      expect((caught as EodTermsError).message).toContain(frequency);
    }
    expect(() => eodTermsOf({ ...PENAL, penal_accrual_frequency: 'daily' })).not.toThrow();
  });
});

describe('DPD and asset class (step 5)', () => {
  it.each<[number, AssetClass]>([
    [0, 'standard'], [1, 'sma_0'], [30, 'sma_0'], [31, 'sma_1'], [60, 'sma_1'], [61, 'sma_2'], [90, 'sma_2'], [91, 'npa'], [400, 'npa'],
  ])('DPD %i -> %s', (dpd, cls) => {
    expect(assetClassOf(dpd)).toBe(cls);
  });

  it('due 31 Mar unpaid: DPD 1 on 31 Mar, 31 (SMA-1) on 30 Apr, 61 (SMA-2) on 30 May, 91 (NPA) on 29 Jun', () => {
    // DPD = D - 31 Mar + 1: 30 Apr is 30 days on (31), 30 May 60 (61), 29 Jun 90 (91).
    const loan = loanOf({ ...EMI_PARAMS, ...QUIET }, '2024-02-29');
    const r = runLoan(loan, [demand('E', '2024-03-31', { P: 1000n })], '2024-03-30', '2024-06-30');
    const at = (date: string) => {
      const e = r.days.find((x) => x.date === date)!.entries[0]!;
      return [e.loan.dpd, e.loan.assetClass, e.loan.status];
    };
    expect(at('2024-03-30')).toEqual([0, 'standard', 'active']);
    expect(at('2024-03-31')).toEqual([1, 'sma_0', 'overdue']);
    expect(at('2024-04-29')).toEqual([30, 'sma_0', 'overdue']);
    expect(at('2024-04-30')).toEqual([31, 'sma_1', 'overdue']);
    expect(at('2024-05-29')).toEqual([60, 'sma_1', 'overdue']);
    expect(at('2024-05-30')).toEqual([61, 'sma_2', 'overdue']);
    expect(at('2024-06-28')).toEqual([90, 'sma_2', 'overdue']);
    expect(at('2024-06-29')).toEqual([91, 'npa', 'npa']);
    expect(at('2024-06-30')).toEqual([92, 'npa', 'npa']);
    expect(r.entries[0]!.demands[0]!.peakDpd).toBe(92);
  });

  it('DPD counts from the oldest unpaid due date; paid and not-yet-due demands do not count', () => {
    const D = '2024-05-10';
    const older = payAll(demand('a', '2024-03-31', { P: 10n }));
    const unpaid = demand('b', '2024-04-30', { P: 10n });
    const future = demand('c', '2024-05-31', { P: 10n });
    expect(dpdOf([older, unpaid, future], D)).toBe(11); // 30 Apr -> 10 May = 10 days, + 1
    expect(dpdOf([older, future], D)).toBe(0);
    expect(dpdOf([payAll(unpaid)], D)).toBe(0);
  });
});

describe('borrower-level NPA (classifyAccount, step 5)', () => {
  const L = (id: string, dpd: number, extra: Partial<EodLoan> = {}) => loanOf({ ...EMI_PARAMS, ...QUIET }, '2024-01-01', { id, dpd, ...extra });
  const view = (loans: EodLoan[]) => loans.map((l) => [l.id, l.dpd, l.assetClass, l.status]);

  it('one NPA loan makes every loan of the account NPA; each keeps its own DPD', () => {
    expect(view(classifyAccount([L('a', 91), L('b', 10), L('c', 0)], false))).toEqual([['a', 91, 'npa', 'npa'], ['b', 10, 'npa', 'npa'], ['c', 0, 'npa', 'npa']]);
  });

  it('without an NPA loan each takes the class of its own DPD', () => {
    expect(view(classifyAccount([L('a', 90), L('b', 31), L('c', 0)], false))).toEqual([['a', 90, 'sma_2', 'overdue'], ['b', 31, 'sma_1', 'overdue'], ['c', 0, 'standard', 'active']]);
  });

  it('NPA yesterday: any arrears left keep all NPA; no arrears anywhere upgrades all', () => {
    expect(view(classifyAccount([L('a', 0), L('b', 5)], true))).toEqual([['a', 0, 'npa', 'npa'], ['b', 5, 'npa', 'npa']]);
    expect(view(classifyAccount([L('a', 0), L('b', 0)], true))).toEqual([['a', 0, 'standard', 'active'], ['b', 0, 'standard', 'active']]);
  });

  it('over days: NPA spreads, a partial payment that leaves arrears upgrades nothing, clearing all arrears upgrades every loan; accruals in suspense from the day after', () => {
    // Loan A: EMIs due 31 Jan and 29 Feb 2024, unpaid. 31 Jan -> 30 Apr is 90 days: DPD 91 (NPA) on 30 Apr.
    // Loan B: one EMI due 25 Apr, unpaid (DPD 6 on 30 Apr), with OI at 12% on Rs 36,500 = 1,200 a day.
    const params = { ...EMI_PARAMS, penal_roi_value: [] };
    const a: Entry = { loan: loanOf({ ...params, ...QUIET }, '2023-12-31', { id: 'A' }), demands: [
      demand('a1', '2024-01-31', { P: 1000n }, { loanId: 'A' }), demand('a2', '2024-02-29', { P: 1000n }, { loanId: 'A', installmentNumber: 2 }),
    ] };
    const b: Entry = { loan: loanOf(params, '2024-03-25', { id: 'B' }), demands: [demand('b1', '2024-04-25', { P: 36_50_000n }, { loanId: 'B' })] };
    const payments: Records = (date, entries) => entries.map((e) => {
      const f = (ids: string[]) => ({ loan: e.loan, demands: e.demands.map((d) => (ids.includes(d.id) ? payAll(d) : d)) });
      if (date === '2024-05-02' && e.loan.id === 'A') return f(['a1']); // A's oldest EMI: A's DPD falls to 64, but A still has arrears
      if (date === '2024-05-04' && e.loan.id === 'A') return f(['a2']); // A clear; B still in arrears
      if (date === '2024-05-06' && e.loan.id === 'B') return f(['b1']); // B clear (P and the OI accrued): no arrears anywhere
      return e;
    });
    const r = runAccount([a, b], '2024-04-29', '2024-05-07', payments);
    const at = (date: string) => r.days.find((x) => x.date === date)!.entries.map((e) => [e.loan.id, e.loan.dpd, e.loan.assetClass, e.loan.status]);
    expect(at('2024-04-29')).toEqual([['A', 90, 'sma_2', 'overdue'], ['B', 5, 'sma_0', 'overdue']]);
    expect(at('2024-04-30')).toEqual([['A', 91, 'npa', 'npa'], ['B', 6, 'npa', 'npa']]);
    // 2 May: a1 paid, A's DPD from 29 Feb: 29 Feb -> 2 May = 63 days, + 1 = 64 (SMA-2 on its own), still NPA.
    expect(at('2024-05-02')).toEqual([['A', 64, 'npa', 'npa'], ['B', 8, 'npa', 'npa']]);
    // 4 May: A has no arrears but B has: both stay NPA (A keeps DPD 0).
    expect(at('2024-05-04')).toEqual([['A', 0, 'npa', 'npa'], ['B', 10, 'npa', 'npa']]);
    // 6 May: nothing past due anywhere: every loan back to standard.
    expect(at('2024-05-06')).toEqual([['A', 0, 'standard', 'active'], ['B', 0, 'standard', 'active']]);
    // Suspense follows the loan's class at the end of the previous day: B's OI of 30 Apr (NPA only
    // from that day's end) is income; 1 May - 6 May in suspense (6 May: NPA at the end of 5 May,
    // and b1 paid that day so no OI); 7 May income again (nothing accrues: all paid).
    const oi = rowsOf(r.rows, 'OI').map((x) => [x.date, x.amount, x.inSuspense]);
    expect(oi).toEqual([
      ['2024-04-29', 1200n, false], ['2024-04-30', 1200n, false], ['2024-05-01', 1200n, true], ['2024-05-02', 1200n, true],
      ['2024-05-03', 1200n, true], ['2024-05-04', 1200n, true], ['2024-05-05', 1200n, true],
    ]);
    // Peak DPD of A stays at its high-water mark.
    expect(r.entries.find((e) => e.loan.id === 'A')!.loan.peakDpd).toBe(92);
  });
});

describe('closeLoanDay does not touch its input', () => {
  it('returns new objects and leaves the demands and loan as they were', () => {
    const loan = loanOf({ ...EMI_PARAMS, penal_roi_value: [{ days: -1, value: '36' }] }, '2024-02-29');
    const demands = [demand('E', '2024-03-31', { P: 36_50_000n })];
    const before = structuredClone({ loan, demands });
    const out = closeLoanDay(loan, demands, '2024-04-05');
    expect({ loan, demands }).toEqual(before);
    expect(out.demands[0]!.due.OI).toBeGreaterThan(0n);
    expect(out.loan.lastEodDate).toBe('2024-04-05');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const rateArb = fc.integer({ min: 0, max: 4000 }).map((n) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`);
const positiveRateArb = fc.integer({ min: 1, max: 4000 }).map((n) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`);

/** 1-3 slabs with strictly increasing bounds, the last open-ended. */
const slabsArb = (maxDay: number, rate = rateArb): fc.Arbitrary<Slab[]> =>
  fc.uniqueArray(fc.integer({ min: 1, max: maxDay }), { maxLength: 2 }).chain((bounds) => {
    const sorted = [...bounds].sort((x, y) => x - y);
    return fc.array(rate, { minLength: sorted.length + 1, maxLength: sorted.length + 1 }).map((rates) => [
      ...sorted.map((b, i) => ({ days: b, value: rates[i]! })), { days: -1, value: rates.at(-1)! },
    ]);
  });

const dateArb = fc.integer({ min: 0, max: 1100 }).map((n) => addDays('2023-01-01', n));

const emiParamsArb: fc.Arbitrary<StoredParams> = fc.record({
  rate: rateArb,
  flat: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: rateArb }),
  count: fc.integer({ min: 1, max: 4 }),
  frequency: fc.constantFrom('monthly' as const, 'weekly' as const, 'fortnightly' as const),
  daysInYear: fc.constantFrom(360, 365, 'actual' as const),
  daysInMonth: fc.constantFrom(30, 'actual' as const),
  starts: fc.constantFrom('same_day' as const, 'next_day' as const),
}).map((x) => ({
  ...DEFAULT_PARAMS, roi_value: [{ days: -1, value: x.rate }], flat_roi_value: x.flat, emi_count: x.count, emi_frequency: x.frequency,
  days_in_year: x.daysInYear, days_in_month: x.daysInMonth, interest_starts: x.starts,
}));

/** Overdue and penal terms on top of an EMI contract. */
const chargesArb = fc.record({
  overdue: fc.oneof(
    fc.constant<Partial<StoredParams>>({ overdue_roi_same_as_roi: true }),
    fc.boolean().chain((slabBased) => (slabBased ? slabsArb(40) : rateArb.map((v): Slab[] => [{ days: -1, value: v }]))
      .map((slabs): Partial<StoredParams> => ({ overdue_roi_same_as_roi: false, overdue_roi_slab_based: slabs.length > 1, overdue_roi_value: slabs }))),
  ),
  penalSlabs: fc.oneof(fc.constant<Slab[]>([]), slabsArb(40), rateArb.map((v): Slab[] => [{ days: -1, value: v }])),
  fixed: fc.boolean(),
  lag: fc.integer({ min: 0, max: 5 }),
  include: fc.boolean(),
  min: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2_00_000n })),
  extraMax: fc.oneof(fc.constant(-1n), fc.bigInt({ min: 0n, max: 5_00_000n })),
  tax: fc.constantFrom('0', '18', '12.5', '28'),
}).map((c): Partial<StoredParams> => ({
  ...c.overdue,
  penal_roi_slab_based: c.penalSlabs.length > 1, penal_roi_value: c.penalSlabs, penal_roi_value_type: c.fixed ? 'fixed' : 'percentage',
  penal_lag_days_after_due: c.lag, penal_calculation_type: c.include ? 'include_grace_period' : 'exclude_grace_period',
  penal_min_amount: c.min, penal_max_amount: c.extraMax < 0n ? 0n : c.min + c.extraMax, penal_tax: c.tax,
}));

/** A loan of an account from its params: demands from the schedule the server would store. */
function emiEntry(id: string, params: StoredParams, principal: bigint, disbursementDate: string): Entry {
  const s = scheduleFor(params, principal, disbursementDate);
  const demands = s.installments.map((i) => demand(`${id}-${i.number}`, i.dueDate, { P: i.principal, NI: i.interest }, { loanId: id, installmentNumber: i.number, periodStart: i.periodStart }));
  return { loan: loanOf(params, disbursementDate, { id, maturityDate: s.installments.at(-1)!.dueDate }), demands };
}

interface Payment { day: number; loan: number; demand: number; component: Comp | 'all'; permille: number }
const paymentArb = (maxDay: number) => fc.record({
  day: fc.integer({ min: 0, max: maxDay }), loan: fc.nat(3), demand: fc.nat(7),
  component: fc.constantFrom<Comp | 'all'>('P', 'NI', 'OI', 'PI', 'FEE', 'all', 'all'), permille: fc.integer({ min: 1, max: 1000 }),
});

/**
 * Applies the payments of `date` (a record settling part of one component, or a whole demand).
 * A payment names a loan and one of its installments by position (fee demands are never targeted,
 * so adding one leaves the payments where they were).
 */
function recordsOf(payments: readonly Payment[], from: string): Records {
  return (date, entries) => {
    const today = payments.filter((p) => addDays(from, p.day) === date);
    if (today.length === 0) return entries;
    return entries.map((e, li) => {
      const emis = e.demands.filter((d) => d.kind === 'emi').map((d) => d.id);
      return {
        loan: e.loan,
        demands: e.demands.map((d) => today.filter((p) => p.loan % entries.length === li && emis[p.demand % emis.length] === d.id).reduce((x, p) => {
          if (p.component === 'all') return payAll(x);
          return pay(x, p.component, (outstanding(x, p.component) * BigInt(p.permille)) / 1000n);
        }, d)),
      };
    });
  };
}

interface Scenario { entries: Entry[]; from: string; to: string; payments: Payment[] }

/** An account of one or two EMI loans with random charges, run from the first disbursement to some days past maturity. */
const scenarioArb = (maxLoans: number): fc.Arbitrary<Scenario> => fc.record({
  loans: fc.array(fc.record({ params: emiParamsArb, charges: chargesArb, principal: fc.bigInt({ min: 100n, max: 10_00_00_000n }), offset: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: maxLoans }),
  start: dateArb,
  extra: fc.integer({ min: 0, max: 60 }),
  payments: fc.array(paymentArb(200), { maxLength: 12 }),
}).map((x) => {
  const entries = x.loans.map((l, i) => emiEntry(`L${i}`, { ...l.params, ...l.charges }, l.principal, addDays(x.start, l.offset)));
  const maturity = entries.map((e) => e.loan.maturityDate!).sort().at(-1)!;
  return { entries, from: x.start, to: addDays(maturity, x.extra), payments: x.payments };
});

describe('properties', () => {
  it('EMI loans: NI rows fall inside their installment\'s days and sum exactly to its scheduled NI', () => {
    fc.assert(fc.property(emiParamsArb, fc.bigInt({ min: 1n, max: 10_00_00_000n }), dateArb, (params, principal, start) => {
      const e = emiEntry('L0', params, principal, start);
      const maturity = e.loan.maturityDate!;
      const r = runAccount([e], addDays(start, -1), addDays(maturity, 2));
      const ni = rowsOf(r.rows, 'NI');
      for (const d of e.demands) {
        const mine = ni.filter((x) => x.demandId === d.id);
        expect(sum(mine.map((x) => x.amount))).toBe(d.due.NI);
        const [first, last] = params.interest_starts === 'same_day' ? [d.periodStart!, addDays(d.dueDate, -1)] : [addDays(d.periodStart!, 1), d.dueDate];
        for (const x of mine) check(x.date >= first && x.date <= last && x.amount > 0n, `${d.id}: NI row ${x.date} ${x.amount} outside ${first}..${last}`);
        expect(new Set(mine.map((x) => x.date)).size).toBe(mine.length);
      }
      expect(ni.every((x) => x.date <= maturity)).toBe(true);
    }), { numRuns: RUNS });
  }, SLOW);

  it('bullet loans: NI rows sum exactly to the bullet interest; rear-ended, every prefix is the interest owed through that day', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10_00_00_000n }), fc.integer({ min: 1, max: 120 }), slabsArb(90, rateArb), fc.constantFrom(360 as const, 365 as const),
      fc.constantFrom('same_day' as const, 'next_day' as const), fc.boolean(), dateArb,
      (principal, tenure, slabs, yearDays, starts, upfront, start) => {
        const params: StoredParams = {
          ...DEFAULT_PARAMS, tenure_value: tenure, days_in_year: yearDays, roi_slab_based: slabs.length > 1, roi_value: slabs, interest_starts: starts,
          interest_collection: upfront ? 'upfront' : 'rear_ended',
        };
        const terms = eodTermsOf(params);
        const s = bulletSchedule({ principal, slabs: terms.roiSlabs, tenureDays: tenure, disbursementDate: start, interestStarts: starts, yearDays: BigInt(yearDays) as 360n | 365n });
        const due = s.installments[0]!.dueDate;
        let m = demand('M', due, { P: principal, NI: s.totalInterest }, { periodStart: start });
        if (upfront) m = pay(m, 'NI', s.totalInterest);
        const loan = loanOf(params, start, { maturityDate: due, upfrontInterest: upfront ? s.totalInterest : 0n });
        const r = runLoan(loan, [m], addDays(start, -1), addDays(due, 2));
        const ni = rowsOf(r.rows, 'NI');
        expect(sum(ni.map((x) => x.amount))).toBe(s.totalInterest);
        const firstDay = starts === 'same_day' ? start : addDays(start, 1);
        expect(ni.every((x) => x.date >= firstDay && x.date <= due && x.amount > 0n)).toBe(true);
        if (!upfront) {
          let running = 0n;
          for (let date = start; date <= due; date = addDays(date, 1)) {
            running += sum(ni.filter((x) => x.date === date).map((x) => x.amount));
            const owed = bulletInterestUntil({ principal, slabs: terms.roiSlabs, disbursementDate: start, interestStarts: starts, yearDays: BigInt(yearDays) as 360n | 365n }, date);
            check(running === owed, `NI rows through ${date} sum to ${running}, owed ${owed}`);
          }
        }
      },
    ), { numRuns: RUNS });
  }, SLOW);

  it('accrual amounts and tax are never negative; tax only on PI; OI/PI only on a day something bears them; dues grow by exactly the rows', () => {
    fc.assert(fc.property(scenarioArb(2), (sc) => {
      const r = runAccount(sc.entries, sc.from, sc.to, recordsOf(sc.payments, sc.from));
      for (const day of r.days) {
        const demands = new Map(day.entries.flatMap((e) => e.demands.map((d) => [d.id, d] as const)));
        for (const x of day.rows) {
          check(x.amount >= 0n && x.tax >= 0n && (x.component === 'PI' || x.tax === 0n), `negative or misplaced: ${text(x)}`);
          // OI needs principal unpaid at the end of the day, PI unpaid P + NI (a demand paid within
          // the penal grace is never charged).
          const d = demands.get(x.demandId)!;
          if (x.component === 'OI') check(outstanding(d, 'P') > 0n, `OI on a paid principal: ${text(x)}`);
          if (x.component === 'PI') check(outstanding(d, 'P') + outstanding(d, 'NI') > 0n, `PI with P + NI paid: ${text(x)}`);
        }
      }
      for (const e of r.entries) {
        for (const d of e.demands) {
          const start = sc.entries.flatMap((s) => s.demands).find((s) => s.id === d.id)!;
          const mine = r.rows.filter((x) => x.demandId === d.id);
          expect(d.due.OI - start.due.OI).toBe(sum(rowsOf(mine, 'OI').map((x) => x.amount)));
          expect(d.due.PI - start.due.PI).toBe(sum(rowsOf(mine, 'PI').map((x) => x.amount + x.tax)));
          expect(d.oiAccrued).toBe(d.due.OI - start.due.OI);
          const max = e.loan.terms.penal.maxPaise;
          if (max > 0n) expect(d.piCharged <= max).toBe(true);
        }
      }
    }), { numRuns: RUNS });
  }, SLOW);

  it('PI never depends on OI, PI or FEE outstanding', () => {
    fc.assert(fc.property(scenarioArb(1), fc.array(fc.record({ OI: fc.bigInt({ min: 0n, max: 10_00_000n }), PI: fc.bigInt({ min: 0n, max: 10_00_000n }), FEE: fc.bigInt({ min: 0n, max: 10_00_000n }) }), { minLength: 8, maxLength: 8 }), (sc, extras) => {
      // The same loan with extra OI, PI and FEE dues on its demands, plus a fee demand of its own.
      const loaded: Entry[] = sc.entries.map((e) => ({
        loan: e.loan,
        demands: [
          ...e.demands.map((d, i) => ({ ...d, due: { ...d.due, OI: extras[i % 8]!.OI, PI: extras[i % 8]!.PI, FEE: extras[i % 8]!.FEE } })),
          demand(`${e.loan.id}-fee`, addDays(sc.from, 5), { FEE: 1_00_000n }, { loanId: e.loan.id, kind: 'fee', installmentNumber: null }),
        ],
      }));
      // Payments on P and NI only (the ones on OI/PI/FEE would differ in amount between the runs, harmlessly).
      const payments = sc.payments.filter((p) => p.component === 'P' || p.component === 'NI');
      const piRows = (entries: Entry[]) => rowsOf(runAccount(entries, sc.from, sc.to, recordsOf(payments, sc.from)).rows, 'PI')
        .map((x) => [x.demandId, x.date, x.amount, x.tax, x.exactAfter]);
      expect(piRows(loaded)).toEqual(piRows(sc.entries));
    }), { numRuns: RUNS });
  }, SLOW);

  it('catching up k days in one fold equals closing them one by one, and the same input gives the same output', () => {
    fc.assert(fc.property(scenarioArb(2), fc.nat(), (sc, cut) => {
      const records = recordsOf(sc.payments, sc.from);
      // One by one: each day's state stored and loaded again (a deep copy) before the next.
      let stored = structuredClone(sc.entries);
      const daily: AccrualRow[][] = [];
      for (let date = sc.from; date <= sc.to; date = addDays(date, 1)) {
        const loaded = records(date, stored);
        const wasNpa = loaded.some((e) => e.loan.assetClass === 'npa');
        const day = closeAccountDay(loaded, date, wasNpa);
        daily.push(day.loans.flatMap((l) => l.rows));
        stored = structuredClone(day.loans.map((l) => ({ loan: l.loan, demands: l.demands })));
      }
      // Behind by k days from some point: one fold over all of them on the same objects.
      const days = daysBetween(sc.from, sc.to) + 1;
      const split = addDays(sc.from, cut % days);
      const head = runAccount(sc.entries, sc.from, addDays(split, -1), records);
      const before = structuredClone(head.entries);
      const caught = runAccount(head.entries, split, sc.to, records);
      // (Compared as text: expect().toEqual on thousands of rows per case is the slow part.)
      check(text(head.entries) === text(before), 'the fold changed its input');
      check(text([...head.rows, ...caught.rows]) === text(daily.flat()), 'catching up wrote other rows than closing day by day');
      check(text(caught.entries) === text(stored), 'catching up left another state than closing day by day');
      // Determinism: the same day from the same state, twice.
      const wasNpa = before.some((e) => e.loan.assetClass === 'npa');
      check(text(closeAccountDay(before, split, wasNpa)) === text(closeAccountDay(structuredClone(before), split, wasNpa)), 'not deterministic');
    }), { numRuns: Math.ceil(RUNS / 2) }); // three simulations per case
  }, SLOW);

  it('peak DPD never falls; a paid demand stays paid; DPD is 0 exactly when nothing past due is unpaid, else counts from the oldest unpaid due date', () => {
    fc.assert(fc.property(scenarioArb(2), (sc) => {
      const r = runAccount(sc.entries, sc.from, sc.to, recordsOf(sc.payments, sc.from));
      const peaks = new Map<string, number>();
      const paid = new Set<string>();
      for (const day of r.days) {
        for (const e of day.entries) {
          const where = `${e.loan.id} on ${day.date}`;
          const live = e.demands.filter((d) => d.status !== 'cancelled');
          const pastDue = live.filter((d) => d.dueDate <= day.date && totalOutstanding(d) > 0n);
          check((e.loan.dpd === 0) === (pastDue.length === 0), `${where}: DPD ${e.loan.dpd} with ${pastDue.length} past-due demands unpaid`);
          if (pastDue.length > 0) {
            const oldest = pastDue.map((d) => d.dueDate).sort()[0]!;
            check(e.loan.dpd === daysBetween(oldest, day.date) + 1, `${where}: DPD ${e.loan.dpd}, oldest unpaid due ${oldest}`);
          }
          check(e.loan.peakDpd >= e.loan.dpd && e.loan.peakDpd >= (peaks.get(e.loan.id) ?? 0), `${where}: peak DPD fell`);
          peaks.set(e.loan.id, e.loan.peakDpd);
          for (const d of e.demands) {
            // Without reversals, EOD never reopens a demand that was paid.
            check(!paid.has(d.id) || d.status === 'paid', `${d.id} on ${day.date}: a paid demand reopened as ${d.status}`);
            if (d.status === 'paid') paid.add(d.id);
            check(d.peakDpd >= (peaks.get(d.id) ?? 0) && d.peakDpd >= d.dpd, `${d.id} on ${day.date}: demand peak DPD fell`);
            peaks.set(d.id, d.peakDpd);
            check((d.dpd > 0) === (d.status === 'overdue'), `${d.id} on ${day.date}: DPD ${d.dpd} with status ${d.status}`);
          }
          // Loan status and class follow DPD (borrower-level NPA aside).
          if (e.loan.assetClass !== 'npa') {
            check(e.loan.assetClass === assetClassOf(e.loan.dpd) && e.loan.status === (e.loan.dpd > 0 ? 'overdue' : 'active'), `${where}: ${e.loan.assetClass}/${e.loan.status} at DPD ${e.loan.dpd}`);
          }
        }
        const npa = day.entries.map((e) => e.loan.assetClass === 'npa');
        check(npa.every((x) => x === npa[0]), `${day.date}: NPA is borrower-level`);
      }
    }), { numRuns: RUNS });
  }, SLOW);
});
