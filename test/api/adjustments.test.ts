// Cashback and holdback adjustments through the API: a non-cash record per loan, bounded by the
// loan's params and what it owes, that waits for a checker and then settles like a payment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { businessDateToEpoch } from '../../src/domain/time.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams, EMI_PARAMS } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  // The 500-row maximum runs in one transaction: on a CPU shared with other suites it may take
  // longer than the 20 s default, which is a setting, not what these tests are about.
  ctx = await buildTestApp({ env: { DB_TRANSACTION_TIMEOUT_MS: '120000', IDEMPOTENCY_LOCK_S: '300' } });
  tenant = await createTenant(ctx, 'adjustments');
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const post = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().post(url).set('Authorization', t.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'checker') => ctx.http().put(url).set('Authorization', tenant.bearer(role)).send(body);
const paise = (rupees: number) => BigInt(Math.round(rupees * 100));
const adjust = (loanId: string, body: object, role: Role = 'maker') => post(`/v1/lms/loans/${loanId}/adjustments/`, body, role);

/** Cashback on, holdback at 5% of the disbursed principal (Rs 5,000 on Rs 1,00,000). */
const ADJUSTABLE = { ...EMI_PARAMS, cashback_is_enabled: true, holdback_is_enabled: true, holdback_rate: 5 };

/** An account with a 1,00,000 loan at 12% for 12 months (EMI 8,884.88), disbursed 1 Jan 2024. */
async function emiLoan(params: Record<string, unknown> = ADJUSTABLE) {
  const account = await accountWithParams(ctx, tenant.companyId, params);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
  return { account, loan };
}

async function outstandingOf(loanId: string): Promise<bigint> {
  const demands = await ctx.db.client.demand.findMany({ where: { loanId, status: { not: 'cancelled' } } });
  return demands.reduce((s, d) => s + d.pDuePaise + d.niDuePaise + d.oiDuePaise + d.piDuePaise + d.feeDuePaise
    - d.pPaidPaise - d.niPaidPaise - d.oiPaidPaise - d.piPaidPaise - d.feePaidPaise - d.pWaivedPaise - d.niWaivedPaise - d.oiWaivedPaise - d.piWaivedPaise - d.feeWaivedPaise, 0n);
}

/** Conservation from the database: settlements + remaining + refunded = amount. */
async function expectConserved(recordId: string) {
  const record = (await ctx.db.client.record.findUnique({ where: { id: recordId } }))!;
  const settled = await ctx.db.client.settlement.aggregate({ where: { recordId }, _sum: { amountPaise: true } });
  expect((settled._sum.amountPaise ?? 0n) + record.remainingPaise + record.refundedPaise).toBe(record.amountPaise);
  return { record, settled: settled._sum.amountPaise ?? 0n };
}

describe('Initiate Adjustment (POST loans/{id}/adjustments/)', () => {
  it("creates a non-cash record awaiting approval; a checker's approval settles it against the loan's dues", async () => {
    const { account, loan } = await emiLoan();
    const res = await adjust(loan.id, { amount: 1000, type: 'cashback', date: '2024-02-05', remark: 'festive offer' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      type: 'cashback', status: 'approval_pending', payment_mode: 'internal', utr: null, collection_bank: null, amount: 1000, received_amount: 1000,
      tds_amount: 0, remaining_amount: 0, account: account.id, cashback_loan: loan.id, holdback_loan: null, remark: 'festive offer',
      value_date: businessDateToEpoch('2024-02-05'), approval: { required: true, remarks: 'festive offer' },
    });
    expect(res.body.ref_id).toMatch(/^REC\d{7}$/);
    expect(res.body.settled_at).toBe(Math.floor(businessDateToEpoch('2024-02-05')));
    expect(await ctx.db.client.settlement.count({ where: { recordId: res.body.id } })).toBe(0);
    const row = (await ctx.db.client.record.findUnique({ where: { id: res.body.id } }))!;
    expect(row.loanIds).toEqual([loan.id]);
    const audit = await ctx.db.client.auditEvent.findMany({ where: { companyId: tenant.companyId, OR: [{ entityId: res.body.id }, { entityId: loan.id, action: 'adjustment_initiated' }] } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['created', 'approval_requested', 'adjustment_initiated']));

    const approved = await put(`/v1/lms/records/${res.body.id}/approve/`, { remarks: 'ok' });
    expect(approved.status).toBe(200);
    // EMI 1 (due 1 Feb) is the only due on 5 Feb: the cashback pays its interest, 1,000.
    expect(approved.body).toMatchObject({ status: 'processed', remaining_amount: 0, loans: [loan.id] });
    const lines = await ctx.db.client.settlement.findMany({ where: { recordId: res.body.id } });
    expect(lines.map((l) => [l.component, l.amountPaise])).toEqual([['NI', 100000n]]);
    await expectConserved(res.body.id);
  });

  it('defaults the value date to today and allocates on approval; leftover on a hold loan stays on the record, named to the loan', async () => {
    const { loan } = await emiLoan();
    const before = await outstandingOf(loan.id);
    const res = await adjust(loan.id, { amount: 2500.5, type: 'holdback' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'holdback', holdback_loan: loan.id, cashback_loan: null, amount: 2500.5 });
    expect(Math.abs(res.body.settled_at - Date.now() / 1000)).toBeLessThan(120);
    const approved = await put(`/v1/lms/records/${res.body.id}/approve/`, {}, 'admin');
    expect(approved.body.status).toBe('processed');
    expect(await outstandingOf(loan.id)).toBe(before - 250050n);
    await expectConserved(res.body.id);
  });

  it('holdback is capped at holdback_rate% of the disbursed principal, counting adjustments awaiting approval; a rejection frees its room', async () => {
    const { loan } = await emiLoan();
    const first = await adjust(loan.id, { amount: 3000, type: 'holdback' });
    expect(first.status).toBe(201);
    const over = await adjust(loan.id, { amount: 2000.01, type: 'holdback' });
    expect(over.status).toBe(409);
    expect(over.body.code).toBe('STATE_CONFLICT');
    expect(over.body.errors.amount[0]).toContain('2000');
    expect((await adjust(loan.id, { amount: 2000, type: 'holdback' })).status).toBe(201);
    expect((await adjust(loan.id, { amount: 0.01, type: 'holdback' })).status).toBe(409);
    // Approved holdback still counts: it was used.
    expect((await put(`/v1/lms/records/${first.body.id}/approve/`, {})).status).toBe(200);
    expect((await adjust(loan.id, { amount: 0.01, type: 'holdback' })).status).toBe(409);
    const last = (await ctx.db.client.record.findFirst({ where: { holdbackLoanId: loan.id, status: 'approval_pending' } }))!;
    expect((await put(`/v1/lms/records/${last.id}/reject/`, { remarks: 'not agreed' })).status).toBe(200);
    expect((await adjust(loan.id, { amount: 2000, type: 'holdback' })).status).toBe(201);
  });

  it('a cashback may not exceed what the loan still owes, less adjustments not yet settled', async () => {
    const { loan } = await emiLoan();
    const owed = await outstandingOf(loan.id);
    const rupees = Number(owed) / 100;
    const tooMuch = await adjust(loan.id, { amount: rupees + 0.01, type: 'cashback' });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.errors).toHaveProperty('amount');
    expect((await adjust(loan.id, { amount: rupees - 100, type: 'cashback' })).status).toBe(201);
    expect((await adjust(loan.id, { amount: 100.01, type: 'cashback' })).status).toBe(409);
    expect((await adjust(loan.id, { amount: 100, type: 'cashback' })).status).toBe(201);
  });

  it('409 naming type when the params do not enable it, and naming loan when the loan is not open', async () => {
    const { loan } = await emiLoan(EMI_PARAMS);
    for (const type of ['cashback', 'holdback']) {
      const res = await adjust(loan.id, { amount: 1, type });
      expect(res.status).toBe(409);
      expect(res.body.errors.type[0]).toContain('not enabled');
    }
    const account = await accountWithParams(ctx, tenant.companyId, ADJUSTABLE);
    const { loan: pending } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 1000_00n });
    const res = await adjust(pending.id, { amount: 1, type: 'cashback' });
    expect(res.status).toBe(409);
    expect(res.body.errors.loan[0]).toContain('pending_disbursement');
  });

  it('validates the body and names each bad field', async () => {
    const { loan } = await emiLoan();
    const empty = await adjust(loan.id, {});
    expect(empty.status).toBe(400);
    expect(Object.keys(empty.body.errors)).toEqual(expect.arrayContaining(['amount', 'type']));
    for (const amount of [0, -1, 1.001, '5', null]) {
      const res = await adjust(loan.id, { amount, type: 'cashback' });
      expect(res.status, `amount ${amount}`).toBe(400);
      expect(res.body.errors).toHaveProperty('amount');
    }
    expect((await adjust(loan.id, { amount: 1, type: 'refund' })).body.errors).toHaveProperty('type');
    expect((await adjust(loan.id, { amount: 1, type: 'cashback', extra: 1 })).status).toBe(400);
    expect((await adjust(loan.id, { amount: 1, type: 'cashback', date: 'yesterday' })).body.errors).toHaveProperty('date');
    const future = await adjust(loan.id, { amount: 1, type: 'cashback', date: '2999-01-01' });
    expect(future.status).toBe(400);
    expect(future.body.errors.date[0]).toContain('future');
    const early = await adjust(loan.id, { amount: 1, type: 'cashback', date: '2023-12-31' });
    expect(early.status).toBe(400);
    expect(early.body.errors.date[0]).toContain('2024-01-01');
    expect((await adjust('not-a-uuid', { amount: 1, type: 'cashback' })).body.errors).toHaveProperty('id');
  });

  it('404 for a missing or foreign loan, 403 for a viewer', async () => {
    const { loan } = await emiLoan();
    const other = await createTenant(ctx, 'adjustments-other');
    const missing = await adjust(newId(), { amount: 1, type: 'cashback' });
    expect(missing.status).toBe(404);
    const foreign = await post(`/v1/lms/loans/${loan.id}/adjustments/`, { amount: 1, type: 'cashback' }, 'maker', other);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    const viewer = await adjust(loan.id, { amount: 1, type: 'cashback' }, 'viewer');
    expect(viewer.status).toBe(403);
    expect(await ctx.db.client.record.count({ where: { cashbackLoanId: loan.id } })).toBe(0);
  });

  it('replays an idempotent POST instead of adjusting twice', async () => {
    const { loan } = await emiLoan();
    const key = `adj-${newId()}`;
    const send = () => ctx.http().post(`/v1/lms/loans/${loan.id}/adjustments/`).set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({ amount: 10, type: 'cashback' });
    const a = await send();
    const b = await send();
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers['idempotency-replayed']).toBe('true');
    expect(b.body.id).toBe(a.body.id);
    expect(await ctx.db.client.record.count({ where: { cashbackLoanId: loan.id } })).toBe(1);
  });

  it('its maker cannot approve it, even holding the checker role; another checker can', async () => {
    const { loan } = await emiLoan();
    const made = await adjust(loan.id, { amount: 100, type: 'cashback', date: '2024-02-05' }, 'checker');
    expect(made.status).toBe(201);
    const self = await put(`/v1/lms/records/${made.body.id}/approve/`, {}, 'checker');
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('FORBIDDEN');
    expect((await put(`/v1/lms/records/${made.body.id}/approve/`, {}, 'maker')).status).toBe(403);
    expect((await put(`/v1/lms/records/${made.body.id}/reject/`, { remarks: 'mine' }, 'checker')).status).toBe(403);
    expect((await ctx.db.client.record.findUnique({ where: { id: made.body.id } }))!.status).toBe('approval_pending');
    expect((await put(`/v1/lms/records/${made.body.id}/approve/`, {}, 'admin')).body.status).toBe('processed');
  });

  it('10 parallel holdbacks against a 5,000 cap: exactly five of 1,000 are accepted', async () => {
    const { loan } = await emiLoan();
    const results = await Promise.all(Array.from({ length: 10 }, () => adjust(loan.id, { amount: 1000, type: 'holdback' })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const sum = await ctx.db.client.record.aggregate({ where: { holdbackLoanId: loan.id }, _sum: { amountPaise: true } });
    expect(sum._sum.amountPaise).toBe(paise(5000));
  });
});

describe('Initiate Adjustment for Cashback & Holdback (POST records/adjustments/)', () => {
  const bulk = (body: object, role: Role = 'maker') => post('/v1/lms/records/adjustments/', body, role);

  it('adjusts several loans at once, each row awaiting approval, counting earlier rows against the same loan', async () => {
    const a = await emiLoan();
    const b = await emiLoan();
    const res = await bulk({ adjustments: [
      { loan: a.loan.id, amount: 3000, type: 'holdback' },
      { loan: b.loan.id, amount: 100, type: 'cashback', date: '2024-03-01' },
      { loan: a.loan.id, amount: 2000, type: 'holdback' },
    ] });
    expect(res.status).toBe(201);
    expect(res.body.count).toBe(3);
    expect(res.body.results.map((r: { type: string; status: string; amount: number }) => [r.type, r.status, r.amount]))
      .toEqual([['holdback', 'approval_pending', 3000], ['cashback', 'approval_pending', 100], ['holdback', 'approval_pending', 2000]]);
    expect(res.body.results[1].cashback_loan).toBe(b.loan.id);
    const over = await bulk({ adjustments: [{ loan: a.loan.id, amount: 0.01, type: 'holdback' }] });
    expect(over.status).toBe(409);
    expect(over.body.errors).toHaveProperty(['adjustments.0.amount']);
  });

  it('all or nothing: every failing row is named, nothing is written, and the lowest status answers', async () => {
    const a = await emiLoan();
    const off = await emiLoan(EMI_PARAMS);
    const rows = [
      { loan: a.loan.id, amount: 4000, type: 'holdback' },
      { loan: a.loan.id, amount: 1500, type: 'holdback' },
      { loan: off.loan.id, amount: 1, type: 'cashback' },
      { loan: a.loan.id, amount: 1, type: 'cashback', date: '2999-01-01' },
    ];
    const conflict = await bulk({ adjustments: rows });
    expect(conflict.status).toBe(400);
    expect(Object.keys(conflict.body.errors).sort()).toEqual(['adjustments.1.amount', 'adjustments.2.type', 'adjustments.3.date']);
    const withoutDate = await bulk({ adjustments: rows.slice(0, 3) });
    expect(withoutDate.status).toBe(409);
    const missing = await bulk({ adjustments: [...rows.slice(0, 3), { loan: newId(), amount: 1, type: 'cashback' }] });
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toHaveProperty(['adjustments.3.loan']);
    expect(missing.body.errors).toHaveProperty(['adjustments.1.amount']);
    expect(await ctx.db.client.record.count({ where: { accountId: { in: [a.account.id, off.account.id] } } })).toBe(0);
  });

  it('validates rows by index, bounds the batch, and refuses viewers', async () => {
    const { loan } = await emiLoan();
    const bad = await bulk({ adjustments: [{ loan: loan.id, amount: 1, type: 'cashback' }, { loan: 'x', amount: 1.001, type: 'gift' }] });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['adjustments.1.loan', 'adjustments.1.amount', 'adjustments.1.type']));
    expect((await bulk({ adjustments: [] })).body.errors).toHaveProperty('adjustments');
    expect((await bulk({})).body.errors).toHaveProperty('adjustments');
    const tooMany = await bulk({ adjustments: Array.from({ length: 501 }, () => ({ loan: loan.id, amount: 1, type: 'cashback' })) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toHaveProperty('adjustments');
    expect((await bulk({ adjustments: [{ loan: loan.id, amount: 1, type: 'cashback' }] }, 'viewer')).status).toBe(403);
    const other = await createTenant(ctx, 'adjustments-bulk-other');
    const foreign = await post('/v1/lms/records/adjustments/', { adjustments: [{ loan: loan.id, amount: 1, type: 'cashback' }] }, 'maker', other);
    expect(foreign.status).toBe(404);
  });

  it('replays an idempotent bulk POST', async () => {
    const { loan } = await emiLoan();
    const key = `adj-bulk-${newId()}`;
    const body = { adjustments: [{ loan: loan.id, amount: 5, type: 'cashback' }, { loan: loan.id, amount: 6, type: 'holdback' }] };
    const send = () => ctx.http().post('/v1/lms/records/adjustments/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send(body);
    const a = await send();
    const b = await send();
    expect(a.status).toBe(201);
    expect(b.headers['idempotency-replayed']).toBe('true');
    expect(b.body).toEqual(a.body);
    expect(await ctx.db.client.record.count({ where: { loanIds: { has: loan.id } } })).toBe(2);
  });

  it('500 rows (the maximum) over five loans fit in one transaction', async () => {
    const loans = await Promise.all(Array.from({ length: 5 }, () => emiLoan()));
    const rows = Array.from({ length: 500 }, (_, i) => ({ loan: loans[i % 5]!.loan.id, amount: 10, type: i % 2 === 0 ? 'holdback' : 'cashback' }));
    const started = Date.now();
    const res = await bulk({ adjustments: rows });
    expect(res.status).toBe(201);
    expect(res.body.count).toBe(500);
    console.log(`500 adjustments in ${Date.now() - started} ms`);
  }, 240_000);
});
