// npm run bench:eod [-- --loans N | --million] [--rounds R] [--modes inproc,procs] [--procs K]
//   [--proc-workers W] [--inproc-workers W] [--partition P] [--poll-ms MS] [--payments] [--set name=value]...
//   [--profile] [--keep]
//
// End-of-day throughput (domain.md section 6). Generates N loans (default 100,000; --million for
// 1,000,000) set-based in SQL: 12-month EMI loans disbursed over the last 11 months with their
// real schedules (scheduleFor over the terms snapshot of a loan created once through the
// services), past installments paid, about 12% of loans with unpaid past-due installments
// (DPD 1-30, 31-60, 61-90 and NPA). Then closes one business date per measurement through the
// real code path (EodService.start, the pg-boss queue, partitions closed by workers in this
// process or by `src/jobs/worker.ts` processes) and prints loans/s and the run's step timings
// beside a baseline measured in the same run on the same database: one set-based INSERT of an
// accrual row per loan plus one UPDATE of every loan, on copies of the two tables (same columns,
// indexes and constraints) so the EOD data is not disturbed. Baseline and EOD alternate, each on
// the next business date; between measurements the touched tables are vacuumed and analysed and
// a checkpoint is forced (the local server runs with autovacuum off), outside the timings.
//
// Uses DATABASE_URL's server when set, else an embedded PostgreSQL; creates and drops its own
// database. Results are also written to bench/results/eod-<timestamp>.json. --payments also
// generates the payment history (a processed record and P and NI settlement rows per paid
// installment) that EOD's reads have to skip past; --profile runs the worker processes under
// `node --cpu-prof` and prints where their CPU time goes; --keep keeps the database; --set
// name=value sets a server setting on the bench database (every session: baseline and EOD alike),
// e.g. --set jit=off; --rounds 0 only generates (with --keep, a database to inspect).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { Database } from '../src/db/database.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { addDays } from '../src/domain/dates.js';
import { newId } from '../src/domain/ids.js';
import { disbursalFor, scheduleFor } from '../src/domain/loan-terms.js';
import { istDateOf, type BusinessDate } from '../src/domain/time.js';
import { startQueue, type JobQueue } from '../src/jobs/queue.js';
import { InitiateLoanParamsIn, paramsFromJson } from '../src/modules/loan-params/schemas.js';
import type { StepTiming } from '../src/modules/eod/partition.js';
import { createServices, type Services } from '../src/services.js';
import { createDatabase, dropDatabase } from '../test/helpers/global-setup.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export type EodMode = 'inproc' | 'procs';

export interface EodBenchOptions {
  loans: number;
  /** Measurements per mode; baseline and EOD alternate, each on the next business date. */
  rounds?: number;
  modes?: EodMode[];
  inprocWorkers?: number;
  procs?: number;
  procWorkers?: number;
  partitionLoans?: number;
  pollMs?: number;
  profile?: boolean;
  keep?: boolean;
  /** Also generate the payment history: a processed record and its P and NI settlement rows per paid installment. */
  payments?: boolean;
  /** Server settings for the bench database (ALTER DATABASE ... SET), e.g. { jit: 'off' }: every session, baseline and EOD alike. */
  dbSettings?: Record<string, string>;
}

/** The loan params of every generated loan: a realistic 12-month EMI product with overdue interest and penal charges. */
const PARAMS = {
  roi_value: [{ days: -1, value: 18 }], emi_count: 12, emi_frequency: 'monthly', days_in_year: 365, days_in_month: 'actual',
  pf_value: 2, pf_value_type: 'percentage', pf_gst: 18,
  penal_roi_value: [{ days: -1, value: 24 }], penal_roi_value_type: 'percentage', penal_tax: 18, penal_lag_days_after_due: 3,
};
/** Principal amounts (rupees), loan g takes AMOUNTS[g % 8]. */
const AMOUNTS = [25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 300_000, 500_000].map((r) => BigInt(r) * 100n);
/** Disbursement dates spread evenly over this many days before the first business date. */
const SPREAD_DAYS = 330;
/** Loans per account: loan g belongs to account ((g - 1) % A) + 1, A = N / LOANS_PER_ACCOUNT (a sixth of accounts hold two loans). */
const LOANS_PER_ACCOUNT = 1.2;

interface Measurement {
  round: number;
  kind: 'baseline' | EodMode;
  label: string;
  date: BusinessDate;
  ms: number;
  loans_per_s: number;
  detail: Record<string, unknown>;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eodBench(input: EodBenchOptions): Promise<unknown> {
  const o = {
    rounds: 1, modes: ['inproc', 'procs'] as EodMode[], inprocWorkers: 1, procs: 2, procWorkers: 1, partitionLoans: 1000, pollMs: 500,
    profile: false, keep: false, payments: false, dbSettings: {} as Record<string, string>, ...input,
  };
  let serverUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | null = null;
  let dir: string | null = null;
  if (!serverUrl) {
    dir = mkdtempSync(join(tmpdir(), 'lms-bench-eod-'));
    const embedded = await startEmbeddedPostgres({ dataDir: dir, port: 54398, persistent: false });
    serverUrl = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const code = codeVersion(); // at the start: worker processes load the code as it is now
  const name = `lms_bench_eod_${Date.now()}`;
  const url = await createDatabase(serverUrl, name);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileDir = resolve(ROOT, `bench/results/eod-prof-${stamp}`);
  await migrate(url);
  for (const [key, value] of Object.entries(o.dbSettings)) {
    if (!/^[a-z_.]+$/.test(key)) throw new Error(`--set: bad setting name ${key}`);
    const admin0 = new pg.Client({ connectionString: url });
    await admin0.connect();
    await admin0.query(`ALTER DATABASE "${name}" SET ${key} = ${admin0.escapeLiteral(value)}`).finally(() => admin0.end());
  }
  const db = new Database({ url, poolMax: o.inprocWorkers + 4 });
  const services = createServices(db, { jwtSecret: 'b'.repeat(32), accessTtlSeconds: 60, refreshTtlSeconds: 60 }, { partitionLoans: o.partitionLoans });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const measurements: Measurement[] = [];
    const today = istDateOf(new Date());
    const dates = o.rounds * o.modes.length;
    // Business dates first..today-1, one per measurement pair; the data is as of EOD of `asOf`.
    const first = addDays(today, -dates);
    const asOf = addDays(first, -1);
    const server = (await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    const settings = Object.fromEntries((await admin.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'max_wal_size', 'synchronous_commit', 'autovacuum', 'jit', 'checkpoint_timeout')`)).rows
      .map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
    console.log(`\nEOD bench: ${fmt(o.loans)} loans, PostgreSQL ${server} (${JSON.stringify(settings)}), database ${name}`
      + `${Object.keys(o.dbSettings).length ? `, database settings ${JSON.stringify(o.dbSettings)}` : ''}`);

    const gen = await generate(admin, services, o.loans, asOf, o.payments);
    console.log(`generated ${fmt(o.loans)} loans on ${fmt(gen.accounts)} accounts, ${fmt(gen.demands)} demands, ${fmt(gen.records)} records, ${fmt(gen.settlements)} settlements, ${gen.overdueLoans} overdue loans `
      + `(${(100 * gen.overdueLoans / o.loans).toFixed(1)}%: ${JSON.stringify(gen.dpdBuckets)}), as of EOD ${asOf}`);
    console.log(`  generation: ${Object.entries(gen.ms).map(([k, v]) => `${k} ${secs(v)} s`).join(', ')}`);

    let dateIx = 0;
    for (let round = 1; round <= o.rounds; round++) {
      for (const mode of o.modes) {
        const date = addDays(first, dateIx++);
        await collectDay(admin, gen.companyId, date);
        await settle(admin);
        const base = await baseline(admin, gen.companyId, date);
        measurements.push({ round, kind: 'baseline', label: 'baseline: INSERT 1 accrual/loan + UPDATE all loans', date, ms: base.ms, loans_per_s: o.loans / (base.ms / 1000), detail: base.detail });
        await settle(admin);
        const eod = await runEod({ o, mode, url, db, services, admin, companyId: gen.companyId, templateCompanyId: gen.templateCompanyId, date, profileDir });
        const label = mode === 'inproc' ? `EOD in-process, ${o.inprocWorkers} worker${o.inprocWorkers > 1 ? 's' : ''}` : `EOD ${o.procs} worker processes x ${o.procWorkers}`;
        measurements.push({ round, kind: mode, label, date, ms: eod.ms, loans_per_s: o.loans / (eod.ms / 1000), detail: eod.detail });
        const check = eod.detail.check as { ok: boolean; problems: string[] };
        console.log(`  round ${round} ${date}: baseline ${secs(base.ms)} s | ${label} ${secs(eod.ms)} s (${fmt(o.loans / (eod.ms / 1000))} loans/s, x${(eod.ms / base.ms).toFixed(1)})`
          + `${check.ok ? '' : `  CHECK FAILED: ${check.problems.join('; ')}`}`);
      }
    }

    if (measurements.length === 0) {
      console.log('\n--rounds 0: data generated, nothing measured');
      return { loans: o.loans, options: o, code, generation: gen };
    }
    // Report.
    const baseMs = median(measurements.filter((m) => m.kind === 'baseline').map((m) => m.ms));
    console.log(`\n${fmt(o.loans)} loans, one business date per measurement, partitions of ${o.partitionLoans} loans, queue poll ${o.pollMs} ms; medians over ${o.rounds} round(s)\n`);
    console.log('measurement'.padEnd(52), 'seconds'.padStart(9), 'loans/s'.padStart(10), 'x baseline time'.padStart(16));
    const summary: Record<string, unknown>[] = [];
    const groups = [...new Set(measurements.map((m) => m.label))];
    for (const label of groups) {
      const ms = median(measurements.filter((m) => m.label === label).map((m) => m.ms));
      summary.push({ label, median_ms: Math.round(ms), loans_per_s: Math.round(o.loans / (ms / 1000)), ratio_to_baseline: Number((ms / baseMs).toFixed(2)) });
      console.log(label.padEnd(52), secs(ms).padStart(9), fmt(o.loans / (ms / 1000)).padStart(10), (ms / baseMs).toFixed(2).padStart(16));
    }
    const baseDetail = measurements.find((m) => m.kind === 'baseline')!.detail;
    console.log(`\nbaseline parts (first round): ${JSON.stringify(baseDetail)}`);
    // CPU time is what the work costs whatever else the machine is doing (wall time is not).
    const cpuOf = (m: Measurement) => m.detail.cpu_ms as { postgres: number | null; node: number | null };
    const cpuTotal = (m: Measurement) => { const x = cpuOf(m); return x.postgres === null || x.node === null ? Number.NaN : x.postgres + x.node; };
    const baseCpu = median(measurements.filter((m) => m.kind === 'baseline').map(cpuTotal));
    console.log(`\n${'CPU time (medians)'.padEnd(52)} ${'postgres s'.padStart(10)} ${'node s'.padStart(8)} ${'us/loan'.padStart(8)} ${'x baseline CPU'.padStart(15)}`);
    for (const label of groups) {
      const ms = measurements.filter((m) => m.label === label);
      const pgMs = median(ms.map((m) => cpuOf(m).postgres ?? Number.NaN));
      const nodeMs = median(ms.map((m) => cpuOf(m).node ?? Number.NaN));
      const total = median(ms.map(cpuTotal));
      (summary.find((x) => x.label === label) as Record<string, unknown>).cpu = { postgres_ms: pgMs, node_ms: nodeMs, ratio_to_baseline: Number((total / baseCpu).toFixed(2)) };
      console.log(`${label.padEnd(52)} ${secs(pgMs).padStart(10)} ${secs(nodeMs).padStart(8)} ${fmt((1000 * total) / o.loans).padStart(8)} ${(total / baseCpu).toFixed(2).padStart(15)}`);
    }
    for (const m of measurements.filter((x) => x.kind !== 'baseline')) {
      const d = m.detail as { steps: StepTiming[]; timeline: Record<string, number>; partitions: Record<string, number>; check: { accruals: Record<string, number>; problems: string[] } };
      console.log(`\n${m.label}, round ${m.round} (${m.date}): ${secs(m.ms)} s wall, ${fmt(m.loans_per_s)} loans/s`);
      console.log(`  timeline (s from start): ${Object.entries(d.timeline).map(([k, v]) => `${k} ${secs(v)}`).join(', ')}`);
      console.log(`  partitions: ${JSON.stringify(d.partitions)}`);
      console.log(`  server sessions, sampled every 100 ms (active: wait event or CPU; idle in transaction: waiting for node): ${JSON.stringify(m.detail.pg_waits)}`);
      const total = d.steps.reduce((s, x) => s + Number(x.ms), 0);
      console.log(`  ${'step (ms summed over partitions)'.padEnd(34)} ${'ms'.padStart(9)} ${'share'.padStart(6)} ${'rows'.padStart(10)}`);
      for (const s of d.steps) console.log(`  ${s.name.padEnd(34)} ${fmt(Number(s.ms)).padStart(9)} ${`${(100 * Number(s.ms) / total).toFixed(0)}%`.padStart(6)} ${fmt(Number(s.rows)).padStart(10)}`);
      console.log(`  accrual rows written for ${m.date}: ${JSON.stringify(d.check.accruals)}${d.check.problems.length ? `  PROBLEMS: ${d.check.problems.join('; ')}` : '  (checks ok)'}`);
    }
    let profile: unknown = null;
    if (o.profile && o.modes.includes('procs')) profile = summariseProfiles(profileDir);
    const result = {
      loans: o.loans, options: o, code, server, settings, generation: gen, summary, measurements, profile,
    };
    mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
    const file = resolve(ROOT, `bench/results/eod-${stamp}.json`);
    writeFileSync(file, JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
    console.log(`\nresults: ${file}`);
    return result;
  } finally {
    await admin.end().catch(() => {});
    await db.close();
    if (!o.keep) await dropDatabase(serverUrl, name);
    else console.log(`kept database ${name}`);
    if (stopEmbedded) await stopEmbedded();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Creates the bench company and its accounts, loans and demands set-based. The loan terms are
 * the snapshot of one loan created through the services (in a company of its own, so it is not
 * part of the EOD runs); schedules come from scheduleFor over those terms, one per
 * (disbursement date, amount).
 */
async function generate(admin: pg.Client, services: Services, n: number, asOf: BusinessDate, payments: boolean) {
  const ms: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    ms[name] = now - mark;
    mark = now;
  };
  await admin.query('SET statement_timeout = 0');
  await admin.query('SET synchronous_commit = off');
  // Foreign-key triggers off while generating (the rows are consistent by construction): a
  // per-row FK check would make the 12 demands per loan the slowest part of the bench by far.
  await admin.query('SET session_replication_role = replica');
  // Secondary indexes of the big tables are dropped while loading and built again afterwards
  // (exactly as the migrations define them): a sorted build is far faster than row-by-row inserts.
  await admin.query(`SET maintenance_work_mem = '512MB'`);
  const indexes = (await admin.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename IN ('loans', 'demands', 'records', 'settlements')
        AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))`)).rows;
  // The template loan, through the services.
  const template = await services.companies.create('bench-eod-template');
  const tby = { companyId: template.id, actor: 'bench' };
  const lead = { lead_id: newId(), program_id: newId() };
  const account = await services.accounts.create(tby, { name: 'Template', sanctioned_limit: 10n ** 12n, ...lead });
  await services.loanParams.initiate(tby, InitiateLoanParamsIn.parse({ ...lead, ...PARAMS }));
  const { loan } = await services.loans.initiateDisbursement(tby, account.id, { amount: AMOUNTS[3]! });
  await services.loans.activate(tby, loan.id, addDays(asOf, -40));
  const tpl = (await admin.query<{ kind: string; terms: string; loan_params_id: string | null; params_version: number | null; line_type: string }>(
    'SELECT kind, terms::text AS terms, loan_params_id, params_version, line_type FROM loans WHERE id = $1', [loan.id])).rows[0]!;
  const params = paramsFromJson(JSON.parse(tpl.terms));
  const company = await services.companies.create('bench-eod');
  lap('template');

  // Schedules: one per (disbursement day, amount), through the real schedule code.
  const days: { ix: number; disb: string; maturity: string; pastDue: number; dues: string[] }[] = [];
  const sched: { day: number[]; amt: number[]; num: number[]; start: string[]; due: string[]; p: string[]; ni: string[] } = { day: [], amt: [], num: [], start: [], due: [], p: [], ni: [] };
  for (let ix = 0; ix < SPREAD_DAYS; ix++) {
    const disb = addDays(asOf, -SPREAD_DAYS + ix);
    let dues: string[] = [];
    AMOUNTS.forEach((amount, a) => {
      const s = scheduleFor(params, amount, disb);
      dues = s.installments.map((i) => i.dueDate);
      for (const i of s.installments) {
        sched.day.push(ix); sched.amt.push(a); sched.num.push(i.number); sched.start.push(i.periodStart); sched.due.push(i.dueDate);
        sched.p.push(i.principal.toString()); sched.ni.push(i.interest.toString());
      }
    });
    days.push({ ix, disb, maturity: dues.at(-1)!, pastDue: dues.filter((d) => d <= asOf).length, dues });
  }
  const net = AMOUNTS.map((a) => disbursalFor(params, a, asOf).netDisbursal.toString());
  await admin.query(`CREATE UNLOGGED TABLE bench_days (day_ix int PRIMARY KEY, disb date, maturity date, past_due int, dues date[])`);
  await admin.query(`INSERT INTO bench_days SELECT ix, disb, maturity, past_due, dues::date[] FROM unnest($1::int[], $2::date[], $3::date[], $4::int[], $5::text[]) AS u(ix, disb, maturity, past_due, dues)`,
    [days.map((d) => d.ix), days.map((d) => d.disb), days.map((d) => d.maturity), days.map((d) => d.pastDue), days.map((d) => `{${d.dues.join(',')}}`)]);
  await admin.query(`CREATE UNLOGGED TABLE bench_amounts (amt_ix int PRIMARY KEY, amount bigint, net bigint)`);
  await admin.query(`INSERT INTO bench_amounts SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[])`, [AMOUNTS.map((_, i) => i), AMOUNTS.map(String), net]);
  await admin.query(`CREATE UNLOGGED TABLE bench_sched (day_ix int, amt_ix int, number int, period_start date, due_date date, p bigint, ni bigint, PRIMARY KEY (day_ix, amt_ix, number))`);
  await admin.query(`INSERT INTO bench_sched SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::date[], $5::date[], $6::bigint[], $7::bigint[])`,
    [sched.day, sched.amt, sched.num, sched.start, sched.due, sched.p, sched.ni]);
  lap('schedules');

  // Time-ordered ids like newId() (UUIDv7: ms timestamp, version 7, random bits), so rows land
  // in primary-key order as they would in production.
  await admin.query(`CREATE FUNCTION pg_temp.uuid7(ms bigint, salt text) RETURNS uuid LANGUAGE sql IMMUTABLE AS
    $$ SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(md5(salt), 1, 3) || '8' || substr(md5(salt), 4, 15))::uuid $$`);
  const accounts = Math.ceil(n / LOANS_PER_ACCOUNT);
  const accMs = Date.now() - 400 * 86_400_000;
  const loanMs = accMs + accounts + 1000;
  for (const ix of indexes) await admin.query(`DROP INDEX "${ix.name}"`);
  await admin.query(
    `INSERT INTO accounts (id, company_id, name, status, sanctioned_limit_paise, available_limit_paise, created_at, updated_at)
     SELECT pg_temp.uuid7($2::bigint + a, 'a' || a), $1, 'Borrower ' || a, 'active', 100000000, 50000000, now(), now() FROM generate_series(1, $3) a`,
    [company.id, accMs, accounts]);
  lap('accounts');

  // The plan: per loan its schedule and how many of its past-due installments are unpaid
  // (g % 100: 0-6 one, 7-9 two, 10 three, 11 five; the rest none).
  await admin.query(
    `CREATE UNLOGGED TABLE bench_plan AS
     SELECT b.g, pg_temp.uuid7($1::bigint + b.g, 'l' || b.g) AS id,
            pg_temp.uuid7($2::bigint + (b.g - 1) % $3 + 1, 'a' || ((b.g - 1) % $3 + 1)) AS account_id,
            b.day_ix, b.amt_ix, b.want, d.disb, d.maturity, d.past_due,
            least(b.want, d.past_due) AS unpaid, d.past_due - least(b.want, d.past_due) + 1 AS first_unpaid,
            CASE WHEN least(b.want, d.past_due) > 0 THEN ($4::date - d.dues[d.past_due - least(b.want, d.past_due) + 1]) + 1 ELSE 0 END AS dpd
       FROM (SELECT g, ((g - 1)::bigint * ${SPREAD_DAYS} / $5)::int AS day_ix, g % ${AMOUNTS.length} AS amt_ix,
                    CASE WHEN g % 100 < 7 THEN 1 WHEN g % 100 < 10 THEN 2 WHEN g % 100 < 11 THEN 3 WHEN g % 100 < 12 THEN 5 ELSE 0 END AS want
               FROM generate_series(1, $5::int) g) b
       JOIN bench_days d ON d.day_ix = b.day_ix`,
    [loanMs, accMs, accounts, asOf, n]);
  await admin.query('CREATE UNIQUE INDEX ON bench_plan (id)');
  await admin.query('ANALYZE bench_plan, bench_sched, bench_days, bench_amounts');
  lap('plan');
  // Loans (NPA is borrower-level: an account with an NPA loan has all its loans NPA).
  await admin.query(
    `INSERT INTO loans (id, company_id, account_id, ref_id, status, kind, principal_paise, sanctioned_paise, disbursed_paise, net_disbursal_paise,
                        upfront_interest_paise, terms, loan_params_id, params_version, line_type, requested_date, disbursement_date, maturity_date,
                        schedule_version, dpd, peak_dpd, last_eod_date, asset_class, created_by, created_at, updated_at)
     SELECT p.id, $1, p.account_id, 'BENCH' || p.g,
            CASE WHEN p.npa THEN 'npa' WHEN p.dpd > 0 THEN 'overdue' ELSE 'active' END, $2, a.amount, a.amount, a.amount, a.net,
            0, $3::jsonb, $4, $5, $6, p.disb, p.disb, p.maturity, 1, p.dpd, p.dpd, $7::date,
            CASE WHEN p.npa THEN 'npa' WHEN p.dpd = 0 THEN 'standard' WHEN p.dpd <= 30 THEN 'sma_0' WHEN p.dpd <= 60 THEN 'sma_1' ELSE 'sma_2' END,
            'bench', now(), now()
       FROM (SELECT *, bool_or(dpd > 90) OVER (PARTITION BY account_id) AS npa FROM bench_plan) p
       JOIN bench_amounts a ON a.amt_ix = p.amt_ix
      ORDER BY p.g`,
    [company.id, tpl.kind, tpl.terms, tpl.loan_params_id, tpl.params_version, tpl.line_type, asOf]);
  lap('loans');
  // Demands: installments due by asOf paid, except the last `unpaid` (overdue; on half of them
  // the oldest has its interest paid); later ones upcoming.
  await admin.query(
    `INSERT INTO demands (id, company_id, account_id, loan_id, kind, installment_number, schedule_version, period_start, due_date, status,
                          p_due_paise, ni_due_paise, p_paid_paise, ni_paid_paise, dpd, peak_dpd, created_at, updated_at)
     SELECT (lpad(to_hex($2::bigint + p.g), 12, '0') || '7' || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid, $1, p.account_id, p.id, 'emi', s.number, 1, s.period_start, s.due_date,
            CASE WHEN s.number > p.past_due THEN 'upcoming' WHEN s.number >= p.first_unpaid THEN 'overdue' ELSE 'paid' END,
            s.p, s.ni,
            CASE WHEN s.number < p.first_unpaid THEN s.p ELSE 0 END,
            CASE WHEN s.number < p.first_unpaid OR (s.number = p.first_unpaid AND p.unpaid > 0 AND p.g % 2 = 0) THEN s.ni ELSE 0 END,
            CASE WHEN s.number >= p.first_unpaid AND s.number <= p.past_due THEN ($3::date - s.due_date) + 1 ELSE 0 END,
            CASE WHEN s.number >= p.first_unpaid AND s.number <= p.past_due THEN ($3::date - s.due_date) + 1 ELSE 0 END,
            now(), now()
       FROM bench_plan p JOIN bench_sched s ON s.day_ix = p.day_ix AND s.amt_ix = p.amt_ix`,
    [company.id, loanMs, asOf]);
  lap('demands');
  if (payments) {
    // The history EOD's reads skip past: one processed NACH record per paid installment, settled
    // on its due date into NI and P rows (so settlements and records hold about 11 and 5.5 rows a loan).
    await admin.query(
      `CREATE UNLOGGED TABLE bench_paid AS
       SELECT d.id AS demand_id, d.account_id, d.loan_id, d.due_date, d.p_due_paise AS p, d.ni_due_paise AS ni,
              (lpad(to_hex(extract(epoch FROM d.due_date)::bigint * 1000 + row_number() OVER (PARTITION BY d.due_date)), 12, '0') || '7'
                 || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid AS record_id
         FROM demands d WHERE d.company_id = $1 AND d.status = 'paid' ORDER BY d.due_date`, [company.id]);
    await admin.query(
      `INSERT INTO records (id, company_id, account_id, ref_id, type, status, payment_mode, received_paise, amount_paise, remaining_paise,
                            settlement_order, component_order, value_date, record_date, settled_at, loan_ids, processed_by, processed_at, created_at, updated_at)
       SELECT record_id, $1, account_id, 'BR' || record_id, 'repayment', 'processed', 'nach', p + ni, p + ni, 0,
              'due_date_first', 'PI-OI-NI-P', due_date, due_date, due_date, ARRAY[loan_id], 'bench', due_date, due_date, due_date FROM bench_paid`, [company.id]);
    await admin.query(
      `INSERT INTO settlements (id, company_id, account_id, record_id, loan_id, demand_id, component, source, amount_paise, value_date,
                                remaining_after_paise, demand_outstanding_paise, demand_due_paise, created_at, updated_at)
       SELECT (lpad(to_hex(extract(epoch FROM b.due_date)::bigint * 1000), 12, '0') || '7' || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid,
              $1, b.account_id, b.record_id, b.loan_id, b.demand_id, c.component, 'cash', c.amount, b.due_date, c.remaining, c.outstanding, b.p + b.ni,
              b.due_date, b.due_date
         FROM bench_paid b, LATERAL (VALUES ('NI', b.ni, b.p, b.p), ('P', b.p, 0::bigint, 0::bigint)) AS c(component, amount, remaining, outstanding)
        WHERE c.amount > 0`, [company.id]);
    lap('payments');
  }
  for (const ix of indexes) await admin.query(ix.def);
  lap('indexes');
  await admin.query('SET session_replication_role = DEFAULT');
  await admin.query('VACUUM ANALYZE accounts');
  await admin.query('VACUUM ANALYZE loans');
  await admin.query('VACUUM ANALYZE demands');
  if (payments) await admin.query('VACUUM ANALYZE records, settlements');
  lap('vacuum_analyze');
  // The baseline's tables: copies of loans and accruals with the same columns, indexes and checks.
  await admin.query('CREATE TABLE bl_loans (LIKE loans INCLUDING ALL)');
  await admin.query('INSERT INTO bl_loans SELECT * FROM loans WHERE company_id = $1', [company.id]);
  await admin.query('CREATE TABLE bl_accruals (LIKE accruals INCLUDING ALL)');
  await admin.query('VACUUM ANALYZE bl_loans');
  lap('baseline_copy');

  const history = payments
    ? (await admin.query<{ records: number; settlements: number }>(
      'SELECT (SELECT count(*)::int FROM records WHERE company_id = $1) AS records, (SELECT count(*)::int FROM settlements WHERE company_id = $1) AS settlements', [company.id])).rows[0]!
    : { records: 0, settlements: 0 };
  const stats = (await admin.query<{ overdue: number; b1: number; b2: number; b3: number; npa: number; demands: number }>(
    `SELECT count(*) FILTER (WHERE dpd > 0)::int AS overdue, count(*) FILTER (WHERE dpd BETWEEN 1 AND 30)::int AS b1,
            count(*) FILTER (WHERE dpd BETWEEN 31 AND 60)::int AS b2, count(*) FILTER (WHERE dpd BETWEEN 61 AND 90)::int AS b3,
            count(*) FILTER (WHERE status = 'npa')::int AS npa, (SELECT count(*)::int FROM demands WHERE company_id = $1) AS demands
       FROM loans WHERE company_id = $1`, [company.id])).rows[0]!;
  const sizes = (await admin.query<{ rel: string; size: string }>(
    `SELECT c.relname AS rel, pg_size_pretty(pg_total_relation_size(c.oid)) AS size FROM pg_class c
      WHERE c.relname IN ('loans', 'demands', 'accounts', 'records', 'settlements') AND c.relkind = 'r'`)).rows;
  return {
    companyId: company.id, templateCompanyId: template.id, accounts, demands: stats.demands, ...history, overdueLoans: stats.overdue,
    dpdBuckets: { '1-30': stats.b1, '31-60': stats.b2, '61-90': stats.b3, npa_loans: stats.npa },
    terms_bytes: tpl.terms.length, sizes: Object.fromEntries(sizes.map((s) => [s.rel, s.size])), ms,
  };
}

/**
 * The day's collections before EOD (untimed): installments falling due on `date` of loans that
 * are not in arrears are paid in full, as NACH presentations on the due date would, so the
 * overdue share stays as generated from one business date to the next.
 */
async function collectDay(admin: pg.Client, companyId: string, date: BusinessDate): Promise<void> {
  await admin.query(
    `UPDATE demands d SET p_paid_paise = d.p_due_paise, ni_paid_paise = d.ni_due_paise, status = 'paid', updated_at = now()
       FROM bench_plan p
      WHERE d.company_id = $1 AND d.due_date = $2::date AND d.status IN ('upcoming', 'due') AND p.id = d.loan_id AND p.want = 0`,
    [companyId, date]);
}

/** Between measurements: dead rows vacuumed, statistics fresh, dirty buffers written (the server runs with autovacuum off). */
async function settle(admin: pg.Client): Promise<void> {
  for (const t of ['loans', 'demands', 'accruals', 'bl_loans', 'bl_accruals']) await admin.query(`VACUUM ANALYZE ${t}`);
  await admin.query('CHECKPOINT');
}

/** The baseline: one INSERT of an accrual row per loan and one UPDATE of every loan, in one transaction. */
/** CPU time (user + system, ms) a process has used so far, from /proc; null when unreadable (another machine). */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in clock ticks (100 a second)
  } catch {
    return null;
  }
}

/** The server processes working for the bench database other than `admin`'s own. */
async function backendPids(admin: pg.Client): Promise<number[]> {
  return (await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows.map((r) => r.pid);
}

/**
 * CPU used by a changing set of processes since `start`: processes seen later count from 0, and a
 * process that exits (a pooled connection closed when idle) keeps what it had used when last
 * sampled. Null when /proc cannot be read (the server on another machine).
 */
class CpuTracker {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readable = true;

  start(pids: number[]): void {
    for (const pid of pids) {
      const ms = cpuMs(pid);
      if (ms === null) this.readable = false;
      else this.first.set(pid, ms);
    }
  }

  sample(pids: number[]): void {
    for (const pid of pids) {
      const ms = cpuMs(pid);
      if (ms !== null) this.last.set(pid, ms);
    }
  }

  total(): number | null {
    if (!this.readable) return null;
    let sum = 0;
    for (const [pid, ms] of this.last) sum += ms - (this.first.get(pid) ?? 0);
    return sum;
  }
}

async function baseline(admin: pg.Client, companyId: string, date: BusinessDate) {
  const pid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  await admin.query('BEGIN');
  const ins = await admin.query(
    `INSERT INTO bl_accruals (id, company_id, account_id, loan_id, demand_id, accrual_date, component, amount_paise, tax_paise, in_suspense, exact_after, eod_run_id)
     SELECT gen_random_uuid(), company_id, account_id, id, id, $2::date, 'NI', principal_paise * 18 / 36500, 0, false, NULL, NULL
       FROM bl_loans WHERE company_id = $1`, [companyId, date]);
  const t1 = performance.now();
  const upd = await admin.query(`UPDATE bl_loans SET last_eod_date = $2::date, updated_at = now() WHERE company_id = $1`, [companyId, date]);
  const t2 = performance.now();
  await admin.query('COMMIT');
  const t3 = performance.now();
  const cpu1 = cpuMs(pid);
  return {
    ms: t3 - t0,
    detail: {
      insert_ms: Math.round(t1 - t0), update_ms: Math.round(t2 - t1), commit_ms: Math.round(t3 - t2), inserted: ins.rowCount, updated: upd.rowCount,
      cpu_ms: { postgres: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0, node: 0 },
    },
  };
}

interface RunContext {
  o: Required<Omit<EodBenchOptions, 'loans'>> & { loans: number };
  mode: EodMode;
  url: string;
  db: Database;
  services: Services;
  admin: pg.Client;
  companyId: string;
  templateCompanyId: string;
  date: BusinessDate;
  profileDir: string;
}

const queueLog = {
  info: () => {},
  warn: (data: object, message: string) => console.error(`queue warn: ${message} ${JSON.stringify(data)}`),
  error: (data: object, message: string) => console.error(`queue error: ${message} ${JSON.stringify(data, Object.getOwnPropertyNames(data))}`),
};

/** One EOD run for `date`, timed from EodService.start to the run's completion. */
async function runEod(c: RunContext) {
  const { o, mode } = c;
  const config = loadConfig({
    LOG_LEVEL: 'silent', DATABASE_URL: c.url, EOD_SCHEDULE_IST: 'off', EOD_QUEUE_POLL_MS: String(o.pollMs),
    EOD_WORKERS: String(mode === 'inproc' ? o.inprocWorkers : 0), EOD_PARTITION_LOANS: String(o.partitionLoans),
  });
  let children: ChildProcess[] = [];
  let queue: JobQueue | null = null;
  try {
    // This process's queue first: it creates pg-boss's schema and queues, which worker processes
    // starting at the same moment on a fresh database can deadlock on (see the report).
    queue = await startQueue({ pool: c.db.pool, config, eod: c.services.eod, workers: mode === 'inproc' ? o.inprocWorkers : 0, log: queueLog });
    if (mode === 'procs') children = await Promise.all(Array.from({ length: o.procs }, (_, i) => startWorker(c, i)));
    // Warm-up, untimed: the template company's one loan closed through the same date, so the
    // workers have run the plan and partition code once (JIT, first Prisma queries) as long-lived
    // workers would have.
    await waitForRun(c, (await c.services.eod.start({ companyId: c.templateCompanyId, actor: 'bench' }, { date: c.date, trigger: 'cli' })).run.id);
    const by = { companyId: c.companyId, actor: 'bench' };
    // CPU accounting, robust to other load on the machine: the server backends of the bench
    // database (but the bench's own admin connection) and the node processes doing the work.
    const pgCpu = new CpuTracker();
    pgCpu.start(await backendPids(c.admin));
    const nodeCpu = new CpuTracker();
    nodeCpu.start(children.map((ch) => ch.pid!));
    const selfBefore = process.cpuUsage();
    const t0 = performance.now();
    const started = await c.services.eod.start(by, { date: c.date, trigger: 'cli' });
    const id = started.run.id;
    const waits = new Map<string, number>();
    await waitForRun(c, id, waits, pgCpu);
    const ms = performance.now() - t0;
    const self = process.cpuUsage(selfBefore);
    pgCpu.sample(await backendPids(c.admin));
    nodeCpu.sample(children.map((ch) => ch.pid!));
    const cpu = {
      postgres: pgCpu.total(),
      node: mode === 'procs' ? nodeCpu.total() : Math.round((self.user + self.system) / 1000),
    };
    const view = await c.services.eod.get(c.companyId, id);
    const detail = { run: id, status: view.run.status, cpu_ms: cpu, pg_waits: Object.fromEntries([...waits].sort((a, b) => b[1] - a[1])), steps: view.steps, ...(await runDetail(c, id, t0)), check: await check(c, view) };
    return { ms, detail };
  } finally {
    if (queue) await queue.stop();
    await Promise.all(children.map(stopWorker));
  }
}

/**
 * Waits for the run to end. With `waits`, samples the bench database's other sessions every
 * 100 ms: what an active backend waits on (CPU when nothing), or that it sits idle in a
 * transaction (waiting for node), counted per sample.
 */
async function waitForRun(c: RunContext, id: string, waits?: Map<string, number>, cpu?: CpuTracker): Promise<void> {
  for (let i = 0; ; i++) {
    const { status } = (await c.admin.query<{ status: string }>('SELECT status FROM eod_runs WHERE id = $1', [id])).rows[0]!;
    if (status !== 'queued' && status !== 'running') return;
    if (cpu && i % 4 === 0) cpu.sample(await backendPids(c.admin));
    if (waits && i % 4 === 0) {
      const rows = (await c.admin.query<{ w: string; n: number }>(
        `SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'CPU') ELSE state END AS w, count(*)::int AS n
           FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type IN ('client backend', 'parallel worker')
            AND state <> 'idle' GROUP BY 1`)).rows;
      for (const r of rows) waits.set(r.w, (waits.get(r.w) ?? 0) + r.n);
      waits.set('(samples)', (waits.get('(samples)') ?? 0) + 1);
    }
    await sleep(25);
  }
}

/** Where the wall time went: the queue's timeline for the run and partition durations. */
async function runDetail(c: RunContext, runId: string, t0: number) {
  const now = Date.now();
  const rel = (t: Date | null) => (t === null ? Number.NaN : t.getTime() - (now - (performance.now() - t0)));
  const jobs = (await c.admin.query<{ name: string; created: Date; first_start: Date; last_start: Date; last_done: Date; n: number; busy_ms: number; retries: number }>(
    `SELECT name, min(created_on) AS created, min(started_on) AS first_start, max(started_on) AS last_start, max(completed_on) AS last_done, count(*)::int AS n,
            sum(extract(epoch FROM completed_on - started_on) * 1000)::float8 AS busy_ms, sum(retry_count)::int AS retries
       FROM pgboss.job WHERE data->>'runId' = $1 GROUP BY name`, [runId])).rows;
  const plan = jobs.find((j) => j.name === 'eod-plan');
  const parts = jobs.find((j) => j.name === 'eod-partition');
  const durations = (await c.admin.query<{ ms: number }>(
    `SELECT (SELECT sum((s->>'ms')::float8) FROM jsonb_array_elements(p.steps) s) AS ms FROM eod_run_partitions p WHERE p.run_id = $1 ORDER BY 1`, [runId])).rows.map((r) => r.ms);
  const run = (await c.admin.query<{ finished_at: Date; loans_total: number; loans_done: number; partitions_total: number }>(
    'SELECT finished_at, loans_total, loans_done, partitions_total FROM eod_runs WHERE id = $1', [runId])).rows[0]!;
  const stepsMs = durations.reduce((s, x) => s + x, 0);
  return {
    timeline: {
      plan_job_started: plan ? rel(plan.first_start) : Number.NaN, plan_job_done: plan ? rel(plan.last_done) : Number.NaN,
      first_partition_started: parts ? rel(parts.first_start) : Number.NaN, last_partition_done: parts ? rel(parts.last_done) : Number.NaN,
      run_finished: rel(run.finished_at),
    },
    partitions: {
      count: run.partitions_total, loans_total: run.loans_total, loans_done: run.loans_done,
      steps_ms_sum: Math.round(stepsMs), job_busy_ms_sum: parts ? Math.round(parts.busy_ms) : null, retries: parts?.retries ?? null,
      ms_p50: Math.round(median(durations)), ms_max: Math.round(durations.at(-1) ?? 0),
    },
  };
}

/** Light correctness checks: every open loan closed through `date`, accrual rows as expected. */
async function check(c: RunContext, view: Awaited<ReturnType<Services['eod']['get']>>) {
  const problems: string[] = [];
  const run = view.run;
  if (run.status !== 'completed') problems.push(`run ${run.status}`);
  if ((run.failures as unknown[]).length > 0) problems.push(`failures: ${JSON.stringify(run.failures).slice(0, 300)}`);
  if (run.loansDone !== c.o.loans || run.loansTotal !== c.o.loans) problems.push(`loans_done ${run.loansDone}, loans_total ${run.loansTotal}, expected ${c.o.loans}`);
  const q = (await c.admin.query<{ behind: number; ni: number; oi: number; pi: number; oi_expected: number; pi_expected: number; overdue_loans: number; npa_loans: number; in_suspense: number }>(
    `SELECT (SELECT count(*)::int FROM loans WHERE company_id = $1 AND status IN ('active', 'overdue', 'npa') AND last_eod_date IS DISTINCT FROM $2::date) AS behind,
            count(*) FILTER (WHERE component = 'NI')::int AS ni, count(*) FILTER (WHERE component = 'OI')::int AS oi,
            count(*) FILTER (WHERE component = 'PI')::int AS pi, count(*) FILTER (WHERE in_suspense)::int AS in_suspense,
            (SELECT count(*)::int FROM demands WHERE company_id = $1 AND status = 'overdue' AND due_date < $2::date AND p_paid_paise < p_due_paise) AS oi_expected,
            (SELECT count(*)::int FROM demands WHERE company_id = $1 AND status = 'overdue' AND due_date < $2::date - 3) AS pi_expected,
            (SELECT count(*)::int FROM loans WHERE company_id = $1 AND status = 'overdue') AS overdue_loans,
            (SELECT count(*)::int FROM loans WHERE company_id = $1 AND status = 'npa') AS npa_loans
       FROM accruals WHERE company_id = $1 AND accrual_date = $2::date`, [c.companyId, c.date])).rows[0]!;
  if (q.behind !== 0) problems.push(`${q.behind} open loans not closed through ${c.date}`);
  if (q.ni !== c.o.loans) problems.push(`${q.ni} NI rows, expected one per loan (${c.o.loans})`);
  if (q.oi !== q.oi_expected) problems.push(`${q.oi} OI rows, expected ${q.oi_expected} (overdue demands due before the date with principal unpaid)`);
  if (q.pi !== q.pi_expected) problems.push(`${q.pi} PI rows, expected ${q.pi_expected} (overdue demands past the 3 lag days)`);
  return {
    ok: problems.length === 0, problems,
    accruals: { NI: q.ni, OI: q.oi, PI: q.pi, in_suspense: q.in_suspense }, loans_after: { overdue: q.overdue_loans, npa: q.npa_loans },
  };
}

/** A `src/jobs/worker.ts` process (node --import tsx, optionally under --cpu-prof), resolved once it reports it started. */
function startWorker(c: RunContext, i: number): Promise<ChildProcess> {
  const { o } = c;
  const profileDir = join(c.profileDir, `${c.date}-worker-${i}`);
  if (o.profile) mkdirSync(profileDir, { recursive: true });
  // Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main one (the others are tsx's loader).
  const args = [...(o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', 'src/jobs/worker.ts'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, DATABASE_URL: c.url, JWT_SECRET: 'b'.repeat(32), LOG_LEVEL: 'info', EOD_WORKERS: String(o.procWorkers),
      EOD_PARTITION_LOANS: String(o.partitionLoans), EOD_SCHEDULE_IST: 'off', EOD_QUEUE_POLL_MS: String(o.pollMs),
      DB_POOL_MAX: String(o.procWorkers + 3),
    },
  });
  // Worker output: the first few warnings and errors are shown, the rest only counted.
  let shown = 0;
  const show = (text: string) => {
    if (++shown <= 5) process.stderr.write(`[worker ${i}] ${text.trimEnd().slice(0, 600)}\n`);
    else if (shown === 6) process.stderr.write(`[worker ${i}] (further warnings and errors not shown)\n`);
  };
  child.stderr!.on('data', (d: Buffer) => { if (!/DeprecationWarning|trace-deprecation/.test(String(d))) show(String(d)); });
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${i} did not start within 60 s`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { level?: number; msg?: string } = {};
      try { entry = JSON.parse(line); } catch { /* not JSON */ }
      if (entry.msg === 'worker started') {
        clearTimeout(timer);
        resolveReady(child);
      } else if ((entry.level ?? 0) >= 40) show(line);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${i} exited with ${code} before starting`));
    });
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }

/** Where the worker processes' CPU went: self time by function and by file, and inclusive time of the EOD functions. */
function summariseProfiles(dir: string) {
  const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => /(^|\/)CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const prof = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    const parent = new Map<number, number>();
    const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
    for (const n of prof.nodes) for (const ch of n.children ?? []) parent.set(ch, n.id);
    const keyOf = (n: ProfileNode) => {
      const file = n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT, '');
      return `${n.callFrame.functionName || '(anonymous)'} ${file ? `${file}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    };
    prof.samples.forEach((id, i) => {
      const dt = (prof.timeDeltas[i] ?? 0) / 1000;
      total += dt;
      const node = nodes.get(id)!;
      self.set(keyOf(node), (self.get(keyOf(node)) ?? 0) + dt);
      const file = node.callFrame.url ? node.callFrame.url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, 'node_modules/$1') : `(${node.callFrame.functionName || 'native'})`;
      byFile.set(file, (byFile.get(file) ?? 0) + dt);
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const k = keyOf(nodes.get(cur)!);
        if (seen.has(k)) continue;
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
      }
    });
  }
  const top = (m: Map<string, number>, count: number, filter: (k: string) => boolean = () => true) => [...m].filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1]).slice(0, count).map(([k, ms]) => ({ fn: k, ms: Math.round(ms), share: Number((ms / total).toFixed(3)) }));
  const result = {
    dir, files: files.length, total_ms: Math.round(total),
    self: top(self, 30), files_self: top(byFile, 15),
    inclusive_eod: top(inclusive, 40, (k) => /src\/(domain|modules\/eod|jobs)\//.test(k)),
  };
  console.log(`\nCPU profile of the worker processes (${files.length} files, ${secs(total)} s sampled, idle included): ${dir}`);
  const show = (title: string, rows: { fn: string; ms: number; share: number }[]) => {
    console.log(`  ${title}`);
    for (const r of rows) console.log(`    ${fmt(r.ms).padStart(8)} ms ${`${(100 * r.share).toFixed(1)}%`.padStart(6)}  ${r.fn}`);
  };
  show('self time by function:', result.self);
  show('self time by file / package:', result.files_self);
  show('inclusive time, src/domain, src/modules/eod, src/jobs:', result.inclusive_eod);
  return result;
}

/** The commit measured and whether the EOD code differs from it (the bench may run on uncommitted work). */
function codeVersion() {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  return { commit: git('rev-parse', '--short', 'HEAD'), dirty_eod_files: git('status', '--short', '--', 'src/domain/eod.ts', 'src/modules/eod', 'src/jobs').split('\n').filter(Boolean) };
}

async function cli() {
  const { values } = parseArgs({
    options: {
      loans: { type: 'string' }, million: { type: 'boolean' }, rounds: { type: 'string' }, modes: { type: 'string' },
      procs: { type: 'string' }, 'proc-workers': { type: 'string' }, 'inproc-workers': { type: 'string' },
      partition: { type: 'string' }, 'poll-ms': { type: 'string' }, profile: { type: 'boolean' }, keep: { type: 'boolean' }, payments: { type: 'boolean' },
      set: { type: 'string', multiple: true },
    },
  });
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  await eodBench({
    loans: values.million ? 1_000_000 : num(values.loans, 100_000),
    rounds: num(values.rounds, 1),
    modes: (values.modes ?? 'inproc,procs').split(',').map((m) => m.trim()) as EodMode[],
    procs: num(values.procs, 2), procWorkers: num(values['proc-workers'], 1), inprocWorkers: num(values['inproc-workers'], 1),
    partitionLoans: num(values.partition, 1000), pollMs: num(values['poll-ms'], 500),
    profile: values.profile ?? false, keep: values.keep ?? false, payments: values.payments ?? false,
    dbSettings: Object.fromEntries((values.set ?? []).map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; })),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await cli();
