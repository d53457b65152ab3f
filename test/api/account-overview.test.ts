import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'overview');
});
afterAll(async () => { await ctx.close(); });

const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string) => ctx.http().get(url).set('Authorization', tenant.bearer('viewer'));
const close = (id: string) => ctx.http().put(`/v1/lms/accounts/${id}/close/`).set('Authorization', tenant.bearer('maker'));

async function activeLoan(sanctioned = 1_000_000_00n) {
  const account = await accountWithParams(ctx, tenant.companyId, undefined, sanctioned);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100_000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
  return { account, loan };
}

describe('Get Summary', () => {
  it('a new account: its limits and nothing outstanding', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const res = await get(`/v1/lms/accounts/${account.id}/summary/`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      limits: { sanctioned: 1000000, available: 1000000, used: 0, blocked: 0 },
      outstanding: { P: 0, NI: 0, OI: 0, PI: 0, FEE: 0, total: 0 }, dpd: 0, asset_class: 'standard', loans_by_status: {},
    });
  });

  it('an active loan: outstanding by component from its demands; past dues are overdue', async () => {
    const { account, loan } = await activeLoan();
    const demands = await ctx.db.prisma.demand.findMany({ where: { loanId: loan.id } });
    const interest = demands.reduce((s, d) => s + d.niDuePaise, 0n);
    const res = await get(`/v1/lms/accounts/${account.id}/summary/`);
    expect(res.body.outstanding).toMatchObject({ P: 100000, NI: Number(interest) / 100, FEE: 0 });
    expect(res.body.outstanding.total).toBe(100000 + Number(interest) / 100);
    // Every installment of a 2024 schedule is due before today (the tests run after 2025).
    expect(res.body.overdue.total).toBe(res.body.outstanding.total);
    expect(res.body.limits).toMatchObject({ used: 100000, blocked: 0, available: 900000 });
    expect(res.body.loans_by_status).toEqual({ active: 1 });
  });
});

describe('Refresh Limit', () => {
  it('recomputes used and blocked from the loans, fixes drift once, and reports both figures', async () => {
    const { account } = await activeLoan();
    await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 50_000_00n });
    // Simulate drift: the stored line claims a different split (still internally consistent).
    await ctx.db.pool.query(`UPDATE line_details SET used_paise = 0, blocked_paise = 0, available_paise = approved_paise WHERE account_id = $1`, [account.id]);
    const refresh = () => ctx.http().get(`/v1/lms/accounts/${account.id}/refresh_limit/`).set('Authorization', tenant.bearer('maker'));
    const first = await refresh();
    expect(first.status).toBe(200);
    expect(first.body.drifted).toBe(true);
    const line = first.body.lines[0];
    expect(line.stored).toMatchObject({ used: 0, blocked: 0, available: 1000000 });
    expect(line.computed).toMatchObject({ used: 100000, blocked: 50000, available: 850000 });
    expect(first.body.available_limit).toBe(850000);
    const second = await refresh();
    expect(second.body.drifted).toBe(false);
  });
});

describe('Close Loan Account', () => {
  it('refuses while dues are outstanding or a loan awaits its payout, naming why', async () => {
    const { account } = await activeLoan();
    const res = await close(account.id);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/outstanding dues/);
    const pending = await accountWithParams(ctx, tenant.companyId);
    await ctx.app.services.loans.initiateDisbursement(by(), pending.id, { amount: 100_00n });
    const blocked = await close(pending.id);
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toMatch(/awaiting disbursement/);
    expect(blocked.body.detail).toMatch(/payout\(s\) in flight/);
  });

  it('shows the excess balance, and refuses to close while excess or an unprocessed record remains', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, {
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100_000_00n });
    await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
    // Day 20 payoff is 1,01,083.33; 100 more stays as excess.
    const record = await ctx.app.services.records.create(by(), { account: account.id, received_amount: 101_183_33n });
    await ctx.app.services.records.markProcessed(by(), record.id, { utr: `OVX${Date.now()}`, settled_at: new Date('2024-01-20T06:30:00Z') });
    const summary = (await get(`/v1/lms/accounts/${account.id}/summary/`)).body;
    expect(summary.excess).toEqual({ balance: 100, reserved: 0, available: 100 });
    expect(summary.outstanding.total).toBe(0);
    expect(summary.loans_by_status).toEqual({ closed: 1 });
    const refused = await close(account.id);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/excess balance of 10000 paise/);
    await ctx.db.prisma.record.update({ where: { id: record.id }, data: { remainingPaise: 0n, refundedPaise: 100_00n } });
    await ctx.app.services.records.create(by(), { account: account.id, received_amount: 1_00n });
    expect((await close(account.id)).body.detail).toMatch(/1 record\(s\) not yet processed/);
  });

  it('closes an account with nothing outstanding; closing again is harmless; a closed account cannot draw', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const res = await close(account.id);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('closed');
    expect((await close(account.id)).status).toBe(200);
    const draw = await ctx.http().post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`).set('Authorization', tenant.bearer('maker')).send({ amount: 1 });
    expect(draw.status).toBe(409);
  });
});
