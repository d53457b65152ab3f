// The company's operating settings: what makes a record need approval, the NACH bounce charge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'settings');
});
afterAll(async () => { await ctx.close(); });

const patch = (body: object, role: 'admin' | 'maker' = 'admin') => ctx.http().patch('/v1/lms/company/').set('Authorization', tenant.bearer(role)).send(body);
const get = () => ctx.http().get('/v1/lms/company/').set('Authorization', tenant.bearer('viewer'));

describe('company settings', () => {
  it('start empty, change by admins only, and clear with null', async () => {
    expect((await get()).body.settings).toEqual({ record_approval_threshold: null, nach_bounce_charge: null, nach_bounce_charge_gst_rate: null, payout_callback_secret_set: false });
    expect((await patch({ record_approval_threshold: 1000 }, 'maker')).status).toBe(403);
    const set = await patch({ record_approval_threshold: 1000, nach_bounce_charge: 500, nach_bounce_charge_gst_rate: 18 });
    expect(set.status).toBe(200);
    expect(set.body.settings).toMatchObject({ record_approval_threshold: 1000, nach_bounce_charge: 500, nach_bounce_charge_gst_rate: 18 });
    const bad = await patch({ record_approval_threshold: -1, nach_bounce_charge: 'x', nach_bounce_charge_gst_rate: 101, other: 1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['nach_bounce_charge', 'nach_bounce_charge_gst_rate', 'other', 'record_approval_threshold']);
    const cleared = await patch({ nach_bounce_charge: null });
    expect(cleared.body.settings).toMatchObject({ record_approval_threshold: 1000, nach_bounce_charge: null });
    await ctx.http().post('/v1/lms/company/payout_callback_secret/').set('Authorization', tenant.bearer('admin'));
    expect((await get()).body.settings.payout_callback_secret_set).toBe(true);
  });

  it('a record above the approval threshold waits for a checker; one at or below it allocates', async () => {
    await patch({ record_approval_threshold: 1000 });
    const by = { companyId: tenant.companyId, actor: 'test' };
    const account = await accountWithParams(ctx, tenant.companyId);
    const settle = { utr: '', settled_at: new Date('2024-02-05T06:30:00Z') };
    const small = await ctx.app.services.records.create(by, { account: account.id, received_amount: 1000_00n });
    const large = await ctx.app.services.records.create(by, { account: account.id, received_amount: 1000_01n });
    expect((await ctx.app.services.records.markProcessed(by, small.id, { ...settle, utr: `S${Date.now()}` })).status).toBe('processed');
    expect((await ctx.app.services.records.markProcessed(by, large.id, { ...settle, utr: `L${Date.now()}` })).status).toBe('approval_pending');
  });
});
