import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'summary');
});
afterAll(async () => { await ctx.close(); });

const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string) => ctx.http().get(url).set('Authorization', tenant.bearer('viewer'));

async function loan(params?: Record<string, unknown>, amountPaise = 100_000_00n, date = '2024-01-01') {
  const account = await accountWithParams(ctx, tenant.companyId, params);
  const { loan: l } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: amountPaise });
  await ctx.app.services.loans.activate(by(), l.id, date);
  return { account, loanId: l.id };
}

describe('Get Loan Summary', () => {
  it('EMI loan (30/360, 12%) mid first period: foreclosure = principal + 15 days of interest', async () => {
    const { loanId } = await loan();
    const res = await get(`/v1/lms/loans/${loanId}/summary/?as_of=2024-01-15`);
    expect(res.status).toBe(200);
    // Interest through 15 Jan: 100000 x 12% x 15/360 = 500.00
    expect(res.body.foreclosure).toEqual({ amount: 100500, due_now: 0, future_principal: 100000, accrued_interest: 500, future_fees: 0 });
    expect(res.body.next_due).toMatchObject({ installment_number: 1, amount: 8884.88 });
    expect(res.body.overdue.total).toBe(0);
    expect(res.body.outstanding.P).toBe(100000);
  });

  it('after the first due date: the unpaid EMI is overdue and counted whole in the foreclosure', async () => {
    const { loanId } = await loan();
    const res = await get(`/v1/lms/loans/${loanId}/summary/?as_of=2024-02-10`);
    // Due now: EMI 1 (8884.88). Future principal: 100000 - 7884.88 = 92115.12.
    // Accrued in period 2, 1 Feb through 10 Feb = 10 days (30/360): 92115.12 x 12% x 10/360 = 307.0504 -> 307.05
    expect(res.body.overdue).toMatchObject({ P: 7884.88, NI: 1000, total: 8884.88 });
    expect(res.body.foreclosure).toEqual({ amount: 101307.05, due_now: 8884.88, future_principal: 92115.12, accrued_interest: 307.05, future_fees: 0 });
  });

  it("bullet loan on Crego's slabs paid off on day 20: domain.md's worked example, Rs 1,01,083.33", async () => {
    const { loanId } = await loan({
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    const res = await get(`/v1/lms/loans/${loanId}/summary/?as_of=2024-01-20`);
    expect(res.body.foreclosure).toMatchObject({ amount: 101083.33, accrued_interest: 1083.33, future_principal: 100000 });
    const atMaturity = await get(`/v1/lms/loans/${loanId}/summary/?as_of=2024-02-09`);
    expect(atMaturity.body.foreclosure).toMatchObject({ amount: 102750, due_now: 102750, accrued_interest: 0 });
  });

  it('a pending loan has no foreclosure yet; unknown loans are 404', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const { loan: pending } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100n });
    const res = await get(`/v1/lms/loans/${pending.id}/summary/`);
    expect(res.status).toBe(200);
    expect(res.body.foreclosure).toBeNull();
    expect((await get('/v1/lms/loans/00000000-0000-4000-8000-000000000000/summary/')).status).toBe(404);
  });
});

describe('Outstanding data', () => {
  it('lists demands with anything outstanding, oldest first, with totals over all of them', async () => {
    const { account, loanId } = await loan();
    const res = await get(`/v1/lms/emis/outstanding/?account=${account.id}&page_size=5`);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(12);
    expect(res.body.results).toHaveLength(5);
    expect(res.body.results[0].installment_number).toBe(1);
    expect(res.body.totals.P).toBe(100000);
    const upTo = await get(`/v1/lms/emis/outstanding/?loan=${loanId}&due_date_to=2024-03-01`);
    expect(upTo.body.count).toBe(2);
    // Paying an installment in full removes it from the list.
    const first = await ctx.db.prisma.demand.findFirst({ where: { loanId, installmentNumber: 1 } });
    await ctx.db.prisma.demand.update({ where: { id: first!.id }, data: { pPaidPaise: first!.pDuePaise, niPaidPaise: first!.niDuePaise } });
    expect((await get(`/v1/lms/emis/outstanding/?loan=${loanId}`)).body.count).toBe(11);
  });
});

describe('the foreclosure quote is what a payoff that day settles', () => {
  it('a multi-tranche bullet loan: interest tranche by tranche; paying the quote closes the loan', async () => {
    const { istDateOf } = await import('../../src/domain/time.js');
    const { addDays } = await import('../../src/domain/dates.js');
    const today = istDateOf(new Date());
    const account = await accountWithParams(ctx, tenant.companyId, {
      days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    const { loan: l, payout } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100_000_00n, sanctioned_amount: 200_000_00n });
    await ctx.app.services.payouts.markProcessed(by(), payout.id, { utr: 'Q1', bankDate: addDays(today, -19) });
    const tranche = await ctx.app.services.tranches.request(by(), l.id, 100_000_00n);
    await ctx.app.services.payouts.markProcessed(by(), tranche.id, { utr: 'Q2', bankDate: today });
    // Day 20 of the first 1,00,000: 750 (15 days at 18%) + 333.33 (5 days at 24%); day 1 of the
    // tranche: 100000 x 18% / 360 = 50. The quote charges nothing for the tranche's days before it.
    const quote = (await get(`/v1/lms/loans/${l.id}/summary/?as_of=${today}`)).body.foreclosure;
    expect(quote).toMatchObject({ accrued_interest: 1133.33, future_principal: 200000, amount: 201133.33 });
    const record = await ctx.app.services.records.create(by(), { account: account.id, received_amount: 201_133_33n });
    const done = await ctx.app.services.records.markProcessed(by(), record.id, { utr: `Q3${Date.now()}`, settled_at: new Date() });
    expect(done.remainingPaise).toBe(0n);
    expect((await get(`/v1/lms/loans/${l.id}/`)).body.status).toBe('closed');
  });
});
