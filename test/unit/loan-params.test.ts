import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, isOpenEnded, normalizeParams, parseComponentOrder, slabBound, validateParams } from '../../src/domain/loan-params.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const permutations = <T>(xs: T[]): T[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));

describe('component_order', () => {
  it('accepts all 24 orders of PI, OI, NI, P, with FEE in any of 5 places or absent', () => {
    for (const order of permutations(['PI', 'OI', 'NI', 'P'])) {
      const plain = parseComponentOrder(order.join('-'));
      expect(plain).toEqual({ order: [...order.slice(0, order.indexOf('PI') + 1), 'FEE', ...order.slice(order.indexOf('PI') + 1)] });
      for (let at = 0; at <= 4; at++) {
        const withFee = [...order.slice(0, at), 'FEE', ...order.slice(at)];
        expect(parseComponentOrder(withFee.join('-'))).toEqual({ order: withFee });
      }
    }
  });

  it('names the bad token', () => {
    expect(parseComponentOrder('PI-OI-XX-P')).toEqual({ error: 'unknown component "XX"' });
    expect(parseComponentOrder('PI-OI-NI')).toEqual({ error: 'component "P" is missing' });
    expect(parseComponentOrder('PI-OI-NI-P-P')).toEqual({ error: 'component "P" appears more than once' });
    expect(parseComponentOrder('PI-FEE-OI-NI-P-FEE')).toEqual({ error: 'component "FEE" appears more than once' });
    expect(parseComponentOrder('pi-oi-ni-p')).toEqual({ order: ['PI', 'FEE', 'OI', 'NI', 'P'] });
  });

  it('rejects every string that is not a valid order (property)', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('P', 'NI', 'OI', 'PI', 'FEE', 'X'), { maxLength: 7 }), (tokens) => {
      const result = parseComponentOrder(tokens.join('-'));
      const valid = !tokens.includes('X') && ['P', 'NI', 'OI', 'PI'].every((c) => tokens.filter((t) => t === c).length === 1) && tokens.filter((t) => t === 'FEE').length <= 1;
      expect('order' in result).toBe(valid);
    }), { numRuns: 2000 });
  }, PROPERTY_TIMEOUT_MS);
});

describe('slabs', () => {
  it('reads days as numbers, numeric strings, -1 and "inf"', () => {
    expect(slabBound('15')).toBe(15);
    expect(slabBound(30)).toBe(30);
    expect(slabBound(-1)).toBeNull();
    expect(slabBound('inf')).toBeNull();
    expect(slabBound('Inf')).toBeNull();
    expect(Number.isNaN(slabBound('1.5'))).toBe(true);
    expect(isOpenEnded('-1')).toBe(true);
  });

  it("passes Crego's example slabs and refuses unsorted ones", () => {
    const crego = [{ days: '15', value: '18' }, { days: '30', value: '24' }, { days: -1, value: '36' }];
    expect(validateParams({ ...DEFAULT_PARAMS, roi_slab_based: true, roi_value: crego })).toEqual({});
    const unsorted = [{ days: '30', value: '18' }, { days: '30', value: '24' }, { days: -1, value: '36' }];
    expect(Object.keys(validateParams({ ...DEFAULT_PARAMS, roi_slab_based: true, roi_value: unsorted }))).toEqual(['roi_value.1.days']);
  });
});

describe('validateParams', () => {
  it('the defaults are valid', () => {
    expect(validateParams(DEFAULT_PARAMS)).toEqual({});
  });

  it('percentages are checked as rates only when the value type is percentage', () => {
    expect(validateParams({ ...DEFAULT_PARAMS, pf_value_type: 'percentage', pf_value: '150' })).toHaveProperty('pf_value');
    expect(validateParams({ ...DEFAULT_PARAMS, pf_value_type: 'fixed', pf_value: '1500' })).toEqual({});
  });

  it('EMIs with no stated frequency are monthly', () => {
    expect(normalizeParams({ ...DEFAULT_PARAMS, emi_count: 12 }).emi_frequency).toBe('monthly');
    expect(normalizeParams({ ...DEFAULT_PARAMS, emi_count: 0 }).emi_frequency).toBeNull();
  });
});
