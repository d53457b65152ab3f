import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { EXTRA_DATA_MAX_BYTES, mergePatch } from '../../src/modules/extra-data/service.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
let tenant: Tenant;
let account: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'extra');
  account = (await ctx.app.services.accounts.create({ companyId: tenant.companyId, actor: 'test' }, { name: 'Extra', sanctioned_limit: 100n })).id;
});
afterAll(async () => { await ctx.close(); });

const patch = (id: string, body: object, t = tenant) => ctx.http().patch(`/v1/lms/extra_data/${id}/`).set('Authorization', t.bearer('maker')).send(body);

describe('mergePatch (RFC 7386)', () => {
  it.each([
    [{ a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    [{ a: 1, b: 2 }, { a: null }, { b: 2 }],
    [{ a: { x: 1, y: 2 } }, { a: { y: null, z: 3 } }, { a: { x: 1, z: 3 } }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: 1 }, { a: { b: 1 } }, { a: { b: 1 } }],
  ])('%j + %j = %j', (target, p, expected) => {
    expect(mergePatch(target, p)).toEqual(expected);
  });
});

describe('Extra Data', () => {
  it('creates on first update, merges on the next, and lists', async () => {
    const first = await patch(account, { entity_type: 'account', data: { crm_id: 'C-1', tags: ['gold'], nested: { a: 1 } } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ entity_type: 'account', entity_id: account, data: { crm_id: 'C-1', tags: ['gold'], nested: { a: 1 } } });
    const second = await patch(account, { entity_type: 'account', data: { crm_id: null, nested: { b: 2 } } });
    expect(second.status).toBe(200);
    expect(second.body.data).toEqual({ tags: ['gold'], nested: { a: 1, b: 2 } });
    expect(second.body.id).toBe(first.body.id);
    const list = await ctx.http().get(`/v1/lms/extra_data/?entity_type=account&entity_id=${account}`).set('Authorization', tenant.bearer('viewer'));
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(1);
    expect(list.body.results[0].data).toEqual({ tags: ['gold'], nested: { a: 1, b: 2 } });
  });

  it(`refuses data larger than ${EXTRA_DATA_MAX_BYTES} bytes in all, and keeps what was there`, async () => {
    const id = (await ctx.app.services.accounts.create({ companyId: tenant.companyId, actor: 'test' }, { name: 'Big', sanctioned_limit: 1n })).id;
    expect((await patch(id, { entity_type: 'account', data: { a: 'x'.repeat(10_000) } })).status).toBe(200);
    const res = await patch(id, { entity_type: 'account', data: { b: 'y'.repeat(10_000) } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveProperty('data');
    const row = await ctx.db.prisma.extraData.findFirst({ where: { companyId: tenant.companyId, entityId: id } });
    expect(Object.keys(row!.data as object)).toEqual(['a']);
  });

  it('404 for a missing or foreign object; 400 for a bad entity_type or non-object data', async () => {
    const other = await createTenant(ctx, 'extra-other');
    expect((await patch(newId(), { entity_type: 'account', data: {} })).status).toBe(404);
    expect((await patch(account, { entity_type: 'account', data: { x: 1 } }, other)).status).toBe(404);
    const bad = await patch(account, { entity_type: 'planet', data: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toHaveProperty('entity_type');
    const notObject = await patch(account, { entity_type: 'account', data: [1, 2] });
    expect(notObject.status).toBe(400);
    expect(notObject.body.errors).toHaveProperty('data');
  });

  it('concurrent merges of different keys lose none of them', async () => {
    const id = (await ctx.app.services.accounts.create({ companyId: tenant.companyId, actor: 'test' }, { name: 'Race', sanctioned_limit: 1n })).id;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => patch(id, { entity_type: 'account', data: { [`k${i}`]: i } })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const row = await ctx.db.prisma.extraData.findFirst({ where: { companyId: tenant.companyId, entityId: id } });
    expect(Object.keys(row!.data as object).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
  });
});

describe('Loan Data', () => {
  const post = (body: object) => ctx.http().post('/v1/lms/loan_data/').set('Authorization', tenant.bearer('maker')).send(body);

  it('creates, updates and retrieves per-loan terms in the params vocabulary', async () => {
    const created = await post({ account, emi_count: '6', flat_roi_value: '14', pf_value: 1, pf_value_type: 'percentage', penal_min_amount: 100.5 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ account, loan: null, terms: { emi_count: 6, flat_roi_value: 14, pf_value: 1, pf_value_type: 'percentage', penal_min_amount: 100.5 } });
    const updated = await ctx.http().patch(`/v1/lms/loan_data/${created.body.id}/`).set('Authorization', tenant.bearer('maker')).send({ emi_count: 9 });
    expect(updated.status).toBe(200);
    expect(updated.body.terms.emi_count).toBe(9);
    expect(updated.body.terms.flat_roi_value).toBe(14);
    const got = await ctx.http().get(`/v1/lms/loan_data/${created.body.id}/`).set('Authorization', tenant.bearer('viewer'));
    expect(got.body).toEqual(updated.body);
  });

  it('checks the terms over the account params as a whole, naming the field', async () => {
    const res = await post({ account, roi_slab_based: true, roi_value: [{ days: 30, value: 10 }] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveProperty(['roi_value.0.days']);
    const unknown = await post({ account, nope: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toHaveProperty('nope');
    expect((await post({ account: newId(), emi_count: 1 })).status).toBe(404);
  });

  it('cannot change once a loan is disbursed under it', async () => {
    const created = await post({ account, emi_count: 3 });
    await ctx.db.prisma.loanData.update({ where: { id: created.body.id }, data: { loanId: newId() } });
    const res = await ctx.http().patch(`/v1/lms/loan_data/${created.body.id}/`).set('Authorization', tenant.bearer('maker')).send({ emi_count: 4 });
    expect(res.status).toBe(409);
  });
});

describe('Extra Data on loans and idempotent POSTs', () => {
  it('attaches to a loan; a foreign or missing loan is 404', async () => {
    const { accountWithParams } = await import('../helpers/factories.js');
    const acc = await accountWithParams(ctx, tenant.companyId);
    const { loan } = await ctx.app.services.loans.initiateDisbursement({ companyId: tenant.companyId, actor: 'test' }, acc.id, { amount: 100n });
    const res = await patch(loan.id, { entity_type: 'loan', data: { invoice: 'INV-1' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ entity_type: 'loan', entity_id: loan.id, data: { invoice: 'INV-1' } });
    expect((await patch(newId(), { entity_type: 'loan', data: {} })).status).toBe(404);
    const other = await createTenant(ctx, 'extra-loan-other');
    expect((await patch(loan.id, { entity_type: 'loan', data: {} }, other)).status).toBe(404);
  });

  it('attaches to topups, topup groups and records; foreign or missing ones are 404', async () => {
    const by = { companyId: tenant.companyId, actor: 'test' };
    const record = await ctx.app.services.records.create(by, { account, received_amount: 100n });
    const group = await ctx.http().post('/v1/lms/topup_groups/').set('Authorization', tenant.bearer('maker')).send({ name: 'Extra data batch' });
    const topup = await ctx.http().post('/v1/lms/topups/').set('Authorization', tenant.bearer('maker')).send({ account, amount: 10 });
    expect(topup.status).toBe(201);
    const other = await createTenant(ctx, 'extra-more-other');
    for (const [entity_type, id] of [['record', record.id], ['topup_group', group.body.id], ['topup', topup.body.id]] as const) {
      const res = await patch(id, { entity_type, data: { source: 'crm' } });
      expect(res.status, entity_type).toBe(200);
      expect(res.body).toMatchObject({ entity_type, entity_id: id, data: { source: 'crm' } });
      expect((await patch(newId(), { entity_type, data: {} })).status).toBe(404);
      expect((await patch(id, { entity_type, data: {} }, other)).status).toBe(404);
    }
  });

  it('replays loan data and bulk line-detail POSTs sent again with the same Idempotency-Key', async () => {
    const key = newId();
    const send = () => ctx.http().post('/v1/lms/loan_data/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send({ account, emi_count: 2 });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await ctx.db.prisma.loanData.count({ where: { companyId: tenant.companyId, id: first.body.id } })).toBe(1);
    const bulkKey = newId();
    const bulk = () => ctx.http().post('/v1/lms/line_details/bulk_internal/').set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', bulkKey)
      .send({ line_details: [{ account, type: 'festive', approved_amount: 10 }] });
    expect((await bulk()).status).toBe(200);
    const replay = await bulk();
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(await ctx.db.prisma.auditEvent.count({ where: { companyId: tenant.companyId, entityType: 'line_detail', action: 'created' } })).toBe(1);
  });
});
