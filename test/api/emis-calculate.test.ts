import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'calc');
});
afterAll(async () => { await ctx.close(); });

const calc = (body: object) => ctx.http().post('/v1/lms/emis/calculate/').set('Authorization', tenant.bearer('viewer')).send(body);
const sum = (rows: Record<string, number>[], key: 'principal' | 'interest') => rows.reduce((s, r) => s + Math.round((r[key] ?? 0) * 100), 0);

describe('POST /v1/lms/emis/calculate/', () => {
  it('Rs 10,00,000 at 8.5% for 240 months: EMI Rs 8,678.23, principal summing to the amount', async () => {
    const res = await calc({ amount: 1000000, rate: 8.5, tenure: 240, disbursement_date: '2024-01-01' });
    expect(res.status).toBe(200);
    expect(res.body.emi).toBe(8678.23);
    expect(res.body.schedule).toHaveLength(240);
    expect(sum(res.body.schedule, 'principal')).toBe(100000000);
    expect(res.body.schedule[0].due_date).toBe(1706812199.999999); // 2024-02-01 23:59:59.999999 IST = 2024-02-01T18:29:59.999999Z
    expect(res.body.schedule.at(-1).closing_principal).toBe(0);
  });

  it('Rs 1,00,000 at 12% for 12 months under 30/360: EMI 8,884.88, first interest 1,000.00', async () => {
    const res = await calc({ amount: 100000, rate: '12', tenure: 12, day_count: '30/360', disbursement_date: '2024-01-01' });
    expect(res.body.emi).toBe(8884.88);
    expect(res.body.schedule[0]).toMatchObject({ installment_number: 1, opening_principal: 100000, interest: 1000, principal: 7884.88, amount: 8884.88, closing_principal: 92115.12 });
  });

  it("a 40-day bullet on Crego's slabs (360-day year): Rs 2,750 interest due on day 40", async () => {
    const res = await calc({
      type: 'bullet', amount: 100000, tenure: 40, day_count: 'actual/360', disbursement_date: '2024-01-01',
      roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    });
    expect(res.status).toBe(200);
    expect(res.body.total_interest).toBe(2750);
    expect(res.body.total_payable).toBe(102750);
    expect(res.body.schedule).toHaveLength(1);
  });

  it('names bad fields', async () => {
    const res = await calc({ amount: -5, rate: 200, tenure: 0, frequency: 'daily', first_due_date: '2024-13-01' });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual(['amount', 'first_due_date', 'frequency', 'tenure']);
    const slabs = await calc({ type: 'bullet', amount: 10, tenure: 10, roi_value: [{ days: 30, value: 10 }] });
    expect(slabs.status).toBe(400);
    expect(slabs.body.errors).toHaveProperty(['roi_value.0.days']);
    const noRate = await calc({ amount: 10, tenure: 10 });
    expect(noRate.status).toBe(400);
    expect(noRate.body.errors).toHaveProperty('rate');
  });
});
