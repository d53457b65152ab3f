// A further tranche of a multi-tranche loan as a pure plan. Interest on each tranche runs from
// its own date; demands already due on the tranche date, or with anything paid or waived, are
// kept exactly as they are.
// - EMI loans: the open installments (due after the tranche date, untouched) are cancelled and
//   their principal plus the tranche is re-amortised over the same number of installments and the
//   same due dates; the first new installment's interest leaves out the tranche's interest for the
//   days before the tranche was paid out.
// - Bullet loans: the maturity demand grows by the tranche and by the tranche's own slab interest
//   from its date to maturity (slab days counted from the tranche's date).
import { dayCountOf, simpleInterest, yearFraction } from './interest.js';
import { slabBound, type StoredParams } from './loan-params.js';
import { loanKindOf, TermsError } from './loan-terms.js';
import { roundDiv } from './money.js';
import { amortisingSchedule, bulletInterestUntil, type Installment } from './schedule.js';
import type { BusinessDate } from './time.js';

export interface TrancheDemand {
  id: string;
  kind: 'emi' | 'fee';
  installmentNumber: number | null;
  dueDate: BusinessDate;
  pDue: bigint;
  touched: boolean;
}

export type TranchePlan =
  | { kind: 'emi'; cancel: string[]; create: Installment[] }
  | { kind: 'bullet'; demandId: string; addPrincipal: bigint; addInterest: bigint };

export function planTranche(terms: StoredParams, disbursementDate: BusinessDate, demands: readonly TrancheDemand[], amount: bigint, trancheDate: BusinessDate): TranchePlan {
  if (amount <= 0n) throw new RangeError('a tranche must be positive');
  if (trancheDate < disbursementDate) throw new TermsError('amount', 'a tranche cannot be paid out before the loan itself');
  const kind = loanKindOf(terms);
  if (kind === 'flat') throw new TermsError('loan_id', 'a flat-rate loan takes no further tranches');
  const emis = demands.filter((d) => d.kind === 'emi').sort((a, b) => (a.installmentNumber ?? 0) - (b.installmentNumber ?? 0));
  return kind === 'bullet' ? bulletTranche(terms, emis, amount, trancheDate) : emiTranche(terms, disbursementDate, emis, amount, trancheDate);
}

function bulletTranche(terms: StoredParams, emis: readonly TrancheDemand[], amount: bigint, trancheDate: BusinessDate): TranchePlan {
  const maturity = emis[0];
  if (!maturity || emis.length !== 1) throw new TermsError('loan_id', 'the bullet loan has no single maturity demand');
  if (maturity.touched || maturity.dueDate <= trancheDate) throw new TermsError('loan_id', 'the loan has matured or been paid into; it takes no further tranches');
  if (terms.interest_collection === 'upfront') throw new TermsError('loan_id', 'a loan with upfront interest takes no further tranches');
  const addInterest = bulletInterestUntil({
    principal: amount, slabs: terms.roi_value.map((s) => ({ upToDay: slabBound(s.days), rate: s.value })), disbursementDate: trancheDate,
    interestStarts: terms.interest_starts, yearDays: terms.days_in_year === 360 ? 360n : 365n,
  }, maturity.dueDate);
  return { kind: 'bullet', demandId: maturity.id, addPrincipal: amount, addInterest };
}

function emiTranche(terms: StoredParams, disbursementDate: BusinessDate, emis: readonly TrancheDemand[], amount: bigint, trancheDate: BusinessDate): TranchePlan {
  // Everything up to the last installment that is due or touched stays; the untouched tail moves.
  const lastKept = Math.max(0, ...emis.filter((d) => d.touched || d.dueDate <= trancheDate).map((d) => d.installmentNumber ?? 0));
  const open = emis.filter((d) => (d.installmentNumber ?? 0) > lastKept);
  if (open.length === 0) throw new TermsError('loan_id', 'the loan has no installment left after the tranche date');
  const kept = emis.filter((d) => !open.includes(d));
  const from = kept.length > 0 ? kept.map((d) => d.dueDate).sort().at(-1)! : disbursementDate;
  const rate = terms.roi_value.at(-1)?.value;
  if (rate === undefined) throw new TermsError('roi_value', 'the params name no interest rate');
  const dayCount = dayCountOf(terms.days_in_year, terms.days_in_month);
  const schedule = amortisingSchedule({
    principal: open.reduce((s, d) => s + d.pDue, 0n) + amount, rate, count: open.length, frequency: terms.emi_frequency ?? 'monthly',
    disbursementDate: from, firstDueDate: open[0]!.dueDate, dayCount,
  });
  // The tranche was not out before its date: take its interest for [from, trancheDate) back out.
  const early = simpleInterest(amount, rate, yearFraction(from, trancheDate > from ? trancheDate : from, dayCount));
  const notOwed = roundDiv(early.num, early.den);
  const firstNumber = Math.max(0, ...kept.map((d) => d.installmentNumber ?? 0)) + 1;
  const create = schedule.installments.map((i, index) => ({
    ...i, number: firstNumber + index, interest: index === 0 ? (i.interest > notOwed ? i.interest - notOwed : 0n) : i.interest,
  }));
  return { kind: 'emi', cancel: open.map((d) => d.id), create };
}
