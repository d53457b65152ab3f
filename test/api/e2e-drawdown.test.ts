// End to end through the API only: an invoice becomes a checked topup, its payout goes to the
// bank in an export file, the bank's signed callback activates the loan with its schedule, a
// repayment is recorded and allocated, and the loan closes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { istDateOf } from '../../src/domain/time.js';
import { signCallback } from '../../src/modules/payouts/callbacks.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'e2e');
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const call = (method: 'get' | 'post' | 'put' | 'patch', url: string, body?: object, role: Role = 'maker') => {
  const req = ctx.http()[method](url).set('Authorization', tenant.bearer(role));
  return body ? req.send(body) : req;
};

describe('a drawdown from invoice to closed loan', () => {
  it('invoice -> topup -> checks -> export -> callback -> active loan -> repayment -> allocated -> closed', async () => {
    const today = istDateOf(new Date());
    // The contract: a 40-day invoice loan on the reference's slabs, Actual/360.
    const lead = { lead_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', program_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c' };
    expect((await call('post', '/v1/lms/accounts/initiate_loan_params/', {
      ...lead, line_detail: { approved_line_amount: 500000 }, days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    })).status).toBe(201);
    const account = await call('post', '/v1/lms/accounts/', { name: 'Acme Traders', sanctioned_limit: 500000, ...lead });
    expect(account.status).toBe(201);
    const collection = await call('post', '/v1/lms/collection_banks/', { account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600' }, 'admin');
    const secret = (await call('post', '/v1/lms/company/payout_callback_secret/', undefined, 'admin')).body.secret;

    // Invoice -> topup, with its checks.
    const topup = await call('post', '/v1/lms/topups/', {
      account: account.body.id, amount: 100000, invoice_number: 'INV-2024-0042', invoice_date: addDays(today, -3), invoice_amount: 120000,
      due_date: addDays(today, 39), anchor_id: 'anchor-acme', credit_bank: { account_no: '50100012345678', ifsc: 'HDFC0001234', account_holder_name: 'Acme Traders' },
    });
    expect(topup.status).toBe(201);
    expect(topup.body.checks.every((c: { result: string }) => c.result === 'passed')).toBe(true);
    expect(topup.body.status).toBe('payout_initiated');
    const line = async () => (await call('get', `/v1/lms/line_details/type/primary/?account=${account.body.id}`, undefined, 'viewer')).body;
    expect(await line()).toMatchObject({ approved_amount: 500000, blocked_amount: 100000, available_amount: 400000, used_amount: 0 });

    // Export for the bank: the payout is now processing, with its bank reference in the file.
    const file = await call('put', '/v1/lms/payouts/export/', { ids: [topup.body.payout] });
    expect(file.headers['x-exported-count']).toBe('1');
    const [, row] = file.text.trim().split('\n');
    const reference = row!.split(',')[1]!;
    expect(row).toContain(',100000.00,Acme Traders,50100012345678,HDFC0001234,');

    // The bank's signed callback: success with a UTR.
    const body = JSON.stringify({ reference, status: 'processed', utr: 'HDFCN52024112400042', bank_date: today, amount: 100000 });
    const callback = await ctx.http().post('/v1/lms/payouts/callback/').set('content-type', 'application/json')
      .set('x-lms-company', tenant.companyId).set('x-lms-signature', signCallback(secret, body)).send(body);
    expect(callback.status).toBe(200);
    expect(callback.body.outcome).toBe('applied');

    // The loan is active with its schedule from the payout date; the topup is disbursed.
    const loan = (await call('get', `/v1/lms/loans/?account=${account.body.id}`, undefined, 'viewer')).body.results[0];
    expect(loan).toMatchObject({ status: 'active', kind: 'bullet', principal_amount: 100000, topup: topup.body.id });
    expect((await call('get', `/v1/lms/topups/${topup.body.id}/`, undefined, 'viewer')).body.status).toBe('disbursed');
    const emis = (await call('get', `/v1/lms/emis/?loan=${loan.id}`, undefined, 'viewer')).body;
    expect(emis.count).toBe(1);
    // 40 days: 100000 x (18% x 15 + 24% x 15 + 36% x 10) / 360 = 750 + 1000 + 1000.
    expect(emis.results[0].components).toMatchObject({ P: { due: 100000 }, NI: { due: 2750 } });
    expect(await line()).toMatchObject({ blocked_amount: 0, used_amount: 100000 });

    // Repayment the same day: principal plus one day's interest (100000 x 18% / 360 = 50) closes it.
    const record = await call('post', '/v1/lms/records/', { account: account.body.id, amount: 100050, payment_mode: 'neft' });
    const processed = await call('put', `/v1/lms/records/${record.body.id}/mark_processed/`, {
      utr: 'ICICR42024112400777', settled_at: Math.floor(Date.now() / 1000), collection_bank_id: collection.body.id,
    });
    expect(processed.status).toBe(200);
    expect(processed.body).toMatchObject({ status: 'processed', remaining_amount: 0, loans: [loan.id] });
    const settlements = (await call('get', `/v1/lms/settlements/?record=${record.body.id}`, undefined, 'viewer')).body.results;
    expect(settlements.map((s: { component: string; amount: number }) => [s.component, s.amount]).sort()).toEqual([['NI', 50], ['P', 100000]]);
    expect((await call('get', `/v1/lms/loans/${loan.id}/`, undefined, 'viewer')).body.status).toBe('closed');
    expect(await line()).toMatchObject({ used_amount: 0, blocked_amount: 0, available_amount: 500000 });
    const summary = (await call('get', `/v1/lms/accounts/${account.body.id}/summary/`, undefined, 'viewer')).body;
    expect(summary).toMatchObject({ outstanding: { total: 0 }, excess: { balance: 0 }, loans_by_status: { closed: 1 } });
    expect((await call('get', `/v1/lms/accounts/${account.body.id}/refresh_limit/`)).body.drifted).toBe(false);
  });
});
