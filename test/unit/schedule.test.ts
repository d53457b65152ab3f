// Repayment schedules (src/domain/schedule.ts). Every expected figure was computed independently
// with python3's fractions module (EMI formula, cumulative half-up rounding, calendar from Python's
// datetime), never by running the code under test; the comments say how.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addMonths } from '../../src/domain/dates.js';
import type { DayCount, RateSlab } from '../../src/domain/interest.js';
import type { RoundingMode } from '../../src/domain/money.js';
import {
  amortisingSchedule,
  bulletDueDate,
  bulletInterestUntil,
  bulletSchedule,
  dueDateOf,
  emiAmount,
  flatSchedule,
  interestDays,
  processingFee,
  type Frequency,
  type Installment,
  type InterestStarts,
  type Schedule,
} from '../../src/domain/schedule.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);

const LAKH = 10_000_000n; // Rs 1,00,000 in paise

/** Crego's reference slabs: days 1-15 at 18%, 16-30 at 24%, 31 onwards at 36%. */
const CREGO_SLABS: RateSlab[] = [
  { upToDay: 15, rate: '18' },
  { upToDay: 30, rate: '24' },
  { upToDay: null, rate: '36' },
];

type Row = [number, string, string, bigint, bigint, bigint, bigint];
/** [number, periodStart, dueDate, opening, principal, interest, closing] */
const rows = (s: Schedule): Row[] =>
  s.installments.map((r) => [r.number, r.periodStart, r.dueDate, r.openingPrincipal, r.principal, r.interest, r.closingPrincipal]);

// ---------------------------------------------------------------------------------------------
// Independent helpers for the properties: calendar by Date.UTC, fractions by hand in bigint.

const DAY_MS = 86_400_000;
const EPOCH_2000 = Date.UTC(2000, 0, 1);
const isoOfDay = (n: number) => new Date(EPOCH_2000 + n * DAY_MS).toISOString().slice(0, 10);
const parts = (d: string) => d.split('-').map(Number) as [number, number, number];
const utc = (d: string) => {
  const [y, m, dd] = parts(d);
  return Date.UTC(y, m - 1, dd);
};
const actualDays = (a: string, b: string) => Math.round((utc(b) - utc(a)) / DAY_MS);
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Common denominator for every basis: 360*365*366. yearFraction = yfNum / YF_BASE. */
const YF_BASE = 360n * 365n * 366n;
function yfNum(a: string, b: string, basis: DayCount): bigint {
  switch (basis) {
    case 'actual/365': return BigInt(actualDays(a, b)) * (YF_BASE / 365n);
    case 'actual/360': return BigInt(actualDays(a, b)) * (YF_BASE / 360n);
    case '30/360': {
      const [y1, m1, d1] = parts(a);
      const [y2, m2, d2] = parts(b);
      const d = 360 * (y2 - y1) + 30 * (m2 - m1) + (d2 === 31 ? 30 : d2) - (d1 === 31 ? 30 : d1);
      return BigInt(d) * (YF_BASE / 360n);
    }
    case 'actual/actual': {
      let total = 0n;
      let y = parts(a)[0];
      const yb = parts(b)[0];
      for (; y <= yb; y++) {
        const lo = Math.max(utc(a), Date.UTC(y, 0, 1));
        const hi = Math.min(utc(b), Date.UTC(y + 1, 0, 1));
        if (hi > lo) total += BigInt(Math.round((hi - lo) / DAY_MS)) * (YF_BASE / (leap(y) ? 366n : 365n));
      }
      return total;
    }
  }
}

/** num/den (num >= 0, den > 0) rounded by mode, written out independently of money.ts. */
function rounded(num: bigint, den: bigint, mode: RoundingMode): bigint {
  const q = num / den;
  const r = num % den;
  if (r === 0n) return q;
  switch (mode) {
    case 'down': return q;
    case 'up': return q + 1n;
    case 'half_up': return 2n * r >= den ? q + 1n : q;
    case 'half_even': return 2n * r > den || (2n * r === den && q % 2n === 1n) ? q + 1n : q;
  }
}

const PPY: Record<Frequency, bigint> = { weekly: 52n, fortnightly: 26n, monthly: 12n, quarterly: 4n };
const PERIOD_DAYS: Record<Frequency, number> = { weekly: 7, fortnightly: 14, monthly: 31, quarterly: 92 };

/** A rate of `hundredths`/100 percent, spelt in one of the ways a client might ("12", "12.5", "12.50"). */
const rateArb = fc.integer({ min: 0, max: 3600 }).chain((h) =>
  fc.constantFrom(
    h % 100 === 0 ? String(h / 100) : (h / 100).toFixed(2).replace(/0$/, ''),
    (h / 100).toFixed(2),
  ).map((text) => ({ hundredths: h, text })),
);
const frequencyArb = fc.constantFrom<Frequency>('weekly', 'fortnightly', 'monthly', 'quarterly');
const dayCountArb = fc.constantFrom<DayCount>('actual/365', 'actual/360', '30/360', 'actual/actual');
const modeArb = fc.constantFrom<RoundingMode>('half_up', 'half_even', 'down', 'up');
/** Dates 2000-01-01 .. 2040-12-31. */
const dateArb = fc.integer({ min: 0, max: actualDays('2000-01-01', '2040-12-31') }).map(isoOfDay);

/**
 * Structural checks shared by the properties. Plain comparisons per row (one expect at the end)
 * keep 1000 runs of 360-row schedules fast.
 */
function checkChain(s: Schedule, principal: bigint, count: number) {
  const r = s.installments;
  const problems: string[] = [];
  if (r.length !== count) problems.push(`${r.length} rows, want ${count}`);
  if (r[0]?.openingPrincipal !== principal) problems.push('first opening is not the principal');
  let principalSum = 0n;
  let interestSum = 0n;
  r.forEach((row: Installment, i) => {
    const where = `row ${i + 1}`;
    if (row.number !== i + 1) problems.push(`${where}: number ${row.number}`);
    if (row.principal < 0n) problems.push(`${where}: principal ${row.principal} < 0`);
    if (row.interest < 0n) problems.push(`${where}: interest ${row.interest} < 0`);
    if (row.openingPrincipal < 0n || row.closingPrincipal < 0n) problems.push(`${where}: negative balance`);
    if (row.closingPrincipal !== row.openingPrincipal - row.principal) problems.push(`${where}: closing != opening - principal`);
    if (i > 0 && row.openingPrincipal !== r[i - 1]!.closingPrincipal) problems.push(`${where}: opening != previous closing`);
    if (i > 0 && row.periodStart !== r[i - 1]!.dueDate) problems.push(`${where}: period start != previous due date`);
    if (!(row.dueDate > row.periodStart)) problems.push(`${where}: due ${row.dueDate} not after ${row.periodStart}`);
    principalSum += row.principal;
    interestSum += row.interest;
  });
  if (r[r.length - 1]?.closingPrincipal !== 0n) problems.push('last closing is not 0');
  if (principalSum !== principal) problems.push(`principal sums to ${principalSum}, want ${principal}`);
  if (interestSum !== s.totalInterest) problems.push(`interest sums to ${interestSum}, totalInterest ${s.totalInterest}`);
  expect(problems).toEqual([]);
  return { principalSum, interestSum };
}

// ---------------------------------------------------------------------------------------------

describe('emiAmount', () => {
  // EMI = P r (1+r)^n / ((1+r)^n - 1), evaluated with python Fractions and rounded half-up.
  it.each<[bigint, string, number, Frequency, bigint]>([
    // r = 8.5/1200; exact 867823.2333... -> 867823 (Rs 8,678.23)
    [100_000_000n, '8.5', 240, 'monthly', 867_823n],
    // r = 1%; exact 888487.8867... -> 888488 (Rs 8,884.88)
    [LAKH, '12', 12, 'monthly', 888_488n],
    // 0%: P/n = 10_000_000/12 = 833333.33 -> 833333
    [LAKH, '0', 12, 'monthly', 833_333n],
    // 0%: 100_000_000/7 = 14285714.28 -> 14285714
    [100_000_000n, '0', 7, 'monthly', 14_285_714n],
    // 0%: 200/400 = 0.5 -> 1 (half up)
    [200n, '0', 400, 'monthly', 1n],
    // weekly, r = 10/5200, n = 52: exact 202268.0048 -> 202268
    [LAKH, '10', 52, 'weekly', 202_268n],
    // fortnightly, r = 13/2600, n = 26: exact 411116.2894 -> 411116
    [LAKH, '13', 26, 'fortnightly', 411_116n],
    // quarterly, r = 9.75/400, n = 20, P = Rs 5,00,000: exact 3188451.2784 -> 3188451
    [50_000_000n, '9.75', 20, 'quarterly', 3_188_451n],
    // a single period repays P(1+r): 10_000_000 * 1.01 = 10_100_000
    [LAKH, '12', 1, 'monthly', 10_100_000n],
  ])('%s paise at %s%% x %i %s -> %s', (p, rate, n, freq, emi) => {
    expect(emiAmount(p, rate, n, freq)).toBe(emi);
  });

  it('rounds by the chosen mode', () => {
    // 867823.2333...: down 867823, up 867824, half_even 867823
    expect(emiAmount(100_000_000n, '8.5', 240, 'monthly', 'down')).toBe(867_823n);
    expect(emiAmount(100_000_000n, '8.5', 240, 'monthly', 'up')).toBe(867_824n);
    expect(emiAmount(100_000_000n, '8.5', 240, 'monthly', 'half_even')).toBe(867_823n);
    // 0%: 5/2 = 2.5 -> half_up 3, half_even 2
    expect(emiAmount(5n, '0', 2, 'monthly', 'half_up')).toBe(3n);
    expect(emiAmount(5n, '0', 2, 'monthly', 'half_even')).toBe(2n);
  });

  it('refuses a count below 1', () => {
    expect(() => emiAmount(LAKH, '12', 0, 'monthly')).toThrow(RangeError);
  });

  it('is the annuity payment to within half a paisa (property)', () => {
    // E((1+r)^n - 1) = P r (1+r)^n with r = h / (100 * 100 * ppy); check |emi - E| <= 1/2 as
    // |emi*((1+r)^n - 1) - P r (1+r)^n| <= ((1+r)^n - 1)/2, all scaled by B^n to stay integral.
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 12n), rateArb, fc.integer({ min: 1, max: 360 }), frequencyArb, (p, rate, n, freq) => {
        const emi = emiAmount(p, rate.text, n, freq);
        const h = BigInt(rate.hundredths);
        if (h === 0n) {
          expect(emi).toBe(rounded(p, BigInt(n), 'half_up'));
          return;
        }
        const B = 10_000n * PPY[freq]; // r = h / B
        const g = (B + h) ** BigInt(n); // (1+r)^n * B^n
        const u = B ** BigInt(n);
        // multiply both sides by B (for r) and compare: |emi*(g-u)*B - p*h*g| <= (g-u)*B/2
        const lhs = emi * (g - u) * B - p * h * g;
        const abs = lhs < 0n ? -lhs : lhs;
        expect(2n * abs <= (g - u) * B).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('dates through the schedule', () => {
  it.each<[string, number, string]>([
    ['2024-01-31', 1, '2024-02-29'], // clamps to the leap February's last day
    ['2024-01-31', 2, '2024-03-31'], // each month counted from the anchor, not from the clamped day
    ['2023-01-31', 1, '2023-02-28'],
    ['2024-02-29', 12, '2025-02-28'],
    ['2024-03-31', -1, '2024-02-29'],
    ['2024-03-31', -13, '2023-02-28'],
    ['2024-11-30', 3, '2025-02-28'],
    ['2024-12-15', 1, '2025-01-15'],
  ])('addMonths(%s, %i) = %s', (date, n, expected) => {
    expect(addMonths(date, n)).toBe(expected);
  });

  it.each<[string, number, Frequency, number | undefined, string]>([
    ['2024-01-01', 1, 'weekly', undefined, '2024-01-08'],
    ['2024-12-30', 1, 'weekly', undefined, '2025-01-06'],
    ['2024-01-01', 2, 'fortnightly', undefined, '2024-01-29'],
    ['2024-02-20', 1, 'fortnightly', undefined, '2024-03-05'], // 9 days left in Feb 2024 + 5
    ['2024-01-31', 1, 'monthly', undefined, '2024-02-29'],
    ['2024-01-31', 3, 'monthly', undefined, '2024-04-30'],
    ['2023-11-30', 1, 'quarterly', undefined, '2024-02-29'],
    ['2023-11-30', 2, 'quarterly', undefined, '2024-05-30'],
    ['2024-02-29', 1, 'monthly', 31, '2024-03-31'], // dayOfMonth restores the 31st
    ['2024-02-29', 2, 'monthly', 31, '2024-04-30'],
  ])('dueDateOf(%s, %i, %s, %s) = %s', (anchor, i, freq, dom, expected) => {
    expect(dueDateOf(anchor, i, freq, dom)).toBe(expected);
  });

  it('a schedule disbursed on the 31st keeps month ends', () => {
    const s = amortisingSchedule({ principal: LAKH, rate: '12', count: 4, frequency: 'monthly', disbursementDate: '2024-01-31', dayCount: 'actual/365' });
    expect(s.installments.map((r) => r.dueDate)).toEqual(['2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31']);
  });

  it('a first due date on the 31st sets the day for later installments', () => {
    const s = amortisingSchedule({ principal: LAKH, rate: '12', count: 4, frequency: 'monthly', disbursementDate: '2024-01-10', firstDueDate: '2024-01-31', dayCount: 'actual/365' });
    expect(s.installments.map((r) => r.dueDate)).toEqual(['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30']);
  });
});

describe('amortisingSchedule: hand-checked tables', () => {
  // Each table: python Fractions, EMI as above, interest_k = round(C_k) - round(C_{k-1}) with
  // C_k = sum of opening x rate x yearFraction so far (half up), principal = EMI - interest,
  // the last row takes what is left.

  it('30/360: Rs 1,00,000 at 12%, 12 monthly from 2024-01-01', () => {
    // Every period is 30/360 = 1/12, so the exact interest is opening x 1%; cumulative rounding
    // (e.g. row 2: C = 100000 + 92115.12 = 192115.12 -> 192115, interest 92115).
    const s = amortisingSchedule({ principal: LAKH, rate: '12', count: 12, frequency: 'monthly', disbursementDate: '2024-01-01', dayCount: '30/360' });
    expect(s.emi).toBe(888_488n);
    expect(rows(s)).toEqual<Row[]>([
      [1, '2024-01-01', '2024-02-01', 10_000_000n, 788_488n, 100_000n, 9_211_512n],
      [2, '2024-02-01', '2024-03-01', 9_211_512n, 796_373n, 92_115n, 8_415_139n],
      [3, '2024-03-01', '2024-04-01', 8_415_139n, 804_336n, 84_152n, 7_610_803n],
      [4, '2024-04-01', '2024-05-01', 7_610_803n, 812_380n, 76_108n, 6_798_423n],
      [5, '2024-05-01', '2024-06-01', 6_798_423n, 820_504n, 67_984n, 5_977_919n],
      [6, '2024-06-01', '2024-07-01', 5_977_919n, 828_709n, 59_779n, 5_149_210n],
      [7, '2024-07-01', '2024-08-01', 5_149_210n, 836_996n, 51_492n, 4_312_214n],
      [8, '2024-08-01', '2024-09-01', 4_312_214n, 845_366n, 43_122n, 3_466_848n],
      [9, '2024-09-01', '2024-10-01', 3_466_848n, 853_819n, 34_669n, 2_613_029n],
      [10, '2024-10-01', '2024-11-01', 2_613_029n, 862_358n, 26_130n, 1_750_671n],
      [11, '2024-11-01', '2024-12-01', 1_750_671n, 870_981n, 17_507n, 879_690n],
      [12, '2024-12-01', '2025-01-01', 879_690n, 879_690n, 8_797n, 0n],
    ]);
    // exact one-step total 661854.58 -> 661855
    expect(s.totalInterest).toBe(661_855n);
  });

  it('Actual/365: same loan, first period 31 days', () => {
    // row 1: 100000 x 0.12 x 31/365 = Rs 1,019.178 -> 101918 paise; Feb 2024 has 29 days.
    const s = amortisingSchedule({ principal: LAKH, rate: '12', count: 12, frequency: 'monthly', disbursementDate: '2024-01-01', dayCount: 'actual/365' });
    expect(s.emi).toBe(888_488n);
    expect(rows(s)).toEqual<Row[]>([
      [1, '2024-01-01', '2024-02-01', 10_000_000n, 786_570n, 101_918n, 9_213_430n],
      [2, '2024-02-01', '2024-03-01', 9_213_430n, 800_645n, 87_843n, 8_412_785n],
      [3, '2024-03-01', '2024-04-01', 8_412_785n, 802_747n, 85_741n, 7_610_038n],
      [4, '2024-04-01', '2024-05-01', 7_610_038n, 813_430n, 75_058n, 6_796_608n],
      [5, '2024-05-01', '2024-06-01', 6_796_608n, 819_218n, 69_270n, 5_977_390n],
      [6, '2024-06-01', '2024-07-01', 5_977_390n, 829_533n, 58_955n, 5_147_857n],
      [7, '2024-07-01', '2024-08-01', 5_147_857n, 836_022n, 52_466n, 4_311_835n],
      [8, '2024-08-01', '2024-09-01', 4_311_835n, 844_543n, 43_945n, 3_467_292n],
      [9, '2024-09-01', '2024-10-01', 3_467_292n, 854_290n, 34_198n, 2_613_002n],
      [10, '2024-10-01', '2024-11-01', 2_613_002n, 861_857n, 26_631n, 1_751_145n],
      [11, '2024-11-01', '2024-12-01', 1_751_145n, 871_217n, 17_271n, 879_928n],
      [12, '2024-12-01', '2025-01-01', 879_928n, 879_928n, 8_969n, 0n],
    ]);
    expect(s.totalInterest).toBe(662_265n); // exact 662264.51 -> 662265
  });

  it('broken first period: disbursed 2024-01-15, first due 2024-02-05 (21 days)', () => {
    // row 1: 100000 x 0.12 x 21/365 = Rs 690.41 -> 69041 paise; then the 5th of each month.
    const s = amortisingSchedule({
      principal: LAKH, rate: '12', count: 12, frequency: 'monthly',
      disbursementDate: '2024-01-15', firstDueDate: '2024-02-05', dayCount: 'actual/365',
    });
    expect(s.emi).toBe(888_488n);
    expect(rows(s)).toEqual<Row[]>([
      [1, '2024-01-15', '2024-02-05', 10_000_000n, 819_447n, 69_041n, 9_180_553n],
      [2, '2024-02-05', '2024-03-05', 9_180_553n, 800_958n, 87_530n, 8_379_595n],
      [3, '2024-03-05', '2024-04-05', 8_379_595n, 803_085n, 85_403n, 7_576_510n],
      [4, '2024-04-05', '2024-05-05', 7_576_510n, 813_761n, 74_727n, 6_762_749n],
      [5, '2024-05-05', '2024-06-05', 6_762_749n, 819_564n, 68_924n, 5_943_185n],
      [6, '2024-06-05', '2024-07-05', 5_943_185n, 829_870n, 58_618n, 5_113_315n],
      [7, '2024-07-05', '2024-08-05', 5_113_315n, 836_374n, 52_114n, 4_276_941n],
      [8, '2024-08-05', '2024-09-05', 4_276_941n, 844_898n, 43_590n, 3_432_043n],
      [9, '2024-09-05', '2024-10-05', 3_432_043n, 854_638n, 33_850n, 2_577_405n],
      [10, '2024-10-05', '2024-11-05', 2_577_405n, 862_220n, 26_268n, 1_715_185n],
      [11, '2024-11-05', '2024-12-05', 1_715_185n, 871_571n, 16_917n, 843_614n],
      [12, '2024-12-05', '2025-01-05', 843_614n, 843_614n, 8_598n, 0n],
    ]);
    expect(s.totalInterest).toBe(625_580n); // exact 625580.03 -> 625580
  });

  it('Actual/Actual across the 2023/2024 year end (2024 leap)', () => {
    // EMI for 3 months at 1%: 3400221. Row 1: 1e7 x 0.12 x 30/365 = 98630.14 -> 98630.
    // Row 2: 6698409 x 0.12 x (17/365 + 14/366) = 68184.48; cumulative 166814.62 -> 166815, so
    // the row takes 68185 (a per-row rounding would give 68184).
    const s = amortisingSchedule({ principal: LAKH, rate: '12', count: 3, frequency: 'monthly', disbursementDate: '2023-11-15', dayCount: 'actual/actual' });
    expect(s.emi).toBe(3_400_221n);
    expect(rows(s)).toEqual<Row[]>([
      [1, '2023-11-15', '2023-12-15', 10_000_000n, 3_301_591n, 98_630n, 6_698_409n],
      [2, '2023-12-15', '2024-01-15', 6_698_409n, 3_332_036n, 68_185n, 3_366_373n],
      [3, '2024-01-15', '2024-02-15', 3_366_373n, 3_366_373n, 34_215n, 0n],
    ]);
    expect(s.totalInterest).toBe(201_030n);
  });

  it('Actual/Actual quarterly through the whole of leap 2024', () => {
    // Rs 1,00,000 at 10%, 4 quarters from 2023-10-10; EMI (r = 2.5%) 2658179.
    // Row 1: 1e7 x 0.1 x (83/365 + 9/366) = 251987.42 -> 251987; the rest on /366.
    const s = amortisingSchedule({ principal: LAKH, rate: '10', count: 4, frequency: 'quarterly', disbursementDate: '2023-10-10', dayCount: 'actual/actual' });
    expect(s.emi).toBe(2_658_179n);
    expect(rows(s)).toEqual<Row[]>([
      [1, '2023-10-10', '2024-01-10', 10_000_000n, 2_406_192n, 251_987n, 7_593_808n],
      [2, '2024-01-10', '2024-04-10', 7_593_808n, 2_469_371n, 188_808n, 5_124_437n],
      [3, '2024-04-10', '2024-07-10', 5_124_437n, 2_530_768n, 127_411n, 2_593_669n],
      [4, '2024-07-10', '2024-10-10', 2_593_669n, 2_593_669n, 65_196n, 0n],
    ]);
    expect(s.totalInterest).toBe(633_402n);
  });

  it('Actual/360', () => {
    // Row 1: 1e7 x 0.12 x 31/360 = 103333.33 -> 103333; row 2: 29 days of Feb 2024.
    const s = amortisingSchedule({ principal: LAKH, rate: '12', count: 3, frequency: 'monthly', disbursementDate: '2024-01-01', dayCount: 'actual/360' });
    expect(s.emi).toBe(3_400_221n);
    expect(rows(s)).toEqual<Row[]>([
      [1, '2024-01-01', '2024-02-01', 10_000_000n, 3_296_888n, 103_333n, 6_703_112n],
      [2, '2024-02-01', '2024-03-01', 6_703_112n, 3_335_424n, 64_797n, 3_367_688n],
      [3, '2024-03-01', '2024-04-01', 3_367_688n, 3_367_688n, 34_800n, 0n],
    ]);
    expect(s.totalInterest).toBe(202_930n);
  });

  it('month-end disbursement clamps due dates (2024-01-31 -> 02-29 -> 03-31 -> 04-30)', () => {
    // Row 1: 29 days, 1e7 x 0.12 x 29/365 = 95342.47 -> 95342.
    const s = amortisingSchedule({ principal: LAKH, rate: '12', count: 3, frequency: 'monthly', disbursementDate: '2024-01-31', dayCount: 'actual/365' });
    expect(rows(s)).toEqual<Row[]>([
      [1, '2024-01-31', '2024-02-29', 10_000_000n, 3_304_879n, 95_342n, 6_695_121n],
      [2, '2024-02-29', '2024-03-31', 6_695_121n, 3_331_985n, 68_236n, 3_363_136n],
      [3, '2024-03-31', '2024-04-30', 3_363_136n, 3_363_136n, 33_170n, 0n],
    ]);
  });

  it('0%: equal principal, the last row absorbs the remainder, no interest', () => {
    // 10_000_000 / 3 = 3333333.33 -> 3333333, 3333333, last 3333334
    const s = amortisingSchedule({ principal: LAKH, rate: '0', count: 3, frequency: 'monthly', disbursementDate: '2024-01-01', dayCount: 'actual/365' });
    expect(s.installments.map((r) => [r.principal, r.interest])).toEqual([[3_333_333n, 0n], [3_333_333n, 0n], [3_333_334n, 0n]]);
    expect(s.totalInterest).toBe(0n);
  });

  it('refuses a first due date on or before disbursement', () => {
    const base = { principal: LAKH, rate: '12', count: 3, frequency: 'monthly' as const, disbursementDate: '2024-01-15', dayCount: 'actual/365' as const };
    expect(() => amortisingSchedule({ ...base, firstDueDate: '2024-01-15' })).toThrow(RangeError);
    expect(() => amortisingSchedule({ ...base, firstDueDate: '2024-01-14' })).toThrow(RangeError);
  });
});

describe('amortisingSchedule: properties', () => {
  const termsArb = fc
    .record({
      principal: fc.bigInt(1n, 10n ** 12n),
      rate: rateArb,
      count: fc.integer({ min: 1, max: 360 }),
      frequency: frequencyArb,
      dayCount: dayCountArb,
      disbursementDate: dateArb,
      brokenDays: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      rounding: modeArb,
    })
    .map((t) => ({
      ...t,
      // a broken first period of 1 .. 2 periods' worth of days after disbursement
      firstDueDate: t.brokenDays === undefined ? undefined : isoOfDay(actualDays('2000-01-01', t.disbursementDate) + 1 + (t.brokenDays % (2 * PERIOD_DAYS[t.frequency]))),
    }));

  it('principal sums to the disbursement, rows chain, nothing negative, interest = one-step figure', () => {
    fc.assert(
      fc.property(termsArb, (t) => {
        const s = amortisingSchedule({
          principal: t.principal, rate: t.rate.text, count: t.count, frequency: t.frequency,
          disbursementDate: t.disbursementDate, dayCount: t.dayCount, rounding: t.rounding,
          ...(t.firstDueDate ? { firstDueDate: t.firstDueDate } : {}),
        });
        checkChain(s, t.principal, t.count);
        if (t.firstDueDate) expect(s.installments[0]!.dueDate).toBe(t.firstDueDate);
        expect(s.installments[0]!.periodStart).toBe(t.disbursementDate);
        // one-step interest: sum of opening x (h/10000) x yearFraction, exact, rounded once
        const h = BigInt(t.rate.hundredths);
        let num = 0n;
        for (const row of s.installments) num += row.openingPrincipal * h * yfNum(row.periodStart, row.dueDate, t.dayCount);
        const oneStep = rounded(num, 10_000n * YF_BASE, t.rounding);
        expect(s.totalInterest).toBe(oneStep);
        if (h === 0n) expect(s.installments.every((r) => r.interest === 0n)).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('0%: all interest is zero and each non-final principal is the rounded P/n', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 12n), fc.integer({ min: 1, max: 360 }), frequencyArb, dayCountArb, dateArb, fc.constantFrom('0', '0.0', '0.00'), (p, n, freq, basis, d, zero) => {
        const s = amortisingSchedule({ principal: p, rate: zero, count: n, frequency: freq, disbursementDate: d, dayCount: basis });
        checkChain(s, p, n);
        expect(s.totalInterest).toBe(0n);
        expect(s.installments.every((r) => r.interest === 0n)).toBe(true);
        expect(s.emi).toBe(rounded(p, BigInt(n), 'half_up'));
        const off = s.installments.slice(0, -1).filter((r) => r.principal !== (s.emi < r.openingPrincipal ? s.emi : r.openingPrincipal));
        expect(off).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('exact 30/360 months: the last installment is the EMI up to the rounding drift', () => {
    // With every period exactly 1/12 (or 1/4) of a year, outstanding follows
    // O_k = O_{k-1}(1+r) - emi + (e_k - e_{k-1}), |e| <= 1/2 (cumulative rounding), and the EMI is
    // off the exact annuity by <= 1/2; so |last total - emi| <= 1/2 ((1+r)^n - 1)/r + (1+r)^n + 1.
    fc.assert(
      fc.property(
        fc.bigInt(1n, 10n ** 12n), rateArb, fc.integer({ min: 1, max: 360 }), fc.constantFrom<Frequency>('monthly', 'quarterly'),
        dateArb.map((d) => `${d.slice(0, 8)}${String(Math.min(Number(d.slice(8)), 28)).padStart(2, '0')}`),
        (p, rate, n, freq, d) => {
          const s = amortisingSchedule({ principal: p, rate: rate.text, count: n, frequency: freq, disbursementDate: d, dayCount: '30/360' });
          const last = s.installments[n - 1]!;
          const diff = Number(last.principal + last.interest - s.emi);
          const r = rate.hundredths / 10_000 / Number(PPY[freq]);
          const g = (1 + r) ** n;
          const bound = (r === 0 ? n / 2 : (g - 1) / r / 2) + g + 1;
          expect(Math.abs(diff)).toBeLessThanOrEqual(bound * 1.000001 + 1);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('bulletSchedule and bulletInterestUntil', () => {
  const crego = { principal: LAKH, slabs: CREGO_SLABS, disbursementDate: '2024-01-01', yearDays: 360n as const };

  it('40 days on Crego slabs, same_day: due 2024-02-09, interest Rs 2,750.00', () => {
    // 18*15 + 24*15 + 36*10 = 990 %-days; 1e7 x 990 / (100 x 360) = 275000 paise
    const s = bulletSchedule({ ...crego, tenureDays: 40, interestStarts: 'same_day' });
    expect(rows(s)).toEqual<Row[]>([[1, '2024-01-01', '2024-02-09', LAKH, LAKH, 275_000n, 0n]]);
    expect(s.totalInterest).toBe(275_000n);
    expect(s.emi).toBe(10_275_000n);
  });

  it('40 days, next_day: day 1 is 2 Jan, so due 2024-02-10 with the same interest', () => {
    const s = bulletSchedule({ ...crego, tenureDays: 40, interestStarts: 'next_day' });
    expect(rows(s)).toEqual<Row[]>([[1, '2024-01-01', '2024-02-10', LAKH, LAKH, 275_000n, 0n]]);
    expect(s.emi).toBe(10_275_000n);
  });

  it('40 days on a 365-day year', () => {
    // 1e7 x 990 / 36500 = 271232.876 -> 271233
    const s = bulletSchedule({ ...crego, yearDays: 365n, tenureDays: 40, interestStarts: 'same_day' });
    expect(s.totalInterest).toBe(271_233n);
  });

  it("domain.md's worked example: 1 Jan to 20 Jan is Rs 1,083.33", () => {
    // 20 interest days: 15 x 18% + 5 x 24% = 390 %-days; 1e7 x 390 / 36000 = 108333.333...
    expect(bulletInterestUntil({ ...crego, interestStarts: 'same_day' }, '2024-01-20')).toBe(108_333n);
    expect(bulletInterestUntil({ ...crego, interestStarts: 'same_day', rounding: 'half_up' }, '2024-01-20')).toBe(108_333n);
    expect(bulletInterestUntil({ ...crego, interestStarts: 'same_day', rounding: 'up' }, '2024-01-20')).toBe(108_334n);
    // total due Rs 1,01,083.33
    expect(LAKH + bulletInterestUntil({ ...crego, interestStarts: 'same_day' }, '2024-01-20')).toBe(10_108_333n);
    // next_day: 20 Jan is interest day 19 -> 270 + 4*24 = 366 %-days -> 1e7*366/36000 = 101666.67 -> 101667
    expect(bulletInterestUntil({ ...crego, interestStarts: 'next_day' }, '2024-01-20')).toBe(101_667n);
  });

  it('half-way paise round by mode', () => {
    // 1000 paise at 18% for 1 day / 360 = 0.5 paisa: half_up 1, half_even 0; 3000 -> 1.5 -> 2, 2
    const t = { principal: 1000n, slabs: CREGO_SLABS, disbursementDate: '2024-01-01', yearDays: 360n as const, interestStarts: 'same_day' as const };
    expect(bulletInterestUntil(t, '2024-01-01')).toBe(1n);
    expect(bulletInterestUntil({ ...t, rounding: 'half_even' }, '2024-01-01')).toBe(0n);
    expect(bulletInterestUntil({ ...t, principal: 3000n, rounding: 'half_even' }, '2024-01-01')).toBe(2n);
    expect(bulletInterestUntil({ ...t, principal: 3000n }, '2024-01-01')).toBe(2n);
  });

  it('no interest before the first interest day', () => {
    expect(bulletInterestUntil({ ...crego, interestStarts: 'next_day' }, '2024-01-01')).toBe(0n);
    expect(bulletInterestUntil({ ...crego, interestStarts: 'same_day' }, '2023-12-31')).toBe(0n);
    expect(bulletInterestUntil({ ...crego, interestStarts: 'next_day' }, '2023-12-01')).toBe(0n);
  });

  it.each<[string, string, InterestStarts, number]>([
    ['2024-01-01', '2024-01-20', 'same_day', 20],
    ['2024-01-01', '2024-01-20', 'next_day', 19],
    ['2024-01-01', '2024-01-01', 'same_day', 1],
    ['2024-01-01', '2024-01-01', 'next_day', 0],
    ['2024-02-01', '2024-03-01', 'same_day', 30], // Feb 2024 has 29 days, plus 1 Mar
    ['2024-01-10', '2024-01-01', 'same_day', 0],
  ])('interestDays(%s, %s, %s) = %i', (d, until, starts, days) => {
    expect(interestDays(d, until, starts)).toBe(days);
  });

  it.each<[string, number, InterestStarts, string]>([
    ['2024-01-01', 40, 'same_day', '2024-02-09'],
    ['2024-01-01', 40, 'next_day', '2024-02-10'],
    ['2024-02-20', 10, 'same_day', '2024-02-29'],
    ['2024-12-31', 1, 'same_day', '2024-12-31'],
    ['2024-12-31', 1, 'next_day', '2025-01-01'],
  ])('bulletDueDate(%s, %i, %s) = %s', (d, tenure, starts, due) => {
    expect(bulletDueDate(d, tenure, starts)).toBe(due);
  });

  it('refuses a tenure below one day', () => {
    expect(() => bulletSchedule({ ...crego, tenureDays: 0, interestStarts: 'same_day' })).toThrow(RangeError);
  });

  const slabsArb = fc
    .uniqueArray(fc.integer({ min: 1, max: 120 }), { minLength: 0, maxLength: 3 })
    .chain((bounds) =>
      fc.array(rateArb, { minLength: bounds.length + 1, maxLength: bounds.length + 1 }).map((rates) => {
        const sorted = [...bounds].sort((a, b) => a - b);
        return rates.map((rate, i) => ({ upToDay: i < sorted.length ? sorted[i]! : null, rate }));
      }),
    );

  it('interest is non-decreasing in the payoff date, matches a day-by-day sum, total = P + interest', () => {
    fc.assert(
      fc.property(
        fc.bigInt(1n, 10n ** 12n), slabsArb, fc.integer({ min: 1, max: 400 }), dateArb,
        fc.constantFrom<InterestStarts>('same_day', 'next_day'), fc.constantFrom(360n as const, 365n as const), modeArb,
        fc.integer({ min: -5, max: 400 }), fc.integer({ min: 0, max: 60 }),
        (principal, spec, tenureDays, d, starts, yearDays, rounding, offset, later) => {
          const slabs: RateSlab[] = spec.map((s) => ({ upToDay: s.upToDay, rate: s.rate.text }));
          const terms = { principal, slabs, disbursementDate: d, interestStarts: starts, yearDays, rounding };
          const d0 = actualDays('2000-01-01', d);
          const a = bulletInterestUntil(terms, isoOfDay(d0 + offset));
          const b = bulletInterestUntil(terms, isoOfDay(d0 + offset + later));
          expect(a >= 0n).toBe(true);
          expect(b >= a).toBe(true);

          const s = bulletSchedule({ ...terms, tenureDays });
          const row = s.installments[0]!;
          expect(s.installments.length).toBe(1);
          expect(row.dueDate).toBe(isoOfDay(d0 + tenureDays - (starts === 'same_day' ? 1 : 0)));
          expect([row.openingPrincipal, row.principal, row.closingPrincipal]).toEqual([principal, principal, 0n]);
          expect(s.totalInterest).toBe(row.interest);
          expect(s.emi).toBe(principal + row.interest);
          // independent: interest days 1..tenure, each at its slab's rate
          let hundredthDays = 0n;
          for (let day = 1; day <= tenureDays; day++) {
            hundredthDays += BigInt(spec.find((x) => x.upToDay === null || day <= x.upToDay)!.rate.hundredths);
          }
          expect(row.interest).toBe(rounded(principal * hundredthDays, 10_000n * yearDays, rounding));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('flatSchedule', () => {
  it('Rs 1,00,000 at 10% flat, 12 monthly', () => {
    // total = 1e7 x 0.10 x 12/12 = 1000000; principal rows round(P(i+1)/12) - round(Pi/12),
    // interest rows likewise over 1000000.
    const s = flatSchedule({ principal: LAKH, flatRate: '10', count: 12, frequency: 'monthly', disbursementDate: '2024-01-31' });
    expect(s.totalInterest).toBe(1_000_000n);
    expect(s.installments.map((r) => r.principal)).toEqual(
      [833_333n, 833_334n, 833_333n, 833_333n, 833_334n, 833_333n, 833_333n, 833_334n, 833_333n, 833_333n, 833_334n, 833_333n],
    );
    expect(s.installments.map((r) => r.interest)).toEqual(
      [83_333n, 83_334n, 83_333n, 83_333n, 83_334n, 83_333n, 83_333n, 83_334n, 83_333n, 83_333n, 83_334n, 83_333n],
    );
    expect(s.emi).toBe(916_666n);
    expect(s.installments.map((r) => r.dueDate).slice(0, 3)).toEqual(['2024-02-29', '2024-03-31', '2024-04-30']);
    checkChain(s, LAKH, 12);
  });

  it('Rs 10,000 at 7% flat, 3 quarterly', () => {
    // total = 1e6 x 0.07 x 3/4 = 52500 -> 17500 a quarter; principal 333333, 333334, 333333
    const s = flatSchedule({ principal: 1_000_000n, flatRate: '7', count: 3, frequency: 'quarterly', disbursementDate: '2024-01-01' });
    expect(rows(s)).toEqual<Row[]>([
      [1, '2024-01-01', '2024-04-01', 1_000_000n, 333_333n, 17_500n, 666_667n],
      [2, '2024-04-01', '2024-07-01', 666_667n, 333_334n, 17_500n, 333_333n],
      [3, '2024-07-01', '2024-10-01', 333_333n, 333_333n, 17_500n, 0n],
    ]);
    expect(s.totalInterest).toBe(52_500n);
  });

  it('Rs 5,000 at 20% flat, 10 weekly', () => {
    // total = 5e5 x 0.2 x 10/52 = 19230.77 -> 19231; rows 1923 except the 5th (1924)
    const s = flatSchedule({ principal: 500_000n, flatRate: '20', count: 10, frequency: 'weekly', disbursementDate: '2024-01-01' });
    expect(s.totalInterest).toBe(19_231n);
    expect(s.installments.map((r) => r.interest)).toEqual([1923n, 1923n, 1923n, 1923n, 1924n, 1923n, 1923n, 1923n, 1923n, 1923n]);
    expect(s.installments.map((r) => r.principal).every((p) => p === 50_000n)).toBe(true);
  });

  it('sums of principal and interest are exact (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt(1n, 10n ** 12n), rateArb, fc.integer({ min: 1, max: 360 }), frequencyArb, dateArb, modeArb,
        fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
        (p, rate, n, freq, d, rounding, broken) => {
          const firstDueDate = broken === undefined ? undefined : isoOfDay(actualDays('2000-01-01', d) + broken);
          const s = flatSchedule({ principal: p, flatRate: rate.text, count: n, frequency: freq, disbursementDate: d, rounding, ...(firstDueDate ? { firstDueDate } : {}) });
          const { interestSum } = checkChain(s, p, n);
          // total = P x (h/10000) x n / ppy, rounded once
          expect(interestSum).toBe(rounded(p * BigInt(rate.hundredths) * BigInt(n), 10_000n * PPY[freq], rounding));
          // spread evenly: every row within one paisa of the exact share
          const N = BigInt(n);
          const uneven = s.installments.filter(
            (r) => !(r.principal * N - p <= N && p - r.principal * N <= N && r.interest * N - interestSum <= N && interestSum - r.interest * N <= N),
          );
          expect(uneven).toEqual([]);
          if (rate.hundredths === 0) expect(interestSum).toBe(0n);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('processingFee', () => {
  it.each<[bigint, 'percentage' | 'fixed', string, string, RoundingMode, bigint, bigint]>([
    // 1% of Rs 1,00,000 = Rs 1,000 = 100000 paise; 18% GST = 18000
    [LAKH, 'percentage', '1', '18', 'half_up', 100_000n, 18_000n],
    // fixed Rs 1,500 = 150000 paise; GST 27000
    [LAKH, 'fixed', '1500', '18', 'half_up', 150_000n, 27_000n],
    // fixed with paise, GST 18% of 123456 = 22222.08 -> 22222
    [LAKH, 'fixed', '1234.56', '18', 'half_up', 123_456n, 22_222n],
    // 2.5% of 1234567 = 30864.175 -> 30864; GST 5555.52 -> 5556 (two rounding points, fee first)
    [1_234_567n, 'percentage', '2.5', '18', 'half_up', 30_864n, 5_556n],
    // 1.75% of 999999 = 17499.98 -> 17500; GST 3150
    [999_999n, 'percentage', '1.75', '18', 'half_up', 17_500n, 3_150n],
    // 1% of 50 paise = 0.5: half_up 1 (GST 0.18 -> 0), half_even 0
    [50n, 'percentage', '1', '18', 'half_up', 1n, 0n],
    [50n, 'percentage', '1', '18', 'half_even', 0n, 0n],
    // no GST
    [LAKH, 'percentage', '2', '0', 'half_up', 200_000n, 0n],
  ])('%s paise, %s %s, GST %s%% (%s) -> fee %s, gst %s', (p, type, value, gst, mode, fee, tax) => {
    expect(processingFee(p, type, value, gst, mode)).toEqual({ fee, gst: tax });
  });
});
