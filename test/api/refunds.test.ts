// Excess refunds through the API: the excess is reserved at once, so it is never refunded twice;
// the refund payout's outcome consumes or releases it; conservation holds throughout:
// settlements + remaining + refunded = amount, read from the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams, EMI_PARAMS } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'refunds');
  bankId = (await ctx.app.services.collectionBanks.create({ companyId: tenant.companyId, actor: 'test' }, {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const BANK = { account_no: '50100012345678', ifsc: 'HDFC0001234', account_holder_name: 'Borrower Traders' };
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const post = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().post(url).set('Authorization', t.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'checker') => ctx.http().put(url).set('Authorization', tenant.bearer(role)).send(body);
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);
const refund = (recordId: string, body: object = { credit_bank: BANK }, role: Role = 'maker') => post(`/v1/lms/records/${recordId}/initiate_excess_refund/`, body, role);
const processPayout = (id: string) => put(`/v1/lms/payouts/${id}/process/`, { status: 'processed', utr: `UTR${newId().replace(/-/g, '').slice(0, 16)}` });
const failPayout = (id: string) => put(`/v1/lms/payouts/${id}/process/`, { status: 'failed', failed_remark: 'account closed' });

/** An account with a 1,00,000 loan at 12% for 12 months (EMI 8,884.88), disbursed 1 Jan 2024. */
async function emiLoan(params: Record<string, unknown> = EMI_PARAMS) {
  const account = await accountWithParams(ctx, tenant.companyId, params);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
  return { account, loan };
}

async function processed(accountId: string, amount: number, date: string, extra: object = {}) {
  const created = await post('/v1/lms/records/', { account: accountId, amount, ...extra });
  expect(created.status).toBe(201);
  const res = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, { utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn(date), collection_bank_id: bankId }, 'maker');
  expect(res.status).toBe(200);
  return res.body;
}

/** 10,000 paid on 5 Feb 2024 against EMI 1 (8,884.88): 1,115.12 of excess. */
async function withExcess(extra: object = {}) {
  const { account, loan } = await emiLoan();
  const record = await processed(account.id, 10000, '2024-02-05', extra);
  expect(record.remaining_amount).toBe(1115.12);
  return { account, loan, record };
}

/** The record's figures in paise, after checking conservation from the database. */
async function figures(recordId: string) {
  const r = (await ctx.db.client.record.findUnique({ where: { id: recordId } }))!;
  const settled = (await ctx.db.client.settlement.aggregate({ where: { recordId }, _sum: { amountPaise: true } }))._sum.amountPaise ?? 0n;
  expect(settled + r.remainingPaise + r.refundedPaise).toBe(r.amountPaise);
  return { remaining: r.remainingPaise, reserved: r.reservedPaise, refunded: r.refundedPaise };
}

describe('Initiate Excess Payment Refund (POST records/{id}/initiate_excess_refund/)', () => {
  it('reserves the whole excess at once; a second refund is a 409; success moves it to refunded', async () => {
    const { record } = await withExcess();
    const res = await refund(record.id, { credit_bank: BANK, payout_to: 'borrower', remark: 'overpaid' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: record.id, remaining_amount: 1115.12, reserved_amount: 1115.12, refunded_amount: 0 });
    expect(res.body.payout).toMatchObject({
      type: 'refund', status: 'requested', amount: 1115.12, record: record.id, account: record.account, loan: null, payout_to: 'borrower', attempt: 1,
      credit_bank: { account_no: BANK.account_no, ifsc: BANK.ifsc, account_holder_name: BANK.account_holder_name },
    });
    expect(await figures(record.id)).toEqual({ remaining: 111512n, reserved: 111512n, refunded: 0n });
    const again = await refund(record.id);
    expect(again.status).toBe(409);
    expect(again.body.errors).toHaveProperty('amount');

    const done = await processPayout(res.body.payout.id);
    expect(done.status).toBe(200);
    expect(await figures(record.id)).toEqual({ remaining: 0n, reserved: 0n, refunded: 111512n });
    const wire = (await get(`/v1/lms/records/${record.id}/`)).body;
    expect(wire).toMatchObject({ remaining_amount: 0, reserved_amount: 0, refunded_amount: 1115.12 });
    const audit = await ctx.db.client.auditEvent.findMany({ where: { entityId: record.id } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['excess_reserved', 'excess_refunded']));
    expect((await refund(record.id)).status).toBe(409);
  });

  it('a partial amount reserves only that much; the rest stays available', async () => {
    const { record } = await withExcess();
    expect((await refund(record.id, { amount: 500, credit_bank: BANK })).body.reserved_amount).toBe(500);
    const over = await refund(record.id, { amount: 615.13, credit_bank: BANK });
    expect(over.status).toBe(409);
    expect(over.body.errors.amount[0]).toContain('615.12');
    expect((await refund(record.id, { credit_bank: BANK })).body.payout.amount).toBe(615.12);
    expect(await figures(record.id)).toEqual({ remaining: 111512n, reserved: 111512n, refunded: 0n });
  });

  it('failure releases the reservation, retry reserves it again, success consumes it', async () => {
    const { record } = await withExcess();
    const payout = (await refund(record.id, { amount: 1000, credit_bank: BANK })).body.payout;
    expect((await failPayout(payout.id)).body.status).toBe('failed');
    expect(await figures(record.id)).toEqual({ remaining: 111512n, reserved: 0n, refunded: 0n });
    const retried = await put(`/v1/lms/payouts/${payout.id}/retry/`, {}, 'maker');
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'requested', attempt: 2 });
    expect(await figures(record.id)).toEqual({ remaining: 111512n, reserved: 100000n, refunded: 0n });
    expect((await processPayout(payout.id)).status).toBe(200);
    expect(await figures(record.id)).toEqual({ remaining: 11512n, reserved: 0n, refunded: 100000n });
    const actions = (await ctx.db.client.auditEvent.findMany({ where: { entityId: record.id }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    expect(actions.filter((a) => a.startsWith('excess_'))).toEqual(['excess_reserved', 'excess_released', 'excess_reserved', 'excess_refunded']);
  });

  it('a retry whose excess was refunded meanwhile is a 409; cancelling releases a requested refund, not a failed one twice', async () => {
    const { record } = await withExcess();
    const first = (await refund(record.id, { amount: 1000, credit_bank: BANK })).body.payout;
    await failPayout(first.id);
    const second = (await refund(record.id, { credit_bank: BANK })).body.payout;
    expect(second.amount).toBe(1115.12);
    const retry = await put(`/v1/lms/payouts/${first.id}/retry/`, {}, 'maker');
    expect(retry.status).toBe(409);
    expect(retry.body.errors).toHaveProperty('amount');
    expect((await get(`/v1/lms/payouts/${first.id}/`)).body.status).toBe('failed');
    // Cancelling the failed one changes nothing it no longer holds; cancelling the requested one releases.
    expect((await put(`/v1/lms/payouts/${first.id}/cancel/`, {})).body.status).toBe('cancelled');
    expect(await figures(record.id)).toEqual({ remaining: 111512n, reserved: 111512n, refunded: 0n });
    expect((await put(`/v1/lms/payouts/${second.id}/cancel/`, { remark: 'borrower asked to adjust instead' })).body.status).toBe('cancelled');
    expect(await figures(record.id)).toEqual({ remaining: 111512n, reserved: 0n, refunded: 0n });
  });

  it('10 parallel refund requests reserve exactly the excess available, never more', async () => {
    const { record } = await withExcess();
    const results = await Promise.all(Array.from({ length: 10 }, () => refund(record.id, { amount: 300, credit_bank: BANK })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    expect((await figures(record.id)).reserved).toBe(90000n);
    const whole = await Promise.all(Array.from({ length: 10 }, () => refund(record.id)));
    expect(whole.map((r) => r.status).filter((s) => s === 201)).toHaveLength(1);
    expect(await figures(record.id)).toEqual({ remaining: 111512n, reserved: 111512n, refunded: 0n });
    const payouts = await ctx.db.client.payout.findMany({ where: { recordId: record.id } });
    expect(payouts.reduce((s, p) => s + p.amountPaise, 0n)).toBe(111512n);
  });

  it("refunds to the payer's bank account when the record carries one; otherwise credit_bank is required", async () => {
    const { record } = await withExcess({ payer: { name: 'Borrower Traders', account_no: '000111222333', ifsc: 'icic0000001' } });
    const res = await refund(record.id, {});
    expect(res.status).toBe(201);
    expect(res.body.payout.credit_bank).toMatchObject({ account_no: '000111222333', ifsc: 'ICIC0000001', account_holder_name: 'Borrower Traders' });
    const { record: anonymous } = await withExcess();
    const missing = await refund(anonymous.id, {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors.credit_bank[0]).toContain('required');
    expect((await figures(anonymous.id)).reserved).toBe(0n);
  });

  it('validates the body and names each bad field', async () => {
    const { record } = await withExcess();
    for (const amount of [0, -5, 1.001, '10']) {
      const res = await refund(record.id, { amount, credit_bank: BANK });
      expect(res.status, `amount ${amount}`).toBe(400);
      expect(res.body.errors).toHaveProperty('amount');
    }
    const bank = await refund(record.id, { credit_bank: { account_no: '12', ifsc: 'BAD', account_holder_name: '' } });
    expect(Object.keys(bank.body.errors)).toEqual(expect.arrayContaining(['credit_bank.account_no', 'credit_bank.ifsc', 'credit_bank.account_holder_name']));
    expect((await refund(record.id, { credit_bank: BANK, payout_to: 'neighbour' })).body.errors).toHaveProperty('payout_to');
    expect((await refund(record.id, { credit_bank: BANK, utr: 'X' })).status).toBe(400);
    expect((await refund('nope')).body.errors).toHaveProperty('id');
    expect((await figures(record.id)).reserved).toBe(0n);
  });

  it('404 for a missing or foreign record, 403 for a viewer, 409 for a record with nothing to refund', async () => {
    const { account, record } = await withExcess();
    const other = await createTenant(ctx, 'refunds-other');
    const missing = await refund(newId());
    expect(missing.status).toBe(404);
    const foreign = await post(`/v1/lms/records/${record.id}/initiate_excess_refund/`, { credit_bank: BANK }, 'maker', other);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect((await refund(record.id, { credit_bank: BANK }, 'viewer')).status).toBe(403);
    const pending = (await post('/v1/lms/records/', { account: account.id, amount: 5 })).body;
    expect((await refund(pending.id)).body.errors).toHaveProperty('status');
    const exact = await processed(account.id, 8884.88, '2024-03-05');
    expect(exact.remaining_amount).toBe(0);
    const nothing = await refund(exact.id);
    expect(nothing.status).toBe(409);
    expect(nothing.body.errors).toHaveProperty('amount');
  });

  it("a cashback's leftover is not money received: it cannot be refunded", async () => {
    const { loan } = await emiLoan({ ...EMI_PARAMS, cashback_is_enabled: true });
    const made = await post(`/v1/lms/loans/${loan.id}/adjustments/`, { amount: 9000, type: 'cashback', date: '2024-02-05' });
    const approved = await put(`/v1/lms/records/${made.body.id}/approve/`, {});
    expect(approved.body.remaining_amount).toBe(115.12);
    const res = await refund(made.body.id);
    expect(res.status).toBe(409);
    expect(res.body.errors).toHaveProperty('type');
    expect((await post(`/v1/lms/loans/${loan.id}/refunds/`, { credit_bank: BANK })).status).toBe(409);
    const listed = (await get(`/v1/lms/loans/excess/?account=${approved.body.account}`)).body.results[0];
    expect(listed).toMatchObject({ id: loan.id, excess_amount: 115.12, refundable_amount: 0 });
  });

  it('replays an idempotent refund instead of reserving twice', async () => {
    const { record } = await withExcess();
    const key = `refund-${newId()}`;
    const send = () => ctx.http().post(`/v1/lms/records/${record.id}/initiate_excess_refund/`).set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({ amount: 100, credit_bank: BANK });
    const a = await send();
    const b = await send();
    expect(a.status).toBe(201);
    expect(b.headers['idempotency-replayed']).toBe('true');
    expect(b.body.payout.id).toBe(a.body.payout.id);
    expect(await ctx.db.client.payout.count({ where: { recordId: record.id } })).toBe(1);
    expect((await figures(record.id)).reserved).toBe(10000n);
  });
});

describe('Initiate Refund (POST loans/{id}/refunds/)', () => {
  /** An account with two loans; excess on a record naming loan B, on an account-wide record, and on one naming loan A. */
  async function twoLoans() {
    const { account, loan: a } = await emiLoan();
    const { loan: b } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 50000_00n });
    await ctx.app.services.loans.activate(by(), b.id, '2024-01-01');
    const forB = await processed(account.id, 200, '2024-01-10', { loans: [b.id] });
    const wide = await processed(account.id, 300, '2024-01-11');
    const forA = await processed(account.id, 400, '2024-01-12', { loans: [a.id] });
    return { account, a, b, forA, forB, wide };
  }

  it("refunds the loan's excess oldest record first, one payout per record; records naming other loans are left alone", async () => {
    const { a, forA, forB, wide } = await twoLoans();
    const res = await post(`/v1/lms/loans/${a.id}/refunds/`, { amount: 500, credit_bank: BANK });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ amount: 500, count: 2 });
    expect(res.body.results.map((r: { id: string; payout: { amount: number; loan: string } }) => [r.id, r.payout.amount, r.payout.loan]))
      .toEqual([[wide.id, 300, a.id], [forA.id, 200, a.id]]);
    expect(await figures(wide.id)).toEqual({ remaining: 30000n, reserved: 30000n, refunded: 0n });
    expect(await figures(forA.id)).toEqual({ remaining: 40000n, reserved: 20000n, refunded: 0n });
    expect((await figures(forB.id)).reserved).toBe(0n);
    const over = await post(`/v1/lms/loans/${a.id}/refunds/`, { amount: 200.01, credit_bank: BANK });
    expect(over.status).toBe(409);
    expect(over.body.errors.amount[0]).toContain('200');
    const rest = await post(`/v1/lms/loans/${a.id}/refunds/`, { credit_bank: BANK });
    expect(rest.body).toMatchObject({ amount: 200, count: 1 });
    expect((await post(`/v1/lms/loans/${a.id}/refunds/`, { credit_bank: BANK })).status).toBe(409);
    for (const r of [...res.body.results, ...rest.body.results]) expect((await processPayout(r.payout.id)).status).toBe(200);
    expect(await figures(forA.id)).toEqual({ remaining: 0n, reserved: 0n, refunded: 40000n });
    expect(await figures(wide.id)).toEqual({ remaining: 0n, reserved: 0n, refunded: 30000n });
  });

  it('validates, answers 404 for missing or foreign loans and 403 for viewers, and replays with an Idempotency-Key', async () => {
    const { a, b } = await twoLoans();
    expect((await post(`/v1/lms/loans/${a.id}/refunds/`, { amount: 0 })).body.errors).toHaveProperty('amount');
    expect((await post(`/v1/lms/loans/${a.id}/refunds/`, { credit_bank: { ...BANK, ifsc: 'X' } })).body.errors).toHaveProperty(['credit_bank.ifsc']);
    expect((await post(`/v1/lms/loans/${a.id}/refunds/`, {})).body.errors).toHaveProperty('credit_bank');
    const missing = await post(`/v1/lms/loans/${newId()}/refunds/`, { credit_bank: BANK });
    expect(missing.status).toBe(404);
    const other = await createTenant(ctx, 'refunds-loan-other');
    const foreign = await post(`/v1/lms/loans/${a.id}/refunds/`, { credit_bank: BANK }, 'maker', other);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect((await post(`/v1/lms/loans/${a.id}/refunds/`, { credit_bank: BANK }, 'viewer')).status).toBe(403);
    const key = `loan-refund-${newId()}`;
    const send = () => ctx.http().post(`/v1/lms/loans/${b.id}/refunds/`).set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({ credit_bank: BANK });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(201);
    expect(second.headers['idempotency-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(first.body.amount).toBe(500);
    expect(await ctx.db.client.payout.count({ where: { loanId: b.id, type: 'refund' } })).toBe(2);
  });
});

describe('List Loans with Excess Balance (GET loans/excess/)', () => {
  it('lists loans with the excess attributed to them, the refundable part and the account total; reservations reduce it', async () => {
    const { account, loan } = await emiLoan();
    const { loan: b } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 50000_00n });
    await ctx.app.services.loans.activate(by(), b.id, '2024-01-01');
    const forB = await processed(account.id, 200, '2024-01-10', { loans: [b.id] });
    // Pays EMI 1 of both loans (due 1 Feb) and leaves 1,000 over: attributed to both (it settled on both).
    const both = await processed(account.id, 14327.32, '2024-02-05');
    expect(both.remaining_amount).toBe(1000);
    const page = (await get(`/v1/lms/loans/excess/?account=${account.id}`)).body;
    expect(page).toMatchObject({ count: 2, current_page: 1, page_size: 15 });
    const byId = new Map(page.results.map((r: { id: string }) => [r.id, r]));
    expect(byId.get(loan.id)).toMatchObject({ excess_amount: 1000, refundable_amount: 1000, account_excess_amount: 1200, excess_records: 1, ref_id: loan.refId });
    expect(byId.get(b.id)).toMatchObject({ excess_amount: 1200, refundable_amount: 1200, account_excess_amount: 1200, excess_records: 2 });
    await refund(forB.id, { amount: 150, credit_bank: BANK });
    const after = (await get(`/v1/lms/loans/excess/?account=${account.id}`)).body.results;
    expect(after.find((r: { id: string }) => r.id === b.id)).toMatchObject({ excess_amount: 1050, account_excess_amount: 1050 });
    expect((await get(`/v1/lms/loans/excess/?account=${account.id}&page=2&page_size=1`)).body).toMatchObject({ count: 2, results: [expect.objectContaining({ id: page.results[1].id })] });
    const everything = (await get('/v1/lms/loans/excess/?page_size=100')).body;
    expect(everything.results.every((r: { company: string }) => r.company === tenant.companyId)).toBe(true);
  });

  it("validates the query and never shows another company's loans", async () => {
    const { account } = await withExcess();
    expect((await get('/v1/lms/loans/excess/?account=nope')).body.errors).toHaveProperty('account');
    expect((await get('/v1/lms/loans/excess/?page_size=101')).body.errors).toHaveProperty('page_size');
    expect((await get('/v1/lms/loans/excess/?colour=red')).status).toBe(400);
    const other = await createTenant(ctx, 'excess-other');
    expect((await get(`/v1/lms/loans/excess/?account=${account.id}`, other)).body).toMatchObject({ count: 0, results: [] });
    expect((await get(`/v1/lms/loans/excess/?account=${account.id}`)).body.count).toBe(1);
  });
});
