import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await buildTestApp(); });
afterAll(async () => { await ctx.close(); });

type Role = Parameters<Tenant['bearer']>[0];

const BASE = '/v1/lms/line_details/';

const LINE_KEYS = [
  'account', 'approved_amount', 'available_amount', 'blocked_amount', 'company', 'created_at', 'id', 'remarks', 'status',
  'type', 'updated_at', 'used_amount', 'valid_from', 'valid_till',
];

// Crego business dates: epoch seconds of 23:59:59.999999 IST of the day (hard-coded, not computed
// with the code under test).
const EPOCH_2024_01_05 = 1704479399.999999;
const EPOCH_2026_01_01 = 1767292199.999999;
const EPOCH_2026_06_30 = 1782844199.999999;
const EPOCH_2026_12_31 = 1798741799.999999;

function get(tenant: Tenant, url: string, role: Role = 'admin') {
  return ctx.http().get(url).set('Authorization', tenant.bearer(role));
}

function postLine(tenant: Tenant, body: unknown, role: Role = 'admin') {
  return ctx.http().post(BASE).set('Authorization', tenant.bearer(role)).send(body as object);
}

function patchLine(tenant: Tenant, id: string, body: unknown, role: Role = 'admin') {
  return ctx.http().patch(`${BASE}${id}/`).set('Authorization', tenant.bearer(role)).send(body as object);
}

function bulk(tenant: Tenant, rows: unknown[], role: Role = 'admin') {
  return ctx.http().post(`${BASE}bulk_internal/`).set('Authorization', tenant.bearer(role)).send({ line_details: rows });
}

async function newAccount(tenant: Tenant, sanctioned = 1000): Promise<string> {
  const res = await ctx.http().post('/v1/lms/accounts/').set('Authorization', tenant.bearer())
    .send({ name: `Line Holder ${newId()}`, sanctioned_limit: sanctioned });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const accountRow = async (id: string) => (await ctx.db.prisma.account.findUnique({ where: { id } }))!;
const lineRow = async (id: string) => (await ctx.db.prisma.lineDetail.findUnique({ where: { id } }))!;
const linesOf = (accountId: string) => ctx.db.prisma.lineDetail.findMany({ where: { accountId }, orderBy: { type: 'asc' } });
const primaryOf = async (accountId: string) =>
  (await ctx.db.prisma.lineDetail.findFirst({ where: { accountId, type: 'primary' } }))!;

/** Sets used/blocked directly, keeping approved = available + used + blocked. */
async function setCommitted(lineId: string, used: bigint, blocked = 0n) {
  const n = await ctx.db.prisma.$executeRaw`
    UPDATE line_details SET used_paise = ${used}, blocked_paise = ${blocked}, available_paise = approved_paise - ${used} - ${blocked}
    WHERE id = ${lineId}::uuid`;
  expect(n).toBe(1);
}

/** The account's figures as stored, and the sums of its active lines as stored. */
async function totals(accountId: string) {
  const account = await accountRow(accountId);
  const active = (await linesOf(accountId)).filter((l) => l.status === 'active');
  return {
    sanctioned: account.sanctionedLimitPaise,
    available: account.availableLimitPaise,
    sumApproved: active.reduce((s, l) => s + l.approvedPaise, 0n),
    sumAvailable: active.reduce((s, l) => s + l.availablePaise, 0n),
  };
}

async function expectAccountTotals(accountId: string, sanctioned: bigint, available: bigint) {
  const t = await totals(accountId);
  expect(t).toEqual({ sanctioned, available, sumApproved: sanctioned, sumAvailable: available });
}

describe('primary line from account creation', () => {
  it('creating an account creates an active primary line with approved = available = sanctioned', async () => {
    const tenant = await createTenant(ctx, 'ld-primary');
    const accountId = await newAccount(tenant, 1234.56);
    const res = await get(tenant, `${BASE}?account=${accountId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 1, current_page: 1, page_size: 15 });
    expect(res.body.results).toHaveLength(1);
    const line = res.body.results[0];
    expect(Object.keys(line).sort()).toEqual(LINE_KEYS);
    expect(line).toMatchObject({
      account: accountId, type: 'primary', status: 'active', company: tenant.companyId,
      approved_amount: 1234.56, available_amount: 1234.56, used_amount: 0, blocked_amount: 0,
      valid_from: null, valid_till: null, remarks: null,
    });
    const rows = await linesOf(accountId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: line.id, companyId: tenant.companyId, type: 'primary', status: 'active',
      approvedPaise: 123456n, availablePaise: 123456n, usedPaise: 0n, blockedPaise: 0n,
    });
    await expectAccountTotals(accountId, 123456n, 123456n);
  });

  it('lists only this company\'s lines; filters by type and status', async () => {
    const tenant = await createTenant(ctx, 'ld-list');
    const other = await createTenant(ctx, 'ld-list-other');
    const a = await newAccount(tenant, 100);
    const b = await newAccount(tenant, 200);
    await newAccount(other, 300);
    expect((await postLine(tenant, { account: a, type: 'adhoc', approved_amount: 10 })).status).toBe(201);

    const all = await get(tenant, BASE);
    expect(all.status).toBe(200);
    expect(all.body.count).toBe(3);
    expect(all.body.results.every((l: { company: string }) => l.company === tenant.companyId)).toBe(true);

    const adhoc = await get(tenant, `${BASE}?type=adhoc`);
    expect(adhoc.body.count).toBe(1);
    expect(adhoc.body.results[0]).toMatchObject({ account: a, type: 'adhoc' });

    const ofB = await get(tenant, `${BASE}?account=${b}`);
    expect(ofB.body.count).toBe(1);
    expect(ofB.body.results[0]).toMatchObject({ account: b, type: 'primary', approved_amount: 200 });

    expect((await get(tenant, `${BASE}?status=inactive`)).body.count).toBe(0);
    const foreign = await get(other, `${BASE}?account=${a}`);
    expect(foreign.status).toBe(200);
    expect(foreign.body).toMatchObject({ count: 0, results: [] });

    const bad = await get(tenant, `${BASE}?account=nope`);
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(['account']);
  });
});

describe('POST /v1/lms/line_details/', () => {
  it('creates an adhoc line; account totals become the sums; dates in Crego business-date form', async () => {
    const tenant = await createTenant(ctx, 'ld-create');
    const accountId = await newAccount(tenant, 1000);
    const before = Date.now() / 1000;
    const res = await postLine(tenant, {
      account: accountId, type: 'adhoc', approved_amount: 250.25, valid_from: '2026-01-01', valid_till: EPOCH_2026_12_31,
      remarks: 'festival',
    }, 'maker');
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(LINE_KEYS);
    expect(res.body).toMatchObject({
      account: accountId, type: 'adhoc', status: 'active', company: tenant.companyId,
      approved_amount: 250.25, available_amount: 250.25, used_amount: 0, blocked_amount: 0,
      valid_from: EPOCH_2026_01_01, valid_till: EPOCH_2026_12_31, remarks: 'festival',
    });
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body.created_at).toBeGreaterThan(before - 5);
    expect(res.body.created_at).toBeLessThan(Date.now() / 1000 + 5);

    const row = await lineRow(res.body.id);
    expect(row).toMatchObject({
      companyId: tenant.companyId, accountId, type: 'adhoc', status: 'active',
      approvedPaise: 25025n, availablePaise: 25025n, usedPaise: 0n, blockedPaise: 0n, remarks: 'festival',
    });
    expect(row.validFrom!.toISOString().slice(0, 10)).toBe('2026-01-01');
    expect(row.validTill!.toISOString().slice(0, 10)).toBe('2026-12-31');

    await expectAccountTotals(accountId, 125025n, 125025n);
    const account = await get(tenant, `/v1/lms/accounts/${accountId}/`);
    expect(account.body).toMatchObject({ sanctioned_limit: 1250.25, available_limit: 1250.25 });

    const audit = await ctx.db.prisma.auditEvent.findMany({ where: { companyId: tenant.companyId, entityType: 'line_detail', entityId: res.body.id } });
    expect(audit.map((e) => e.action)).toEqual(['created']);
  });

  it('accepts an epoch valid_from and returns it as the end of that IST day (2024-01-05 -> 1704479399.999999)', async () => {
    const tenant = await createTenant(ctx, 'ld-epoch');
    const accountId = await newAccount(tenant);
    // Noon IST on 2024-01-05 is still that business day.
    const noonIst = Date.UTC(2024, 0, 5, 6, 30) / 1000;
    const res = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 1, valid_from: noonIst, valid_till: '2024-01-05' });
    expect(res.status).toBe(201);
    expect(res.body.valid_from).toBe(EPOCH_2024_01_05);
    expect(res.body.valid_till).toBe(EPOCH_2024_01_05);
    const again = await postLine(tenant, { account: accountId, type: 'seasonal', approved_amount: 1, valid_from: EPOCH_2024_01_05 });
    expect(again.status).toBe(201);
    expect(again.body.valid_from).toBe(EPOCH_2024_01_05);
    expect(again.body.valid_till).toBeNull();
    expect((await lineRow(again.body.id)).validFrom!.toISOString().slice(0, 10)).toBe('2024-01-05');
  });

  it('approved_amount 0 is allowed and leaves the account totals unchanged', async () => {
    const tenant = await createTenant(ctx, 'ld-zero');
    const accountId = await newAccount(tenant, 500);
    const res = await postLine(tenant, { account: accountId, type: 'standby', approved_amount: 0 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ approved_amount: 0, available_amount: 0 });
    await expectAccountTotals(accountId, 50000n, 50000n);
  });

  it('a second line of the same type on the same account -> 409 DUPLICATE; another account may have it', async () => {
    const tenant = await createTenant(ctx, 'ld-dup');
    const a = await newAccount(tenant, 100);
    const b = await newAccount(tenant, 100);
    expect((await postLine(tenant, { account: a, type: 'adhoc', approved_amount: 10 })).status).toBe(201);
    const dup = await postLine(tenant, { account: a, type: 'adhoc', approved_amount: 20 });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'DUPLICATE', errors: { type: ['already exists for this account'] } });
    const dupPrimary = await postLine(tenant, { account: a, type: 'primary', approved_amount: 20 });
    expect(dupPrimary.status).toBe(409);
    expect(dupPrimary.body.code).toBe('DUPLICATE');
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId: a } })).toBe(2);
    await expectAccountTotals(a, 11000n, 11000n);
    expect((await postLine(tenant, { account: b, type: 'adhoc', approved_amount: 20 })).status).toBe(201);
  });

  it('parallel creates of the same type: exactly one 201, the rest 409 DUPLICATE', async () => {
    const tenant = await createTenant(ctx, 'ld-dup-par');
    const a = await newAccount(tenant, 100);
    const responses = await Promise.all(Array.from({ length: 6 }, () => postLine(tenant, { account: a, type: 'adhoc', approved_amount: 5 })));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('DUPLICATE');
    }
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId: a, type: 'adhoc' } })).toBe(1);
    await expectAccountTotals(a, 10500n, 10500n);
  });

  it("an unknown or another company's account -> 404 naming account, nothing written", async () => {
    const tenant = await createTenant(ctx, 'ld-404');
    const other = await createTenant(ctx, 'ld-404-other');
    const theirs = await newAccount(other, 100);
    for (const account of [theirs, newId()]) {
      const res = await postLine(tenant, { account, type: 'adhoc', approved_amount: 10 });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ code: 'NOT_FOUND', detail: 'Account not found.', errors: { account: ['not found'] } });
    }
    expect(await ctx.db.prisma.lineDetail.count({ where: { companyId: tenant.companyId } })).toBe(0);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId: theirs } })).toBe(1);
    await expectAccountTotals(theirs, 10000n, 10000n);
  });

  describe('validation', () => {
    let tenant: Tenant;
    let accountId: string;
    beforeAll(async () => {
      tenant = await createTenant(ctx, 'ld-validate');
      accountId = await newAccount(tenant, 100);
    });

    const ok = () => ({ account: accountId, type: 'adhoc', approved_amount: 10 });
    const cases: Array<[string, () => Record<string, unknown>, string]> = [
      ['upper-case type', () => ({ ...ok(), type: 'Adhoc' }), 'type'],
      ['one-letter type', () => ({ ...ok(), type: 'a' }), 'type'],
      ['type starting with a digit', () => ({ ...ok(), type: '1adhoc' }), 'type'],
      ['type with a dash', () => ({ ...ok(), type: 'ad-hoc' }), 'type'],
      ['type of 41 characters', () => ({ ...ok(), type: `a${'b'.repeat(40)}` }), 'type'],
      ['missing type', () => ({ account: accountId, approved_amount: 10 }), 'type'],
      ['negative amount', () => ({ ...ok(), approved_amount: -1 }), 'approved_amount'],
      ['three decimals', () => ({ ...ok(), approved_amount: 10.123 }), 'approved_amount'],
      ['amount as a string', () => ({ ...ok(), approved_amount: '10' }), 'approved_amount'],
      ['missing amount', () => ({ account: accountId, type: 'adhoc' }), 'approved_amount'],
      ['account not a uuid', () => ({ ...ok(), account: 'acc-1' }), 'account'],
      ['missing account', () => ({ type: 'adhoc', approved_amount: 10 }), 'account'],
      ['unknown field', () => ({ ...ok(), colour: 'red' }), 'colour'],
      ['status is not settable on create', () => ({ ...ok(), status: 'inactive' }), 'status'],
      ['impossible date 2024-02-30', () => ({ ...ok(), valid_from: '2024-02-30' }), 'valid_from'],
      ['date in another format', () => ({ ...ok(), valid_till: '05/01/2024' }), 'valid_till'],
      ['negative epoch', () => ({ ...ok(), valid_from: -1 }), 'valid_from'],
      ['date as a boolean', () => ({ ...ok(), valid_from: true }), 'valid_from'],
      ['remarks over 500 characters', () => ({ ...ok(), remarks: 'x'.repeat(501) }), 'remarks'],
    ];

    it.each(cases)('%s -> 400 naming the field', async (_label, body, field) => {
      const res = await postLine(tenant, body());
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(Object.keys(res.body.errors)).toEqual([field]);
      expect(res.body.errors[field].length).toBeGreaterThan(0);
      expect(res.body.detail).toContain(field);
    });

    it('valid_till before valid_from -> 400 naming valid_till (string and epoch forms)', async () => {
      const a = await postLine(tenant, { ...ok(), valid_from: '2026-01-01', valid_till: '2025-12-31' });
      expect(a.status).toBe(400);
      expect(a.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: { valid_till: ['must not be before valid_from'] } });
      const b = await postLine(tenant, { ...ok(), valid_from: EPOCH_2026_06_30, valid_till: EPOCH_2026_01_01 });
      expect(b.status).toBe(400);
      expect(Object.keys(b.body.errors)).toEqual(['valid_till']);
      // The same day is fine.
      const same = await postLine(tenant, { ...ok(), type: 'oneday', valid_from: '2026-01-01', valid_till: EPOCH_2026_01_01 });
      expect(same.status).toBe(201);
      expect(same.body).toMatchObject({ valid_from: EPOCH_2026_01_01, valid_till: EPOCH_2026_01_01 });
    });

    it('gives specific messages for money errors', async () => {
      expect((await postLine(tenant, { ...ok(), approved_amount: -1 })).body.errors.approved_amount).toEqual(['must not be negative']);
      expect((await postLine(tenant, { ...ok(), approved_amount: 1.005 })).body.errors.approved_amount)
        .toEqual(['must be an amount in rupees with at most two decimals']);
    });

    it('writes nothing for rejected requests (only the primary and the one valid oneday line exist)', async () => {
      const rows = await linesOf(accountId);
      expect(rows.map((l) => l.type).sort()).toEqual(['oneday', 'primary']);
      await expectAccountTotals(accountId, 11000n, 11000n);
    });
  });

  it('viewer may not create (403), nothing written', async () => {
    const tenant = await createTenant(ctx, 'ld-viewer');
    const accountId = await newAccount(tenant, 100);
    const res = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 10 }, 'viewer');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId } })).toBe(1);
    const primary = await primaryOf(accountId);
    const patched = await patchLine(tenant, primary.id, { approved_amount: 1 }, 'viewer');
    expect(patched.status).toBe(403);
    expect((await lineRow(primary.id)).approvedPaise).toBe(10000n);
    const bulkRes = await bulk(tenant, [{ account: accountId, type: 'adhoc', approved_amount: 10 }], 'viewer');
    expect(bulkRes.status).toBe(403);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId } })).toBe(1);
    // Viewers read.
    expect((await get(tenant, `${BASE}${primary.id}/`, 'viewer')).status).toBe(200);
  });

  it('no token -> 401', async () => {
    const res = await ctx.http().post(BASE).send({ account: newId(), type: 'adhoc', approved_amount: 1 });
    expect(res.status).toBe(401);
  });

  it('Idempotency-Key replay returns the same body, idempotency-replayed: true, and one row', async () => {
    const tenant = await createTenant(ctx, 'ld-idem');
    const accountId = await newAccount(tenant, 100);
    const key = newId();
    const body = { account: accountId, type: 'adhoc', approved_amount: 42.5, valid_from: '2026-01-01' };
    const send = (b: object) => ctx.http().post(BASE).set('Authorization', tenant.bearer('maker')).set('Idempotency-Key', key).send(b);
    const first = await send(body);
    expect(first.status).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    const second = await send({ valid_from: '2026-01-01', approved_amount: 42.5, type: 'adhoc', account: accountId });
    expect(second.status).toBe(201);
    expect(second.headers['idempotency-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId, type: 'adhoc' } })).toBe(1);
    await expectAccountTotals(accountId, 14250n, 14250n);
    const reused = await send({ ...body, approved_amount: 43 });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('PATCH /v1/lms/line_details/{id}/', () => {
  it('raising and lowering approved_amount adjusts available and the account totals', async () => {
    const tenant = await createTenant(ctx, 'ld-patch');
    const accountId = await newAccount(tenant, 1000);
    const adhoc = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 200 });
    expect(adhoc.status).toBe(201);
    const id = adhoc.body.id as string;

    const up = await patchLine(tenant, id, { approved_amount: 350.5 }, 'checker');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ id, approved_amount: 350.5, available_amount: 350.5, used_amount: 0, blocked_amount: 0, status: 'active' });
    expect(up.body.created_at).toBe(adhoc.body.created_at);
    expect(up.body.updated_at).toBeGreaterThanOrEqual(adhoc.body.updated_at);
    await expectAccountTotals(accountId, 135050n, 135050n);

    // With some used and blocked, available = approved - used - blocked.
    await setCommitted(id, 5000n, 2500n);
    const down = await patchLine(tenant, id, { approved_amount: 100 });
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({ approved_amount: 100, available_amount: 25, used_amount: 50, blocked_amount: 25 });
    expect(await lineRow(id)).toMatchObject({ approvedPaise: 10000n, availablePaise: 2500n, usedPaise: 5000n, blockedPaise: 2500n });
    await expectAccountTotals(accountId, 110000n, 102500n);
    const account = await get(tenant, `/v1/lms/accounts/${accountId}/`);
    expect(account.body).toMatchObject({ sanctioned_limit: 1100, available_limit: 1025 });

    // Exactly used + blocked is allowed (available 0).
    const exact = await patchLine(tenant, id, { approved_amount: 75 });
    expect(exact.status).toBe(200);
    expect(exact.body).toMatchObject({ approved_amount: 75, available_amount: 0 });
    await expectAccountTotals(accountId, 107500n, 100000n);

    const actions = (await ctx.db.prisma.auditEvent.findMany({ where: { entityType: 'line_detail', entityId: id }, orderBy: { id: 'asc' } }))
      .map((e) => e.action);
    expect(actions).toEqual(['created', 'updated', 'updated', 'updated']);
  });

  it('lowering below used + blocked -> 409 STATE_CONFLICT naming approved_amount; nothing changes', async () => {
    const tenant = await createTenant(ctx, 'ld-patch-below');
    const accountId = await newAccount(tenant, 1000);
    const primary = await primaryOf(accountId);
    await setCommitted(primary.id, 30000n, 10000n);
    const res = await patchLine(tenant, primary.id, { approved_amount: 399.99 });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('STATE_CONFLICT');
    expect(Object.keys(res.body.errors)).toEqual(['approved_amount']);
    expect(res.body.detail).toContain('approved_amount');
    expect(await lineRow(primary.id)).toMatchObject({ approvedPaise: 100000n, availablePaise: 60000n, usedPaise: 30000n, blockedPaise: 10000n });
    // The account row was not rewritten (still the pre-raw-update figures).
    expect(await accountRow(accountId)).toMatchObject({ sanctionedLimitPaise: 100000n, availableLimitPaise: 100000n });
    expect(await ctx.db.prisma.auditEvent.count({ where: { entityType: 'line_detail', entityId: primary.id } })).toBe(0);
  });

  it('status inactive removes the line from the account totals; active brings it back', async () => {
    const tenant = await createTenant(ctx, 'ld-inactive');
    const accountId = await newAccount(tenant, 1000);
    const adhoc = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 300 });
    await expectAccountTotals(accountId, 130000n, 130000n);
    const off = await patchLine(tenant, adhoc.body.id, { status: 'inactive' });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ status: 'inactive', approved_amount: 300, available_amount: 300 });
    expect((await lineRow(adhoc.body.id)).status).toBe('inactive');
    await expectAccountTotals(accountId, 100000n, 100000n);

    // Changing an inactive line's amount does not touch the totals.
    const changed = await patchLine(tenant, adhoc.body.id, { approved_amount: 500 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ status: 'inactive', approved_amount: 500 });
    await expectAccountTotals(accountId, 100000n, 100000n);

    const filtered = await get(tenant, `${BASE}?account=${accountId}&status=inactive`);
    expect(filtered.body.count).toBe(1);
    expect(filtered.body.results[0].id).toBe(adhoc.body.id);

    const on = await patchLine(tenant, adhoc.body.id, { status: 'active' });
    expect(on.status).toBe(200);
    await expectAccountTotals(accountId, 150000n, 150000n);
  });

  it('inactive with used or blocked > 0 -> 409 STATE_CONFLICT naming status; nothing changes', async () => {
    const tenant = await createTenant(ctx, 'ld-inactive-used');
    const accountId = await newAccount(tenant, 1000);
    const primary = await primaryOf(accountId);
    await setCommitted(primary.id, 1n);
    const used = await patchLine(tenant, primary.id, { status: 'inactive' });
    expect(used.status).toBe(409);
    expect(used.body.code).toBe('STATE_CONFLICT');
    expect(Object.keys(used.body.errors)).toEqual(['status']);
    expect((await lineRow(primary.id)).status).toBe('active');

    await setCommitted(primary.id, 0n, 100n);
    const blocked = await patchLine(tenant, primary.id, { status: 'inactive', approved_amount: 500 });
    expect(blocked.status).toBe(409);
    expect(Object.keys(blocked.body.errors)).toEqual(['status']);
    expect(await lineRow(primary.id)).toMatchObject({ status: 'active', approvedPaise: 100000n, blockedPaise: 100n });
  });

  it('sets and clears valid_from, valid_till and remarks', async () => {
    const tenant = await createTenant(ctx, 'ld-patch-dates');
    const accountId = await newAccount(tenant, 10);
    const primary = await primaryOf(accountId);
    const set = await patchLine(tenant, primary.id, { valid_from: '2026-01-01', valid_till: EPOCH_2026_12_31, remarks: 'renewed' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ valid_from: EPOCH_2026_01_01, valid_till: EPOCH_2026_12_31, remarks: 'renewed', approved_amount: 10 });
    const cleared = await patchLine(tenant, primary.id, { valid_till: null, remarks: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ valid_from: EPOCH_2026_01_01, valid_till: null, remarks: null });
    expect(await lineRow(primary.id)).toMatchObject({ validTill: null, remarks: null, approvedPaise: 1000n });
  });

  it('rejects bad patches with 400 naming the field', async () => {
    const tenant = await createTenant(ctx, 'ld-patch-400');
    const accountId = await newAccount(tenant, 10);
    const primary = await primaryOf(accountId);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ status: 'closed' }, 'status'],
      [{ approved_amount: -5 }, 'approved_amount'],
      [{ approved_amount: 1.234 }, 'approved_amount'],
      [{ type: 'adhoc' }, 'type'],
      [{ account: newId() }, 'account'],
      [{ used_amount: 1 }, 'used_amount'],
      [{ valid_from: '2024-02-30' }, 'valid_from'],
    ];
    for (const [body, field] of cases) {
      const res = await patchLine(tenant, primary.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(res.body.errors)).toEqual([field]);
    }
    const badId = await patchLine(tenant, 'not-a-uuid', { approved_amount: 1 });
    expect(badId.status).toBe(400);
    expect(Object.keys(badId.body.errors)).toEqual(['id']);
    expect(await lineRow(primary.id)).toMatchObject({ approvedPaise: 1000n, status: 'active', type: 'primary', accountId });
  });

  it("PATCH of another company's line is 404 like a random id, and changes nothing", async () => {
    const tenant = await createTenant(ctx, 'ld-patch-404');
    const other = await createTenant(ctx, 'ld-patch-404-other');
    const theirs = await primaryOf(await newAccount(other, 10));
    const foreign = await patchLine(tenant, theirs.id, { approved_amount: 99 });
    const random = await patchLine(tenant, newId(), { approved_amount: 99 });
    expect(foreign.status).toBe(404);
    expect(random.status).toBe(404);
    expect(foreign.body).toEqual(random.body);
    expect(foreign.body).toEqual({ code: 'NOT_FOUND', detail: 'Line detail not found.' });
    expect((await lineRow(theirs.id)).approvedPaise).toBe(1000n);
  });
});

describe('GET /v1/lms/line_details/type/{type}/ and /{id}/', () => {
  it('gets a line by type for an account', async () => {
    const tenant = await createTenant(ctx, 'ld-bytype');
    const accountId = await newAccount(tenant, 100);
    const created = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 7.5 });
    const res = await get(tenant, `${BASE}type/adhoc/?account=${accountId}`, 'viewer');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
    const primary = await get(tenant, `${BASE}type/primary/?account=${accountId}`);
    expect(primary.status).toBe(200);
    expect(primary.body).toMatchObject({ type: 'primary', account: accountId, approved_amount: 100 });
  });

  it('a missing type -> 404; missing account query -> 400; bad type -> 400', async () => {
    const tenant = await createTenant(ctx, 'ld-bytype-404');
    const accountId = await newAccount(tenant, 100);
    const missing = await get(tenant, `${BASE}type/seasonal/?account=${accountId}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    const noAccount = await get(tenant, `${BASE}type/primary/`);
    expect(noAccount.status).toBe(400);
    expect(noAccount.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(noAccount.body.errors)).toEqual(['account']);
    const badType = await get(tenant, `${BASE}type/Primary/?account=${accountId}`);
    expect(badType.status).toBe(400);
    expect(Object.keys(badType.body.errors)).toEqual(['type']);
  });

  it("another company's account id -> 404 like a random account", async () => {
    const tenant = await createTenant(ctx, 'ld-bytype-foreign');
    const other = await createTenant(ctx, 'ld-bytype-foreign-other');
    const theirs = await newAccount(other, 100);
    const foreign = await get(tenant, `${BASE}type/primary/?account=${theirs}`);
    const random = await get(tenant, `${BASE}type/primary/?account=${newId()}`);
    expect(foreign.status).toBe(404);
    expect(random.status).toBe(404);
    expect(foreign.body).toEqual(random.body);
    expect(JSON.stringify(foreign.body)).not.toContain(theirs);
  });

  it('GET by id returns the line; a foreign id is 404 exactly like a random uuid', async () => {
    const tenant = await createTenant(ctx, 'ld-get');
    const other = await createTenant(ctx, 'ld-get-other');
    const accountId = await newAccount(tenant, 100);
    const created = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 1, remarks: 'r' });
    const res = await get(tenant, `${BASE}${created.body.id}/`, 'viewer');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);

    const foreign = await get(other, `${BASE}${created.body.id}/`);
    const random = await get(other, `${BASE}${newId()}/`);
    expect(foreign.status).toBe(404);
    expect(random.status).toBe(404);
    expect(foreign.body).toEqual(random.body);
    expect(foreign.body).toEqual({ code: 'NOT_FOUND', detail: 'Line detail not found.' });

    const bad = await get(tenant, `${BASE}nope/`);
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(['id']);
  });
});

describe('POST /v1/lms/line_details/bulk_internal/', () => {
  it('creates new lines and updates existing ones (by account and type) in one call', async () => {
    const tenant = await createTenant(ctx, 'ld-bulk');
    const a = await newAccount(tenant, 1000);
    const b = await newAccount(tenant, 200);
    const primaryA = await primaryOf(a);
    await setCommitted(primaryA.id, 10000n);
    const res = await bulk(tenant, [
      { account: a, type: 'adhoc', approved_amount: 500, valid_from: '2026-01-01', valid_till: EPOCH_2026_12_31 },
      { account: a, type: 'primary', approved_amount: 2000, remarks: 'enhanced' },
      { account: b, type: 'seasonal', approved_amount: 300.3 },
    ], 'maker');
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(3);
    expect(res.body.results).toHaveLength(3);
    expect(res.body.results[0]).toMatchObject({
      account: a, type: 'adhoc', approved_amount: 500, available_amount: 500, valid_from: EPOCH_2026_01_01, valid_till: EPOCH_2026_12_31,
    });
    expect(res.body.results[1]).toMatchObject({
      id: primaryA.id, account: a, type: 'primary', approved_amount: 2000, available_amount: 1900, used_amount: 100, remarks: 'enhanced',
    });
    expect(res.body.results[2]).toMatchObject({ account: b, type: 'seasonal', approved_amount: 300.3, available_amount: 300.3 });
    for (const line of res.body.results) expect(Object.keys(line).sort()).toEqual(LINE_KEYS);

    expect((await linesOf(a)).map((l) => [l.type, l.approvedPaise, l.availablePaise, l.usedPaise])).toEqual([
      ['adhoc', 50000n, 50000n, 0n], ['primary', 200000n, 190000n, 10000n],
    ]);
    expect((await linesOf(b)).map((l) => [l.type, l.approvedPaise])).toEqual([['primary', 20000n], ['seasonal', 30030n]]);
    await expectAccountTotals(a, 250000n, 240000n);
    await expectAccountTotals(b, 50030n, 50030n);
  });

  it('with one bad row (foreign account) -> 400 keyed line_details.<i>.account and nothing applied', async () => {
    const tenant = await createTenant(ctx, 'ld-bulk-bad');
    const other = await createTenant(ctx, 'ld-bulk-bad-other');
    const a = await newAccount(tenant, 1000);
    const theirs = await newAccount(other, 100);
    const primaryBefore = await primaryOf(a);
    const res = await bulk(tenant, [
      { account: a, type: 'adhoc', approved_amount: 100 },
      { account: a, type: 'primary', approved_amount: 3000 },
      { account: theirs, type: 'adhoc', approved_amount: 10 },
      { account: newId(), type: 'adhoc', approved_amount: 10 },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors).sort()).toEqual(['line_details.2.account', 'line_details.3.account']);
    expect(res.body.detail).toContain('nothing was applied');

    expect(await linesOf(a)).toEqual([primaryBefore]);
    await expectAccountTotals(a, 100000n, 100000n);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId: theirs } })).toBe(1);
    await expectAccountTotals(theirs, 10000n, 10000n);
    expect(await ctx.db.prisma.auditEvent.count({ where: { companyId: tenant.companyId, entityType: 'line_detail' } })).toBe(0);
  });

  it('lowering below used in one row -> 400 keyed line_details.<i>.approved_amount; good rows not applied', async () => {
    const tenant = await createTenant(ctx, 'ld-bulk-below');
    const a = await newAccount(tenant, 1000);
    const b = await newAccount(tenant, 1000);
    const primaryB = await primaryOf(b);
    await setCommitted(primaryB.id, 50000n);
    const bBefore = await lineRow(primaryB.id);
    const res = await bulk(tenant, [
      { account: a, type: 'primary', approved_amount: 5000 },
      { account: a, type: 'adhoc', approved_amount: 100 },
      { account: b, type: 'primary', approved_amount: 499.99 },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors)).toEqual(['line_details.2.approved_amount']);
    expect((await linesOf(a)).map((l) => [l.type, l.approvedPaise])).toEqual([['primary', 100000n]]);
    await expectAccountTotals(a, 100000n, 100000n);
    expect(await lineRow(primaryB.id)).toEqual(bBefore);
    expect(await ctx.db.prisma.auditEvent.count({ where: { companyId: tenant.companyId, entityType: 'line_detail' } })).toBe(0);
  });

  it('reports every failing row together (several accounts and reasons)', async () => {
    const tenant = await createTenant(ctx, 'ld-bulk-many');
    const a = await newAccount(tenant, 10);
    await setCommitted((await primaryOf(a)).id, 500n);
    const res = await bulk(tenant, [
      { account: a, type: 'primary', approved_amount: 1 },
      { account: a, type: 'adhoc', approved_amount: 1, valid_from: '2026-02-01', valid_till: '2026-01-01' },
      { account: a, type: 'seasonal', approved_amount: 1 },
      { account: newId(), type: 'adhoc', approved_amount: 1 },
    ]);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual([
      'line_details.0.approved_amount', 'line_details.1.valid_till', 'line_details.3.account',
    ]);
    expect((await linesOf(a)).map((l) => l.type)).toEqual(['primary']);
  });

  it('schema errors name line_details.<index>.<field>; nothing applied', async () => {
    const tenant = await createTenant(ctx, 'ld-bulk-schema');
    const a = await newAccount(tenant, 10);
    const res = await bulk(tenant, [
      { account: a, type: 'adhoc', approved_amount: 1 },
      { account: a, type: 'Bad', approved_amount: 1 },
      { account: a, type: 'other', approved_amount: 1.001 },
      { account: a, type: 'more', approved_amount: 1, colour: 'red' },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors).sort()).toEqual([
      'line_details.1.type', 'line_details.2.approved_amount', 'line_details.3.colour',
    ]);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId: a } })).toBe(1);
  });

  it('empty, missing or more than 500 rows -> 400 naming line_details', async () => {
    const tenant = await createTenant(ctx, 'ld-bulk-size');
    const a = await newAccount(tenant, 10);
    const empty = await bulk(tenant, []);
    expect(empty.status).toBe(400);
    expect(Object.keys(empty.body.errors)).toEqual(['line_details']);
    const missing = await ctx.http().post(`${BASE}bulk_internal/`).set('Authorization', tenant.bearer()).send({});
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body.errors)).toEqual(['line_details']);
    const rows = Array.from({ length: 501 }, (_, i) => ({ account: a, type: `t${i}`, approved_amount: 1 }));
    const tooMany = await bulk(tenant, rows);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(tooMany.body.errors)).toEqual(['line_details']);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId: a } })).toBe(1);
  });

  it('500 rows is accepted and applied', async () => {
    const tenant = await createTenant(ctx, 'ld-bulk-500');
    const a = await newAccount(tenant, 10);
    const rows = Array.from({ length: 500 }, (_, i) => ({ account: a, type: `t${i}`, approved_amount: 1 }));
    const res = await bulk(tenant, rows);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(500);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId: a } })).toBe(501);
    await expectAccountTotals(a, 51000n, 51000n);
  });
});

describe('closed accounts (closed directly in the DB; the API cannot close yet)', () => {
  it('create, patch and bulk on a closed account are refused and change nothing', async () => {
    const tenant = await createTenant(ctx, 'ld-closed');
    const accountId = await newAccount(tenant, 100);
    const primary = await primaryOf(accountId);
    expect(await ctx.db.prisma.$executeRaw`UPDATE accounts SET status = 'closed' WHERE id = ${accountId}::uuid`).toBe(1);

    const created = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 1 });
    expect(created.status).toBe(409);
    expect(created.body).toMatchObject({ code: 'STATE_CONFLICT', detail: 'The account is closed.' });

    const patched = await patchLine(tenant, primary.id, { approved_amount: 1 });
    expect(patched.status).toBe(409);
    expect(patched.body.code).toBe('STATE_CONFLICT');

    const open = await newAccount(tenant, 100);
    const bulkRes = await bulk(tenant, [
      { account: open, type: 'adhoc', approved_amount: 1 },
      { account: accountId, type: 'adhoc', approved_amount: 1 },
    ]);
    expect(bulkRes.status).toBe(400);
    expect(bulkRes.body.errors).toEqual({ 'line_details.1.account': ['The account is closed.'] });

    expect(await linesOf(accountId)).toEqual([primary]);
    expect((await linesOf(open)).map((l) => l.type)).toEqual(['primary']);
    await expectAccountTotals(accountId, 10000n, 10000n);
  });
});

describe('database invariant', () => {
  it('the CHECK constraint rejects raw updates that break approved = available + used + blocked or go negative', async () => {
    const tenant = await createTenant(ctx, 'ld-check');
    const accountId = await newAccount(tenant, 100);
    const { id } = await primaryOf(accountId);
    await expect(ctx.db.prisma.$executeRaw`UPDATE line_details SET available_paise = available_paise + 1 WHERE id = ${id}::uuid`)
      .rejects.toThrow(/line_details_limit_invariant/);
    await expect(ctx.db.prisma.$executeRaw`UPDATE line_details SET used_paise = 5 WHERE id = ${id}::uuid`)
      .rejects.toThrow(/line_details_limit_invariant/);
    await expect(ctx.db.prisma.$executeRaw`
      UPDATE line_details SET used_paise = -100, available_paise = available_paise + 100 WHERE id = ${id}::uuid`)
      .rejects.toThrow(/line_details_limit_invariant/);
    await expect(ctx.db.prisma.$executeRaw`
      UPDATE line_details SET approved_paise = -1, available_paise = -1 WHERE id = ${id}::uuid`)
      .rejects.toThrow(/line_details_limit_invariant/);
    expect(await lineRow(id)).toMatchObject({ approvedPaise: 10000n, availablePaise: 10000n, usedPaise: 0n, blockedPaise: 0n });
    // A consistent update is allowed.
    await setCommitted(id, 10n, 20n);
    expect(await lineRow(id)).toMatchObject({ approvedPaise: 10000n, availablePaise: 9970n, usedPaise: 10n, blockedPaise: 20n });
  });
});

describe('concurrency', () => {
  it('20 parallel PATCHes on two lines of one account all succeed and leave account totals = sums of lines', async () => {
    const tenant = await createTenant(ctx, 'ld-race');
    const accountId = await newAccount(tenant, 1000);
    const adhoc = await postLine(tenant, { account: accountId, type: 'adhoc', approved_amount: 1000 });
    expect(adhoc.status).toBe(201);
    const primary = await primaryOf(accountId);
    await setCommitted(primary.id, 12345n, 55n);
    const ids = [primary.id, adhoc.body.id as string];
    const sent = new Map<string, bigint[]>(ids.map((id) => [id, []]));
    const requests = Array.from({ length: 20 }, (_, i) => {
      const id = ids[i % 2]!;
      const paise = 20000n + BigInt(Math.floor(Math.random() * 10_000_000));
      sent.get(id)!.push(paise);
      return patchLine(tenant, id, { approved_amount: Number(paise) / 100 });
    });
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));

    const [p, a] = [await lineRow(primary.id), await lineRow(adhoc.body.id)];
    expect(sent.get(primary.id)).toContain(p.approvedPaise);
    expect(sent.get(adhoc.body.id)).toContain(a.approvedPaise);
    expect(p).toMatchObject({ usedPaise: 12345n, blockedPaise: 55n, availablePaise: p.approvedPaise - 12400n });
    expect(a).toMatchObject({ usedPaise: 0n, blockedPaise: 0n, availablePaise: a.approvedPaise });
    await expectAccountTotals(accountId, p.approvedPaise + a.approvedPaise, p.availablePaise + a.availablePaise);
    expect(await ctx.db.prisma.auditEvent.count({ where: { companyId: tenant.companyId, entityType: 'line_detail', action: 'updated' } })).toBe(20);
  });

  it('parallel creates, patches and a bulk on one account keep the totals exact', async () => {
    const tenant = await createTenant(ctx, 'ld-race-mixed');
    const accountId = await newAccount(tenant, 100);
    const primary = await primaryOf(accountId);
    const responses = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => postLine(tenant, { account: accountId, type: `extra${i}`, approved_amount: 10 + i })),
      ...Array.from({ length: 6 }, (_, i) => patchLine(tenant, primary.id, { approved_amount: 200 + i })),
      bulk(tenant, [{ account: accountId, type: 'bulk_one', approved_amount: 1 }, { account: accountId, type: 'bulk_two', approved_amount: 2 }]),
    ]);
    expect(responses.map((r) => r.status).sort()).toEqual([...Array(6).fill(200), 200, ...Array(6).fill(201)].sort());
    const t = await totals(accountId);
    expect(t.sanctioned).toBe(t.sumApproved);
    expect(t.available).toBe(t.sumAvailable);
    expect(await ctx.db.prisma.lineDetail.count({ where: { accountId } })).toBe(9);
  });
});

describe('line detail edge cases found in review', () => {
  it('rejects an epoch in milliseconds, a till before the stored from, duplicate bulk rows, and oversize account totals', async () => {
    const t = await createTenant(ctx, 'ld-edge');
    const acc = (await ctx.app.services.accounts.create({ companyId: t.companyId, actor: 'test' }, { name: 'Edge', sanctioned_limit: 100n })).id;
    const post = (body: object) => ctx.http().post('/v1/lms/line_details/').set('Authorization', t.bearer('maker')).send(body);
    const ms = await post({ account: acc, type: 'adhoc', approved_amount: 10, valid_from: 1704479399999 });
    expect(ms.status).toBe(400);
    expect(ms.body.errors).toHaveProperty('valid_from');
    const created = await post({ account: acc, type: 'adhoc', approved_amount: 10, valid_from: '2026-02-01' });
    expect(created.status).toBe(201);
    const patch = await ctx.http().patch(`/v1/lms/line_details/${created.body.id}/`).set('Authorization', t.bearer('maker')).send({ valid_till: '2026-01-01' });
    expect(patch.status).toBe(400);
    expect(patch.body.errors).toHaveProperty('valid_till');
    const bulk = await ctx.http().post('/v1/lms/line_details/bulk_internal/').set('Authorization', t.bearer('maker'))
      .send({ line_details: [{ account: acc, type: 'seasonal', approved_amount: 1 }, { account: acc, type: 'seasonal', approved_amount: 2 }] });
    expect(bulk.status).toBe(400);
    expect(bulk.body.errors).toHaveProperty(['line_details.1.type']);
    // The account already has 1 (100 paise) + 10 rupees of lines; its total may reach 10^13 rupees, no more.
    expect((await post({ account: acc, type: 'big', approved_amount: 1e13 - 11 })).status).toBe(201);
    const over = await post({ account: acc, type: 'bigger', approved_amount: 0.01 });
    expect(over.status).toBe(409);
    expect(over.body.errors).toHaveProperty('approved_amount');
    const account = await ctx.http().get(`/v1/lms/accounts/${acc}/`).set('Authorization', t.bearer('viewer'));
    expect(account.status).toBe(200);
  });
});
