// Interest at full precision (src/domain/interest.ts). Every expected figure below was worked out
// by hand or with python3's fractions module, never by running the code under test.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  add,
  dayCountOf,
  days360,
  RATE_SCALE,
  rateToScaled,
  simpleInterest,
  slabInterest,
  yearFraction,
  ZERO,
  type DayCount,
  type Fraction,
  type RateSlab,
} from '../../src/domain/interest.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);

/** Value equality of a fraction and num/den, independent of how either is reduced. */
const sameValue = (f: Fraction, num: bigint, den: bigint): boolean => f.num * den === num * f.den;

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Crego's reference slabs: days 1-15 at 18%, 16-30 at 24%, 31 onwards at 36%. */
const CREGO_SLABS: RateSlab[] = [
  { upToDay: 15, rate: '18' },
  { upToDay: 30, rate: '24' },
  { upToDay: null, rate: '36' },
];

describe('rateToScaled', () => {
  it.each<[string, bigint]>([
    ['18.5', 18_500_000n],
    ['8.5', 8_500_000n],
    ['0', 0n],
    ['0.0', 0n],
    ['36', 36_000_000n],
    ['12.25', 12_250_000n],
    ['8.123456', 8_123_456n], // six decimals is the full scale (millionths of a percent)
    ['0.000001', 1n],
    [' 12 ', 12_000_000n], // surrounding blanks are trimmed
    ['007.5', 7_500_000n],
  ])('%j -> %s', (text, scaled) => {
    expect(rateToScaled(text)).toBe(scaled);
  });

  it.each<[string]>([
    [''], [' '], ['-1'], ['-0.5'], ['+1'], ['1e3'], ['.5'], ['1.'], ['abc'], ['1.1234567'], ['1,5'], ['NaN'],
    ['Infinity'], ['0x10'], ['1.2.3'], ['12 %'], ['1 2'],
  ])('rejects %j', (text) => {
    expect(() => rateToScaled(text)).toThrow(RangeError);
  });

  it('scales any decimal with up to six places exactly (property)', () => {
    fc.assert(
      fc.property(fc.bigInt(0n, 10n ** 9n), fc.integer({ min: 0, max: 6 }), (units, places) => {
        // units / 10^places written out as text by hand, e.g. 1234 with 2 places -> "12.34".
        const digits = units.toString().padStart(places + 1, '0');
        const text = places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
        expect(rateToScaled(text)).toBe(units * 10n ** BigInt(6 - places));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('add (exact fractions)', () => {
  const frac = (text: string): Fraction => {
    const [num, den] = text.split('/') as [string, string];
    return { num: BigInt(num), den: BigInt(den) };
  };
  it.each<[string, string, string]>([
    ['1/4', '1/6', '5/12'], // 3/12 + 2/12
    ['1/3', '1/6', '1/2'], // 9/18 reduced
    ['0/1', '2/4', '1/2'], // ZERO + 2/4 reduced
    ['17/365', '14/366', '5666/66795'], // (6222 + 5110)/133590 = 11332/133590, gcd 2
    ['1/2', '3/6', '1/1'], // 12/12
    ['0/1', '0/1', '0/1'],
  ])('%s + %s = %s in lowest terms', (a, b, sum) => {
    expect(add(frac(a), frac(b))).toEqual(frac(sum));
  });
  it('ZERO is 0/1', () => {
    expect(ZERO).toEqual({ num: 0n, den: 1n });
  });

  it('adds exactly and, for different denominators, returns lowest terms (property)', () => {
    const frac = fc.record({ num: fc.bigInt(0n, 10n ** 15n), den: fc.bigInt(1n, 10n ** 6n) });
    fc.assert(
      fc.property(frac, frac, (a, b) => {
        const s = add(a, b);
        expect(s.den > 0n).toBe(true);
        expect(sameValue(s, a.num * b.den + b.num * a.den, a.den * b.den)).toBe(true);
        if (s.num !== 0n) expect(gcd(s.num, s.den)).toBe(1n);
      }),
      { numRuns: NUM_RUNS },
    );
  });
  it('reduces sums of equal denominators too', () => {
    expect(add({ num: 1n, den: 4n }, { num: 1n, den: 4n })).toEqual({ num: 1n, den: 2n });
    expect(add({ num: 3n, den: 10n }, { num: 7n, den: 10n })).toEqual({ num: 1n, den: 1n });
  });
});

describe('dayCountOf', () => {
  it.each<[number | 'actual', number | 'actual', DayCount]>([
    [365, 'actual', 'actual/365'],
    [365, 30, 'actual/365'],
    [360, 'actual', 'actual/360'],
    [360, 30, '30/360'],
    ['actual', 'actual', 'actual/actual'],
    ['actual', 30, 'actual/actual'],
  ])('days_in_year %j, days_in_month %j -> %s', (y, m, basis) => {
    expect(dayCountOf(y, m)).toBe(basis);
  });
});

describe('days360 (30E/360: a 31st counts as the 30th, on either end)', () => {
  it.each<[string, string, number]>([
    ['2024-01-01', '2024-02-01', 30], // one whole month
    ['2024-01-15', '2024-02-15', 30],
    ['2024-01-01', '2025-01-01', 360],
    ['2024-01-01', '2024-01-01', 0],
    ['2024-01-30', '2024-01-31', 0], // 31 -> 30: 30 - 30
    ['2024-01-31', '2024-02-01', 1], // start 31 -> 30: 30 + (1 - 30)
    ['2024-01-31', '2024-02-29', 29], // 30 + (29 - 30); 30E/360 does not stretch February's end
    ['2024-02-29', '2024-03-31', 31], // 30 + (30 - 29)
    ['2024-01-31', '2024-03-31', 60], // 2*30 + (30 - 30)
    ['2024-02-28', '2024-03-01', 3], // 30 + (1 - 28)
    ['2023-12-31', '2024-01-31', 30], // 360 - 11*30 + (30 - 30)
    ['2023-12-31', '2024-01-01', 1], // 360 - 330 + (1 - 30)
    ['2024-03-31', '2024-01-31', -60], // reversed order gives the negative
  ])('%s -> %s = %i days', (from, to, days) => {
    expect(days360(from, to)).toBe(days);
  });
});

describe('yearFraction', () => {
  it.each<[string, string, DayCount, bigint, bigint]>([
    // 2024-01-01 -> 2024-03-01 is 31 + 29 = 60 actual days
    ['2024-01-01', '2024-03-01', 'actual/365', 60n, 365n],
    ['2024-01-01', '2024-03-01', 'actual/360', 60n, 360n],
    ['2024-01-01', '2024-03-01', '30/360', 60n, 360n], // two months of 30
    ['2024-01-01', '2024-03-01', 'actual/actual', 60n, 366n], // 2024 is a leap year
    ['2023-01-01', '2023-03-01', 'actual/actual', 59n, 365n], // 31 + 28 in a common year
    ['2024-01-01', '2025-01-01', 'actual/365', 366n, 365n],
    ['2024-01-01', '2025-01-01', 'actual/actual', 1n, 1n],
    ['2023-01-01', '2024-01-01', 'actual/actual', 1n, 1n],
    // 17 days of Dec 2023 over 365 + 14 days of Jan 2024 over 366 = 5666/66795
    ['2023-12-15', '2024-01-15', 'actual/actual', 5666n, 66795n],
    // 214/366 (Jun-Dec 2020) + 3 whole years + 152/366 (Jan-May 2024) = 366/366 + 3 = 4
    ['2020-06-01', '2024-06-01', 'actual/actual', 4n, 1n],
    // 184/365 (Jul-Dec 2023) + 1 (2024) + 59/365 (Jan-Feb 2025) = 608/365
    ['2023-07-01', '2025-03-01', 'actual/actual', 608n, 365n],
    ['2024-01-31', '2024-02-29', '30/360', 29n, 360n],
    ['2024-05-10', '2024-05-10', 'actual/actual', 0n, 1n],
    ['2024-05-10', '2024-05-10', 'actual/365', 0n, 1n],
  ])('%s -> %s %s = %s/%s', (from, to, basis, num, den) => {
    const f = yearFraction(from, to, basis);
    expect(f.den > 0n).toBe(true);
    expect(sameValue(f, num, den)).toBe(true);
  });

  it('actual/actual is in lowest terms across a leap-year end', () => {
    expect(yearFraction('2023-12-15', '2024-01-15', 'actual/actual')).toEqual({ num: 5666n, den: 66795n });
    expect(yearFraction('2020-06-01', '2024-06-01', 'actual/actual')).toEqual({ num: 4n, den: 1n });
  });

  it('is additive over a split point for every basis (property)', () => {
    const DAY = 86_400_000;
    const start = Date.UTC(2000, 0, 1);
    const iso = (n: number) => new Date(start + n * DAY).toISOString().slice(0, 10);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 15_000 }),
        fc.integer({ min: 0, max: 1_200 }),
        fc.integer({ min: 0, max: 1_200 }),
        fc.constantFrom<DayCount>('actual/365', 'actual/360', '30/360', 'actual/actual'),
        (a, gap1, gap2, basis) => {
          const [x, y, z] = [iso(a), iso(a + gap1), iso(a + gap1 + gap2)];
          const whole = yearFraction(x, z, basis);
          const parts = add(yearFraction(x, y, basis), yearFraction(y, z, basis));
          expect(sameValue(whole, parts.num, parts.den)).toBe(true);
          if (basis === 'actual/365') expect(sameValue(whole, BigInt(gap1 + gap2), 365n)).toBe(true);
          if (basis === 'actual/360') expect(sameValue(whole, BigInt(gap1 + gap2), 360n)).toBe(true);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('simpleInterest', () => {
  it('Rs 1,00,000 at 12% for 31/365 = Rs 1,019.178...', () => {
    // 10_000_000 paise * 0.12 * 31/365 = 37_200_000/365 = 101917.808... paise
    const f = simpleInterest(10_000_000n, '12', { num: 31n, den: 365n });
    expect(sameValue(f, 37_200_000n, 365n)).toBe(true);
  });
  it('8.5% on Rs 10,00,000 for a 30/360 month = Rs 7,083.33...', () => {
    // 100_000_000 * 8.5/100 / 12 = 708333.33... paise = 2_125_000/3
    expect(sameValue(simpleInterest(100_000_000n, '8.5', { num: 30n, den: 360n }), 2_125_000n, 3n)).toBe(true);
  });
  it('is zero at 0%', () => {
    expect(simpleInterest(123_456_789n, '0', { num: 5n, den: 7n }).num).toBe(0n);
  });
});

describe('slabInterest (marginal slabs)', () => {
  // Principal Rs 1,00,000 = 10_000_000 paise; value in paise = P * (sum of %-days) / (100 * year).
  it.each<[number, number, 360n | 365n, bigint, bigint]>([
    // days 1-40: 15*18 + 15*24 + 10*36 = 270 + 360 + 360 = 990 %-days -> 1e7*990/36000 = 275000
    [1, 40, 360n, 275_000n, 1n],
    // days 1-20 (domain.md): 15*18 + 5*24 = 390 -> 1e7*390/36000 = 325000/3 = 108333.33...
    [1, 20, 360n, 325_000n, 3n],
    // days 1-15: exactly the first slab, 270 %-days -> 75000
    [1, 15, 360n, 75_000n, 1n],
    // days 10-20: 6*18 + 5*24 = 228 -> 1e7*228/36000 = 190000/3 = 63333.33...
    [10, 20, 360n, 190_000n, 3n],
    // days 31-40: 10*36 = 360 -> 100000
    [31, 40, 360n, 100_000n, 1n],
    // day 16 alone: 24 -> 1e7*24/36000 = 20000/3
    [16, 16, 360n, 20_000n, 3n],
    // days 1-45: 270 + 360 + 15*36 = 1170 -> 325000
    [1, 45, 360n, 325_000n, 1n],
    // days 1-40 on a 365-day year: 1e7*990/36500 = 19_800_000/73 = 271232.87...
    [1, 40, 365n, 19_800_000n, 73n],
    // an empty range owes nothing
    [21, 20, 360n, 0n, 1n],
  ])('days %i..%i / %s', (first, last, year, num, den) => {
    const f = slabInterest(10_000_000n, CREGO_SLABS, first, last, year);
    expect(f.den > 0n).toBe(true);
    expect(sameValue(f, num, den)).toBe(true);
  });

  it('a single open slab is plain simple interest', () => {
    // Rs 50,000 at 9.5% for 73 days / 365 = 5_000_000 * 0.095 * 73/365 = 95000 paise
    const f = slabInterest(5_000_000n, [{ upToDay: null, rate: '9.5' }], 1, 73, 365n);
    expect(sameValue(f, 95_000n, 1n)).toBe(true);
  });

  const slabsArb = fc
    .uniqueArray(fc.integer({ min: 1, max: 200 }), { minLength: 0, maxLength: 4 })
    .chain((bounds) =>
      fc.array(fc.integer({ min: 0, max: 3600 }), { minLength: bounds.length + 1, maxLength: bounds.length + 1 }).map((rates) => {
        const sorted = [...bounds].sort((a, b) => a - b);
        return rates.map((hundredths, i) => ({ upToDay: i < sorted.length ? sorted[i]! : null, hundredths }));
      }),
    );
  const toSlabs = (s: { upToDay: number | null; hundredths: number }[]): RateSlab[] =>
    s.map((x) => ({ upToDay: x.upToDay, rate: (x.hundredths / 100).toFixed(2) }));

  it('charges each day at its own slab and splits additively (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt(1n, 10n ** 12n),
        slabsArb,
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        fc.constantFrom(360n, 365n),
        (principal, spec, a, len, year) => {
          const slabs = toSlabs(spec);
          const b = a + len;
          // Independent day-by-day sum of the hundredths of a percent of each day's slab.
          let hundredthDays = 0n;
          for (let day = a; day <= b; day++) {
            const slab = spec.find((s) => s.upToDay === null || day <= s.upToDay)!;
            hundredthDays += BigInt(slab.hundredths);
          }
          const f = slabInterest(principal, slabs, a, b, year);
          expect(sameValue(f, principal * hundredthDays, 100n * 100n * year)).toBe(true);
          // Marginal: days 1..b = days 1..a-1 plus days a..b.
          const head = slabInterest(principal, slabs, 1, a - 1, year);
          const whole = slabInterest(principal, slabs, 1, b, year);
          const sum = add(head, f);
          expect(sameValue(whole, sum.num, sum.den)).toBe(true);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('uses RATE_SCALE millionths', () => {
    expect(RATE_SCALE).toBe(1_000_000n);
  });
});
