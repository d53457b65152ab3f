// Process entry: config -> database (embedded unless DATABASE_URL) -> migrations -> app -> listen.
// SIGTERM/SIGINT close the listener, let in-flight requests finish, then close the pool.
import { pino } from 'pino';
import { buildApp, LOG_REDACT_PATHS } from './app.js';
import { ensureJwtSecret, seedDemoIfEmpty } from './bootstrap.js';
import { loadConfigOrExit } from './config.js';
import { Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { resolveDatabaseUrl } from './db/open.js';

async function main() {
  const config = loadConfigOrExit();
  const log = pino({ level: config.LOG_LEVEL, redact: LOG_REDACT_PATHS });
  const { url, embedded } = await resolveDatabaseUrl(config, (message) => log.info(message));
  await migrate(url, { log: (message) => log.info(message) });
  const db = new Database({
    url, poolMax: config.DB_POOL_MAX, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS, transactionTimeoutMs: config.DB_TRANSACTION_TIMEOUT_MS,
  });
  const jwtSecret = await ensureJwtSecret(db, config);
  const app = await buildApp({ config, db, jwtSecret });
  const seed = config.SEED_DEMO ? await seedDemoIfEmpty(db, app.services) : null;

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error('graceful shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    try {
      // Closing the app stops the job queue first: jobs in hand finish before the pool closes.
      await app.close();
      await db.close();
      if (embedded?.owned) await embedded.stop();
    } finally {
      clearTimeout(timer);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.PORT, host: config.HOST });
  const base = `http://localhost:${(app.server.address() as { port: number }).port}`;
  const lines = [
    '',
    `LMS server listening on ${base}  (API reference: ${base}/docs)`,
    `Database: ${embedded ? `embedded PostgreSQL, data in ${config.DATA_DIR}/pg` : 'DATABASE_URL'}`,
  ];
  if (seed) {
    lines.push(
      'First start: created the demo company "Demo Lender".',
      `  API token (shown once):  ${seed.token}`,
      `  Staff login:             username ${seed.username}  password ${seed.password}`,
      `  Try: curl -H "Authorization: Bearer ${seed.token}" ${base}/v1/lms/accounts/`,
    );
  } else {
    lines.push('New API token: npm run cli -- token create');
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main().catch((error) => {
  process.stderr.write(`startup failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
