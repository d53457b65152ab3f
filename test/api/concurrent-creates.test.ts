// Identical creates racing each other: the unique constraint decides, and the losers get the
// same 409 the up-front check gives, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'race');
});
afterAll(async () => { await ctx.close(); });

async function race(url: string, body: () => object, n = 8) {
  const responses = await Promise.all(Array.from({ length: n }, () =>
    ctx.http().post(url).set('Authorization', tenant.bearer('admin')).send(body())));
  const statuses = responses.map((r) => r.status).sort();
  expect(statuses.filter((s) => s === 201), statuses.join(',')).toHaveLength(1);
  expect(statuses.filter((s) => s === 409), statuses.join(',')).toHaveLength(n - 1);
  for (const r of responses.filter((r) => r.status === 409)) expect(r.body.code).toBe('DUPLICATE');
}

describe('concurrent duplicate creates', () => {
  it('accounts with the same external_id', async () => {
    const external = `race-${newId()}`;
    for (let round = 0; round < 3; round++) {
      const id = `${external}-${round}`;
      await race('/v1/lms/accounts/', () => ({ name: 'Racer', sanctioned_limit: 10, external_id: id }));
      expect(await ctx.db.prisma.account.count({ where: { companyId: tenant.companyId, externalId: id } })).toBe(1);
    }
  });

  it('collection banks with the same IFSC and account number', async () => {
    const accountNo = String(Date.now()).slice(-12);
    await race('/v1/lms/collection_banks/', () => ({ account_no: accountNo, account_holder_name: 'Racer', ifsc: 'SBIN0001234' }));
  });

  it('users with the same username', async () => {
    const username = `racer-${newId()}`;
    await race('/v1/lms/users/', () => ({ username, password: 'long-enough-password', role: 'viewer' }), 4);
  });
});
