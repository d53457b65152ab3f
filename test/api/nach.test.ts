// NACH through the API: mandates, Bulk Nach Request (presentations) and the bank's status file,
// against the real database: allocation and conservation on success, failure and bounce charges
// on bounce, and idempotency of every write (keys on the POSTs, by design for repeats).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'nach');
  bankId = await collectionBank(tenant);
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const by = (t = tenant) => ({ companyId: t.companyId, actor: 'test' });
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const post = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().post(url).set('Authorization', t.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().put(url).set('Authorization', t.bearer(role)).send(body);
const patch = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().patch(url).set('Authorization', t.bearer(role)).send(body);
/** Noon IST of a day, as Crego's integer settled_at. */
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);
/** 23:59:59.999999 IST of a day: the business-date form on the wire. */
const businessDate = (date: string) => Date.parse(`${date}T18:29:59Z`) / 1000 + 0.999999;
let umrnCounter = 0;
/** A fresh, valid UMRN (20 uppercase letters and digits). */
const umrn = () => `UMRN${String(Date.now()).slice(-8)}${String(++umrnCounter).padStart(8, '0')}`;

async function collectionBank(t: Tenant) {
  return (await ctx.app.services.collectionBanks.create(by(t), {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
}

/** An account with a 1,00,000 loan at 12% for 12 months (EMI 8,884.88, due on the 1st from Feb), disbursed on `on`. */
async function emiLoan(t = tenant, on = '2024-01-01') {
  const account = await accountWithParams(ctx, t.companyId);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(t), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(t), loan.id, on);
  return { account, loan };
}

async function mandateFor(accountId: string, extra: object = {}, t = tenant) {
  const res = await post('/v1/lms/nach_mandates/', { account: accountId, umrn: umrn(), ...extra }, 'maker', t);
  expect(res.status).toBe(201);
  return res.body as { id: string; umrn: string };
}

const bulk = (body: object, t = tenant) => post('/v1/lms/records/bulk_nach_request/', body, 'maker', t);
const statusFile = (rows: object[], extra: object = {}) => put('/v1/lms/records/nach_presentation_status/', { collection_bank_id: bankId, rows, ...extra });

async function conserved(recordId: string) {
  const record = (await ctx.db.client.record.findUnique({ where: { id: recordId } }))!;
  const sum = await ctx.db.client.settlement.aggregate({ where: { recordId }, _sum: { amountPaise: true } });
  expect((sum._sum.amountPaise ?? 0n) + record.remainingPaise).toBe(record.amountPaise);
  return { record, settled: sum._sum.amountPaise ?? 0n };
}

const auditActions = async (entityId: string) =>
  (await ctx.db.client.auditEvent.findMany({ where: { entityId }, orderBy: { id: 'asc' } })).map((a) => a.action);

describe('NACH mandates', () => {
  it('registers, reads, lists, cancels, re-caps and reactivates a mandate, auditing each change', async () => {
    const { account } = await emiLoan();
    const code = umrn();
    const created = await post('/v1/lms/nach_mandates/', { account: account.id, umrn: code, max_amount: 10000, bank_account_no: '000111222333', ifsc: 'hdfc0001234' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      account: account.id, umrn: code, status: 'active', max_amount: 10000, bank_account_no: '000111222333', ifsc: 'HDFC0001234', company: tenant.companyId,
    });
    const id = created.body.id;
    expect((await get(`/v1/lms/nach_mandates/${id}/`)).body).toEqual(created.body);
    expect((await get(`/v1/lms/nach_mandates/?account=${account.id}`)).body).toMatchObject({ count: 1, current_page: 1, page_size: 15 });
    expect((await get(`/v1/lms/nach_mandates/?umrn=${code}`)).body.results.map((m: { id: string }) => m.id)).toEqual([id]);
    expect((await get(`/v1/lms/nach_mandates/?account=${account.id}&status=cancelled`)).body.count).toBe(0);

    const cancelled = await patch(`/v1/lms/nach_mandates/${id}/`, { status: 'cancelled', max_amount: null });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', max_amount: null });
    expect((await get(`/v1/lms/nach_mandates/?account=${account.id}&status=cancelled`)).body.count).toBe(1);
    // A patch that changes nothing writes nothing.
    expect((await patch(`/v1/lms/nach_mandates/${id}/`, { status: 'cancelled' })).status).toBe(200);
    const again = await patch(`/v1/lms/nach_mandates/${id}/`, { status: 'active', max_amount: 2500.5 });
    expect(again.body).toMatchObject({ status: 'active', max_amount: 2500.5 });
    expect(await auditActions(id)).toEqual(['created', 'updated', 'updated']);
    const [update] = await ctx.db.client.auditEvent.findMany({ where: { entityId: id, action: 'updated' }, orderBy: { id: 'asc' }, take: 1 });
    expect(update!.data).toEqual({ status: { from: 'active', to: 'cancelled' }, max_amount_paise: { from: '1000000', to: null } });
  });

  it('validates the body and names each bad field: a 19-character UMRN is a 400', async () => {
    const { account } = await emiLoan();
    const short = await post('/v1/lms/nach_mandates/', { account: account.id, umrn: 'ABCDEFGHIJ123456789' });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('VALIDATION_ERROR');
    expect(short.body.errors.umrn[0]).toContain('20 characters');
    expect((await post('/v1/lms/nach_mandates/', { account: account.id, umrn: 'ABCDEFGHIJ12345678901' })).body.errors).toHaveProperty('umrn');
    expect((await post('/v1/lms/nach_mandates/', { account: account.id, umrn: 'ABCDEFGHIJ-123456789' })).body.errors).toHaveProperty('umrn');
    const bad = await post('/v1/lms/nach_mandates/', { account: 'x', max_amount: 1.001, bank_account_no: '12a', ifsc: 'NOPE', extra: 1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['account', 'umrn', 'max_amount', 'bank_account_no', 'ifsc']));
    const mandate = await mandateFor(account.id);
    const badPatch = await patch(`/v1/lms/nach_mandates/${mandate.id}/`, { status: 'paused', max_amount: -5 });
    expect(badPatch.status).toBe(400);
    expect(Object.keys(badPatch.body.errors)).toEqual(expect.arrayContaining(['status', 'max_amount']));
    expect((await get('/v1/lms/nach_mandates/?status=paused')).status).toBe(400);
    expect((await get('/v1/lms/nach_mandates/not-a-uuid/')).body.errors).toHaveProperty('id');
  });

  it('answers 409 for a UMRN taken in the company and for a second active mandate on an account', async () => {
    const { account } = await emiLoan();
    const first = await mandateFor(account.id);
    const { account: other } = await emiLoan();
    const dup = await post('/v1/lms/nach_mandates/', { account: other.id, umrn: first.umrn });
    expect(dup.status).toBe(409);
    expect(dup.body.errors).toHaveProperty('umrn');
    const second = await post('/v1/lms/nach_mandates/', { account: account.id, umrn: umrn() });
    expect(second.status).toBe(409);
    expect(second.body.errors.account[0]).toContain(first.umrn);
    // Cancel the first, register a replacement; reactivating the first is then a conflict.
    await patch(`/v1/lms/nach_mandates/${first.id}/`, { status: 'cancelled' });
    const replacement = await mandateFor(account.id);
    expect((await patch(`/v1/lms/nach_mandates/${first.id}/`, { status: 'active' })).status).toBe(409);
    expect((await get(`/v1/lms/nach_mandates/?account=${account.id}&status=active`)).body.results.map((m: { id: string }) => m.id)).toEqual([replacement.id]);
    // The same UMRN in another company is that company's business.
    const otherTenant = await createTenant(ctx, 'nach-umrn');
    const { account: theirs } = await emiLoan(otherTenant);
    expect((await post('/v1/lms/nach_mandates/', { account: theirs.id, umrn: first.umrn }, 'maker', otherTenant)).status).toBe(201);
  });

  it('answers 404 for foreign or missing ids, 403 to a viewer writing, and replays an idempotent create', async () => {
    const { account } = await emiLoan();
    const other = await createTenant(ctx, 'nach-other');
    const foreign = await post('/v1/lms/nach_mandates/', { account: account.id, umrn: umrn() }, 'maker', other);
    expect(foreign.status).toBe(404);
    expect(foreign.body.errors).toHaveProperty('account');
    expect((await post('/v1/lms/nach_mandates/', { account: newId(), umrn: umrn() })).status).toBe(404);
    const mandate = await mandateFor(account.id);
    expect((await get(`/v1/lms/nach_mandates/${mandate.id}/`, other)).status).toBe(404);
    expect((await patch(`/v1/lms/nach_mandates/${mandate.id}/`, { status: 'cancelled' }, 'admin', other)).status).toBe(404);
    expect((await get(`/v1/lms/nach_mandates/${newId()}/`)).status).toBe(404);
    expect((await get(`/v1/lms/nach_mandates/?account=${account.id}`, other)).body.count).toBe(0);
    expect((await post('/v1/lms/nach_mandates/', { account: account.id, umrn: umrn() }, 'viewer')).status).toBe(403);
    expect((await patch(`/v1/lms/nach_mandates/${mandate.id}/`, { status: 'cancelled' }, 'viewer')).status).toBe(403);

    const { account: fresh } = await emiLoan();
    const key = `nm-${newId()}`;
    const body = { account: fresh.id, umrn: umrn() };
    const send = () => ctx.http().post('/v1/lms/nach_mandates/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send(body);
    const a = await send();
    const b = await send();
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers['idempotency-replayed']).toBe('true');
    expect(b.body).toEqual(a.body);
    expect((await get(`/v1/lms/nach_mandates/?account=${fresh.id}`)).body.count).toBe(1);
  });
});

describe('Bulk Nach Request', () => {
  it('presents each account with an active mandate for what is due by the date, capped at the mandate, and reports the skipped', async () => {
    const a = await emiLoan();
    const b = await emiLoan();
    const noMandate = await emiLoan();
    const notDue = await emiLoan(tenant, '2024-02-01');
    const mandateA = await mandateFor(a.account.id);
    await mandateFor(b.account.id, { max_amount: 5000 });
    await mandateFor(notDue.account.id);
    const res = await bulk({ date: '2024-02-05', accounts: [a.account.id, b.account.id, noMandate.account.id, notDue.account.id] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ count: 2, date: businessDate('2024-02-05'), remaining: 0, skipped_count: 2 });
    expect(res.body.batch).toMatch(/^NB\d{7}$/);
    expect(res.body.skipped).toEqual(expect.arrayContaining([
      { account: noMandate.account.id, reason: 'no_active_mandate' }, { account: notDue.account.id, reason: 'nothing_due' },
    ]));
    const byAccount = new Map(res.body.results.map((r: { account: string }) => [r.account, r]));
    expect(byAccount.get(a.account.id)).toMatchObject({
      type: 'nach', status: 'pending', payment_mode: 'nach', amount: 8884.88, received_amount: 8884.88, tds_amount: 0, umrn: mandateA.umrn,
      nach_batch: res.body.batch, bank_date: businessDate('2024-02-05'), utr: null, settled_at: null, approval: { required: false },
    });
    expect(byAccount.get(b.account.id)).toMatchObject({ amount: 5000, status: 'pending' });
    const rowA = (await ctx.db.client.record.findFirst({ where: { accountId: a.account.id, type: 'nach' } }))!;
    const [emi1] = await ctx.db.client.demand.findMany({ where: { loanId: a.loan.id }, orderBy: { dueDate: 'asc' }, take: 1 });
    expect(rowA).toMatchObject({ presentedDemandIds: [emi1!.id], loanIds: [a.loan.id], nachBatch: res.body.batch, settlementOrder: 'due_date_first', componentOrder: 'PI-OI-NI-P' });
    expect(await auditActions(rowA.id)).toEqual(['nach_presented']);
    // Listed with the records, filterable as NACH.
    expect((await get(`/v1/lms/records/?account=${a.account.id}&type=nach&payment_mode=nach`)).body.count).toBe(1);
  });

  it('a repeated request does not present the same demands again; a later date presents only what is new', async () => {
    const { account, loan } = await emiLoan();
    await mandateFor(account.id);
    const first = await bulk({ date: '2024-02-05', accounts: [account.id] });
    expect(first.body.count).toBe(1);
    const repeat = await bulk({ date: '2024-02-05', accounts: [account.id] });
    expect(repeat.status).toBe(201);
    expect(repeat.body).toMatchObject({ count: 0, batch: null, results: [], skipped: [{ account: account.id, reason: 'already_presented' }] });
    const later = await bulk({ date: '2024-03-05', accounts: [account.id] });
    expect(later.body.count).toBe(1);
    expect(later.body.results[0].amount).toBe(8884.88);
    const demands = await ctx.db.client.demand.findMany({ where: { loanId: loan.id }, orderBy: { dueDate: 'asc' }, take: 2 });
    const presented = await ctx.db.client.record.findMany({ where: { accountId: account.id, type: 'nach' }, orderBy: { refId: 'asc' } });
    expect(presented.map((r) => r.presentedDemandIds)).toEqual([[demands[0]!.id], [demands[1]!.id]]);
    expect(new Set(presented.map((r) => r.nachBatch)).size).toBe(2);
  });

  it('two requests at once present each demand once', async () => {
    const { account } = await emiLoan();
    await mandateFor(account.id);
    const results = await Promise.all([bulk({ date: '2024-04-05', accounts: [account.id] }), bulk({ date: '2024-04-05', accounts: [account.id] })]);
    expect(results.map((r) => r.status)).toEqual([201, 201]);
    expect(results.map((r) => r.body.count).sort()).toEqual([0, 1]);
    expect(await ctx.db.client.record.count({ where: { accountId: account.id, type: 'nach' } })).toBe(1);
  });

  it('without accounts presents every active mandate of the company (not cancelled ones), dues of open loans only', async () => {
    const own = await createTenant(ctx, 'nach-all');
    const live = await emiLoan(own);
    const cancelled = await emiLoan(own);
    await mandateFor(live.account.id, {}, own);
    const gone = await mandateFor(cancelled.account.id, {}, own);
    await patch(`/v1/lms/nach_mandates/${gone.id}/`, { status: 'cancelled' }, 'maker', own);
    const res = await bulk({ date: '2024-03-01' }, own);
    expect(res.status).toBe(201);
    // Feb and Mar EMIs were due by 1 Mar.
    expect(res.body).toMatchObject({ count: 1, skipped: [], remaining: 0 });
    expect(res.body.results[0]).toMatchObject({ account: live.account.id, amount: 17769.76 });
    // Without a date, today (IST): everything due by now (all 12 EMIs) less what is pending.
    const today = await bulk({}, own);
    expect(today.body.count).toBe(1);
    const rest = await ctx.db.client.demand.findMany({ where: { loanId: live.loan.id, dueDate: { gt: new Date('2024-03-01') } } });
    expect(rest).toHaveLength(10);
    expect(today.body.results[0].amount).toBe(Number(rest.reduce((s, d) => s + d.pDuePaise + d.niDuePaise, 0n)) / 100);
  });

  it('validates the body (400 naming fields), 404s foreign accounts, 403s viewers, and replays an idempotent request', async () => {
    const bad = await bulk({ date: '2024-02-30', accounts: ['x'], extra: true });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['date', 'accounts.0']));
    expect((await bulk({ date: '2999-01-01' })).body.errors).toHaveProperty('date');
    expect((await bulk({ accounts: [] })).body.errors).toHaveProperty('accounts');
    const { account } = await emiLoan();
    await mandateFor(account.id);
    const other = await createTenant(ctx, 'nach-bulk-other');
    const foreign = await bulk({ date: '2024-02-05', accounts: [account.id] }, other);
    expect(foreign.status).toBe(404);
    expect(foreign.body.errors).toHaveProperty('accounts.0');
    const missing = await bulk({ date: '2024-02-05', accounts: [account.id, newId()] });
    expect(missing.status).toBe(404);
    expect(Object.keys(missing.body.errors)).toEqual(['accounts.1']);
    expect(await ctx.db.client.record.count({ where: { accountId: account.id } })).toBe(0);
    expect((await post('/v1/lms/records/bulk_nach_request/', { date: '2024-02-05', accounts: [account.id] }, 'viewer')).status).toBe(403);

    const key = `nb-${newId()}`;
    const send = () => ctx.http().post('/v1/lms/records/bulk_nach_request/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key)
      .send({ date: '2024-02-05', accounts: [account.id] });
    const first = await send();
    const replay = await send();
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(first.body.count).toBe(1);
    expect(await ctx.db.client.record.count({ where: { accountId: account.id, type: 'nach' } })).toBe(1);
  });
});

describe('NACH presentation status', () => {
  /** Two accounts presented on 5 Feb 2024 (one EMI each). */
  async function presented() {
    const a = await emiLoan();
    const b = await emiLoan();
    await mandateFor(a.account.id);
    await mandateFor(b.account.id);
    const res = await bulk({ date: '2024-02-05', accounts: [a.account.id, b.account.id] });
    expect(res.body.count).toBe(2);
    const recordOf = (accountId: string) => res.body.results.find((r: { account: string }) => r.account === accountId) as { id: string; ref_id: string };
    return { a: { ...a, record: recordOf(a.account.id) }, b: { ...b, record: recordOf(b.account.id) } };
  }

  it('success rows are processed and allocated (conservation holds); bounce rows fail with a bounce charge; a replay changes nothing', async () => {
    const ok = await presented();
    const bounced = await presented();
    const rows = [
      { record: ok.a.record.id, status: 'success', utr: 'NPCIUTR0001', settled_at: settledOn('2024-02-05') },
      { ref_id: ok.b.record.ref_id, status: 'success', amount: 8884.88 },
      { record: bounced.a.record.id, status: 'bounce', reason: 'Insufficient funds', settled_at: settledOn('2024-02-06') },
    ];
    const res = await statusFile(rows, { bounce_charge: 500 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 3, processed: 2, failed: 1, unchanged: 0, errors: 0 });
    expect(res.body.results[0]).toMatchObject({ index: 0, outcome: 'processed', record: ok.a.record.id, status: 'processed', utr: 'NPCIUTR0001', amount: 8884.88, remaining_amount: 0, error: null });
    expect(res.body.results[1]).toMatchObject({ outcome: 'processed', record: ok.b.record.id, ref_id: ok.b.record.ref_id, utr: `NACH${ok.b.record.ref_id}` });
    expect(res.body.results[2]).toMatchObject({ outcome: 'failed', status: 'failed', failure_reason: 'Insufficient funds' });

    for (const side of [ok.a, ok.b]) {
      const { record, settled } = await conserved(side.record.id);
      expect(settled).toBe(8884_88n);
      expect(record.valueDate!.toISOString().slice(0, 10)).toBe('2024-02-05');
      expect(record.collectionBankId).toBe(bankId);
      const [first] = (await get(`/v1/lms/emis/?loan=${side.loan.id}&page_size=1`)).body.results;
      expect(first).toMatchObject({ installment_number: 1, status: 'paid', outstanding_amount: 0 });
    }
    const processedRecord = (await get(`/v1/lms/records/${ok.a.record.id}/`)).body;
    expect(processedRecord).toMatchObject({ status: 'processed', loans: [ok.a.loan.id], collection_bank: { id: bankId }, value_date: businessDate('2024-02-05') });
    expect(await auditActions(ok.a.record.id)).toEqual(['nach_presented', 'processed', 'nach_success']);

    const fees = (await get(`/v1/lms/fees/?loan=${bounced.a.loan.id}`)).body;
    expect(fees.count).toBe(1);
    expect(fees.results[0]).toMatchObject({ fee_type: 'bounce_charge', amount: 500, gst_rate: 0, total_amount: 500, due_date: businessDate('2024-02-06') });
    expect(res.body.results[2].bounce_fee).toBe(fees.results[0].id);
    expect(await ctx.db.client.settlement.count({ where: { recordId: bounced.a.record.id } })).toBe(0);
    expect(await auditActions(bounced.a.record.id)).toEqual(['nach_presented', 'nach_bounced']);

    // The same file again: every row is reported unchanged, and nothing moves.
    const before = { settlements: await ctx.db.client.settlement.count(), fees: await ctx.db.client.fee.count(), audit: await ctx.db.client.auditEvent.count() };
    const replay = await statusFile(rows, { bounce_charge: 500 });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ count: 3, processed: 0, failed: 0, unchanged: 3, errors: 0 });
    expect(replay.body.results.map((r: { status: string }) => r.status)).toEqual(['processed', 'processed', 'failed']);
    expect({ settlements: await ctx.db.client.settlement.count(), fees: await ctx.db.client.fee.count(), audit: await ctx.db.client.auditEvent.count() }).toEqual(before);
  });

  it('a bounced presentation can be presented again; the company setting supplies the bounce charge (with GST) when the file gives none', async () => {
    const { a } = await presented();
    await ctx.db.client.company.update({ where: { id: tenant.companyId }, data: { settings: { nach_bounce_charge_paise: '35000', nach_bounce_charge_gst_rate: '18' } } });
    try {
      const res = await statusFile([{ record: a.record.id, status: 'bounce', reason: 'Account closed' }]);
      expect(res.body.results[0]).toMatchObject({ outcome: 'failed' });
      const [fee] = (await get(`/v1/lms/fees/?loan=${a.loan.id}`)).body.results;
      expect(fee).toMatchObject({ amount: 350, gst_rate: 18, gst_amount: 63, total_amount: 413 });
      // A charge of 0 in the file overrides the setting: no fee.
      const again = await bulk({ date: '2024-02-05', accounts: [a.account.id] });
      expect(again.body.count).toBe(1);
      const fresh = again.body.results[0];
      expect(fresh.id).not.toBe(a.record.id);
      const none = await statusFile([{ record: fresh.id, status: 'bounce', reason: 'Payment stopped' }], { bounce_charge: 0 });
      expect(none.body.results[0]).toMatchObject({ outcome: 'failed', bounce_fee: null });
      expect((await get(`/v1/lms/fees/?loan=${a.loan.id}`)).body.count).toBe(1);
    } finally {
      await ctx.db.client.company.update({ where: { id: tenant.companyId }, data: { settings: {} } });
    }
  });

  it('reports rows that do not apply and applies the others', async () => {
    const { a, b } = await presented();
    const repayment = (await post('/v1/lms/records/', { account: a.account.id, amount: 10 })).body;
    const first = await statusFile([{ record: a.record.id, status: 'success', settled_at: settledOn('2024-02-05') }]);
    expect(first.body.processed).toBe(1);
    const res = await statusFile([
      { record: newId(), status: 'success' },
      { record: a.record.id, status: 'bounce', reason: 'Late return' },
      { record: a.record.id, status: 'success', utr: 'OTHERUTR1' },
      { record: repayment.id, status: 'success' },
      { ref_id: 'REC9999999', status: 'success' },
      { record: b.record.id, status: 'success', amount: 100 },
      { record: b.record.id, status: 'success' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 7, processed: 1, errors: 6 });
    const [unknown, contradicts, otherUtr, notNach, unknownRef, wrongAmount, applied] = res.body.results;
    expect(unknown).toMatchObject({ outcome: 'error', status: null, error: { code: 'NOT_FOUND', errors: { 'rows.0.record': ['not found'] } } });
    expect(contradicts).toMatchObject({ outcome: 'error', record: a.record.id, error: { code: 'STATE_CONFLICT' } });
    expect(contradicts.error.errors).toHaveProperty('rows.1.status');
    expect(otherUtr.error.code).toBe('STATE_CONFLICT');
    expect(notNach.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(unknownRef).toMatchObject({ ref_id: 'REC9999999', error: { code: 'NOT_FOUND', errors: { 'rows.4.ref_id': ['not found'] } } });
    expect(wrongAmount.error.errors).toHaveProperty('rows.5.amount');
    expect(applied).toMatchObject({ outcome: 'processed', record: b.record.id });
    expect((await ctx.db.client.record.findUnique({ where: { id: a.record.id } }))!.status).toBe('processed');
    await conserved(b.record.id);
  });

  it('validates the file (400 naming fields), 404s a foreign bank, 403s viewers; a future presentation needs settled_at', async () => {
    const bad = await put('/v1/lms/records/nach_presentation_status/', { rows: [{ status: 'bounce' }, { record: 'x', status: 'paid', utr: 'a-b' }], extra: 1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['collection_bank_id', 'rows.0.record', 'rows.0.reason', 'rows.1.record', 'rows.1.status', 'rows.1.utr']));
    expect((await statusFile([])).body.errors).toHaveProperty('rows');
    const tooMany = await statusFile(Array.from({ length: 1001 }, () => ({ record: newId(), status: 'success' })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toHaveProperty('rows');
    const { a } = await presented();
    const other = await createTenant(ctx, 'nach-status-other');
    const otherBank = await collectionBank(other);
    const foreignBank = await statusFile([{ record: a.record.id, status: 'success' }], { collection_bank_id: otherBank });
    expect(foreignBank.status).toBe(404);
    expect(foreignBank.body.errors).toHaveProperty('collection_bank_id');
    // Another company's presentation is a row-level 404.
    const foreignRow = await put('/v1/lms/records/nach_presentation_status/', { collection_bank_id: otherBank, rows: [{ record: a.record.id, status: 'success' }] }, 'maker', other);
    expect(foreignRow.body.results[0].error.code).toBe('NOT_FOUND');
    expect((await put('/v1/lms/records/nach_presentation_status/', { collection_bank_id: bankId, rows: [{ record: a.record.id, status: 'success' }] }, 'viewer')).status).toBe(403);
    expect((await ctx.db.client.record.findUnique({ where: { id: a.record.id } }))!.status).toBe('pending');
    // The file is idempotent by its rows, not by Idempotency-Key: a repeat answers what it finds now.
    const keyed = () => ctx.http().put('/v1/lms/records/nach_presentation_status/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', `ns-${a.record.id}`)
      .send({ collection_bank_id: bankId, rows: [{ record: a.record.id, status: 'bounce', reason: 'Insufficient funds' }] });
    const once = await keyed();
    const twice = await keyed();
    expect([once.body.results[0].outcome, twice.body.results[0].outcome]).toEqual(['failed', 'unchanged']);
    expect(twice.headers['idempotency-replayed']).toBeUndefined();

    const { account } = await emiLoan(tenant, '2026-01-01');
    await mandateFor(account.id);
    const ahead = new Date(Date.now() + 10 * 86400_000).toISOString().slice(0, 10);
    const future = (await bulk({ date: ahead, accounts: [account.id] })).body.results[0];
    const res = await statusFile([{ record: future.id, status: 'success' }]);
    expect(res.body.results[0].error).toMatchObject({ code: 'VALIDATION_ERROR', errors: { 'rows.0.settled_at': [expect.stringContaining('future')] } });
  });
});
