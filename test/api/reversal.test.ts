// Revert Record through the API: PUT /v1/lms/records/{id}/revert/. Every settlement of the record
// is reversed by a linked negative row, its excess is zeroed, and the account's later records are
// replayed so they take the dues it had paid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { istDateOf } from '../../src/domain/time.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'reversal');
  bankId = (await ctx.app.services.collectionBanks.create({ companyId: tenant.companyId, actor: 'test' }, {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const post = (url: string, body: object) => ctx.http().post(url).set('Authorization', tenant.bearer('maker')).send(body);
const put = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().put(url).set('Authorization', t.bearer(role)).send(body);
const revert = (id: string, body: object = { reason: 'cheque bounced' }, role: Role = 'checker', t = tenant) => put(`/v1/lms/records/${id}/revert/`, body, role, t);
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);
/** Crego's business date on the wire: 23:59:59.999999 IST of the day. */
const wireDate = (date: string) => Date.parse(`${date}T18:29:59Z`) / 1000 + 0.999999;

/** An account with a 1,00,000 loan at 12% for 12 months (EMI 8,884.88), disbursed 1 Jan 2024. */
async function emiLoan() {
  const account = await accountWithParams(ctx, tenant.companyId);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
  return { account, loan };
}

async function processed(accountId: string, amount: number, date: string) {
  const created = await post('/v1/lms/records/', { account: accountId, amount });
  expect(created.status).toBe(201);
  const res = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, { utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn(date), collection_bank_id: bankId });
  expect(res.status).toBe(200);
  return res.body;
}

interface Row { id: string; demand: string; component: string; amount: number; reverses: string | null; remaining_amount: number; record: string }
async function rowsOf(recordId: string): Promise<Row[]> {
  return ((await get(`/v1/lms/settlements/?record=${recordId}&page_size=100`)).body.results as Row[]).reverse();
}

async function emis(loanId: string) {
  return (await get(`/v1/lms/emis/?loan=${loanId}&page_size=100`)).body.results as { id: string; installment_number: number; status: string; outstanding_amount: number; paid_amount: number; components: Record<string, { due: number; paid: number }> }[];
}

/** Every record of the account: settlements + excess = amount; a reverted one holds nothing. */
async function expectConserved(accountId: string) {
  for (const record of await ctx.db.client.record.findMany({ where: { accountId } })) {
    const sum = (await ctx.db.client.settlement.aggregate({ where: { recordId: record.id }, _sum: { amountPaise: true } }))._sum.amountPaise ?? 0n;
    if (record.status === 'reverted') expect([sum, record.remainingPaise], record.refId).toEqual([0n, 0n]);
    else if (record.status === 'processed') expect(sum + record.remainingPaise, record.refId).toBe(record.amountPaise);
  }
}

describe('Revert Record', () => {
  it('reverses every settlement by a linked negative row, frees the dues, and a later record takes them', async () => {
    const { account, loan } = await emiLoan();
    const bounced = await processed(account.id, 8884.88, '2024-02-05');
    const later = await processed(account.id, 10000, '2024-03-10');
    const [emi1, emi2] = await emis(loan.id);
    // Before: the cheque paid EMI 1; the later record EMI 2 (8,884.88) with 1,115.12 excess.
    expect(later.remaining_amount).toBe(1115.12);
    const original = await rowsOf(bounced.id);

    const res = await revert(bounced.id, { reason: 'cheque bounced', value_date: '2024-03-15' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'reverted', remaining_amount: 0, revert_reason: 'cheque bounced', revert_value_date: wireDate('2024-03-15'), loans: [], amount: 8884.88,
    });
    expect(res.body.revert_date).toEqual(expect.any(Number));

    // The record's rows: the two originals and a reversal of each, pointing at it, negative.
    const rows = await rowsOf(bounced.id);
    expect(rows).toHaveLength(4);
    expect(rows.filter((r) => r.reverses !== null).map((r) => [r.reverses, r.amount])).toEqual(original.map((r) => [r.id, -r.amount]));
    // The settlements list of the loan shows the reversal rows with `reverses` set.
    const listed = (await get(`/v1/lms/settlements/?loan=${loan.id}&page_size=100`)).body.results as Row[];
    expect(listed.filter((r) => r.reverses !== null).length).toBeGreaterThanOrEqual(2);

    // The later record now takes EMI 1 (due before its 10 Mar) and then 1,115.12 of EMI 2.
    const later2 = (await get(`/v1/lms/records/${later.id}/`)).body;
    expect(later2.remaining_amount).toBe(0);
    const net = new Map<string, number>();
    for (const r of await rowsOf(later.id)) net.set(`${r.demand === emi1!.id ? 1 : 2} ${r.component}`, Math.round(((net.get(`${r.demand === emi1!.id ? 1 : 2} ${r.component}`) ?? 0) + r.amount) * 100) / 100);
    expect(Object.fromEntries([...net].filter(([, v]) => v !== 0))).toEqual({ '1 NI': 1000, '1 P': 7884.88, '2 NI': 921.15, '2 P': 193.97 });
    const after = await emis(loan.id);
    expect(after[0]).toMatchObject({ id: emi1!.id, status: 'paid', outstanding_amount: 0 });
    // Due 1 Mar 2024, long past: part paid is still overdue.
    expect(after[1]).toMatchObject({ id: emi2!.id, status: 'overdue', outstanding_amount: 7769.76 });
    // Principal repaid overall fell from 7,884.88 + 7,963.73 to 7,884.88 + 193.97: the line uses it again.
    expect((await get(`/v1/lms/line_details/type/primary/?account=${account.id}`)).body).toMatchObject({ used_amount: 91921.15, available_amount: 908078.85 });
    await expectConserved(account.id);

    const audit = await ctx.db.client.auditEvent.findMany({ where: { companyId: tenant.companyId, entityId: { in: [bounced.id, later.id, account.id] } }, orderBy: { id: 'asc' } });
    expect(audit.map((e) => `${e.entityType}:${e.action}`)).toEqual(expect.arrayContaining(['record:reverted', 'record:resplit', 'account:replayed']));
    expect(audit.find((e) => e.action === 'reverted')!.data).toMatchObject({ reason: 'cheque bounced', value_date: '2024-03-15', reversed: 2 });

    // Reverting again is a conflict, and a replay afterwards changes nothing.
    expect((await revert(bounced.id)).status).toBe(409);
    expect(await ctx.app.services.records.replayFrom(by(), later.id)).toEqual({ reversed: 0, created: 0, resplit: [] });
  });

  it('zeroes the excess, defaults the value date to today (IST), and reopens a loan it had closed, with its interest re-derived', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, {
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
    await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
    // Paid off on day 20 with 100 rupees over: 1,083.33 interest, 1,00,000 principal, 100 excess; the loan closes.
    const payoff = await processed(account.id, 101183.33, '2024-01-20');
    expect(payoff.remaining_amount).toBe(100);
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('closed');

    const res = await revert(payoff.id, { reason: 'wrong UTR' }, 'admin');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'reverted', remaining_amount: 0, revert_value_date: wireDate(istDateOf(new Date())) });
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('active');
    const [maturity] = await emis(loan.id);
    // Without the prepayment the maturity interest is the full 40 days' 2,750 again, and the demand is past due.
    expect(maturity!.components.NI).toMatchObject({ due: 2750, paid: 0 });
    expect(maturity).toMatchObject({ status: 'overdue', outstanding_amount: 102750 });
    expect((await get(`/v1/lms/line_details/type/primary/?account=${account.id}`)).body).toMatchObject({ used_amount: 100000 });
    const audit = await ctx.db.client.auditEvent.findMany({ where: { companyId: tenant.companyId, entityId: loan.id, action: 'reopened' } });
    expect(audit).toHaveLength(1);
    await expectConserved(account.id);
  });

  it('answers 404 for missing and foreign ids, 403 to makers and viewers, 409 for a record that is not processed, 400 naming bad fields', async () => {
    const { account } = await emiLoan();
    const record = await processed(account.id, 1000, '2024-02-05');
    const other = await createTenant(ctx, 'reversal-other');
    expect((await revert(newId())).status).toBe(404);
    const foreign = await revert(record.id, { reason: 'x' }, 'admin', other);
    expect(foreign.status).toBe(404);
    expect((await revert(record.id, { reason: 'x' }, 'maker')).status).toBe(403);
    expect((await revert(record.id, { reason: 'x' }, 'viewer')).status).toBe(403);

    const noReason = await revert(record.id, {});
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors).toHaveProperty('reason');
    const bad = await revert(record.id, { reason: ' ', value_date: 'soon', extra: 1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(expect.arrayContaining(['reason', 'value_date']));
    const early = await revert(record.id, { reason: 'x', value_date: '2024-02-04' });
    expect(early.status).toBe(400);
    expect(early.body.errors.value_date[0]).toContain('2024-02-05');
    const future = await revert(record.id, { reason: 'x', value_date: '2999-01-01' });
    expect(future.status).toBe(400);
    expect(future.body.errors).toHaveProperty('value_date');

    const pending = (await post('/v1/lms/records/', { account: account.id, amount: 5 })).body;
    const notProcessed = await revert(pending.id);
    expect(notProcessed.status).toBe(409);
    expect(notProcessed.body.code).toBe('STATE_CONFLICT');
    // Nothing of the refused attempts changed the record.
    expect((await get(`/v1/lms/records/${record.id}/`)).body.status).toBe('processed');
    expect((await rowsOf(record.id)).every((r) => r.reverses === null)).toBe(true);
  });

  it('refuses a record whose excess is reserved for a refund in flight, or already refunded', async () => {
    const { account } = await emiLoan();
    const record = await processed(account.id, 10000, '2024-02-05');
    await ctx.db.client.record.update({ where: { id: record.id }, data: { reservedPaise: 500_00n } });
    const reserved = await revert(record.id);
    expect(reserved.status).toBe(409);
    expect(reserved.body.errors).toHaveProperty('reserved_amount');
    await ctx.db.client.record.update({ where: { id: record.id }, data: { reservedPaise: 0n, remainingPaise: 615_12n, refundedPaise: 500_00n } });
    const refunded = await revert(record.id);
    expect(refunded.status).toBe(409);
    expect(refunded.body.errors).toHaveProperty('refunded_amount');
  });

  it('refuses, changing nothing, when the line has no room for the principal that becomes outstanding again', async () => {
    const { account } = await emiLoan();
    const record = await processed(account.id, 8884.88, '2024-02-05');
    // The repaid 7,884.88 was drawn again elsewhere: nothing is available on the line.
    const line = (await ctx.db.client.lineDetail.findFirst({ where: { accountId: account.id, type: 'primary' } }))!;
    await ctx.db.client.lineDetail.update({ where: { id: line.id }, data: { approvedPaise: line.usedPaise + line.blockedPaise, availablePaise: 0n } });
    const res = await revert(record.id);
    expect(res.status).toBe(409);
    expect(res.body.errors).toHaveProperty('line_detail');
    expect((await get(`/v1/lms/records/${record.id}/`)).body.status).toBe('processed');
    expect(await ctx.db.client.settlement.count({ where: { recordId: record.id } })).toBe(2);
  });

  it('is idempotent under an Idempotency-Key', async () => {
    const { account } = await emiLoan();
    const record = await processed(account.id, 1000, '2024-02-05');
    const key = `rev-${newId()}`;
    const send = () => ctx.http().put(`/v1/lms/records/${record.id}/revert/`).set('Authorization', tenant.bearer('checker')).set('Idempotency-Key', key).send({ reason: 'bounced' });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(200);
    expect(second.headers['idempotency-replayed']).toBe('true');
    expect(await ctx.db.client.settlement.count({ where: { recordId: record.id, reversesId: { not: null } } })).toBe(1);
  });
});
