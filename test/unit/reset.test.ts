import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, type StoredParams } from '../../src/domain/loan-params.js';
import { scheduleFor } from '../../src/domain/loan-terms.js';
import { planReset, type ExistingDemand } from '../../src/domain/reset.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);
const terms = (rate: string, count: number): StoredParams => ({ ...DEFAULT_PARAMS, roi_value: [{ days: -1, value: rate }], emi_count: count, emi_frequency: 'monthly' });

describe('Reset RPS plan', () => {
  it('keeps every touched demand, and the principal of the live schedule still sums to the disbursed amount', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1000n, max: 10n ** 10n }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 }),
      fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
      (principal, count, oldRate, newRate, touchedFlags) => {
        const old = scheduleFor(terms((oldRate / 100).toFixed(2), count), principal, '2024-01-10');
        const demands: ExistingDemand[] = old.installments.map((i, index) => ({
          id: `d${i.number}`, kind: 'emi', installmentNumber: i.number, dueDate: i.dueDate, pDue: i.principal, touched: touchedFlags[index]!,
        }));
        const plan = planReset(terms((newRate / 100).toFixed(2), count), '2024-01-10', demands);
        const kept = demands.filter((d) => !plan.cancel.includes(d.id));
        // Nothing settled is cancelled.
        expect(kept.filter((d) => d.touched)).toHaveLength(demands.filter((d) => d.touched).length);
        expect(plan.cancel.every((id) => !demands.find((d) => d.id === id)!.touched)).toBe(true);
        const livePrincipal = kept.reduce((s, d) => s + d.pDue, 0n) + plan.create.reduce((s, i) => s + i.principal, 0n);
        expect(livePrincipal).toBe(principal);
        for (const i of plan.create) {
          expect(i.principal >= 0n && i.interest >= 0n).toBe(true);
        }
        const keptNumbers = kept.map((d) => d.installmentNumber!);
        expect(plan.create.every((i) => !keptNumbers.includes(i.number))).toBe(true);
      },
    ), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('with nothing paid, a reset under the same terms reproduces the schedule', () => {
    const t = terms('12', 12);
    const old = scheduleFor(t, 100_000_00n, '2024-01-01');
    const plan = planReset(t, '2024-01-01', old.installments.map((i) => ({ id: String(i.number), kind: 'emi', installmentNumber: i.number, dueDate: i.dueDate, pDue: i.principal, touched: false })));
    expect(plan.create).toEqual(old.installments);
  });

  it('a fully settled loan has nothing to reset', () => {
    const old = scheduleFor(terms('12', 3), 300_00n, '2024-01-01');
    const plan = planReset(terms('24', 3), '2024-01-01', old.installments.map((i) => ({ id: String(i.number), kind: 'emi', installmentNumber: i.number, dueDate: i.dueDate, pDue: i.principal, touched: true })));
    expect(plan).toEqual({ cancel: [], create: [], reschedulePrincipal: 0n });
  });
});
