import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { newId, UUID_PATTERN } from '../../src/domain/ids.js';
import { businessDateToEpoch, istDateOf, toEpochSeconds } from '../../src/domain/time.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit millisecond timestamp at the front of a v7 UUID. */
const msOf = (id: string) => parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('newId', () => {
  it('issues version 7, RFC 4122 variant UUIDs', () => {
    for (let i = 0; i < 1000; i++) {
      const id = newId();
      expect(id).toMatch(V7);
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
  });

  it('embeds the current time in milliseconds', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(msOf(id)).toBeGreaterThanOrEqual(before);
    expect(msOf(id)).toBeLessThanOrEqual(after + 1);
  });

  it('is strictly increasing and unique across 10,000 calls in one process', () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    for (let i = 1; i < ids.length; i++) {
      if (!(ids[i - 1]! < ids[i]!)) throw new Error(`ids not increasing at ${i}: ${ids[i - 1]} then ${ids[i]}`);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(V7);
  });

  it('stays increasing past the 12-bit counter within one millisecond and when the clock goes back', () => {
    const t = Date.now() + 1000;
    const ids = [newId(t)];
    for (let i = 0; i < 5000; i++) ids.push(newId(t)); // more than 4096 in "one" millisecond
    ids.push(newId(t - 500)); // clock stepped back
    ids.push(newId(t + 3));
    for (let i = 1; i < ids.length; i++) {
      if (!(ids[i - 1]! < ids[i]!)) throw new Error(`ids not increasing at ${i}: ${ids[i - 1]} then ${ids[i]}`);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(V7);
    // the overflow borrowed at most a couple of milliseconds from the future
    expect(msOf(ids[5000]!) - t).toBeLessThanOrEqual(2);
  });
});

describe('business dates (Asia/Kolkata)', () => {
  it("businessDateToEpoch gives 23:59:59.999999 IST, Crego's example", () => {
    expect(businessDateToEpoch('2024-01-05')).toBe(1704479399.999999);
  });

  it.each([
    ['2024-01-01', 1704133799.999999],
    ['2024-02-29', 1709231399.999999], // leap day
    ['2024-03-01', 1709317799.999999],
    ['2023-12-31', 1704047399.999999], // year end
    ['1970-01-01', 66599.999999],
  ])('businessDateToEpoch(%s) = %s', (date, epoch) => {
    expect(businessDateToEpoch(date)).toBe(epoch);
  });

  it.each([
    ['2024-01-04T18:29:59.999Z', '2024-01-04'], // 23:59:59.999 IST
    ['2024-01-04T18:30:00.000Z', '2024-01-05'], // 00:00 IST
    ['2024-01-04T23:59:59.999Z', '2024-01-05'], // UTC still on the 4th
    ['2024-01-05T00:00:00.000Z', '2024-01-05'],
    ['2024-01-05T18:29:59.999Z', '2024-01-05'],
    ['2024-01-05T18:30:00.000Z', '2024-01-06'],
    ['2023-12-31T18:30:00.000Z', '2024-01-01'], // IST new year while UTC is still in 2023
    ['2024-02-28T18:30:00.000Z', '2024-02-29'],
  ])('istDateOf(%s) = %s', (iso, date) => {
    expect(istDateOf(new Date(iso))).toBe(date);
  });

  it('toEpochSeconds keeps milliseconds as a fraction', () => {
    expect(toEpochSeconds(new Date('2024-01-04T18:30:00.250Z'))).toBe(1704393000.25);
  });

  it('the epoch of a business date falls on that IST date, one IST day after the previous', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2199-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const date = d.toISOString().slice(0, 10);
        const epoch = businessDateToEpoch(date);
        expect(istDateOf(new Date(epoch * 1000))).toBe(date);
        // one microsecond later is the next IST day
        expect(istDateOf(new Date(Math.ceil(epoch) * 1000))).not.toBe(date);
        const previous = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - 1)).toISOString().slice(0, 10);
        expect(Math.round(epoch - businessDateToEpoch(previous))).toBe(86400);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('businessDateToEpoch input', () => {
  it('rejects text that is not a real calendar date', async () => {
    const { businessDateToEpoch } = await import('../../src/domain/time.js');
    expect(() => businessDateToEpoch('2024-02-30')).toThrow(RangeError);
    expect(() => businessDateToEpoch('garbage')).toThrow(RangeError);
    expect(() => businessDateToEpoch('2024-1-5')).toThrow(RangeError);
    expect(businessDateToEpoch('2024-02-29')).toBe(1709231399.999999);
  });
});
