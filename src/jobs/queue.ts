// The job queue: pg-boss on the application's own PostgreSQL (schema `pgboss`).
//
// Why pg-boss: it needs nothing but the database we already run (no Redis, no broker), claims
// jobs with SELECT ... FOR UPDATE SKIP LOCKED so any number of processes can work one queue, and
// lets each queue set how long a job may stay active: a job whose worker died (SIGKILL, lost
// machine) expires after EOD_JOB_TIMEOUT_S and is retried by whichever worker polls next, found
// by the maintenance pass every EOD_QUEUE_MAINTENANCE_S. graphile-worker was the other candidate;
// its lock on a job held by a dead worker lasts a fixed 4 hours, far from the bounded reclaim EOD
// needs. pg-boss 10 is the newest line that supports Node 20.
//
// Every process that builds the app starts the queue as a producer (enqueueing is a single
// INSERT through the app's own pool). Processes with EOD_WORKERS > 0 also work the queues and run
// the maintenance and cron passes: the API server by default, and `npm run worker` processes.
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { EodDispatcher, EodService } from '../modules/eod/service.js';
import type { PartitionJob } from '../modules/eod/partition.js';

export const QUEUES = { plan: 'eod-plan', partition: 'eod-partition', nightly: 'eod-nightly', topups: 'topups-scheduled' } as const;

export interface QueueLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
  error(data: object, message: string): void;
}

export interface QueueOptions {
  pool: pg.Pool;
  config: Config;
  eod: EodService;
  /** How many partition jobs this process works at once (0: enqueue only). */
  workers: number;
  log: QueueLogger;
  /** Called by the nightly schedule: starts the day's run for every company. */
  nightly?: () => Promise<void>;
  /** Pays out scheduled topups; run every SCHEDULER_INTERVAL_S (0: not by this process). */
  topups?: () => Promise<unknown>;
}

export interface JobQueue extends EodDispatcher {
  boss: PgBoss;
  stop(): Promise<void>;
}

type PlanData = { runId: string };

export async function startQueue(options: QueueOptions): Promise<JobQueue> {
  const { config, workers } = options;
  const boss = new PgBoss({
    // Through the app's pool: enqueueing costs no extra connections.
    db: { executeSql: (text: string, values?: unknown[]) => options.pool.query(text, values as unknown[]) },
    schema: 'pgboss',
    supervise: workers > 0,
    schedule: workers > 0 && options.nightly !== undefined,
    maintenanceIntervalSeconds: config.EOD_QUEUE_MAINTENANCE_S,
    monitorStateIntervalSeconds: Math.max(config.EOD_QUEUE_MAINTENANCE_S, 30),
  });
  boss.on('error', (error) => options.log.error({ err: error }, 'job queue error'));
  const retry = { retryLimit: config.EOD_JOB_RETRIES, retryDelay: 1, expireInSeconds: config.EOD_JOB_TIMEOUT_S };
  await boss.start();
  // Processes starting together on a fresh database would create the queues at once and can
  // deadlock inside pg-boss: they take turns under an advisory lock.
  const lock = await options.pool.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', ['lms:job-queues']);
    await ensureQueue(boss, QUEUES.plan, retry);
    await ensureQueue(boss, QUEUES.partition, retry);
    await ensureQueue(boss, QUEUES.nightly, { retryLimit: 2, retryDelay: 60, expireInSeconds: 600 });
    // At most one tick waiting and one running, whatever the number of workers.
    await ensureQueue(boss, QUEUES.topups, { policy: 'stately', retryLimit: 3, retryDelay: 10, expireInSeconds: 600 });
  } catch (error) {
    await boss.stop({ graceful: false, wait: false }).catch(() => {});
    throw error;
  } finally {
    await lock.query('SELECT pg_advisory_unlock(hashtext($1))', ['lms:job-queues']).catch(() => {});
    lock.release();
  }

  const queue: JobQueue = {
    boss,
    plan: async (runId) => {
      await boss.send(QUEUES.plan, { runId } satisfies PlanData);
    },
    partitions: async (jobs) => {
      for (let i = 0; i < jobs.length; i += 1000) {
        await boss.insert(jobs.slice(i, i + 1000).map((data) => ({ name: QUEUES.partition, data, ...retry })));
      }
    },
    stop: async () => {
      if (sweeper) clearInterval(sweeper);
      await boss.stop({ graceful: true, wait: true, timeout: Math.max(config.SHUTDOWN_TIMEOUT_MS - 1000, 1000) });
    },
  };
  let sweeper: NodeJS.Timeout | null = null;
  options.eod.attach(queue);

  if (workers > 0) {
    const polling = { pollingIntervalSeconds: config.EOD_QUEUE_POLL_MS / 1000, includeMetadata: true as const };
    await boss.work<PlanData>(QUEUES.plan, polling, async ([job]) => {
      await options.eod.plan(job!.data.runId);
    });
    for (let i = 0; i < workers; i++) {
      // pg-boss sleeps out its polling interval after a job even when more are waiting: each
      // worker asks for the next one at once instead (it sleeps only when the queue is empty).
      let workerId = '';
      workerId = await boss.work<PartitionJob>(QUEUES.partition, polling, async ([job]) => {
        try {
          await closeOne(job!);
        } finally {
          if (workerId) boss.notifyWorker(workerId);
        }
      });
    }
    async function closeOne(job: PgBoss.JobWithMetadata<PartitionJob>): Promise<void> {
      const data = job.data;
      try {
        const result = await options.eod.closePartition(data);
        if (result.failures.length > 0) options.log.warn({ run: data.runId, partition: data.seq, failures: result.failures }, 'EOD partition closed with failures');
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        options.log.error({ err: error, run: data.runId, partition: data.seq, attempt: job.retryCount }, 'EOD partition failed');
        // Its last try: the run fails naming the partition instead of waiting forever.
        if (job.retryCount >= job.retryLimit) await options.eod.failPartition(data, message);
        throw error;
      }
    }
    const topups = options.topups;
    const tick = (startAfter: number) => boss.send(QUEUES.topups, {}, { startAfter, singletonKey: 'tick' });
    if (topups && config.SCHEDULER_INTERVAL_S > 0) {
      await boss.work(QUEUES.topups, { pollingIntervalSeconds: Math.min(config.SCHEDULER_INTERVAL_S, 30) }, async () => {
        try {
          await topups();
        } finally {
          await tick(config.SCHEDULER_INTERVAL_S);
        }
      });
      await tick(0);
    }
    // Runs whose jobs the queue gave up on without our handler (see EodService.sweep); and a
    // topup tick again in case the last one was lost with its worker (a second is not queued).
    sweeper = setInterval(() => {
      if (topups && config.SCHEDULER_INTERVAL_S > 0) tick(config.SCHEDULER_INTERVAL_S).catch(() => {});
      options.eod.sweep().then(
        (r) => { if (r.failedPartitions + r.replanned > 0) options.log.warn(r, 'EOD sweep found orphaned work'); },
        (error) => options.log.error({ err: error }, 'EOD sweep failed'),
      );
    }, config.EOD_QUEUE_MAINTENANCE_S * 4 * 1000);
    sweeper.unref();
    if (options.nightly) {
      await boss.work(QUEUES.nightly, { pollingIntervalSeconds: 30 }, async () => options.nightly!());
      await scheduleNightly(boss, config.EOD_SCHEDULE_IST);
    }
  }
  return queue;
}

async function ensureQueue(boss: PgBoss, name: string, options: Omit<PgBoss.Queue, 'name'>): Promise<void> {
  if (await boss.getQueue(name)) await boss.updateQueue(name, { name, ...options });
  else await boss.createQueue(name, { name, ...options });
}

/** "HH:MM" IST as pg-boss's cron (its time zone option keeps it on IST); "off" removes it. */
async function scheduleNightly(boss: PgBoss, at: string): Promise<void> {
  if (at === 'off') {
    await boss.unschedule(QUEUES.nightly);
    return;
  }
  const [hh, mm] = at.split(':').map(Number);
  await boss.schedule(QUEUES.nightly, `${mm} ${hh} * * *`, {}, { tz: 'Asia/Kolkata' });
}

