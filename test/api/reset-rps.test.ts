import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { InitiateLoanParamsIn } from '../../src/modules/loan-params/schemas.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'reset');
});
afterAll(async () => { await ctx.close(); });

const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const reset = (accountId: string, body: object = {}, role: 'maker' | 'viewer' = 'maker') =>
  ctx.http().post(`/v1/lms/accounts/${accountId}/reset_rps/`).set('Authorization', tenant.bearer(role)).send(body);

describe('Reset RPS', () => {
  it('reschedules unpaid installments under the new params and leaves settled ones untouched', async () => {
    const lead = { lead_id: newId(), program_id: newId() };
    const account = await ctx.app.services.accounts.create(by(), { name: 'Reset', sanctioned_limit: 1_000_000_00n, ...lead });
    await ctx.app.services.loanParams.initiate(by(), InitiateLoanParamsIn.parse({ ...lead, roi_value: [{ days: -1, value: 12 }], emi_count: 12, days_in_month: 30, days_in_year: 360 }));
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100_000_00n });
    await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
    // Installment 1 was paid in full; installment 2 partly.
    const [d1, d2] = await ctx.db.prisma.demand.findMany({ where: { loanId: loan.id }, orderBy: { installmentNumber: 'asc' }, take: 2 });
    await ctx.db.prisma.demand.update({ where: { id: d1!.id }, data: { pPaidPaise: d1!.pDuePaise, niPaidPaise: d1!.niDuePaise, status: 'paid' } });
    await ctx.db.prisma.demand.update({ where: { id: d2!.id }, data: { niPaidPaise: 100n } });
    const before = await ctx.db.prisma.demand.findMany({ where: { id: { in: [d1!.id, d2!.id] } }, orderBy: { installmentNumber: 'asc' } });

    await ctx.app.services.loanParams.update(by(), InitiateLoanParamsIn.parse({ ...lead, roi_value: [{ days: -1, value: 18 }] }));
    const res = await reset(account.id);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(1);
    expect(res.body.results[0]).toMatchObject({ id: loan.id, schedule_version: 2, params_version: 2 });

    const live = await ctx.db.prisma.demand.findMany({ where: { loanId: loan.id, status: { not: 'cancelled' } }, orderBy: { installmentNumber: 'asc' } });
    expect(live).toHaveLength(12);
    // The settled demands are exactly as they were.
    expect(live.slice(0, 2)).toEqual(before);
    expect(live.reduce((s, d) => s + d.pDuePaise, 0n)).toBe(100_000_00n);
    expect(live.slice(2).every((d) => d.scheduleVersion === 2)).toBe(true);
    // 10 installments rescheduled from installment 2's due date at 18%: the first runs 1 Mar to 1 Apr.
    const rescheduled = before[0]!.pDuePaise + before[1]!.pDuePaise;
    const opening = 100_000_00n - rescheduled;
    expect(live[2]!.niDuePaise).toBe((opening * 18n * 30n + 50n * 360n) / (100n * 360n)); // 30/360, rounded half up
    expect(await ctx.db.prisma.demand.count({ where: { loanId: loan.id, status: 'cancelled' } })).toBe(10);
  });

  it('answers 404 for a loan not on the account, 409 for a pending loan, 403 for a viewer', async () => {
    const lead = { lead_id: newId(), program_id: newId() };
    const account = await ctx.app.services.accounts.create(by(), { name: 'Reset 2', sanctioned_limit: 1_000_00n, ...lead });
    await ctx.app.services.loanParams.initiate(by(), InitiateLoanParamsIn.parse({ ...lead, roi_value: [{ days: -1, value: 12 }], emi_count: 3 }));
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100_00n });
    expect((await reset(account.id, { loan: newId() })).status).toBe(404);
    expect((await reset(account.id, { loan: loan.id })).status).toBe(409);
    expect((await reset(account.id, {}, 'viewer')).status).toBe(403);
    const none = await reset(account.id);
    expect(none.status).toBe(200);
    expect(none.body.count).toBe(0);
  });
});
