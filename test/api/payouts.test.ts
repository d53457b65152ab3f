// Payouts end to end through the API: lifecycle, limits held and released, retries as new
// attempts, the bank export, and signed callbacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { signCallback } from '../../src/modules/payouts/callbacks.js';
import { addDays, addMonths } from '../../src/domain/dates.js';
import { days360 } from '../../src/domain/interest.js';
import { businessDateToEpoch, istDateOf } from '../../src/domain/time.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let secret: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'payouts');
  const res = await ctx.http().post('/v1/lms/company/payout_callback_secret/').set('Authorization', tenant.bearer('admin'));
  expect(res.status).toBe(201);
  secret = res.body.secret;
});
afterAll(async () => { await ctx.close(); });

const BANK = { account_no: '50100012345678', ifsc: 'HDFC0001234', account_holder_name: 'Borrower Traders' };
const as = (role: 'admin' | 'maker' | 'checker' | 'viewer', t = tenant) => ({ Authorization: t.bearer(role) });
const get = (url: string, t = tenant) => ctx.http().get(url).set(as('viewer', t));
const put = (url: string, body: object, role: 'admin' | 'maker' | 'checker' | 'viewer' = 'checker') => ctx.http().put(url).set(as(role)).send(body);
const post = (url: string, body: object, role: 'admin' | 'maker' | 'checker' | 'viewer' = 'maker') => ctx.http().post(url).set(as(role)).send(body);

async function disbursed(amount = 100000, extra: object = {}, limitPaise = 1_000_000_00n) {
  const account = await accountWithParams(ctx, tenant.companyId, undefined, limitPaise);
  const res = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount, credit_bank: BANK, ...extra });
  expect(res.status).toBe(201);
  return { account, loan: res.body, payout: res.body.payout };
}

async function line(accountId: string) {
  const l = (await get(`/v1/lms/line_details/type/primary/?account=${accountId}`)).body;
  // The invariant holds after every step.
  expect(Math.round(l.approved_amount * 100)).toBe(Math.round((l.available_amount + l.used_amount + l.blocked_amount) * 100));
  return l;
}

async function noDrift(accountId: string) {
  const res = await ctx.http().get(`/v1/lms/accounts/${accountId}/refresh_limit/`).set(as('maker'));
  expect(res.status).toBe(200);
  expect(res.body.drifted).toBe(false);
}

function callback(body: object, opts: { company?: string; signature?: string } = {}) {
  const raw = JSON.stringify(body);
  return ctx.http().post('/v1/lms/payouts/callback/')
    .set('content-type', 'application/json')
    .set('x-lms-company', opts.company ?? tenant.companyId)
    .set('x-lms-signature', opts.signature ?? signCallback(secret, raw))
    .send(raw);
}

describe('payout lifecycle', () => {
  it('a disbursement payout carries its beneficiary and first attempt; processed activates the loan from the bank date', async () => {
    const { account, loan, payout } = await disbursed();
    expect(payout).toMatchObject({
      type: 'disbursement', status: 'requested', attempt: 1, bank_reference: `${payout.ref_id}-1`, loan: loan.id, is_downloaded: false,
      credit_bank: { account_no: BANK.account_no, ifsc: BANK.ifsc, account_holder_name: BANK.account_holder_name },
    });
    expect((await line(account.id)).blocked_amount).toBe(100000);
    const detail = (await get(`/v1/lms/payouts/${payout.id}/`)).body;
    expect(detail.attempts).toHaveLength(1);

    expect((await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processing' })).body.status).toBe('processing');
    const done = await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processed', utr: 'HDFCR52024010100001', bank_date: '2024-01-03' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'processed', utr: 'HDFCR52024010100001' });
    expect(done.body.bank_date).toBe(1704306599.999999);
    const active = (await get(`/v1/lms/loans/${loan.id}/`)).body;
    expect(active).toMatchObject({ status: 'active', disbursed_amount: 100000 });
    expect(active.disbursement_date).toBe(1704306599.999999);
    expect((await get(`/v1/lms/emis/?loan=${loan.id}`)).body.count).toBe(12);
    expect(await line(account.id)).toMatchObject({ blocked_amount: 0, used_amount: 100000 });
    await noDrift(account.id);

    // The same outcome again is harmless; a different one is a conflict.
    expect((await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processed', utr: 'HDFCR52024010100001' })).status).toBe(200);
    expect((await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processed', utr: 'OTHER1' })).status).toBe(409);
    expect((await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'failed', failed_remark: 'x' })).status).toBe(409);
    expect((await put(`/v1/lms/payouts/${payout.id}/retry/`, {})).status).toBe(409);
    expect((await get(`/v1/lms/emis/?loan=${loan.id}`)).body.count).toBe(12);
  });

  it('failure releases the limit; retry is a new attempt that blocks it again, or 409 when the limit is gone', async () => {
    const { account, loan, payout } = await disbursed(60000, {}, 100_000_00n);
    const failed = await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'failed', failed_remark: 'Beneficiary account closed' });
    expect(failed.body).toMatchObject({ status: 'failed', failed_remark: 'Beneficiary account closed' });
    expect(await line(account.id)).toMatchObject({ blocked_amount: 0, available_amount: 100000 });
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('pending_disbursement');
    await noDrift(account.id);

    // Meanwhile another drawdown takes most of the line: the retry cannot block 60,000 again.
    const other = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 50000 });
    expect(other.status).toBe(201);
    const refused = await put(`/v1/lms/payouts/${payout.id}/retry/`, {}, 'maker');
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toHaveProperty('amount');
    expect((await put(`/v1/lms/payouts/${other.body.payout.id}/cancel/`, { remark: 'duplicate' })).body.status).toBe('cancelled');

    const retried = await put(`/v1/lms/payouts/${payout.id}/retry/`, {}, 'maker');
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'requested', attempt: 2, bank_reference: `${payout.ref_id}-2`, failed_remark: null, is_downloaded: false });
    expect(await line(account.id)).toMatchObject({ blocked_amount: 60000, available_amount: 40000 });
    const attempts = (await get(`/v1/lms/payouts/${payout.id}/`)).body.attempts;
    expect(attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'requested']);
    await noDrift(account.id);
  });

  it('a cancelled payout gives the limit back and lets Create Payout make a new one; never two live payouts per loan', async () => {
    const { account, loan, payout } = await disbursed(1000);
    const dup = await post('/v1/lms/payouts/', { loan: loan.id });
    expect(dup.status).toBe(409);
    expect((await put(`/v1/lms/payouts/${payout.id}/cancel/`, {}, 'maker')).status).toBe(403);
    expect((await put(`/v1/lms/payouts/${payout.id}/cancel/`, {})).body.status).toBe('cancelled');
    expect((await line(account.id)).blocked_amount).toBe(0);
    const created = await post('/v1/lms/payouts/', { loan: loan.id, credit_bank: BANK }, 'maker');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'requested', type: 'disbursement', amount: loan.net_disbursal_amount, loan: loan.id });
    expect((await line(account.id)).blocked_amount).toBe(1000);
    await noDrift(account.id);
    expect((await post('/v1/lms/payouts/', { loan: newId() })).status).toBe(404);
    const bad = await post('/v1/lms/payouts/', { loan: 'nope', credit_bank: { account_no: '12', ifsc: 'bad', account_holder_name: '' } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['loan', 'credit_bank.account_no', 'credit_bank.ifsc', 'credit_bank.account_holder_name']));
  });

  it('validates process bodies, names the field, and keeps confirmations to checkers and admins', async () => {
    const { payout } = await disbursed(500);
    const noUtr = await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processed' });
    expect(noUtr.status).toBe(400);
    expect(noUtr.body.errors).toHaveProperty('utr');
    const badStatus = await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'done' });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.errors).toHaveProperty('status');
    const noRemark = await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'failed' });
    expect(noRemark.body.errors).toHaveProperty('failed_remark');
    expect((await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processing' }, 'maker')).status).toBe(403);
    expect((await put(`/v1/lms/payouts/${newId()}/process/`, { status: 'processing' })).status).toBe(404);
  });

  it('lists with filters', async () => {
    const { account, payout } = await disbursed(700);
    const mine = (await get(`/v1/lms/payouts/?account=${account.id}`)).body;
    expect(mine).toMatchObject({ count: 1, current_page: 1 });
    expect(mine.results[0].id).toBe(payout.id);
    expect((await get(`/v1/lms/payouts/?account=${account.id}&status=processed`)).body.count).toBe(0);
    expect((await get(`/v1/lms/payouts/?account=${account.id}&type=disbursement&is_downloaded=false`)).body.count).toBe(1);
    expect((await get('/v1/lms/payouts/?status=bogus')).status).toBe(400);
  });
});

describe('Export Payout for Bank', () => {
  it('exports requested payouts once as a CSV, marks them downloaded and processing, and re-exports only when asked', async () => {
    const a = await disbursed(1500);
    const b = await disbursed(2500);
    const noBank = await accountWithParams(ctx, tenant.companyId);
    const bare = (await post(`/v1/lms/accounts/${noBank.id}/initiate_disbursement/`, { amount: 100 })).body.payout;
    const res = await put('/v1/lms/payouts/export/', { ids: [a.payout.id, b.payout.id, bare.id] }, 'maker');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['x-exported-count']).toBe('2');
    expect(res.headers['x-skipped']).toContain(bare.ref_id);
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('payment_ref,bank_reference,value_date,amount,beneficiary_name,beneficiary_account_no,beneficiary_ifsc,payout_to,type,narration');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`${a.payout.ref_id},${a.payout.ref_id}-1,`);
    expect(lines[1]).toContain(`,${a.loan.net_disbursal_amount.toFixed(2)},Borrower Traders,${BANK.account_no},${BANK.ifsc},borrower,disbursement,`);
    const after = (await get(`/v1/lms/payouts/${a.payout.id}/`)).body;
    expect(after).toMatchObject({ status: 'processing', is_downloaded: true });
    expect(after.attempts[0].exported_at).not.toBeNull();

    const again = await put('/v1/lms/payouts/export/', { ids: [a.payout.id, b.payout.id] }, 'maker');
    expect(again.headers['x-exported-count']).toBe('0');
    expect(again.text.trim().split('\n')).toHaveLength(1);
    const forced = await put('/v1/lms/payouts/export/', { ids: [a.payout.id], include_downloaded: true }, 'maker');
    expect(forced.headers['x-exported-count']).toBe('1');
    expect(forced.text).toContain(`${a.payout.ref_id}-1`);
    expect((await put('/v1/lms/payouts/export/', { ids: ['x'] }, 'maker')).body.errors).toHaveProperty('ids.0');
  });

  it('parallel exports never carry the same payout twice', async () => {
    const payouts = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => disbursed(100 * n)));
    const ids = payouts.map((p) => p.payout.id);
    const results = await Promise.all([1, 2, 3, 4].map(() => put('/v1/lms/payouts/export/', { ids }, 'maker')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const refs = results.flatMap((r) => r.text.trim().split('\n').slice(1).map((l) => l.split(',')[0]));
    expect(refs.sort()).toEqual(payouts.map((p) => p.payout.ref_id).sort());
  });
});

describe('Payout Callback', () => {
  it('a valid signature applies once; a replay changes nothing', async () => {
    const { account, loan, payout } = await disbursed(3000);
    const body = { reference: payout.bank_reference, status: 'processed', utr: 'ICICR42024020200007', bank_date: '2024-02-02', amount: payout.amount };
    const first = await callback(body);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: 'applied', payout: { status: 'processed', utr: 'ICICR42024020200007' } });
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('active');
    const before = await ctx.db.client.demand.count({ where: { loanId: loan.id } });
    const stateBefore = await ctx.db.client.payout.findUnique({ where: { id: payout.id } });

    const replay = await callback(body);
    expect(replay.status).toBe(200);
    expect(replay.body.outcome).toBe('replay');
    expect(await ctx.db.client.demand.count({ where: { loanId: loan.id } })).toBe(before);
    expect(await ctx.db.client.payout.findUnique({ where: { id: payout.id } })).toEqual(stateBefore);
    expect(await line(account.id)).toMatchObject({ used_amount: 3000, blocked_amount: 0 });
  });

  it('a bad, missing or foreign signature is a 401 and changes nothing', async () => {
    const { payout } = await disbursed(100);
    const body = { reference: payout.bank_reference, status: 'failed', failed_remark: 'x' };
    expect((await callback(body, { signature: signCallback('wrong-secret', JSON.stringify(body)) })).status).toBe(401);
    expect((await callback(body, { signature: '' })).status).toBe(401);
    expect((await callback(body, { company: newId() })).status).toBe(401);
    const other = await createTenant(ctx, 'payouts-other');
    expect((await callback(body, { company: other.companyId })).status).toBe(401);
    const unsigned = await ctx.http().post('/v1/lms/payouts/callback/').send(body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.code).toBe('UNAUTHENTICATED');
    // A bad body is checked only after the signature, and then named.
    const badBody = await callback({ reference: payout.bank_reference, status: 'maybe' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.errors).toHaveProperty('status');
    expect((await get(`/v1/lms/payouts/${payout.id}/`)).body.status).toBe('requested');
  });

  it('an unknown reference, a wrong amount or a late result for a superseded attempt lands in Unmatched Payouts', async () => {
    const unknown = await callback({ reference: 'PAY9999999-1', status: 'processed', utr: 'UTR999' });
    expect(unknown.body).toMatchObject({ outcome: 'unmatched', payout: null });

    const { payout } = await disbursed(800);
    const wrongAmount = await callback({ reference: payout.bank_reference, status: 'processed', utr: 'UTR1', amount: 1 });
    expect(wrongAmount.body.outcome).toBe('unmatched');
    expect((await get(`/v1/lms/payouts/${payout.id}/`)).body.status).toBe('requested');

    expect((await callback({ reference: payout.bank_reference, status: 'failed', failed_remark: 'IFSC invalid' })).body.outcome).toBe('applied');
    expect((await put(`/v1/lms/payouts/${payout.id}/retry/`, {}, 'maker')).status).toBe(200);
    // The bank now reports the first attempt as paid after all: never applied to the second attempt.
    const late = await callback({ reference: payout.bank_reference, status: 'processed', utr: 'UTRLATE' });
    expect(late.body.outcome).toBe('unmatched');
    const current = (await get(`/v1/lms/payouts/${payout.id}/`)).body;
    expect(current).toMatchObject({ status: 'requested', attempt: 2 });

    const list = (await get('/v1/lms/payouts/unmatched/?resolved=false&page_size=100')).body;
    const ids = list.results.map((c: { id: string }) => c.id);
    expect(ids).toEqual(expect.arrayContaining([unknown.body.callback, wrongAmount.body.callback, late.body.callback]));
    const lateRow = list.results.find((c: { id: string }) => c.id === late.body.callback);
    expect(lateRow).toMatchObject({ reference: payout.bank_reference, status: 'processed', utr: 'UTRLATE', payout: payout.id });
    expect(lateRow.detail).toContain('already failed');

    const resolved = await put(`/v1/lms/payouts/unmatched/${late.body.callback}/resolve/`, { resolution: 'Bank confirmed attempt 1 was reversed' });
    expect(resolved.status).toBe(200);
    expect(resolved.body.resolved_at).not.toBeNull();
    expect((await put(`/v1/lms/payouts/unmatched/${late.body.callback}/resolve/`, { resolution: 'again' })).status).toBe(409);
    expect((await put(`/v1/lms/payouts/unmatched/${late.body.callback}/resolve/`, {})).body.errors).toHaveProperty('resolution');
    const open = (await get('/v1/lms/payouts/unmatched/?resolved=false&page_size=100')).body.results.map((c: { id: string }) => c.id);
    expect(open).not.toContain(late.body.callback);
  });

  it('the secret is rotated by admins only, and the old one stops working', async () => {
    expect((await ctx.http().post('/v1/lms/company/payout_callback_secret/').set(as('maker'))).status).toBe(403);
    const t = await createTenant(ctx, 'payouts-rotate');
    const first = (await ctx.http().post('/v1/lms/company/payout_callback_secret/').set(as('admin', t))).body.secret;
    const second = (await ctx.http().post('/v1/lms/company/payout_callback_secret/').set(as('admin', t))).body.secret;
    expect(second).not.toBe(first);
    const body = JSON.stringify({ reference: 'PAY0000001-1', status: 'failed' });
    const send = (s: string) => ctx.http().post('/v1/lms/payouts/callback/').set('content-type', 'application/json')
      .set('x-lms-company', t.companyId).set('x-lms-signature', signCallback(s, body)).send(body);
    expect((await send(first)).status).toBe(401);
    expect((await send(second)).status).toBe(200);
  });
});

describe('Request Tranche', () => {
  it('EMI loan: a second tranche re-derives the schedule with interest on the tranche from its own date', async () => {
    const { account, loan, payout } = await disbursed(100000, { sanctioned_amount: 150000 });
    expect(loan).toMatchObject({ sanctioned_amount: 150000, principal_amount: 100000 });
    // Disbursed 15 days ago (on a day of the month the 30/360 count treats plainly), the tranche today:
    // a tranche is taken only while the loan has installments after it.
    const today = istDateOf(new Date());
    let start = addDays(today, -15);
    if (Number(start.slice(8)) > 28) start = addDays(start, -3);
    await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processed', utr: 'T1', bank_date: start });

    const over = await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 50000.01 });
    expect(over.status).toBe(409);
    expect(over.body.errors).toHaveProperty('amount');
    const res = await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 50000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'tranche', status: 'requested', amount: 50000, loan: loan.id, utr: null, processed_at: null, bank_date: null });
    expect(await line(account.id)).toMatchObject({ used_amount: 100000, blocked_amount: 50000 });
    // Nothing more fits while that tranche is in flight.
    expect((await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 1 })).status).toBe(409);
    await noDrift(account.id);

    await put(`/v1/lms/payouts/${res.body.id}/process/`, { status: 'processed', utr: 'T2', bank_date: today });
    const after = (await get(`/v1/lms/loans/${loan.id}/`)).body;
    expect(after).toMatchObject({ principal_amount: 150000, disbursed_amount: 150000, schedule_version: 2 });
    const emis = (await get(`/v1/lms/emis/?loan=${loan.id}&page_size=100`)).body.results.filter((d: { status: string }) => d.status !== 'cancelled');
    expect(emis).toHaveLength(12);
    const principal = emis.reduce((s: number, d: { components: { P: { due: number } } }) => s + Math.round(d.components.P.due * 100), 0);
    expect(principal).toBe(15000000);
    const first = emis.find((d: { installment_number: number }) => d.installment_number === 1);
    // The hand-checked case (1 Jan + 16 Jan: 1,000 + 250) is in test/unit/tranche.test.ts; here the
    // same rule on today's dates: 1% of 1,00,000 for the month plus 50,000 x 12% from today to the due date.
    const owedDays = days360(today, addMonths(start, 1));
    expect(Math.round(first.components.NI.due * 100)).toBe(1000_00 + Math.round((50000_00 * 12 * owedDays) / 36000));
    expect(first.due_date).toBe(businessDateToEpoch(addMonths(start, 1)));
    expect(await line(account.id)).toMatchObject({ used_amount: 150000, blocked_amount: 0 });
    await noDrift(account.id);
  });

  it('bullet loan: the maturity demand grows by the tranche and its own slab interest', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, {
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    const created = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 100000, sanctioned_amount: 200000 });
    const today = istDateOf(new Date());
    await put(`/v1/lms/payouts/${created.body.payout.id}/process/`, { status: 'processed', utr: 'B1', bank_date: addDays(today, -20) });
    const t = await post('/v1/lms/payouts/add_tranche/', { loan_id: created.body.id, amount: 100000 });
    await put(`/v1/lms/payouts/${t.body.id}/process/`, { status: 'processed', utr: 'B2', bank_date: today });
    const [maturity] = (await get(`/v1/lms/emis/?loan=${created.body.id}`)).body.results;
    // First tranche: 40 days (day 1 - day 40) = 100000 x (18% x 15 + 24% x 15 + 36% x 10)/360 = 750 + 1000 + 1000 = 2,750.
    // Second, paid out on day 21: days 21-40 = 20 days = 100000 x (18% x 15 + 24% x 5)/360 = 750 + 333.33 = 1,083.33.
    expect(maturity.components.P.due).toBe(200000);
    expect(maturity.components.NI.due).toBe(3833.33);
  });

  it('refuses tranches the loan cannot take, and validates the body', async () => {
    const { loan } = await disbursed(1000, { sanctioned_amount: 2000 });
    expect((await post('/v1/lms/payouts/add_tranche/', { loan_id: loan.id, amount: 100 })).status).toBe(409); // not active yet
    expect((await post('/v1/lms/payouts/add_tranche/', { loan_id: newId(), amount: 100 })).status).toBe(404);
    const bad = await post('/v1/lms/payouts/add_tranche/', { loan_id: 'x', amount: -1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['loan_id', 'amount']));
    const sanction = await post(`/v1/lms/accounts/${(await accountWithParams(ctx, tenant.companyId)).id}/initiate_disbursement/`, { amount: 1000, sanctioned_amount: 999 });
    expect(sanction.status).toBe(400);
    expect(sanction.body.errors).toHaveProperty('sanctioned_amount');
  });

  it('replays an idempotent tranche request instead of paying twice', async () => {
    const { loan, payout } = await disbursed(1000, { sanctioned_amount: 3000 });
    await put(`/v1/lms/payouts/${payout.id}/process/`, { status: 'processed', utr: 'I1', bank_date: istDateOf(new Date()) });
    const key = `tranche-${newId()}`;
    const send = () => ctx.http().post('/v1/lms/payouts/add_tranche/').set(as('maker')).set('Idempotency-Key', key).send({ loan_id: loan.id, amount: 1000 });
    const a = await send();
    const b = await send();
    expect(a.status).toBe(200);
    expect(b.headers['idempotency-replayed']).toBe('true');
    expect(b.body.id).toBe(a.body.id);
    expect((await get(`/v1/lms/payouts/?loan=${loan.id}&type=tranche`)).body.count).toBe(1);
  });
});
