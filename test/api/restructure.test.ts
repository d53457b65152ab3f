import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { businessDateToEpoch, istDateOf } from '../../src/domain/time.js';
import { addDays } from '../../src/domain/dates.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams, EMI_PARAMS } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'restructure');
});
afterAll(async () => { await ctx.close(); });

const by = (t: Tenant = tenant) => ({ companyId: t.companyId, actor: 'test' });
const post = (body: object, options: { role?: 'maker' | 'viewer'; key?: string; as?: Tenant } = {}) => {
  const req = ctx.http().post('/v1/lms/emis/restructure/').set('Authorization', (options.as ?? tenant).bearer(options.role ?? 'maker'));
  return (options.key ? req.set('Idempotency-Key', options.key) : req).send(body);
};

/**
 * Rs 1,00,000 at 12% over 12 months from 1 Jan 2024, 30/360 (EMI_PARAMS): each month's interest is
 * 1% of the opening principal. Installment 1: P 7,884.88, NI 1,000; installment 2: P 7,963.73, NI 921.15.
 */
async function activeLoan(t: Tenant = tenant, params: Record<string, unknown> = EMI_PARAMS) {
  const account = await accountWithParams(ctx, t.companyId, params);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(t), account.id, { amount: 100_000_00n });
  await ctx.app.services.loans.activate(by(t), loan.id, '2024-01-01');
  const demands = await ctx.db.prisma.demand.findMany({ where: { loanId: loan.id }, orderBy: { installmentNumber: 'asc' } });
  return { account, loanId: loan.id, demands };
}

const liveDemands = (loanId: string) =>
  ctx.db.prisma.demand.findMany({ where: { loanId, status: { not: 'cancelled' } }, orderBy: [{ dueDate: 'asc' }, { installmentNumber: 'asc' }] });

describe('Restructure', () => {
  it('separate_demand: reschedules the principal, keeps settled amounts, moves arrears to one demand, keeps history', async () => {
    const { loanId, demands } = await activeLoan();
    const [d1, d2] = demands;
    // Installment 1 paid in full; Rs 500 of installment 2's principal paid.
    await ctx.db.prisma.demand.update({ where: { id: d1!.id }, data: { pPaidPaise: d1!.pDuePaise, niPaidPaise: d1!.niDuePaise, status: 'paid' } });
    await ctx.db.prisma.demand.update({ where: { id: d2!.id }, data: { pPaidPaise: 500_00n, status: 'partially_paid' } });
    // A Rs 500 fee + 18% GST due 10 Feb, unpaid.
    await ctx.app.services.fees.createMany(by(), [{ loan: loanId, fee_type: 'bounce_charge', amount: 500_00n, gst_rate: '18', due_date: '2024-02-10' }]);
    const paidBefore = await ctx.db.prisma.demand.findMany({ where: { id: { in: [d1!.id, d2!.id] } }, orderBy: { installmentNumber: 'asc' } });

    const res = await post({ loan: loanId, from_date: '2024-03-16', emi_count: 6, overdue_treatment: 'separate_demand', remarks: 'hardship' });
    expect(res.status).toBe(201);
    const { loan, restructure, demands: created } = res.body;
    expect(loan).toMatchObject({ id: loanId, schedule_version: 2, maturity_date: businessDateToEpoch('2024-09-16'), principal_amount: 100000 });
    // 92,115.12 - 500 paid; running period 1-15 Mar: 84,151.39 x 12% x 15/360 = 420.76 accrued.
    expect(restructure).toMatchObject({
      loan: loanId, from_date: businessDateToEpoch('2024-03-16'), from_schedule_version: 1, to_schedule_version: 2, overdue_treatment: 'separate_demand',
      old_terms: { rate: 12, emi_count: 12, emi_frequency: 'monthly', maturity_date: businessDateToEpoch('2025-01-01') },
      new_terms: { rate: 12, emi_count: 6, emi_frequency: 'monthly', maturity_date: businessDateToEpoch('2024-09-16') },
      outstanding_principal: 91615.12, capitalised_amount: 0, new_principal: 91615.12, accrued_interest: 420.76,
      arrears: { NI: 1341.91, OI: 0, PI: 0, FEE: 590, total: 1931.91 }, remarks: 'hardship', created_by: expect.stringMatching(/^token:/),
    });
    // Installments 3-12 and the fee demand.
    expect(restructure.cancelled_demands).toHaveLength(11);
    expect(restructure.trimmed_demands).toEqual([d2!.id]);
    expect(created).toHaveLength(7);
    expect(created.slice(0, 6).map((d: { installment_number: number }) => d.installment_number)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(created[6]).toMatchObject({ id: restructure.separate_demand, kind: 'arrears', due_date: businessDateToEpoch('2024-03-16'), components: { NI: { due: 1341.91 }, FEE: { due: 590 } } });

    const live = await liveDemands(loanId);
    // Settled money is exactly where it was: paid and waived columns unchanged; installment 2 now owes nothing.
    const after = live.filter((d) => d.id === d1!.id || d.id === d2!.id).sort((a, b) => a.installmentNumber! - b.installmentNumber!);
    expect(after[0]).toEqual(paidBefore[0]);
    expect(after[1]).toMatchObject({ pPaidPaise: 500_00n, pDuePaise: 500_00n, niDuePaise: 0n, status: 'paid', scheduleVersion: 1 });
    // Restructure keeps outstanding principal: principal over the live demands is still the disbursed amount.
    expect(live.reduce((s, d) => s + d.pDuePaise, 0n)).toBe(100_000_00n);
    // The fee demand was moved (cancelled), and the old schedule is kept as history under version 1.
    expect(live.some((d) => d.kind === 'fee')).toBe(false);
    expect(await ctx.db.prisma.demand.count({ where: { loanId, status: 'cancelled', scheduleVersion: 1 } })).toBe(11);
    const stored = await ctx.db.prisma.loan.findUniqueOrThrow({ where: { id: loanId } });
    expect(stored.terms).toMatchObject({ emi_count: 6, roi_value: [{ days: -1, value: '12' }] });
    expect(await ctx.db.prisma.restructure.count({ where: { loanId } })).toBe(1);
    const audit = await ctx.db.prisma.auditEvent.findFirst({ where: { entityId: loanId, action: 'restructured' } });
    expect(audit?.data).toMatchObject({ restructure: restructure.id, schedule_version: 2, treatment: 'separate_demand' });
  });

  it('capitalise: NI and OI join principal, PI goes to a separate demand, and the line uses the capitalised amount', async () => {
    const { account, loanId, demands } = await activeLoan();
    // Installment 2 is overdue with Rs 40 OI and Rs 25 PI on it.
    await ctx.db.prisma.demand.update({ where: { id: demands[1]!.id }, data: { oiDuePaise: 40_00n, piDuePaise: 25_00n } });
    const lineBefore = await ctx.db.prisma.lineDetail.findFirstOrThrow({ where: { accountId: account.id } });

    const res = await post({ loan: loanId, from_date: '2024-03-01', emi_count: 10, rate: '10.5', overdue_treatment: 'capitalise' });
    expect(res.status).toBe(201);
    const { restructure, demands: created } = res.body;
    // From 1 Mar nothing of the running period has accrued: arrears are installments 1 and 2's NI
    // (1,000 + 921.15) and the OI; principal 1,00,000 + 1,961.15.
    expect(restructure).toMatchObject({
      outstanding_principal: 100000, capitalised_amount: 1961.15, new_principal: 101961.15, accrued_interest: 0,
      arrears: { NI: 1921.15, OI: 40, PI: 25, FEE: 0 }, new_terms: { rate: 10.5, emi_count: 10 },
    });
    const installments = created.filter((d: { kind: string }) => d.kind === 'emi');
    expect(installments.reduce((s: number, d: { components: { P: { due: number } } }) => s + Math.round(d.components.P.due * 100), 0)).toBe(101961_15);
    expect(installments.every((d: { components: { PI: { due: number } } }) => d.components.PI.due === 0)).toBe(true);
    expect(created.find((d: { kind: string }) => d.kind === 'arrears')).toMatchObject({ components: { PI: { due: 25 }, P: { due: 0 }, NI: { due: 0 } } });

    const lineAfter = await ctx.db.prisma.lineDetail.findFirstOrThrow({ where: { accountId: account.id } });
    expect(lineAfter.usedPaise - lineBefore.usedPaise).toBe(1961_15n);
    expect(lineAfter.availablePaise).toBe(lineBefore.availablePaise - 1961_15n);
    // The stored line agrees with what Refresh Limit computes from the demands.
    const refresh = await ctx.http().get(`/v1/lms/accounts/${account.id}/refresh_limit/`).set('Authorization', tenant.bearer('maker'));
    expect(refresh.body.drifted).toBe(false);
  });

  it('first_emi: arrears ride on the first new installment in their own components', async () => {
    const { loanId, demands } = await activeLoan();
    await ctx.db.prisma.demand.update({ where: { id: demands[0]!.id }, data: { piDuePaise: 10_00n } });
    const res = await post({ loan: loanId, from_date: '2024-02-01', emi_count: 3, emi_frequency: 'quarterly', overdue_treatment: 'first_emi' });
    expect(res.status).toBe(201);
    const { restructure, demands: created } = res.body;
    expect(restructure.separate_demand).toBeNull();
    expect(created).toHaveLength(3);
    // Installment 1 (due 1 Feb) is arrears: P 7,884.88 rescheduled; NI 1,000 and PI 10 on the first
    // new installment, due 1 May (quarterly), whose own interest is 3% of 1,00,000.
    expect(created[0]).toMatchObject({ installment_number: 1, due_date: businessDateToEpoch('2024-05-01'), components: { NI: { due: 4000 }, PI: { due: 10 } } });
    expect(created.reduce((s: number, d: { components: { P: { due: number } } }) => s + Math.round(d.components.P.due * 100), 0)).toBe(100000_00);
    // A reset would go back to the account's params and drop the arrears on the first installment.
    const { account } = { account: (await ctx.db.prisma.loan.findUnique({ where: { id: loanId } }))!.accountId };
    const reset = await ctx.http().post(`/v1/lms/accounts/${account}/reset_rps/`).set('Authorization', tenant.bearer('maker')).send({ loan: loanId });
    expect(reset.status).toBe(409);
    expect(reset.body.errors).toHaveProperty('loan');
  });

  it('a fee whose demand a restructure moved cannot be deleted', async () => {
    const { loanId } = await activeLoan();
    const [fee] = await ctx.app.services.fees.createMany(by(), [{ loan: loanId, fee_type: 'other', amount: 500_00n, gst_rate: '0', due_date: '2024-01-20' }]);
    const res = await post({ loan: loanId, from_date: '2024-02-01', emi_count: 6, overdue_treatment: 'capitalise' });
    expect(res.status).toBe(201);
    const del = await ctx.http().delete(`/v1/lms/fees/${fee!.id}/`).set('Authorization', tenant.bearer('maker'));
    expect(del.status).toBe(409);
    expect(del.body.detail).toContain('no longer live');
  });

  it('a second restructure builds on the first; it may not start before it', async () => {
    const { loanId } = await activeLoan();
    expect((await post({ loan: loanId, from_date: '2024-02-15', emi_count: 12, overdue_treatment: 'separate_demand' })).status).toBe(201);
    const early = await post({ loan: loanId, from_date: '2024-02-14', emi_count: 6, overdue_treatment: 'capitalise' });
    expect(early.status).toBe(400);
    expect(early.body.errors).toHaveProperty('from_date');
    const second = await post({ loan: loanId, from_date: '2024-04-20', emi_count: 6, overdue_treatment: 'capitalise' });
    expect(second.status).toBe(201);
    expect(second.body.restructure).toMatchObject({ from_schedule_version: 2, to_schedule_version: 3 });
    // The first restructure's arrears demand (due 15 Feb, unpaid) is owed by then and was capitalised.
    expect(second.body.restructure.cancelled_demands).toContain((await ctx.db.prisma.restructure.findFirstOrThrow({ where: { loanId, toScheduleVersion: 2 } })).separateDemandId);
    const live = await liveDemands(loanId);
    expect(live.reduce((s, d) => s + d.pDuePaise, 0n)).toBe(100_000_00n + BigInt(Math.round(second.body.restructure.capitalised_amount * 100)));
    expect(await ctx.db.prisma.restructure.count({ where: { loanId } })).toBe(2);
  });

  it('from_date defaults to today', async () => {
    const { loanId } = await activeLoan();
    const res = await post({ loan: loanId, emi_count: 24, overdue_treatment: 'first_emi' });
    expect(res.status).toBe(201);
    expect(res.body.restructure.from_date).toBe(businessDateToEpoch(istDateOf(new Date())));
  });
});

describe('Restructure: refusals', () => {
  it('answers 400 naming each bad field', async () => {
    const { loanId } = await activeLoan();
    const cases: [object, string][] = [
      [{ loan: loanId, emi_count: 6 }, 'overdue_treatment'],
      [{ loan: loanId, emi_count: 0, overdue_treatment: 'capitalise' }, 'emi_count'],
      [{ loan: loanId, emi_count: 6, overdue_treatment: 'waive' }, 'overdue_treatment'],
      [{ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise', rate: 101 }, 'rate'],
      [{ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise', rate: '-1' }, 'rate'],
      [{ loan: 'not-a-uuid', emi_count: 6, overdue_treatment: 'capitalise' }, 'loan'],
      [{ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise', emi_frequency: 'daily' }, 'emi_frequency'],
      [{ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise', from_date: '2024-02-30' }, 'from_date'],
      [{ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise', from_date: addDays(istDateOf(new Date()), 1) }, 'from_date'],
      [{ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise', from_date: '2023-12-31' }, 'from_date'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(res.body.errors), JSON.stringify(body)).toContain(field);
    }
    const unknown = await post({ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise', tenure: 5 });
    expect(unknown.status).toBe(400);
    expect(await ctx.db.prisma.restructure.count({ where: { loanId } })).toBe(0);
  });

  it('refuses a from date before an installment that has a payment', async () => {
    const { loanId, demands } = await activeLoan();
    await ctx.db.prisma.demand.update({ where: { id: demands[2]!.id }, data: { niPaidPaise: 1_00n } });
    const res = await post({ loan: loanId, from_date: '2024-02-15', emi_count: 6, overdue_treatment: 'capitalise' });
    expect(res.status).toBe(400);
    expect(res.body.errors.from_date[0]).toMatch(/2024-04-01/);
  });

  it('answers 404 for a missing or foreign loan, alike', async () => {
    const other = await createTenant(ctx, 'restructure-other');
    const { loanId: foreignLoan } = await activeLoan(other);
    const body = { emi_count: 6, overdue_treatment: 'capitalise' };
    const missing = await post({ ...body, loan: newId() });
    const foreign = await post({ ...body, loan: foreignLoan });
    expect(missing.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect(missing.body.errors).toHaveProperty('loan');
  });

  it('answers 403 to a viewer', async () => {
    const { loanId } = await activeLoan();
    const res = await post({ loan: loanId, emi_count: 6, overdue_treatment: 'capitalise' }, { role: 'viewer' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('answers 409 for a pending loan and a bullet loan', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const { loan: pending } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100_00n });
    const res = await post({ loan: pending.id, emi_count: 6, overdue_treatment: 'capitalise' });
    expect(res.status).toBe(409);
    expect(res.body.errors).toHaveProperty('loan');
    const { loanId: bullet } = await activeLoan(tenant, { roi_value: [{ days: -1, value: 18 }], tenure_period: 'days', tenure_value: 90, days_in_year: 365 });
    const refused = await post({ loan: bullet, emi_count: 6, overdue_treatment: 'capitalise' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/bullet/);
  });

  it('answers 409 when capitalising would overdraw the line', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, EMI_PARAMS, 100_000_00n);
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100_000_00n });
    await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
    const res = await post({ loan: loan.id, from_date: '2024-03-01', emi_count: 6, overdue_treatment: 'capitalise' });
    expect(res.status).toBe(409);
    expect(res.body.errors).toHaveProperty('overdue_treatment');
    // Nothing was written: the same request as a separate demand goes through.
    expect((await post({ loan: loan.id, from_date: '2024-03-01', emi_count: 6, overdue_treatment: 'separate_demand' })).status).toBe(201);
  });
});

describe('Restructure: Idempotency-Key', () => {
  it('replays the stored response for the same key and body, restructuring once', async () => {
    const { loanId } = await activeLoan();
    const key = newId();
    const body = { loan: loanId, from_date: '2024-03-10', emi_count: 8, overdue_treatment: 'capitalise' };
    const first = await post(body, { key });
    expect(first.status).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    const again = await post(body, { key });
    expect(again.status).toBe(201);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await ctx.db.prisma.restructure.count({ where: { loanId } })).toBe(1);
    expect((await ctx.db.prisma.loan.findUniqueOrThrow({ where: { id: loanId } })).scheduleVersion).toBe(2);
    const other = await post({ ...body, emi_count: 9 }, { key });
    expect(other.status).toBe(422);
  });
});
