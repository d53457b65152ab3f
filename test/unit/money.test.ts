import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatRupees, MAX_RUPEES, MoneyFormatError, paiseToRupees, roundDiv, rupeesToPaise, type RoundingMode } from '../../src/domain/money.js';

// Sized by case count; the timeout is far above the normal time, for a CPU shared with other suites.
const PROPERTY_TIMEOUT_MS = 300_000;

const NUM_RUNS = 1000;
const MAX_PAISE = BigInt(MAX_RUPEES) * 100n;

describe('rupeesToPaise', () => {
  it.each<[number | string, bigint]>([
    [500000, 50000000n],
    [0, 0n],
    [0.1, 10n],
    [0.01, 1n],
    [0.29, 29n], // 0.29 * 100 is 28.999999999999996 in floating point: must not truncate
    [1.15, 115n], // 1.15 * 100 is 114.99999999999999
    [26586.26, 2658626n],
    [500000.5, 50000050n],
    [123456789.99, 12345678999n],
    [MAX_RUPEES, 1_000_000_000_000_000n],
    ['500000', 50000000n],
    ['0.1', 10n],
    ['26586.26', 2658626n],
    ['  42.5 ', 4250n],
    ['007', 700n],
  ])('%j -> %s paise', (input, expected) => {
    expect(rupeesToPaise(input)).toBe(expected);
  });

  it.each<[number | string]>([
    [1.234], [0.001], [-1], [-0.01], ['-1'], [NaN], [Infinity], [-Infinity], [1e21], [1e-7],
    ['abc'], ['1.2.3'], [''], [' '], ['1e3'], ['1.'], ['.5'], ['1,000'], ['+1'], ['0x10'], ['1.234'],
    [MAX_RUPEES + 0.01], [MAX_RUPEES * 10], [String(MAX_RUPEES + 1)],
  ])('rejects %j with MoneyFormatError', (input) => {
    expect(() => rupeesToPaise(input)).toThrow(MoneyFormatError);
  });
});

describe('formatRupees', () => {
  it('writes two decimals from the integer paise, never through a float', () => {
    expect(formatRupees(0n)).toBe('0.00');
    expect(formatRupees(5n)).toBe('0.05');
    expect(formatRupees(123450n)).toBe('1234.50');
    expect(formatRupees(-5n)).toBe('-0.05');
    // Beyond 2^53 paise, where a float would lose the last paisa.
    expect(formatRupees(9007199254740993n)).toBe('90071992547409.93');
  });

  it('round-trips through rupeesToPaise for every amount the wire accepts', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: BigInt(MAX_RUPEES) * 100n }), (paise) => {
      expect(rupeesToPaise(formatRupees(paise))).toBe(paise);
    }), { numRuns: 1000 });
  }, PROPERTY_TIMEOUT_MS);
});

describe('paiseToRupees', () => {
  it.each<[bigint, number]>([
    [2658626n, 26586.26],
    [1n, 0.01],
    [0n, 0],
    [10n, 0.1],
    [50000050n, 500000.5],
    [-2658626n, -26586.26],
    [1_000_000_000_000_000n, MAX_RUPEES],
  ])('%s paise -> %s', (paise, rupees) => {
    expect(paiseToRupees(paise)).toBe(rupees);
  });

  it('serialises to two-decimal JSON', () => {
    expect(JSON.stringify(paiseToRupees(2658626n))).toBe('26586.26');
    expect(JSON.stringify(paiseToRupees(29n))).toBe('0.29');
    expect(JSON.stringify(paiseToRupees(115n))).toBe('1.15');
  });

  it('refuses amounts beyond exact double representation', () => {
    expect(() => paiseToRupees(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toThrow(RangeError);
    expect(() => paiseToRupees(-BigInt(Number.MAX_SAFE_INTEGER) - 1n)).toThrow(RangeError);
    expect(paiseToRupees(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER / 100);
  });
});

describe('roundDiv', () => {
  it.each<[bigint, bigint, RoundingMode, bigint]>([
    // exact division: every mode agrees
    [10n, 2n, 'half_up', 5n], [10n, 2n, 'half_even', 5n], [10n, 2n, 'down', 5n], [10n, 2n, 'up', 5n],
    [0n, 7n, 'half_up', 0n], [0n, 7n, 'up', 0n], [0n, 7n, 'down', 0n], [0n, 7n, 'half_even', 0n],
    [-10n, 2n, 'up', -5n], [-10n, 2n, 'down', -5n],
    // exact halves
    [5n, 2n, 'half_up', 3n], [5n, 2n, 'half_even', 2n], [5n, 2n, 'down', 2n], [5n, 2n, 'up', 3n],
    [7n, 2n, 'half_up', 4n], [7n, 2n, 'half_even', 4n], [7n, 2n, 'down', 3n], [7n, 2n, 'up', 4n],
    [1n, 2n, 'half_up', 1n], [1n, 2n, 'half_even', 0n], [3n, 2n, 'half_even', 2n],
    [250n, 100n, 'half_up', 3n], [250n, 100n, 'half_even', 2n], [350n, 100n, 'half_even', 4n],
    // negative halves: ties go away from zero (half_up) or to even (half_even)
    [-5n, 2n, 'half_up', -3n], [-5n, 2n, 'half_even', -2n], [-7n, 2n, 'half_even', -4n], [-1n, 2n, 'half_even', 0n],
    // down is toward zero, up is away from zero (also for negatives)
    [-5n, 2n, 'down', -2n], [-5n, 2n, 'up', -3n], [-7n, 3n, 'down', -2n], [-7n, 3n, 'up', -3n],
    // not a tie
    [7n, 3n, 'half_up', 2n], [7n, 3n, 'half_even', 2n], [7n, 3n, 'down', 2n], [7n, 3n, 'up', 3n],
    [8n, 3n, 'half_up', 3n], [8n, 3n, 'half_even', 3n], [8n, 3n, 'down', 2n], [8n, 3n, 'up', 3n],
    [-8n, 3n, 'half_up', -3n], [-8n, 3n, 'half_even', -3n], [-7n, 3n, 'half_up', -2n], [-7n, 3n, 'half_even', -2n],
    [1n, 3n, 'up', 1n], [1n, 3n, 'down', 0n], [2n, 3n, 'half_up', 1n], [1n, 3n, 'half_up', 0n],
    // interest-style numbers: 1,00,000.00 Rs at 18% for 31 days over 365, in paise
    [10_000_000n * 18n * 31n, 100n * 365n, 'half_up', 152877n], [10_000_000n * 18n * 31n, 100n * 365n, 'down', 152876n],
    [5n, 1n, 'half_up', 5n], [-5n, 1n, 'half_even', -5n],
  ])('roundDiv(%s, %s, %s) = %s', (n, d, mode, expected) => {
    expect(roundDiv(n, d, mode)).toBe(expected);
  });

  it('defaults to half_up', () => {
    expect(roundDiv(5n, 2n)).toBe(3n);
    expect(roundDiv(-5n, 2n)).toBe(-3n);
  });

  it('rejects a zero or negative denominator', () => {
    expect(() => roundDiv(1n, 0n)).toThrow(RangeError);
    expect(() => roundDiv(1n, -2n, 'down')).toThrow(RangeError);
  });
});

const numerator = fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n });
const denominator = fc.bigInt({ min: 1n, max: 10n ** 12n });
const abs = (x: bigint) => (x < 0n ? -x : x);

describe('money properties', () => {
  it('rupee numbers with at most two decimals round-trip through paise', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_PAISE }), (paise) => {
        const rupees = Number(paise) / 100; // what a client writes in JSON
        expect(rupeesToPaise(rupees)).toBe(paise);
        expect(paiseToRupees(rupeesToPaise(rupees))).toBe(rupees);
        expect(rupeesToPaise(JSON.parse(JSON.stringify(paiseToRupees(paise))) as number)).toBe(paise);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decimal strings agree with numbers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_PAISE }), (paise) => {
        const text = `${paise / 100n}.${String(paise % 100n).padStart(2, '0')}`;
        expect(rupeesToPaise(text)).toBe(paise);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('half modes land within half a denominator of the exact quotient', () => {
    fc.assert(
      fc.property(numerator, denominator, fc.constantFrom<RoundingMode>('half_up', 'half_even'), (n, d, mode) => {
        const r = roundDiv(n, d, mode);
        expect(2n * abs(n - r * d) <= d).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('down truncates toward zero and up rounds away from zero, one step apart unless exact', () => {
    fc.assert(
      fc.property(numerator, denominator, (n, d) => {
        const down = roundDiv(n, d, 'down');
        const up = roundDiv(n, d, 'up');
        // |down| * d <= |n| <= |up| * d
        expect(abs(down) * d <= abs(n)).toBe(true);
        expect(abs(n) <= abs(up) * d).toBe(true);
        expect(abs(up) - abs(down)).toBe(n % d === 0n ? 0n : 1n);
        if (n >= 0n) {
          expect(down * d <= n && n <= up * d).toBe(true);
        }
        // every mode lies between down and up
        for (const mode of ['half_up', 'half_even'] as const) {
          const r = roundDiv(n, d, mode);
          expect(r === down || r === up).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('half_up and half_even differ only on exact ties, where half_even is even', () => {
    fc.assert(
      fc.property(numerator, denominator, (n, d) => {
        const halfUp = roundDiv(n, d, 'half_up');
        const halfEven = roundDiv(n, d, 'half_even');
        const tie = 2n * (abs(n) % d) === d;
        if (!tie) expect(halfEven).toBe(halfUp);
        else {
          expect(halfEven % 2n).toBe(0n);
          // they agree when rounding away from zero already lands on the even neighbour
          expect(halfEven === halfUp).toBe(halfUp % 2n === 0n);
          expect(abs(halfUp - halfEven) <= 1n).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('ties are hit too: (2k+1)/2 for every mode', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (k, half) => {
        const d = 2n * half;
        const n = (2n * k + 1n) * half; // exactly (k + 0.5) * d
        const halfUp = roundDiv(n, d, 'half_up');
        const halfEven = roundDiv(n, d, 'half_even');
        expect(halfUp).toBe(n >= 0n ? k + 1n : k); // away from zero
        expect(halfEven % 2n).toBe(0n);
        expect(halfEven === k || halfEven === k + 1n).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('rounding is symmetric around zero', () => {
    fc.assert(
      fc.property(numerator, denominator, fc.constantFrom<RoundingMode>('half_up', 'half_even', 'down', 'up'), (n, d, mode) => {
        expect(roundDiv(-n, d, mode)).toBe(-roundDiv(n, d, mode));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
