import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  block, consumeBlocked, holdsInvariant, LimitError, openLine, release, setApproved, sumLines, unblock, use, type LineLimit,
} from '../../src/domain/limits.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 2000);

describe('line limit operations (hand-checked)', () => {
  it('moves amounts between available, blocked and used', () => {
    let l = openLine(100_000n);
    l = block(l, 30_000n);
    expect(l).toEqual({ approved: 100_000n, available: 70_000n, used: 0n, blocked: 30_000n });
    l = consumeBlocked(l, 20_000n);
    expect(l).toEqual({ approved: 100_000n, available: 70_000n, used: 20_000n, blocked: 10_000n });
    l = unblock(l, 10_000n);
    expect(l).toEqual({ approved: 100_000n, available: 80_000n, used: 20_000n, blocked: 0n });
    l = release(l, 5_000n);
    expect(l).toEqual({ approved: 100_000n, available: 85_000n, used: 15_000n, blocked: 0n });
    l = setApproved(l, 50_000n);
    expect(l).toEqual({ approved: 50_000n, available: 35_000n, used: 15_000n, blocked: 0n });
  });

  it('refuses what would break the invariant, naming why', () => {
    const l = use(block(openLine(1000n), 300n), 500n); // available 200, blocked 300, used 500
    expect(() => block(l, 201n)).toThrow(LimitError);
    expect(() => use(l, 201n)).toThrow(/available/);
    expect(() => unblock(l, 301n)).toThrow(/blocked/);
    expect(() => release(l, 501n)).toThrow(/used/);
    expect(() => setApproved(l, 799n)).toThrow(/below the used and blocked/);
    expect(setApproved(l, 800n).available).toBe(0n);
    expect(() => block(l, -1n)).toThrow(/negative/);
  });
});

type Op = { kind: 'approve' | 'block' | 'unblock' | 'consume' | 'use' | 'release'; amount: bigint };
const op = fc.record({
  kind: fc.constantFrom('approve', 'block', 'unblock', 'consume', 'use', 'release'),
  amount: fc.bigInt({ min: 0n, max: 2_000_000n }),
}) as fc.Arbitrary<Op>;

function apply(l: LineLimit, o: Op): LineLimit {
  switch (o.kind) {
    case 'approve': return setApproved(l, o.amount);
    case 'block': return block(l, o.amount);
    case 'unblock': return unblock(l, o.amount);
    case 'consume': return consumeBlocked(l, o.amount);
    case 'use': return use(l, o.amount);
    case 'release': return release(l, o.amount);
  }
}

describe('line limit properties', () => {
  it('any sequence of changes keeps approved = available + used + blocked with nothing negative', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2_000_000n }), fc.array(op, { maxLength: 60 }), (start, ops) => {
      let l = openLine(start);
      for (const o of ops) {
        try {
          const next = apply(l, o);
          expect(holdsInvariant(next)).toBe(true);
          l = next;
        } catch (error) {
          // A refused change leaves the line as it was, and is refused for a stated reason.
          expect(error).toBeInstanceOf(LimitError);
        }
      }
      expect(holdsInvariant(l)).toBe(true);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('a refused change is exactly one that would have broken the invariant', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      let l = openLine(1_000_000n);
      for (const o of ops) {
        const committed = l.used + l.blocked;
        const allowed = {
          approve: o.amount >= committed,
          block: o.amount <= l.available,
          use: o.amount <= l.available,
          unblock: o.amount <= l.blocked,
          consume: o.amount <= l.blocked,
          release: o.amount <= l.used,
        }[o.kind];
        if (allowed) l = apply(l, o);
        else expect(() => apply(l, o)).toThrow(LimitError);
      }
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);

  it('the account figure (sum of lines) holds the invariant too', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.array(op, { maxLength: 10 })), { maxLength: 8 }), (specs) => {
      const lines = specs.map(([start, ops]) => ops.reduce((l, o) => { try { return apply(l, o); } catch { return l; } }, openLine(start)));
      const total = sumLines(lines);
      expect(holdsInvariant(total)).toBe(true);
      expect(total.approved).toBe(lines.reduce((a, l) => a + l.approved, 0n));
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);
});
