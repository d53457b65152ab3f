import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let loanId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'fees');
  const by = { companyId: tenant.companyId, actor: 'test' };
  const account = await accountWithParams(ctx, tenant.companyId);
  loanId = (await ctx.app.services.loans.initiateDisbursement(by, account.id, { amount: 100_000_00n })).loan.id;
  await ctx.app.services.loans.activate(by, loanId, '2024-01-01');
});
afterAll(async () => { await ctx.close(); });

const post = (url: string, body: object, t = tenant) => ctx.http().post(url).set('Authorization', t.bearer('maker')).send(body);
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));

describe('Fees', () => {
  it('creates a fee as a FEE demand of amount + GST (GST rounded once, half up)', async () => {
    const res = await post('/v1/lms/fees/', { loan: loanId, fee_type: 'bounce_charge', amount: 590.5, due_date: '2024-02-10' });
    expect(res.status).toBe(201);
    // 18% of 590.50 = 106.29 exactly.
    expect(res.body).toMatchObject({ fee_type: 'bounce_charge', amount: 590.5, gst_rate: 18, gst_amount: 106.29, total_amount: 696.79, status: 'active' });
    const demand = await ctx.db.prisma.demand.findUnique({ where: { id: res.body.demand } });
    expect(demand).toMatchObject({ kind: 'fee', feeDuePaise: 69679n, pDuePaise: 0n, status: 'due' });
    const details = await get(`/v1/lms/fees/${res.body.id}/`);
    expect(details.body).toEqual(res.body);
    const demands = await get(`/v1/lms/fees/demands/?loan=${loanId}`);
    expect(demands.body.results.map((d: { id: string }) => d.id)).toContain(res.body.demand);
    expect(demands.body.results.every((d: { kind: string }) => d.kind === 'fee')).toBe(true);
    // 0.5 paisa rounds half up: 18% of 0.03 = 0.0054 -> 0.01
    const tiny = await post('/v1/lms/fees/', { loan: loanId, fee_type: 'other', amount: 0.03, gst_rate: 18, due_date: '2024-02-10' });
    expect(tiny.body.gst_amount).toBe(0.01);
  });

  it('bulk creates all or nothing', async () => {
    const before = await ctx.db.prisma.fee.count({ where: { companyId: tenant.companyId } });
    const bad = await post('/v1/lms/fees/bulk_create/', { fees: [
      { loan: loanId, fee_type: 'late_fee', amount: 100, due_date: '2024-03-01' },
      { loan: newId(), fee_type: 'late_fee', amount: 100, due_date: '2024-03-01' },
    ] });
    expect(bad.status).toBe(404);
    expect(bad.body.errors).toHaveProperty(['fees.1.loan']);
    expect(await ctx.db.prisma.fee.count({ where: { companyId: tenant.companyId } })).toBe(before);
    const ok = await post('/v1/lms/fees/bulk_create/', { fees: [
      { loan: loanId, fee_type: 'late_fee', amount: 100, gst_rate: 0, due_date: '2024-03-01' },
      { loan: loanId, fee_type: 'documentation', amount: 250, due_date: '2024-03-01' },
    ] });
    expect(ok.status).toBe(201);
    expect(ok.body.count).toBe(2);
    expect(ok.body.results[0]).toMatchObject({ gst_amount: 0, total_amount: 100 });
  });

  it('deletes only an unsettled fee; its demand is cancelled, the rows kept', async () => {
    const fee = (await post('/v1/lms/fees/', { loan: loanId, fee_type: 'other', amount: 10, due_date: '2024-02-10' })).body;
    const del = await ctx.http().delete(`/v1/lms/fees/${fee.id}/`).set('Authorization', tenant.bearer('maker'));
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('deleted');
    expect((await ctx.db.prisma.demand.findUnique({ where: { id: fee.demand } }))!.status).toBe('cancelled');
    const paid = (await post('/v1/lms/fees/', { loan: loanId, fee_type: 'other', amount: 10, due_date: '2024-02-10' })).body;
    await ctx.db.prisma.demand.update({ where: { id: paid.demand }, data: { feePaidPaise: 100n } });
    const refused = await ctx.http().delete(`/v1/lms/fees/${paid.id}/`).set('Authorization', tenant.bearer('maker'));
    expect(refused.status).toBe(409);
  });

  it('validates, scopes and lists', async () => {
    const bad = await post('/v1/lms/fees/', { loan: 'x', fee_type: 'gift', amount: -1, due_date: '2024-02-30', extra: 1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['amount', 'due_date', 'extra', 'fee_type', 'loan']);
    const other = await createTenant(ctx, 'fees-other');
    expect((await post('/v1/lms/fees/', { loan: loanId, fee_type: 'other', amount: 1, due_date: '2024-02-10' }, other)).status).toBe(404);
    const list = await get(`/v1/lms/fees/?loan=${loanId}&fee_type=bounce_charge`);
    expect(list.status).toBe(200);
    expect(list.body.results.every((f: { fee_type: string }) => f.fee_type === 'bounce_charge')).toBe(true);
    expect((await get(`/v1/lms/fees/?loan=${loanId}`, other)).body.count).toBe(0);
  });
});
