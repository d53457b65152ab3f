// Interest on a bullet loan whose principal was partly repaid before maturity (excess handling
// `prepay`): paying on day D settles interest through D, so each repayment lowers the principal
// from the next interest day on. Slab days keep counting from disbursement. The interest of all
// segments is summed exactly and rounded once.
import { add, slabInterest, ZERO, type Fraction, type RateSlab } from './interest.js';
import { roundDiv } from './money.js';
import { interestDays, type InterestStarts } from './schedule.js';
import type { BusinessDate } from './time.js';

export interface BulletAccrualTerms {
  slabs: readonly RateSlab[];
  disbursementDate: BusinessDate;
  interestStarts: InterestStarts;
  yearDays: 360n | 365n;
}

export interface PrincipalRepayment {
  valueDate: BusinessDate;
  amount: bigint;
}

/** Interest owed through `until` on `principal` less the repayments, each effective the day after its value date. */
export function bulletInterestWithRepayments(t: BulletAccrualTerms, principal: bigint, repayments: readonly PrincipalRepayment[], until: BusinessDate): bigint {
  const lastDay = interestDays(t.disbursementDate, until, t.interestStarts);
  const cuts = [...repayments]
    .map((r) => ({ day: interestDays(t.disbursementDate, r.valueDate, t.interestStarts), amount: r.amount }))
    .sort((a, b) => a.day - b.day);
  let total: Fraction = ZERO;
  let outstanding = principal;
  let firstDay = 1;
  for (const cut of cuts) {
    const segmentEnd = Math.min(cut.day, lastDay);
    if (segmentEnd >= firstDay && outstanding > 0n) total = add(total, slabInterest(outstanding, t.slabs, firstDay, segmentEnd, t.yearDays));
    firstDay = Math.max(firstDay, segmentEnd + 1);
    outstanding -= cut.amount;
    if (outstanding < 0n) throw new RangeError('repayments exceed the principal');
  }
  if (lastDay >= firstDay && outstanding > 0n) total = add(total, slabInterest(outstanding, t.slabs, firstDay, lastDay, t.yearDays));
  return roundDiv(total.num, total.den);
}

/** One disbursement of a bullet loan's principal: the first is the loan itself, later ones its tranches. */
export interface PrincipalTranche {
  date: BusinessDate;
  amount: bigint;
}

/**
 * Interest owed through `until` on a bullet loan drawn in tranches, less principal repayments.
 * Each tranche accrues from its own date with its own slab days (day 1 is its own first interest
 * day), as src/domain/tranche.ts charged it when it was paid out, and is rounded once, as the
 * schedule rounded it: with nothing repaid this is exactly the maturity interest of the schedule.
 *
 * A repayment reduces the oldest tranche first (among those paid out by its value date), then the
 * next: the money lent first is repaid first, and since slab days restart per tranche, the oldest
 * tranche is also the one at the highest marginal rate, so the borrower saves the most interest.
 * Either way a repayment only ever lowers some tranche's principal, so the interest never grows.
 * Throws RangeError when the repayments exceed the principal paid out by their dates.
 */
export function bulletInterestOnTranches(
  t: Omit<BulletAccrualTerms, 'disbursementDate'>, tranches: readonly PrincipalTranche[], repayments: readonly PrincipalRepayment[], until: BusinessDate,
): bigint {
  const ordered = tranches.map((tranche, index) => ({ ...tranche, index, left: tranche.amount, cuts: [] as PrincipalRepayment[] }))
    .sort((a, b) => (a.date !== b.date ? (a.date < b.date ? -1 : 1) : a.index - b.index));
  for (const r of [...repayments].sort((a, b) => (a.valueDate < b.valueDate ? -1 : a.valueDate > b.valueDate ? 1 : 0))) {
    let amount = r.amount;
    for (const tranche of ordered) {
      if (amount === 0n) break;
      if (tranche.date > r.valueDate || tranche.left === 0n) continue;
      const take = amount < tranche.left ? amount : tranche.left;
      tranche.left -= take;
      tranche.cuts.push({ valueDate: r.valueDate, amount: take });
      amount -= take;
    }
    if (amount > 0n) throw new RangeError(`repayments on ${r.valueDate} exceed the principal paid out by then`);
  }
  return ordered.reduce((sum, tranche) => sum + bulletInterestWithRepayments({ ...t, disbursementDate: tranche.date }, tranche.amount, tranche.cuts, until), 0n);
}
