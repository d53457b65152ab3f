// First-start work shared by the server and the CLI: the JWT secret and the demo tenant.
import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { DomainError } from './errors.js';
import type { Services } from './services.js';

/** JWT_SECRET if configured; otherwise one random secret generated once and kept in the database. */
export async function ensureJwtSecret(db: Database, config: Config): Promise<string> {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  await db.prisma.systemSetting.createMany({
    data: [{ key: 'jwt_secret', value: randomBytes(48).toString('base64url') }],
    skipDuplicates: true,
  });
  const row = await db.prisma.systemSetting.findUniqueOrThrow({ where: { key: 'jwt_secret' } });
  return row.value;
}

export const DEMO_COMPANY = 'Demo Lender';
export const DEMO_ADMIN = 'admin';

export interface DemoSeed {
  companyId: string;
  username: string;
  password: string;
  token: string;
}

/** On an empty database, creates the demo company, its admin user and an API token. */
export async function seedDemoIfEmpty(db: Database, services: Services): Promise<DemoSeed | null> {
  if ((await db.prisma.company.count()) > 0) return null;
  let company;
  try {
    company = await services.companies.create(DEMO_COMPANY);
  } catch (error) {
    // Another process seeded it a moment ago.
    if (error instanceof DomainError && error.code === 'DUPLICATE') return null;
    throw error;
  }
  const password = randomBytes(12).toString('base64url');
  const actor = { companyId: company.id, actor: 'system:seed' };
  const user = await services.users.create(actor, { username: DEMO_ADMIN, password, role: 'admin' });
  const { token } = await services.apiTokens.create({ ...actor, userId: user.id }, { name: 'demo', role: 'admin' });
  return { companyId: company.id, username: user.username, password, token };
}
