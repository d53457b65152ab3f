// The ledger: how the allocation engine sees an account in the database. It reads an account's
// open demands (with the interest accrued to the value date for prepayments), turns rows into the
// pure replay's state, and re-checks conservation. Writing settlements is the replay's job alone
// (replay.ts): every allocation takes its place in the (value date, creation) order there, so no
// second write path may bypass it. Callers hold the account's row lock.
import type { Database } from '../../db/database.js';
import { allocate, type Allocation, type ExcessHandling, type OpenDemand, type SettlementOrder } from '../../domain/allocation.js';
import type { Component } from '../../domain/loan-params.js';
import type { PrincipalRepayment, PrincipalTranche } from '../../domain/prepay.js';
import { openDemandsOn, type DemandState, type LoanState } from '../../domain/replay.js';
import type { BusinessDate } from '../../domain/time.js';
import { DomainError } from '../../errors.js';
import type { Demand, Loan } from '../../generated/prisma/client.js';
import { columnToDate } from '../../http/wire.js';
import type { LineDetailsService } from '../line-details/service.js';
import { disbursedTranchesOf } from '../loans/tranche-segments.js';

/** Loans whose demands take money. */
export const OPEN_LOAN_STATUSES = ['active', 'overdue', 'npa'];

const COLUMN: Record<Component, { due: keyof Demand; paid: keyof Demand; waived: keyof Demand }> = {
  P: { due: 'pDuePaise', paid: 'pPaidPaise', waived: 'pWaivedPaise' },
  NI: { due: 'niDuePaise', paid: 'niPaidPaise', waived: 'niWaivedPaise' },
  OI: { due: 'oiDuePaise', paid: 'oiPaidPaise', waived: 'oiWaivedPaise' },
  PI: { due: 'piDuePaise', paid: 'piPaidPaise', waived: 'piWaivedPaise' },
  FEE: { due: 'feeDuePaise', paid: 'feePaidPaise', waived: 'feeWaivedPaise' },
};

export const componentOutstanding = (d: Demand, c: Component): bigint =>
  (d[COLUMN[c].due] as bigint) - (d[COLUMN[c].paid] as bigint) - (d[COLUMN[c].waived] as bigint);
export const demandOutstanding = (d: Demand): bigint => (['P', 'NI', 'OI', 'PI', 'FEE'] as const).reduce((s, c) => s + componentOutstanding(d, c), 0n);
export const demandDue = (d: Demand): bigint => d.pDuePaise + d.niDuePaise + d.oiDuePaise + d.piDuePaise + d.feeDuePaise;

export interface OpenBook {
  demands: OpenDemand[];
  rows: Map<string, Demand>;
  loans: Map<string, Loan>;
}

export interface AllocationRules {
  amount: bigint;
  tdsAmount: bigint;
  valueDate: BusinessDate;
  settlementOrder: SettlementOrder;
  componentOrder: readonly Component[];
  excessHandling: ExcessHandling;
}

import { demandStateOf, loanStateOf, prepaidPrincipalByLoan } from '../loans/loan-state.js';

export { demandStateOf, loanStateOf };

export class Ledger {
  constructor(private readonly db: Database, readonly lineDetails: LineDetailsService) {}

  /**
   * The open demands of the account's open loans (or of `loanIds`), as the engine sees them on
   * valueDate: the same rule as a replay (domain/replay.ts openDemandsOn), so a loan paid out after
   * valueDate takes nothing, and accrued interest follows each tranche's own date.
   */
  async openBook(companyId: string, accountId: string, loanIds: readonly string[], valueDate: BusinessDate): Promise<OpenBook> {
    const loans = await this.db.client.loan.findMany({
      where: { companyId, accountId, status: { in: OPEN_LOAN_STATUSES }, disbursementDate: { not: null }, ...(loanIds.length > 0 ? { id: { in: [...loanIds] } } : {}) },
    });
    const rows = await this.db.client.demand.findMany({
      where: { companyId, loanId: { in: loans.map((l) => l.id) }, status: { not: 'cancelled' } },
      orderBy: [{ dueDate: 'asc' }, { installmentNumber: 'asc' }],
    });
    const tranches = await disbursedTranchesOf(this.db, companyId, loans.map((l) => l.id));
    const prepaid = await prepaidPrincipalByLoan(this.db, companyId, loans.map((l) => l.id));
    const demands = openDemandsOn(loans.map((l) => loanStateOf(l, tranches.get(l.id))), rows.map(demandStateOf), prepaid, valueDate, loanIds);
    return { demands, rows: new Map(rows.map((d) => [d.id, d])), loans: new Map(loans.map((l) => [l.id, l])) };
  }

  /** Runs the engine over the book; engine input errors are bugs of ours, invariant breaks likewise. */
  plan(book: OpenBook, rules: AllocationRules): Allocation {
    return allocate({ demands: book.demands, ...rules });
  }

  /** Conservation from the database: what the record's settlements hold plus its excess (and what was refunded of it) is its amount. */
  async assertConserved(companyId: string, recordId: string, amount: bigint, excess: bigint, refunded = 0n): Promise<void> {
    const [row] = await this.db.client.$queryRaw<{ settled: bigint }[]>`
      SELECT COALESCE(SUM(amount_paise), 0)::bigint AS settled FROM settlements WHERE company_id = ${companyId}::uuid AND record_id = ${recordId}::uuid`;
    if (row!.settled + excess + refunded !== amount) {
      throw new DomainError('INVARIANT_VIOLATION', `Record ${recordId}: settlements ${row!.settled} + excess ${excess} + refunded ${refunded} != amount ${amount} paise.`);
    }
  }
}
