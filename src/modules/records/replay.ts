// Replay in the database: the pure replay (domain/replay.ts) wrapped in the caller's transaction,
// under the account's row lock. Every allocation goes through here: a record processed in order
// replays only itself; one that arrives out of (value date, creation) order, or is reverted,
// replays every processed record of the account that sorts after it. Settlements are never
// updated: a line whose amount changes gets a reversal row (negative, `reverses_id` set, carrying
// the original's value date so value-dated sums stay exact) and a new row. Demands, records'
// excess, the line's used/available figures, bullet interest and loan status follow, and the
// result is re-checked from the database before the transaction commits.
import type { Database } from '../../db/database.js';
import { parseComponentOrderOrThrow, type ExcessHandling, type SettlementOrder } from '../../domain/allocation.js';
import { newId } from '../../domain/ids.js';
import { release, use, type LineLimit } from '../../domain/limits.js';
import { COMPONENTS, type Component } from '../../domain/loan-params.js';
import type { PrincipalRepayment, PrincipalTranche } from '../../domain/prepay.js';
import {
  diffSplits, demandStatusOf, replay, totalOutstanding, unwind,
  type Book, type DemandState, type PostedLine, type RecordChange, type ReplayRecord, type ReplayResult,
} from '../../domain/replay.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError } from '../../errors.js';
import { Prisma, type Demand, type Loan, type Record as LmsRecord, type Settlement } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository, limitColumns, limitOf } from '../line-details/repository.js';
import { disbursedTranchesOf } from '../loans/tranche-segments.js';
import type { Actor } from '../users/service.js';
import { demandStateOf, loanStateOf, OPEN_LOAN_STATUSES, type Ledger } from './ledger.js';

/** Sources the engine writes; others (excess applied later) are fixed: a replay keeps them as they are. */
const REPLAYABLE_SOURCES = new Set(['tds', 'cash', 'prepay']);
const PAID_COLUMN: Record<Component, 'pPaidPaise' | 'niPaidPaise' | 'oiPaidPaise' | 'piPaidPaise' | 'feePaidPaise'> = {
  P: 'pPaidPaise', NI: 'niPaidPaise', OI: 'oiPaidPaise', PI: 'piPaidPaise', FEE: 'feePaidPaise',
};

/**
 * What starts a replay: `allocate` a record being processed now (all of its amount is split);
 * `revert` a processed record (its split becomes empty, every line reversed, excess gone);
 * `replay` a processed record and all after it again, as they are (changes nothing unless the
 * state was not what the order implies).
 */
export interface ReplaySubject {
  kind: 'allocate' | 'revert' | 'replay';
  record: LmsRecord;
}

export interface ReplayOutcome {
  /** The subject's lines (net) and excess after the replay. */
  lines: number;
  excess: bigint;
  /** Reversal rows written on the subject's own lines. */
  ownReversed: number;
  /** Rows written: reversal rows and new rows, over all records. */
  reversed: number;
  created: number;
  /** Other records whose split changed. */
  resplit: string[];
}

interface Loaded {
  accountId: string;
  loans: Map<string, Loan>;
  /** Further tranches each loan has paid out (multi-tranche loans). */
  tranches: Map<string, PrincipalTranche[]>;
  demands: Map<string, Demand>;
  /** The subject, then the processed records after it in (value date, created_at, id) order. */
  records: LmsRecord[];
  /** Live rows of those records that the replay replaces. */
  removed: PostedLine[];
  /** Principal prepaid on each loan by records that are not replayed. */
  fixedPrepaid: Map<string, PrincipalRepayment[]>;
  /** TDS of each record that EOD already applied from its excess (net `excess_tds` lines): not the replay's to split again. */
  fixedTds: Map<string, bigint>;
}

interface Plan {
  result: ReplayResult;
  changes: RecordChange[];
  /** The demands after the replay, by id. */
  after: Map<string, DemandState>;
}

export class Replayer {
  constructor(private readonly db: Database, private readonly ledger: Ledger) {}

  /** Runs a replay for `subject`; the caller holds the account's and the subject's row locks. */
  async run(by: Actor, subject: ReplaySubject): Promise<ReplayOutcome> {
    const loaded = await this.load(by.companyId, subject);
    const plan = this.plan(loaded, subject);
    await this.writeSettlements(by, loaded, plan, subject);
    await this.writeDemands(by.companyId, loaded, plan);
    const resplit = await this.writeRecords(by, loaded, plan, subject);
    await this.moveLimits(by, loaded, plan);
    await this.settleLoanStatus(by, loaded, plan, subject);
    await this.check(by.companyId, loaded, plan, subject);
    const reversed = plan.changes.reduce((s, c) => s + c.reverse.length, 0);
    const created = plan.changes.reduce((s, c) => s + c.create.length, 0);
    if (subject.kind !== 'allocate' || resplit.length > 0) {
      await writeAudit(this.db, {
        companyId: by.companyId, entityType: 'account', entityId: loaded.accountId, action: 'replayed', actor: by.actor,
        data: { cause: subject.kind, record: subject.record.id, from: columnToDate(subject.record.valueDate!), records: loaded.records.length, resplit, reversed, created },
      });
    }
    const split = plan.result.splits.find((s) => s.recordId === subject.record.id)!;
    const ownReversed = plan.changes.find((c) => c.recordId === subject.record.id)!.reverse.length;
    return { lines: split.lines.length, excess: split.excess, ownReversed, reversed, created, resplit };
  }

  /** The latest value date of a live (not reversed) settlement on the record's loans (or account). */
  async latestSettledDate(companyId: string, record: LmsRecord): Promise<BusinessDate | null> {
    const loans = record.loanIds.length > 0 ? Prisma.sql`AND s.loan_id IN (${Prisma.join(record.loanIds.map((id) => Prisma.sql`${id}::uuid`))})` : Prisma.empty;
    const [row] = await this.db.client.$queryRaw<{ latest: Date | null }[]>`
      SELECT max(s.value_date) AS latest FROM settlements s
      WHERE s.company_id = ${companyId}::uuid AND s.account_id = ${record.accountId}::uuid AND s.amount_paise > 0 ${loans}
        AND NOT EXISTS (SELECT 1 FROM settlements r WHERE r.reverses_id = s.id)`;
    return row?.latest ? columnToDate(row.latest) : null;
  }

  private async load(companyId: string, subject: ReplaySubject): Promise<Loaded> {
    const accountId = subject.record.accountId!;
    const records = [subject.record, ...(await this.laterRecords(companyId, subject.record))];
    const ids = records.map((r) => r.id);
    const rows = await this.db.client.settlement.findMany({ where: { companyId, recordId: { in: ids } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    const reversed = new Set(rows.map((r) => r.reversesId).filter((id): id is string => id !== null));
    // A reverted record loses every line, whatever wrote it; the others keep lines the engine did not write.
    const removed = rows
      .filter((r) => r.amountPaise > 0n && !reversed.has(r.id))
      .filter((r) => (subject.kind === 'revert' && r.recordId === subject.record.id) || REPLAYABLE_SOURCES.has(r.source))
      .map(postedLineOf);
    // Closed loans matter only where the replay takes lines off them (it may reopen them); the rest owe nothing.
    const reopenable = [...new Set(removed.map((l) => l.loanId))];
    const loans = await this.db.client.loan.findMany({
      where: { companyId, accountId, disbursementDate: { not: null }, OR: [{ status: { in: OPEN_LOAN_STATUSES } }, { status: 'closed', id: { in: reopenable } }] },
    });
    const demands = await this.db.client.demand.findMany({ where: { companyId, loanId: { in: loans.map((l) => l.id) }, status: { not: 'cancelled' } } });
    const loaded: Loaded = {
      accountId, records, removed, loans: new Map(loans.map((l) => [l.id, l])), demands: new Map(demands.map((d) => [d.id, d])),
      tranches: await disbursedTranchesOf(this.db, companyId, loans.map((l) => l.id)),
      fixedPrepaid: await this.fixedPrepaid(companyId, accountId, ids),
      fixedTds: new Map(),
    };
    for (const row of rows) {
      if (row.source === 'excess_tds') loaded.fixedTds.set(row.recordId, (loaded.fixedTds.get(row.recordId) ?? 0n) + row.amountPaise);
    }
    for (const line of removed) {
      if (!loaded.demands.has(line.demandId)) {
        // Written off, or a demand cancelled since: moving money there again is a decision for an operator.
        throw new DomainError('STATE_CONFLICT', `Record ${line.recordId} settled demand ${line.demandId}, which is no longer open to settlement (its loan is not open, or the demand was cancelled); the account's records cannot be replayed from here.`, { record: [line.recordId] });
      }
    }
    return loaded;
  }

  /** Processed records of the account that sort after `record` in (value date, created_at, id) order. */
  private async laterRecords(companyId: string, record: LmsRecord): Promise<LmsRecord[]> {
    // Compared in SQL against the subject's own row: created_at has microseconds, a JS Date only milliseconds.
    const later = await this.db.client.$queryRaw<{ id: string }[]>`
      SELECT r.id FROM records r JOIN records s ON s.company_id = r.company_id AND s.id = ${record.id}::uuid
      WHERE r.company_id = ${companyId}::uuid AND r.account_id = ${record.accountId}::uuid AND r.status = 'processed'
        AND (r.value_date, r.created_at, r.id) > (s.value_date, s.created_at, s.id)
      ORDER BY r.value_date, r.created_at, r.id`;
    if (later.length === 0) return [];
    const rows = new Map((await this.db.client.record.findMany({ where: { companyId, id: { in: later.map((r) => r.id) } } })).map((r) => [r.id, r]));
    return later.map((r) => rows.get(r.id)!);
  }

  /** Principal prepayments of the records that are not replayed, net of reversals, by loan and value date. */
  private async fixedPrepaid(companyId: string, accountId: string, replayed: string[]): Promise<Map<string, PrincipalRepayment[]>> {
    const rows = await this.db.client.$queryRaw<{ loan_id: string; value_date: Date; amount: bigint }[]>`
      SELECT loan_id, value_date, SUM(amount_paise)::bigint AS amount FROM settlements
      WHERE company_id = ${companyId}::uuid AND account_id = ${accountId}::uuid AND component = 'P' AND source = 'prepay'
        AND record_id NOT IN (${Prisma.join(replayed.map((id) => Prisma.sql`${id}::uuid`))})
      GROUP BY loan_id, value_date HAVING SUM(amount_paise) <> 0 ORDER BY loan_id, value_date`;
    const result = new Map<string, PrincipalRepayment[]>();
    for (const r of rows) result.set(r.loan_id, [...(result.get(r.loan_id) ?? []), { valueDate: columnToDate(r.value_date), amount: r.amount }]);
    return result;
  }

  /** Unwind, replay, diff: all pure. Engine and replay invariant breaks are bugs: 500, never fixed up. */
  private plan(loaded: Loaded, subject: ReplaySubject): Plan {
    const current: Book = {
      loans: [...loaded.loans.values()].map((l) => loanStateOf(l, loaded.tranches.get(l.id))), demands: [...loaded.demands.values()].map(demandStateOf), prepaid: loaded.fixedPrepaid,
    };
    const records = loaded.records.map((r, sequence) => replayRecordOf(r, sequence, this.poolOf(r, loaded, subject), loaded.fixedTds.get(r.id) ?? 0n));
    try {
      const result = replay(unwind(current, loaded.removed), records);
      const changes = diffSplits(loaded.removed, result.splits);
      for (const split of result.splits) {
        const record = loaded.records.find((r) => r.id === split.recordId)!;
        if (split.excess < record.reservedPaise) {
          throw new DomainError('STATE_CONFLICT', `Record ${record.refId} has ${record.reservedPaise} paise of excess reserved for a refund in flight; replaying would leave it ${split.excess}. Settle or cancel the refund first.`, { record: [record.id] });
        }
      }
      return { result, changes, after: new Map(result.book.demands.map((d) => [d.id, d])) };
    } catch (error) {
      if (error instanceof DomainError) throw error;
      throw new DomainError('INVARIANT_VIOLATION', `Replay of account ${loaded.accountId}: ${(error as Error).message}`);
    }
  }

  /**
   * The money the engine may split for a record: a record being allocated, all of it; a reverted
   * one, nothing; any other, what its replayable lines hold plus its excess (so lines applied from
   * its excess later, and refunded excess, stay out of the replay).
   */
  private poolOf(record: LmsRecord, loaded: Loaded, subject: ReplaySubject): bigint {
    if (record.id === subject.record.id && subject.kind === 'allocate') return record.amountPaise;
    if (record.id === subject.record.id && subject.kind === 'revert') return 0n;
    return loaded.removed.filter((l) => l.recordId === record.id).reduce((s, l) => s + l.amount, record.remainingPaise);
  }

  /** Reversal rows first, then the new rows, so the running remaining never dips below zero. */
  private async writeSettlements(by: Actor, loaded: Loaded, plan: Plan, subject: ReplaySubject): Promise<void> {
    const rows: Prisma.SettlementCreateManyInput[] = [];
    for (const change of plan.changes) {
      const record = loaded.records.find((r) => r.id === change.recordId)!;
      const reverting = subject.kind === 'revert' && record.id === subject.record.id;
      let remaining = record.id === subject.record.id && subject.kind === 'allocate' ? record.amountPaise : record.remainingPaise;
      const valueDate = columnToDate(record.valueDate!);
      for (const row of change.reverse) {
        remaining += row.amount;
        const after = plan.after.get(row.demandId)!;
        rows.push(this.row(by, loaded, row, -row.amount, row.valueDate, reverting ? 0n : remaining, totalOutstanding(after), after.dueDate <= row.valueDate ? totalOutstanding(after) : 0n, row.id));
      }
      for (const line of change.create) {
        remaining -= line.amount;
        rows.push(this.row(by, loaded, { ...line, recordId: record.id }, line.amount, valueDate, remaining, line.outstandingAfter, line.dueAfter, null));
      }
      const split = plan.result.splits.find((s) => s.recordId === record.id)!;
      if (!reverting && (change.reverse.length > 0 || change.create.length > 0) && remaining !== split.excess) {
        throw new DomainError('INVARIANT_VIOLATION', `Record ${record.id}: rows leave ${remaining} paise unapplied, the replay ${split.excess}.`);
      }
    }
    if (rows.length > 0) await this.db.client.settlement.createMany({ data: rows });
  }

  private row(
    by: Actor, loaded: Loaded, line: { recordId: string; loanId: string; demandId: string; component: Component; source: string }, amount: bigint,
    valueDate: BusinessDate, remaining: bigint, outstanding: bigint, due: bigint, reverses: string | null,
  ): Prisma.SettlementCreateManyInput {
    const demand = loaded.demands.get(line.demandId)!;
    return {
      id: newId(), companyId: by.companyId, accountId: loaded.accountId, recordId: line.recordId, loanId: line.loanId, demandId: line.demandId,
      component: line.component, source: line.source, amountPaise: amount, reversesId: reverses, valueDate: dateToColumn(valueDate),
      remainingAfterPaise: remaining, demandOutstandingPaise: outstanding, demandDuePaise: due, dpd: demand.dpd, peakDpd: demand.peakDpd,
    };
  }

  /** Paid figures move by the change in net lines; bullet NI due and the status follow the replayed state. */
  private async writeDemands(companyId: string, loaded: Loaded, plan: Plan): Promise<void> {
    const today = istDateOf(new Date());
    for (const [id, after] of plan.after) {
      const before = demandStateOf(loaded.demands.get(id)!);
      const data: Prisma.DemandUncheckedUpdateManyInput = {};
      for (const c of COMPONENTS) {
        const delta = after.paid[c] - before.paid[c];
        if (delta !== 0n) data[PAID_COLUMN[c]] = { increment: delta };
      }
      if (after.due.NI !== before.due.NI) data.niDuePaise = after.due.NI;
      if (Object.keys(data).length === 0) continue;
      data.status = demandStatusOf(after, today);
      await this.db.client.demand.updateMany({ where: { companyId, id }, data });
    }
  }

  /** Every record's excess follows its split; records re-split by someone else's replay are audited. */
  private async writeRecords(by: Actor, loaded: Loaded, plan: Plan, subject: ReplaySubject): Promise<string[]> {
    const resplit: string[] = [];
    for (const split of plan.result.splits) {
      const record = loaded.records.find((r) => r.id === split.recordId)!;
      const change = plan.changes.find((c) => c.recordId === record.id)!;
      if (split.excess !== record.remainingPaise) {
        await this.db.client.record.updateMany({ where: { companyId: by.companyId, id: record.id }, data: { remainingPaise: split.excess } });
      }
      if (record.id === subject.record.id || (change.reverse.length === 0 && change.create.length === 0)) continue;
      resplit.push(record.id);
      await writeAudit(this.db, {
        companyId: by.companyId, entityType: 'record', entityId: record.id, action: 'resplit', actor: by.actor,
        data: { cause: subject.kind, by_record: subject.record.id, reversed: change.reverse.length, created: change.create.length, excess_before_paise: record.remainingPaise, excess_after_paise: split.excess },
      });
    }
    return resplit;
  }

  /**
   * Principal repaid is drawable again; principal a replay takes back (a reverted payment) is
   * used again. A line without room for it is a 409: the limit must be raised first, since the
   * line's figures can never go negative.
   */
  private async moveLimits(by: Actor, loaded: Loaded, plan: Plan): Promise<void> {
    const byLine = new Map<string, bigint>();
    for (const [id, after] of plan.after) {
      const change = after.paid.P - loaded.demands.get(id)!.pPaidPaise;
      if (change === 0n) continue;
      const type = loaded.loans.get(after.loanId)!.lineType;
      byLine.set(type, (byLine.get(type) ?? 0n) + change);
    }
    const repo = new LineDetailsRepository(this.db, by.companyId);
    let moved = false;
    for (const [type, change] of byLine) {
      const line = change === 0n ? null : await repo.findByType(loaded.accountId, type);
      if (!line) continue;
      let next: LineLimit;
      try {
        next = change > 0n ? release(limitOf(line), change) : use(limitOf(line), -change);
      } catch (error) {
        if (change > 0n) throw new DomainError('INVARIANT_VIOLATION', `Line ${line.id}: ${(error as Error).message}`);
        throw new DomainError('STATE_CONFLICT', `The ${type} line has ${line.availablePaise} paise available but ${-change} paise of principal become outstanding again; raise its approved amount first.`, { line_detail: [line.id] });
      }
      await repo.update(line.id, limitColumns(next));
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'line_detail', entityId: line.id, action: change > 0n ? 'principal_released' : 'principal_reused', actor: by.actor, data: { amount_paise: change > 0n ? change : -change } });
      moved = true;
    }
    if (moved) await this.ledger.lineDetails.recomputeAccount(by.companyId, loaded.accountId);
  }

  /** A loan with nothing left is closed; a closed loan with dues again (a reverted payment) is reopened. */
  private async settleLoanStatus(by: Actor, loaded: Loaded, plan: Plan, subject: ReplaySubject): Promise<void> {
    const touched = new Set([...plan.after].filter(([id, d]) => !sameFigures(d, demandStateOf(loaded.demands.get(id)!))).map(([, d]) => d.loanId));
    for (const loanId of touched) {
      const loan = loaded.loans.get(loanId)!;
      const left = [...plan.after.values()].filter((d) => d.loanId === loanId).reduce((s, d) => s + totalOutstanding(d), 0n);
      if (left === 0n && OPEN_LOAN_STATUSES.includes(loan.status)) {
        await this.db.client.loan.updateMany({ where: { companyId: by.companyId, id: loanId }, data: { status: 'closed', closedAt: new Date() } });
        await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loanId, action: 'closed', actor: by.actor, data: { reason: 'repaid' } });
      } else if (left > 0n && loan.status === 'closed') {
        await this.db.client.loan.updateMany({ where: { companyId: by.companyId, id: loanId }, data: { status: 'active', closedAt: null } });
        await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loanId, action: 'reopened', actor: by.actor, data: { reason: subject.kind, record: subject.record.id, outstanding_paise: left } });
      }
    }
  }

  /**
   * From the database, inside the transaction: every replayed record conserves its money
   * (settlements + excess + refunded = amount; a reverted record holds nothing), and every demand
   * holds exactly the figures the replay computed.
   */
  private async check(companyId: string, loaded: Loaded, plan: Plan, subject: ReplaySubject): Promise<void> {
    const ids = loaded.records.map((r) => r.id);
    const held = await this.db.client.$queryRaw<{ id: string; settled: bigint; remaining: bigint }[]>`
      SELECT r.id, COALESCE(SUM(s.amount_paise), 0)::bigint AS settled, r.remaining_paise AS remaining
      FROM records r LEFT JOIN settlements s ON s.company_id = r.company_id AND s.record_id = r.id
      WHERE r.company_id = ${companyId}::uuid AND r.id IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))}) GROUP BY r.id`;
    for (const record of loaded.records) {
      const row = held.find((h) => h.id === record.id)!;
      const expected = subject.kind === 'revert' && record.id === subject.record.id ? 0n : record.amountPaise - record.refundedPaise;
      if (row.settled + row.remaining !== expected) {
        throw new DomainError('INVARIANT_VIOLATION', `Record ${record.id}: settlements ${row.settled} + excess ${row.remaining} paise, expected ${expected}.`);
      }
    }
    const changed = [...plan.after.keys()].filter((id) => !sameFigures(plan.after.get(id)!, demandStateOf(loaded.demands.get(id)!)));
    const rows = changed.length === 0 ? [] : await this.db.client.demand.findMany({ where: { companyId, id: { in: changed } } });
    for (const row of rows) {
      if (!sameFigures(demandStateOf(row), plan.after.get(row.id)!)) throw new DomainError('INVARIANT_VIOLATION', `Demand ${row.id} does not hold the replayed figures.`);
    }
  }
}

function sameFigures(a: DemandState, b: DemandState): boolean {
  return COMPONENTS.every((c) => a.paid[c] === b.paid[c] && a.due[c] === b.due[c] && a.waived[c] === b.waived[c]);
}

function postedLineOf(s: Settlement): PostedLine {
  return {
    id: s.id, recordId: s.recordId, demandId: s.demandId, loanId: s.loanId, component: s.component as Component, source: s.source,
    amount: s.amountPaise, valueDate: columnToDate(s.valueDate),
  };
}

function replayRecordOf(r: LmsRecord, sequence: number, amount: bigint, tdsAppliedByEod: bigint): ReplayRecord {
  const tds = r.tdsPaise - tdsAppliedByEod;
  return {
    id: r.id, valueDate: columnToDate(r.valueDate!), sequence, amount, tdsAmount: tds > 0n ? tds : 0n,
    settlementOrder: r.settlementOrder as SettlementOrder, componentOrder: parseComponentOrderOrThrow(r.componentOrder),
    excessHandling: (r.excessHandling ?? 'hold') as ExcessHandling, loanIds: r.loanIds,
  };
}
