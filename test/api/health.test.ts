import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await buildTestApp(); });
afterAll(async () => { await ctx.close(); });

describe('health', () => {
  it('GET /healthz answers while the process is up', async () => {
    const res = await ctx.http().get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz reports the database reachable and migrated', async () => {
    const res = await ctx.http().get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'ok', pending_migrations: [] });
  });

  it('GET /readyz is 503 when the database is unreachable', async () => {
    const { Database } = await import('../../src/db/database.js');
    const { buildApp } = await import('../../src/app.js');
    const { testConfig, TEST_JWT_SECRET } = await import('../helpers/app.js');
    const db = new Database({ url: 'postgresql://postgres@127.0.0.1:1/none' });
    const app = await buildApp({ config: testConfig(), db, jwtSecret: TEST_JWT_SECRET }, { logger: false });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    await app.close();
    await db.close();
  });
});
