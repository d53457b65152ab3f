import { z } from 'zod';
import { ComponentOrderError, parseComponentOrderOrThrow } from '../../domain/allocation.js';

export const COMPONENT_ORDER_HINT = 'A hyphen-separated order of PI, OI, NI and P (each once), FEE optional (default: right after PI), e.g. PI-OI-NI-P';

/** A component order such as PI-OI-NI-P, checked here so a bad token is a 400 naming it. */
export const componentOrderInput = z.string().trim().max(40, 'must be at most 40 characters').transform((value, ctx) => {
  try {
    return parseComponentOrderOrThrow(value).join('-');
  } catch (error) {
    if (!(error instanceof ComponentOrderError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

const EARLIEST = Date.UTC(2000, 0, 1) / 1000;
/** Settlements may not be dated more than this far ahead of the server's clock. */
const CLOCK_SKEW_S = 5 * 60;

/** Crego's `settled_at`: integer epoch seconds; not before 2000 and not in the future. */
export const settledAtInput = z.number({ error: 'must be epoch seconds (an integer)' })
  .int('must be epoch seconds (an integer)')
  .transform((value, ctx) => {
    if (value < EARLIEST || value > Date.now() / 1000 + CLOCK_SKEW_S) {
      ctx.addIssue({ code: 'custom', message: 'must be epoch seconds between 2000-01-01 and now' });
      return z.NEVER;
    }
    return new Date(value * 1000);
  })
  .meta({ description: 'Epoch seconds (integer) when the money was settled; its IST date is the value date' });

/** An instant as epoch seconds (float allowed), e.g. a record's `date`. */
export const epochInstant = z.number({ error: 'must be epoch seconds' })
  .refine((v) => Number.isFinite(v) && v >= EARLIEST && v <= 253402300799, 'must be epoch seconds from 2000 on')
  .transform((v) => new Date(Math.round(v * 1000)));
