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
