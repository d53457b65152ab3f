// The periodic runner that pays out scheduled topups on their date. Every process may run it:
// the service re-reads each topup under its account's lock, so two runners never pay one topup
// twice. A run that fails is logged and the next tick tries again.
import { istDateOf } from '../domain/time.js';
import type { ScheduledRun, TopupsService } from '../modules/topups/service.js';

export interface SchedulerLogger {
  info(data: object, message: string): void;
  error(data: object, message: string): void;
}

export interface TopupScheduler {
  /** Stops ticking and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export interface TopupSchedulerOptions {
  topups: Pick<TopupsService, 'disburseScheduled'>;
  /** Seconds between the end of one run and the start of the next; 0 disables the scheduler. */
  intervalSeconds: number;
  log: SchedulerLogger;
  now?: () => Date;
}

export function startTopupScheduler(options: TopupSchedulerOptions): TopupScheduler {
  if (options.intervalSeconds <= 0) return { stop: async () => {} };
  const now = options.now ?? (() => new Date());
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  const tick = async () => {
    const asOf = istDateOf(now());
    try {
      const run: ScheduledRun = await options.topups.disburseScheduled(asOf);
      if (run.disbursed.length + run.checksFailed.length + run.errors.length > 0) {
        options.log.info({ as_of: asOf, disbursed: run.disbursed, checks_failed: run.checksFailed, skipped: run.skipped }, 'scheduled topups run');
      }
      for (const failure of run.errors) options.log.error({ as_of: asOf, ...failure }, 'scheduled topup could not be paid out');
    } catch (error) {
      options.log.error({ err: error, as_of: asOf }, 'scheduled topups run failed');
    }
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = null;
        schedule(options.intervalSeconds * 1000);
      });
    }, delayMs);
    // The scheduler never keeps a process alive on its own.
    timer.unref();
  };

  // The first run starts at once, so a restart catches up on dates reached while it was down.
  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
