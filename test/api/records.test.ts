// Records through the API: create, mark processed (allocation under the account lock),
// settlements, unmatched and matching, maker-checker approval, and concurrency.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'records');
  bankId = (await ctx.app.services.collectionBanks.create({ companyId: tenant.companyId, actor: 'test' }, {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const post = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().post(url).set('Authorization', t.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().put(url).set('Authorization', t.bearer(role)).send(body);
/** Noon IST of a day, as Crego's integer settled_at. */
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);
const paise = (rupees: number) => Math.round(rupees * 100);

/** An account with a 1,00,000 loan at 12% for 12 months (EMI 8,884.88), disbursed 1 Jan 2024. */
async function emiLoan() {
  const account = await accountWithParams(ctx, tenant.companyId);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
  return { account, loan };
}

async function processed(accountId: string, amount: number, date: string, extra: object = {}) {
  const created = await post('/v1/lms/records/', { account: accountId, amount, ...extra });
  expect(created.status).toBe(201);
  const res = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, { utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn(date), collection_bank_id: bankId });
  expect(res.status).toBe(200);
  return res.body;
}

async function settlementsOf(recordId: string) {
  // Lists are newest first; the allocation order is the reverse.
  return ((await get(`/v1/lms/settlements/?record=${recordId}&page_size=100`)).body.results as { component: string; amount: number; demand: string; remaining_amount: number }[]).reverse();
}

/** Keys of Crego's example with the same JSON type (null in the example accepts anything). */
function expectCregoShape(ours: Record<string, unknown>, theirs: Record<string, unknown>) {
  for (const [key, value] of Object.entries(theirs)) {
    expect(ours, `missing key ${key}`).toHaveProperty(key);
    if (value === null) continue;
    const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
    if (kind(ours[key]) !== 'null') expect(kind(ours[key]), `type of ${key}`).toBe(kind(value));
  }
}

describe('Create Record and Mark Processed', () => {
  it('allocates an EMI exactly (horizontal, PI-OI-NI-P) and answers in Crego\'s record shape', async () => {
    const { account, loan } = await emiLoan();
    const created = await post('/v1/lms/records/', { account: account.id, received_amount: 8884.88, payment_mode: 'neft' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', type: 'repayment', amount: 8884.88, tds_amount: 0, remaining_amount: 0, settlement_order: 'due_date_first', component_order: 'PI-OI-NI-P', loans: [] });
    expect(created.body.ref_id).toMatch(/^REC\d{7}$/);
    const res = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, { utr: '123798123', settled_at: settledOn('2024-02-05'), collection_bank_id: bankId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'processed', utr: '123798123', settled_at: settledOn('2024-02-05'), remaining_amount: 0, loans: [loan.id], account: account.id });
    expect(res.body.collection_bank).toMatchObject({ id: bankId, account_no: '1576001500004547', ifsc: 'PUNB0457600', company: tenant.companyId });
    const example = JSON.parse(readFileSync(new URL('../fixtures/crego/record.mark_processed.response.json', import.meta.url), 'utf8'));
    expectCregoShape(res.body, example);
    expectCregoShape(res.body.collection_bank, example.collection_bank);

    const lines = await settlementsOf(created.body.id);
    expect(lines.map((l) => [l.component, l.amount])).toEqual([['NI', 1000], ['P', 7884.88]]);
    const [first] = (await get(`/v1/lms/emis/?loan=${loan.id}&page_size=1`)).body.results;
    expect(first).toMatchObject({ installment_number: 1, status: 'paid', outstanding_amount: 0, paid_amount: 8884.88 });
    // Repaid principal can be drawn again.
    const line = (await get(`/v1/lms/line_details/type/primary/?account=${account.id}`)).body;
    expect(line).toMatchObject({ used_amount: 92115.12, available_amount: 907884.88 });
    const settlementsExample = JSON.parse(readFileSync(new URL('../fixtures/crego/settlements.list.response.json', import.meta.url), 'utf8'));
    const list = (await get(`/v1/lms/settlements/?loan=${loan.id}`)).body;
    expectCregoShape(list, settlementsExample);
    expectCregoShape(list.results[0], settlementsExample.results[0]);
    // The last row carries the record's remaining amount after it: amount + remaining = record amount for a lone row.
    expect(lines.at(-1)!.remaining_amount).toBe(0);
    expect(lines[0]!.remaining_amount).toBe(7884.88);
  });

  it('keeps what no due takes as excess (hold), and TDS pays interest only', async () => {
    const { account, loan } = await emiLoan();
    const over = await processed(account.id, 10000, '2024-02-05');
    expect(over.remaining_amount).toBe(1115.12);
    const tdsOnly = await processed(account.id, 100, '2024-03-05', { received_amount: 0, tds_amount: 100 });
    // EMI 2 interest is 1% of 92,115.12 = 921.15: TDS pays 100 of it, nothing else.
    expect((await settlementsOf(tdsOnly.id)).map((l) => [l.component, l.amount])).toEqual([['NI', 100]]);
    const [, second] = (await get(`/v1/lms/emis/?loan=${loan.id}&page_size=2`)).body.results;
    expect(second.components.NI).toMatchObject({ due: 921.15, paid: 100 });
  });

  it('a bullet loan paid before maturity (prepay) settles interest through that day and closes: 1,01,083.33 on day 20', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, {
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
    await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
    const record = await processed(account.id, 101083.33, '2024-01-20');
    expect(record.remaining_amount).toBe(0);
    expect((await settlementsOf(record.id)).map((l) => [l.component, l.amount])).toEqual([['NI', 1083.33], ['P', 100000]]);
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('closed');
    const [maturity] = (await get(`/v1/lms/emis/?loan=${loan.id}`)).body.results;
    expect(maturity).toMatchObject({ status: 'paid', outstanding_amount: 0 });
    expect(maturity.components.NI).toMatchObject({ due: 1083.33, paid: 1083.33 });
  });

  it('validates the bodies and names each bad field', async () => {
    const { account } = await emiLoan();
    const none = await post('/v1/lms/records/', { account: account.id });
    expect(none.status).toBe(400);
    expect(none.body.errors).toHaveProperty('amount');
    const mismatch = await post('/v1/lms/records/', { account: account.id, amount: 100, received_amount: 90, tds_amount: 5 });
    expect(mismatch.body.errors).toHaveProperty('amount');
    const badOrder = await post('/v1/lms/records/', { account: account.id, amount: 1, component_order: 'PI-OI-XX-P' });
    expect(badOrder.status).toBe(400);
    expect(badOrder.body.errors.component_order[0]).toContain('XX');
    const bad = await post('/v1/lms/records/', { account: 'nope', amount: 1.001, payment_mode: 'bitcoin', loans: ['x'] });
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['account', 'amount', 'payment_mode', 'loans.0']));
    const created = await post('/v1/lms/records/', { account: account.id, amount: 1 });
    const mark = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, { settled_at: 1715331600.5, collection_bank_id: 'x' });
    expect(mark.status).toBe(400);
    expect(Object.keys(mark.body.errors)).toEqual(expect.arrayContaining(['utr', 'settled_at', 'collection_bank_id']));
    const future = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, { utr: 'U1', settled_at: Math.floor(Date.now() / 1000) + 86400, collection_bank_id: bankId });
    expect(future.body.errors).toHaveProperty('settled_at');
  });

  it('answers 404 for foreign or missing ids and 409 for state conflicts', async () => {
    const { account } = await emiLoan();
    const other = await createTenant(ctx, 'records-other');
    expect((await post('/v1/lms/records/', { account: account.id, amount: 1 }, 'maker', other)).status).toBe(404);
    const created = (await post('/v1/lms/records/', { account: account.id, amount: 1 })).body;
    expect((await get(`/v1/lms/records/${created.id}/`, other)).status).toBe(404);
    expect((await get(`/v1/lms/records/${newId()}/`)).status).toBe(404);
    const foreignBank = await put(`/v1/lms/records/${created.id}/mark_processed/`, { utr: 'U2', settled_at: settledOn('2024-02-01'), collection_bank_id: newId() });
    expect(foreignBank.status).toBe(404);
    expect(foreignBank.body.errors).toHaveProperty('collection_bank_id');
    const first = await put(`/v1/lms/records/${created.id}/mark_processed/`, { utr: 'UTRONE', settled_at: settledOn('2024-02-01'), collection_bank_id: bankId });
    expect(first.status).toBe(200);
    const again = await put(`/v1/lms/records/${created.id}/mark_processed/`, { utr: 'UTRONE', settled_at: settledOn('2024-02-01'), collection_bank_id: bankId });
    expect(again.status).toBe(409);
    const second = (await post('/v1/lms/records/', { account: account.id, amount: 1 })).body;
    const dupUtr = await put(`/v1/lms/records/${second.id}/mark_processed/`, { utr: 'UTRONE', settled_at: settledOn('2024-02-01'), collection_bank_id: bankId });
    expect(dupUtr.status).toBe(409);
    expect(dupUtr.body.detail).toContain(created.ref_id);
    expect((await post('/v1/lms/records/', { account: account.id, amount: 1, utr: 'UTRONE' })).status).toBe(409);
    expect((await put(`/v1/lms/records/${second.id}/mark_processed/`, { utr: 'UTRTWO', settled_at: settledOn('2024-02-01'), collection_bank_id: bankId }, 'viewer')).status).toBe(403);
  });

  it('replays an idempotent create instead of recording the money twice', async () => {
    const { account } = await emiLoan();
    const key = `rec-${newId()}`;
    const send = () => ctx.http().post('/v1/lms/records/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({ account: account.id, amount: 5 });
    const a = await send();
    const b = await send();
    expect(b.headers['idempotency-replayed']).toBe('true');
    expect(b.body.id).toBe(a.body.id);
    expect((await get(`/v1/lms/records/?account=${account.id}`)).body.count).toBe(1);
  });

  it('lists with filters', async () => {
    const { account, loan } = await emiLoan();
    const done = await processed(account.id, 50, '2024-02-03');
    await post('/v1/lms/records/', { account: account.id, amount: 7, payment_mode: 'upi' });
    expect((await get(`/v1/lms/records/?account=${account.id}`)).body.count).toBe(2);
    expect((await get(`/v1/lms/records/?account=${account.id}&status=processed`)).body.results.map((r: { id: string }) => r.id)).toEqual([done.id]);
    expect((await get(`/v1/lms/records/?utr=${done.utr}`)).body.count).toBe(1);
    expect((await get(`/v1/lms/records/?loan=${loan.id}`)).body.results.map((r: { id: string }) => r.id)).toEqual([done.id]);
    expect((await get(`/v1/lms/records/?account=${account.id}&payment_mode=upi`)).body.count).toBe(1);
    expect((await get(`/v1/lms/records/?account=${account.id}&value_date_from=2024-02-03&value_date_to=2024-02-03`)).body.count).toBe(1);
    expect((await get(`/v1/lms/records/?account=${account.id}&value_date_from=2024-02-04`)).body.count).toBe(0);
    expect((await get('/v1/lms/records/?status=lost')).status).toBe(400);
    const expanded = (await get(`/v1/lms/settlements/?record=${done.id}&expand=record`)).body.results[0];
    expect(expanded.record).toMatchObject({ id: done.id, ref_id: done.ref_id });
  });
});

describe('Unmatched records', () => {
  it('a record whose account is not found is unmatched until an operator matches it; with its details it then allocates', async () => {
    const { account, loan } = await emiLoan();
    const res = await post('/v1/lms/records/', {
      account_external_id: 'VA-UNKNOWN-1', amount: 8884.88, utr: `UNM${Date.now()}`, settled_at: settledOn('2024-02-02'), collection_bank_id: bankId,
      payer: { name: 'Borrower Traders', account_no: '000111222333' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'unmatched', account: null, payer: { name: 'Borrower Traders' } });
    expect((await get('/v1/lms/records/unmatched/?page_size=100')).body.results.map((r: { id: string }) => r.id)).toContain(res.body.id);
    expect((await put(`/v1/lms/records/${res.body.id}/mark_processed/`, { utr: 'X1', settled_at: settledOn('2024-02-02'), collection_bank_id: bankId })).status).toBe(409);
    expect((await put(`/v1/lms/records/${res.body.id}/match/`, { account: newId() })).status).toBe(404);
    const matched = await put(`/v1/lms/records/${res.body.id}/match/`, { account: account.id });
    expect(matched.status).toBe(200);
    expect(matched.body).toMatchObject({ status: 'processed', account: account.id, loans: [loan.id], remaining_amount: 0 });
    expect((await put(`/v1/lms/records/${res.body.id}/match/`, { account: account.id })).status).toBe(409);
  });
});

describe('Maker-checker approval', () => {
  it('an adjustment waits for a checker who is not its maker; approval allocates it', async () => {
    const { account } = await emiLoan();
    const created = (await post('/v1/lms/records/', { account: account.id, type: 'adjustment', amount: 1000 }, 'maker')).body;
    const asked = await put(`/v1/lms/records/${created.id}/mark_processed/`, { utr: `ADJ${Date.now()}`, settled_at: settledOn('2024-02-05'), collection_bank_id: bankId }, 'maker');
    expect(asked.body).toMatchObject({ status: 'approval_pending', approval: { required: true } });
    expect((await settlementsOf(created.id))).toHaveLength(0);
    expect((await put(`/v1/lms/records/${created.id}/approve/`, {}, 'maker')).status).toBe(403);
    expect((await put(`/v1/lms/records/${created.id}/approve/`, {}, 'viewer')).status).toBe(403);
    const approved = await put(`/v1/lms/records/${created.id}/approve/`, { remarks: 'checked' }, 'checker');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'processed', approval: { remarks: 'checked' } });
    expect(approved.body.approval.approved_at).not.toBeNull();
    expect((await settlementsOf(created.id)).reduce((s, l) => s + paise(l.amount), 0)).toBe(100000);
    expect((await put(`/v1/lms/records/${created.id}/approve/`, {}, 'checker')).status).toBe(409);
  });

  it('request approval on a pending repayment; a rejection needs remarks and ends it', async () => {
    const { account } = await emiLoan();
    const created = (await post('/v1/lms/records/', { account: account.id, amount: 500 }, 'maker')).body;
    const waiting = await put(`/v1/lms/records/${created.id}/request_approval/`, { remarks: 'large' }, 'maker');
    expect(waiting.body.status).toBe('approval_pending');
    expect((await put(`/v1/lms/records/${created.id}/reject/`, {}, 'checker')).body.errors).toHaveProperty('remarks');
    const rejected = await put(`/v1/lms/records/${created.id}/reject/`, { remarks: 'wrong account' }, 'checker');
    expect(rejected.body).toMatchObject({ status: 'rejected', approval: { remarks: 'wrong account' } });
    expect((await put(`/v1/lms/records/${created.id}/mark_processed/`, { utr: 'R1', settled_at: settledOn('2024-02-01'), collection_bank_id: bankId })).status).toBe(409);
    // Approved without settlement details: back to pending, approved; processing then allocates.
    const other = (await post('/v1/lms/records/', { account: account.id, amount: 600 }, 'maker')).body;
    await put(`/v1/lms/records/${other.id}/request_approval/`, {}, 'maker');
    const ok = await put(`/v1/lms/records/${other.id}/approve/`, {}, 'admin');
    expect(ok.body.status).toBe('pending');
    const done = await put(`/v1/lms/records/${other.id}/mark_processed/`, { utr: `APR${Date.now()}`, settled_at: settledOn('2024-02-05'), collection_bank_id: bankId }, 'maker');
    expect(done.body.status).toBe('processed');
  });
});

describe('concurrency on the real database', () => {
  it('50 parallel Mark Processed calls on one record: one allocation, 49 conflicts, no 500', async () => {
    const { account } = await emiLoan();
    const created = (await post('/v1/lms/records/', { account: account.id, amount: 8884.88 })).body;
    const results = await Promise.all(Array.from({ length: 50 }, () =>
      put(`/v1/lms/records/${created.id}/mark_processed/`, { utr: 'PARALLEL1', settled_at: settledOn('2024-02-05'), collection_bank_id: bankId })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect(await ctx.db.client.settlement.count({ where: { recordId: created.id } })).toBe(2);
  });

  it('50 parallel records on one account all allocate; conservation holds everywhere, no deadlock', async () => {
    const { account, loan } = await emiLoan();
    const ids = await Promise.all(Array.from({ length: 50 }, async (_, i) => (await post('/v1/lms/records/', { account: account.id, amount: 1000 + i })).body.id as string));
    const results = await Promise.all(ids.map((id, i) =>
      put(`/v1/lms/records/${id}/mark_processed/`, { utr: `PAR${i}X${id.slice(0, 8)}`, settled_at: settledOn('2024-06-05'), collection_bank_id: bankId })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const total = ids.reduce((s, _, i) => s + (1000 + i) * 100, 0);
    const records = await ctx.db.client.record.findMany({ where: { id: { in: ids } } });
    for (const r of records) {
      const sum = await ctx.db.client.settlement.aggregate({ where: { recordId: r.id }, _sum: { amountPaise: true } });
      expect((sum._sum.amountPaise ?? 0n) + r.remainingPaise).toBe(r.amountPaise);
    }
    const demands = await ctx.db.client.demand.findMany({ where: { loanId: loan.id } });
    const paid = demands.reduce((s, d) => s + d.pPaidPaise + d.niPaidPaise + d.oiPaidPaise + d.piPaidPaise + d.feePaidPaise, 0n);
    const excess = records.reduce((s, r) => s + r.remainingPaise, 0n);
    expect(paid + excess).toBe(BigInt(total));
    // Five EMIs (Feb-Jun) were due by 5 Jun: 5 x 8,884.88 = 44,424.40 of the 53,725 received.
    expect(paid).toBe(4442440n);
  });
});
