import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { newId } from '../../src/domain/ids.js';
import { istDateOf } from '../../src/domain/time.js';
import type { Role } from '../../src/modules/auth/roles.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'topup-groups');
});
afterAll(async () => { await ctx.close(); });

const BULLET = { days_in_year: 360, tenure_period: 'days', tenure_value: 60, roi_slab_based: true, roi_value: [{ days: -1, value: 18 }] };
const today = () => istDateOf(new Date());
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const account = (limitRupees = 10_00_000) => accountWithParams(ctx, tenant.companyId, BULLET, BigInt(limitRupees) * 100n);

const createGroup = (body: object, role: Role = 'maker', key?: string) => {
  const req = ctx.http().post('/v1/lms/topup_groups/').set('Authorization', tenant.bearer(role));
  return (key ? req.set('Idempotency-Key', key) : req).send(body);
};
const patchGroup = (id: string, body: object, role: Role = 'checker', t = tenant) =>
  ctx.http().patch(`/v1/lms/topup_groups/${id}/`).set('Authorization', t.bearer(role)).send(body);
const topup = (body: object, role: Role = 'maker') => ctx.http().post('/v1/lms/topups/').set('Authorization', tenant.bearer(role)).send(body);
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const line = async (accountId: string) => (await get(`/v1/lms/line_details/type/primary/?account=${accountId}`)).body;

describe('Topup groups', () => {
  it('creates, lists with member counts and amounts, and renames a group', async () => {
    const res = await createGroup({ name: 'Batch 1', remarks: 'anchor X invoices' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Batch 1', remarks: 'anchor X invoices', status: 'open', topups_count: 0, total_amount: 0, waiting_count: 0, waiting_amount: 0,
      status_counts: {}, approved_by: null, approved_at: null, company: tenant.companyId,
    });
    expect(res.body.ref_id).toMatch(/^TGRP\d{7}$/);
    const acc = await account();
    await topup({ account: acc.id, amount: 1000, topup_group: res.body.id });
    await topup({ account: acc.id, amount: 20_00_000, topup_group: res.body.id });
    const listed = (await get('/v1/lms/topup_groups/?status=open&page_size=100')).body;
    expect(listed.results.find((g: { id: string }) => g.id === res.body.id)).toMatchObject({
      topups_count: 2, total_amount: 2001000, waiting_count: 1, waiting_amount: 1000, status_counts: { approved: 1, checks_failed: 1 },
    });
    const renamed = await patchGroup(res.body.id, { name: 'Batch 1 (Jan)', remarks: null }, 'maker');
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Batch 1 (Jan)', remarks: null, status: 'open' });
    expect((await get(`/v1/lms/topup_groups/${res.body.id}/`)).body).toEqual(renamed.body);
    const bad = await createGroup({ remarks: 'x'.repeat(501), extra: true });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['extra', 'name', 'remarks']);
    expect((await createGroup({ name: 'x' }, 'viewer')).status).toBe(403);
    expect((await patchGroup(res.body.id, { status: 'open' })).body.errors).toHaveProperty('status');
  });

  it('an Idempotency-Key replay returns the same group', async () => {
    const key = `group-${newId()}`;
    const first = await createGroup({ name: 'Replayed' }, 'maker', key);
    const replay = await createGroup({ name: 'Replayed' }, 'maker', key);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(await ctx.db.prisma.topupGroup.count({ where: { companyId: tenant.companyId, name: 'Replayed' } })).toBe(1);
  });

  it("members wait holding their limit; a checker's approval pays them out together (a later date is scheduled)", async () => {
    const group = (await createGroup({ name: 'Approve me' })).body;
    const a = await account();
    const b = await account();
    const t1 = (await topup({ account: a.id, amount: 1_00_000, topup_group: group.id })).body;
    const t2 = (await topup({ account: b.id, amount: 2_00_000, topup_group: group.id })).body;
    const t3 = (await topup({ account: a.id, amount: 50_000, topup_group: group.id, disbursement_date: addDays(today(), 3) })).body;
    for (const t of [t1, t2, t3]) expect(t).toMatchObject({ status: 'approved', loan: null, payout: null, blocked_amount: t.amount });
    expect(await line(a.id)).toMatchObject({ blocked_amount: 150000, available_amount: 850000 });

    expect((await patchGroup(group.id, { status: 'approved' }, 'maker')).status).toBe(403);
    const ok = await patchGroup(group.id, { status: 'approved' }, 'checker');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', approved_by: expect.stringMatching(/^token:/), waiting_count: 0, status_counts: { payout_initiated: 2, scheduled: 1 } });
    const after = await Promise.all([t1, t2, t3].map(async (t) => (await get(`/v1/lms/topups/${t.id}/`)).body));
    expect(after.map((t) => t.status)).toEqual(['payout_initiated', 'payout_initiated', 'scheduled']);
    expect(after[0]).toMatchObject({ blocked_amount: 0, loan: expect.any(String), payout: expect.any(String) });
    expect(after[2]).toMatchObject({ blocked_amount: 50000, loan: null });
    // The loans took over the topups' blocks; nothing moved twice.
    expect(await line(a.id)).toMatchObject({ blocked_amount: 150000, available_amount: 850000 });
    expect(await line(b.id)).toMatchObject({ blocked_amount: 200000, available_amount: 800000 });
    expect((await patchGroup(group.id, { status: 'approved' })).status).toBe(409);
    expect((await patchGroup(group.id, { status: 'cancelled' })).status).toBe(409);
    // A closed group takes no new topups.
    const late = await topup({ account: a.id, amount: 1000, topup_group: group.id });
    expect(late.status).toBe(409);
    expect(late.body.errors).toEqual({ topup_group: ['group is approved'] });
  });

  it('maker-checker: whoever created the group or a member cannot approve it', async () => {
    const group = (await createGroup({ name: 'Own group' }, 'admin')).body;
    const acc = await account();
    await topup({ account: acc.id, amount: 1000, topup_group: group.id }, 'checker');
    const own = await patchGroup(group.id, { status: 'approved' }, 'admin');
    expect(own.status).toBe(403);
    expect((await patchGroup(group.id, { status: 'approved' }, 'checker')).status).toBe(403);
    expect((await get(`/v1/lms/topup_groups/${group.id}/`)).body.status).toBe('open');
  });

  it('approval is all or nothing: a member with failing checks, or one failing them now, stops it', async () => {
    const group = (await createGroup({ name: 'Blocked' })).body;
    const acc = await account(1_00_000);
    const good = (await topup({ account: acc.id, amount: 60_000, topup_group: group.id })).body;
    const over = (await topup({ account: acc.id, amount: 60_000, topup_group: group.id })).body;
    expect(over.status).toBe('checks_failed');
    const blocked = await patchGroup(group.id, { status: 'approved' });
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toContain(over.ref_id);
    // Moved out of the group, the rest can be approved, but the account froze meanwhile.
    expect((await ctx.http().patch(`/v1/lms/topups/${over.id}/`).set('Authorization', tenant.bearer('maker')).send({ topup_group: null })).body.status).toBe('checks_failed');
    await ctx.app.services.accounts.update(by(), acc.id, { status: 'frozen' });
    const stale = await patchGroup(group.id, { status: 'approved' });
    expect(stale.status).toBe(409);
    expect(stale.body.errors[`topups.${good.ref_id}`]).toEqual([expect.stringContaining('account_active')]);
    expect((await get(`/v1/lms/topups/${good.id}/`)).body).toMatchObject({ status: 'approved', blocked_amount: 60000 });
    expect(await ctx.db.prisma.payout.count({ where: { accountId: acc.id } })).toBe(0);
    await ctx.app.services.accounts.update(by(), acc.id, { status: 'active' });
    expect((await patchGroup(group.id, { status: 'approved' })).body.status).toBe('approved');
    const empty = (await createGroup({ name: 'Empty' })).body;
    expect((await patchGroup(empty.id, { status: 'approved' })).body.errors).toEqual({ status: ['nothing to approve'] });
  });

  it('cancelling releases every waiting member (unscheduled)', async () => {
    const group = (await createGroup({ name: 'Cancel me' })).body;
    const acc = await account(1_00_000);
    const waiting = (await topup({ account: acc.id, amount: 40_000, topup_group: group.id })).body;
    const failing = (await topup({ account: acc.id, amount: 70_000, topup_group: group.id })).body;
    expect(await line(acc.id)).toMatchObject({ blocked_amount: 40000 });
    const res = await patchGroup(group.id, { status: 'cancelled' }, 'maker');
    expect(res.body).toMatchObject({ status: 'cancelled', status_counts: { unscheduled: 2 } });
    for (const t of [waiting, failing]) expect((await get(`/v1/lms/topups/${t.id}/`)).body).toMatchObject({ status: 'unscheduled', blocked_amount: 0 });
    expect(await line(acc.id)).toMatchObject({ blocked_amount: 0, available_amount: 100000 });
    expect((await topup({ account: acc.id, amount: 1, topup_group: group.id })).status).toBe(409);
  });

  it('a member can be unscheduled, or leave the group and pay out on its own', async () => {
    const group = (await createGroup({ name: 'Leavers' })).body;
    const acc = await account();
    const one = (await topup({ account: acc.id, amount: 10_000, topup_group: group.id })).body;
    const two = (await topup({ account: acc.id, amount: 20_000, topup_group: group.id })).body;
    expect((await ctx.http().put(`/v1/lms/topups/${one.id}/unschedule/`).set('Authorization', tenant.bearer('maker'))).body).toMatchObject({ status: 'unscheduled', blocked_amount: 0 });
    const left = await ctx.http().patch(`/v1/lms/topups/${two.id}/`).set('Authorization', tenant.bearer('maker')).send({ topup_group: null });
    expect(left.body).toMatchObject({ status: 'payout_initiated', topup_group: null });
    expect(await line(acc.id)).toMatchObject({ blocked_amount: 20000, available_amount: 980000 });
  });

  it('404 for a missing or foreign group, 403 for a viewer', async () => {
    const group = (await createGroup({ name: 'Mine' })).body;
    const other = await createTenant(ctx, 'topup-groups-other');
    expect((await patchGroup(group.id, { name: 'x' }, 'admin', other)).status).toBe(404);
    expect((await get(`/v1/lms/topup_groups/${group.id}/`, other)).status).toBe(404);
    expect((await patchGroup(newId(), {})).status).toBe(404);
    expect((await patchGroup(group.id, { name: 'x' }, 'viewer')).status).toBe(403);
    const foreignJoin = await ctx.http().post('/v1/lms/topups/').set('Authorization', other.bearer('maker'))
      .send({ account: (await accountWithParams(ctx, other.companyId, BULLET)).id, amount: 1, topup_group: group.id });
    expect(foreignJoin.status).toBe(404);
    expect(foreignJoin.body.errors).toEqual({ topup_group: ['not found'] });
  });
});
