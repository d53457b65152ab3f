// Loans and demands as the pure accrual and replay code sees them (src/domain/replay.ts), and the
// principal a loan has had prepaid. Kept in the loans module so both the loan summary (its
// foreclosure quote) and the records ledger read a loan the same way.
import type { Database } from '../../db/database.js';
import type { PrincipalRepayment, PrincipalTranche } from '../../domain/prepay.js';
import type { DemandState, LoanState } from '../../domain/replay.js';
import type { Demand, Loan } from '../../generated/prisma/client.js';
import { columnToDate } from '../../http/wire.js';
import { paramsFromJson } from '../loan-params/schemas.js';

/** A demand row as the pure replay sees it. */
export function demandStateOf(d: Demand): DemandState {
  return {
    id: d.id, loanId: d.loanId, kind: d.kind === 'fee' ? 'fee' : 'emi', installmentNumber: d.installmentNumber,
    periodStart: d.periodStart ? columnToDate(d.periodStart) : null, dueDate: columnToDate(d.dueDate),
    due: { P: d.pDuePaise, NI: d.niDuePaise, OI: d.oiDuePaise, PI: d.piDuePaise, FEE: d.feeDuePaise },
    paid: { P: d.pPaidPaise, NI: d.niPaidPaise, OI: d.oiPaidPaise, PI: d.piPaidPaise, FEE: d.feePaidPaise },
    waived: { P: d.pWaivedPaise, NI: d.niWaivedPaise, OI: d.oiWaivedPaise, PI: d.piWaivedPaise, FEE: d.feeWaivedPaise },
  };
}

/** A disbursed loan row (and its further tranches paid out, if any) as the pure replay sees it. */
export const loanStateOf = (l: Loan, tranches?: readonly PrincipalTranche[]): LoanState => ({
  id: l.id, terms: paramsFromJson(l.terms), disbursementDate: columnToDate(l.disbursementDate!), ...(tranches?.length ? { tranches } : {}),
});

/** Anything paid or waived on a demand: its settled rupees must never move (Reset RPS, tranches). */
export const isTouched = (d: Demand): boolean =>
  d.pPaidPaise + d.niPaidPaise + d.oiPaidPaise + d.piPaidPaise + d.feePaidPaise + d.pWaivedPaise + d.niWaivedPaise + d.oiWaivedPaise + d.piWaivedPaise + d.feeWaivedPaise > 0n;

/** Principal a loan has had prepaid (net of reversals), by value date. */
export async function prepaidPrincipalOf(db: Database, companyId: string, loanId: string): Promise<PrincipalRepayment[]> {
  return (await prepaidPrincipalByLoan(db, companyId, [loanId])).get(loanId) ?? [];
}

/** The same for several loans in one statement: loan id -> its prepayments (loans with none are absent). */
export async function prepaidPrincipalByLoan(db: Database, companyId: string, loanIds: readonly string[]): Promise<Map<string, PrincipalRepayment[]>> {
  const result = new Map<string, PrincipalRepayment[]>();
  if (loanIds.length === 0) return result;
  const rows = await db.client.$queryRaw<{ loan_id: string; value_date: Date; amount: bigint }[]>`
    SELECT loan_id, value_date, SUM(amount_paise)::bigint AS amount FROM settlements
    WHERE company_id = ${companyId}::uuid AND loan_id = ANY(${[...loanIds]}::uuid[]) AND component = 'P' AND source = 'prepay'
    GROUP BY loan_id, value_date HAVING SUM(amount_paise) <> 0 ORDER BY loan_id, value_date`;
  for (const r of rows) result.set(r.loan_id, [...(result.get(r.loan_id) ?? []), { valueDate: columnToDate(r.value_date), amount: r.amount }]);
  return result;
}
