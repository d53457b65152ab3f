import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultNachUtr, presentationAmount, skipReason, statusAction, UMRN_PATTERN } from '../../src/domain/nach.js';
import { istDayStart } from '../../src/domain/time.js';
import { refsOfBlock } from '../../src/domain/refs.js';
import { istDateOf } from '../../src/domain/time.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const RUNS = Number(process.env.FC_NUM_RUNS ?? 1000);

describe('UMRN', () => {
  it('is exactly 20 uppercase letters and digits', () => {
    expect(UMRN_PATTERN.test('HDFC7021807230034567')).toBe(true);
    expect(UMRN_PATTERN.test('HDFC702180723003456')).toBe(false);
    expect(UMRN_PATTERN.test('HDFC70218072300345678')).toBe(false);
    expect(UMRN_PATTERN.test('hdfc7021807230034567')).toBe(false);
    expect(UMRN_PATTERN.test('HDFC-021807230034567')).toBe(false);
  });
});

describe('status-file rows', () => {
  const utr = { record: null };
  it('apply to a pending presentation', () => {
    expect(statusAction('pending', 'success', utr)).toEqual({ kind: 'process' });
    expect(statusAction('pending', 'bounce', utr)).toEqual({ kind: 'fail' });
  });

  it('that repeat the outcome already applied change nothing (a replayed file)', () => {
    expect(statusAction('processed', 'success', { record: 'U1' })).toEqual({ kind: 'unchanged' });
    expect(statusAction('processed', 'success', { record: 'U1', reported: 'U1' })).toEqual({ kind: 'unchanged' });
    expect(statusAction('failed', 'bounce', utr)).toEqual({ kind: 'unchanged' });
  });

  it('that contradict the outcome applied, or name another state, are conflicts', () => {
    expect(statusAction('processed', 'success', { record: 'U1', reported: 'U2' })).toMatchObject({ kind: 'conflict', message: expect.stringContaining('U1') });
    expect(statusAction('processed', 'bounce', utr).kind).toBe('conflict');
    expect(statusAction('failed', 'success', utr).kind).toBe('conflict');
    for (const status of ['approval_pending', 'rejected', 'reverted', 'unmatched']) {
      expect(statusAction(status, 'success', utr).kind).toBe('conflict');
      expect(statusAction(status, 'bounce', utr).kind).toBe('conflict');
    }
  });
});

describe('presentation amount', () => {
  it('is the outstanding, capped at the mandate maximum', () => {
    expect(presentationAmount(8884_88n, null)).toBe(8884_88n);
    expect(presentationAmount(8884_88n, 5000_00n)).toBe(5000_00n);
    expect(presentationAmount(4000_00n, 5000_00n)).toBe(4000_00n);
    expect(() => presentationAmount(-1n, null)).toThrow(RangeError);
  });

  it('never exceeds either the outstanding or the cap', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.option(fc.bigInt({ min: 1n, max: 10n ** 15n })), (outstanding, cap) => {
      const amount = presentationAmount(outstanding, cap);
      expect(amount <= outstanding).toBe(true);
      if (cap !== null) expect(amount <= cap).toBe(true);
      expect(amount === outstanding || amount === cap).toBe(true);
    }), { numRuns: RUNS });
  }, PROPERTY_TIMEOUT_MS);
});

describe('skip reasons', () => {
  it('name why an account is not presented', () => {
    expect(skipReason({ hasMandate: false, unpresented: 3, pending: 0 })).toBe('no_active_mandate');
    expect(skipReason({ hasMandate: true, unpresented: 0, pending: 0 })).toBe('nothing_due');
    expect(skipReason({ hasMandate: true, unpresented: 0, pending: 2 })).toBe('already_presented');
    expect(skipReason({ hasMandate: true, unpresented: 1, pending: 2 })).toBeNull();
  });
});

describe('references and dates', () => {
  it('a reserved block of refs ends at the counter value', () => {
    expect(refsOfBlock('REC', 42n, 3)).toEqual(['REC0000040', 'REC0000041', 'REC0000042']);
    expect(refsOfBlock('REC', 1n, 1)).toEqual(['REC0000001']);
    expect(refsOfBlock('REC', 5n, 0)).toEqual([]);
    expect(() => refsOfBlock('REC', 2n, 3)).toThrow(RangeError);
  });

  it('the default UTR is NACH<ref_id>', () => {
    expect(defaultNachUtr('REC0000012')).toBe('NACHREC0000012');
  });

  it('an IST day starts at 18:30 UTC the day before, and its IST date is that day', () => {
    expect(istDayStart('2024-02-05').toISOString()).toBe('2024-02-04T18:30:00.000Z');
    expect(istDateOf(istDayStart('2024-02-05'))).toBe('2024-02-05');
  });
});
