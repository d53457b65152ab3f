// Which business date the nightly EOD schedule closes.

/**
 * The business date the nightly run closes when it fires at `now`: the IST date of that moment
 * when the schedule is at noon or later (a late-evening run closes the day that is ending), else
 * the day before (a run after midnight closes the day that has just ended).
 */
export function nightlyDate(at: string, istToday: string): string {
  const hour = Number(at.split(':')[0]);
  if (hour >= 12) return istToday;
  const d = new Date(`${istToday}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
