// The ledger: where the allocation engine's plan meets the database. It reads an account's open
// demands (with the interest accrued to the value date for prepayments), writes one settlement
// row per line, moves the demands' paid figures, gives repaid principal back to the line, closes
// loans with nothing left, and re-checks conservation from the database before the transaction
// commits. Callers hold the account's row lock.
import type { Database } from '../../db/database.js';
import { outstandingOf } from '../../db/demand-sql.js';
import { allocate, type Allocation, type ExcessHandling, type OpenDemand, type SettlementLine, type SettlementOrder } from '../../domain/allocation.js';
import { foreclosureAmount } from '../../domain/foreclosure.js';
import { newId } from '../../domain/ids.js';
import { release } from '../../domain/limits.js';
import { slabBound, type Component, type StoredParams } from '../../domain/loan-params.js';
import { loanKindOf } from '../../domain/loan-terms.js';
import { bulletInterestWithRepayments, type PrincipalRepayment } from '../../domain/prepay.js';
import type { BusinessDate } from '../../domain/time.js';
import { DomainError } from '../../errors.js';
import type { Demand, Loan, Prisma } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository, limitColumns, limitOf } from '../line-details/repository.js';
import type { LineDetailsService } from '../line-details/service.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import type { Actor } from '../users/service.js';

/** Loans whose demands take money. */
export const OPEN_LOAN_STATUSES = ['active', 'overdue', 'npa'];

const COLUMN: Record<Component, { due: keyof Demand; paid: keyof Demand; waived: keyof Demand }> = {
  P: { due: 'pDuePaise', paid: 'pPaidPaise', waived: 'pWaivedPaise' },
  NI: { due: 'niDuePaise', paid: 'niPaidPaise', waived: 'niWaivedPaise' },
  OI: { due: 'oiDuePaise', paid: 'oiPaidPaise', waived: 'oiWaivedPaise' },
  PI: { due: 'piDuePaise', paid: 'piPaidPaise', waived: 'piWaivedPaise' },
  FEE: { due: 'feeDuePaise', paid: 'feePaidPaise', waived: 'feeWaivedPaise' },
};
const PAID_FIELD: Record<Component, string> = { P: 'pPaidPaise', NI: 'niPaidPaise', OI: 'oiPaidPaise', PI: 'piPaidPaise', FEE: 'feePaidPaise' };

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

export class Ledger {
  constructor(private readonly db: Database, private readonly lineDetails: LineDetailsService) {}

  /** The open demands of the account's open loans (or of `loanIds`), as the engine sees them on valueDate. */
  async openBook(companyId: string, accountId: string, loanIds: readonly string[], valueDate: BusinessDate): Promise<OpenBook> {
    const loans = await this.db.client.loan.findMany({
      where: { companyId, accountId, status: { in: OPEN_LOAN_STATUSES }, ...(loanIds.length > 0 ? { id: { in: [...loanIds] } } : {}) },
    });
    const rows = await this.db.client.demand.findMany({
      where: { companyId, loanId: { in: loans.map((l) => l.id) }, status: { not: 'cancelled' } },
      orderBy: [{ dueDate: 'asc' }, { installmentNumber: 'asc' }],
    });
    const byLoan = new Map(loans.map((l) => [l.id, l]));
    const accrued = await this.accruedInterest(companyId, loans, rows, valueDate);
    const demands: OpenDemand[] = rows.filter((d) => demandOutstanding(d) > 0n).map((d) => ({
      id: d.id, loanId: d.loanId, dueDate: columnToDate(d.dueDate), installmentNumber: d.installmentNumber,
      loanDisbursementDate: columnToDate(byLoan.get(d.loanId)!.disbursementDate!),
      outstanding: { P: componentOutstanding(d, 'P'), NI: componentOutstanding(d, 'NI'), OI: componentOutstanding(d, 'OI'), PI: componentOutstanding(d, 'PI'), FEE: componentOutstanding(d, 'FEE') },
      accruedInterest: accrued.get(d.id),
    }));
    return { demands, rows: new Map(rows.map((d) => [d.id, d])), loans: byLoan };
  }

  /** Interest accrued to valueDate and not yet paid on each loan's running (not yet due) demand: what a prepayment may settle. */
  private async accruedInterest(companyId: string, loans: Loan[], rows: Demand[], valueDate: BusinessDate): Promise<Map<string, bigint>> {
    const result = new Map<string, bigint>();
    for (const loan of loans) {
      const terms = paramsFromJson(loan.terms);
      const demands = rows.filter((d) => d.loanId === loan.id);
      const running = demands.filter((d) => d.kind === 'emi' && columnToDate(d.dueDate) > valueDate)[0];
      if (!running || !loan.disbursementDate) continue;
      const disbursed = columnToDate(loan.disbursementDate);
      if (loanKindOf(terms) === 'bullet') {
        const owed = bulletInterestWithRepayments(bulletTerms(terms, disbursed), running.pDuePaise, await this.prepaidPrincipal(companyId, loan.id), valueDate);
        const settled = running.niPaidPaise + running.niWaivedPaise;
        result.set(running.id, owed > settled ? owed - settled : 0n);
      } else {
        const snapshots = demands.map((d) => ({
          kind: d.kind as 'emi' | 'fee', periodStart: d.periodStart ? columnToDate(d.periodStart) : null, dueDate: columnToDate(d.dueDate),
          p: componentOutstanding(d, 'P'), ni: componentOutstanding(d, 'NI'), oi: componentOutstanding(d, 'OI'), pi: componentOutstanding(d, 'PI'),
          fee: componentOutstanding(d, 'FEE'), pDue: d.pDuePaise, niDue: d.niDuePaise, niPaid: d.niPaidPaise,
        }));
        result.set(running.id, foreclosureAmount(terms, disbursed, snapshots, valueDate).accruedInterest);
      }
    }
    return result;
  }

  /** Principal a loan has had prepaid (net of reversals), by value date. */
  private async prepaidPrincipal(companyId: string, loanId: string): Promise<PrincipalRepayment[]> {
    const rows = await this.db.client.$queryRaw<{ value_date: Date; amount: bigint }[]>`
      SELECT value_date, SUM(amount_paise)::bigint AS amount FROM settlements
      WHERE company_id = ${companyId}::uuid AND loan_id = ${loanId}::uuid AND component = 'P' AND source = 'prepay'
      GROUP BY value_date HAVING SUM(amount_paise) <> 0 ORDER BY value_date`;
    return rows.map((r) => ({ valueDate: columnToDate(r.value_date), amount: r.amount }));
  }

  /** Runs the engine over the book; engine input errors are bugs of ours, invariant breaks likewise. */
  plan(book: OpenBook, rules: AllocationRules): Allocation {
    return allocate({ demands: book.demands, ...rules });
  }

  /**
   * Writes the plan: settlements, demand paid figures and statuses, principal back to the line,
   * re-derived bullet interest after a prepayment, closed loans; then re-checks conservation.
   * Returns the ids of the loans the record touched.
   */
  async apply(by: Actor, record: { id: string; accountId: string; amountPaise: bigint }, book: OpenBook, allocation: Allocation, valueDate: BusinessDate): Promise<string[]> {
    let remaining = record.amountPaise;
    const rows: Prisma.SettlementCreateManyInput[] = [];
    const state = new Map([...book.rows].map(([id, d]) => [id, { ...d }]));
    for (const line of allocation.lines) {
      const demand = state.get(line.demandId)!;
      (demand as Record<string, unknown>)[PAID_FIELD[line.component]] = (demand[COLUMN[line.component].paid] as bigint) + line.amount;
      remaining -= line.amount;
      rows.push(this.settlementRow(by, record, demand, line, valueDate, remaining));
    }
    if (rows.length > 0) await this.db.client.settlement.createMany({ data: rows });
    const touchedDemands = [...new Set(allocation.lines.map((l) => l.demandId))];
    for (const id of touchedDemands) await this.writeDemand(by, book.rows.get(id)!, state.get(id)!);
    const loanIds = [...new Set(allocation.lines.map((l) => l.loanId))];
    await this.rederiveBulletInterest(by, book, allocation.lines);
    await this.releasePrincipal(by, record.accountId, book, allocation.lines);
    for (const loanId of loanIds) await this.closeIfRepaid(by, book.loans.get(loanId)!);
    await this.assertConserved(by.companyId, record.id, record.amountPaise, allocation.excess);
    return loanIds;
  }

  private settlementRow(by: Actor, record: { id: string; accountId: string }, demand: Demand, line: SettlementLine, valueDate: BusinessDate, remaining: bigint): Prisma.SettlementCreateManyInput {
    return {
      id: newId(), companyId: by.companyId, accountId: record.accountId, recordId: record.id, loanId: line.loanId, demandId: line.demandId,
      component: line.component, source: line.source, amountPaise: line.amount, valueDate: dateToColumn(valueDate), remainingAfterPaise: remaining,
      // due_amount is what was due on the demand that day: its outstanding if it had fallen due, else 0.
      demandOutstandingPaise: demandOutstanding(demand), demandDuePaise: columnToDate(demand.dueDate) <= valueDate ? demandOutstanding(demand) : 0n,
      dpd: demand.dpd, peakDpd: demand.peakDpd,
    };
  }

  private async writeDemand(by: Actor, before: Demand, after: Demand): Promise<void> {
    const status = demandOutstanding(after) === 0n ? 'paid' : 'partially_paid';
    const data: Prisma.DemandUncheckedUpdateManyInput = { status };
    for (const c of ['P', 'NI', 'OI', 'PI', 'FEE'] as const) {
      const delta = (after[COLUMN[c].paid] as bigint) - (before[COLUMN[c].paid] as bigint);
      if (delta !== 0n) (data as Record<string, unknown>)[PAID_FIELD[c]] = { increment: delta };
    }
    await this.db.client.demand.updateMany({ where: { companyId: by.companyId, id: before.id }, data });
  }

  /** A bullet loan prepaid before maturity owes interest on the reduced principal from the next day on. */
  private async rederiveBulletInterest(by: Actor, book: OpenBook, lines: readonly SettlementLine[]): Promise<void> {
    const prepaid = new Set(lines.filter((l) => l.source === 'prepay' && l.component === 'P').map((l) => l.demandId));
    for (const demandId of prepaid) {
      const demand = (await this.db.client.demand.findFirst({ where: { companyId: by.companyId, id: demandId } }))!;
      const loan = book.loans.get(demand.loanId)!;
      const terms = paramsFromJson(loan.terms);
      if (loanKindOf(terms) !== 'bullet' || terms.interest_collection === 'upfront') continue;
      const owed = bulletInterestWithRepayments(bulletTerms(terms, columnToDate(loan.disbursementDate!)), demand.pDuePaise,
        await this.prepaidPrincipal(by.companyId, loan.id), columnToDate(demand.dueDate));
      const floor = demand.niPaidPaise + demand.niWaivedPaise;
      const niDue = owed > floor ? owed : floor;
      const status = demandOutstanding({ ...demand, niDuePaise: niDue }) === 0n ? 'paid' : demand.status;
      await this.db.client.demand.updateMany({ where: { companyId: by.companyId, id: demandId }, data: { niDuePaise: niDue, status } });
    }
  }

  /** Repaid principal is available to draw again on the loan's line. */
  private async releasePrincipal(by: Actor, accountId: string, book: OpenBook, lines: readonly SettlementLine[]): Promise<void> {
    const byLine = new Map<string, bigint>();
    for (const line of lines.filter((l) => l.component === 'P')) {
      const type = book.loans.get(line.loanId)!.lineType;
      byLine.set(type, (byLine.get(type) ?? 0n) + line.amount);
    }
    if (byLine.size === 0) return;
    const repo = new LineDetailsRepository(this.db, by.companyId);
    for (const [type, amount] of byLine) {
      const line = await repo.findByType(accountId, type);
      if (!line) continue;
      try {
        await repo.update(line.id, limitColumns(release(limitOf(line), amount)));
      } catch (error) {
        // A line that used less than the principal repaid on it has drifted: a bug, never fixed silently.
        throw new DomainError('INVARIANT_VIOLATION', `Line ${line.id}: ${(error as Error).message}`);
      }
    }
    await this.lineDetails.recomputeAccount(by.companyId, accountId);
  }

  private async closeIfRepaid(by: Actor, loan: Loan): Promise<void> {
    const [left] = await this.db.client.$queryRaw<{ open: bigint }[]>`
      SELECT count(*)::bigint AS open FROM demands
      WHERE company_id = ${by.companyId}::uuid AND loan_id = ${loan.id}::uuid AND status <> 'cancelled'
        AND (${outstandingOf('p')} + ${outstandingOf('ni')} + ${outstandingOf('oi')} + ${outstandingOf('pi')} + ${outstandingOf('fee')}) > 0`;
    if (left!.open > 0n) return;
    await this.db.client.loan.updateMany({ where: { companyId: by.companyId, id: loan.id }, data: { status: 'closed', closedAt: new Date() } });
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loan.id, action: 'closed', actor: by.actor, data: { reason: 'repaid' } });
  }

  /** Conservation from the database: what the record's settlements hold plus its excess is its amount. */
  async assertConserved(companyId: string, recordId: string, amount: bigint, excess: bigint): Promise<void> {
    const [row] = await this.db.client.$queryRaw<{ settled: bigint }[]>`
      SELECT COALESCE(SUM(amount_paise), 0)::bigint AS settled FROM settlements WHERE company_id = ${companyId}::uuid AND record_id = ${recordId}::uuid`;
    if (row!.settled + excess !== amount) {
      throw new DomainError('INVARIANT_VIOLATION', `Record ${recordId}: settlements ${row!.settled} + excess ${excess} != amount ${amount} paise.`);
    }
  }
}

function bulletTerms(terms: StoredParams, disbursementDate: BusinessDate) {
  return {
    slabs: terms.roi_value.map((s) => ({ upToDay: slabBound(s.days), rate: s.value })), disbursementDate,
    interestStarts: terms.interest_starts, yearDays: terms.days_in_year === 360 ? 360n as const : 365n as const,
  };
}
