// zod building blocks for the wire: rupee amounts (decoded to paise), ids, pages, timestamps.
import { z } from 'zod';
import { MoneyFormatError, paiseToRupees, rupeesToPaise } from '../domain/money.js';
import { businessDateToEpoch, istDateOf, toEpochSeconds } from '../domain/time.js';

/** A rupee amount in a request: a JSON number with at most two decimals, decoded to paise. */
export const rupeesInput = (options: { allowZero?: boolean } = {}) =>
  z
    .number({ error: 'must be a number of rupees' })
    .transform((value, ctx) => {
      try {
        const paise = rupeesToPaise(value);
        if (paise === 0n && !options.allowZero) {
          ctx.addIssue({ code: 'custom', message: 'must be greater than zero' });
          return z.NEVER;
        }
        return paise;
      } catch (error) {
        if (!(error instanceof MoneyFormatError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
        return z.NEVER;
      }
    })
    .meta({ description: 'Rupees, at most two decimals' });

/** A rupee amount in a response. Values are produced by toWireRupees from paise. */
export const rupeesOutput = z.number().meta({ description: 'Rupees, at most two decimals' });
export const toWireRupees = paiseToRupees;

export const epochSeconds = z.number().meta({ description: 'Epoch seconds (float, microseconds)' });
export const toWireTime = (date: Date): number => toEpochSeconds(date);
export const toWireTimeOrNull = (date: Date | null): number | null => (date ? toEpochSeconds(date) : null);

export const uuid = z.uuid({ error: 'must be a UUID' });
export const idParams = z.strictObject({ id: uuid });

export const PAGE_SIZE_DEFAULT = 15;
export const PAGE_SIZE_MAX = 100;

export const pageQuery = {
  page: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').default(1),
  page_size: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(PAGE_SIZE_MAX, `must be at most ${PAGE_SIZE_MAX}`)
    .default(PAGE_SIZE_DEFAULT),
};

export interface PageRequest {
  page: number;
  page_size: number;
}

export interface Page<T> {
  count: number;
  current_page: number;
  page_size: number;
  results: T[];
}

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int(),
    current_page: z.number().int(),
    page_size: z.number().int(),
    results: z.array(item),
  });

export function skipTake(page: PageRequest): { skip: number; take: number } {
  return { skip: (page.page - 1) * page.page_size, take: page.page_size };
}

export function mapPage<A, B>(page: Page<A>, fn: (item: A) => B): Page<B> {
  return { ...page, results: page.results.map(fn) };
}

/** Optional trimmed text that treats "" as absent. */
export const optionalText = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const emptyObject = z.object({});

/**
 * A business date in a request: 'YYYY-MM-DD', or Crego's epoch seconds (any instant of the IST
 * day, typically 23:59:59.999999 IST). Decoded to 'YYYY-MM-DD'.
 */
export const businessDateInput = z
  .union([z.string(), z.number()], { error: 'must be a date (YYYY-MM-DD) or epoch seconds' })
  .transform((value, ctx) => {
    if (typeof value === 'number') {
      // Up to the end of year 9999: an epoch in milliseconds (a common slip) lands far beyond.
      if (!Number.isFinite(value) || value < 0 || value > 253402300799) {
        ctx.addIssue({ code: 'custom', message: 'must be a date (YYYY-MM-DD) or epoch seconds' });
        return z.NEVER;
      }
      return istDateOf(new Date(value * 1000));
    }
    try {
      businessDateToEpoch(value);
      return value;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a date (YYYY-MM-DD) or epoch seconds' });
      return z.NEVER;
    }
  })
  .meta({ description: "A date: 'YYYY-MM-DD' or epoch seconds (IST day)" });

export const businessDateOutput = z.number().meta({ description: 'Business date: epoch seconds at 23:59:59.999999 IST of the day' });

/** Prisma DATE columns come back as UTC midnight: the business date they hold. */
export const columnToDate = (date: Date): string => date.toISOString().slice(0, 10);
export const dateColumnToWire = (date: Date | null): number | null => (date ? businessDateToEpoch(columnToDate(date)) : null);
export const dateToColumn = (date: string): Date => new Date(`${date}T00:00:00Z`);

/** JSON nested deeper than this is refused: no legitimate body comes near it, and recursion over it overflows the stack. */
export const MAX_JSON_DEPTH = 32;
/** A NUL (PostgreSQL text and jsonb cannot hold it) or an unpaired surrogate (not valid UTF-8). */
const UNSTORABLE_TEXT = /\u0000|\p{Cs}/u;

/**
 * The first place in a parsed request part that the database cannot store or that is nested
 * too deep (walked without recursion, so that depth itself cannot overflow the stack), or null.
 */
export function findUnstorable(value: unknown): { path: (string | number)[]; message: string } | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (UNSTORABLE_TEXT.test(current)) return { path, message: 'must not contain NUL characters or unpaired surrogates' };
    } else if (current !== null && typeof current === 'object' && (Array.isArray(current) || Object.getPrototypeOf(current) === Object.prototype || Object.getPrototypeOf(current) === null)) {
      if (path.length >= MAX_JSON_DEPTH) return { path: path.slice(0, 1), message: `must not be nested more than ${MAX_JSON_DEPTH} levels deep` };
      for (const [key, item] of Object.entries(current)) {
        if (UNSTORABLE_TEXT.test(key)) return { path, message: 'must not have a key with NUL characters or unpaired surrogates' };
        stack.push({ value: item, path: [...path, Array.isArray(current) ? Number(key) : key] });
      }
    }
  }
  return null;
}
