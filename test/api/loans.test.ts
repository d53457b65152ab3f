import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'loans');
});
afterAll(async () => { await ctx.close(); });

const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const disburse = (accountId: string, body: object, t = tenant) =>
  ctx.http().post(`/v1/lms/accounts/${accountId}/initiate_disbursement/`).set('Authorization', t.bearer('maker')).send(body);
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));

describe('Initiate Disbursement and activation', () => {
  it('EMI loan: pending loan, net payout, blocked limit; activation writes the schedule and uses the limit', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const res = await disburse(account.id, { amount: 100000 });
    expect(res.status).toBe(201);
    // 1% processing fee (1,000) + 18% GST on it (180) come out of the payout.
    expect(res.body).toMatchObject({ status: 'pending_disbursement', kind: 'emi', principal_amount: 100000, net_disbursal_amount: 98820, disbursed_amount: 0 });
    expect(res.body.ref_id).toMatch(/^LOAN\d{7}$/);
    expect(res.body.payout).toMatchObject({ type: 'disbursement', status: 'requested', amount: 98820, utr: null, processed_at: null, bank_date: null });
    let acc = await get(`/v1/lms/accounts/${account.id}/`);
    expect(acc.body.available_limit).toBe(900000);
    const line = (await get(`/v1/lms/line_details/type/primary/?account=${account.id}`)).body;
    expect(line).toMatchObject({ approved_amount: 1000000, available_amount: 900000, blocked_amount: 100000, used_amount: 0 });

    await ctx.app.services.loans.activate(by(), res.body.id, '2024-01-01');
    const loan = (await get(`/v1/lms/loans/${res.body.id}/`)).body;
    expect(loan).toMatchObject({ status: 'active', disbursed_amount: 100000, schedule_version: 1 });
    const emis = (await get(`/v1/lms/emis/?loan=${res.body.id}&page_size=100`)).body;
    expect(emis.count).toBe(12);
    const principal = emis.results.reduce((s: number, d: { components: { P: { due: number } } }) => s + Math.round(d.components.P.due * 100), 0);
    expect(principal).toBe(10000000);
    expect(emis.results[0]).toMatchObject({ installment_number: 1, due_amount: 8884.88, components: { P: { due: 7884.88 }, NI: { due: 1000 } } });
    expect((await get(`/v1/lms/loans/${res.body.id}/emi_amount/`)).body).toMatchObject({ emi_amount: 8884.88, installments: 12 });
    const after = (await get(`/v1/lms/line_details/type/primary/?account=${account.id}`)).body;
    expect(after).toMatchObject({ available_amount: 900000, blocked_amount: 0, used_amount: 100000 });
    acc = await get(`/v1/lms/accounts/${account.id}/`);
    expect(acc.body.available_limit).toBe(900000);

    // Activating again changes nothing.
    await ctx.app.services.loans.activate(by(), res.body.id, '2024-02-01');
    expect((await get(`/v1/lms/emis/?loan=${res.body.id}`)).body.count).toBe(12);
  });

  it('bullet loan with upfront interest: the payout is net of the interest', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, {
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }], interest_collection: 'upfront',
    });
    const res = await disburse(account.id, { amount: 100000 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'bullet', upfront_interest: 2750, net_disbursal_amount: 97250 });
    await ctx.app.services.loans.activate(by(), res.body.id, '2024-01-01');
    const emis = (await get(`/v1/lms/emis/?loan=${res.body.id}`)).body;
    expect(emis.count).toBe(1);
    expect(emis.results[0].components.NI).toEqual({ due: 2750, paid: 2750, waived: 0, outstanding: 0 });
    expect(emis.results[0].outstanding_amount).toBe(100000);
  });

  it('refuses what the limit, the account or the params do not allow', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, undefined, 50_000_00n);
    const over = await disburse(account.id, { amount: 60000 });
    expect(over.status).toBe(409);
    expect(over.body.errors).toHaveProperty('amount');
    const noParams = await ctx.app.services.accounts.create(by(), { name: 'No params', sanctioned_limit: 100n });
    expect((await disburse(noParams.id, { amount: 1 })).status).toBe(409);
    await ctx.app.services.accounts.update(by(), account.id, { status: 'frozen' });
    expect((await disburse(account.id, { amount: 100 })).status).toBe(409);
    expect((await disburse(newId(), { amount: 100 })).status).toBe(404);
    const other = await createTenant(ctx, 'loans-other');
    expect((await disburse(account.id, { amount: 100 }, other)).status).toBe(404);
    const bad = await disburse(account.id, { amount: 0, extra: 1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['amount', 'extra']);
  });

  it('parallel drawdowns that together exceed the limit: exactly the ones that fit are accepted', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, undefined, 100_000_00n);
    const results = await Promise.all(Array.from({ length: 10 }, () => disburse(account.id, { amount: 30000 })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    const line = (await get(`/v1/lms/line_details/type/primary/?account=${account.id}`)).body;
    expect(line).toMatchObject({ blocked_amount: 90000, available_amount: 10000 });
  });

  it('disburses under loan data, which then cannot be reused', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const data = await ctx.app.services.loanData.create(by(), account.id, { emi_count: 6 });
    const res = await disburse(account.id, { amount: 1000, loan_data: data.id });
    expect(res.status).toBe(201);
    await ctx.app.services.loans.activate(by(), res.body.id, '2024-03-31');
    expect((await get(`/v1/lms/emis/?loan=${res.body.id}`)).body.count).toBe(6);
    expect((await disburse(account.id, { amount: 1000, loan_data: data.id })).status).toBe(409);
  });

  it('lists loans by account and status; foreign loans are 404', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const created = (await disburse(account.id, { amount: 500 })).body;
    const list = (await get(`/v1/lms/loans/?account=${account.id}&status=pending_disbursement`)).body;
    expect(list.results.map((l: { id: string }) => l.id)).toEqual([created.id]);
    const other = await createTenant(ctx, 'loans-foreign');
    expect((await get(`/v1/lms/loans/${created.id}/`, other)).status).toBe(404);
  });
});
