// What it takes to close a loan on a date: every due up to that date, all principal not yet
// due, and the interest accrued through that date on the running period (domain.md: paying a
// loan off on day D settles interest through day D). Pure; amounts in paise.
import { addDays } from './dates.js';
import { dayCountOf, simpleInterest, yearFraction } from './interest.js';
import { slabBound, type StoredParams } from './loan-params.js';
import { loanKindOf } from './loan-terms.js';
import { roundDiv } from './money.js';
import { bulletInterestUntil } from './schedule.js';
import type { BusinessDate } from './time.js';

export interface DemandSnapshot {
  kind: 'emi' | 'fee';
  periodStart: BusinessDate | null;
  dueDate: BusinessDate;
  /** Outstanding per component (due - paid - waived). */
  p: bigint; ni: bigint; oi: bigint; pi: bigint; fee: bigint;
  /** Scheduled dues, for the running period's accrual. */
  pDue: bigint; niDue: bigint; niPaid: bigint;
  /** NI waived on the demand (absent: none). */
  niWaived?: bigint;
}

export interface Foreclosure {
  dueNow: bigint;
  futurePrincipal: bigint;
  accruedInterest: bigint;
  futureFees: bigint;
  total: bigint;
}

const all = (d: DemandSnapshot) => d.p + d.ni + d.oi + d.pi + d.fee;

export function foreclosureAmount(terms: StoredParams, disbursementDate: BusinessDate, demands: readonly DemandSnapshot[], asOf: BusinessDate): Foreclosure {
  const due = demands.filter((d) => d.dueDate <= asOf);
  const future = demands.filter((d) => d.dueDate > asOf);
  const dueNow = due.reduce((s, d) => s + all(d), 0n);
  const futurePrincipal = future.reduce((s, d) => s + d.p, 0n);
  const futureFees = future.reduce((s, d) => s + d.fee, 0n);
  const running = future.filter((d) => d.kind === 'emi').sort((a, b) => (a.dueDate < b.dueDate ? -1 : 1))[0];
  let accruedInterest = 0n;
  if (running) {
    const kind = loanKindOf(terms);
    if (kind === 'bullet') {
      const owed = bulletInterestUntil({
        principal: running.pDue, disbursementDate, interestStarts: terms.interest_starts, yearDays: terms.days_in_year === 360 ? 360n : 365n,
        slabs: terms.roi_value.map((s) => ({ upToDay: slabBound(s.days), rate: s.value })),
      }, asOf);
      const settled = running.niPaid + (running.niWaived ?? 0n);
      accruedInterest = owed > settled ? owed - settled : 0n;
    } else if (running.periodStart && asOf >= running.periodStart) {
      // Scheduled opening principal of the running period: its principal and all later principal.
      const opening = future.filter((d) => d.kind === 'emi').reduce((s, d) => s + d.pDue, 0n);
      const through = addDays(asOf, 1);
      const accrued = kind === 'flat'
        ? prorate(running.niDue, running.periodStart, through, running.dueDate)
        : roundFraction(simpleInterest(opening, terms.roi_value.at(-1)!.value, yearFraction(running.periodStart, through, dayCountOf(terms.days_in_year, terms.days_in_month))));
      // What the period has accrued to date less what was already paid (or waived) of it: a
      // second prepayment in the same period pays only the interest accrued since the first.
      const settled = running.niPaid + (running.niWaived ?? 0n);
      const unpaid = accrued > settled ? accrued - settled : 0n;
      const cap = running.ni;
      accruedInterest = unpaid < cap ? unpaid : cap;
    }
  }
  return { dueNow, futurePrincipal, accruedInterest, futureFees, total: dueNow + futurePrincipal + accruedInterest + futureFees };
}

const roundFraction = (f: { num: bigint; den: bigint }) => roundDiv(f.num, f.den);

function prorate(amount: bigint, start: BusinessDate, through: BusinessDate, end: BusinessDate): bigint {
  const elapsed = BigInt(Math.max(0, Math.round((Date.parse(through) - Date.parse(start)) / 86_400_000)));
  const length = BigInt(Math.max(1, Math.round((Date.parse(end) - Date.parse(start)) / 86_400_000)));
  return roundDiv(amount * (elapsed < length ? elapsed : length), length);
}
