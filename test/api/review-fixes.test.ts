// Regression tests for defects found in review.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'review');
});
afterAll(async () => { await ctx.close(); });

const by = () => ({ companyId: tenant.companyId, actor: 'test' });
async function activeLoan() {
  const account = await accountWithParams(ctx, tenant.companyId);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 1000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
  return { account, loan };
}
const post = (url: string, body: object) => ctx.http().post(url).set('Authorization', tenant.bearer('maker')).send(body);

describe('fees', () => {
  it('bulk creates over the same accounts in opposite orders, concurrently, without deadlock', async () => {
    const a = await activeLoan();
    const b = await activeLoan();
    const fee = (loan: string) => ({ loan, fee_type: 'other', amount: 1, due_date: '2024-02-01' });
    const calls = Array.from({ length: 8 }, (_, i) => post('/v1/lms/fees/bulk_create/', { fees: i % 2 ? [fee(a.loan.id), fee(b.loan.id)] : [fee(b.loan.id), fee(a.loan.id)] }));
    const statuses = (await Promise.all(calls)).map((r) => r.status);
    expect(statuses).toEqual(Array(8).fill(201));
  });

  it('refuses a GST rate above 100 and dues beyond the money range; a future fee is upcoming', async () => {
    const { loan } = await activeLoan();
    const gst = await post('/v1/lms/fees/', { loan: loan.id, fee_type: 'other', amount: 10, gst_rate: 250, due_date: '2024-02-01' });
    expect(gst.status).toBe(400);
    expect(gst.body.errors).toHaveProperty('gst_rate');
    const big = await post('/v1/lms/fees/', { loan: loan.id, fee_type: 'other', amount: 10_000_000_000_000, gst_rate: 18, due_date: '2024-02-01' });
    expect(big.status).toBe(409);
    expect(await ctx.db.prisma.fee.count({ where: { loanId: loan.id } })).toBe(0);
    const future = await post('/v1/lms/fees/', { loan: loan.id, fee_type: 'other', amount: 10, due_date: '2099-02-10' });
    expect(future.status).toBe(201);
    expect((await ctx.db.prisma.demand.findUnique({ where: { id: future.body.demand } }))!.status).toBe('upcoming');
  });

  it('two concurrent deletes of one fee: one audit row', async () => {
    const { loan } = await activeLoan();
    const fee = (await post('/v1/lms/fees/', { loan: loan.id, fee_type: 'other', amount: 10, due_date: '2024-02-01' })).body;
    const del = () => ctx.http().delete(`/v1/lms/fees/${fee.id}/`).set('Authorization', tenant.bearer('maker'));
    expect((await Promise.all([del(), del(), del()])).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await ctx.db.prisma.auditEvent.count({ where: { entityId: fee.id, action: 'deleted' } })).toBe(1);
  });
});

describe('loan params', () => {
  it('a fixed fee must be rupees with two decimals, within range (else every disbursement would fail)', async () => {
    const lead = { lead_id: newId(), program_id: newId() };
    const res = await post('/v1/lms/accounts/initiate_loan_params/', { ...lead, pf_value_type: 'fixed', pf_value: '100.555', pf_is_enabled: true });
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveProperty('pf_value');
    const huge = await post('/v1/lms/accounts/initiate_loan_params/', { ...lead, pf_value_type: 'fixed', pf_value: '99999999999999' });
    expect(huge.status).toBe(400);
    expect((await post('/v1/lms/accounts/initiate_loan_params/', { ...lead, pf_value_type: 'fixed', pf_value: '1500.50' })).status).toBe(201);
  });

  it('a closed account bound to the lead does not block a line amount change for the others', async () => {
    const lead = { lead_id: newId(), program_id: newId() };
    const open = await ctx.app.services.accounts.create(by(), { name: 'Open', sanctioned_limit: 100n, ...lead });
    const closed = await ctx.app.services.accounts.create(by(), { name: 'Closed', sanctioned_limit: 100n, ...lead });
    await ctx.app.services.accountOverview.close(by(), closed.id);
    expect((await post('/v1/lms/accounts/initiate_loan_params/', { ...lead, line_detail: { approved_line_amount: 5000 } })).status).toBe(201);
    expect((await ctx.app.services.accounts.get(tenant.companyId, open.id)).sanctionedLimitPaise).toBe(5000_00n);
  });
});

describe('refresh limit', () => {
  it('a viewer cannot call it (it may rewrite figures)', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const res = await ctx.http().get(`/v1/lms/accounts/${account.id}/refresh_limit/`).set('Authorization', tenant.bearer('viewer'));
    expect(res.status).toBe(403);
  });
});

describe('idempotency', () => {
  it('a request whose key was taken over while it ran does not commit its effect', async () => {
    const key = newId();
    const name = `superseded-${key}`;
    const local = await buildTestApp({
      register: async (app) => {
        app.post('/v1/lms/__slow_write/', async (request) => {
          await app.services.accounts.create(request.auth!, { name, sanctioned_limit: 1n });
          // Meanwhile the lock lapses and a retry takes the key over (simulated).
          await ctx.db.pool.query(`UPDATE idempotency_keys SET created_at = now() + interval '1 second' WHERE company_id = $1 AND key = $2`, [tenant.companyId, key]);
          return { ok: true };
        });
      },
    });
    try {
      const res = await local.http().post('/v1/lms/__slow_write/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({});
      expect(res.status).toBe(409);
      expect(await ctx.db.prisma.account.count({ where: { companyId: tenant.companyId, name } })).toBe(0);
    } finally {
      await local.close();
    }
  });
});
