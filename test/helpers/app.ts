// Builds the real app against the run's test database, plus tenants with a token per role.
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import supertest from 'supertest';
import { buildApp, type BuildOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { Database } from '../../src/db/database.js';
import { newId } from '../../src/domain/ids.js';
import type { Role } from '../../src/modules/auth/roles.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestContext {
  app: FastifyInstance;
  db: Database;
  http: () => supertest.Agent;
  close: () => Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  // Queue workers and the topup tick only where a test asks for them: other apps just enqueue.
  return loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: inject('databaseUrl'), EOD_WORKERS: '0', EOD_SCHEDULE_IST: 'off', SCHEDULER_INTERVAL_S: '0', ...overrides });
}

export async function buildTestApp(options: BuildOptions & { env?: Record<string, string> } = {}): Promise<TestContext> {
  const config = testConfig(options.env);
  const db = new Database({
    url: inject('databaseUrl'), poolMax: 8, transactionTimeoutMs: config.DB_TRANSACTION_TIMEOUT_MS, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  });
  const app = await buildApp({ config, db, jwtSecret: TEST_JWT_SECRET }, { logger: false, register: options.register });
  return {
    app,
    db,
    http: () => supertest.agent(app.server),
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}

export interface Tenant {
  companyId: string;
  tokens: Record<Role, string>;
  /** Authorization header value for a role. */
  bearer: (role?: Role) => string;
}

/** A fresh company with an API token for each role; tests act only on their own tenant's rows. */
export async function createTenant(ctx: TestContext, label = 'tenant'): Promise<Tenant> {
  const company = await ctx.app.services.companies.create(`${label}-${newId()}`);
  const actor = { companyId: company.id, actor: 'test' };
  const tokens = {} as Record<Role, string>;
  for (const role of ['admin', 'maker', 'checker', 'viewer'] as const) {
    tokens[role] = (await ctx.app.services.apiTokens.create(actor, { name: role, role })).token;
  }
  return { companyId: company.id, tokens, bearer: (role: Role = 'admin') => `Bearer ${tokens[role]}` };
}
