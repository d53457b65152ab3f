import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocate, AllocationInputError, AllocationInvariantError, applyAllocation, assertAllocationInvariants, compareDemands,
  ComponentOrderError, parseComponentOrderOrThrow,
  type Allocation, type AllocationInput, type Component, type LineSource, type OpenDemand, type SettlementLine,
} from '../../src/domain/allocation.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 10000);
const COMPONENTS: readonly Component[] = ['P', 'NI', 'OI', 'PI', 'FEE'];
const DEFAULT_ORDER = parseComponentOrderOrThrow('PI-OI-NI-P'); // PI FEE OI NI P

function demand(
  id: string, loanId: string, dueDate: string, loanDisbursementDate: string, installmentNumber: number | null,
  owed: Partial<Record<Component, bigint>>, accruedInterest?: bigint,
): OpenDemand {
  const d: OpenDemand = { id, loanId, dueDate, loanDisbursementDate, installmentNumber, outstanding: { P: 0n, NI: 0n, OI: 0n, PI: 0n, FEE: 0n, ...owed } };
  if (accruedInterest !== undefined) d.accruedInterest = accruedInterest;
  return d;
}

function input(demands: readonly OpenDemand[], amount: bigint, rest: Partial<AllocationInput> = {}): AllocationInput {
  return {
    demands, amount, tdsAmount: 0n, valueDate: '2024-03-05', settlementOrder: 'due_date_first',
    componentOrder: DEFAULT_ORDER, excessHandling: 'hold', ...rest,
  };
}

const line = (d: OpenDemand, component: Component, amount: bigint, source: LineSource = 'cash'): SettlementLine => ({
  demandId: d.id, loanId: d.loanId, component, amount, source,
});

const permutations = <T>(xs: readonly T[]): T[][] =>
  (xs.length <= 1 ? [[...xs]] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));

// Two loans on one account: loan A disbursed 1 Jan 2024, loan B on 10 Jan. Value date 5 Mar, so
// all three EMIs are eligible. Totals: A1 1,008,000; B1 503,000; A2 1,000,000; all 2,511,000.
const A1 = demand('A1', 'A', '2024-02-01', '2024-01-01', 1, { P: 900_000n, NI: 100_000n, OI: 6_000n, PI: 2_000n });
const B1 = demand('B1', 'B', '2024-02-10', '2024-01-10', 1, { P: 450_000n, NI: 50_000n, OI: 2_000n, PI: 1_000n });
const A2 = demand('A2', 'A', '2024-03-01', '2024-01-01', 2, { P: 910_000n, NI: 90_000n });
const THREE = [A2, B1, A1]; // deliberately not in due order
const THREE_TOTAL = 2_511_000n;

describe('parseComponentOrderOrThrow', () => {
  it('accepts permutations and puts an absent FEE right after PI', () => {
    expect(parseComponentOrderOrThrow('PI-OI-NI-P')).toEqual(['PI', 'FEE', 'OI', 'NI', 'P']);
    expect(parseComponentOrderOrThrow('P-NI-OI-PI')).toEqual(['P', 'NI', 'OI', 'PI', 'FEE']);
    expect(parseComponentOrderOrThrow('FEE-PI-OI-NI-P')).toEqual(['FEE', 'PI', 'OI', 'NI', 'P']);
    expect(parseComponentOrderOrThrow('NI-P-FEE-OI-PI')).toEqual(['NI', 'P', 'FEE', 'OI', 'PI']);
    expect(parseComponentOrderOrThrow('pi-oi-ni-p')).toEqual(['PI', 'FEE', 'OI', 'NI', 'P']);
  });

  const refusal = (text: string): ComponentOrderError => {
    try {
      parseComponentOrderOrThrow(text);
    } catch (error) {
      if (error instanceof ComponentOrderError) return error;
      throw error;
    }
    throw new Error(`"${text}" was accepted`);
  };

  it.each([
    ['duplicate', 'PI-OI-NI-P-P', 'P', /more than once/],
    ['duplicate FEE', 'PI-FEE-OI-FEE-NI-P', 'FEE', /more than once/],
    ['unknown', 'PI-OI-XX-P', 'XX', /unknown/],
    ['unknown extra', 'PI-OI-NI-P-INT', 'INT', /unknown/],
    ['missing', 'PI-OI-NI', 'P', /missing/],
    ['missing PI', 'FEE-OI-NI-P', 'PI', /missing/],
    ['empty', '', '', /empty/],
    ['empty token', 'PI--OI-NI-P', '', /unknown/],
  ])('refuses a %s component, naming the token', (_kind, text, token, message) => {
    const error = refusal(text);
    expect(error.field).toBe('component_order');
    expect(error.token).toBe(token);
    expect(error.message).toMatch(message);
  });
});

describe('allocate: horizontal and vertical (hand-checked)', () => {
  it('due_date_first settles the oldest EMI in full before the next', () => {
    // 1,400,000 paise. A1 (due 1 Feb) first: PI 2,000 + OI 6,000 + NI 100,000 + P 900,000 = 1,008,000,
    // leaving 392,000. B1 (due 10 Feb): PI 1,000 (391,000) + OI 2,000 (389,000) + NI 50,000
    // (339,000) + P 339,000 of 450,000. A2 (due 1 Mar) gets nothing; excess 0.
    const result = allocate(input(THREE, 1_400_000n));
    expect(result).toEqual({
      lines: [
        line(A1, 'PI', 2_000n), line(A1, 'OI', 6_000n), line(A1, 'NI', 100_000n), line(A1, 'P', 900_000n),
        line(B1, 'PI', 1_000n), line(B1, 'OI', 2_000n), line(B1, 'NI', 50_000n), line(B1, 'P', 339_000n),
      ],
      excess: 0n,
    });
  });

  it('component_first sweeps each component over every EMI before the next component', () => {
    // PI: A1 2,000 + B1 1,000 = 3,000 (1,397,000 left). FEE: none. OI: A1 6,000 + B1 2,000 = 8,000
    // (1,389,000). NI: A1 100,000 + B1 50,000 + A2 90,000 = 240,000 (1,149,000). P: A1 900,000
    // (249,000 left), then B1 249,000 of 450,000. A2's principal gets nothing; excess 0.
    const result = allocate(input(THREE, 1_400_000n, { settlementOrder: 'component_first' }));
    expect(result).toEqual({
      lines: [
        line(A1, 'PI', 2_000n), line(B1, 'PI', 1_000n), line(A1, 'OI', 6_000n), line(B1, 'OI', 2_000n),
        line(A1, 'NI', 100_000n), line(B1, 'NI', 50_000n), line(A2, 'NI', 90_000n),
        line(A1, 'P', 900_000n), line(B1, 'P', 249_000n),
      ],
      excess: 0n,
    });
  });

  it('an amount of 0 settles nothing', () => {
    expect(allocate(input(THREE, 0n))).toEqual({ lines: [], excess: 0n });
  });
});

describe('allocate: every component order', () => {
  // One EMI with every component owed, each a different size so a partial payment shows which
  // component was reached: P 40,000, NI 3,000, OI 200, PI 10, FEE 5 (total 43,215).
  const emi = demand('E1', 'L', '2024-02-01', '2024-01-01', 1, { P: 40_000n, NI: 3_000n, OI: 200n, PI: 10n, FEE: 5n });

  it('follows the order, with FEE right after PI, under both settlement orders', () => {
    const orders = permutations(['PI', 'OI', 'NI', 'P'] as const);
    expect(orders).toHaveLength(24);
    for (const order of orders) {
      const expected: Component[] = [...order.slice(0, order.indexOf('PI') + 1), 'FEE', ...order.slice(order.indexOf('PI') + 1)];
      const componentOrder = parseComponentOrderOrThrow(order.join('-'));
      expect(componentOrder).toEqual(expected);
      // Paying the first k components in full plus 1 paisa must pay exactly those k, then 1
      // paisa of component k+1 and nothing after it.
      for (let k = 0; k < 5; k++) {
        const amount = expected.slice(0, k).reduce((s, c) => s + emi.outstanding[c], 0n) + 1n;
        const want = [...expected.slice(0, k).map((c) => line(emi, c, emi.outstanding[c])), line(emi, expected[k]!, 1n)];
        for (const settlementOrder of ['due_date_first', 'component_first'] as const) {
          expect(allocate(input([emi], amount, { componentOrder, settlementOrder }))).toEqual({ lines: want, excess: 0n });
        }
      }
    }
  });

  it('spot check: P-NI-OI-PI pays principal first and the fee last', () => {
    // 40,000 P + 3,000 NI + 200 OI + 10 PI = 43,210, then 4 of the 5 paise of FEE.
    const result = allocate(input([emi], 43_214n, { componentOrder: parseComponentOrderOrThrow('P-NI-OI-PI') }));
    expect(result.lines).toEqual([line(emi, 'P', 40_000n), line(emi, 'NI', 3_000n), line(emi, 'OI', 200n), line(emi, 'PI', 10n), line(emi, 'FEE', 4n)]);
  });
});

describe('allocate: TDS', () => {
  it('pays NI and OI first, then the cash sweeps every component', () => {
    // Amount 500,000 of which TDS 10,000. TDS in interest order (OI before NI): A1 OI 6,000, then
    // A1 NI 4,000. Cash 490,000: A1 PI 2,000, OI 0 left, NI 96,000, P 392,000 (= 490,000).
    const result = allocate(input([A1], 500_000n, { tdsAmount: 10_000n }));
    expect(result).toEqual({
      lines: [
        line(A1, 'OI', 6_000n, 'tds'), line(A1, 'NI', 4_000n, 'tds'),
        line(A1, 'PI', 2_000n), line(A1, 'NI', 96_000n), line(A1, 'P', 392_000n),
      ],
      excess: 0n,
    });
  });

  it('follows the settlement order and the relative order of NI and OI', () => {
    // All-TDS record of 10,000 over A1 (OI 6,000, NI 100,000) and B1 (OI 2,000, NI 50,000).
    const horizontal = allocate(input([B1, A1], 10_000n, { tdsAmount: 10_000n }));
    expect(horizontal.lines).toEqual([line(A1, 'OI', 6_000n, 'tds'), line(A1, 'NI', 4_000n, 'tds')]);
    // Vertical: OI on A1 6,000 and B1 2,000, then NI on A1 with the last 2,000.
    const vertical = allocate(input([B1, A1], 10_000n, { tdsAmount: 10_000n, settlementOrder: 'component_first' }));
    expect(vertical.lines).toEqual([line(A1, 'OI', 6_000n, 'tds'), line(B1, 'OI', 2_000n, 'tds'), line(A1, 'NI', 2_000n, 'tds')]);
    // NI before OI in the order: all 10,000 goes to A1's NI.
    const niFirst = allocate(input([B1, A1], 10_000n, { tdsAmount: 10_000n, componentOrder: parseComponentOrderOrThrow('PI-NI-OI-P') }));
    expect(niFirst.lines).toEqual([line(A1, 'NI', 10_000n, 'tds')]);
  });

  it('TDS with no interest to settle stays in the excess, even under prepay', () => {
    // D owes P 50,000, PI 700, FEE 300 and no interest. Amount 20,000 with TDS 5,000: cash 15,000
    // pays PI 700, FEE 300, P 14,000; the TDS 5,000 is excess.
    const d = demand('D', 'L', '2024-02-01', '2024-01-01', 1, { P: 50_000n, PI: 700n, FEE: 300n });
    expect(allocate(input([d], 20_000n, { tdsAmount: 5_000n }))).toEqual({
      lines: [line(d, 'PI', 700n), line(d, 'FEE', 300n), line(d, 'P', 14_000n)], excess: 5_000n,
    });
    // Amount 60,000 with TDS 5,000 under prepay, and a future EMI F (accrued 1,000): cash 55,000
    // pays 51,000 on D, prepays F's NI 1,000 and P 3,000; the TDS 5,000 is still excess.
    const f = demand('F', 'L', '2024-04-01', '2024-01-01', 2, { P: 50_000n, NI: 2_500n }, 1_000n);
    expect(allocate(input([d, f], 60_000n, { tdsAmount: 5_000n, excessHandling: 'prepay' }))).toEqual({
      lines: [line(d, 'PI', 700n), line(d, 'FEE', 300n), line(d, 'P', 50_000n), line(f, 'NI', 1_000n, 'prepay'), line(f, 'P', 3_000n, 'prepay')],
      excess: 5_000n,
    });
  });
});

describe('allocate: excess', () => {
  // A1x is due (NI 8,000 + P 2,000 = 10,000); C1 is a bullet loan maturing 15 May with NI 45,000
  // for the full tenure, of which 15,000 has accrued by the value date 1 Mar.
  const a1 = demand('A1x', 'A', '2024-02-01', '2024-01-01', 1, { NI: 8_000n, P: 2_000n });
  const c1 = demand('C1', 'C', '2024-05-15', '2024-02-15', 1, { P: 1_000_000n, NI: 45_000n }, 15_000n);
  const at = { valueDate: '2024-03-01' };

  it('hold keeps what is left after the due demands and touches nothing not yet due', () => {
    // 500,000 - 10,000 = 490,000 excess.
    expect(allocate(input([c1, a1], 500_000n, at))).toEqual({ lines: [line(a1, 'NI', 8_000n), line(a1, 'P', 2_000n)], excess: 490_000n });
  });

  it('prepay pays accrued interest, then principal, of demands not yet due', () => {
    // 490,000 left: C1 NI 15,000 (accrued only), then C1 P 475,000.
    expect(allocate(input([c1, a1], 500_000n, { ...at, excessHandling: 'prepay' }))).toEqual({
      lines: [line(a1, 'NI', 8_000n), line(a1, 'P', 2_000n), line(c1, 'NI', 15_000n, 'prepay'), line(c1, 'P', 475_000n, 'prepay')],
      excess: 0n,
    });
    // 1,100,000 - 10,000 - 15,000 - 1,000,000 = 75,000 excess; the 30,000 of NI not yet accrued stays owed.
    expect(allocate(input([c1, a1], 1_100_000n, { ...at, excessHandling: 'prepay' }))).toEqual({
      lines: [line(a1, 'NI', 8_000n), line(a1, 'P', 2_000n), line(c1, 'NI', 15_000n, 'prepay'), line(c1, 'P', 1_000_000n, 'prepay')],
      excess: 75_000n,
    });
  });

  it('prepay caps NI at the NI outstanding, and at 0 when no accrual is given', () => {
    const over = { ...c1, accruedInterest: 60_000n };
    expect(allocate(input([over], 100_000n, { ...at, excessHandling: 'prepay' })).lines)
      .toEqual([line(c1, 'NI', 45_000n, 'prepay'), line(c1, 'P', 55_000n, 'prepay')]);
    const none = demand('C1', 'C', '2024-05-15', '2024-02-15', 1, { P: 1_000_000n, NI: 45_000n });
    expect(allocate(input([none], 100_000n, { ...at, excessHandling: 'prepay' })).lines).toEqual([line(none, 'P', 100_000n, 'prepay')]);
  });

  it('prepay follows the settlement order across demands not yet due', () => {
    // D (loan A, accrued 3,000) and E (loan B, accrued 2,000), both not yet due; 10,000 to prepay.
    const d = demand('D', 'A', '2024-04-01', '2024-01-01', 3, { P: 100_000n, NI: 10_000n }, 3_000n);
    const e = demand('E', 'B', '2024-04-10', '2024-01-10', 3, { P: 50_000n, NI: 8_000n }, 2_000n);
    const rules = { valueDate: '2024-03-15', excessHandling: 'prepay' } as const;
    // Horizontal: D's NI 3,000 then D's P 7,000.
    expect(allocate(input([e, d], 10_000n, rules)).lines).toEqual([line(d, 'NI', 3_000n, 'prepay'), line(d, 'P', 7_000n, 'prepay')]);
    // Vertical: NI on D 3,000 and E 2,000, then D's P 5,000.
    expect(allocate(input([e, d], 10_000n, { ...rules, settlementOrder: 'component_first' })).lines)
      .toEqual([line(d, 'NI', 3_000n, 'prepay'), line(e, 'NI', 2_000n, 'prepay'), line(d, 'P', 5_000n, 'prepay')]);
  });

  it('the exact eligible due leaves no excess; one paisa more is excess', () => {
    for (const settlementOrder of ['due_date_first', 'component_first'] as const) {
      for (const excessHandling of ['hold', 'prepay'] as const) {
        const exact = allocate(input(THREE, THREE_TOTAL, { settlementOrder, excessHandling }));
        expect(exact.excess).toBe(0n);
        expect(applyAllocation(THREE, exact).every((d) => COMPONENTS.every((c) => d.outstanding[c] === 0n))).toBe(true);
        const more = allocate(input(THREE, THREE_TOTAL + 1n, { settlementOrder, excessHandling }));
        expect(more.excess).toBe(1n);
        expect(more.lines).toEqual(exact.lines);
      }
    }
  });

  it('a demand due after the value date is untouched under hold', () => {
    // A3 falls due 1 Apr, after the value date 5 Mar: 3,000,000 - 2,511,000 = 489,000 excess.
    const a3 = demand('A3', 'A', '2024-04-01', '2024-01-01', 3, { P: 920_000n, NI: 80_000n }, 40_000n);
    const result = allocate(input([...THREE, a3], 3_000_000n));
    expect(result.lines.filter((l) => l.demandId === 'A3')).toEqual([]);
    expect(result.excess).toBe(489_000n);
  });
});

describe('allocate: demand order', () => {
  it('breaks due-date ties by disbursement date, then installment number (fees last), then id', () => {
    // Four demands due on 1 Feb, 100 of P each: W and Y (installments 1 and 2) and the fee demand
    // Z of loan L1 (disbursed 1 Jan), and X of loan L2 (disbursed 5 Jan, installment 1). Expected
    // order W, Y, Z, X: 350 pays three in full and 50 of X.
    const x = demand('X', 'L2', '2024-02-01', '2024-01-05', 1, { P: 100n });
    const y = demand('Y', 'L1', '2024-02-01', '2024-01-01', 2, { P: 100n });
    const z = demand('Z', 'L1', '2024-02-01', '2024-01-01', null, { P: 100n });
    const w = demand('W', 'L1', '2024-02-01', '2024-01-01', 1, { P: 100n });
    expect(allocate(input([x, y, z, w], 350n)).lines).toEqual([line(w, 'P', 100n), line(y, 'P', 100n), line(z, 'P', 100n), line(x, 'P', 50n)]);
    const b = demand('b', 'L3', '2024-02-01', '2024-01-01', 1, { P: 100n });
    const a = demand('a', 'L4', '2024-02-01', '2024-01-01', 1, { P: 100n });
    expect(allocate(input([b, a], 150n)).lines).toEqual([line(a, 'P', 100n), line(b, 'P', 50n)]);
    expect([b, a].sort(compareDemands).map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('a demand due on the value date is eligible', () => {
    const today = demand('T', 'L', '2024-03-05', '2024-01-01', 1, { P: 100n });
    expect(allocate(input([today], 100n)).lines).toEqual([line(today, 'P', 100n)]);
  });
});

describe('allocate: refuses bad input', () => {
  it.each<[string, AllocationInput, RegExp]>([
    ['a negative amount', input([A1], -1n), /amount/],
    ['negative TDS', input([A1], 10n, { tdsAmount: -1n }), /tdsAmount/],
    ['TDS above the amount', input([A1], 10n, { tdsAmount: 11n }), /tdsAmount/],
    ['a negative outstanding', input([demand('N', 'L', '2024-02-01', '2024-01-01', 1, { P: -1n })], 10n), /outstanding/],
    ['negative accrued interest', input([demand('N', 'L', '2024-04-01', '2024-01-01', 1, { P: 1n }, -1n)], 10n), /accrued/],
    ['a demand twice', input([A1, A1], 10n), /more than once/],
    ['a bad value date', input([A1], 10n, { valueDate: '5-3-2024' }), /valueDate/],
    ['an order without FEE', input([A1], 10n, { componentOrder: ['PI', 'OI', 'NI', 'P'] }), /componentOrder/],
    ['an order with a repeat', input([A1], 10n, { componentOrder: ['PI', 'FEE', 'OI', 'NI', 'NI'] }), /componentOrder/],
  ])('%s', (_what, bad, message) => {
    expect(() => allocate(bad)).toThrow(AllocationInputError);
    expect(() => allocate(bad)).toThrow(message);
  });
});

describe('assertAllocationInvariants', () => {
  // A 1,010,000 record with 10,000 of TDS against A1 (1,008,000 due) under hold, and A3 not yet
  // due. TDS pays OI 6,000 and NI 4,000; cash pays PI 2,000, NI 96,000, P 900,000; excess 2,000.
  // Each case breaks the engine's plan one way; the plan itself passes.
  const a3 = demand('A3', 'A', '2024-04-01', '2024-01-01', 3, { P: 920_000n, NI: 80_000n }, 40_000n);
  const record = input([A1, a3], 1_010_000n, { tdsAmount: 10_000n });
  const plan = allocate(record);
  const withLines = (lines: SettlementLine[], excess = plan.excess): Allocation => ({ lines, excess });

  it('passes the engine\'s plan', () => {
    expect(plan.excess).toBe(2_000n);
    expect(() => assertAllocationInvariants(record, plan)).not.toThrow();
  });

  it.each<[string, Allocation, RegExp]>([
    ['a paisa lost', withLines(plan.lines, 1_999n), /lines \+ excess/],
    ['negative excess', withLines([...plan.lines, line(a3, 'P', 2_001n)], -1n), /negative excess/],
    ['a zero line', withLines([...plan.lines, line(A1, 'FEE', 0n)]), /not positive/],
    ['two lines for one slot', withLines([...plan.lines, line(A1, 'P', 1n)], 1_999n), /two cash lines/],
    ['over-payment', withLines([line(A1, 'PI', 4_000n), ...plan.lines.filter((l) => l.component !== 'PI')], 0n), /beyond its outstanding/],
    ['TDS on principal', withLines([...plan.lines, line(A1, 'P', 1n, 'tds')], 1_999n), /TDS settles only/],
    ['cash on a demand not yet due', withLines([...plan.lines, line(a3, 'P', 1n)], 1_999n), /not yet due/],
    ['prepay under hold', withLines([...plan.lines, line(a3, 'P', 1n, 'prepay')], 1_999n), /not a prepayment/],
  ])('refuses %s', (_what, broken, message) => {
    expect(() => assertAllocationInvariants(record, broken)).toThrow(AllocationInvariantError);
    expect(() => assertAllocationInvariants(record, broken)).toThrow(message);
  });
});

describe('applyAllocation', () => {
  it('reduces outstanding by the lines and accrued interest by the NI paid, without mutating', () => {
    const c1 = demand('C1', 'C', '2024-05-15', '2024-02-15', 1, { P: 1_000_000n, NI: 45_000n }, 15_000n);
    const demands = [A1, c1];
    const result = allocate(input(demands, 1_100_000n, { excessHandling: 'prepay' }));
    // A1 takes 1,008,000; C1 gets NI 15,000 and P 77,000 (1,100,000 - 1,008,000 - 15,000).
    const after = applyAllocation(demands, result);
    expect(after[0]!.outstanding).toEqual({ P: 0n, NI: 0n, OI: 0n, PI: 0n, FEE: 0n });
    expect(after[1]).toEqual({ ...c1, outstanding: { ...c1.outstanding, P: 923_000n, NI: 30_000n }, accruedInterest: 0n });
    expect(c1.outstanding.P).toBe(1_000_000n);
    expect(() => applyAllocation([A1], result)).toThrow(/unknown demand/);
  });

  it('two records with TDS in the second are not one record (why the property excludes it)', () => {
    // d owes NI 100 and P 100. Record a: cash 100 pays NI (order PI-OI-NI-P); record b: TDS 100
    // then finds no interest, so it is all excess. One record of 200 with TDS 100: TDS pays NI,
    // cash pays P, no excess. Cash already spent cannot be re-labelled as principal.
    const d = demand('d', 'L', '2024-02-01', '2024-01-01', 1, { NI: 100n, P: 100n });
    const first = allocate(input([d], 100n));
    const second = allocate(input(applyAllocation([d], first), 100n, { tdsAmount: 100n }));
    expect(second).toEqual({ lines: [], excess: 100n });
    expect(allocate(input([d], 200n, { tdsAmount: 100n }))).toEqual({ lines: [line(d, 'NI', 100n, 'tds'), line(d, 'P', 100n)], excess: 0n });
  });
});

// ---------------------------------------------------------------- properties

const DUE_DATES = ['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30'];
const DISBURSED: Record<string, string> = { L1: '2023-12-01', L2: '2023-12-15', L3: '2023-12-01' };
const owedArb = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 50_000n }));

const demandsArb = fc.array(fc.record({
  loanId: fc.constantFrom('L1', 'L2', 'L3'),
  dueDate: fc.constantFrom(...DUE_DATES),
  installmentNumber: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  owed: fc.record({ P: owedArb, NI: owedArb, OI: owedArb, PI: owedArb, FEE: owedArb }),
  accrued: fc.option(fc.bigInt({ min: 0n, max: 60_000n }), { nil: undefined }),
}), { minLength: 1, maxLength: 6 }).map((rows) => rows.map((r, i) => demand(`D${i}`, r.loanId, r.dueDate, DISBURSED[r.loanId]!, r.installmentNumber, r.owed, r.accrued)));

const totalOwed = (demands: readonly OpenDemand[]): bigint => demands.reduce((s, d) => s + COMPONENTS.reduce((t, c) => t + d.outstanding[c], 0n), 0n);

const rulesArb = fc.record({
  demands: demandsArb,
  valueDate: fc.constantFrom('2024-01-15', ...DUE_DATES, '2024-05-15'),
  settlementOrder: fc.constantFrom<AllocationInput['settlementOrder']>('due_date_first', 'component_first'),
  componentOrder: fc.shuffledSubarray([...COMPONENTS], { minLength: 5, maxLength: 5 }),
  excessHandling: fc.constantFrom<AllocationInput['excessHandling']>('hold', 'prepay'),
});

/**
 * Any amount, amounts that hit the edges (exactly the eligible due, one paisa either side), and
 * amounts beyond the eligible due so that excess and prepayment are common.
 */
function amountArb(base: { demands: readonly OpenDemand[]; valueDate: string }): fc.Arbitrary<bigint> {
  const due = totalOwed(base.demands.filter((d) => d.dueDate <= base.valueDate));
  const all = totalOwed(base.demands);
  return fc.oneof(
    fc.bigInt({ min: 0n, max: all + 10_000n }),
    fc.constantFrom(due, due + 1n, due > 0n ? due - 1n : 0n),
    fc.bigInt({ min: due, max: all + 10_000n }),
  );
}

const inputArb: fc.Arbitrary<AllocationInput> = rulesArb.chain((base) => fc.record({
  amount: amountArb(base),
  tdsPerMille: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 1000n })),
}).map(({ amount, tdsPerMille }) => ({ ...base, amount, tdsAmount: (amount * tdsPerMille) / 1000n })));

const sumLines = (a: Allocation, where: (l: SettlementLine) => boolean = () => true): bigint =>
  a.lines.filter(where).reduce((s, l) => s + l.amount, 0n);
const eligibleOf = (i: AllocationInput): OpenDemand[] => i.demands.filter((d) => d.dueDate <= i.valueDate).sort(compareDemands);
const byId = (demands: readonly OpenDemand[]): Map<string, OpenDemand> => new Map(demands.map((d) => [d.id, d]));

describe('allocate (properties)', () => {
  it('conserves money, never over-pays, leaves nothing negative, and leaves no payable due behind', () => {
    fc.assert(fc.property(inputArb, (i) => {
      const a = allocate(i);
      expect(sumLines(a) + a.excess).toBe(i.amount);
      expect(a.excess >= 0n && a.lines.every((l) => l.amount > 0n)).toBe(true);
      expect(a.lines.filter((l) => l.source === 'tds').every((l) => l.component === 'NI' || l.component === 'OI')).toBe(true);
      const after = applyAllocation(i.demands, a);
      expect(after.every((d) => COMPONENTS.every((c) => d.outstanding[c] >= 0n))).toBe(true);
      // Unused TDS means no eligible interest is left; excess cash means nothing payable is left.
      const eligible = eligibleOf(i).map((d) => byId(after).get(d.id)!);
      const unusedTds = i.tdsAmount - sumLines(a, (l) => l.source === 'tds');
      if (unusedTds > 0n) expect(eligible.every((d) => d.outstanding.NI === 0n && d.outstanding.OI === 0n)).toBe(true);
      if (a.excess - unusedTds > 0n) {
        expect(eligible.every((d) => COMPONENTS.every((c) => d.outstanding[c] === 0n))).toBe(true);
        const future = after.filter((d) => d.dueDate > i.valueDate);
        if (i.excessHandling === 'prepay') expect(future.every((d) => d.outstanding.P === 0n && (d.outstanding.NI === 0n || (d.accruedInterest ?? 0n) === 0n))).toBe(true);
      }
      // Prepaid NI stays within the accrued interest.
      const prepaidNi = (d: OpenDemand) => sumLines(a, (l) => l.demandId === d.id && l.component === 'NI' && l.source === 'prepay');
      expect(i.demands.every((d) => prepaidNi(d) <= (d.accruedInterest ?? 0n))).toBe(true);
      if (i.excessHandling === 'hold') expect(a.lines.every((l) => byId(i.demands).get(l.demandId)!.dueDate <= i.valueDate)).toBe(true);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('due_date_first: a demand is paid only once every earlier eligible demand is settled', () => {
    fc.assert(fc.property(inputArb.filter((i) => i.settlementOrder === 'due_date_first'), (i) => {
      const a = allocate(i);
      const after = byId(applyAllocation(i.demands, a));
      const eligible = eligibleOf(i);
      const settled = (d: OpenDemand, components: readonly Component[]) => components.every((c) => after.get(d.id)!.outstanding[c] === 0n);
      for (const l of a.lines) {
        const k = eligible.findIndex((d) => d.id === l.demandId);
        if (l.source === 'prepay') expect(eligible.every((d) => settled(d, COMPONENTS))).toBe(true);
        if (l.source === 'cash') {
          expect(eligible.slice(0, k).every((d) => settled(d, COMPONENTS))).toBe(true);
          expect(settled(eligible[k]!, i.componentOrder.slice(0, i.componentOrder.indexOf(l.component)))).toBe(true);
        }
        if (l.source === 'tds') expect(eligible.slice(0, k).every((d) => settled(d, ['NI', 'OI']))).toBe(true);
      }
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('component_first: a component is paid only once every earlier component is settled on every eligible demand', () => {
    fc.assert(fc.property(inputArb.filter((i) => i.settlementOrder === 'component_first'), (i) => {
      const a = allocate(i);
      const after = byId(applyAllocation(i.demands, a));
      const eligible = eligibleOf(i);
      for (const l of a.lines.filter((x) => x.source === 'cash')) {
        const earlier = i.componentOrder.slice(0, i.componentOrder.indexOf(l.component));
        expect(eligible.every((d) => earlier.every((c) => after.get(d.id)!.outstanding[c] === 0n))).toBe(true);
        const k = eligible.findIndex((d) => d.id === l.demandId);
        expect(eligible.slice(0, k).every((d) => after.get(d.id)!.outstanding[l.component] === 0n)).toBe(true);
      }
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  // Two records on the same value date settle exactly what one record of their sum would, for
  // both settlement orders and both excess rules, provided the second record carries no TDS.
  // Each phase is a greedy fill of a fixed list of slots, and greedy fills add up. Prepay keeps
  // this only because applyAllocation lowers the accrued interest by the NI paid. TDS in the
  // second record breaks it: the first record's cash may already have paid the interest the
  // TDS would have taken (see the hand-checked counterexample above), so the generator puts TDS
  // in the first record only.
  it('paying in two records equals paying once when no date separates them (no TDS in the second)', () => {
    const splitArb = inputArb.chain((i) => fc.record({ i: fc.constant(i), first: fc.bigInt({ min: 0n, max: i.amount }) }));
    fc.assert(fc.property(splitArb, ({ i, first }) => {
      const tdsFirst = i.tdsAmount < first ? i.tdsAmount : first;
      const whole = allocate({ ...i, tdsAmount: tdsFirst });
      const a = allocate({ ...i, amount: first, tdsAmount: tdsFirst });
      const b = allocate({ ...i, demands: applyAllocation(i.demands, a), amount: i.amount - first, tdsAmount: 0n });
      expect(merged([a, b])).toEqual(merged([whole]));
      expect(a.excess + b.excess).toBe(whole.excess);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('is deterministic, independent of the input order of demands, and never mutates its input', () => {
    const withOrder = inputArb.chain((i) => fc.record({
      i: fc.constant(i),
      shuffled: fc.shuffledSubarray([...i.demands], { minLength: i.demands.length, maxLength: i.demands.length }),
    }));
    fc.assert(fc.property(withOrder, ({ i, shuffled }) => {
      const snapshot = structuredClone(i);
      const frozen = deepFreeze(i);
      const first = allocate(frozen);
      expect(allocate(frozen)).toEqual(first);
      expect(allocate({ ...i, demands: shuffled })).toEqual(first);
      expect(i).toEqual(snapshot);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);
});

/** Sums lines per (demand, component, source), as a sorted list so equal splits compare equal. */
function merged(allocations: readonly Allocation[]): [string, bigint][] {
  const sums = new Map<string, bigint>();
  for (const l of allocations.flatMap((a) => a.lines)) {
    const key = `${l.demandId} ${l.component} ${l.source}`;
    sums.set(key, (sums.get(key) ?? 0n) + l.amount);
  }
  return [...sums].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
