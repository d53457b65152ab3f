// Interest at full precision. Rates arrive as decimal strings ("18.5" = 18.5% a year) and are
// scaled to integers, so every product is exact bigint arithmetic; callers round once, through
// roundDiv, at the points domain.md names.
import { addDays, daysBetween, isLeapYear, yearOf } from './dates.js';
import type { BusinessDate } from './time.js';

/** Rates are held as integers in millionths of a percent: "18.5" -> 18_500_000n. */
export const RATE_SCALE = 1_000_000n;

const scaledRates = new Map<string, bigint>();

export function rateToScaled(rate: string): bigint {
  // Memoised: EOD converts the same few rates for every loan and day.
  const known = scaledRates.get(rate);
  if (known !== undefined) return known;
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(rate.trim());
  if (!match) throw new RangeError(`not a rate: ${rate}`);
  const scaled = BigInt(match[1]!) * RATE_SCALE + BigInt((match[2] ?? '').padEnd(6, '0'));
  if (scaledRates.size >= 10_000) scaledRates.clear();
  scaledRates.set(rate, scaled);
  return scaled;
}

/** An exact non-negative rational number. */
export interface Fraction {
  num: bigint;
  den: bigint;
}

export const ZERO: Fraction = { num: 0n, den: 1n };

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

/** Exact sum, kept in lowest terms so long sums do not grow their denominators. */
export function add(a: Fraction, b: Fraction): Fraction {
  const num = a.den === b.den ? a.num + b.num : a.num * b.den + b.num * a.den;
  const den = a.den === b.den ? a.den : a.den * b.den;
  const g = gcd(num, den) || 1n;
  return { num: num / g, den: den / g };
}

export type DayCount = 'actual/365' | 'actual/360' | '30/360' | 'actual/actual';

/** The day count of params: days_in_year 365 | 360 | 'actual', days_in_month 30 | 'actual'. */
export function dayCountOf(daysInYear: number | 'actual', daysInMonth: number | 'actual'): DayCount {
  if (daysInYear === 'actual') return 'actual/actual';
  if (daysInMonth === 30 && daysInYear === 360) return '30/360';
  return daysInYear === 360 ? 'actual/360' : 'actual/365';
}

/** Days between two dates by the 30E/360 convention (each month 30 days). */
export function days360(from: BusinessDate, to: BusinessDate): number {
  const [y1, m1, d1] = from.split('-').map(Number) as [number, number, number];
  const [y2, m2, d2] = to.split('-').map(Number) as [number, number, number];
  return (y2 - y1) * 360 + (m2 - m1) * 30 + (Math.min(d2, 30) - Math.min(d1, 30));
}

/**
 * The fraction of a year from `from` to `to` (interest runs on the days from..to-1).
 * Actual/Actual splits the period at year ends and counts each part against its own year.
 */
export function yearFraction(from: BusinessDate, to: BusinessDate, basis: DayCount): Fraction {
  switch (basis) {
    case 'actual/365': return { num: BigInt(daysBetween(from, to)), den: 365n };
    case 'actual/360': return { num: BigInt(daysBetween(from, to)), den: 360n };
    case '30/360': return { num: BigInt(days360(from, to)), den: 360n };
    case 'actual/actual': {
      let total = ZERO;
      let cursor = from;
      while (cursor < to) {
        const nextYear = `${yearOf(cursor) + 1}-01-01`;
        const end = nextYear < to ? nextYear : to;
        total = add(total, { num: BigInt(daysBetween(cursor, end)), den: isLeapYear(yearOf(cursor)) ? 366n : 365n });
        cursor = end;
      }
      return total;
    }
  }
}

/** principal x rate% x yearFraction, exact, in paise (as a fraction to be rounded by the caller). */
export function simpleInterest(principal: bigint, rate: string, fraction: Fraction): Fraction {
  return { num: principal * rateToScaled(rate) * fraction.num, den: 100n * RATE_SCALE * fraction.den };
}

export interface RateSlab {
  /** Last interest day this rate applies to; null for the open-ended last slab. */
  upToDay: number | null;
  rate: string;
}

/**
 * Interest on `principal` for interest days firstDay..lastDay (1-based, inclusive) under
 * marginal slabs: each day is charged at the rate of the slab containing that day's number.
 * The year base is 360 or 365 days (slab loans count whole days).
 */
export function slabInterest(principal: bigint, slabs: readonly RateSlab[], firstDay: number, lastDay: number, yearDays: bigint): Fraction {
  let rateDays = 0n; // sum over days of scaled rate
  let lower = 1;
  for (const slab of slabs) {
    const upper = slab.upToDay ?? Number.MAX_SAFE_INTEGER;
    const from = Math.max(lower, firstDay);
    const to = Math.min(upper, lastDay);
    if (to >= from) rateDays += BigInt(to - from + 1) * rateToScaled(slab.rate);
    lower = upper + 1;
    if (lower > lastDay) break;
  }
  return { num: principal * rateDays, den: 100n * RATE_SCALE * yearDays };
}

export { addDays };
