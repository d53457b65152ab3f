// Reset RPS as a pure plan: demands with anything paid or waived are kept exactly as they are
// (no settled rupee moves); the rest of the EMI schedule is cancelled and the principal those
// demands carried is rescheduled under the current terms, from the last kept due date (or the
// disbursement date), over the same number of installments.
import type { StoredParams } from './loan-params.js';
import { loanKindOf, scheduleFor } from './loan-terms.js';
import type { Installment } from './schedule.js';
import type { BusinessDate } from './time.js';

export interface ExistingDemand {
  id: string;
  kind: 'emi' | 'fee';
  installmentNumber: number | null;
  dueDate: BusinessDate;
  pDue: bigint;
  touched: boolean;
}

export interface ResetPlan {
  cancel: string[];
  /** New installments, numbered after the kept ones. */
  create: Installment[];
  reschedulePrincipal: bigint;
}

export function planReset(terms: StoredParams, disbursementDate: BusinessDate, demands: readonly ExistingDemand[]): ResetPlan {
  const emis = demands.filter((d) => d.kind === 'emi').sort((a, b) => (a.installmentNumber ?? 0) - (b.installmentNumber ?? 0));
  const kept = emis.filter((d) => d.touched);
  const open = emis.filter((d) => !d.touched);
  const reschedulePrincipal = open.reduce((s, d) => s + d.pDue, 0n);
  if (open.length === 0 || reschedulePrincipal === 0n) return { cancel: [], create: [], reschedulePrincipal: 0n };
  const from = kept.length > 0 ? kept.map((d) => d.dueDate).sort().at(-1)! : disbursementDate;
  const count = loanKindOf(terms) === 'bullet' ? 1 : open.length;
  const schedule = scheduleFor({ ...terms, emi_count: loanKindOf(terms) === 'bullet' ? terms.emi_count : count }, reschedulePrincipal, from);
  const firstNumber = Math.max(0, ...kept.map((d) => d.installmentNumber ?? 0)) + 1;
  return {
    cancel: open.map((d) => d.id),
    create: schedule.installments.map((i, index) => ({ ...i, number: firstNumber + index })),
    reschedulePrincipal,
  };
}
