// Back-dated records through the API: a record dated before settlements already made on its
// loans is marked back-dated, and the account's later records are replayed in (value date,
// creation) order, reversing only the settlement rows whose amount changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'backdated');
  bankId = (await ctx.app.services.collectionBanks.create({ companyId: tenant.companyId, actor: 'test' }, {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
});
afterAll(async () => { await ctx.close(); });

const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string) => ctx.http().get(url).set('Authorization', tenant.bearer('viewer'));
const post = (url: string, body: object) => ctx.http().post(url).set('Authorization', tenant.bearer('maker')).send(body);
const put = (url: string, body: object) => ctx.http().put(url).set('Authorization', tenant.bearer('maker')).send(body);
/** Noon IST of a day, as Crego's integer settled_at. */
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);

/** An account with a 1,00,000 loan at 12% for 12 months (EMI 8,884.88), disbursed 1 Jan 2024. */
async function emiLoan() {
  const account = await accountWithParams(ctx, tenant.companyId);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
  return { account, loan };
}

async function created(accountId: string, amount: number) {
  const res = await post('/v1/lms/records/', { account: accountId, amount });
  expect(res.status).toBe(201);
  return res.body as { id: string };
}

async function markProcessed(id: string, date: string) {
  const res = await put(`/v1/lms/records/${id}/mark_processed/`, { utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn(date), collection_bank_id: bankId });
  expect(res.status).toBe(200);
  return res.body;
}

const processed = async (accountId: string, amount: number, date: string) => markProcessed((await created(accountId, amount)).id, date);

interface Row { id: string; demand: string; component: string; amount: number; reverses: string | null; date: number; remaining_amount: number }
/** A record's settlement rows in the order they were written. */
async function rowsOf(recordId: string): Promise<Row[]> {
  return ((await get(`/v1/lms/settlements/?record=${recordId}&page_size=100`)).body.results as Row[]).reverse();
}

/** Net amount per (EMI number, component) of a record's rows. */
async function netOf(recordId: string, emiNumbers: Map<string, number>) {
  const net = new Map<string, number>();
  for (const row of await rowsOf(recordId)) {
    const key = `EMI${emiNumbers.get(row.demand)} ${row.component}`;
    net.set(key, Math.round(((net.get(key) ?? 0) + row.amount) * 100) / 100);
  }
  return Object.fromEntries([...net].filter(([, amount]) => amount !== 0));
}

async function emis(loanId: string) {
  const list = (await get(`/v1/lms/emis/?loan=${loanId}&page_size=100`)).body.results as { id: string; installment_number: number; status: string; outstanding_amount: number; paid_amount: number }[];
  return { list, numbers: new Map(list.map((e) => [e.id, e.installment_number])) };
}

async function expectConserved(recordIds: string[]) {
  for (const id of recordIds) {
    const record = (await ctx.db.client.record.findUnique({ where: { id } }))!;
    const sum = await ctx.db.client.settlement.aggregate({ where: { recordId: id }, _sum: { amountPaise: true } });
    expect((sum._sum.amountPaise ?? 0n) + record.remainingPaise, `record ${record.refId}`).toBe(record.amountPaise);
  }
}

/** Everything a replay could change, to compare before and after. */
async function snapshot(accountId: string) {
  const [settlements, demands, records, lines] = await Promise.all([
    ctx.db.client.settlement.findMany({ where: { accountId }, orderBy: { id: 'asc' } }),
    ctx.db.client.demand.findMany({ where: { accountId }, orderBy: { id: 'asc' } }),
    ctx.db.client.record.findMany({ where: { accountId }, orderBy: { id: 'asc' }, select: { id: true, remainingPaise: true, status: true } }),
    ctx.db.client.lineDetail.findMany({ where: { accountId }, orderBy: { id: 'asc' } }),
  ]);
  return { settlements, demands: demands.map(({ updatedAt: _u, ...d }) => d), records, lines: lines.map(({ updatedAt: _u, ...l }) => l) };
}

describe('a back-dated record', () => {
  it('is marked back-dated, takes the EMI a later record had paid late, and that record moves on to the next EMI', async () => {
    const { account, loan } = await emiLoan();
    // A (10 Mar) pays EMI 1 late: NI 1,000 and P 7,884.88.
    const a = await processed(account.id, 8884.88, '2024-03-10');
    expect(a.back_date_found).toBe(false);
    const { numbers } = await emis(loan.id);
    expect(await netOf(a.id, numbers)).toEqual({ 'EMI1 NI': 1000, 'EMI1 P': 7884.88 });
    const aRows = await rowsOf(a.id);

    // B, dated 5 Feb, arrives later: it takes EMI 1; A's money moves to EMI 2 (due 1 Mar, before A's
    // date): NI 921.15 (1% of 92,115.12) and P 7,963.73.
    const b = await processed(account.id, 8884.88, '2024-02-05');
    expect(b).toMatchObject({ back_date_found: true, remaining_amount: 0, status: 'processed' });
    expect(b.back_date_marked_on).toEqual(expect.any(Number));
    expect(await netOf(b.id, numbers)).toEqual({ 'EMI1 NI': 1000, 'EMI1 P': 7884.88 });
    expect(await netOf(a.id, numbers)).toEqual({ 'EMI2 NI': 921.15, 'EMI2 P': 7963.73 });

    // A's two original rows are reversed by negative rows pointing at them; two new rows follow.
    const after = await rowsOf(a.id);
    expect(after).toHaveLength(6);
    const reversals = after.filter((r) => r.reverses !== null);
    expect(reversals.map((r) => [r.reverses, r.amount])).toEqual(aRows.map((r) => [r.id, -r.amount]));
    // A reversal carries its original's value date: economically, that payment is undone on that day.
    expect(reversals.map((r) => r.date)).toEqual(aRows.map((r) => r.date));
    expect((await get(`/v1/lms/records/${a.id}/`)).body).toMatchObject({ remaining_amount: 0, back_date_found: false, loans: [loan.id] });

    const { list } = await emis(loan.id);
    expect(list.slice(0, 3).map((e) => [e.installment_number, e.status, e.outstanding_amount])).toEqual([[1, 'paid', 0], [2, 'paid', 0], [3, 'upcoming', 8884.88]]);
    // Principal repaid: 7,884.88 + 7,963.73 = 15,848.61 of the 1,00,000 line use.
    const line = (await get(`/v1/lms/line_details/type/primary/?account=${account.id}`)).body;
    expect(line).toMatchObject({ used_amount: 84151.39, available_amount: 915848.61 });
    await expectConserved([a.id, b.id]);
    const audit = await ctx.db.client.auditEvent.findMany({ where: { companyId: tenant.companyId, entityId: { in: [a.id, account.id] }, action: { in: ['resplit', 'replayed'] } } });
    expect(audit.map((e) => e.action).sort()).toEqual(['replayed', 'resplit']);
  });

  it('reverses only the rows whose amount changes', async () => {
    const { account, loan } = await emiLoan();
    // A (10 Mar, 10,000): EMI 1 in full, then EMI 2's NI 921.15 and 193.97 of its P.
    const a = await processed(account.id, 10000, '2024-03-10');
    const { numbers } = await emis(loan.id);
    expect(await netOf(a.id, numbers)).toEqual({ 'EMI1 NI': 1000, 'EMI1 P': 7884.88, 'EMI2 NI': 921.15, 'EMI2 P': 193.97 });
    const niRow = (await rowsOf(a.id)).find((r) => numbers.get(r.demand) === 2 && r.component === 'NI')!;

    // B (5 Feb, 5,000): EMI 1's NI 1,000 and 4,000 of its P. A now: EMI 1 P 3,884.88, EMI 2 NI 921.15
    // (unchanged: its row stays as it is), EMI 2 P 5,193.97.
    const b = await processed(account.id, 5000, '2024-02-05');
    expect(await netOf(b.id, numbers)).toEqual({ 'EMI1 NI': 1000, 'EMI1 P': 4000 });
    expect(await netOf(a.id, numbers)).toEqual({ 'EMI1 P': 3884.88, 'EMI2 NI': 921.15, 'EMI2 P': 5193.97 });
    const rows = await rowsOf(a.id);
    const reversed = rows.filter((r) => r.reverses !== null).map((r) => [numbers.get(r.demand), r.component, r.amount]);
    expect(reversed).toEqual([[1, 'NI', -1000], [1, 'P', -7884.88], [2, 'P', -193.97]]);
    expect(rows.filter((r) => r.reverses === null && r.amount > 0)).toHaveLength(6);
    expect(rows.some((r) => r.reverses === niRow.id)).toBe(false);
    // The new rows keep a running remaining: reversals add back, new rows take away, ending at the excess.
    expect(rows.at(-1)!.remaining_amount).toBe(0);
    await expectConserved([a.id, b.id]);
  });

  it('replaying twice changes nothing', async () => {
    const { account } = await emiLoan();
    const a = await processed(account.id, 10000, '2024-03-10');
    const c = await processed(account.id, 3000, '2024-04-02');
    const b = await processed(account.id, 5000, '2024-02-05');
    expect(b.back_date_found).toBe(true);
    const before = await snapshot(account.id);
    for (const from of [b.id, a.id, c.id]) {
      expect(await ctx.app.services.records.replayFrom(by(), from)).toEqual({ reversed: 0, created: 0, resplit: [] });
    }
    expect(await snapshot(account.id)).toEqual(before);
    await expectConserved([a.id, b.id, c.id]);
  });

  it('ends where processing the same records in value-date order ends', async () => {
    const amounts: [number, string][] = [[10000, '2024-03-10'], [3000, '2024-04-02'], [5000, '2024-02-05'], [2500, '2024-02-20']];
    const outOfOrder = await emiLoan();
    for (const [amount, date] of amounts) await processed(outOfOrder.account.id, amount, date);
    const inOrder = await emiLoan();
    for (const [amount, date] of [...amounts].sort((x, y) => x[1].localeCompare(y[1]))) await processed(inOrder.account.id, amount, date);
    const state = async (loanId: string) => {
      const demands = await ctx.db.client.demand.findMany({ where: { loanId }, orderBy: { installmentNumber: 'asc' } });
      const records = await ctx.db.client.record.findMany({ where: { accountId: demands[0]!.accountId }, orderBy: { valueDate: 'asc' } });
      return { paid: demands.map((d) => [d.installmentNumber, d.pPaidPaise, d.niPaidPaise, d.status]), excess: records.map((r) => [r.amountPaise, r.remainingPaise]) };
    };
    expect(await state(outOfOrder.loan.id)).toEqual(await state(inOrder.loan.id));
  });

  it('a record created earlier but processed later on the same value date goes first, without being back-dated', async () => {
    const { account, loan } = await emiLoan();
    const first = await created(account.id, 5000);
    const second = await processed(account.id, 8884.88, '2024-03-10');
    const late = await markProcessed(first.id, '2024-03-10');
    expect(late.back_date_found).toBe(false);
    const { numbers } = await emis(loan.id);
    // In creation order: the first record takes 5,000 of EMI 1 (NI 1,000, P 4,000); the second the rest
    // of EMI 1 (P 3,884.88) and 5,000 of EMI 2 (NI 921.15, P 4,078.85).
    expect(await netOf(first.id, numbers)).toEqual({ 'EMI1 NI': 1000, 'EMI1 P': 4000 });
    expect(await netOf(second.id, numbers)).toEqual({ 'EMI1 P': 3884.88, 'EMI2 NI': 921.15, 'EMI2 P': 4078.85 });
    await expectConserved([first.id, second.id]);
  });

  it('a state the replay cannot start from is a 500 (INVARIANT_VIOLATION), never fixed up, and nothing is written', async () => {
    const { account, loan } = await emiLoan();
    const a = await processed(account.id, 8884.88, '2024-03-10');
    // Corrupt the book: EMI 1 no longer shows the principal A's rows say it paid.
    const [emi1] = await ctx.db.client.demand.findMany({ where: { loanId: loan.id }, orderBy: { installmentNumber: 'asc' }, take: 1 });
    await ctx.db.client.demand.update({ where: { id: emi1!.id }, data: { pPaidPaise: 0n } });
    const b = await created(account.id, 100);
    const res = await put(`/v1/lms/records/${b.id}/mark_processed/`, { utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn('2024-02-05'), collection_bank_id: bankId });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('INVARIANT_VIOLATION');
    expect((await get(`/v1/lms/records/${b.id}/`)).body.status).toBe('pending');
    expect(await ctx.db.client.settlement.count({ where: { recordId: { in: [a.id, b.id] } } })).toBe(2);
  });

  it('a bullet loan: a back-dated prepayment re-derives the maturity interest and the later payoff is re-split', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, {
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
    await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
    // Paid off on day 20: 1,083.33 interest + 1,00,000 principal; the loan closes.
    const payoff = await processed(account.id, 101083.33, '2024-01-20');
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('closed');
    // 60,500 arrives dated day 10: interest through day 10 is 500, then 60,000 of principal. The
    // payoff then owes interest on 40,000 from day 11: 100 (days 11-15) + 40,000 x 24% x 5/360 = 133.33,
    // so 233.33 of interest and 40,000 of principal; the rest of its 1,01,083.33 is excess.
    const early = await processed(account.id, 60500, '2024-01-10');
    expect(early.back_date_found).toBe(true);
    const [maturity] = (await get(`/v1/lms/emis/?loan=${loan.id}`)).body.results;
    const net = (rows: Row[]) => Object.fromEntries(['NI', 'P'].map((c) => [c, Math.round(rows.filter((r) => r.component === c).reduce((s, r) => s + r.amount, 0) * 100) / 100]));
    expect(net(await rowsOf(early.id))).toEqual({ NI: 500, P: 60000 });
    expect(net(await rowsOf(payoff.id))).toEqual({ NI: 233.33, P: 40000 });
    expect((await get(`/v1/lms/records/${payoff.id}/`)).body.remaining_amount).toBe(60850);
    // Maturity interest re-derived: 500 + 233.33 through day 20 and nothing after the payoff.
    expect(maturity.components.NI).toMatchObject({ due: 733.33, paid: 733.33 });
    expect(maturity).toMatchObject({ status: 'paid', outstanding_amount: 0 });
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('closed');
    await expectConserved([payoff.id, early.id]);
  });
});
