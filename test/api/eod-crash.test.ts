// Crash test of End of day (domain.md section 6, "idempotent and resumable"): worker processes
// (`src/jobs/worker.ts`, as `npm run worker` runs it) are SIGKILLed at random points of a run,
// the run resumes on fresh workers, and the final state of every loan, demand and accrual row
// equals that of the same portfolio closed by one uninterrupted worker, and by two workers
// sharing a run. No accrual row is written twice.
//
// Three tenants hold the same portfolio (test/helpers/eod-data.ts, one seed):
//   A: run with two workers; at 7 seeded-random points a worker is SIGKILLed (preferably one
//      caught inside a database transaction: a partition being closed) and replaced; at the last
//      point every live worker is killed at once and fresh workers resume the run;
//   C: run with two workers at once (the two that resumed A);
//   B: run with one worker (one of C's two, the other stopped first), never interrupted.
// Runs go one after another: workers serve every company's jobs, so each run's worker set is
// exactly the live processes while it runs. EOD_SEED=<n> replays another data/kill schedule.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { buildPortfolio, eodState, lineDifferences, portfolioSpec, seededRandom } from '../helpers/eod-data.js';

const SEED = Number(process.env.EOD_SEED ?? 20241231);
const ACCOUNTS = 24;
const RUN_DATE = '2024-08-31';
const PARTITION_LOANS = '2';
const KILL_POINTS = 7;
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
  exited: boolean;
  exitedPromise: Promise<void>;
  log: string[];
}

const workers: WorkerProc[] = [];
const live = () => workers.filter((w) => !w.exited);

function spawnWorker(name: string): WorkerProc {
  const url = new URL(inject('databaseUrl'));
  // Names the worker's database sessions, so the test can see which worker is inside a transaction.
  url.searchParams.set('application_name', APP_PREFIX + name);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, {
    DATABASE_URL: url.toString(), EOD_WORKERS: '1', EOD_PARTITION_LOANS: PARTITION_LOANS, EOD_JOB_TIMEOUT_S: '5',
    EOD_QUEUE_MAINTENANCE_S: '1', EOD_QUEUE_POLL_MS: '500', EOD_SCHEDULE_IST: 'off', LOG_LEVEL: 'info',
  });
  // node --import tsx (not the tsx CLI, which runs the script in a child process a SIGKILL would miss).
  const proc = spawn(process.execPath, ['--import', 'tsx', '--import', STDIN_GUARD, 'src/jobs/worker.ts'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let resolveExit!: () => void;
  const w: WorkerProc = { name, proc, ready: false, exited: false, exitedPromise: new Promise((r) => { resolveExit = r; }), log: [] };
  const keep = (line: string) => {
    w.log.push(line);
    if (w.log.length > 300) w.log.splice(0, 100);
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    keep(line);
    if (line.includes('"msg":"worker started"')) w.ready = true;
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

/** Only the worker processes' output lines at warn or above (and exits), for the report. */
function noteworthy(w: WorkerProc): string[] {
  return w.log.filter((l) => l.startsWith('[exit') || !l.startsWith('{') || /"level":(4|5|6)\d/.test(l)).map((l) => `${w.name}: ${l.slice(0, 600)}`);
}

let ctx: TestContext;
let tenants: { A: Tenant; B: Tenant; C: Tenant };

beforeAll(async () => {
  // A's first two workers start while the data is built (they find nothing to do until A's run).
  spawnWorker('a1');
  spawnWorker('a2');
  ctx = await buildTestApp({ env: { EOD_WORKERS: '0' } });
  const [A, B, C] = await Promise.all([createTenant(ctx, 'eod-crash-A'), createTenant(ctx, 'eod-crash-B'), createTenant(ctx, 'eod-crash-C')]);
  tenants = { A: A!, B: B!, C: C! };
  const specs = portfolioSpec(SEED, ACCOUNTS);
  const started = Date.now();
  await Promise.all([A, B, C].map((t) => buildPortfolio(ctx, t!, specs)));
  console.log(`[eod-crash] seed ${SEED}: ${specs.length} accounts, ${specs.reduce((s, a) => s + a.loans.length, 0)} loans per tenant, built in ${Date.now() - started} ms`);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => kill(w)));
  await ctx?.close();
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
  const { rows } = await ctx.db.pool.query<RunRow>(
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
    const parts = (await ctx.db.pool.query('SELECT seq, status, attempts, loans, failures FROM eod_run_partitions WHERE run_id = $1 AND status <> $2 ORDER BY seq', [runId, 'done'])).rows;
    const jobs = (await ctx.db.pool.query(
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
  const { rows } = await ctx.db.pool.query<{ name: string; state: string; query: string }>(
    `SELECT substr(application_name, $1) AS name, state, regexp_replace(left(query, 60), '\\s+', ' ', 'g') AS query FROM pg_stat_activity
      WHERE datname = current_database() AND application_name LIKE $2 AND xact_start IS NOT NULL
        AND state IN ('active', 'idle in transaction') AND query NOT ILIKE '%pgboss%'`, [APP_PREFIX.length + 1, `${APP_PREFIX}%`]);
  return new Map(rows.map((r) => [r.name, `${r.state === 'active' ? 'running' : 'after'} "${r.query.trim()}"`]));
}

async function partitionJobs(runId: string): Promise<{ jobs: number; retried: number; maxRetry: number }> {
  const { rows } = await ctx.db.pool.query<{ jobs: number; retried: number; max_retry: number }>(
    `SELECT count(*)::int AS jobs, (count(*) FILTER (WHERE retry_count > 0))::int AS retried, coalesce(max(retry_count), 0)::int AS max_retry
       FROM (SELECT retry_count, data FROM pgboss.job WHERE name IN ('eod-plan', 'eod-partition')
             UNION ALL SELECT retry_count, data FROM pgboss.archive WHERE name IN ('eod-plan', 'eod-partition')) j
      WHERE j.data->>'runId' = $1`, [runId]);
  return { jobs: rows[0]!.jobs, retried: rows[0]!.retried, maxRetry: rows[0]!.max_retry };
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
    const { A, B, C } = tenants;

    // ---- A: kill workers at random points of the run --------------------------------------
    await until('the first workers to start', () => live().filter((w) => w.ready).length === 2, 90_000, 100);
    const runA = await startRun(A);
    const t0 = Date.now();
    const kills: { at: number; mode: string; killed: string[]; doing: string[]; status: string; partitions: string }[] = [];
    let spawned = 2;
    for (let i = 0; i < KILL_POINTS; i++) {
      const last = i === KILL_POINTS - 1;
      // The first point is early (the plan may be in hand), the last kills every live worker at
      // once; in between, most points wait for a worker caught inside a transaction.
      const mode = last ? 'all' : i === 0 || rnd() < 0.25 ? 'any' : 'in_transaction';
      await sleep(Math.round(i === 0 ? 100 + rnd() * 700 : 500 + rnd() * 1500));
      if (!last) await until('a started worker to kill', () => live().some((w) => w.ready), 90_000, 20);
      let inTx = await workersInTransaction();
      if (mode === 'in_transaction') {
        const deadline = Date.now() + 3000;
        while (!live().some((w) => w.ready && inTx.has(w.name)) && Date.now() < deadline) {
          await sleep(10);
          inTx = await workersInTransaction();
        }
      }
      const ready = live().filter((w) => w.ready);
      const busy = ready.filter((w) => inTx.has(w.name));
      const pool = mode === 'in_transaction' && busy.length > 0 ? busy : ready;
      const targets = mode === 'all' ? live() : [pool[Math.floor(rnd() * pool.length)]!];
      const before = await runRow(runA);
      await Promise.all(targets.map((w) => kill(w)));
      kills.push({
        at: Date.now() - t0, mode, killed: targets.map((w) => w.name),
        doing: targets.map((w) => `${w.name} ${w.ready ? inTx.get(w.name) ?? 'outside a transaction' : 'starting'}`),
        status: before.status, partitions: `${before.partitions_done}/${before.partitions_total}`,
      });
      if (before.status !== 'queued' && before.status !== 'running') break;
      if (!last) spawnWorker(`a${++spawned}`);
    }
    const afterKills = await runRow(runA);
    // Fresh workers resume the run; they are C's two workers afterwards.
    spawnWorker('c1');
    spawnWorker('c2');
    const doneA = await finished(runA);
    const jobsA = await partitionJobs(runA);
    console.log(`[eod-crash] run A, kills (ms after start: mode, run status and partitions done before it, what each killed worker was doing):\n${
      kills.map((k) => `  ${String(k.at).padStart(6)} ms: ${k.mode}, ${k.status} ${k.partitions}, ${k.doing.join('; ')}`).join('\n')}\n`
      + `  after the last kill: ${afterKills.status} ${afterKills.partitions_done}/${afterKills.partitions_total}; completed ${Date.now() - t0} ms after start; `
      + `queue jobs ${jobsA.jobs}, retried ${jobsA.retried} (at most ${jobsA.maxRetry} times)`);

    // Every kill fell inside the run (the last one, of every worker at once, too), and kills
    // interrupted work in hand: jobs whose worker died were retried.
    expect(kills.length).toBe(KILL_POINTS);
    for (const k of kills) expect(['queued', 'running'], `kill at ${k.at} ms found the run ${k.status}`).toContain(k.status);
    expect(afterKills.status, 'the run went on after every worker was killed').toBe('running');
    expect(kills.filter((k) => k.doing.some((d) => / (running|after) "/.test(d))).length, 'kills that caught a worker inside a transaction').toBeGreaterThanOrEqual(3);
    expect(jobsA.retried, 'queue jobs retried after their worker died').toBeGreaterThanOrEqual(1);
    expectClean(doneA);

    // ---- C: two workers share one run -----------------------------------------------------
    for (const w of live()) if (!w.name.startsWith('c')) await kill(w);
    await until('C\'s workers to start', () => live().filter((w) => w.ready).length === 2, 90_000, 100);
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
    expect((await partitionJobs(runB)).retried).toBe(0);

    // ---- The three states are one ---------------------------------------------------------
    for (const run of [doneA, doneC]) {
      expect({ loans: run.loans_total, partitions: run.partitions_total }).toEqual({ loans: doneB.loans_total, partitions: doneB.partitions_total });
    }
    const [stateA, stateB, stateC] = [await eodState(ctx, A.companyId), await eodState(ctx, B.companyId), await eodState(ctx, C.companyId)];
    for (const kind of ['loans', 'demands', 'accruals'] as const) {
      expect(lineDifferences(stateA[kind], stateB[kind]), `${kind}: A (killed) vs B (one worker)`).toEqual([]);
      expect(lineDifferences(stateC[kind], stateB[kind]), `${kind}: C (two workers) vs B (one worker)`).toEqual([]);
      expect(stateA[kind].length).toBe(stateB[kind].length);
      expect(stateC[kind].length).toBe(stateB[kind].length);
    }
    console.log(`[eod-crash] equal in A, B and C: ${stateB.loans.length} loans, ${stateB.demands.length} demands, ${stateB.accruals.length} accrual rows`);

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
