import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { foreclosureAmount, type DemandSnapshot } from '../../src/domain/foreclosure.js';
import { DEFAULT_PARAMS, type StoredParams } from '../../src/domain/loan-params.js';
import { scheduleFor } from '../../src/domain/loan-terms.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);

function snapshots(p: StoredParams, principal: bigint, date: string): DemandSnapshot[] {
  return scheduleFor(p, principal, date).installments.map((i) => ({
    kind: 'emi', periodStart: i.periodStart, dueDate: i.dueDate, p: i.principal, ni: i.interest, oi: 0n, pi: 0n, fee: 0n,
    pDue: i.principal, niDue: i.interest, niPaid: 0n,
  }));
}

const emiParams = fc.record({
  rate: fc.integer({ min: 0, max: 3600 }).map((r) => (r / 100).toFixed(2)),
  count: fc.integer({ min: 1, max: 36 }),
  dayCount: fc.constantFrom<[number | 'actual', number | 'actual']>([365, 'actual'], [360, 'actual'], [360, 30], ['actual', 'actual']),
}).map(({ rate, count, dayCount }): StoredParams => ({
  ...DEFAULT_PARAMS, roi_value: [{ days: -1, value: rate }], emi_count: count, emi_frequency: 'monthly', days_in_year: dayCount[0], days_in_month: dayCount[1],
}));

describe('foreclosure amount (properties)', () => {
  it('on or after the last due date it is exactly everything outstanding', () => {
    fc.assert(fc.property(emiParams, fc.bigInt({ min: 100n, max: 10n ** 11n }), fc.integer({ min: 0, max: 60 }), (p, principal, extra) => {
      const demands = snapshots(p, principal, '2024-01-15');
      const last = demands.at(-1)!.dueDate;
      const total = demands.reduce((s, d) => s + d.p + d.ni, 0n);
      expect(foreclosureAmount(p, '2024-01-15', demands, addDays(last, extra)).total).toBe(total);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('never exceeds everything outstanding, never falls below the principal, and never decreases with time', () => {
    fc.assert(fc.property(emiParams, fc.bigInt({ min: 100n, max: 10n ** 11n }), fc.integer({ min: 0, max: 1200 }), (p, principal, offset) => {
      const demands = snapshots(p, principal, '2024-01-15');
      const total = demands.reduce((s, d) => s + d.p + d.ni, 0n);
      const day = addDays('2024-01-15', offset);
      const today = foreclosureAmount(p, '2024-01-15', demands, day).total;
      const tomorrow = foreclosureAmount(p, '2024-01-15', demands, addDays(day, 1)).total;
      expect(today).toBeLessThanOrEqual(total);
      expect(today).toBeGreaterThanOrEqual(principal);
      expect(tomorrow).toBeGreaterThanOrEqual(today);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('a bullet loan paid on day D owes the slab interest through D (domain.md example)', () => {
    const p: StoredParams = {
      ...DEFAULT_PARAMS, days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: '18' }, { days: '30', value: '24' }, { days: -1, value: '36' }],
    };
    const demands = snapshots(p, 100_000_00n, '2024-01-01');
    expect(foreclosureAmount(p, '2024-01-01', demands, '2024-01-20')).toMatchObject({ accruedInterest: 108333n, total: 10108333n });
    expect(foreclosureAmount(p, '2024-01-01', demands, '2024-01-01')).toMatchObject({ accruedInterest: 5000n }); // 1 day: 100000 x 18% / 360 = Rs 50
  });

  it('EMI: a second prepayment in the running period owes only the interest accrued since the first (review fix)', () => {
    // 1,00,000 at 12%, 30/360, disbursed 1 Jan: the first period's NI is 1,000. 366.67 of it (to 11 Jan)
    // was prepaid; on 21 Jan 700 has accrued, so 333.33 is owed, not the 633.33 left of the period's NI.
    const p: StoredParams = { ...DEFAULT_PARAMS, roi_value: [{ days: -1, value: '12' }], emi_count: 12, emi_frequency: 'monthly', days_in_year: 360, days_in_month: 30 };
    const demands = snapshots(p, 100_000_00n, '2024-01-01');
    expect(demands[0]!.ni).toBe(1_000_00n);
    const paidOnce = demands.map((d, i) => (i === 0 ? { ...d, ni: d.ni - 366_67n, niPaid: 366_67n } : d));
    expect(foreclosureAmount(p, '2024-01-01', paidOnce, '2024-01-21').accruedInterest).toBe(333_33n);
    // Paid beyond what has accrued: nothing more is owed yet; and a waiver counts like a payment.
    expect(foreclosureAmount(p, '2024-01-01', paidOnce, '2024-01-10').accruedInterest).toBe(0n);
    const waived = demands.map((d, i) => (i === 0 ? { ...d, ni: d.ni - 200_00n, niWaived: 200_00n } : d));
    expect(foreclosureAmount(p, '2024-01-01', waived, '2024-01-21').accruedInterest).toBe(500_00n);
  });
});
