// Money is integer paise (bigint) everywhere inside the server. Rupee numbers exist only at the
// wire edge, converted here and nowhere else. Rounding happens only through roundDiv.

export type Paise = bigint;

export type RoundingMode = 'half_up' | 'half_even' | 'down' | 'up';

/** Largest amount accepted on the wire: Rs 10^13 (ten lakh crore), far above any real line. */
export const MAX_RUPEES = 10_000_000_000_000;

const RUPEE_PATTERN = /^(\d+)(?:\.(\d{1,2}))?$/;

export class MoneyFormatError extends Error {
  override name = 'MoneyFormatError';
}

/**
 * Converts a rupee amount as received in JSON (a number, or a decimal string where the
 * contract allows strings) to paise. Rejects more than two decimals, negatives, NaN,
 * infinities and exponent notation rather than rounding them.
 */
export function rupeesToPaise(value: number | string): Paise {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new MoneyFormatError('must be a finite number');
    // String() gives the shortest text that round-trips the double, which is the decimal the
    // client wrote for any amount with at most two decimals below MAX_RUPEES.
    text = String(value);
  } else {
    text = value.trim();
  }
  if (text.startsWith('-')) throw new MoneyFormatError('must not be negative');
  const match = RUPEE_PATTERN.exec(text);
  if (!match) throw new MoneyFormatError('must be an amount in rupees with at most two decimals');
  const whole = BigInt(match[1]!);
  const fraction = BigInt((match[2] ?? '').padEnd(2, '0'));
  const paise = whole * 100n + fraction;
  if (paise > BigInt(MAX_RUPEES) * 100n) throw new MoneyFormatError(`must not exceed ${MAX_RUPEES}`);
  return paise;
}

/** Paise to a rupee JSON number with at most two decimals (exact below 2^53 paise). */
export function paiseToRupees(paise: Paise): number {
  if (paise > BigInt(Number.MAX_SAFE_INTEGER) || paise < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`amount ${paise} paise is beyond exact JSON representation`);
  }
  // Division of an exactly representable integer by 100 is correctly rounded, and the shortest
  // round-trip text of the result is the two-decimal rupee figure.
  return Number(paise) / 100;
}

/** Paise as rupee text with exactly two decimals ("1234.50", "-0.05"), in bigint: no float on the way (files, CSV). */
export function formatRupees(paise: Paise): string {
  const sign = paise < 0n ? '-' : '';
  const magnitude = paise < 0n ? -paise : paise;
  return `${sign}${magnitude / 100n}.${(magnitude % 100n).toString().padStart(2, '0')}`;
}

/**
 * Divides numerator by denominator (denominator > 0) and rounds to an integer by `mode`.
 * This is the one rounding point for money: callers compute at full precision in bigint and
 * round once here.
 */
export function roundDiv(numerator: bigint, denominator: bigint, mode: RoundingMode = 'half_up'): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  let quotient = magnitude / denominator;
  const remainder = magnitude % denominator;
  if (remainder !== 0n) {
    const twice = remainder * 2n;
    const roundAway =
      mode === 'up' ||
      (mode === 'half_up' && twice >= denominator) ||
      (mode === 'half_even' && (twice > denominator || (twice === denominator && quotient % 2n === 1n)));
    if (roundAway) quotient += 1n;
  }
  return negative ? -quotient : quotient;
}
