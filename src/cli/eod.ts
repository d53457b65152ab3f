// npm run eod -- [--date YYYY-MM-DD] [--company <id or name>] [--workers N]
// Starts the EOD run for the date (default today, IST) for one company or every company, works
// the queue in this process too (so it finishes with no server running; a running server or
// `npm run worker` processes share the partitions), and draws progress until every run ends.
// Exit code 0 when every run completed, 1 otherwise.
import { parseArgs } from 'node:util';
import { ensureJwtSecret } from '../bootstrap.js';
import { ConfigError, loadConfig } from '../config.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { resolveDatabaseUrl } from '../db/open.js';
import { istDateOf } from '../domain/time.js';
import { DomainError } from '../errors.js';
import { startQueue } from '../jobs/queue.js';
import type { EodRunView } from '../modules/eod/service.js';
import { createServices } from '../services.js';

const USAGE = `Usage: npm run eod -- [--date YYYY-MM-DD] [--company <id or name>] [--workers N]
  Closes the business date (default today, IST) for every loan of the company (default: every
  company), catching up missed days. Works EOD partitions in this process with N workers
  (default EOD_WORKERS, at least 1) beside any server or worker already running.`;

const out = process.stdout;

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) === value;
}

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function progressLine(views: EodRunView[], startedMs: number): string {
  const done = views.reduce((s, v) => s + v.run.loansDone, 0);
  const total = views.reduce((s, v) => s + v.run.loansTotal, 0);
  const seconds = (Date.now() - startedMs) / 1000;
  const rate = seconds > 0 ? Math.round(done / seconds) : 0;
  const steps = new Map<string, number>();
  for (const v of views) for (const s of v.steps) steps.set(s.name, (steps.get(s.name) ?? 0) + Number(s.ms));
  const timing = [...steps].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)}s`).join('  ');
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  return `${bar(done, total)} ${done}/${total} loans ${pct}%  ${rate} loans/s  ${seconds.toFixed(1)}s  ${timing}`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { date: { type: 'string' }, company: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const date = values.date ?? istDateOf(new Date());
  if (!isDate(date)) throw new DomainError('VALIDATION_ERROR', '--date must be a date as YYYY-MM-DD');
  const config = loadConfig();
  const workers = values.workers === undefined ? Math.max(config.EOD_WORKERS, 1) : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new DomainError('VALIDATION_ERROR', '--workers must be a whole number from 0 to 64');
  const resolved = await resolveDatabaseUrl(config, (m) => process.stderr.write(`${m}\n`));
  await migrate(resolved.url, { log: (m) => process.stderr.write(`${m}\n`) });
  const db = new Database({ url: resolved.url, poolMax: Math.max(4, workers + 2), statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS });
  const services = createServices(db, { jwtSecret: await ensureJwtSecret(db, config), accessTtlSeconds: 60, refreshTtlSeconds: 60 }, { partitionLoans: config.EOD_PARTITION_LOANS, chunkLoanDays: config.EOD_CHUNK_LOAN_DAYS });
  const log = { info: () => {}, warn: (d: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(d)}\n`), error: (d: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(d, (_k, v) => (v instanceof Error ? v.message : v))}\n`) };
  const queue = await startQueue({ pool: db.pool, config, eod: services.eod, workers, log });
  try {
    const companies = values.company ? [await services.companies.find(values.company)] : await services.companies.list();
    const started = Date.now();
    let views: EodRunView[] = [];
    for (const c of companies) {
      try {
        views.push(await services.eod.start({ companyId: c.id, actor: 'cli' }, { date, trigger: 'cli' }));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        process.stderr.write(`${c.name}: ${error.message}\n`);
      }
    }
    const tty = out.isTTY === true;
    let lastPrint = 0;
    while (views.some((v) => v.run.status === 'queued' || v.run.status === 'running')) {
      await new Promise((r) => setTimeout(r, 250));
      views = await Promise.all(views.map((v) => services.eod.get(v.run.companyId, v.run.id)));
      if (tty) out.write(`\r${progressLine(views, started)}\u001b[K`);
      else if (Date.now() - lastPrint > 2000) {
        out.write(`${progressLine(views, started)}\n`);
        lastPrint = Date.now();
      }
    }
    out.write(`${tty ? '\r' : ''}${progressLine(views, started)}\u001b[K\n`);
    for (const v of views) {
      const name = companies.find((c) => c.id === v.run.companyId)?.name ?? v.run.companyId;
      out.write(`${name}: run ${v.run.id} ${v.run.status}, ${v.run.loansDone}/${v.run.loansTotal} loans in ${v.run.partitionsTotal} partition(s)\n`);
      for (const s of v.steps) out.write(`  ${s.name.padEnd(12)} ${String(s.ms).padStart(10)} ms  ${String(s.rows).padStart(10)} rows\n`);
      for (const f of v.run.failures as object[]) process.stderr.write(`  failure: ${JSON.stringify(f)}\n`);
    }
    return views.every((v) => v.run.status === 'completed') ? 0 : 1;
  } finally {
    await queue.stop();
    await db.close();
    if (resolved.embedded?.owned) await resolved.embedded.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof DomainError || error instanceof ConfigError) process.stderr.write(`error: ${error.message}\n`);
    else process.stderr.write(`error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
