// Calendar arithmetic on business dates ('YYYY-MM-DD'), done in UTC so no time zone or DST can
// move a day.
import type { BusinessDate } from './time.js';

const DAY_MS = 86_400_000;

// Parsing and formatting dates is most of the cost of EOD's day arithmetic over a million loans,
// and the same few thousand dates recur: both directions are memoised (bounded, pure).
const MEMO_MAX = 100_000;
const parsed = new Map<string, number>();
const formatted = new Map<number, string>();

const toUtc = (date: BusinessDate): number => {
  let ms = parsed.get(date);
  if (ms === undefined) {
    ms = Date.parse(`${date}T00:00:00Z`);
    if (parsed.size >= MEMO_MAX) parsed.clear();
    parsed.set(date, ms);
  }
  return ms;
};
const fromUtc = (ms: number): BusinessDate => {
  let date = formatted.get(ms);
  if (date === undefined) {
    date = new Date(ms).toISOString().slice(0, 10);
    if (formatted.size >= MEMO_MAX) formatted.clear();
    formatted.set(ms, date);
  }
  return date;
};

export function addDays(date: BusinessDate, days: number): BusinessDate {
  return fromUtc(toUtc(date) + days * DAY_MS);
}

/** Whole days from a to b (b - a). */
export function daysBetween(a: BusinessDate, b: BusinessDate): number {
  return Math.round((toUtc(b) - toUtc(a)) / DAY_MS);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Adds months, keeping the day of the month or clamping to the month's last day (31 Jan + 1 = 29 Feb). */
export function addMonths(date: BusinessDate, months: number, dayOfMonth?: number): BusinessDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const day = Math.min(dayOfMonth ?? d, daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export const yearOf = (date: BusinessDate): number => Number(date.slice(0, 4));
