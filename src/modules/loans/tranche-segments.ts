// Read helper: the further tranches a loan has paid out, as principal segments with their own
// dates (a loan's first disbursement is the loan itself, on its disbursement date). The money-in
// side needs them to accrue a multi-tranche bullet loan's interest tranche by tranche, as
// src/domain/tranche.ts charged it. Kept apart from tranches.ts (the request/payout flow) so
// readers do not depend on it.
import type { Database } from '../../db/database.js';
import type { PrincipalTranche } from '../../domain/prepay.js';
import { columnToDate } from '../../http/wire.js';

/** Disbursed tranches of each loan (beyond its first disbursement), oldest first; loans without any are absent. */
export async function disbursedTranchesOf(db: Database, companyId: string, loanIds: readonly string[]): Promise<Map<string, PrincipalTranche[]>> {
  const result = new Map<string, PrincipalTranche[]>();
  if (loanIds.length === 0) return result;
  const rows = await db.client.tranche.findMany({
    where: { companyId, loanId: { in: [...new Set(loanIds)] }, status: 'disbursed', disbursementDate: { not: null } },
    orderBy: [{ loanId: 'asc' }, { number: 'asc' }],
    select: { loanId: true, amountPaise: true, disbursementDate: true },
  });
  for (const row of rows) {
    result.set(row.loanId, [...(result.get(row.loanId) ?? []), { date: columnToDate(row.disbursementDate!), amount: row.amountPaise }]);
  }
  return result;
}
