// EOD step 2, the pure part (src/domain/held-excess.ts; domain.md sections 4 and 6): excess held on
// an account's records is applied, oldest record first, through the allocation engine to the
// demands due on or before the day. Hand-checked tables first (amounts in paise), then properties
// over random books and records.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseComponentOrderOrThrow, type Component, type SettlementOrder } from '../../src/domain/allocation.js';
import { addDays } from '../../src/domain/dates.js';
import { applyHeldExcess, principalByLoan, type ExcessLine, type HeldRecord } from '../../src/domain/held-excess.js';
import { outstandingOf, totalOutstanding, zeroAmounts, type DemandState } from '../../src/domain/replay.js';

const RUNS = Number(process.env.FC_NUM_RUNS ?? 500);
const PROPERTY_TIMEOUT = 120_000;
const COMPONENTS: readonly Component[] = ['P', 'NI', 'OI', 'PI', 'FEE'];
const DEFAULT_ORDER = parseComponentOrderOrThrow('PI-OI-NI-P');

function demand(id: string, loanId: string, dueDate: string, installmentNumber: number | null, due: Partial<Record<Component, bigint>>, extra: Partial<DemandState> = {}): DemandState {
  return {
    id, loanId, kind: installmentNumber === null ? 'fee' : 'emi', installmentNumber, periodStart: null, dueDate,
    due: { ...zeroAmounts(), ...due }, paid: zeroAmounts(), waived: zeroAmounts(), ...extra,
  };
}

function held(id: string, available: bigint, rest: Partial<HeldRecord> = {}): HeldRecord {
  return { id, available, unappliedTds: 0n, settlementOrder: 'due_date_first', componentOrder: DEFAULT_ORDER, loanIds: [], ...rest };
}

/** The fields of a line a table checks, in the order the lines come back. */
const brief = (lines: readonly ExcessLine[]) =>
  lines.map((l) => ({ record: l.recordId, demand: l.demandId, component: l.component, source: l.source, amount: l.amount, remainingAfter: l.remainingAfter, outstandingAfter: l.outstandingAfter }));

const cloneDemand = (d: DemandState): DemandState => ({ ...d, due: { ...d.due }, paid: { ...d.paid }, waived: { ...d.waived } });
const cloneRecord = (r: HeldRecord): HeldRecord => ({ ...r, componentOrder: [...r.componentOrder], loanIds: [...r.loanIds] });

describe('applyHeldExcess: hand-checked tables', () => {
  const disbursed = new Map([['L1', '2024-01-01']]);

  it('pays a due EMI exactly, NI before P under PI-OI-NI-P', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, NI: 100_000n });
    const r = held('R1', 1_000_000n);
    const lines = applyHeldExcess([r], [d1], disbursed, '2024-02-01');
    expect(brief(lines)).toEqual([
      { record: 'R1', demand: 'D1', component: 'NI', source: 'excess', amount: 100_000n, remainingAfter: 900_000n, outstandingAfter: 900_000n },
      { record: 'R1', demand: 'D1', component: 'P', source: 'excess', amount: 900_000n, remainingAfter: 0n, outstandingAfter: 0n },
    ]);
    expect(lines.every((l) => l.loanId === 'L1')).toBe(true);
    expect(d1.paid).toEqual({ P: 900_000n, NI: 100_000n, OI: 0n, PI: 0n, FEE: 0n });
    expect(totalOutstanding(d1)).toBe(0n);
    expect(r.available).toBe(0n);
    expect(r.unappliedTds).toBe(0n);
  });

  it('a partial record walks PI, OI, NI, then P (FEE sits after PI)', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, NI: 100_000n, OI: 2_000n, PI: 500n });
    const fee = demand('F1', 'L1', '2024-02-01', null, { FEE: 1_180n });
    const r = held('R1', 150_000n);
    const lines = applyHeldExcess([r], [fee, d1], disbursed, '2024-02-01');
    // Same due date: the installment before the fee demand, then the fee.
    expect(brief(lines)).toEqual([
      { record: 'R1', demand: 'D1', component: 'PI', source: 'excess', amount: 500n, remainingAfter: 149_500n, outstandingAfter: 1_002_000n },
      { record: 'R1', demand: 'D1', component: 'OI', source: 'excess', amount: 2_000n, remainingAfter: 147_500n, outstandingAfter: 1_000_000n },
      { record: 'R1', demand: 'D1', component: 'NI', source: 'excess', amount: 100_000n, remainingAfter: 47_500n, outstandingAfter: 900_000n },
      { record: 'R1', demand: 'D1', component: 'P', source: 'excess', amount: 47_500n, remainingAfter: 0n, outstandingAfter: 852_500n },
    ]);
    expect(d1.paid).toEqual({ P: 47_500n, NI: 100_000n, OI: 2_000n, PI: 500n, FEE: 0n });
    expect(fee.paid).toEqual(zeroAmounts());
  });

  it('a record larger than the dues keeps what is left available', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, NI: 100_000n });
    const r = held('R1', 1_250_000n);
    const lines = applyHeldExcess([r], [d1], disbursed, '2024-02-01');
    expect(brief(lines)).toEqual([
      { record: 'R1', demand: 'D1', component: 'NI', source: 'excess', amount: 100_000n, remainingAfter: 1_150_000n, outstandingAfter: 900_000n },
      { record: 'R1', demand: 'D1', component: 'P', source: 'excess', amount: 900_000n, remainingAfter: 250_000n, outstandingAfter: 0n },
    ]);
    expect(r.available).toBe(250_000n);
    expect(totalOutstanding(d1)).toBe(0n);
  });

  it('takes from what is still outstanding (paid and waived already deducted)', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, NI: 100_000n }, {
      paid: { ...zeroAmounts(), NI: 60_000n }, waived: { ...zeroAmounts(), NI: 10_000n },
    });
    const r = held('R1', 100_000n);
    const lines = applyHeldExcess([r], [d1], disbursed, '2024-02-01');
    expect(brief(lines)).toEqual([
      { record: 'R1', demand: 'D1', component: 'NI', source: 'excess', amount: 30_000n, remainingAfter: 70_000n, outstandingAfter: 900_000n },
      { record: 'R1', demand: 'D1', component: 'P', source: 'excess', amount: 70_000n, remainingAfter: 0n, outstandingAfter: 830_000n },
    ]);
    expect(d1.paid).toEqual({ ...zeroAmounts(), NI: 90_000n, P: 70_000n });
  });

  it('two records: the older one first, the second takes only what the first left', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, NI: 100_000n });
    // Given in this order (oldest first); the ids sort the other way on purpose.
    const older = held('R-b', 600_000n);
    const newer = held('R-a', 700_000n);
    const lines = applyHeldExcess([older, newer], [d1], disbursed, '2024-02-01');
    expect(brief(lines)).toEqual([
      { record: 'R-b', demand: 'D1', component: 'NI', source: 'excess', amount: 100_000n, remainingAfter: 500_000n, outstandingAfter: 900_000n },
      { record: 'R-b', demand: 'D1', component: 'P', source: 'excess', amount: 500_000n, remainingAfter: 0n, outstandingAfter: 400_000n },
      { record: 'R-a', demand: 'D1', component: 'P', source: 'excess', amount: 400_000n, remainingAfter: 300_000n, outstandingAfter: 0n },
    ]);
    expect(older.available).toBe(0n);
    expect(newer.available).toBe(300_000n);
  });

  it('two records: once the first clears the dues, the second touches nothing', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, NI: 100_000n });
    const first = held('R1', 1_000_000n);
    const second = held('R2', 500_000n, { unappliedTds: 20_000n });
    const lines = applyHeldExcess([first, second], [d1], disbursed, '2024-02-01');
    expect(lines.map((l) => l.recordId)).toEqual(['R1', 'R1']);
    expect(first.available).toBe(0n);
    expect(second).toEqual(held('R2', 500_000n, { unappliedTds: 20_000n }));
  });

  it('records apply in the order given, not by id or size', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 100_000n });
    const a = held('A', 80_000n);
    const b = held('B', 80_000n);
    const lines = applyHeldExcess([b, a], [d1], disbursed, '2024-02-01');
    expect(brief(lines)).toEqual([
      { record: 'B', demand: 'D1', component: 'P', source: 'excess', amount: 80_000n, remainingAfter: 0n, outstandingAfter: 20_000n },
      { record: 'A', demand: 'D1', component: 'P', source: 'excess', amount: 20_000n, remainingAfter: 60_000n, outstandingAfter: 0n },
    ]);
  });

  it('a record with nothing available is skipped', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 100_000n });
    const r = held('R1', 0n);
    expect(applyHeldExcess([r], [d1], disbursed, '2024-02-01')).toEqual([]);
    expect(d1.paid).toEqual(zeroAmounts());
  });

  it('leaves demands not yet due untouched (due on the day is due; the day after is not)', () => {
    const dPast = demand('D0', 'L1', '2024-01-25', 1, { P: 50_000n, NI: 5_000n });
    const dToday = demand('D1', 'L1', '2024-02-01', 2, { P: 50_000n, NI: 4_000n });
    const dTomorrow = demand('D2', 'L1', '2024-02-02', 3, { P: 50_000n, NI: 3_000n });
    const dLater = demand('D3', 'L1', '2024-03-01', 4, { P: 50_000n, NI: 2_000n });
    const r = held('R1', 1_000_000n, { unappliedTds: 1_000n });
    const lines = applyHeldExcess([r], [dLater, dTomorrow, dToday, dPast], disbursed, '2024-02-01');
    // TDS goes to NI of the oldest due demand first, then the cash walks oldest first.
    expect(brief(lines)).toEqual([
      { record: 'R1', demand: 'D0', component: 'NI', source: 'excess_tds', amount: 1_000n, remainingAfter: 999_000n, outstandingAfter: 54_000n },
      { record: 'R1', demand: 'D0', component: 'NI', source: 'excess', amount: 4_000n, remainingAfter: 995_000n, outstandingAfter: 50_000n },
      { record: 'R1', demand: 'D0', component: 'P', source: 'excess', amount: 50_000n, remainingAfter: 945_000n, outstandingAfter: 0n },
      { record: 'R1', demand: 'D1', component: 'NI', source: 'excess', amount: 4_000n, remainingAfter: 941_000n, outstandingAfter: 50_000n },
      { record: 'R1', demand: 'D1', component: 'P', source: 'excess', amount: 50_000n, remainingAfter: 891_000n, outstandingAfter: 0n },
    ]);
    expect(dTomorrow.paid).toEqual(zeroAmounts());
    expect(dLater.paid).toEqual(zeroAmounts());
    expect(r.available).toBe(891_000n);
    expect(r.unappliedTds).toBe(0n);
  });

  it('pays nothing when nothing is due yet, and leaves the record as it was', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 100_000n, NI: 1_000n });
    const r = held('R1', 500_000n, { unappliedTds: 1_000n });
    expect(applyHeldExcess([r], [d1], disbursed, '2024-01-31')).toEqual([]);
    expect(d1.paid).toEqual(zeroAmounts());
    expect(r).toEqual(held('R1', 500_000n, { unappliedTds: 1_000n }));
  });

  it('loanIds restricts a record to its loans; an empty list means any loan', () => {
    const both = new Map([['L1', '2024-01-01'], ['L2', '2024-01-05']]);
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 100_000n });
    const d2 = demand('D2', 'L2', '2024-02-01', 1, { P: 100_000n });
    const onlyL2 = held('R1', 150_000n, { loanIds: ['L2'] });
    const any = held('R2', 30_000n);
    const lines = applyHeldExcess([onlyL2, any], [d1, d2], both, '2024-02-01');
    expect(brief(lines)).toEqual([
      // L1 is older (earlier disbursement) but R1 may settle L2 only.
      { record: 'R1', demand: 'D2', component: 'P', source: 'excess', amount: 100_000n, remainingAfter: 50_000n, outstandingAfter: 0n },
      { record: 'R2', demand: 'D1', component: 'P', source: 'excess', amount: 30_000n, remainingAfter: 0n, outstandingAfter: 70_000n },
    ]);
    expect(onlyL2.available).toBe(50_000n);
    expect(lines.map((l) => l.loanId)).toEqual(['L2', 'L1']);
  });

  it('a loanIds list naming no loan with dues pays nothing', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 100_000n });
    const r = held('R1', 150_000n, { loanIds: ['L9'] });
    expect(applyHeldExcess([r], [d1], disbursed, '2024-02-01')).toEqual([]);
    expect(r.available).toBe(150_000n);
  });

  it('demands of loans not in the disbursed map are not touched', () => {
    const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 100_000n });
    const other = demand('X1', 'L-other', '2024-01-15', 1, { P: 100_000n });
    const r = held('R1', 150_000n);
    const lines = applyHeldExcess([r], [other, d1], disbursed, '2024-02-01');
    expect(lines.map((l) => l.demandId)).toEqual(['D1']);
    expect(other.paid).toEqual(zeroAmounts());
    expect(r.available).toBe(50_000n);
  });

  describe('TDS settles NI and OI only', () => {
    const dues = { P: 900_000n, NI: 30_000n, OI: 2_000n, PI: 1_000n, FEE: 500n };

    it('a record whose available is all TDS never pays P, PI or FEE', () => {
      const d1 = demand('D1', 'L1', '2024-02-01', 1, dues);
      const r = held('R1', 50_000n, { unappliedTds: 50_000n });
      const lines = applyHeldExcess([r], [d1], disbursed, '2024-02-01');
      expect(brief(lines)).toEqual([
        { record: 'R1', demand: 'D1', component: 'OI', source: 'excess_tds', amount: 2_000n, remainingAfter: 48_000n, outstandingAfter: 931_500n },
        { record: 'R1', demand: 'D1', component: 'NI', source: 'excess_tds', amount: 30_000n, remainingAfter: 18_000n, outstandingAfter: 901_500n },
      ]);
      expect(d1.paid).toEqual({ P: 0n, NI: 30_000n, OI: 2_000n, PI: 0n, FEE: 0n });
      expect(r.available).toBe(18_000n);
      expect(r.unappliedTds).toBe(18_000n);
    });

    it('all-TDS excess with no interest outstanding pays nothing', () => {
      const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, PI: 1_000n });
      const r = held('R1', 50_000n, { unappliedTds: 50_000n });
      expect(applyHeldExcess([r], [d1], disbursed, '2024-02-01')).toEqual([]);
      expect(r.available).toBe(50_000n);
      expect(r.unappliedTds).toBe(50_000n);
      expect(d1.paid).toEqual(zeroAmounts());
    });

    it('TDS goes first over OI/NI, then the cash sweeps every component', () => {
      const d1 = demand('D1', 'L1', '2024-02-01', 1, dues);
      const r = held('R1', 100_000n, { unappliedTds: 10_000n });
      const lines = applyHeldExcess([r], [d1], disbursed, '2024-02-01');
      expect(brief(lines)).toEqual([
        { record: 'R1', demand: 'D1', component: 'OI', source: 'excess_tds', amount: 2_000n, remainingAfter: 98_000n, outstandingAfter: 931_500n },
        { record: 'R1', demand: 'D1', component: 'NI', source: 'excess_tds', amount: 8_000n, remainingAfter: 90_000n, outstandingAfter: 923_500n },
        { record: 'R1', demand: 'D1', component: 'PI', source: 'excess', amount: 1_000n, remainingAfter: 89_000n, outstandingAfter: 922_500n },
        { record: 'R1', demand: 'D1', component: 'FEE', source: 'excess', amount: 500n, remainingAfter: 88_500n, outstandingAfter: 922_000n },
        { record: 'R1', demand: 'D1', component: 'NI', source: 'excess', amount: 22_000n, remainingAfter: 66_500n, outstandingAfter: 900_000n },
        { record: 'R1', demand: 'D1', component: 'P', source: 'excess', amount: 66_500n, remainingAfter: 0n, outstandingAfter: 833_500n },
      ]);
      expect(r.available).toBe(0n);
      expect(r.unappliedTds).toBe(0n);
    });

    it('TDS no interest could take stays available (and still unapplied) while the cash pays P', () => {
      const d1 = demand('D1', 'L1', '2024-02-01', 1, { P: 900_000n, NI: 3_000n });
      const r = held('R1', 100_000n, { unappliedTds: 10_000n });
      const lines = applyHeldExcess([r], [d1], disbursed, '2024-02-01');
      expect(brief(lines)).toEqual([
        { record: 'R1', demand: 'D1', component: 'NI', source: 'excess_tds', amount: 3_000n, remainingAfter: 97_000n, outstandingAfter: 900_000n },
        { record: 'R1', demand: 'D1', component: 'P', source: 'excess', amount: 90_000n, remainingAfter: 7_000n, outstandingAfter: 810_000n },
      ]);
      expect(r.available).toBe(7_000n);
      expect(r.unappliedTds).toBe(7_000n);
    });

    it('unapplied TDS above the available excess (a refund reserved part) is capped at the available', () => {
      const d1 = demand('D1', 'L1', '2024-02-01', 1, dues);
      const r = held('R1', 5_000n, { unappliedTds: 8_000n });
      const lines = applyHeldExcess([r], [d1], disbursed, '2024-02-01');
      expect(brief(lines)).toEqual([
        { record: 'R1', demand: 'D1', component: 'OI', source: 'excess_tds', amount: 2_000n, remainingAfter: 3_000n, outstandingAfter: 931_500n },
        { record: 'R1', demand: 'D1', component: 'NI', source: 'excess_tds', amount: 3_000n, remainingAfter: 0n, outstandingAfter: 928_500n },
      ]);
      expect(r.available).toBe(0n);
      expect(r.unappliedTds).toBe(3_000n);
    });
  });

  describe('settlement order across two loans', () => {
    // Loan A is disbursed later than loan B; both have an installment due on 5 Feb. A's ids and
    // installment number sort first, so only the disbursement date can put B first.
    const loans = new Map([['LA', '2024-01-10'], ['LB', '2024-01-05']]);
    const book = () => [
      demand('dA1', 'LA', '2024-02-05', 1, { P: 80_000n, NI: 20_000n }),
      demand('dB2', 'LB', '2024-02-05', 2, { P: 50_000n, NI: 10_000n }),
    ];

    it('due_date_first clears the earlier-disbursed loan\'s demand before touching the other', () => {
      const demands = book();
      const r = held('R1', 70_000n, { settlementOrder: 'due_date_first' });
      const lines = applyHeldExcess([r], demands, loans, '2024-02-05');
      expect(brief(lines)).toEqual([
        { record: 'R1', demand: 'dB2', component: 'NI', source: 'excess', amount: 10_000n, remainingAfter: 60_000n, outstandingAfter: 50_000n },
        { record: 'R1', demand: 'dB2', component: 'P', source: 'excess', amount: 50_000n, remainingAfter: 10_000n, outstandingAfter: 0n },
        { record: 'R1', demand: 'dA1', component: 'NI', source: 'excess', amount: 10_000n, remainingAfter: 0n, outstandingAfter: 90_000n },
      ]);
      expect(principalByLoan(lines)).toEqual(new Map([['LB', 50_000n]]));
    });

    it('component_first takes NI of both (earlier disbursement first) before any P', () => {
      const demands = book();
      const r = held('R1', 70_000n, { settlementOrder: 'component_first' });
      const lines = applyHeldExcess([r], demands, loans, '2024-02-05');
      expect(brief(lines)).toEqual([
        { record: 'R1', demand: 'dB2', component: 'NI', source: 'excess', amount: 10_000n, remainingAfter: 60_000n, outstandingAfter: 50_000n },
        { record: 'R1', demand: 'dA1', component: 'NI', source: 'excess', amount: 20_000n, remainingAfter: 40_000n, outstandingAfter: 80_000n },
        { record: 'R1', demand: 'dB2', component: 'P', source: 'excess', amount: 40_000n, remainingAfter: 0n, outstandingAfter: 10_000n },
      ]);
      expect(demands[0]!.paid).toEqual({ ...zeroAmounts(), NI: 20_000n });
      expect(demands[1]!.paid).toEqual({ ...zeroAmounts(), NI: 10_000n, P: 40_000n });
    });

    it('an older due date beats an earlier disbursement', () => {
      const demands = [...book(), demand('dA0', 'LA', '2024-02-01', 1, { P: 5_000n, NI: 1_000n })];
      const r = held('R1', 7_000n, { settlementOrder: 'due_date_first' });
      const lines = applyHeldExcess([r], demands, loans, '2024-02-05');
      expect(brief(lines)).toEqual([
        { record: 'R1', demand: 'dA0', component: 'NI', source: 'excess', amount: 1_000n, remainingAfter: 6_000n, outstandingAfter: 5_000n },
        { record: 'R1', demand: 'dA0', component: 'P', source: 'excess', amount: 5_000n, remainingAfter: 1_000n, outstandingAfter: 0n },
        { record: 'R1', demand: 'dB2', component: 'NI', source: 'excess', amount: 1_000n, remainingAfter: 0n, outstandingAfter: 59_000n },
      ]);
    });

    it('each record uses its own settlement order and component order', () => {
      const demands = book();
      const first = held('R1', 15_000n, { settlementOrder: 'component_first' });
      const second = held('R2', 60_000n, { settlementOrder: 'due_date_first', componentOrder: parseComponentOrderOrThrow('P-NI-OI-PI') });
      const lines = applyHeldExcess([first, second], demands, loans, '2024-02-05');
      expect(brief(lines)).toEqual([
        // R1: NI of B (10,000), then NI of A (5,000 of 20,000).
        { record: 'R1', demand: 'dB2', component: 'NI', source: 'excess', amount: 10_000n, remainingAfter: 5_000n, outstandingAfter: 50_000n },
        { record: 'R1', demand: 'dA1', component: 'NI', source: 'excess', amount: 5_000n, remainingAfter: 0n, outstandingAfter: 95_000n },
        // R2: principal first, demand by demand: B's P (50,000), then A's P (10,000 of 80,000).
        { record: 'R2', demand: 'dB2', component: 'P', source: 'excess', amount: 50_000n, remainingAfter: 10_000n, outstandingAfter: 0n },
        { record: 'R2', demand: 'dA1', component: 'P', source: 'excess', amount: 10_000n, remainingAfter: 0n, outstandingAfter: 85_000n },
      ]);
    });
  });
});

describe('principalByLoan', () => {
  it('sums the P lines per loan and ignores every other component', () => {
    const line = (loanId: string, component: Component, amount: bigint): ExcessLine => ({
      recordId: 'R', loanId, demandId: `d-${loanId}`, component, source: 'excess', amount, remainingAfter: 0n, outstandingAfter: 0n,
    });
    const out = principalByLoan([line('L1', 'P', 100n), line('L1', 'NI', 40n), line('L2', 'P', 7n), line('L1', 'P', 23n), line('L3', 'OI', 5n)]);
    expect(out).toEqual(new Map([['L1', 123n], ['L2', 7n]]));
    expect(principalByLoan([])).toEqual(new Map());
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const DAY = '2024-03-15';
const ORDERS = ['PI-OI-NI-P', 'P-NI-OI-PI', 'NI-OI-PI-P', 'FEE-PI-OI-NI-P', 'OI-P-NI-FEE-PI'].map(parseComponentOrderOrThrow);

interface Scenario {
  demands: DemandState[];
  records: HeldRecord[];
  disbursed: Map<string, string>;
}

const amount = fc.bigInt({ min: 0n, max: 60_000n });
const demandArb = (loanCount: number) => fc.record({
  loan: fc.nat({ max: loanCount }), // == loanCount: a loan that is not in the disbursed map
  offset: fc.integer({ min: -40, max: 20 }),
  installment: fc.option(fc.integer({ min: 1, max: 12 }), { freq: 4 }),
  due: fc.record({ P: amount, NI: amount, OI: amount, PI: amount, FEE: amount }),
  paidShare: fc.record({ P: fc.nat({ max: 100 }), NI: fc.nat({ max: 100 }), OI: fc.nat({ max: 100 }), PI: fc.nat({ max: 100 }), FEE: fc.nat({ max: 100 }) }),
  partly: fc.boolean(),
});

const recordArb = (loanCount: number) => fc.record({
  available: fc.oneof({ arbitrary: fc.bigInt({ min: 1n, max: 300_000n }), weight: 5 }, { arbitrary: fc.constant(0n), weight: 1 }),
  tdsShare: fc.oneof(fc.constant(0), fc.nat({ max: 100 }), fc.constant(100), fc.integer({ min: 101, max: 200 })),
  settlementOrder: fc.constantFrom<SettlementOrder>('due_date_first', 'component_first'),
  order: fc.nat({ max: ORDERS.length - 1 }),
  loans: fc.oneof(fc.constant([] as number[]), fc.uniqueArray(fc.nat({ max: loanCount }), { minLength: 1, maxLength: loanCount + 1 })),
});

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 3 }).chain((loanCount) => fc.record({
  loanDays: fc.array(fc.integer({ min: -400, max: -41 }), { minLength: loanCount, maxLength: loanCount }),
  demands: fc.array(demandArb(loanCount), { minLength: 1, maxLength: 10 }),
  records: fc.array(recordArb(loanCount), { minLength: 1, maxLength: 4 }),
}).map(({ loanDays, demands, records }): Scenario => {
  const disbursed = new Map(loanDays.map((d, i) => [`L${i}`, addDays(DAY, d)]));
  return {
    disbursed,
    demands: demands.map((g, i) => {
      const paid = zeroAmounts();
      if (g.partly) for (const c of COMPONENTS) paid[c] = (g.due[c] * BigInt(g.paidShare[c])) / 100n;
      return demand(`D${String(i).padStart(2, '0')}`, `L${g.loan}`, addDays(DAY, g.offset), g.installment, g.due, { paid });
    }),
    records: records.map((g, i) => {
      const available = g.available;
      return {
        id: `R${i}`, available, unappliedTds: (available * BigInt(g.tdsShare)) / 100n, settlementOrder: g.settlementOrder,
        componentOrder: ORDERS[g.order]!, loanIds: g.loans.map((n) => `L${n}`),
      };
    }),
  };
}));

const sumBy = <T>(items: readonly T[], f: (t: T) => bigint): bigint => items.reduce((s, t) => s + f(t), 0n);

describe('applyHeldExcess: properties', () => {
  it('conservation: per record, its lines plus its final available equal its initial available', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const before = s.records.map(cloneRecord);
      const lines = applyHeldExcess(s.records, s.demands, s.disbursed, DAY);
      before.forEach((b, i) => {
        const after = s.records[i]!;
        const mine = lines.filter((l) => l.recordId === b.id);
        expect(sumBy(mine, (l) => l.amount) + after.available).toBe(b.available);
        expect(after.available >= 0n).toBe(true);
        // remainingAfter walks down from the initial available to the final one.
        let running = b.available;
        for (const l of mine) {
          expect(l.amount > 0n).toBe(true);
          running -= l.amount;
          expect(l.remainingAfter).toBe(running);
        }
      });
      // Lines of one record are contiguous and in the order the records were given.
      const order = lines.map((l) => l.recordId).filter((id, i, a) => i === 0 || a[i - 1] !== id);
      const given = s.records.map((r) => r.id);
      expect(order).toEqual(given.filter((id) => order.includes(id)));
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);

  it('no component is paid beyond its due: outstanding never negative; paid moves by exactly the lines', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const before = new Map(s.demands.map((d) => [d.id, cloneDemand(d)]));
      const lines = applyHeldExcess(s.records, s.demands, s.disbursed, DAY);
      for (const d of s.demands) {
        const b = before.get(d.id)!;
        for (const c of COMPONENTS) {
          expect(outstandingOf(d, c) >= 0n).toBe(true);
          const moved = sumBy(lines.filter((l) => l.demandId === d.id && l.component === c), (l) => l.amount);
          expect(d.paid[c] - b.paid[c]).toBe(moved);
        }
        expect(d.due).toEqual(b.due);
        expect(d.waived).toEqual(b.waived);
      }
      // outstandingAfter on each line is the demand's outstanding right after it.
      const running = new Map([...before].map(([id, d]) => [id, totalOutstanding(d)]));
      for (const l of lines) {
        const left = running.get(l.demandId)! - l.amount;
        running.set(l.demandId, left);
        expect(l.outstandingAfter).toBe(left);
        expect(l.loanId).toBe(before.get(l.demandId)!.loanId);
      }
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);

  it('excess_tds lines are on NI/OI only and, per record, within its initial unapplied TDS', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const before = s.records.map(cloneRecord);
      const lines = applyHeldExcess(s.records, s.demands, s.disbursed, DAY);
      for (const l of lines) if (l.source === 'excess_tds') expect(['NI', 'OI']).toContain(l.component);
      before.forEach((b, i) => {
        const tds = sumBy(lines.filter((l) => l.recordId === b.id && l.source === 'excess_tds'), (l) => l.amount);
        expect(tds <= b.unappliedTds).toBe(true);
        expect(s.records[i]!.unappliedTds).toBe(b.unappliedTds - tds);
        // A record whose available is all TDS pays no cash at all.
        if (b.unappliedTds >= b.available) expect(lines.some((l) => l.recordId === b.id && l.source === 'excess')).toBe(false);
      });
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);

  it('pays nothing on demands due after the day, of loans not disbursed, or outside a record\'s loanIds', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const before = new Map(s.demands.map((d) => [d.id, cloneDemand(d)]));
      const records = new Map(s.records.map((r) => [r.id, cloneRecord(r)]));
      const lines = applyHeldExcess(s.records, s.demands, s.disbursed, DAY);
      for (const l of lines) {
        const d = before.get(l.demandId)!;
        expect(d.dueDate <= DAY).toBe(true);
        expect(s.disbursed.has(d.loanId)).toBe(true);
        const r = records.get(l.recordId)!;
        if (r.loanIds.length > 0) expect(r.loanIds).toContain(d.loanId);
      }
      for (const d of s.demands) if (d.dueDate > DAY || !s.disbursed.has(d.loanId)) expect(d.paid).toEqual(before.get(d.id)!.paid);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);

  it('after a pass, either a record\'s excess is used up or no due slot it may settle is left', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      applyHeldExcess(s.records, s.demands, s.disbursed, DAY);
      for (const r of s.records) {
        const mine = s.demands.filter((d) => d.dueDate <= DAY && s.disbursed.has(d.loanId) && (r.loanIds.length === 0 || r.loanIds.includes(d.loanId)));
        const tds = r.unappliedTds < r.available ? r.unappliedTds : r.available;
        const cash = r.available - tds;
        if (cash > 0n) expect(sumBy(mine, totalOutstanding)).toBe(0n);
        if (tds > 0n) expect(sumBy(mine, (d) => outstandingOf(d, 'NI') + outstandingOf(d, 'OI'))).toBe(0n);
      }
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);

  it('applying the same records again pays nothing and changes nothing', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      applyHeldExcess(s.records, s.demands, s.disbursed, DAY);
      const demands = s.demands.map(cloneDemand);
      const records = s.records.map(cloneRecord);
      expect(applyHeldExcess(s.records, s.demands, s.disbursed, DAY)).toEqual([]);
      expect(s.demands).toEqual(demands);
      expect(s.records).toEqual(records);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);

  it('one pass over all records equals record-by-record passes in the same order', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const demands = s.demands.map(cloneDemand);
      const records = s.records.map(cloneRecord);
      const together = applyHeldExcess(s.records, s.demands, s.disbursed, DAY);
      const apart = records.flatMap((r) => applyHeldExcess([r], demands, s.disbursed, DAY));
      expect(apart).toEqual(together);
      expect(demands).toEqual(s.demands);
      expect(records).toEqual(s.records);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);
});
