import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { bulletInterestWithRepayments } from '../../src/domain/prepay.js';
import { bulletInterestUntil } from '../../src/domain/schedule.js';

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
  });
});
