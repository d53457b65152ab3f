// EOD step 2 (domain.md section 6): excess held on an account's records is applied to the
// demands due on or before the day, oldest record first, through the allocation engine, with the
// record's own settlement and component order. Pure: the EOD runner passes working copies of the
// demands (mutated here: what each line pays is added to `paid`) and of the records (their
// available excess and unapplied TDS go down), and writes the lines it gets back.
//
// Lines are tagged `excess` (cash) and `excess_tds` (the record's TDS that no interest had taken
// yet: the engine lets it settle NI and OI only). Neither is a source the record replay
// re-splits: like any excess applied after the fact they stay as posted when an earlier record
// arrives late (src/modules/records/replay.ts), and the record's remaining amount already
// excludes them, so settlements + remaining = amount holds throughout.
import { allocate, type OpenDemand, type SettlementOrder } from './allocation.js';
import type { Component } from './loan-params.js';
import { outstandingOf, totalOutstanding, type DemandState } from './replay.js';
import type { BusinessDate } from './time.js';

export interface HeldRecord {
  id: string;
  /** Available excess: remaining less what a refund in flight has reserved. */
  available: bigint;
  /** The part of `available` that is TDS no interest has taken. */
  unappliedTds: bigint;
  settlementOrder: SettlementOrder;
  componentOrder: readonly Component[];
  /** Settle only these loans; empty means any loan of the account. */
  loanIds: readonly string[];
  /** The record's value date: its excess exists only from that day on (absent: always). */
  valueDate?: BusinessDate;
}

export interface ExcessLine {
  recordId: string;
  loanId: string;
  demandId: string;
  component: Component;
  source: 'excess' | 'excess_tds';
  amount: bigint;
  /** The record's available excess right after this line. */
  remainingAfter: bigint;
  /** The demand's outstanding (all components) right after this line. */
  outstandingAfter: bigint;
}

/**
 * Applies `records` (in the order given: oldest first) to `demands` due on or before `day`.
 * `disbursed` gives each open loan's disbursement date (the engine's first tie-break); demands of
 * other loans are not touched.
 */
export function applyHeldExcess(records: HeldRecord[], demands: DemandState[], disbursed: ReadonlyMap<string, BusinessDate>, day: BusinessDate): ExcessLine[] {
  const lines: ExcessLine[] = [];
  const byId = new Map(demands.map((d) => [d.id, d]));
  for (const record of records) {
    if (record.available <= 0n || (record.valueDate !== undefined && record.valueDate > day)) continue;
    const open: OpenDemand[] = [];
    for (const d of demands) {
      const disbursedOn = disbursed.get(d.loanId);
      if (!disbursedOn || d.dueDate > day || totalOutstanding(d) === 0n) continue;
      if (record.loanIds.length > 0 && !record.loanIds.includes(d.loanId)) continue;
      open.push({
        id: d.id, loanId: d.loanId, dueDate: d.dueDate, loanDisbursementDate: disbursedOn, installmentNumber: d.installmentNumber,
        outstanding: { P: outstandingOf(d, 'P'), NI: outstandingOf(d, 'NI'), OI: outstandingOf(d, 'OI'), PI: outstandingOf(d, 'PI'), FEE: outstandingOf(d, 'FEE') },
      });
    }
    if (open.length === 0) continue;
    const tds = record.unappliedTds < record.available ? record.unappliedTds : record.available;
    const plan = allocate({
      demands: open, amount: record.available, tdsAmount: tds, valueDate: day,
      settlementOrder: record.settlementOrder, componentOrder: record.componentOrder, excessHandling: 'hold',
    });
    for (const line of plan.lines) {
      const d = byId.get(line.demandId)!;
      d.paid[line.component] += line.amount;
      record.available -= line.amount;
      if (line.source === 'tds') record.unappliedTds -= line.amount;
      lines.push({
        recordId: record.id, loanId: line.loanId, demandId: line.demandId, component: line.component,
        source: line.source === 'tds' ? 'excess_tds' : 'excess', amount: line.amount, remainingAfter: record.available, outstandingAfter: totalOutstanding(d),
      });
    }
  }
  return lines;
}

/** Principal a set of lines paid, per loan. */
export function principalByLoan(lines: readonly ExcessLine[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const l of lines) if (l.component === 'P') out.set(l.loanId, (out.get(l.loanId) ?? 0n) + l.amount);
  return out;
}
