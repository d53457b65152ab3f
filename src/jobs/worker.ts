// npm run worker: a process that only works the job queue (EOD plans, partitions and the nightly
// schedule), here or on another machine against the same DATABASE_URL. Start as many as the
// database can feed; SIGTERM lets the jobs in hand finish (up to SHUTDOWN_TIMEOUT_MS), and a
// SIGKILLed worker's jobs are claimed again by the others (see src/jobs/queue.ts).
import { pino } from 'pino';
import { ensureJwtSecret } from '../bootstrap.js';
import { loadConfigOrExit } from '../config.js';
import { Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { resolveDatabaseUrl } from '../db/open.js';
import { createServices } from '../services.js';
import { startQueue } from './queue.js';
import { runScheduledTopups } from './topup-scheduler.js';

async function main() {
  const config = loadConfigOrExit();
  const log = pino({ level: config.LOG_LEVEL }).child({ process: 'worker' });
  const workers = Math.max(config.EOD_WORKERS, 1);
  const { url, embedded } = await resolveDatabaseUrl(config, (message) => log.info(message));
  await migrate(url, { log: (message) => log.info(message) });
  const db = new Database({ url, poolMax: Math.max(config.DB_POOL_MAX, workers + 2), statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS });
  const services = createServices(db, {
    jwtSecret: await ensureJwtSecret(db, config), accessTtlSeconds: config.ACCESS_TOKEN_TTL_S, refreshTtlSeconds: config.REFRESH_TOKEN_TTL_S,
  }, { partitionLoans: config.EOD_PARTITION_LOANS, chunkLoanDays: config.EOD_CHUNK_LOAN_DAYS });
  const queue = await startQueue({
    pool: db.pool, config, eod: services.eod, workers, log,
    nightly: async () => log.info(await services.eod.startNightly(config.EOD_SCHEDULE_IST), 'nightly EOD started'),
    topups: () => runScheduledTopups({ topups: services.topups, log: log.child({ job: 'topup-scheduler' }) }),
  });
  log.info({ workers, pid: process.pid }, 'worker started');
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'worker stopping');
    const timer = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 2000);
    try {
      await queue.stop();
      await db.close();
      if (embedded?.owned) await embedded.stop();
    } finally {
      clearTimeout(timer);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
