// The allocation engine (domain.md section 4): how one record's money is split over a borrower's
// open demands. It is a pure function of (demands, amount, TDS, value date, rules): no I/O, no
// clock, no mutation of its input, and the same input always gives the same lines in the same
// order. Persistence wraps it in one transaction; the invariants are asserted here as well, so a
// plan that breaks one never leaves this module.
//
// Every phase is a greedy fill of a fixed list of (demand, component) slots: TDS over the eligible
// interest slots, cash over every eligible slot, then (prepay only) cash over the accrued interest
// and principal of demands not yet due. Because the slot lists do not depend on how much money
// arrives, paying in two records gives the same split as paying once (see the tests for the
// exact conditions).
import { COMPONENTS, parseComponentOrder as parseComponentOrderResult, type Component } from './loan-params.js';
import type { BusinessDate } from './time.js';

export type { Component };
export type SettlementOrder = 'due_date_first' | 'component_first';
export type ExcessHandling = 'hold' | 'prepay';
export type LineSource = 'tds' | 'cash' | 'prepay';

export interface OpenDemand {
  id: string;
  loanId: string;
  dueDate: BusinessDate;
  /** First tie-break between demands due on the same date: the earlier-disbursed loan first. */
  loanDisbursementDate: BusinessDate;
  /** Second tie-break: lower installment first; null (fee demands) after numbered ones. */
  installmentNumber: number | null;
  /** What is still owed per component: due - paid - waived, never negative. */
  outstanding: Record<Component, bigint>;
  /**
   * Only read for prepay on a demand not yet due: the interest accrued up to the value date and
   * not yet paid. It caps the NI that a prepayment may settle (absent means 0).
   */
  accruedInterest?: bigint;
}

export interface AllocationInput {
  demands: readonly OpenDemand[];
  /** The record's amount: received + TDS. */
  amount: bigint;
  /** The part of `amount` that is TDS; it may settle only NI and OI. */
  tdsAmount: bigint;
  valueDate: BusinessDate;
  settlementOrder: SettlementOrder;
  /** All five components once each, as parseComponentOrderOrThrow returns them. */
  componentOrder: readonly Component[];
  excessHandling: ExcessHandling;
}

export interface SettlementLine {
  demandId: string;
  loanId: string;
  component: Component;
  amount: bigint;
  source: LineSource;
}

export interface Allocation {
  lines: SettlementLine[];
  /** Money not settled (the record's remaining_amount), including TDS no interest could take. */
  excess: bigint;
}

/** A component order the HTTP layer should answer with a 400 naming `field` and `token`. */
export class ComponentOrderError extends Error {
  override name = 'ComponentOrderError';
  readonly field = 'component_order';
  constructor(readonly token: string, message: string) {
    super(message);
  }
}

/** Input the engine refuses; its callers validate first, so this signals a caller's bug. */
export class AllocationInputError extends Error {
  override name = 'AllocationInputError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** A plan that breaks conservation or over-pays: always a bug in this module, never input. */
export class AllocationInvariantError extends Error {
  override name = 'AllocationInvariantError';
}

/** The components TDS may settle (it is deducted on interest only). */
const TDS_COMPONENTS: ReadonlySet<Component> = new Set<Component>(['NI', 'OI']);
/** What a prepayment settles on a demand not yet due, interest first. */
const PREPAY_COMPONENTS: readonly Component[] = ['NI', 'P'];
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses a `component_order` such as "PI-OI-NI-P" into all five components (FEE right after PI
 * when absent), or throws a ComponentOrderError naming the bad token. The rules live in
 * loan-params.ts, which validates stored params; this wraps them so both agree.
 */
export function parseComponentOrderOrThrow(text: string): Component[] {
  if (text.trim() === '') throw new ComponentOrderError('', 'must not be empty');
  const result = parseComponentOrderResult(text);
  if ('order' in result) return result.order;
  // loan-params reports the offending token quoted in its message; the tests pin that format.
  const token = /"([^"]*)"/.exec(result.error)?.[1] ?? text;
  throw new ComponentOrderError(token, result.error);
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareInstallments(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a - b;
}

/** Oldest first: due date, earlier disbursement, lower installment (fees last), then id. */
export function compareDemands(a: OpenDemand, b: OpenDemand): number {
  return compareText(a.dueDate, b.dueDate)
    || compareText(a.loanDisbursementDate, b.loanDisbursementDate)
    || compareInstallments(a.installmentNumber, b.installmentNumber)
    || compareText(a.id, b.id);
}

function validateInput(input: AllocationInput): void {
  const refuse = (field: string, message: string): never => { throw new AllocationInputError(field, message); };
  if (typeof input.amount !== 'bigint' || input.amount < 0n) refuse('amount', 'must be a bigint of at least 0');
  if (typeof input.tdsAmount !== 'bigint' || input.tdsAmount < 0n || input.tdsAmount > input.amount) {
    refuse('tdsAmount', 'must be from 0 to the amount');
  }
  if (!DATE_PATTERN.test(input.valueDate)) refuse('valueDate', 'must be YYYY-MM-DD');
  const parsed = parseComponentOrderResult(input.componentOrder.join('-'));
  const complete = 'order' in parsed && parsed.order.length === input.componentOrder.length
    && parsed.order.every((c, i) => c === input.componentOrder[i]);
  if (!complete) refuse('componentOrder', 'must name P, NI, OI, PI and FEE once each');
  const seen = new Set<string>();
  for (const d of input.demands) {
    if (seen.has(d.id)) refuse('demands', `demand ${d.id} appears more than once`);
    seen.add(d.id);
    if (!DATE_PATTERN.test(d.dueDate) || !DATE_PATTERN.test(d.loanDisbursementDate)) refuse('demands', `demand ${d.id} has a date that is not YYYY-MM-DD`);
    for (const c of COMPONENTS) {
      const owed = d.outstanding[c];
      if (typeof owed !== 'bigint' || owed < 0n) refuse('demands', `demand ${d.id} ${c} outstanding must be a bigint of at least 0`);
    }
    if (d.accruedInterest !== undefined && (typeof d.accruedInterest !== 'bigint' || d.accruedInterest < 0n)) {
      refuse('demands', `demand ${d.id} accrued interest must be a bigint of at least 0`);
    }
  }
}

interface Slot {
  demand: OpenDemand;
  component: Component;
}

/** Horizontal walks demand by demand; vertical walks component by component. */
function slotsInOrder(demands: readonly OpenDemand[], components: readonly Component[], order: SettlementOrder): Slot[] {
  if (order === 'due_date_first') return demands.flatMap((demand) => components.map((component) => ({ demand, component })));
  return components.flatMap((component) => demands.map((demand) => ({ demand, component })));
}

/** The working state of one allocation: what is still owed, and the lines so far. */
class Ledger {
  private readonly owed = new Map<string, Record<Component, bigint>>();
  private readonly lines = new Map<string, SettlementLine>();

  constructor(demands: readonly OpenDemand[]) {
    for (const d of demands) this.owed.set(d.id, { ...d.outstanding });
  }

  remaining(slot: Slot): bigint {
    return this.owed.get(slot.demand.id)![slot.component];
  }

  /** Pays into a slot, merging into the one line per (demand, component, source). */
  pay(slot: Slot, amount: bigint, source: LineSource): void {
    this.owed.get(slot.demand.id)![slot.component] -= amount;
    const key = `${slot.demand.id}\u0000${slot.component}\u0000${source}`;
    const line = this.lines.get(key);
    if (line) line.amount += amount;
    else this.lines.set(key, { demandId: slot.demand.id, loanId: slot.demand.loanId, component: slot.component, amount, source });
  }

  /** Fills the slots in order from `pool`, each up to its cap; returns what is left. */
  fill(pool: bigint, slots: readonly Slot[], source: LineSource, cap: (slot: Slot) => bigint): bigint {
    let left = pool;
    for (const slot of slots) {
      if (left === 0n) break;
      const take = minOf(left, cap(slot));
      if (take > 0n) {
        this.pay(slot, take, source);
        left -= take;
      }
    }
    return left;
  }

  result(): SettlementLine[] {
    return [...this.lines.values()];
  }
}

const minOf = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * Splits a record over the demands: TDS over the eligible NI/OI, then the received cash over all
 * eligible components, then (prepay) the excess over accrued interest and principal not yet due.
 * Throws AllocationInputError on bad input and AllocationInvariantError on a broken plan.
 */
export function allocate(input: AllocationInput): Allocation {
  validateInput(input);
  const { valueDate, settlementOrder, componentOrder } = input;
  const eligible = input.demands.filter((d) => d.dueDate <= valueDate).sort(compareDemands);
  const ledger = new Ledger(input.demands);
  const owed = (slot: Slot) => ledger.remaining(slot);
  const interestOrder = componentOrder.filter((c) => TDS_COMPONENTS.has(c));
  const tdsLeft = ledger.fill(input.tdsAmount, slotsInOrder(eligible, interestOrder, settlementOrder), 'tds', owed);
  let cashLeft = ledger.fill(input.amount - input.tdsAmount, slotsInOrder(eligible, componentOrder, settlementOrder), 'cash', owed);
  if (input.excessHandling === 'prepay' && cashLeft > 0n) {
    // Leftover TDS is not used here: the rules let TDS settle the interest of eligible demands
    // only, so it stays in the excess while the cash prepays. The prepayment walks the demands
    // the way the configured settlement order does, so under component_first every loan's
    // accrued interest is paid before any principal, and under due_date_first the nearest
    // demand is cleared (accrued interest, then principal) before the next.
    const future = input.demands.filter((d) => d.dueDate > valueDate).sort(compareDemands);
    const prepayCap = (slot: Slot) => (slot.component === 'NI' ? minOf(owed(slot), slot.demand.accruedInterest ?? 0n) : owed(slot));
    cashLeft = ledger.fill(cashLeft, slotsInOrder(future, PREPAY_COMPONENTS, settlementOrder), 'prepay', prepayCap);
  }
  const allocation: Allocation = { lines: ledger.result(), excess: tdsLeft + cashLeft };
  assertAllocationInvariants(input, allocation);
  return allocation;
}

/**
 * Checks a plan against its input from scratch (not from the engine's working state): conservation,
 * positive lines, one line per (demand, component, source), no component over its outstanding,
 * TDS only on eligible NI/OI and within the TDS amount, cash only on eligible demands, prepay only
 * under `prepay` on NI (within accrued interest) and P of demands not yet due.
 */
export function assertAllocationInvariants(input: AllocationInput, allocation: Allocation): void {
  const fail = (message: string): never => { throw new AllocationInvariantError(`allocation invariant broken: ${message}`); };
  const demands = new Map(input.demands.map((d) => [d.id, d]));
  const paid = new Map<string, bigint>();
  const keys = new Set<string>();
  let total = allocation.excess;
  let tds = 0n;
  if (allocation.excess < 0n) fail('negative excess');
  for (const line of allocation.lines) {
    const demand = demands.get(line.demandId) ?? fail(`line on unknown demand ${line.demandId}`);
    checkLine(input, demand, line, fail);
    const key = `${line.demandId}\u0000${line.component}\u0000${line.source}`;
    if (keys.has(key)) fail(`two ${line.source} lines for ${line.demandId} ${line.component}`);
    keys.add(key);
    const paidKey = `${line.demandId}\u0000${line.component}`;
    paid.set(paidKey, (paid.get(paidKey) ?? 0n) + line.amount);
    if (line.source === 'tds') tds += line.amount;
    total += line.amount;
  }
  if (total !== input.amount) fail(`lines + excess = ${total}, amount = ${input.amount}`);
  if (tds > input.tdsAmount) fail(`TDS lines ${tds} exceed the TDS amount ${input.tdsAmount}`);
  for (const [key, amount] of paid) {
    const [id, component] = key.split('\u0000') as [string, Component];
    if (amount > demands.get(id)!.outstanding[component]) fail(`${id} ${component} paid ${amount} beyond its outstanding`);
  }
}

function checkLine(input: AllocationInput, demand: OpenDemand, line: SettlementLine, fail: (message: string) => never): void {
  const where = `${line.source} line on ${demand.id} ${line.component}`;
  if (line.amount <= 0n) fail(`${where} is not positive`);
  if (line.loanId !== demand.loanId) fail(`${where} names loan ${line.loanId}`);
  const due = demand.dueDate <= input.valueDate;
  if (line.source === 'tds' && (!due || !TDS_COMPONENTS.has(line.component))) fail(`${where}: TDS settles only eligible NI and OI`);
  if (line.source === 'cash' && !due) fail(`${where}: the demand is not yet due`);
  if (line.source === 'prepay') {
    if (input.excessHandling !== 'prepay' || due || !PREPAY_COMPONENTS.includes(line.component)) fail(`${where}: not a prepayment`);
    if (line.component === 'NI' && line.amount > (demand.accruedInterest ?? 0n)) fail(`${where} exceeds the accrued interest`);
  }
}

/**
 * The demands after an allocation: outstanding reduced by every line, and accrued interest
 * reduced by the NI paid (it is the unpaid accrued interest), so a second record can be
 * allocated on the result. Returns new objects; throws if a line does not fit its demand.
 */
export function applyAllocation(demands: readonly OpenDemand[], allocation: Allocation): OpenDemand[] {
  const paid = new Map<string, Record<Component, bigint>>();
  const ids = new Set(demands.map((d) => d.id));
  for (const line of allocation.lines) {
    if (!ids.has(line.demandId)) throw new AllocationInputError('allocation', `line on unknown demand ${line.demandId}`);
    const sums = paid.get(line.demandId) ?? { P: 0n, NI: 0n, OI: 0n, PI: 0n, FEE: 0n };
    sums[line.component] += line.amount;
    paid.set(line.demandId, sums);
  }
  return demands.map((d) => {
    const sums = paid.get(d.id);
    if (!sums) return { ...d, outstanding: { ...d.outstanding } };
    const outstanding = { ...d.outstanding };
    for (const c of COMPONENTS) {
      outstanding[c] -= sums[c];
      if (outstanding[c] < 0n) throw new AllocationInputError('allocation', `demand ${d.id} ${c} would fall below 0`);
    }
    const next: OpenDemand = { ...d, outstanding };
    if (d.accruedInterest !== undefined) next.accruedInterest = d.accruedInterest - minOf(d.accruedInterest, sums.NI);
    return next;
  });
}
