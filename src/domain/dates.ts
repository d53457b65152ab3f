// Calendar arithmetic on business dates ('YYYY-MM-DD'), done in UTC so no time zone or DST can
// move a day.
import type { BusinessDate } from './time.js';

const DAY_MS = 86_400_000;

const toUtc = (date: BusinessDate): number => Date.parse(`${date}T00:00:00Z`);
const fromUtc = (ms: number): BusinessDate => new Date(ms).toISOString().slice(0, 10);

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
