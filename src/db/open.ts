// Resolves which PostgreSQL to use: DATABASE_URL when set, else the embedded one in DATA_DIR.
import type { Config } from '../config.js';
import { startEmbeddedPostgres, type EmbeddedHandle } from './embedded.js';

export interface ResolvedDatabase {
  url: string;
  embedded: EmbeddedHandle | null;
}

export async function resolveDatabaseUrl(config: Config, log: (message: string) => void): Promise<ResolvedDatabase> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: null };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.DATA_DIR,
    port: config.EMBEDDED_PG_PORT,
    persistent: true,
    log,
  });
  return { url: embedded.url, embedded };
}
