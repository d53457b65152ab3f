// Crash test of End of day (domain.md section 6, "idempotent and resumable"): worker processes
// (src/jobs/worker.ts, what `npm run worker` runs) are SIGKILLed at random points of a run, the
// run resumes on fresh workers, and the final state (loans, demands, accrual rows, and what held
// excess moved: settlement lines, records, limits) equals that of the same portfolio closed by one
// uninterrupted worker, and by two workers sharing a run. No accrual row is written twice.
//
// Three tenants hold the same portfolio (test/helpers/eod-data.ts, built from one seed); a run
// closes it in partitions of 2-3 loans, each in chunks of days (one transaction and job a chunk):
//   A: two workers run it. At 6 seeded-random points a worker is SIGKILLed: at the first point
//      and one other whatever it is doing, at three a worker caught inside a database transaction
//      (closing a chunk); after each of the first four a standby takes the dead worker's place,
//      the fifth leaves one worker and the sixth kills that last one. Fresh workers then resume
//      the run: the queue hands them the dead workers' jobs once those expire.
//   C: two workers at once (the two that resumed A).
//   B: one worker (one of C's two, the other stopped first), never interrupted: the reference.
// Standbys start with the first two and are stopped (SIGSTOP) while their sessions are idle and
// before any run exists, so they hold no job; SIGCONT makes one a worker at once, where starting
// a process takes seconds. Runs go one after another, as workers serve every company's jobs: each
// run's workers are exactly the processes working while it runs. For the same reason the file
// uses a database of its own (created and dropped here), out of reach of other files' EOD runs.
// EOD_SEED=<n> replays another portfolio and kill schedule.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createTenant, TEST_JWT_SECRET, testConfig, type Tenant, type TestContext } from '../helpers/app.js';
import { buildPortfolio, eodState, lineDifferences, portfolioSpec, seededRandom } from '../helpers/eod-data.js';

const SEED = Number(process.env.EOD_SEED ?? 20241231);
const ACCOUNTS = 10;
const RUN_DATE = '2024-08-31';
/** Partitions of 2 or 3 loans (an account's loans are never split), each closed in chunks of 300 loan-days (100-150 days). */
const PARTITION_LOANS = '2';
const CHUNK_LOAN_DAYS = '300';
const KILL_POINTS = 6;
const ACTIVE = 2;
const STANDBYS = KILL_POINTS - ACTIVE;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Loaded into each worker: it exits when this test process goes away (its stdin closes), so no
// worker outlives a crashed test run.
const STDIN_GUARD = "data:text/javascript,process.stdin.on('end',()=>process.exit(0));process.stdin.resume()";
const APP_PREFIX = 'eodcrash-';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface WorkerProc {
  name: string;
  proc: ChildProcess;
  ready: boolean;
  /** When it said it had started (Date.now()). */
  readyAt: number | null;
  stopped: boolean;
  exited: boolean;
  exitedPromise: Promise<void>;
  log: string[];
}

const workers: WorkerProc[] = [];
const live = () => workers.filter((w) => !w.exited);
const working = () => live().filter((w) => w.ready && !w.stopped);

function spawnWorker(name: string): WorkerProc {
  const url = new URL(dbUrl);
  // Names the worker's database sessions, so the test sees which worker is inside a transaction.
  url.searchParams.set('application_name', APP_PREFIX + name);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, {
    DATABASE_URL: url.toString(), EOD_WORKERS: '1', EOD_PARTITION_LOANS: PARTITION_LOANS, EOD_CHUNK_LOAN_DAYS: CHUNK_LOAN_DAYS, EOD_JOB_TIMEOUT_S: '5',
    EOD_QUEUE_MAINTENANCE_S: '1', EOD_QUEUE_POLL_MS: '500', EOD_SCHEDULE_IST: 'off', LOG_LEVEL: 'info',
  });
  // node --import tsx, not the tsx CLI: that one runs the script in a child process a SIGKILL would miss.
  const proc = spawn(process.execPath, ['--import', 'tsx', '--import', STDIN_GUARD, 'src/jobs/worker.ts'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let resolveExit!: () => void;
  const w: WorkerProc = { name, proc, ready: false, readyAt: null, stopped: false, exited: false, exitedPromise: new Promise((r) => { resolveExit = r; }), log: [] };
  const keep = (line: string) => {
    w.log.push(line);
    if (w.log.length > 300) w.log.splice(0, 100);
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    keep(line);
    if (line.includes('"msg":"worker started"')) {
      w.ready = true;
      w.readyAt = Date.now();
    }
  });
  createInterface({ input: proc.stderr! }).on('line', keep);
  proc.on('exit', (code, signal) => {
    w.exited = true;
    keep(`[exit code=${code} signal=${signal}]`);
    resolveExit();
  });
  workers.push(w);
  return w;
}

async function kill(w: WorkerProc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!w.exited) w.proc.kill(signal);
  await w.exitedPromise;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The worker processes' output at warn or above, anything not JSON, and exits, for failure messages. */
function noteworthy(w: WorkerProc): string[] {
  return w.log.filter((l) => l.startsWith('[exit') || !l.startsWith('{') || /"level":(4|5|6)\d/.test(l)).map((l) => `${w.name}: ${l.slice(0, 600)}`);
}

// A database of this file's own (on the test run's server), dropped at the end: the workers it
// kills work every job of their database's queue, and other test files run EOD too.
const DB_NAME = `lms_eodcrash_${Date.now()}_${process.pid}`;
let dbUrl: string;

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('serverUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** The app (it only enqueues: EOD_WORKERS 0) on this file's database, as buildTestApp builds it on the run's. */
async function buildCrashApp(): Promise<TestContext> {
  const config = testConfig({ DATABASE_URL: dbUrl, EOD_WORKERS: '0' });
  const db = new Database({ url: dbUrl, poolMax: 8, transactionTimeoutMs: config.DB_TRANSACTION_TIMEOUT_MS, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS });
  const app = await buildApp({ config, db, jwtSecret: TEST_JWT_SECRET }, { logger: false });
  return {
    app, db, http: () => supertest.agent(app.server),
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}

let ctx: TestContext;
/** The test's own connections for watching runs and workers (the app's pool is busy building data meanwhile). */
let monitor: pg.Pool;
let tenantA: Tenant;
let standingBy: Promise<void>[] = [];
const specs = portfolioSpec(SEED, ACCOUNTS);

/**
 * Stops a standby with SIGSTOP, at a moment none of its sessions is busy or inside a transaction
 * (it must hold no lock and no job while it sleeps); it is only called before any run exists.
 */
async function standBy(w: WorkerProc): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    w.proc.kill('SIGSTOP');
    await sleep(50);
    const { rows: [busy] } = await monitor.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND (state <> 'idle' OR xact_start IS NOT NULL)`,
      [APP_PREFIX + w.name]);
    if (busy!.n === 0) {
      w.stopped = true;
      return;
    }
    w.proc.kill('SIGCONT');
    await sleep(20 + attempt * 5);
  }
  throw new Error(`worker ${w.name} never idle enough to stop`);
}

function wake(w: WorkerProc): void {
  w.proc.kill('SIGCONT');
  w.stopped = false;
}

beforeAll(async () => {
  // A's workers and standbys start while the data is built (no run exists yet: the queue is
  // empty); each standby is stopped as soon as it is up.
  await adminQuery(`CREATE DATABASE "${DB_NAME}"`);
  const server = new URL(inject('serverUrl'));
  server.pathname = `/${DB_NAME}`;
  dbUrl = server.toString();
  await migrate(dbUrl);
  monitor = new pg.Pool({ connectionString: dbUrl, max: 3 });
  for (let i = 1; i <= ACTIVE + STANDBYS; i++) spawnWorker(`a${i}`);
  standingBy = workers.slice(ACTIVE).map((w) => until(`standby ${w.name} to start`, () => w.ready, 120_000, 50).then(() => standBy(w)));
  for (const p of standingBy) p.catch(() => {});
  const t0 = Date.now();
  ctx = await buildCrashApp();
  const t1 = Date.now();
  tenantA = await createTenant(ctx, 'eod-crash-A');
  const t2 = Date.now();
  await buildPortfolio(ctx, tenantA, specs, RUN_DATE, 4);
  console.log(`[eod-crash] seed ${SEED}: ${specs.length} accounts, ${specs.reduce((s, a) => s + a.loans.length, 0)} loans per tenant; `
    + `app built in ${t1 - t0} ms, tenant A in ${t2 - t1} ms, its portfolio in ${Date.now() - t2} ms`);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => kill(w)));
  await monitor?.end().catch(() => {});
  await ctx?.close();
  await adminQuery(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
});

interface RunRow {
  status: string;
  loans_total: number;
  loans_done: number;
  partitions_total: number;
  partitions_done: number;
  failures: unknown[];
}

async function runRow(runId: string): Promise<RunRow> {
  const { rows } = await monitor.query<RunRow>(
    'SELECT status, loans_total, loans_done, partitions_total, partitions_done, failures FROM eod_runs WHERE id = $1', [runId]);
  return rows[0]!;
}

async function startRun(t: Tenant): Promise<string> {
  const res = await ctx.http().post('/v1/lms/emis/run_eod/').set('Authorization', t.bearer('maker')).send({ date: RUN_DATE });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body.status).toBe('queued');
  return res.body.id as string;
}

/** Waits for the run to end; on a timeout, says where it stands (partitions, queue jobs, worker output). */
async function finished(runId: string, timeoutMs = 150_000): Promise<RunRow> {
  try {
    return await until(`EOD run ${runId} to end`, async () => {
      const row = await runRow(runId);
      return row.status === 'completed' || row.status === 'failed' ? row : undefined;
    }, timeoutMs, 100);
  } catch (error) {
    const run = await runRow(runId);
    const parts = (await monitor.query('SELECT seq, status, attempts, loans, failures FROM eod_run_partitions WHERE run_id = $1 AND status <> $2 ORDER BY seq', [runId, 'done'])).rows;
    const jobs = (await monitor.query(
      `SELECT name, state, retry_count, data FROM pgboss.job WHERE data->>'runId' = $1 ORDER BY created_on`, [runId])).rows;
    throw new Error(`${(error as Error).message}\nrun: ${JSON.stringify(run)}\nunfinished partitions: ${JSON.stringify(parts)}\njobs: ${JSON.stringify(jobs)}\n`
      + workers.flatMap(noteworthy).join('\n'));
  }
}

/**
 * The workers whose sessions are inside a transaction now (not a queue poll), each with what its
 * session is doing: the statement running, or the last one while idle in the transaction (the
 * worker is then computing, e.g. closing days in code).
 */
async function workersInTransaction(): Promise<Map<string, string>> {
  const { rows } = await monitor.query<{ name: string; state: string; query: string }>(
    `SELECT substr(application_name, $1) AS name, state, regexp_replace(left(query, 60), '\\s+', ' ', 'g') AS query FROM pg_stat_activity
      WHERE datname = current_database() AND application_name LIKE $2 AND xact_start IS NOT NULL
        AND state IN ('active', 'idle in transaction') AND query NOT ILIKE '%pgboss%'`, [APP_PREFIX.length + 1, `${APP_PREFIX}%`]);
  return new Map(rows.map((r) => [r.name, `${r.state === 'active' ? 'running' : 'after'} "${r.query.trim()}"`]));
}

/** The run's queue jobs (plan and partition chunks), how many were retried after their worker died, and the partitions' attempts. */
async function runJobs(runId: string): Promise<{ jobs: number; retried: number; maxRetry: number; attempts: number }> {
  const { rows } = await monitor.query<{ jobs: number; retried: number; max_retry: number }>(
    `SELECT count(*)::int AS jobs, (count(*) FILTER (WHERE retry_count > 0))::int AS retried, coalesce(max(retry_count), 0)::int AS max_retry
       FROM (SELECT retry_count, data FROM pgboss.job WHERE name IN ('eod-plan', 'eod-partition')
             UNION ALL SELECT retry_count, data FROM pgboss.archive WHERE name IN ('eod-plan', 'eod-partition')) j
      WHERE j.data->>'runId' = $1`, [runId]);
  const { rows: [parts] } = await monitor.query<{ attempts: number }>('SELECT coalesce(sum(attempts), 0)::int AS attempts FROM eod_run_partitions WHERE run_id = $1', [runId]);
  return { jobs: rows[0]!.jobs, retried: rows[0]!.retried, maxRetry: rows[0]!.max_retry, attempts: parts!.attempts };
}

function expectClean(run: RunRow) {
  expect(run).toMatchObject({ status: 'completed', failures: [] });
  expect(run.loans_total).toBeGreaterThan(0);
  expect(run.loans_done).toBe(run.loans_total);
  expect(run.partitions_done).toBe(run.partitions_total);
}

describe('EOD crash and concurrency', () => {
  it('a run whose workers are SIGKILLed at random points resumes to the state of an uninterrupted run; two workers end as one', { timeout: 300_000 }, async () => {
    const rnd = seededRandom(SEED ^ 0x5eed);
    const A = tenantA;

    // ---- A: kill workers at random points of the run --------------------------------------
    const tReady = Date.now();
    await until('A\'s workers to start', () => live().filter((w) => w.ready).length === ACTIVE + STANDBYS, 90_000, 100);
    await Promise.all(standingBy);
    console.log(`[eod-crash] waited ${Date.now() - tReady} ms for A's workers`);
    const standbys = workers.slice(ACTIVE, ACTIVE + STANDBYS);
    expect(standbys.every((w) => w.stopped)).toBe(true);
    const runA = await startRun(A);
    const t0 = Date.now();
    // B's and C's copies of the portfolio are built while A runs (their runs come after A's).
    const copy = async (label: string) => {
      const t = await createTenant(ctx, label);
      await buildPortfolio(ctx, t, specs, RUN_DATE);
      return t;
    };
    const othersBuilt = Promise.all([copy('eod-crash-B'), copy('eod-crash-C')]);
    othersBuilt.catch(() => {});
    const kills: { at: number; mode: string; doing: string[]; status: string; partitions: string; woke: string | null }[] = [];
    // The first point and one other kill at any moment; the rest wait (up to 3 s) for a worker inside a transaction.
    const anyAt = 1 + Math.floor(rnd() * (KILL_POINTS - 2));
    for (let i = 0; i < KILL_POINTS; i++) {
      const last = i === KILL_POINTS - 1;
      const mode = last ? 'last' : i === 0 || i === anyAt ? 'any' : 'in_transaction';
      await sleep(Math.round(i === 0 ? 100 + rnd() * 700 : 150 + rnd() * 500));
      let inTx = await workersInTransaction();
      if (mode === 'in_transaction') {
        const deadline = Date.now() + 3000;
        while (!working().some((w) => inTx.has(w.name)) && Date.now() < deadline) {
          await sleep(10);
          inTx = await workersInTransaction();
        }
      }
      const candidates = working();
      const busy = candidates.filter((w) => inTx.has(w.name));
      const pool = mode === 'in_transaction' && busy.length > 0 ? busy : candidates;
      const targets = last ? live() : pool.length > 0 ? [pool[Math.floor(rnd() * pool.length)]!] : [];
      expect(targets.length, `a worker to kill at point ${i + 1}`).toBeGreaterThan(0);
      const before = await runRow(runA);
      await Promise.all(targets.map((w) => kill(w)));
      // A standby takes the dead worker's place (no standby is left for the fifth point).
      const standby = last ? undefined : standbys.find((w) => w.stopped && !w.exited);
      if (standby) wake(standby);
      kills.push({
        at: Date.now() - t0, mode, doing: targets.map((w) => `${w.name} ${inTx.get(w.name) ?? 'outside a transaction'}`),
        status: before.status, partitions: `${before.partitions_done}/${before.partitions_total}`, woke: standby?.name ?? null,
      });
      if (before.status !== 'queued' && before.status !== 'running') break;
    }
    const afterKills = await runRow(runA);
    expect(live().map((w) => w.name), 'no worker left after the last point').toEqual([]);
    // Fresh workers resume the run; they are C's two workers afterwards.
    spawnWorker('c1');
    spawnWorker('c2');
    const resumedAt = Date.now() - t0;
    const doneA = await finished(runA);
    const jobsA = await runJobs(runA);
    const startedIn = (name: string) => {
      const w = workers.find((x) => x.name === name)!;
      return w.readyAt === null ? '?' : String(w.readyAt - t0 - resumedAt);
    };
    console.log(`[eod-crash] run A, SIGKILLs (ms after start: mode; run status and partitions done before it; what the killed worker was doing; standby woken):\n${
      kills.map((k) => `  ${String(k.at).padStart(6)} ms: ${k.mode}; ${k.status} ${k.partitions}; ${k.doing.join('; ')}; ${k.woke ?? '-'}`).join('\n')}\n`
      + `  after the last kill: ${afterKills.status} ${afterKills.partitions_done}/${afterKills.partitions_total}; fresh workers c1, c2 up ${startedIn('c1')} and ${startedIn('c2')} ms later; `
      + `completed ${Date.now() - t0} ms after start; `
      + `${jobsA.jobs} queue jobs, ${jobsA.retried} retried after their worker died (one up to ${jobsA.maxRetry} times); `
      + `partition attempts recorded: ${jobsA.attempts}`);

    const warnings = workers.flatMap(noteworthy).filter((l) => !/\[exit |DeprecationWarning|trace-deprecation/.test(l));
    if (warnings.length > 0) console.log(`[eod-crash] workers' warnings and errors during A:\n  ${warnings.join('\n  ')}`);

    // Every kill fell inside the run (the last one too: fresh workers resumed it), and kills
    // interrupted work in hand, whose jobs the queue retried.
    expect(kills.length).toBe(KILL_POINTS);
    for (const k of kills) expect(['queued', 'running'], `kill at ${k.at} ms found the run ${k.status}`).toContain(k.status);
    expect(afterKills.status, 'the run went on after its last worker was killed').toBe('running');
    expect(kills.filter((k) => k.doing.some((d) => / (running|after) "/.test(d))).length, 'kills of a worker inside a transaction').toBeGreaterThanOrEqual(2);
    expect(jobsA.retried, 'queue jobs retried after their worker died').toBeGreaterThanOrEqual(1);
    expectClean(doneA);

    const tBuild = Date.now();
    const [B, C] = await othersBuilt;
    console.log(`[eod-crash] B and C built ${Date.now() - tBuild} ms after A completed`);

    // ---- C: two workers share one run -----------------------------------------------------
    await until('C\'s workers to start', () => working().length === 2, 90_000, 100);
    const runC = await startRun(C);
    const tC = Date.now();
    const seenC = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const name of (await workersInTransaction()).keys()) seenC.add(name);
        await sleep(15);
      }
    })();
    const doneC = await finished(runC).finally(() => { sampling = false; });
    await sampler;
    console.log(`[eod-crash] run C: ${Date.now() - tC} ms; workers seen closing its partitions: ${[...seenC].sort().join(', ')}`);
    expectClean(doneC);
    expect([...seenC].sort(), 'both workers worked run C').toEqual(['c1', 'c2']);

    // ---- B: one worker, uninterrupted (the reference) --------------------------------------
    await kill(workers.find((w) => w.name === 'c2')!, 'SIGTERM');
    expect(live().map((w) => w.name)).toEqual(['c1']);
    const runB = await startRun(B);
    const tB = Date.now();
    const doneB = await finished(runB);
    console.log(`[eod-crash] run B: ${Date.now() - tB} ms, ${doneB.partitions_total} partitions of ${doneB.loans_total} loans`);
    expectClean(doneB);
    expect(live().map((w) => w.name), 'B\'s worker was not interrupted').toEqual(['c1']);
    expect((await runJobs(runB)).retried).toBe(0);

    // ---- The three states are one ---------------------------------------------------------
    for (const run of [doneA, doneC]) {
      expect({ loans: run.loans_total, partitions: run.partitions_total }).toEqual({ loans: doneB.loans_total, partitions: doneB.partitions_total });
    }
    const [stateA, stateB, stateC] = [await eodState(ctx, A.companyId), await eodState(ctx, B.companyId), await eodState(ctx, C.companyId)];
    for (const kind of ['loans', 'demands', 'accruals', 'settlements', 'records', 'limits'] as const) {
      expect(lineDifferences(stateA[kind], stateB[kind]), `${kind}: A (killed) vs B (one worker)`).toEqual([]);
      expect(lineDifferences(stateC[kind], stateB[kind]), `${kind}: C (two workers) vs B (one worker)`).toEqual([]);
      expect(stateA[kind].length).toBe(stateB[kind].length);
      expect(stateC[kind].length).toBe(stateB[kind].length);
    }
    console.log(`[eod-crash] equal in A, B and C: ${stateB.loans.length} loans, ${stateB.demands.length} demands, ${stateB.accruals.length} accrual rows, `
      + `${stateB.settlements.length} settlement lines (${stateB.settlements.filter((l) => l.includes('|excess')).length} of them EOD's from held excess), `
      + `${stateB.records.length} records, ${stateB.limits.length} accounts' limits`);

    // No accrual row twice: not per unique key, and not per (demand, date, component) in any version.
    const companies = [A.companyId, B.companyId, C.companyId];
    const dup = await ctx.db.pool.query(
      `SELECT company_id, demand_id, accrual_date, component, count(*)::int AS n, array_agg(version) AS versions FROM accruals
        WHERE company_id = ANY($1::uuid[]) AND reverses_id IS NULL GROUP BY 1, 2, 3, 4 HAVING count(*) > 1 LIMIT 20`, [companies]);
    expect(dup.rows).toEqual([]);
    const { rows: [shape] } = await ctx.db.pool.query(
      `SELECT (count(*) FILTER (WHERE reverses_id IS NOT NULL OR version <> 0))::int AS rewritten, array_agg(DISTINCT eod_run_id) AS runs,
              (count(*) FILTER (WHERE component = 'OI'))::int AS oi, (count(*) FILTER (WHERE component = 'PI' AND tax_paise > 0))::int AS pi_taxed,
              (count(*) FILTER (WHERE in_suspense))::int AS suspense
         FROM accruals WHERE company_id = $1`, [A.companyId]);
    // One run wrote them all, nothing was rewritten, and the data reaches OI, taxed PI and NPA suspense.
    expect(shape).toMatchObject({ rewritten: 0, runs: [runA] });
    expect(shape.oi).toBeGreaterThan(0);
    expect(shape.pi_taxed).toBeGreaterThan(0);
    expect(shape.suspense).toBeGreaterThan(0);
    const behind = await ctx.db.pool.query(
      `SELECT company_id, count(*)::int AS n FROM loans WHERE company_id = ANY($1::uuid[]) AND status IN ('active', 'overdue', 'npa')
          AND (last_eod_date IS NULL OR last_eod_date <> $2::date) GROUP BY 1`, [companies, RUN_DATE]);
    expect(behind.rows, 'open loans not closed through the run date').toEqual([]);
    const classes = await ctx.db.pool.query(`SELECT asset_class, status, count(*)::int AS n FROM loans WHERE company_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`, [B.companyId]);
    console.log(`[eod-crash] loans of each tenant by asset class/status: ${classes.rows.map((r) => `${r.asset_class}/${r.status} ${r.n}`).join(', ')}`);

    // Running the date again finds nothing to close and changes nothing.
    const again = await ctx.http().post('/v1/lms/emis/run_eod/').set('Authorization', A.bearer('maker')).send({ date: RUN_DATE });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ status: 'completed', loans_total: 0 });
    expect((await eodState(ctx, A.companyId)).accruals).toEqual(stateA.accruals);
  });
});
