// Builds the OpenAPI document from the routes' zod schemas without touching a database.
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { Database } from './db/database.js';

export async function generateOpenApiDocument(): Promise<string> {
  // The pool connects lazily and no request is served, so no server needs to exist at this URL.
  const db = new Database({ url: 'postgresql://openapi@127.0.0.1:1/openapi' });
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent' }), db, jwtSecret: 'x'.repeat(32) }, { logger: false, queue: false });
  try {
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await db.close();
  }
}
