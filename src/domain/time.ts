// Time on the wire follows Crego: timestamps are epoch seconds as floats; business dates are
// calendar days in Asia/Kolkata sent as the epoch second of 23:59:59.999999 IST of that day.

const IST_OFFSET_MS = 5.5 * 60 * 60 * 1000;

/** A business date as 'YYYY-MM-DD'. */
export type BusinessDate = string;

export function toEpochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/** 'YYYY-MM-DD' -> epoch seconds of 23:59:59.999999 IST that day (Crego's business-date form). */
export function businessDateToEpoch(date: BusinessDate): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const [y, m, d] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [NaN, NaN, NaN];
  if (!match || new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10) !== date) {
    throw new RangeError(`not a calendar date: ${date}`);
  }
  const endOfDayUtcMs = Date.UTC(y, m - 1, d, 23, 59, 59) - IST_OFFSET_MS;
  return endOfDayUtcMs / 1000 + 0.999999;
}

/** The IST calendar date of an instant. */
export function istDateOf(instant: Date): BusinessDate {
  return new Date(instant.getTime() + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant an IST business day starts (00:00 IST): its IST date is that day. */
export function istDayStart(date: BusinessDate): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - (5 * 60 + 30) * 60 * 1000);
}
