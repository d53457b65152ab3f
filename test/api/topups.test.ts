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
  // The 500-row maximum runs in one transaction: on a CPU shared with other suites it may take
  // longer than the 20 s default, which is a setting, not what these tests are about.
  ctx = await buildTestApp({ env: { DB_TRANSACTION_TIMEOUT_MS: '120000', IDEMPOTENCY_LOCK_S: '300' } });
  tenant = await createTenant(ctx, 'topups');
});
afterAll(async () => { await ctx.close(); });

/** An invoice (bullet) loan: 60 days, 18% rear-ended, no fees, so the payout equals the amount. */
const BULLET = { days_in_year: 360, tenure_period: 'days', tenure_value: 60, roi_slab_based: true, roi_value: [{ days: -1, value: 18 }] };
const today = () => istDateOf(new Date());
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const account = (limitRupees = 10_00_000, params: Record<string, unknown> = BULLET) => accountWithParams(ctx, tenant.companyId, params, BigInt(limitRupees) * 100n);

const auth = (role: 'admin' | 'maker' | 'checker' | 'viewer', t = tenant) => t.bearer(role);
const post = (body: object, opts: { role?: 'maker' | 'viewer' | 'admin'; key?: string; t?: Tenant } = {}) => {
  const req = ctx.http().post('/v1/lms/topups/').set('Authorization', auth(opts.role ?? 'maker', opts.t));
  return (opts.key ? req.set('Idempotency-Key', opts.key) : req).send(body);
};
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', auth('viewer', t));
const patch = (id: string, body: object, role: 'maker' | 'viewer' = 'maker') => ctx.http().patch(`/v1/lms/topups/${id}/`).set('Authorization', auth(role)).send(body);
const put = (url: string, body?: object, role: 'maker' | 'viewer' = 'maker') => {
  const req = ctx.http().put(url).set('Authorization', auth(role));
  return body ? req.send(body) : req;
};
const rerun = (id: string, role: 'maker' | 'viewer' = 'maker') => ctx.http().get(`/v1/lms/topups/${id}/rerun_checks/`).set('Authorization', auth(role));
const line = async (accountId: string) => (await get(`/v1/lms/line_details/type/primary/?account=${accountId}`)).body;
const invoice = (n = newId().slice(-8)) => ({
  invoice_number: `INV-${n}`, invoice_date: addDays(today(), -10), invoice_amount: 2_00_000, due_date: addDays(today(), 45), anchor_id: 'anchor-1',
});
const failedNames = (body: { checks: { name: string; result: string }[] }) => body.checks.filter((c) => c.result === 'failed').map((c) => c.name);

/**
 * approved = available + used + blocked, nothing negative; and blocked is exactly what the rows
 * hold: waiting topups' own blocks plus pending loans whose payout is live.
 */
async function expectInvariant(accountId: string) {
  const l = await line(accountId);
  expect(Math.round(l.approved_amount * 100)).toBe(Math.round(l.available_amount * 100) + Math.round(l.used_amount * 100) + Math.round(l.blocked_amount * 100));
  expect(Math.min(l.available_amount, l.used_amount, l.blocked_amount)).toBeGreaterThanOrEqual(0);
  const [held] = await ctx.db.prisma.$queryRaw<{ topups: bigint; loans: bigint }[]>`
    SELECT (SELECT COALESCE(SUM(blocked_paise), 0) FROM topups WHERE account_id = ${accountId}::uuid)::bigint AS topups,
           (SELECT COALESCE(SUM(principal_paise), 0) FROM loans l WHERE account_id = ${accountId}::uuid AND status = 'pending_disbursement'
              AND EXISTS (SELECT 1 FROM payouts p WHERE p.loan_id = l.id AND p.type = 'disbursement' AND p.status IN ('requested', 'processing')))::bigint AS loans`;
  expect(BigInt(Math.round(l.blocked_amount * 100))).toBe(held!.topups + held!.loans);
  return l;
}

describe('Create Topup', () => {
  it('passes every check and pays out now: a pending loan and its payout hold the limit', async () => {
    const acc = await account();
    const res = await post({ account: acc.id, amount: 1_50_000, ...invoice(), remarks: 'first drawdown' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      account: acc.id, status: 'payout_initiated', amount: 150000, blocked_amount: 0, line_type: 'primary', checks_passed: true,
      invoice_amount: 200000, anchor_id: 'anchor-1', payout_to: 'borrower', remarks: 'first drawdown', company: tenant.companyId,
    });
    expect(res.body.ref_id).toMatch(/^TOP\d{7}$/);
    expect(res.body.checks.map((c: { name: string }) => c.name)).toEqual(['account_active', 'loan_terms', 'available_limit', 'amount_bounds', 'duplicate_invoice', 'invoice_date', 'due_date']);
    expect(res.body.checks.every((c: { result: string; reason: string }) => c.result === 'passed' && c.reason.length > 0)).toBe(true);
    const loan = (await get(`/v1/lms/loans/${res.body.loan}/`)).body;
    expect(loan).toMatchObject({ status: 'pending_disbursement', principal_amount: 150000, topup: res.body.id });
    const payout = await ctx.app.services.payouts.get(tenant.companyId, res.body.payout);
    expect(payout).toMatchObject({ type: 'disbursement', status: 'requested', topupId: res.body.id, loanId: res.body.loan, amountPaise: 150_000_00n });
    expect(await expectInvariant(acc.id)).toMatchObject({ available_amount: 850000, blocked_amount: 150000, used_amount: 0 });
    expect((await get(`/v1/lms/topups/${res.body.id}/`)).body).toEqual(res.body);
    const audit = await ctx.db.prisma.auditEvent.findMany({ where: { entityId: res.body.id }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['created', 'payout_initiated']);
  });

  it('failing checks: 201 with the topup stored as checks_failed, nothing blocked, no payout', async () => {
    const acc = await account(1_00_000);
    const res = await post({ account: acc.id, amount: 1_50_000, ...invoice() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'checks_failed', checks_passed: false, blocked_amount: 0, loan: null, payout: null });
    expect(failedNames(res.body)).toEqual(['available_limit']);
    expect(res.body.checks.find((c: { name: string }) => c.name === 'available_limit').reason).toContain('short by Rs 50000.00');
    expect(await expectInvariant(acc.id)).toMatchObject({ available_amount: 100000, blocked_amount: 0 });
    expect(await ctx.db.prisma.payout.count({ where: { topupId: res.body.id } })).toBe(0);
  });

  it('fails each check with its reason', async () => {
    const acc = await account();
    const cases: [object, string][] = [
      [{ amount: 2_00_001 }, 'amount_bounds'],
      [{ invoice_date: addDays(today(), 1) }, 'invoice_date'],
      [{ invoice_date: addDays(today(), -181) }, 'invoice_date'],
      [{ due_date: addDays(today(), 61) }, 'due_date'],
    ];
    for (const [over, name] of cases) {
      const res = await post({ account: acc.id, amount: 1000, ...invoice(), ...over });
      expect(res.status).toBe(201);
      expect(failedNames(res.body), JSON.stringify(over)).toEqual([name]);
    }
    const noParams = await ctx.app.services.accounts.create(by(), { name: 'No params', sanctioned_limit: 100_000_00n });
    expect(failedNames((await post({ account: noParams.id, amount: 1000 })).body)).toEqual(['loan_terms']);
    const frozen = await account();
    await ctx.app.services.accounts.update(by(), frozen.id, { status: 'frozen' });
    expect(failedNames((await post({ account: frozen.id, amount: 1000 })).body)).toEqual(['account_active']);
  });

  it('duplicate invoice: same number for the same account and anchor (any case) while the first is live', async () => {
    const acc = await account();
    const inv = invoice();
    const first = await post({ account: acc.id, amount: 1000, ...inv });
    expect(first.body.status).toBe('payout_initiated');
    const again = await post({ account: acc.id, amount: 1000, ...inv, invoice_number: inv.invoice_number.toLowerCase() });
    expect(failedNames(again.body)).toEqual(['duplicate_invoice']);
    expect(again.body.checks.find((c: { name: string }) => c.name === 'duplicate_invoice').reason).toContain(first.body.ref_id);
    // Another anchor, or another account, is another invoice.
    expect((await post({ account: acc.id, amount: 1000, ...inv, anchor_id: 'anchor-2' })).body.status).toBe('payout_initiated');
    expect((await post({ account: (await account()).id, amount: 1000, ...inv })).body.status).toBe('payout_initiated');
    // Numbers compare exactly (upper-cased), so LIKE wildcards match nothing else.
    expect((await post({ account: acc.id, amount: 1000, ...inv, invoice_number: inv.invoice_number.replace('INV-', 'INV_') })).body.status).toBe('payout_initiated');
    expect((await post({ account: acc.id, amount: 1000, ...inv, invoice_number: 'INV-%' })).body.status).toBe('payout_initiated');
    // A topup that failed its checks does not hold the invoice.
    const inv2 = invoice();
    expect((await post({ account: acc.id, amount: 9_99_999, ...inv2, invoice_amount: 10_00_000 })).body.status).toBe('checks_failed');
    expect((await post({ account: acc.id, amount: 1000, ...inv2 })).body.status).toBe('payout_initiated');
  });

  it('validates the body: 400 naming each bad field', async () => {
    const acc = await account();
    const bad = await post({
      account: 'nope', amount: 1.234, invoice_date: '2024-02-30', invoice_amount: -1, due_date: 'x', disbursement_date: 12,
      credit_bank: { account_no: '12', ifsc: 'bad', account_holder_name: 'A' }, payout_to: 'someone', extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors).sort()).toEqual([
      'account', 'amount', 'credit_bank.account_no', 'credit_bank.ifsc', 'due_date', 'extra', 'invoice_amount', 'invoice_date', 'payout_to',
    ].sort());
    const zero = await post({ account: acc.id, amount: 0 });
    expect(zero.body.errors).toHaveProperty('amount');
    const past = await post({ account: acc.id, amount: 100, disbursement_date: addDays(today(), -1) });
    expect(past.status).toBe(400);
    expect(past.body.errors).toHaveProperty('disbursement_date');
    expect(await ctx.db.prisma.topup.count({ where: { accountId: acc.id } })).toBe(0);
  });

  it('404 naming the field for a missing or foreign account, loan data or group; 403 for a viewer', async () => {
    const other = await createTenant(ctx, 'topups-other');
    const acc = await account();
    const missing = await post({ account: newId(), amount: 100 });
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual({ account: ['not found'] });
    const foreign = await post({ account: acc.id, amount: 100 }, { t: other });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    const otherAccount = await account();
    const data = await ctx.app.services.loanData.create(by(), otherAccount.id, {});
    expect((await post({ account: acc.id, amount: 100, loan_data: data.id })).body.errors).toEqual({ loan_data: ['not found for this account'] });
    expect((await post({ account: acc.id, amount: 100, topup_group: newId() })).body.errors).toEqual({ topup_group: ['not found'] });
    expect((await post({ account: acc.id, amount: 100 }, { role: 'viewer' })).status).toBe(403);
  });

  it('an Idempotency-Key replay returns the same topup and creates nothing more', async () => {
    const acc = await account(1000);
    for (const amount of [500, 5000]) { // one passes, one fails its checks: both are stored responses
      const key = `topup-${newId()}`;
      const first = await post({ account: acc.id, amount }, { key });
      const replay = await post({ account: acc.id, amount }, { key });
      expect(first.status).toBe(201);
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
    }
    expect(await ctx.db.prisma.topup.count({ where: { accountId: acc.id } })).toBe(2);
    expect(await ctx.db.prisma.payout.count({ where: { accountId: acc.id } })).toBe(1);
  });

  it('20 parallel topups that together exceed the limit: exactly the ones that fit are accepted', async () => {
    const acc = await account(10_00_000);
    const results = await Promise.all(Array.from({ length: 20 }, () => post({ account: acc.id, amount: 75_000 })));
    expect(results.map((r) => r.status).every((s) => s === 201)).toBe(true);
    const statuses = results.map((r) => r.body.status);
    expect(statuses.filter((s) => s === 'payout_initiated')).toHaveLength(13);
    expect(statuses.filter((s) => s === 'checks_failed')).toHaveLength(7);
    expect(results.filter((r) => r.body.status === 'checks_failed').every((r) => failedNames(r.body).join() === 'available_limit')).toBe(true);
    expect(await expectInvariant(acc.id)).toMatchObject({ approved_amount: 1000000, blocked_amount: 975000, available_amount: 25000, used_amount: 0 });
    expect((await get(`/v1/lms/accounts/${acc.id}/`)).body.available_limit).toBe(25000);
  });
});

describe('Scheduled topups', () => {
  it('a future date holds the limit on the topup; unschedule releases it', async () => {
    const acc = await account();
    const res = await post({ account: acc.id, amount: 75_000, disbursement_date: addDays(today(), 3) });
    expect(res.body).toMatchObject({ status: 'scheduled', blocked_amount: 75000, loan: null, payout: null });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 75000, available_amount: 925000 });
    expect((await put(`/v1/lms/topups/${res.body.id}/unschedule/`, undefined, 'viewer')).status).toBe(403);
    const un = await put(`/v1/lms/topups/${res.body.id}/unschedule/`);
    expect(un.status).toBe(200);
    expect(un.body).toMatchObject({ status: 'unscheduled', blocked_amount: 0 });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 0, available_amount: 1000000 });
    expect((await put(`/v1/lms/topups/${res.body.id}/unschedule/`)).body.status).toBe('unscheduled');
    expect((await patch(res.body.id, { amount: 10 })).status).toBe(409);
    const paid = await post({ account: acc.id, amount: 100 });
    const refused = await put(`/v1/lms/topups/${paid.body.id}/unschedule/`);
    expect(refused.status).toBe(409);
    expect((await put(`/v1/lms/topups/${newId()}/unschedule/`)).status).toBe(404);
  });

  it('the scheduler pays a topup out on its date, once, even when two runs race', async () => {
    const acc = await account();
    const res = await post({ account: acc.id, amount: 75_000, disbursement_date: addDays(today(), 1) });
    expect(res.body.status).toBe('scheduled');
    // Not yet due: nothing happens.
    expect((await ctx.app.services.topups.disburseScheduled(today())).disbursed).not.toContain(res.body.ref_id);
    // Time passes: the scheduled date is today.
    await ctx.db.prisma.topup.update({ where: { id: res.body.id }, data: { disbursementDate: new Date(`${today()}T00:00:00Z`) } });
    const runs = await Promise.all([ctx.app.services.topups.disburseScheduled(today()), ctx.app.services.topups.disburseScheduled(today())]);
    expect(runs.flatMap((r) => r.disbursed).filter((ref) => ref === res.body.ref_id)).toHaveLength(1);
    expect(runs.flatMap((r) => r.errors)).toEqual([]);
    const after = (await get(`/v1/lms/topups/${res.body.id}/`)).body;
    expect(after).toMatchObject({ status: 'payout_initiated', blocked_amount: 0 });
    expect(await ctx.db.prisma.payout.count({ where: { topupId: res.body.id } })).toBe(1);
    expect(await ctx.db.prisma.loan.count({ where: { topupId: res.body.id } })).toBe(1);
    // The loan took the topup's block over: blocked stays 75,000.
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 75000, available_amount: 925000 });
    expect((await ctx.app.services.topups.disburseScheduled(today())).disbursed).not.toContain(res.body.ref_id);
    await expect(ctx.app.services.topups.disburseScheduled(addDays(today(), 1))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('the scheduler re-checks: a topup whose account froze fails its checks and gives its limit back', async () => {
    const acc = await account();
    const res = await post({ account: acc.id, amount: 50_000, disbursement_date: addDays(today(), 1) });
    await ctx.db.prisma.topup.update({ where: { id: res.body.id }, data: { disbursementDate: new Date(`${today()}T00:00:00Z`) } });
    await ctx.app.services.accounts.update(by(), acc.id, { status: 'frozen' });
    const run = await ctx.app.services.topups.disburseScheduled(today());
    expect(run.checksFailed).toContain(res.body.ref_id);
    const after = (await get(`/v1/lms/topups/${res.body.id}/`)).body;
    expect(after).toMatchObject({ status: 'checks_failed', blocked_amount: 0 });
    expect(failedNames(after)).toEqual(['account_active']);
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 0 });
    // Unfrozen and re-checked, its date has passed: it pays out now.
    await ctx.app.services.accounts.update(by(), acc.id, { status: 'active' });
    expect((await rerun(res.body.id)).body).toMatchObject({ status: 'payout_initiated', disbursement_date: expect.any(Number) });
  });
});

describe('Payout outcomes', () => {
  const markProcessed = (payoutId: string) => ctx.app.services.payouts.markProcessed(by(), payoutId, { utr: 'UTR123', bankDate: today() });
  const markFailed = (payoutId: string) => ctx.app.services.payouts.markFailed(by(), payoutId, { failedRemark: 'account closed' });

  it('processed: the topup is disbursed and its loan active, the limit used', async () => {
    const acc = await account();
    const topup = (await post({ account: acc.id, amount: 1_00_000 })).body;
    await markProcessed(topup.payout);
    expect((await get(`/v1/lms/topups/${topup.id}/`)).body).toMatchObject({ status: 'disbursed' });
    expect((await get(`/v1/lms/loans/${topup.loan}/`)).body).toMatchObject({ status: 'active', disbursed_amount: 100000 });
    expect(await expectInvariant(acc.id)).toMatchObject({ used_amount: 100000, blocked_amount: 0, available_amount: 900000 });
    expect((await ctx.http().post(`/v1/lms/topups/${topup.id}/reinitiate_payout/`).set('Authorization', auth('maker'))).status).toBe(409);
  });

  it('failed: the topup fails and the limit is released; reinitiate pays it out again with the limit re-blocked', async () => {
    const acc = await account(2_00_000);
    const topup = (await post({ account: acc.id, amount: 1_50_000 })).body;
    await markFailed(topup.payout);
    expect((await get(`/v1/lms/topups/${topup.id}/`)).body).toMatchObject({ status: 'failed', blocked_amount: 0 });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 0, available_amount: 200000 });
    const reinitiate = (role: 'maker' | 'viewer' = 'maker') => ctx.http().post(`/v1/lms/topups/${topup.id}/reinitiate_payout/`).set('Authorization', auth(role));
    expect((await reinitiate('viewer')).status).toBe(403);
    // While it was failed the limit went elsewhere: the retry does not fit.
    const other = (await post({ account: acc.id, amount: 1_00_000 })).body;
    const short = await reinitiate();
    expect(short.status).toBe(409);
    expect(short.body.errors).toHaveProperty('amount');
    await markFailed(other.payout);
    const again = await reinitiate();
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'payout_initiated', payout: topup.payout });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 150000, available_amount: 50000 });
    const payout = await ctx.app.services.payouts.get(tenant.companyId, topup.payout);
    expect(payout).toMatchObject({ status: 'requested', attempt: 2 });
    expect((await reinitiate()).status).toBe(409);
    await markProcessed(topup.payout);
    expect((await get(`/v1/lms/topups/${topup.id}/`)).body.status).toBe('disbursed');
    expect((await ctx.http().post(`/v1/lms/topups/${newId()}/reinitiate_payout/`).set('Authorization', auth('maker'))).status).toBe(404);
  });

  it('cancelled payout: the topup fails and cannot be reinitiated', async () => {
    const acc = await account();
    const topup = (await post({ account: acc.id, amount: 1000 })).body;
    await ctx.app.services.payouts.cancel(by(), topup.payout, 'wrong beneficiary');
    expect((await get(`/v1/lms/topups/${topup.id}/`)).body.status).toBe('failed');
    const res = await ctx.http().post(`/v1/lms/topups/${topup.id}/reinitiate_payout/`).set('Authorization', auth('maker'));
    expect(res.status).toBe(409);
    expect(res.body.errors).toEqual({ payout: ['is cancelled'] });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 0 });
  });
});

describe('Update Topup and Re Run Checks', () => {
  it('a topup that failed its checks is fixed by PATCH and pays out', async () => {
    const acc = await account();
    const t = (await post({ account: acc.id, amount: 3_00_000, ...invoice() })).body;
    expect(failedNames(t)).toEqual(['amount_bounds']);
    const fixed = await patch(t.id, { amount: 2_00_000, credit_bank: { account_no: '1234567890', ifsc: 'HDFC0001234', account_holder_name: 'Borrower' } });
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ status: 'payout_initiated', amount: 200000, credit_bank: { account_no: '1234567890', ifsc: 'HDFC0001234' } });
    expect((await patch(t.id, { amount: 10 })).status).toBe(409);
    expect((await rerun(t.id)).status).toBe(409);
  });

  it('PATCH on a scheduled topup moves its block with it, and a failing change releases it', async () => {
    const acc = await account();
    const t = (await post({ account: acc.id, amount: 50_000, disbursement_date: addDays(today(), 5) })).body;
    const bigger = await patch(t.id, { amount: 80_000, remarks: 'revised' });
    expect(bigger.body).toMatchObject({ status: 'scheduled', blocked_amount: 80000, remarks: 'revised' });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 80000 });
    const failing = await patch(t.id, { invoice_amount: 1000 });
    expect(failing.body).toMatchObject({ status: 'checks_failed', blocked_amount: 0 });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 0 });
    const cleared = await patch(t.id, { invoice_amount: null, remarks: null });
    expect(cleared.body).toMatchObject({ status: 'scheduled', blocked_amount: 80000, invoice_amount: null, remarks: null });
    const now = await patch(t.id, { disbursement_date: today() });
    expect(now.body).toMatchObject({ status: 'payout_initiated', blocked_amount: 0 });
    expect(await expectInvariant(acc.id)).toMatchObject({ blocked_amount: 80000 });
  });

  it('PATCH validates: 400 naming the field, 404 missing or foreign, 403 viewer', async () => {
    const acc = await account();
    const t = (await post({ account: acc.id, amount: 5_000, disbursement_date: addDays(today(), 5) })).body;
    const bad = await patch(t.id, { amount: -1, account: acc.id, disbursement_date: addDays(today(), -2) });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['account', 'amount']);
    const past = await patch(t.id, { disbursement_date: addDays(today(), -2) });
    expect(past.status).toBe(400);
    expect(past.body.errors).toHaveProperty('disbursement_date');
    expect((await patch(newId(), {})).status).toBe(404);
    expect((await patch(t.id, {}, 'viewer')).status).toBe(403);
    const other = await createTenant(ctx, 'topups-patch-other');
    expect((await ctx.http().patch(`/v1/lms/topups/${t.id}/`).set('Authorization', other.bearer('maker')).send({})).status).toBe(404);
    expect((await get(`/v1/lms/topups/${t.id}/`, other)).status).toBe(404);
    expect((await ctx.http().get('/v1/lms/topups/not-a-uuid/').set('Authorization', auth('viewer'))).status).toBe(400);
  });

  it('re-run checks stores fresh checks; viewers may not (it writes)', async () => {
    const acc = await account();
    const t = (await post({ account: acc.id, amount: 5_000, disbursement_date: addDays(today(), 5) })).body;
    expect((await rerun(t.id, 'viewer')).status).toBe(403);
    const again = await rerun(t.id);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'scheduled', blocked_amount: 5000 });
    expect(again.body.checked_at).toBeGreaterThan(t.checked_at);
    await ctx.app.services.accounts.update(by(), acc.id, { status: 'frozen' });
    expect((await rerun(t.id)).body).toMatchObject({ status: 'checks_failed', blocked_amount: 0 });
    expect((await rerun(newId())).status).toBe(404);
  });
});

describe('Invoice Parse', () => {
  const gstin = (first14: string) => `${first14}${gstinCheckChar(first14)}`;
  const irn = () => newId().replace(/-/g, '') + newId().replace(/-/g, '');
  const einvoice = (over: { Irn?: string; No?: string; Dt?: string; TotInvVal?: number; seller?: string } = {}) => ({
    Version: '1.1', Irn: over.Irn ?? irn(),
    DocDtls: { Typ: 'INV', No: over.No ?? `INV/${newId().slice(-6)}`, Dt: over.Dt ?? today().split('-').reverse().join('/') },
    SellerDtls: { Gstin: over.seller ?? gstin('29AABCT1332L1Z'), LglNm: 'Seller' }, BuyerDtls: { Gstin: '27AAPFU0939F1ZV', LglNm: 'Buyer' },
    ValDtls: { AssVal: 100000, TotInvVal: over.TotInvVal ?? 118000 },
  });
  const parse = (id: string, body: object, role: 'maker' | 'viewer' = 'maker') =>
    ctx.http().patch(`/v1/lms/topups/${id}/invoice_parse/`).set('Authorization', auth(role)).send(body);

  it('fills the invoice fields from the e-invoice and runs the checks again', async () => {
    const acc = await account();
    const t = (await post({ account: acc.id, amount: 1_50_000, disbursement_date: addDays(today(), 2) })).body;
    const doc = einvoice({ TotInvVal: 1_00_000.5 });
    const res = await parse(t.id, doc);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      irn: doc.Irn, seller_gstin: doc.SellerDtls.Gstin, buyer_gstin: '27AAPFU0939F1ZV', invoice_number: doc.DocDtls.No.toUpperCase(), invoice_amount: 100000.5,
      invoice: doc, status: 'checks_failed', blocked_amount: 0,
    });
    expect(failedNames(res.body)).toEqual(['amount_bounds']);
    // Wrapped as {invoice: ...}, with a bigger invoice value, it passes and is scheduled again.
    const wrapped = await parse(t.id, { invoice: { ...doc, ValDtls: { TotInvVal: 2_00_000 } } });
    expect(wrapped.body).toMatchObject({ status: 'scheduled', blocked_amount: 150000, invoice_amount: 200000 });
    expect((await parse(t.id, doc, 'viewer')).status).toBe(403);
  });

  it('400 naming each missing or bad field; 409 after payout; 404 missing', async () => {
    const acc = await account();
    const t = (await post({ account: acc.id, amount: 1000, disbursement_date: addDays(today(), 2) })).body;
    const bad = await parse(t.id, { ...einvoice(), SellerDtls: { Gstin: '27AAPFU0939F1ZW' }, DocDtls: { No: 'X1' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual({ 'SellerDtls.Gstin': ['has a wrong check character'], 'DocDtls.Dt': ['is required'] });
    const empty = await parse(t.id, { invoice: {} });
    expect(Object.keys(empty.body.errors).sort()).toEqual([
      'invoice.BuyerDtls.Gstin', 'invoice.DocDtls.Dt', 'invoice.DocDtls.No', 'invoice.Irn', 'invoice.SellerDtls.Gstin', 'invoice.ValDtls.TotInvVal',
    ]);
    const notJson = await ctx.http().patch(`/v1/lms/topups/${t.id}/invoice_parse/`).set('Authorization', auth('maker')).set('Content-Type', 'application/json').send('{"Irn": ');
    expect(notJson.status).toBe(400);
    expect((await parse(newId(), einvoice())).status).toBe(404);
    const paid = (await post({ account: acc.id, amount: 1000 })).body;
    expect((await parse(paid.id, einvoice())).status).toBe(409);
  });

  it('the same IRN on a live topup of any account is a duplicate invoice', async () => {
    const doc = einvoice();
    const first = (await post({ account: (await account()).id, amount: 1000, disbursement_date: addDays(today(), 2) })).body;
    expect((await parse(first.id, doc)).body.status).toBe('scheduled');
    const second = (await post({ account: (await account()).id, amount: 1000, disbursement_date: addDays(today(), 2) })).body;
    const dup = await parse(second.id, doc);
    expect(failedNames(dup.body)).toEqual(['duplicate_invoice']);
  });
});

describe('Check Line Amount and List Topups', () => {
  it('says whether an amount fits, creating nothing; viewers may ask', async () => {
    const acc = await account(1_00_000);
    const check = (body: object, role: 'maker' | 'viewer' = 'viewer') => put('/v1/lms/topups/check_line_amount/', body, role as 'maker');
    expect((await check({ account: acc.id, amount: 60_000 })).body).toEqual({
      account: acc.id, line_type: 'primary', amount: 60000, available_amount: 100000, fits: true, shortfall: 0, line_status: 'active', account_status: 'active',
    });
    await post({ account: acc.id, amount: 60_000 });
    expect((await check({ account: acc.id, amount: 60_000 })).body).toMatchObject({ available_amount: 40000, fits: false, shortfall: 20000 });
    expect((await check({ account: newId(), amount: 1 })).body.errors).toEqual({ account: ['not found'] });
    expect((await check({ account: acc.id, amount: 1, line_type: 'seasonal' })).status).toBe(404);
    expect((await check({ account: acc.id })).body.errors).toHaveProperty('amount');
    expect(await ctx.db.prisma.topup.count({ where: { accountId: acc.id } })).toBe(1);
  });

  it('lists by account, status, group, invoice number and date ranges, newest first', async () => {
    const acc = await account();
    const a = (await post({ account: acc.id, amount: 1000, ...invoice('LIST-A') })).body;
    const b = (await post({ account: acc.id, amount: 1000, disbursement_date: addDays(today(), 4) })).body;
    const list = async (query: string) => (await get(`/v1/lms/topups/?account=${acc.id}&${query}`)).body;
    const all = await list('');
    expect(all).toMatchObject({ count: 2, current_page: 1, page_size: 15 });
    expect(all.results.map((t: { id: string }) => t.id)).toEqual([b.id, a.id]);
    expect((await list('status=scheduled')).results.map((t: { id: string }) => t.id)).toEqual([b.id]);
    expect((await list('invoice_number=inv-list-a')).results.map((t: { id: string }) => t.id)).toEqual([a.id]);
    expect((await list(`created_from=${today()}&created_to=${today()}`)).count).toBe(2);
    expect((await list(`created_to=${addDays(today(), -1)}`)).count).toBe(0);
    expect((await list(`disbursement_date_from=${addDays(today(), 1)}`)).results.map((t: { id: string }) => t.id)).toEqual([b.id]);
    expect((await list(`disbursement_date_to=${today()}`)).results.map((t: { id: string }) => t.id)).toEqual([a.id]);
    expect((await list(`topup_group=${newId()}`)).count).toBe(0);
    const bad = await get('/v1/lms/topups/?status=paid&page_size=500');
    expect(Object.keys(bad.body.errors).sort()).toEqual(['page_size', 'status']);
    const other = await createTenant(ctx, 'topups-list-other');
    expect((await get(`/v1/lms/topups/?account=${acc.id}`, other)).body.count).toBe(0);
  });
});

describe('Bulk Topup Create', () => {
  it('creates every row in one transaction, or none, naming the bad row', async () => {
    const acc = await account(1_00_000);
    const bulk = (topups: object[], key?: string) => {
      const req = ctx.http().post('/v1/lms/topups/bulk_create/').set('Authorization', auth('maker'));
      return (key ? req.set('Idempotency-Key', key) : req).send({ topups });
    };
    const bad = await bulk([{ account: acc.id, amount: 100 }, { account: acc.id, amount: 0 }]);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toHaveProperty(['topups.1.amount']);
    const missing = await bulk([{ account: acc.id, amount: 100 }, { account: newId(), amount: 100 }]);
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual({ 'topups.1.account': ['not found'] });
    expect(await ctx.db.prisma.topup.count({ where: { accountId: acc.id } })).toBe(0);
    const key = `bulk-${newId()}`;
    const ok = await bulk([{ account: acc.id, amount: 60_000 }, { account: acc.id, amount: 60_000 }], key);
    expect(ok.status).toBe(201);
    expect(ok.body.results.map((t: { status: string }) => t.status)).toEqual(['payout_initiated', 'checks_failed']);
    expect((await bulk([{ account: acc.id, amount: 60_000 }, { account: acc.id, amount: 60_000 }], key)).body).toEqual(ok.body);
    expect(await ctx.db.prisma.topup.count({ where: { accountId: acc.id } })).toBe(2);
    expect((await bulk([])).status).toBe(400);
  });

  it('takes the documented maximum of 500 rows in one request, and refuses 501', async () => {
    const acc = await account(10_00_000);
    const rows = Array.from({ length: 500 }, (_, i) => ({ account: acc.id, amount: 1000, invoice_number: `BULK-${i}` }));
    const res = await ctx.http().post('/v1/lms/topups/bulk_create/').set('Authorization', auth('maker')).send({ topups: rows });
    expect(res.status).toBe(201);
    expect(res.body.count).toBe(500);
    expect(res.body.results.every((t: { status: string }) => t.status === 'payout_initiated')).toBe(true);
    const over = await ctx.http().post('/v1/lms/topups/bulk_create/').set('Authorization', auth('maker')).send({ topups: [...rows, rows[0]] });
    expect(over.status).toBe(400);
    expect(over.body.errors).toHaveProperty('topups');
  }, 240_000);
});
