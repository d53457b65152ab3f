import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

// Crego's own examples, kept in the repo (test/fixtures/crego/) so a plain clone passes.
const CREGO = new URL('../fixtures/crego', import.meta.url).pathname;
const cregoParams = JSON.parse(readFileSync(`${CREGO}/loan_params.object.json`, 'utf8'));
const cregoInitiate = JSON.parse(readFileSync(`${CREGO}/accounts.initiate_loan_params.request.json`, 'utf8'));

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'params');
});
afterAll(async () => { await ctx.close(); });

const http = () => ctx.http();
const ids = () => ({ lead_id: newId(), program_id: newId() });
const initiate = (body: object, method: 'post' | 'patch' = 'post', t = tenant) =>
  http()[method]('/v1/lms/accounts/initiate_loan_params/').set('Authorization', t.bearer('maker')).send(body);

async function accountFor(lead: { lead_id: string; program_id: string }, sanctioned = 100000, t = tenant) {
  const res = await http().post('/v1/lms/accounts/').set('Authorization', t.bearer('maker')).send({ name: 'Params Co', sanctioned_limit: sanctioned, ...lead });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const getParams = (accountId: string, t = tenant) => http().get(`/v1/lms/accounts/${accountId}/loan_params/`).set('Authorization', t.bearer('viewer'));

describe('Initiate / Update / Get Loan Params', () => {
  it("round-trips Crego's loan-params example exactly (amounts and rates)", async () => {
    const lead = ids();
    const { id: _id, created_at: _c, updated_at: _u, ...object } = cregoParams;
    const res = await initiate({ ...object, ...lead });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({});
    const account = await accountFor(lead);
    const got = await getParams(account);
    expect(got.status).toBe(200);
    for (const [key, value] of Object.entries(object)) {
      if (key === 'lead_id' || key === 'program_id') continue;
      expect(got.body[key], key).toEqual(value);
    }
    expect(got.body.lead_id).toBe(lead.lead_id);
    expect(got.body.version).toBe(1);
  });

  it("accepts Crego's short initiate body (numbers as strings) and fills defaults", async () => {
    const lead = ids();
    const account = await accountFor(lead, 100000);
    const res = await initiate({ ...cregoInitiate, ...lead });
    expect(res.status).toBe(201);
    const got = (await getParams(account)).body;
    expect(got).toMatchObject({ emi_count: 12, flat_roi_value: 14, pf_value: 1, pf_value_type: 'percentage', approved_line_amount: 500000 });
    expect(got.emi_frequency).toBe('monthly');
    expect(got).toMatchObject({ days_in_year: 365, settlement_order: 'due_date_first', component_order: 'PI-OI-NI-P', pf_gst: 18 });
    // The line amount became the approved amount of the bound account's primary line.
    const acc = await http().get(`/v1/lms/accounts/${account}/`).set('Authorization', tenant.bearer('viewer'));
    expect(acc.body.sanctioned_limit).toBe(500000);
    expect(acc.body.available_limit).toBe(500000);
  });

  it('POST twice is a 409; PATCH changes fields, bumps the version and keeps the history', async () => {
    const lead = ids();
    const account = await accountFor(lead);
    expect((await initiate({ ...lead, roi_value: [{ days: -1, value: 18 }] })).status).toBe(201);
    const again = await initiate({ ...lead });
    expect(again.status).toBe(409);
    const patch = await initiate({ ...lead, roi_value: [{ days: -1, value: 18.5 }], emi_frequency: 'monthly', emi_count: 6 }, 'patch');
    expect(patch.status).toBe(200);
    expect(patch.body).toEqual({});
    const got = (await getParams(account)).body;
    expect(got.version).toBe(2);
    expect(got.roi_value).toEqual([{ days: -1, value: 18.5 }]);
    const history = await http().get(`/v1/lms/accounts/${account}/loan_params/history/`).set('Authorization', tenant.bearer('viewer'));
    expect(history.status).toBe(200);
    expect(history.body.count).toBe(2);
    const latest = history.body.results[0];
    expect(latest.version).toBe(2);
    expect(latest.changed_by).toMatch(/^token:/);
    expect(latest.changes.map((c: { field: string }) => c.field).sort()).toEqual(['emi_count', 'emi_frequency', 'roi_value']);
    expect(latest.changes.find((c: { field: string }) => c.field === 'roi_value').from).toEqual([{ days: -1, value: '18' }]);
    // A PATCH that changes nothing writes no version.
    expect((await initiate({ ...lead, emi_count: '6' }, 'patch')).status).toBe(200);
    expect((await getParams(account)).body.version).toBe(2);
  });

  it('PATCH of unknown lead/program is 404; GET for an account without params is 404', async () => {
    expect((await initiate({ ...ids(), emi_count: 3, emi_frequency: 'monthly' }, 'patch')).status).toBe(404);
    const account = await accountFor(ids());
    expect((await getParams(account)).status).toBe(404);
    expect((await getParams(newId())).status).toBe(404);
  });

  it("another company cannot read or change a tenant's params", async () => {
    const other = await createTenant(ctx, 'params-other');
    const lead = ids();
    const account = await accountFor(lead);
    expect((await initiate({ ...lead })).status).toBe(201);
    expect((await getParams(account, other)).status).toBe(404);
    expect((await initiate({ ...lead, emi_count: 2, emi_frequency: 'weekly' }, 'patch', other)).status).toBe(404);
  });

  const bad: [string, object, string][] = [
    ['slabs out of order', { roi_slab_based: true, roi_value: [{ days: 30, value: 18 }, { days: 15, value: 20 }, { days: -1, value: 24 }] }, 'roi_value.1.days'],
    ['no open-ended slab', { roi_slab_based: true, roi_value: [{ days: 15, value: 18 }, { days: 30, value: 20 }] }, 'roi_value.1.days'],
    ['open-ended slab not last', { roi_slab_based: true, roi_value: [{ days: 'inf', value: 18 }, { days: 30, value: 20 }] }, 'roi_value.0.days'],
    ['slab days not a number', { roi_value: [{ days: 'ten', value: 18 }] }, 'roi_value.0.days'],
    ['rate above 100', { roi_value: [{ days: -1, value: 101 }] }, 'roi_value.0.value'],
    ['negative rate', { pf_gst: -1 }, 'pf_gst'],
    ['day count', { days_in_year: 364 }, 'days_in_year'],
    ['tenure too long for its unit', { tenure_period: 'months', tenure_value: 400 }, 'tenure_value'],
    ['min days over tenure', { tenure_period: 'days', tenure_value: 30, tenure_min_days: 40 }, 'tenure_min_days'],
    ['component order with a bad token', { component_order: 'PI-OI-XX-P' }, 'component_order'],
    ['component order missing P', { component_order: 'PI-OI-NI' }, 'component_order'],
    ['settlement order', { settlement_order: 'random' }, 'settlement_order'],
    ['penal cap below minimum', { penal_min_amount: 500, penal_max_amount: 100 }, 'penal_max_amount'],
    ['amount with 3 decimals', { line_detail: { approved_line_amount: '10.123' } }, 'line_detail.approved_line_amount'],
    ['unknown field', { not_a_param: 1 }, 'not_a_param'],
    ['loan_data unknown field', { loan_data: { nope: 1 } }, 'loan_data.nope'],
    ['lead_id not a uuid', { lead_id: 'abc' }, 'lead_id'],
  ];
  it.each(bad)('rejects %s with a 400 naming the field', async (_name, body, field) => {
    const res = await initiate({ ...ids(), ...body });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors)).toContain(field);
  });

  it('accepts FEE anywhere in the component order and "inf" or -1 as the open slab', async () => {
    expect((await initiate({ ...ids(), component_order: 'FEE-PI-OI-NI-P', roi_slab_based: true, roi_value: [{ days: '15', value: 18 }, { days: 'INF', value: 24 }] })).status).toBe(201);
  });

  it('a viewer cannot initiate; an Idempotency-Key replays the POST', async () => {
    const lead = ids();
    const viewer = await http().post('/v1/lms/accounts/initiate_loan_params/').set('Authorization', tenant.bearer('viewer')).send({ ...lead });
    expect(viewer.status).toBe(403);
    const key = newId();
    const send = () => http().post('/v1/lms/accounts/initiate_loan_params/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({ ...lead });
    expect((await send()).status).toBe(201);
    const replay = await send();
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
  });
});
