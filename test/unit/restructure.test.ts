import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { DEFAULT_PARAMS, type StoredParams } from '../../src/domain/loan-params.js';
import { scheduleFor } from '../../src/domain/loan-terms.js';
import {
  NO_COMPONENTS, OVERDUE_TREATMENTS, outstandingOf, planRestructure, RestructureError, sumComponents,
  type Components, type ExistingDemand, type RestructurePlan, type RestructureTerms,
} from '../../src/domain/restructure.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);
const Z = NO_COMPONENTS;

/** 12% a year, monthly, 30/360: each month's interest is exactly 1% of the opening principal. */
const emiTerms = (rate = '12', count = 12): StoredParams => ({
  ...DEFAULT_PARAMS, roi_value: [{ days: -1, value: rate }], emi_count: count, emi_frequency: 'monthly', days_in_month: 30, days_in_year: 360,
});
const flatTerms = (rate: string, count: number): StoredParams => ({ ...emiTerms('12', count), flat_roi_value: rate });

function demandsOf(terms: StoredParams, principal: bigint, disbursed: string): ExistingDemand[] {
  return scheduleFor(terms, principal, disbursed).installments.map((i) => ({
    id: `e${i.number}`, kind: 'emi', installmentNumber: i.number, periodStart: i.periodStart, dueDate: i.dueDate,
    due: { ...Z, p: i.principal, ni: i.interest }, paid: Z, waived: Z,
  }));
}

/**
 * Rs 1,00,000 at 12% over 12 months from 1 Jan 2024 (EMI Rs 8,884.88). Installment 1 (P 7,884.88,
 * NI 1,000.00) is paid; installment 2 (P 7,963.73, NI 921.15) is unpaid and has OI Rs 50 and PI
 * Rs 20 on it; a fee of Rs 590 due 10 Feb has Rs 100 paid. Restructured from 16 Mar 2024.
 */
function scenario(): ExistingDemand[] {
  const demands = demandsOf(emiTerms(), 100_000_00n, '2024-01-01');
  demands[0] = { ...demands[0]!, paid: demands[0]!.due };
  demands[1] = { ...demands[1]!, due: { ...demands[1]!.due, oi: 50_00n, pi: 20_00n } };
  demands.push({ id: 'f1', kind: 'fee', installmentNumber: null, periodStart: null, dueDate: '2024-02-10', due: { ...Z, fee: 590_00n }, paid: { ...Z, fee: 100_00n }, waived: Z });
  return demands;
}
const from16Mar = (treatment: RestructureTerms['treatment'], rest: Partial<RestructureTerms> = {}): RestructureTerms =>
  ({ fromDate: '2024-03-16', emiCount: 6, rate: '12', frequency: 'monthly', treatment, ...rest });

describe('Restructure plan: worked example', () => {
  it('moves principal whole, and arrears with the running period accrued through the day before', () => {
    const plan = planRestructure(emiTerms(), scenario(), from16Mar('separate_demand'));
    // Principal outstanding: 1,00,000 - 7,884.88 paid = 92,115.12.
    expect(plan.outstandingPrincipal).toBe(92_115_12n);
    // Running period 1 Mar - 1 Apr: 15 days (30/360) to 15 Mar on the scheduled opening principal
    // 84,151.39 at 12%: 84,151.39 x 0.12 x 15/360 = 420.75695 -> 420.76.
    expect(plan.accruedInterest).toBe(420_76n);
    // NI 921.15 (installment 2) + 420.76 accrued; OI 50; PI 20; fee 590 - 100 paid = 490.
    expect(plan.arrears).toEqual({ p: 0n, ni: 1_341_91n, oi: 50_00n, pi: 20_00n, fee: 490_00n });
    // NI of installments 3-12 (4,697.40) less what had accrued.
    expect(plan.droppedInterest).toBe(4_697_40n - 420_76n);
    expect(plan.cancel).toEqual(['e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11', 'e12']);
    // The part-paid fee keeps exactly what was paid, and nothing more is due on it.
    expect(plan.trim).toEqual([{ id: 'f1', before: { ...Z, fee: 590_00n }, due: { ...Z, fee: 100_00n } }]);
  });

  it('separate_demand: the arrears become one demand due on the from date; the schedule takes principal only', () => {
    const plan = planRestructure(emiTerms(), scenario(), from16Mar('separate_demand'));
    expect(plan.capitalised).toBe(0n);
    expect(plan.separate).toEqual({ number: null, periodStart: null, dueDate: '2024-03-16', due: { p: 0n, ni: 1_341_91n, oi: 50_00n, pi: 20_00n, fee: 490_00n } });
    // 6 EMIs on 92,115.12 at 1% a month: EMI 15,894.31; first interest 921.15, principal 14,973.16.
    expect(plan.installments).toHaveLength(6);
    expect(plan.installments[0]).toEqual({ number: 2, periodStart: '2024-03-16', dueDate: '2024-04-16', due: { ...Z, p: 14_973_16n, ni: 921_15n } });
    expect(plan.installments.at(-1)!.dueDate).toBe('2024-09-16');
    expect(plan.installments.reduce((s, i) => s + i.due.p, 0n)).toBe(92_115_12n);
  });

  it('capitalise: NI, OI and FEE join principal; PI stays apart as its own demand', () => {
    const plan = planRestructure(emiTerms(), scenario(), from16Mar('capitalise'));
    // 1,341.91 + 50 + 490 = 1,881.91; new principal 92,115.12 + 1,881.91 = 93,997.03.
    expect(plan.capitalised).toBe(1_881_91n);
    expect(plan.newPrincipal).toBe(93_997_03n);
    expect(plan.installments.reduce((s, i) => s + i.due.p, 0n)).toBe(93_997_03n);
    // First interest 1% of 93,997.03 = 939.9703 -> 939.97.
    expect(plan.installments[0]!.due.ni).toBe(939_97n);
    expect(plan.separate).toEqual({ number: null, periodStart: null, dueDate: '2024-03-16', due: { ...Z, pi: 20_00n } });
  });

  it('first_emi: the arrears ride on the first new installment, each in its own component', () => {
    const plan = planRestructure(emiTerms(), scenario(), from16Mar('first_emi'));
    expect(plan.separate).toBeNull();
    // Schedule NI 921.15 + arrears NI 1,341.91 = 2,263.06.
    expect(plan.installments[0]!.due).toEqual({ p: 14_973_16n, ni: 2_263_06n, oi: 50_00n, pi: 20_00n, fee: 490_00n });
    expect(plan.installments[1]!.due).toEqual({ ...Z, p: 15_122_89n, ni: 771_42n });
  });

  it('takes a new rate, tenure and frequency into the loan terms', () => {
    const plan = planRestructure(emiTerms(), scenario(), from16Mar('separate_demand', { rate: '9.5', emiCount: 24, frequency: 'fortnightly' }));
    expect(plan.terms).toMatchObject({ emi_count: 24, emi_frequency: 'fortnightly', roi_value: [{ days: -1, value: '9.5' }], roi_slab_based: false });
    expect(plan.installments).toHaveLength(24);
    expect(plan.installments[0]!.dueDate).toBe('2024-03-30');
  });

  it('a partly paid overdue installment is trimmed to what was settled; its remainder moves', () => {
    const demands = scenario();
    // Installment 2: Rs 500 of P and Rs 100 of NI paid, Rs 20 of PI waived.
    demands[1] = { ...demands[1]!, paid: { ...Z, p: 500_00n, ni: 100_00n }, waived: { ...Z, pi: 20_00n } };
    const plan = planRestructure(emiTerms(), demands, from16Mar('capitalise'));
    expect(plan.cancel).not.toContain('e2');
    expect(plan.trim).toContainEqual({ id: 'e2', before: demands[1]!.due, due: { ...Z, p: 500_00n, ni: 100_00n, pi: 20_00n } });
    expect(plan.outstandingPrincipal).toBe(92_115_12n - 500_00n);
    // NI 821.15 + 420.76 + OI 50 + fee 490; no PI is left, so no separate demand.
    expect(plan.capitalised).toBe(821_15n + 420_76n + 50_00n + 490_00n);
    expect(plan.separate).toBeNull();
    // Installment 2 stays (trimmed), so the new ones are numbered from 3.
    expect(plan.installments[0]!.number).toBe(3);
  });

  it('flat loans accrue the running period pro rata by days and stay flat', () => {
    // Rs 12,000 flat 10% over 12 months: NI 100 a month, P 1,000 a month.
    const demands = demandsOf(flatTerms('10', 12), 12_000_00n, '2024-01-01');
    // From 11 Feb: the running period 1 Feb - 1 Mar is 29 days; 10 of them have passed: 100 x 10/29 = 34.48.
    const plan = planRestructure(flatTerms('10', 12), demands, { fromDate: '2024-02-11', emiCount: 6, rate: '8', frequency: 'monthly', treatment: 'separate_demand' });
    expect(plan.arrears).toEqual({ ...Z, ni: 100_00n + 34_48n });
    expect(plan.outstandingPrincipal).toBe(12_000_00n);
    expect(plan.terms.flat_roi_value).toBe('8');
    // Flat 8% on 12,000 for 6 months = 480, 80 a month.
    expect(plan.installments.map((i) => i.due.ni)).toEqual(Array(6).fill(80_00n));
  });

  it('from the disbursement date, nothing has accrued and the whole principal is rescheduled', () => {
    const plan = planRestructure(emiTerms(), demandsOf(emiTerms(), 100_000_00n, '2024-01-01'), { ...from16Mar('capitalise'), fromDate: '2024-01-01' });
    expect(plan.accruedInterest).toBe(0n);
    expect(plan.capitalised).toBe(0n);
    expect(plan.newPrincipal).toBe(100_000_00n);
  });

  it('leaves fee demands not yet due as they are', () => {
    const demands = [...demandsOf(emiTerms(), 100_000_00n, '2024-01-01'),
      { id: 'later', kind: 'fee', installmentNumber: null, periodStart: null, dueDate: '2024-05-01', due: { ...Z, fee: 100_00n }, paid: Z, waived: Z }];
    const plan = planRestructure(emiTerms(), demands, from16Mar('capitalise'));
    expect(plan.cancel).not.toContain('later');
    expect(plan.trim.map((t) => t.id)).not.toContain('later');
    expect(plan.arrears.fee).toBe(0n);
  });
});

describe('Restructure plan: refusals', () => {
  it('refuses a bullet loan', () => {
    const bullet: StoredParams = { ...DEFAULT_PARAMS, roi_value: [{ days: -1, value: '18' }], tenure_value: 90 };
    expect(() => planRestructure(bullet, [], from16Mar('capitalise'))).toThrow(expect.objectContaining({ field: 'loan' }));
  });

  it('refuses a from date before an installment that already has a payment or waiver', () => {
    const demands = demandsOf(emiTerms(), 100_000_00n, '2024-01-01');
    demands[3] = { ...demands[3]!, waived: { ...Z, ni: 1n } };
    const run = () => planRestructure(emiTerms(), demands, from16Mar('capitalise'));
    expect(run).toThrow(RestructureError);
    expect(run).toThrow(/on or after 2024-05-01/);
  });

  it('refuses a loan with no principal left', () => {
    const demands = demandsOf(emiTerms('12', 2), 1_000_00n, '2024-01-01').map((d) => ({ ...d, paid: { ...d.due, ni: 0n } }));
    expect(() => planRestructure(emiTerms('12', 2), demands, from16Mar('first_emi'))).toThrow(expect.objectContaining({ field: 'loan' }));
  });
});

// ---- properties ----

const componentPct = fc.record({ p: fc.nat(100), ni: fc.nat(100), oi: fc.nat(100), pi: fc.nat(100), fee: fc.nat(100) });
const pctOf = (due: Components, pct: Record<keyof Components, number>): Components =>
  ({ p: (due.p * BigInt(pct.p)) / 100n, ni: (due.ni * BigInt(pct.ni)) / 100n, oi: (due.oi * BigInt(pct.oi)) / 100n, pi: (due.pi * BigInt(pct.pi)) / 100n, fee: (due.fee * BigInt(pct.fee)) / 100n });
const minus = (a: Components, b: Components): Components => ({ p: a.p - b.p, ni: a.ni - b.ni, oi: a.oi - b.oi, pi: a.pi - b.pi, fee: a.fee - b.fee });

const loanCase = fc.record({
  flat: fc.boolean(),
  principal: fc.bigInt({ min: 1_00n, max: 10n ** 11n }),
  count: fc.integer({ min: 1, max: 36 }),
  rateBp: fc.integer({ min: 0, max: 3600 }),
  fromOffset: fc.integer({ min: 0, max: 1200 }),
  // Per installment: settled share of each component, and OI / PI / FEE charged on it.
  settle: fc.array(fc.record({ paid: componentPct, waived: componentPct, oi: fc.bigInt({ min: 0n, max: 10n ** 7n }), pi: fc.bigInt({ min: 0n, max: 10n ** 7n }), fee: fc.bigInt({ min: 0n, max: 10n ** 6n }) }), { minLength: 36, maxLength: 36 }),
  fees: fc.array(fc.record({ offset: fc.integer({ min: 0, max: 1200 }), amount: fc.bigInt({ min: 1n, max: 10n ** 7n }), paid: componentPct }), { maxLength: 3 }),
  treatment: fc.constantFrom(...OVERDUE_TREATMENTS),
  newCount: fc.integer({ min: 1, max: 60 }),
  newRateBp: fc.integer({ min: 0, max: 3600 }),
  frequency: fc.constantFrom('weekly', 'fortnightly', 'monthly', 'quarterly') as fc.Arbitrary<RestructureTerms['frequency']>,
});
type LoanCase = typeof loanCase extends fc.Arbitrary<infer T> ? T : never;

/** An existing loan: payments, waivers and charges only on installments due by the from date (the plan refuses others). */
function buildCase(c: LoanCase) {
  const rate = (c.rateBp / 100).toFixed(2);
  const terms = c.flat ? flatTerms(rate, c.count) : emiTerms(rate, c.count);
  const fromDate = addDays('2024-01-10', c.fromOffset);
  const demands: ExistingDemand[] = demandsOf(terms, c.principal, '2024-01-10').map((d, index) => {
    if (d.dueDate > fromDate) return d;
    const s = c.settle[index]!;
    const due = { ...d.due, oi: s.oi, pi: s.pi, fee: s.fee };
    const paid = pctOf(due, s.paid);
    return { ...d, due, paid, waived: pctOf(minus(due, paid), s.waived) };
  });
  c.fees.forEach((f, i) => {
    const due = { ...Z, fee: f.amount };
    demands.push({ id: `f${i}`, kind: 'fee', installmentNumber: null, periodStart: null, dueDate: addDays('2024-01-10', f.offset), due, paid: pctOf(due, f.paid), waived: Z });
  });
  const request: RestructureTerms = { fromDate, emiCount: c.newCount, rate: (c.newRateBp / 100).toFixed(2), frequency: c.frequency, treatment: c.treatment };
  return { terms, demands, request };
}

const total = (cs: Components[]) => cs.reduce((s, c) => s + sumComponents(c), 0n);

function checkPlan(demands: ExistingDemand[], request: RestructureTerms, plan: RestructurePlan): void {
  const byId = new Map(demands.map((d) => [d.id, d]));
  const oldPrincipal = demands.filter((d) => d.kind === 'emi').reduce((s, d) => s + outstandingOf(d).p, 0n);
  // Restructure keeps outstanding principal: the new installments carry all of it, plus only what was capitalised.
  expect(plan.outstandingPrincipal).toBe(oldPrincipal);
  expect(plan.installments.reduce((s, i) => s + i.due.p, 0n)).toBe(oldPrincipal + plan.capitalised);
  expect(plan.installments).toHaveLength(request.emiCount);
  // PI never lands in principal: capitalised is NI + OI + FEE (capitalise) or nothing, and all PI reappears as PI.
  expect(plan.capitalised).toBe(request.treatment === 'capitalise' ? plan.arrears.ni + plan.arrears.oi + plan.arrears.fee : 0n);
  const newPi = plan.installments.reduce((s, i) => s + i.due.pi, 0n) + (plan.separate?.due.pi ?? 0n);
  expect(newPi).toBe(plan.arrears.pi);
  expect(plan.arrears.pi).toBe(demands.filter((d) => d.kind === 'emi' || d.dueDate <= request.fromDate).reduce((s, d) => s + outstandingOf(d).pi, 0n));
  // No settled amount changes: cancelled demands had nothing settled; trimmed ones keep exactly paid + waived.
  for (const id of plan.cancel) expect(total([byId.get(id)!.paid, byId.get(id)!.waived])).toBe(0n);
  for (const t of plan.trim) {
    const d = byId.get(t.id)!;
    expect(t.before).toEqual(d.due);
    expect(sumComponents(minus(t.due, d.paid))).toBe(sumComponents(d.waived));
    expect(outstandingOf({ ...d, due: t.due })).toEqual(Z);
  }
  // Everything owed as of the from date is conserved: moved outstanding less the interest not yet accrued.
  const moved = [...plan.cancel, ...plan.trim.map((t) => t.id)].map((id) => outstandingOf(byId.get(id)!));
  const newDemands = [...plan.installments.map((i) => i.due), ...(plan.separate ? [plan.separate.due] : [])];
  const scheduleInterest = plan.installments.reduce((s, i) => s + i.due.ni, 0n) - plan.firstEmiExtra.ni;
  expect(total(newDemands) - scheduleInterest).toBe(total(moved) - plan.droppedInterest);
  expect(plan.droppedInterest >= 0n && plan.accruedInterest >= 0n).toBe(true);
  // Demands that stay were either settled in full or are standalone demands not yet due.
  for (const d of demands.filter((x) => !plan.cancel.includes(x.id) && !plan.trim.some((t) => t.id === x.id))) {
    expect(sumComponents(outstandingOf(d)) === 0n || (d.kind !== 'emi' && d.dueDate > request.fromDate)).toBe(true);
  }
  for (const c of [...newDemands, ...plan.trim.map((t) => t.due)]) for (const v of Object.values(c)) expect(v >= 0n).toBe(true);
  // New installment numbers never repeat a number that stays live.
  const liveNumbers = demands.filter((d) => d.kind === 'emi' && !plan.cancel.includes(d.id)).map((d) => d.installmentNumber);
  expect(plan.installments.some((i) => liveNumbers.includes(i.number))).toBe(false);
}

describe('Restructure plan: properties', () => {
  it('restructure keeps outstanding principal, conserves what is owed, never moves a settled rupee or PI into P', () => {
    fc.assert(fc.property(loanCase, (c) => {
      const { terms, demands, request } = buildCase(c);
      let plan: RestructurePlan;
      try {
        plan = planRestructure(terms, demands, request);
      } catch (error) {
        // The only refusal possible here: everything already repaid.
        expect(error).toBeInstanceOf(RestructureError);
        expect((error as RestructureError).field).toBe('loan');
        expect(demands.reduce((s, d) => s + (d.kind === 'emi' ? outstandingOf(d).p : 0n), 0n)).toBe(0n);
        return;
      }
      checkPlan(demands, request, plan);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('the three treatments move the same arrears and differ only in where they land', () => {
    fc.assert(fc.property(loanCase, (c) => {
      const { terms, demands, request } = buildCase(c);
      if (demands.every((d) => d.kind !== 'emi' || outstandingOf(d).p === 0n)) return;
      const [cap, sep, first] = OVERDUE_TREATMENTS.map((treatment) => planRestructure(terms, demands, { ...request, treatment }));
      expect(cap!.arrears).toEqual(sep!.arrears);
      expect(first!.arrears).toEqual(sep!.arrears);
      expect(sep!.separate?.due ?? Z).toEqual(sep!.arrears);
      expect(first!.firstEmiExtra).toEqual(first!.arrears);
      expect(cap!.separate?.due ?? Z).toEqual({ ...Z, pi: cap!.arrears.pi });
      expect(sep!.cancel).toEqual(cap!.cancel);
      expect(sep!.trim).toEqual(first!.trim);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);
});
