import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { bulletInterestOnTranches, bulletInterestWithRepayments } from '../../src/domain/prepay.js';
import { bulletInterestUntil } from '../../src/domain/schedule.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);
const terms = {
  slabs: [{ upToDay: 15, rate: '18' }, { upToDay: 30, rate: '24' }, { upToDay: null, rate: '36' }],
  disbursementDate: '2024-01-01', interestStarts: 'same_day' as const, yearDays: 360n as const,
};

describe('bullet interest after prepayments', () => {
  it('with nothing repaid it is the plain slab interest: Rs 1,083.33 through day 20 (domain.md)', () => {
    expect(bulletInterestWithRepayments(terms, 100_000_00n, [], '2024-01-20')).toBe(1083_33n);
  });

  it('a repayment lowers the principal from the next day on; slab days keep counting from disbursement', () => {
    // 1,00,000 for days 1-10 at 18% = 500; 40,000 for days 11-15 at 18% = 100, days 16-30 at 24% = 400,
    // days 31-40 at 36% = 400: 1,400 in all.
    expect(bulletInterestWithRepayments(terms, 100_000_00n, [{ valueDate: '2024-01-10', amount: 60_000_00n }], '2024-02-09')).toBe(1400_00n);
    // Fully repaid on day 20: nothing accrues after it.
    expect(bulletInterestWithRepayments(terms, 100_000_00n, [{ valueDate: '2024-01-20', amount: 100_000_00n }], '2024-02-09')).toBe(1083_33n);
    expect(() => bulletInterestWithRepayments(terms, 100n, [{ valueDate: '2024-01-02', amount: 101n }], '2024-01-05')).toThrow(RangeError);
  });

  it('never exceeds the interest without repayments, and repaying nothing changes nothing', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10n ** 11n }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 90 }), fc.bigInt({ min: 0n, max: 100n }),
      (principal, repayDay, untilDay, percent) => {
        const until = addDays('2024-01-01', untilDay);
        const plain = bulletInterestUntil({ principal, ...terms }, until);
        const amount = (principal * percent) / 100n;
        const repaid = bulletInterestWithRepayments(terms, principal, [{ valueDate: addDays('2024-01-01', repayDay), amount }], until);
        expect(repaid <= plain).toBe(true);
        expect(repaid >= 0n).toBe(true);
        expect(bulletInterestWithRepayments(terms, principal, [], until)).toBe(plain);
      },
    ), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);
});

describe('bullet interest on a loan drawn in tranches (review fix: each tranche from its own date)', () => {
  const { disbursementDate: _, ...slabTerms } = terms;
  // Rs 1,00,000 on 1 Jan and Rs 1,00,000 more on 21 Jan, maturity 9 Feb (src/domain/tranche.ts):
  // 2,750 on the first (days 1-40) + 1,083.33 on the second (its own days 1-20) = 3,833.33.
  const TRANCHES = [{ date: '2024-01-01', amount: 100_000_00n }, { date: '2024-01-21', amount: 100_000_00n }];

  it('with nothing repaid it is the schedule: each tranche from its own date, slab days restarting, each rounded once', () => {
    expect(bulletInterestOnTranches(slabTerms, TRANCHES, [], '2024-02-09')).toBe(3833_33n);
    // Through 25 Jan: 1,416.67 (days 1-25 of the first) + 250 (days 1-5 of the second, 18%) = 1,666.67.
    expect(bulletInterestOnTranches(slabTerms, TRANCHES, [], '2024-01-25')).toBe(1666_67n);
    // Before the second tranche was paid out it accrues nothing.
    expect(bulletInterestOnTranches(slabTerms, TRANCHES, [], '2024-01-20')).toBe(1083_33n);
  });

  it('a prepayment reduces the oldest tranche first and never raises the maturity interest', () => {
    // The reviewer's case: Rs 1,00,000 on 25 Jan = 1,666.67 interest + 98,333.33 principal. The first
    // tranche keeps 1,666.67 for days 26-40: 1,416.666.. + 1,666.67 x (24% x 5 + 36% x 10)/360 = 1,438.89;
    // the second is untouched: 1,083.33. Maturity NI 2,522.22 (was 3,833.33). The old rule, 2,00,000 from 1 Jan,
    // took 2,833.33 of interest that day and re-derived the maturity NI to 4,204.44.
    const after = bulletInterestOnTranches(slabTerms, TRANCHES, [{ valueDate: '2024-01-25', amount: 98_333_33n }], '2024-02-09');
    expect(after).toBe(2522_22n);
    // Repaid before the second tranche existed: only the first can take it.
    expect(() => bulletInterestOnTranches(slabTerms, TRANCHES, [{ valueDate: '2024-01-15', amount: 100_000_01n }], '2024-02-09')).toThrow(RangeError);
    expect(bulletInterestOnTranches(slabTerms, TRANCHES, [{ valueDate: '2024-01-15', amount: 100_000_00n }], '2024-02-09')).toBe(750_00n + 1083_33n);
  });

  it('one tranche is the single-principal rule; more tranches never owe more than without repayments, nor less than 0', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10n ** 11n }), fc.bigInt({ min: 0n, max: 10n ** 11n }), fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 90 }), fc.bigInt({ min: 0n, max: 100n }),
      (first, second, secondDay, repayDay, untilDay, percent) => {
        const until = addDays('2024-01-01', untilDay);
        const repayOn = addDays('2024-01-01', repayDay);
        const tranches = [{ date: '2024-01-01', amount: first }, { date: addDays('2024-01-01', secondDay), amount: second }];
        const outByThen = first + (tranches[1]!.date <= repayOn ? second : 0n);
        const amount = (outByThen * percent) / 100n;
        const single = bulletInterestOnTranches(slabTerms, [tranches[0]!], [{ valueDate: repayOn, amount: (first * percent) / 100n }], until);
        expect(single).toBe(bulletInterestWithRepayments(terms, first, [{ valueDate: repayOn, amount: (first * percent) / 100n }], until));
        const plain = bulletInterestOnTranches(slabTerms, tranches, [], until);
        const repaid = bulletInterestOnTranches(slabTerms, tranches, [{ valueDate: repayOn, amount }], until);
        expect(repaid <= plain).toBe(true);
        expect(repaid >= 0n).toBe(true);
      },
    ), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);
});
