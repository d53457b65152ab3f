// Paying out scheduled topups on their date: one run of the check, as a job of the queue
// (src/jobs/queue.ts). Each run enqueues the next one SCHEDULER_INTERVAL_S later, and the queue
// keeps at most one waiting, so however many workers run there is one tick per interval; a tick
// whose worker died is retried like any job. Every process that works the queue also enqueues
// one tick at start, so a restart catches up on dates reached while it was down. The service
// re-reads each topup under its account's lock, so two runs never pay one topup twice.
import { istDateOf } from '../domain/time.js';
import type { ScheduledRun, TopupsService } from '../modules/topups/service.js';

export interface SchedulerLogger {
  info(data: object, message: string): void;
  error(data: object, message: string): void;
}

export interface TopupRunOptions {
  topups: Pick<TopupsService, 'disburseScheduled'>;
  log: SchedulerLogger;
  now?: () => Date;
}

/** One run for today (IST): pays out what is due, logs what it did and each topup it could not pay. */
export async function runScheduledTopups(options: TopupRunOptions): Promise<ScheduledRun> {
  const asOf = istDateOf((options.now ?? (() => new Date()))());
  try {
    const run = await options.topups.disburseScheduled(asOf);
    if (run.disbursed.length + run.checksFailed.length + run.errors.length > 0) {
      options.log.info({ as_of: asOf, disbursed: run.disbursed, checks_failed: run.checksFailed, skipped: run.skipped }, 'scheduled topups run');
    }
    for (const failure of run.errors) options.log.error({ as_of: asOf, ...failure }, 'scheduled topup could not be paid out');
    return run;
  } catch (error) {
    options.log.error({ err: error, as_of: asOf }, 'scheduled topups run failed');
    throw error;
  }
}
