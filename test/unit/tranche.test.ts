import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { DEFAULT_PARAMS, type StoredParams } from '../../src/domain/loan-params.js';
import { scheduleFor, TermsError } from '../../src/domain/loan-terms.js';
import { planTranche, type TrancheDemand } from '../../src/domain/tranche.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);
const emiTerms = (rate: string, count: number): StoredParams => ({
  ...DEFAULT_PARAMS, roi_value: [{ days: -1, value: rate }], emi_count: count, emi_frequency: 'monthly', days_in_year: 360, days_in_month: 30,
});
const bulletTerms: StoredParams = {
  ...DEFAULT_PARAMS, days_in_year: 360, tenure_period: 'days', tenure_value: 40,
  roi_value: [{ days: '15', value: '18' }, { days: '30', value: '24' }, { days: -1, value: '36' }],
};

function demandsOf(terms: StoredParams, principal: bigint, date: string, touched: (i: number) => boolean = () => false): TrancheDemand[] {
  return scheduleFor(terms, principal, date).installments.map((i) => ({
    id: `d${i.number}`, kind: 'emi', installmentNumber: i.number, dueDate: i.dueDate, pDue: i.principal, touched: touched(i.number),
  }));
}

describe('Tranche plan: table', () => {
  it('EMI: 1,00,000 at 12% (30/360) from 1 Jan plus 50,000 on 16 Jan: first interest 1,000 + 250', () => {
    const t = emiTerms('12', 12);
    const plan = planTranche(t, '2024-01-01', demandsOf(t, 100_000_00n, '2024-01-01'), 50_000_00n, '2024-01-16');
    if (plan.kind !== 'emi') throw new Error('expected an EMI plan');
    expect(plan.cancel).toHaveLength(12);
    expect(plan.create).toHaveLength(12);
    expect(plan.create[0]).toMatchObject({ number: 1, dueDate: '2024-02-01', interest: 1250_00n });
    expect(plan.create.reduce((s, i) => s + i.principal, 0n)).toBe(150_000_00n);
  });

  it('EMI: installments already due on the tranche date stay; the tail is re-amortised on the same due dates', () => {
    const t = emiTerms('12', 6);
    const demands = demandsOf(t, 60_000_00n, '2024-01-01');
    const plan = planTranche(t, '2024-01-01', demands, 10_000_00n, '2024-03-10');
    if (plan.kind !== 'emi') throw new Error('expected an EMI plan');
    expect(plan.cancel).toEqual(['d3', 'd4', 'd5', 'd6']);
    expect(plan.create.map((i) => [i.number, i.dueDate])).toEqual([[3, '2024-04-01'], [4, '2024-05-01'], [5, '2024-06-01'], [6, '2024-07-01']]);
    const tail = demands.slice(2).reduce((s, d) => s + d.pDue, 0n);
    expect(plan.create.reduce((s, i) => s + i.principal, 0n)).toBe(tail + 10_000_00n);
  });

  it('bullet: 1,00,000 more on day 21 of a 40-day loan owes its own slab interest through maturity', () => {
    const plan = planTranche(bulletTerms, '2024-01-01', demandsOf(bulletTerms, 100_000_00n, '2024-01-01'), 100_000_00n, '2024-01-21');
    // 21 Jan - 9 Feb is 20 interest days: 100000 x 18% x 15/360 + 100000 x 24% x 5/360 = 750 + 333.33.
    expect(plan).toEqual({ kind: 'bullet', demandId: 'd1', addPrincipal: 100_000_00n, addInterest: 1083_33n });
  });

  it('refuses what a loan cannot take, naming the field', () => {
    const t = emiTerms('12', 3);
    const demands = demandsOf(t, 30_000_00n, '2024-01-01');
    expect(() => planTranche(t, '2024-01-01', demands, 1n, '2024-04-01')).toThrow(TermsError);
    expect(() => planTranche({ ...t, flat_roi_value: '10' }, '2024-01-01', demands, 1n, '2024-01-05')).toThrow(/flat/);
    const bullet = demandsOf(bulletTerms, 100n, '2024-01-01');
    expect(() => planTranche(bulletTerms, '2024-01-01', bullet, 1n, '2024-02-09')).toThrow(/matured/);
    expect(() => planTranche({ ...bulletTerms, interest_collection: 'upfront' }, '2024-01-01', bullet, 1n, '2024-01-05')).toThrow(/upfront/);
  });
});

describe('Tranche plan: properties', () => {
  it('EMI: touched and due installments stay, the live principal is the old principal plus the tranche, nothing negative', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1000n, max: 10n ** 10n }), fc.bigInt({ min: 1n, max: 10n ** 10n }), fc.integer({ min: 2, max: 24 }),
      fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 400 }), fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
      (principal, amount, count, rate, offset, touchedFlags) => {
        const t = emiTerms((rate / 100).toFixed(2), count);
        const demands = demandsOf(t, principal, '2024-01-10', (n) => touchedFlags[n - 1]!);
        const trancheDate = addDays('2024-01-10', offset);
        let plan;
        try {
          plan = planTranche(t, '2024-01-10', demands, amount, trancheDate);
        } catch (error) {
          // Only a loan with nothing left after the tranche date refuses.
          expect(error).toBeInstanceOf(TermsError);
          const last = demands.at(-1)!;
          expect(last.touched || last.dueDate <= trancheDate).toBe(true);
          return;
        }
        if (plan.kind !== 'emi') throw new Error('expected an EMI plan');
        const cancelled = demands.filter((d) => plan.cancel.includes(d.id));
        expect(cancelled.every((d) => !d.touched && d.dueDate > trancheDate)).toBe(true);
        const kept = demands.filter((d) => !plan.cancel.includes(d.id));
        const live = kept.reduce((s, d) => s + d.pDue, 0n) + plan.create.reduce((s, i) => s + i.principal, 0n);
        expect(live).toBe(principal + amount);
        expect(plan.create).toHaveLength(cancelled.length);
        expect(plan.create.every((i) => i.principal >= 0n && i.interest >= 0n)).toBe(true);
        expect(plan.create.map((i) => i.dueDate)).toEqual(cancelled.map((d) => d.dueDate));
      },
    ), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);
});
