// Replaying an account's records (domain.md section 4, "Back-dated records"): the pure part.
//
// The split of every record is defined as what the allocation engine gives when the account's
// records are allocated one after another in (value date, creation) order, each on the demands as
// the records before it left them. A record that arrives out of that order (back-dated), or one
// that is reverted, changes the state every later record saw, so those records are split again:
//
//   1. unwind: take the current demands and remove the lines of the records being replayed
//      (the arriving or reverted record and every record after it); what is left is the book as it
//      stood just before them. Bullet interest that a removed principal prepayment had lowered is
//      re-derived without it.
//   2. replay: allocate the records in order on that book, each on the state the previous one
//      left, with the same interest accrual and bullet re-derivation as a live allocation.
//   3. diff: per record and (demand, component, source), the lines whose net amount changed are
//      reversed and posted again; lines that come out the same are left alone.
//
// Because the state after the records before the replayed ones is exactly what unwinding gives,
// the final state depends only on the set of records and their (value date, creation) order:
// allocating them in any arrival order, with a replay at each out-of-order arrival, ends where
// allocating them in order from scratch ends, and replaying again changes nothing (see
// test/unit/replay.test.ts).
import { allocate, type ExcessHandling, type OpenDemand, type SettlementLine, type SettlementOrder } from './allocation.js';
import { foreclosureAmount, type DemandSnapshot } from './foreclosure.js';
import { COMPONENTS, slabBound, type Component, type StoredParams } from './loan-params.js';
import { loanKindOf } from './loan-terms.js';
import { bulletInterestOnTranches, type BulletAccrualTerms, type PrincipalRepayment, type PrincipalTranche } from './prepay.js';
import type { BusinessDate } from './time.js';

export type Amounts = Record<Component, bigint>;
export const zeroAmounts = (): Amounts => ({ P: 0n, NI: 0n, OI: 0n, PI: 0n, FEE: 0n });

/** A demand as the replay sees it: scheduled dues, what is paid and waived, per component. */
export interface DemandState {
  id: string;
  loanId: string;
  kind: 'emi' | 'fee';
  installmentNumber: number | null;
  periodStart: BusinessDate | null;
  dueDate: BusinessDate;
  due: Amounts;
  paid: Amounts;
  waived: Amounts;
}

export interface LoanState {
  id: string;
  terms: StoredParams;
  disbursementDate: BusinessDate;
  /**
   * Further tranches paid out (multi-tranche loans), each with its date and amount. The loan's
   * first disbursement, on disbursementDate, is the rest of the principal due.
   */
  tranches?: readonly PrincipalTranche[];
}

/** An account's loans and (not cancelled) demands at one point of the sequence. */
export interface Book {
  loans: readonly LoanState[];
  demands: readonly DemandState[];
  /** Principal prepaid on each loan by the lines that are part of this book, by value date. */
  prepaid: ReadonlyMap<string, readonly PrincipalRepayment[]>;
}

/** A record to replay. `amount` is the money the engine may split (see the caller for what that excludes). */
export interface ReplayRecord {
  id: string;
  valueDate: BusinessDate;
  /** Creation rank: orders records of the same value date (the database's created_at, id). */
  sequence: number;
  amount: bigint;
  tdsAmount: bigint;
  settlementOrder: SettlementOrder;
  componentOrder: readonly Component[];
  excessHandling: ExcessHandling;
  /** Settle only these loans; empty means all of the account's loans. */
  loanIds: readonly string[];
}

export interface ReplayLine extends SettlementLine {
  /** The demand's outstanding (all components) right after this line in the replayed sequence. */
  outstandingAfter: bigint;
  /** What was due on the demand that day: its outstanding after the line if it had fallen due, else 0. */
  dueAfter: bigint;
}

export interface RecordSplit {
  recordId: string;
  lines: ReplayLine[];
  excess: bigint;
}

export interface ReplayResult {
  /** One split per record, in replay order. */
  splits: RecordSplit[];
  /** The book after the last record. */
  book: Book;
}

/** A line as posted: what unwinding and diffing need to know of a live (not reversed) settlement row. */
export interface PostedLine {
  id: string;
  recordId: string;
  demandId: string;
  loanId: string;
  component: Component;
  source: string;
  amount: bigint;
  valueDate: BusinessDate;
}

export interface RecordChange {
  recordId: string;
  /** Live rows whose (demand, component, source) nets to a different amount now: each gets a reversal row. */
  reverse: PostedLine[];
  /** The new amounts for those keys (and keys that are new), in allocation order. */
  create: ReplayLine[];
}

/** A state the replay cannot start from (a line larger than what its demand has paid): always a bug, never input. */
export class ReplayInvariantError extends Error {
  override name = 'ReplayInvariantError';
}

export const outstandingOf = (d: DemandState, c: Component): bigint => d.due[c] - d.paid[c] - d.waived[c];
export const totalOutstanding = (d: DemandState): bigint => COMPONENTS.reduce((s, c) => s + outstandingOf(d, c), 0n);

const cloneDemand = (d: DemandState): DemandState => ({ ...d, due: { ...d.due }, paid: { ...d.paid }, waived: { ...d.waived } });

/** Value date first, then creation. */
export function compareReplayRecords(a: ReplayRecord, b: ReplayRecord): number {
  if (a.valueDate !== b.valueDate) return a.valueDate < b.valueDate ? -1 : 1;
  return a.sequence - b.sequence;
}

export function bulletTerms(terms: StoredParams, disbursementDate: BusinessDate): BulletAccrualTerms {
  return {
    slabs: terms.roi_value.map((s) => ({ upToDay: slabBound(s.days), rate: s.value })), disbursementDate,
    interestStarts: terms.interest_starts, yearDays: terms.days_in_year === 360 ? 360n : 365n,
  };
}

/** Schedule order within a loan: due date, then installment (fees after numbered ones). */
function byDueDate(a: DemandState, b: DemandState): number {
  if (a.dueDate !== b.dueDate) return a.dueDate < b.dueDate ? -1 : 1;
  return (a.installmentNumber ?? Number.MAX_SAFE_INTEGER) - (b.installmentNumber ?? Number.MAX_SAFE_INTEGER);
}

const snapshotOf = (d: DemandState): DemandSnapshot => ({
  kind: d.kind, periodStart: d.periodStart, dueDate: d.dueDate,
  p: outstandingOf(d, 'P'), ni: outstandingOf(d, 'NI'), oi: outstandingOf(d, 'OI'), pi: outstandingOf(d, 'PI'), fee: outstandingOf(d, 'FEE'),
  pDue: d.due.P, niDue: d.due.NI, niPaid: d.paid.NI, niWaived: d.waived.NI,
});

/**
 * The principal of a loan as it was paid out: the first disbursement on the loan's date (the
 * principal due less the further tranches), then each tranche on its own date.
 */
export function principalTranches(loan: LoanState, principalDue: bigint): PrincipalTranche[] {
  const further = loan.tranches ?? [];
  const first = further.reduce((s, t) => s - t.amount, principalDue);
  if (first < 0n) throw new ReplayInvariantError(`loan ${loan.id}: its tranches (${principalDue - first}) exceed the principal due (${principalDue})`);
  return [{ date: loan.disbursementDate, amount: first }, ...further];
}

/** Bullet interest owed through `until` on the demand's principal, tranche by tranche, less the principal prepaid. */
function bulletOwed(loan: LoanState, d: DemandState, prepaid: readonly PrincipalRepayment[], until: BusinessDate): bigint {
  const { disbursementDate: _, ...terms } = bulletTerms(loan.terms, loan.disbursementDate);
  return bulletInterestOnTranches(terms, principalTranches(loan, d.due.P), prepaid, until);
}

/**
 * Principal of a running (not yet due) bullet demand that a prepayment on `valueDate` may settle:
 * what had been paid out by that day (a tranche paid out later cannot be repaid before it
 * existed) less what is already paid or waived.
 */
function prepayablePrincipal(loan: LoanState, d: DemandState, valueDate: BusinessDate): bigint {
  const out = outstandingOf(d, 'P');
  if (d.kind !== 'emi' || d.dueDate <= valueDate || !loan.tranches?.length || loanKindOf(loan.terms) !== 'bullet') return out;
  const paidOut = principalTranches(loan, d.due.P).filter((t) => t.date <= valueDate).reduce((s, t) => s + t.amount, 0n);
  const room = paidOut - d.paid.P - d.waived.P;
  return room <= 0n ? 0n : room < out ? room : out;
}

/**
 * Interest accrued to `valueDate` and not yet paid on the loan's running (not yet due) EMI: what a
 * prepayment may settle as NI. `demands` are the loan's; `prepaid` its principal prepaid so far.
 */
export function accruedInterest(loan: LoanState, demands: readonly DemandState[], prepaid: readonly PrincipalRepayment[], valueDate: BusinessDate): { demandId: string; amount: bigint } | null {
  const ordered = [...demands].sort(byDueDate);
  const running = ordered.find((d) => d.kind === 'emi' && d.dueDate > valueDate);
  if (!running) return null;
  if (loanKindOf(loan.terms) === 'bullet') {
    const owed = bulletOwed(loan, running, prepaid, valueDate);
    const settled = running.paid.NI + running.waived.NI;
    return { demandId: running.id, amount: owed > settled ? owed - settled : 0n };
  }
  return { demandId: running.id, amount: foreclosureAmount(loan.terms, loan.disbursementDate, ordered.map(snapshotOf), valueDate).accruedInterest };
}

/**
 * A rear-ended bullet loan whose principal was prepaid owes interest on the reduced principal
 * from the day after each prepayment: its maturity NI due is re-derived from all principal
 * prepaid so far, never below the NI already paid or waived. A multi-tranche loan is re-derived
 * tranche by tranche from each tranche's own date (bulletInterestOnTranches), so with nothing
 * prepaid it is exactly the NI its schedule and tranches put on the demand, and a prepayment can
 * only lower it. Mutates `d` (a working copy).
 */
function rederiveBulletInterest(loan: LoanState, d: DemandState, prepaid: readonly PrincipalRepayment[]): void {
  if (d.kind !== 'emi' || loanKindOf(loan.terms) !== 'bullet' || loan.terms.interest_collection === 'upfront') return;
  const owed = bulletOwed(loan, d, prepaid, d.dueDate);
  const floor = d.paid.NI + d.waived.NI;
  d.due.NI = owed > floor ? owed : floor;
}

/** Groups principal prepayments (P lines with source prepay) by loan. */
export function prepaidByLoan(lines: readonly Pick<PostedLine, 'loanId' | 'component' | 'source' | 'amount' | 'valueDate'>[]): Map<string, PrincipalRepayment[]> {
  const result = new Map<string, PrincipalRepayment[]>();
  for (const line of lines) {
    if (line.component !== 'P' || line.source !== 'prepay') continue;
    result.set(line.loanId, [...(result.get(line.loanId) ?? []), { valueDate: line.valueDate, amount: line.amount }]);
  }
  return result;
}

/**
 * The book as it stood before `removed` were posted: their amounts come off the demands' paid
 * figures, and a bullet demand that loses a principal prepayment has its interest re-derived from
 * `book.prepaid` (the prepayments that stay). Throws ReplayInvariantError when a line is larger
 * than what its demand has paid, or names a demand the book does not hold.
 */
export function unwind(book: Book, removed: readonly Pick<PostedLine, 'demandId' | 'component' | 'source' | 'amount'>[]): Book {
  const demands = new Map(book.demands.map((d) => [d.id, cloneDemand(d)]));
  const reprice = new Set<string>();
  for (const line of removed) {
    const d = demands.get(line.demandId);
    if (!d) throw new ReplayInvariantError(`a line on demand ${line.demandId}, which the book does not hold`);
    d.paid[line.component] -= line.amount;
    if (d.paid[line.component] < 0n) throw new ReplayInvariantError(`demand ${d.id} ${line.component} would have paid ${d.paid[line.component]}`);
    if (line.component === 'P' && line.source === 'prepay') reprice.add(d.id);
  }
  const loans = new Map(book.loans.map((l) => [l.id, l]));
  for (const id of reprice) {
    const d = demands.get(id)!;
    rederiveBulletInterest(loans.get(d.loanId)!, d, book.prepaid.get(d.loanId) ?? []);
  }
  return { ...book, demands: book.demands.map((d) => demands.get(d.id)!) };
}

interface WorkingState {
  loans: ReadonlyMap<string, LoanState>;
  demands: DemandState[];
  byId: Map<string, DemandState>;
  prepaid: Map<string, PrincipalRepayment[]>;
}

/**
 * The engine's view of the demands money dated `valueDate` may settle: the demands with anything
 * outstanding of the loans (all, or those in `loanIds`) that had been paid out by that day (a
 * loan disbursed later owed nothing then, and money that arrived before it cannot repay it), with
 * the interest accrued to that day on each loan's running period. The same rule serves a live
 * allocation (Ledger.openBook) and a replay.
 */
export function openDemandsOn(
  loans: Iterable<LoanState>, demands: readonly DemandState[], prepaid: ReadonlyMap<string, readonly PrincipalRepayment[]>, valueDate: BusinessDate, loanIds: readonly string[] = [],
): OpenDemand[] {
  const only = loanIds.length > 0 ? new Set(loanIds) : null;
  const open: OpenDemand[] = [];
  for (const loan of loans) {
    if (only && !only.has(loan.id)) continue;
    if (loan.disbursementDate > valueDate) continue;
    const own = demands.filter((d) => d.loanId === loan.id);
    const accrued = accruedInterest(loan, own, prepaid.get(loan.id) ?? [], valueDate);
    for (const d of own) {
      if (totalOutstanding(d) === 0n) continue;
      open.push({
        id: d.id, loanId: d.loanId, dueDate: d.dueDate, installmentNumber: d.installmentNumber, loanDisbursementDate: loan.disbursementDate,
        outstanding: { P: prepayablePrincipal(loan, d, valueDate), NI: outstandingOf(d, 'NI'), OI: outstandingOf(d, 'OI'), PI: outstandingOf(d, 'PI'), FEE: outstandingOf(d, 'FEE') },
        accruedInterest: accrued?.demandId === d.id ? accrued.amount : undefined,
      });
    }
  }
  return open;
}

/** The engine's view of the demands a record may settle on its value date. */
function openDemandsFor(state: WorkingState, record: ReplayRecord): OpenDemand[] {
  return openDemandsOn(state.loans.values(), state.demands, state.prepaid, record.valueDate, record.loanIds);
}

/** Allocates one record on the working state and moves the state on, as a live allocation would. */
function settle(state: WorkingState, record: ReplayRecord): RecordSplit {
  const allocation = allocate({
    demands: openDemandsFor(state, record), amount: record.amount, tdsAmount: record.tdsAmount < record.amount ? record.tdsAmount : record.amount,
    valueDate: record.valueDate, settlementOrder: record.settlementOrder, componentOrder: record.componentOrder, excessHandling: record.excessHandling,
  });
  const lines = allocation.lines.map((line): ReplayLine => {
    const d = state.byId.get(line.demandId)!;
    d.paid[line.component] += line.amount;
    const outstanding = totalOutstanding(d);
    return { ...line, outstandingAfter: outstanding, dueAfter: d.dueDate <= record.valueDate ? outstanding : 0n };
  });
  const prepaidPrincipal = lines.filter((l) => l.source === 'prepay' && l.component === 'P');
  for (const line of prepaidPrincipal) {
    state.prepaid.set(line.loanId, [...(state.prepaid.get(line.loanId) ?? []), { valueDate: record.valueDate, amount: line.amount }]);
  }
  for (const line of prepaidPrincipal) {
    const d = state.byId.get(line.demandId)!;
    rederiveBulletInterest(state.loans.get(d.loanId)!, d, state.prepaid.get(d.loanId)!);
  }
  return { recordId: record.id, lines, excess: allocation.excess };
}

/** Allocates the records in (value date, creation) order on `base`, each on the state the one before left. */
export function replay(base: Book, records: readonly ReplayRecord[]): ReplayResult {
  const demands = base.demands.map(cloneDemand);
  const state: WorkingState = {
    loans: new Map(base.loans.map((l) => [l.id, l])), demands, byId: new Map(demands.map((d) => [d.id, d])),
    prepaid: new Map([...base.prepaid].map(([loanId, list]) => [loanId, [...list]])),
  };
  const splits = [...records].sort(compareReplayRecords).map((record) => settle(state, record));
  return { splits, book: { loans: base.loans, demands: state.demands, prepaid: state.prepaid } };
}

const keyOf = (l: { demandId: string; component: Component; source: string }) => `${l.demandId}\u0000${l.component}\u0000${l.source}`;

/**
 * What to write so that each record's live lines net to its split: for every (demand, component,
 * source) whose live rows sum to a different amount, reverse those rows and post the new amount
 * (if any). `live` holds the live rows being replaced (those of the records in `splits`).
 */
export function diffSplits(live: readonly PostedLine[], splits: readonly RecordSplit[]): RecordChange[] {
  return splits.map((split) => {
    const rows = new Map<string, PostedLine[]>();
    for (const row of live.filter((r) => r.recordId === split.recordId)) rows.set(keyOf(row), [...(rows.get(keyOf(row)) ?? []), row]);
    const wanted = new Map(split.lines.map((l) => [keyOf(l), l.amount]));
    const sumOf = (key: string) => (rows.get(key) ?? []).reduce((s, r) => s + r.amount, 0n);
    const reverse = [...rows].filter(([key]) => sumOf(key) !== (wanted.get(key) ?? 0n)).flatMap(([, list]) => list);
    const create = split.lines.filter((l) => sumOf(keyOf(l)) !== l.amount);
    return { recordId: split.recordId, reverse, create };
  });
}

/**
 * A demand's status from its figures: settled in full (paid, or waived when nothing was paid),
 * partly paid, or by its due date against today (overdue once the due date has passed unpaid).
 */
export function demandStatusOf(d: DemandState, today: BusinessDate): string {
  const paid = COMPONENTS.reduce((s, c) => s + d.paid[c], 0n);
  const waived = COMPONENTS.reduce((s, c) => s + d.waived[c], 0n);
  if (totalOutstanding(d) === 0n) return paid > 0n || waived === 0n ? 'paid' : 'waived';
  // Past due and not fully paid stays overdue however much was paid (domain.md section 6, step 3).
  if (d.dueDate < today) return 'overdue';
  if (paid + waived > 0n) return 'partially_paid';
  return d.dueDate === today ? 'due' : 'upcoming';
}
