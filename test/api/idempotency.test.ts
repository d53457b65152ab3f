import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'idem');
});
afterAll(async () => { await ctx.close(); });

const createAccount = (key: string | null, body: object, t: Tenant = tenant) => {
  const req = ctx.http().post('/v1/lms/accounts/').set('Authorization', t.bearer('maker'));
  return (key === null ? req : req.set('Idempotency-Key', key)).send(body);
};

const accountsNamed = (name: string, companyId = tenant.companyId) =>
  ctx.db.prisma.account.count({ where: { companyId, name } });

describe('Idempotency-Key', () => {
  it('replays the stored response for the same key and body, creating one row', async () => {
    const key = newId();
    const name = `idem-${key}`;
    const first = await createAccount(key, { name, sanctioned_limit: 1000 });
    expect(first.status).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    const second = await createAccount(key, { sanctioned_limit: 1000, name });
    expect(second.status).toBe(201);
    expect(second.headers['idempotency-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await accountsNamed(name)).toBe(1);
    const stored = await ctx.db.prisma.idempotencyKey.findUnique({ where: { companyId_key: { companyId: tenant.companyId, key } } });
    expect(stored?.status).toBe('completed');
    expect(stored?.responseStatus).toBe(201);
  });

  it('answers 422 when the key is reused with a different body', async () => {
    const key = newId();
    expect((await createAccount(key, { name: `a-${key}`, sanctioned_limit: 1000 })).status).toBe(201);
    const res = await createAccount(key, { name: `a-${key}`, sanctioned_limit: 2000 });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('creates exactly one row for identical requests sent in parallel; the others get 409 or the replay', async () => {
    const key = newId();
    const name = `parallel-${key}`;
    const responses = await Promise.all(Array.from({ length: 8 }, () => createAccount(key, { name, sanctioned_limit: 5000 })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(responses.filter((r) => r.status === 201 && r.headers['idempotency-replayed'] !== 'true')).toHaveLength(1);
    for (const r of responses.filter((r) => r.status === 409)) expect(r.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(await accountsNamed(name)).toBe(1);
  });

  it('keeps keys per company: the same key in another company is a new request', async () => {
    const other = await createTenant(ctx, 'idem-other');
    const key = newId();
    const name = `shared-key-${key}`;
    expect((await createAccount(key, { name, sanctioned_limit: 1000 })).status).toBe(201);
    const res = await createAccount(key, { name, sanctioned_limit: 1000 }, other);
    expect(res.status).toBe(201);
    expect(res.headers['idempotency-replayed']).toBeUndefined();
    expect(await accountsNamed(name, other.companyId)).toBe(1);
  });

  it('stores nothing for a failed request, so a corrected retry with the same key runs', async () => {
    const key = newId();
    const bad = await createAccount(key, { name: `x-${key}`, sanctioned_limit: -5 });
    expect(bad.status).toBe(400);
    const external = `ext-${key}`;
    expect((await createAccount(null, { name: 'holder', sanctioned_limit: 1, external_id: external })).status).toBe(201);
    const conflict = await createAccount(key, { name: `x-${key}`, sanctioned_limit: 5, external_id: external });
    expect(conflict.status).toBe(409);
    expect(await ctx.db.prisma.idempotencyKey.count({ where: { companyId: tenant.companyId, key } })).toBe(0);
    const fixed = await createAccount(key, { name: `x-${key}`, sanctioned_limit: 5 });
    expect(fixed.status).toBe(201);
  });

  it('rolls back the effect when the stored response cannot be written with it', async () => {
    // The effect and the key row commit in one transaction: if the handler throws after its
    // write, neither the row nor the key remains.
    const key = newId();
    const name = `rollback-${key}`;
    const local = await buildTestApp({
      register: async (app) => {
        app.post('/v1/lms/__write_then_fail/', async (request) => {
          await app.services.accounts.create(request.auth!, { name, sanctioned_limit: 100n });
          throw new Error('fails after writing');
        });
      },
    });
    try {
      const res = await local.http().post('/v1/lms/__write_then_fail/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({});
      expect(res.status).toBe(500);
      expect(await accountsNamed(name)).toBe(0);
      expect(await ctx.db.prisma.idempotencyKey.count({ where: { companyId: tenant.companyId, key } })).toBe(0);
    } finally {
      await local.close();
    }
  });

  it('rejects a malformed key with 400 naming the header', async () => {
    const res = await createAccount('x'.repeat(300), { name: 'n', sanctioned_limit: 1 });
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveProperty('Idempotency-Key');
  });

  it('takes over a key whose holder died (lock expired) instead of answering 409 forever', async () => {
    const key = newId();
    await ctx.db.prisma.idempotencyKey.create({
      data: { companyId: tenant.companyId, key, method: 'POST', path: '/v1/lms/accounts/', requestHash: 'abandoned', status: 'in_progress', lockedUntil: new Date(Date.now() - 1000), expiresAt: new Date(Date.now() + 3600_000) },
    });
    const res = await createAccount(key, { name: `revived-${key}`, sanctioned_limit: 10 });
    expect(res.status).toBe(201);
  });
});
