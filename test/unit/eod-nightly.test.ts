// Which business date the nightly EOD closes (src/modules/eod/nightly.ts), and how a run's
// accounts are cut into partitions (partitionAccounts in src/modules/eod/service.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { nightlyDate } from '../../src/modules/eod/nightly.js';
import { partitionAccounts } from '../../src/modules/eod/service.js';

const RUNS = Number(process.env.FC_NUM_RUNS ?? 500);
const PROPERTY_TIMEOUT = 120_000;

describe('nightlyDate', () => {
  it.each([
    // At noon or later: the IST date that is ending.
    ['12:00', '2024-06-15', '2024-06-15'],
    ['12:01', '2024-06-15', '2024-06-15'],
    ['18:30', '2024-06-15', '2024-06-15'],
    ['23:59', '2024-06-15', '2024-06-15'],
    ['23:30', '2024-02-29', '2024-02-29'],
    ['22:00', '2024-12-31', '2024-12-31'],
    // Before noon: the day that has just ended.
    ['11:59', '2024-06-15', '2024-06-14'],
    ['00:00', '2024-06-15', '2024-06-14'],
    ['00:30', '2024-06-15', '2024-06-14'],
    ['06:00', '2024-06-15', '2024-06-14'],
    // Month and year boundaries.
    ['00:30', '2024-03-01', '2024-02-29'],
    ['00:30', '2023-03-01', '2023-02-28'],
    ['00:30', '2025-01-01', '2024-12-31'],
    ['02:00', '2024-05-01', '2024-04-30'],
    ['01:15', '2024-07-01', '2024-06-30'],
    ['03:00', '2100-03-01', '2100-02-28'],
    ['03:00', '2000-03-01', '2000-02-29'],
  ])('at %s on %s closes %s', (at, today, expected) => {
    expect(nightlyDate(at, today)).toBe(expected);
  });

  it('is today from 12:00 on and yesterday before it, for every minute of a day', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: -40_000, max: 40_000 }),
      (h, m, offset) => {
        const today = addDays('2024-01-01', offset);
        const at = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
        expect(nightlyDate(at, today)).toBe(h >= 12 ? today : addDays(today, -1));
      },
    ), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);
});

type Account = { account_id: string; behind: number };
const acc = (id: string, behind: number): Account => ({ account_id: id, behind });

describe('partitionAccounts', () => {
  it('returns no partitions for no accounts', () => {
    expect(partitionAccounts([], 10)).toEqual([]);
  });

  it('cuts as soon as a partition reaches size; the last one may be short', () => {
    const accounts = [acc('a1', 3), acc('a2', 4), acc('a3', 5), acc('a4', 1), acc('a5', 2)];
    expect(partitionAccounts(accounts, 5)).toEqual([
      { accounts: ['a1', 'a2'], loans: 7 },
      { accounts: ['a3'], loans: 5 },
      { accounts: ['a4', 'a5'], loans: 3 },
    ]);
  });

  it('never splits an account, however many loans it has', () => {
    const accounts = [acc('a1', 1), acc('a2', 25), acc('a3', 1)];
    expect(partitionAccounts(accounts, 10)).toEqual([
      { accounts: ['a1', 'a2'], loans: 26 },
      { accounts: ['a3'], loans: 1 },
    ]);
  });

  it('keeps every account once, in the order given', () => {
    const accounts = [acc('a1', 2), acc('a2', 2), acc('a3', 2), acc('a4', 2)];
    expect(partitionAccounts(accounts, 4)).toEqual([
      { accounts: ['a1', 'a2'], loans: 4 },
      { accounts: ['a3', 'a4'], loans: 4 },
    ]);
    expect(partitionAccounts(accounts, 100)).toEqual([{ accounts: ['a1', 'a2', 'a3', 'a4'], loans: 8 }]);
    expect(partitionAccounts(accounts, 1)).toEqual(accounts.map((a) => ({ accounts: [a.account_id], loans: 2 })));
  });

  it('properties: order kept, each account once, loans summed, every partition but the last >= size', () => {
    const input = fc.uniqueArray(fc.uuid(), { maxLength: 60 }).chain((ids) => fc.tuple(
      fc.constant([...ids].sort()),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: ids.length, maxLength: ids.length }),
      fc.integer({ min: 1, max: 120 }),
    ));
    fc.assert(fc.property(input, ([ids, behind, size]) => {
      const accounts = ids.map((id, i) => acc(id, behind[i]!));
      const parts = partitionAccounts(accounts, size);
      const flat = parts.flatMap((p) => p.accounts);
      expect(flat).toEqual(ids);
      expect(new Set(flat).size).toBe(ids.length);
      const loans = new Map(accounts.map((a) => [a.account_id, a.behind]));
      parts.forEach((p, i) => {
        expect(p.accounts.length).toBeGreaterThan(0);
        expect(p.loans).toBe(p.accounts.reduce((s, id) => s + loans.get(id)!, 0));
        if (i < parts.length - 1) expect(p.loans).toBeGreaterThanOrEqual(size);
        // Cut at the first account that brings it to size: without its last account it is short.
        expect(p.loans - loans.get(p.accounts[p.accounts.length - 1]!)!).toBeLessThan(size);
      });
      expect(parts.reduce((s, p) => s + p.loans, 0)).toBe(behind.reduce((s, n) => s + n, 0));
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT);
});
