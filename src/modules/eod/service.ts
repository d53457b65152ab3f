// End of day runs (domain.md section 6): start, plan into partitions, close partitions, finish.
//
// A run is a row in eod_runs. Starting one only writes that row and enqueues its plan job, so the
// API answers at once; the plan job splits the company's accounts that have loans behind the
// run's date into partitions of about EOD_PARTITION_LOANS loans (all loans of an account in one
// partition: NPA is borrower-level) and enqueues one job per partition. Any worker process may
// close any partition (src/modules/eod/partition.ts); the last one to finish completes the run.
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import type { Database } from '../../db/database.js';
import { isUniqueViolation } from '../../db/unique.js';
import { newId } from '../../domain/ids.js';
import { DomainError, invalidField, notFound } from '../../errors.js';
import { Prisma, type EodRun } from '../../generated/prisma/client.js';
import { dateToColumn, skipTake, type Page, type PageRequest } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import type { Actor } from '../users/service.js';
import { nightlyDate } from './nightly.js';
import { closePartition, type PartitionJob, type PartitionResult, type StepTiming } from './partition.js';

/** What the service needs of the job queue (src/jobs/queue.ts): enqueue only. */
export interface EodDispatcher {
  plan(runId: string): Promise<void>;
  partitions(jobs: readonly PartitionJob[]): Promise<void>;
}

export type EodTrigger = 'api' | 'cli' | 'schedule';

export interface EodRunView {
  run: EodRun;
  /** Live while running (summed over finished partitions); final once the run ends. */
  steps: StepTiming[];
}

export interface EodSettings {
  partitionLoans: number;
  /** Loan-days one transaction closes at most: a long catch-up goes in chunks (default 5,000). */
  chunkLoanDays?: number;
}

export class EodService {
  private dispatcher: EodDispatcher | null = null;

  constructor(private readonly db: Database, private readonly settings: EodSettings) {}

  /** The queue is attached once it has started (the app builds services before plugins). */
  attach(dispatcher: EodDispatcher): void {
    this.dispatcher = dispatcher;
  }

  private get queue(): EodDispatcher {
    if (!this.dispatcher) throw new DomainError('NOT_READY', 'The job queue is not running in this process.');
    return this.dispatcher;
  }

  /**
   * Starts a run for `date` (default today, IST). One run per company at a time: a second is a
   * 409 naming the live one. A date every open loan has already closed completes at once.
   */
  async start(by: Actor, input: { date?: BusinessDate; trigger?: EodTrigger }, now = new Date()): Promise<EodRunView> {
    const today = istDateOf(now);
    const date = input.date ?? today;
    if (date > today) throw invalidField('date', `must not be after today (${today}, IST)`);
    const queue = this.queue;
    const live = await this.db.client.eodRun.findFirst({ where: { companyId: by.companyId, status: { in: ['queued', 'running'] } } });
    if (live) throw liveRunConflict(live);
    const [behind] = await this.db.client.$queryRaw<{ behind: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM loans WHERE company_id = ${by.companyId}::uuid AND status IN ('active', 'overdue', 'npa')
        AND disbursement_date <= ${date}::date AND (last_eod_date IS NULL OR last_eod_date < ${date}::date)) AS behind`;
    const id = newId();
    const done = !behind!.behind;
    try {
      await this.db.transaction(async (tx) => {
        await tx.eodRun.create({
          data: {
            id, companyId: by.companyId, businessDate: dateToColumn(date), status: done ? 'completed' : 'queued', trigger: input.trigger ?? 'api',
            createdBy: by.actor, ...(done ? { startedAt: now, finishedAt: now } : {}),
          },
        });
        await writeAudit(this.db, { companyId: by.companyId, entityType: 'eod_run', entityId: id, action: 'started', actor: by.actor, data: { date, nothing_to_close: done } });
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const winner = await this.db.client.eodRun.findFirst({ where: { companyId: by.companyId, status: { in: ['queued', 'running'] } } });
      throw liveRunConflict(winner);
    }
    if (!done) {
      try {
        await queue.plan(id);
      } catch (error) {
        // The run must not stay queued with no job to move it (it would block every later run).
        await this.db.client.$executeRaw`
          UPDATE eod_runs SET status = 'failed', finished_at = now(), updated_at = now(),
                 failures = failures || ${JSON.stringify([{ error: 'the run could not be queued; start it again' }])}::jsonb
           WHERE id = ${id}::uuid`;
        throw new DomainError('NOT_READY', `EOD run ${id} could not be queued (${error instanceof Error ? error.message : String(error)}); it is marked failed, start it again.`);
      }
    }
    return this.get(by.companyId, id);
  }

  /**
   * The nightly schedule: the day's run for every company (see nightlyDate for which day). A
   * company whose previous run is still live is logged and skipped; the next night catches up.
   */
  async startNightly(at: string, now = new Date()): Promise<{ started: string[]; skipped: { company: string; reason: string }[] }> {
    const date = nightlyDate(at === 'off' ? '12:00' : at, istDateOf(now));
    const companies = await this.db.client.company.findMany({ select: { id: true }, orderBy: { id: 'asc' } });
    const started: string[] = [];
    const skipped: { company: string; reason: string }[] = [];
    for (const c of companies) {
      try {
        started.push((await this.start({ companyId: c.id, actor: 'system:eod-schedule' }, { date, trigger: 'schedule' }, now)).run.id);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        skipped.push({ company: c.id, reason: error.message });
      }
    }
    return { started, skipped };
  }

  /**
   * The plan job: partitions the accounts with loans behind the run's date. Safe to run again
   * (a worker that died after committing the plan): it then only re-enqueues pending partitions.
   */
  async plan(runId: string): Promise<void> {
    const jobs = await this.db.transaction(async (tx) => {
      const [run] = await tx.$queryRaw<{ company_id: string; date: string; status: string }[]>`
        SELECT company_id, to_char(business_date, 'YYYY-MM-DD') AS date, status FROM eod_runs WHERE id = ${runId}::uuid FOR UPDATE`;
      if (!run) return [];
      if (run.status === 'running') {
        const pending = await tx.eodRunPartition.findMany({ where: { runId, status: 'pending' }, select: { seq: true } });
        return pending.map((p) => ({ runId, seq: p.seq }));
      }
      if (run.status !== 'queued') return [];
      const accounts = await tx.$queryRaw<{ account_id: string; behind: number }[]>`
        SELECT account_id, count(*)::int AS behind FROM loans
         WHERE company_id = ${run.company_id}::uuid AND status IN ('active', 'overdue', 'npa') AND disbursement_date <= ${run.date}::date
           AND (last_eod_date IS NULL OR last_eod_date < ${run.date}::date)
         GROUP BY account_id ORDER BY account_id`;
      const partitions = partitionAccounts(accounts, this.settings.partitionLoans);
      const total = accounts.reduce((s, a) => s + a.behind, 0);
      if (partitions.length > 0) {
        await tx.$executeRaw`
          INSERT INTO eod_run_partitions (run_id, seq, account_ids, loans)
          SELECT ${runId}::uuid, x.seq, x.account_ids::uuid[], x.loans
            FROM jsonb_to_recordset(${JSON.stringify(partitions.map((p, i) => ({ seq: i, account_ids: `{${p.accounts.join(',')}}`, loans: p.loans })))}::jsonb)
              AS x(seq int, account_ids text, loans int)`;
      }
      await tx.$executeRaw`
        UPDATE eod_runs SET status = ${partitions.length > 0 ? 'running' : 'completed'}, loans_total = ${total}, partitions_total = ${partitions.length},
               started_at = now(), finished_at = ${partitions.length > 0 ? null : new Date()}, updated_at = now()
         WHERE id = ${runId}::uuid`;
      return partitions.map((_, seq) => ({ runId, seq }));
    });
    if (jobs.length > 0) await this.queue.partitions(jobs);
  }

  /** The partition job: closes it, then completes the run when no partition is left. */
  async closePartition(job: PartitionJob): Promise<PartitionResult> {
    const result = await closePartition(this.db.pool, job, this.settings.chunkLoanDays);
    // A chunk of a long catch-up: the next chunk is a job of its own, so no job runs for long.
    if (result.ran && !result.done) await this.queue.partitions([job]);
    else await this.finishIfDone(job.runId);
    return result;
  }

  /** A partition the queue gave up on (its retries spent): the run fails, naming it. */
  async failPartition(job: PartitionJob, error: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const failure = JSON.stringify([{ partition: job.seq, error }]);
      const changed = await tx.$executeRaw`
        UPDATE eod_run_partitions SET status = 'failed', failures = failures || ${failure}::jsonb, finished_at = now()
         WHERE run_id = ${job.runId}::uuid AND seq = ${job.seq} AND status = 'pending'`;
      if (changed > 0) await tx.$executeRaw`UPDATE eod_runs SET failures = failures || ${failure}::jsonb, updated_at = now() WHERE id = ${job.runId}::uuid`;
    });
    await this.finishIfDone(job.runId);
  }

  /**
   * The safety net behind the queue's retries: a run whose work the queue no longer holds can
   * never finish on its own (a worker killed on every try of a partition leaves the job failed
   * without our handler seeing it; a plan job lost the same way leaves the run queued). Every
   * worker runs this every few maintenance periods: a pending partition with no live job fails,
   * naming why, and a queued run with no live plan job gets one again.
   */
  async sweep(): Promise<{ failedPartitions: number; replanned: number }> {
    const orphans = await this.db.client.$queryRaw<{ run_id: string; seq: number }[]>`
      SELECT p.run_id, p.seq FROM eod_run_partitions p JOIN eod_runs r ON r.id = p.run_id
       WHERE r.status = 'running' AND p.status = 'pending' AND r.updated_at < now() - interval '10 seconds'
         AND NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = 'eod-partition' AND j.state < 'completed'
                          AND j.data->>'runId' = p.run_id::text AND (j.data->>'seq')::int = p.seq)`;
    for (const o of orphans) await this.failPartition({ runId: o.run_id, seq: o.seq }, 'its job ran out of retries without finishing (the worker died on every try)');
    const queued = await this.db.client.$queryRaw<{ id: string; stale: boolean }[]>`
      SELECT r.id, r.created_at < now() - interval '1 hour' AS stale FROM eod_runs r
       WHERE r.status = 'queued' AND r.created_at < now() - interval '10 seconds'
         AND NOT EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = 'eod-plan' AND j.state < 'completed' AND j.data->>'runId' = r.id::text)`;
    // A plan that keeps failing is not retried for ever: after an hour the run fails, freeing the company.
    for (const q of queued.filter((r) => r.stale)) {
      await this.db.client.$executeRaw`
        UPDATE eod_runs SET status = 'failed', finished_at = now(), updated_at = now(),
               failures = failures || ${JSON.stringify([{ error: 'its plan job kept failing for an hour' }])}::jsonb
         WHERE id = ${q.id}::uuid AND status = 'queued'`;
    }
    for (const q of queued.filter((r) => !r.stale)) await this.queue.plan(q.id);
    return { failedPartitions: orphans.length, replanned: queued.length };
  }

  /**
   * Completes a running run with no partition pending. Every worker calls it after its commit,
   * so the last one to commit sees all partitions finished; the status guard lets one win.
   */
  async finishIfDone(runId: string): Promise<void> {
    await this.db.client.$executeRaw`
      UPDATE eod_runs r SET status = CASE WHEN jsonb_array_length(r.failures) > 0 THEN 'failed' ELSE 'completed' END,
             steps = (${stepsSql(runId)}), finished_at = now(), updated_at = now()
       WHERE r.id = ${runId}::uuid AND r.status = 'running'
         AND NOT EXISTS (SELECT 1 FROM eod_run_partitions p WHERE p.run_id = r.id AND p.status = 'pending')`;
  }

  async get(companyId: string, id: string): Promise<EodRunView> {
    const run = await this.db.client.eodRun.findFirst({ where: { companyId, id } });
    if (!run) throw notFound('EOD run');
    return { run, steps: run.status === 'running' ? await this.liveSteps(id) : (run.steps as unknown as StepTiming[]) };
  }

  async list(companyId: string, page: PageRequest, filter: { status?: string; date?: BusinessDate }): Promise<Page<EodRunView>> {
    const where = { companyId, ...(filter.status ? { status: filter.status } : {}), ...(filter.date ? { businessDate: dateToColumn(filter.date) } : {}) };
    const [count, rows] = await Promise.all([
      this.db.client.eodRun.count({ where }),
      this.db.client.eodRun.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], ...skipTake(page) }),
    ]);
    const results: EodRunView[] = [];
    for (const run of rows) results.push({ run, steps: run.status === 'running' ? await this.liveSteps(run.id) : (run.steps as unknown as StepTiming[]) });
    return { count, current_page: page.page, page_size: page.page_size, results };
  }

  private async liveSteps(runId: string): Promise<StepTiming[]> {
    const [row] = await this.db.client.$queryRaw<{ steps: StepTiming[] }[]>`SELECT (${stepsSql(runId)}) AS steps`;
    return row?.steps ?? [];
  }
}

/** One run per company at a time: the 409 names the live run. */
function liveRunConflict(live: EodRun | null): DomainError {
  const what = live ? `EOD run ${live.id} for ${live.businessDate.toISOString().slice(0, 10)} is still ${live.status}` : 'Another EOD run is live';
  return new DomainError('STATE_CONFLICT', `${what}; one run per company at a time.`, undefined, { running: live?.id ?? null });
}

/** Step timings summed over a run's finished partitions, in the order the steps run. */
function stepsSql(runId: string) {
  return Prisma.sql`
    SELECT COALESCE(jsonb_agg(jsonb_build_object('name', s.name, 'ms', s.ms, 'rows', s.rows) ORDER BY s.ord), '[]'::jsonb)
      FROM (SELECT e.step->>'name' AS name, min(e.ord) AS ord, round(sum((e.step->>'ms')::numeric), 1) AS ms, sum((e.step->>'rows')::bigint) AS rows
              FROM eod_run_partitions p, jsonb_array_elements(p.steps) WITH ORDINALITY AS e(step, ord)
             WHERE p.run_id = ${runId}::uuid GROUP BY e.step->>'name') s`;
}

/** Accounts in id order, cut into partitions of at least `size` loans (an account is never split). */
export function partitionAccounts(accounts: readonly { account_id: string; behind: number }[], size: number): { accounts: string[]; loans: number }[] {
  const out: { accounts: string[]; loans: number }[] = [];
  let current: { accounts: string[]; loans: number } | null = null;
  for (const a of accounts) {
    if (!current) out.push((current = { accounts: [], loans: 0 }));
    current.accounts.push(a.account_id);
    current.loans += a.behind;
    if (current.loans >= size) current = null;
  }
  return out;
}
