import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await buildTestApp(); });
afterAll(async () => { await ctx.close(); });

const ACCOUNT_KEYS = [
  'available_limit', 'company', 'created_at', 'external_id', 'gstin', 'id', 'lead_id', 'name', 'pan', 'program_id',
  'sanctioned_limit', 'status', 'updated_at',
];

function post(tenant: Tenant, body: unknown, role: Parameters<Tenant['bearer']>[0] = 'admin') {
  return ctx.http().post('/v1/lms/accounts/').set('Authorization', tenant.bearer(role)).send(body as object);
}

function get(tenant: Tenant, url: string) {
  return ctx.http().get(url).set('Authorization', tenant.bearer());
}

function patch(tenant: Tenant, id: string, body: unknown) {
  return ctx.http().patch(`/v1/lms/accounts/${id}/`).set('Authorization', tenant.bearer()).send(body as object);
}

describe('POST /v1/lms/accounts/', () => {
  it('creates an account with Crego-style fields, money stored as paise', async () => {
    const tenant = await createTenant(ctx, 'acc-create');
    const before = Date.now() / 1000;
    const res = await post(tenant, { name: 'Acme Traders', sanctioned_limit: 500000.5 });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(ACCOUNT_KEYS);
    expect(res.body).toMatchObject({
      name: 'Acme Traders', status: 'active', sanctioned_limit: 500000.5, available_limit: 500000.5,
      lead_id: null, program_id: null, pan: null, gstin: null, external_id: null, company: tenant.companyId,
    });
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(typeof res.body.created_at).toBe('number');
    expect(res.body.created_at).toBeGreaterThan(before - 5);
    expect(res.body.created_at).toBeLessThan(Date.now() / 1000 + 5);
    expect(typeof res.body.updated_at).toBe('number');

    const row = await ctx.db.prisma.account.findUnique({ where: { id: res.body.id } });
    expect(row).not.toBeNull();
    expect(row!.sanctionedLimitPaise).toBe(50000050n);
    expect(row!.availableLimitPaise).toBe(50000050n);
    expect(row!.companyId).toBe(tenant.companyId);
    expect(row!.status).toBe('active');
    expect(row!.name).toBe('Acme Traders');
  });

  it('stores the optional lead_id, program_id, pan, gstin and external_id (PAN/GSTIN upper-cased)', async () => {
    const tenant = await createTenant(ctx, 'acc-optional');
    const leadId = newId();
    const programId = newId();
    const externalId = `ext-${newId()}`;
    const res = await post(tenant, {
      name: 'Optional Fields', sanctioned_limit: 1000, lead_id: leadId, program_id: programId,
      pan: 'abcde1234f', gstin: '27ABCDE1234F1Z5', external_id: externalId,
    }, 'maker');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      lead_id: leadId, program_id: programId, pan: 'ABCDE1234F', gstin: '27ABCDE1234F1Z5', external_id: externalId,
      sanctioned_limit: 1000, available_limit: 1000,
    });
    const row = await ctx.db.prisma.account.findUnique({ where: { id: res.body.id } });
    expect(row).toMatchObject({ leadId, programId, pan: 'ABCDE1234F', gstin: '27ABCDE1234F1Z5', externalId, sanctionedLimitPaise: 100000n });
  });

  it('writes an audit_events row for the creation', async () => {
    const tenant = await createTenant(ctx, 'acc-audit');
    const res = await post(tenant, { name: 'Audited', sanctioned_limit: 250.75 });
    expect(res.status).toBe(201);
    const events = await ctx.db.prisma.auditEvent.findMany({ where: { companyId: tenant.companyId, entityType: 'account', entityId: res.body.id } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'created', data: { sanctioned_limit_paise: '25075' } });
    expect(events[0]!.actor).toMatch(/^token:/);
  });

  describe('validation', () => {
    let tenant: Tenant;
    beforeAll(async () => { tenant = await createTenant(ctx, 'acc-validate'); });

    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['missing name', { sanctioned_limit: 100 }, 'name'],
      ['empty name', { name: '   ', sanctioned_limit: 100 }, 'name'],
      ['missing sanctioned_limit', { name: 'X' }, 'sanctioned_limit'],
      ['sanctioned_limit as a string', { name: 'X', sanctioned_limit: '100' }, 'sanctioned_limit'],
      ['negative sanctioned_limit', { name: 'X', sanctioned_limit: -5 }, 'sanctioned_limit'],
      ['three decimals', { name: 'X', sanctioned_limit: 100.123 }, 'sanctioned_limit'],
      ['zero', { name: 'X', sanctioned_limit: 0 }, 'sanctioned_limit'],
      ['null sanctioned_limit', { name: 'X', sanctioned_limit: null }, 'sanctioned_limit'],
      ['"NaN" string', { name: 'X', sanctioned_limit: 'NaN' }, 'sanctioned_limit'],
      ['exponent-only tiny amount', { name: 'X', sanctioned_limit: 1e-7 }, 'sanctioned_limit'],
      ['above the maximum', { name: 'X', sanctioned_limit: 1e14 }, 'sanctioned_limit'],
      ['unknown field', { name: 'X', sanctioned_limit: 100, colour: 'red' }, 'colour'],
      ['bad PAN', { name: 'X', sanctioned_limit: 100, pan: 'ABCD1234F' }, 'pan'],
      ['bad GSTIN', { name: 'X', sanctioned_limit: 100, gstin: '27ABCDE1234F1X5' }, 'gstin'],
      ['lead_id not a uuid', { name: 'X', sanctioned_limit: 100, lead_id: 'lead-1' }, 'lead_id'],
      ['program_id not a uuid', { name: 'X', sanctioned_limit: 100, program_id: '123' }, 'program_id'],
    ];

    it.each(cases)('%s -> 400 naming the field', async (_label, body, field) => {
      const res = await post(tenant, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(Object.keys(res.body.errors)).toContain(field);
      expect(res.body.errors[field].length).toBeGreaterThan(0);
      expect(res.body.detail).toContain(field);
    });

    it('gives specific messages for money errors', async () => {
      const negative = await post(tenant, { name: 'X', sanctioned_limit: -5 });
      expect(negative.body.errors.sanctioned_limit).toEqual(['must not be negative']);
      const zero = await post(tenant, { name: 'X', sanctioned_limit: 0 });
      expect(zero.body.errors.sanctioned_limit).toEqual(['must be greater than zero']);
      const decimals = await post(tenant, { name: 'X', sanctioned_limit: 1.005 });
      expect(decimals.body.errors.sanctioned_limit).toEqual(['must be an amount in rupees with at most two decimals']);
      const unknown = await post(tenant, { name: 'X', sanctioned_limit: 1, colour: 'red' });
      expect(unknown.body.errors).toEqual({ colour: ['unknown field'] });
    });

    it('rejects a non-finite number (1e400 parses to Infinity) naming sanctioned_limit', async () => {
      const res = await ctx.http().post('/v1/lms/accounts/').set('Authorization', tenant.bearer())
        .set('Content-Type', 'application/json').send('{"name":"X","sanctioned_limit":1e400}');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(Object.keys(res.body.errors)).toEqual(['sanctioned_limit']);
    });

    it('writes nothing for rejected requests', async () => {
      expect(await ctx.db.prisma.account.count({ where: { companyId: tenant.companyId } })).toBe(0);
      expect(await ctx.db.prisma.auditEvent.count({ where: { companyId: tenant.companyId, entityType: 'account' } })).toBe(0);
    });
  });

  it('duplicate external_id in the same company -> 409 DUPLICATE; another company may reuse it', async () => {
    const tenant = await createTenant(ctx, 'acc-dup');
    const other = await createTenant(ctx, 'acc-dup-other');
    const externalId = `dup-${newId()}`;
    const first = await post(tenant, { name: 'First', sanctioned_limit: 10, external_id: externalId });
    expect(first.status).toBe(201);
    const second = await post(tenant, { name: 'Second', sanctioned_limit: 20, external_id: externalId });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'DUPLICATE', errors: { external_id: ['already exists'] } });
    expect(await ctx.db.prisma.account.count({ where: { companyId: tenant.companyId } })).toBe(1);
    const elsewhere = await post(other, { name: 'Elsewhere', sanctioned_limit: 20, external_id: externalId });
    expect(elsewhere.status).toBe(201);
  });

  it('viewer may not create (403)', async () => {
    const tenant = await createTenant(ctx, 'acc-viewer');
    const res = await post(tenant, { name: 'Nope', sanctioned_limit: 10 }, 'viewer');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    expect(await ctx.db.prisma.account.count({ where: { companyId: tenant.companyId } })).toBe(0);
  });
});

describe('GET /v1/lms/accounts/', () => {
  let tenant: Tenant;
  const created: string[] = []; // creation order
  const TOTAL = 23;

  beforeAll(async () => {
    tenant = await createTenant(ctx, 'acc-list');
    for (let i = 0; i < TOTAL; i += 1) {
      const res = await post(tenant, { name: `List ${i}`, sanctioned_limit: 100 + i, external_id: `list-${i}-${newId()}` });
      expect(res.status).toBe(201);
      created.push(res.body.id);
    }
  });

  it('defaults to page 1 of 15, newest first, counting only this company', async () => {
    const res = await get(tenant, '/v1/lms/accounts/');
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(TOTAL);
    expect(res.body.current_page).toBe(1);
    expect(res.body.page_size).toBe(15);
    expect(res.body.results).toHaveLength(15);
    expect(res.body.results.map((a: { id: string }) => a.id)).toEqual([...created].reverse().slice(0, 15));
    expect(res.body.results.every((a: { company: string }) => a.company === tenant.companyId)).toBe(true);
  });

  it('pages cover every row exactly once in a stable order', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 5; page += 1) {
      const res = await get(tenant, `/v1/lms/accounts/?page=${page}&page_size=5`);
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(TOTAL);
      expect(res.body.current_page).toBe(page);
      expect(res.body.page_size).toBe(5);
      seen.push(...res.body.results.map((a: { id: string }) => a.id));
    }
    expect(seen).toHaveLength(TOTAL);
    expect(new Set(seen).size).toBe(TOTAL);
    expect(seen).toEqual([...created].reverse());
  });

  it('page_size=100 is allowed', async () => {
    const res = await get(tenant, '/v1/lms/accounts/?page_size=100');
    expect(res.status).toBe(200);
    expect(res.body.page_size).toBe(100);
    expect(res.body.results).toHaveLength(TOTAL);
  });

  it('page_size=101 -> 400 naming page_size', async () => {
    const res = await get(tenant, '/v1/lms/accounts/?page_size=101');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors)).toEqual(['page_size']);
  });

  it.each(['page=0', 'page=-1', 'page=abc', 'page=1.5', 'page_size=0'])('%s -> 400', async (query) => {
    const res = await get(tenant, `/v1/lms/accounts/?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors)).toEqual([query.split('=')[0]]);
  });

  it('unknown query parameter -> 400 naming it', async () => {
    const res = await get(tenant, '/v1/lms/accounts/?colour=red');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual({ colour: ['unknown field'] });
  });

  it('a page beyond the end is 200 with no results and the right count', async () => {
    const res = await get(tenant, '/v1/lms/accounts/?page=100');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ count: TOTAL, current_page: 100, page_size: 15, results: [] });
  });

  it('filters by status', async () => {
    const frozenIds = [created[3]!, created[7]!];
    for (const id of frozenIds) expect((await patch(tenant, id, { status: 'frozen' })).status).toBe(200);
    const frozen = await get(tenant, '/v1/lms/accounts/?status=frozen');
    expect(frozen.status).toBe(200);
    expect(frozen.body.count).toBe(2);
    expect(frozen.body.results.map((a: { id: string }) => a.id).sort()).toEqual([...frozenIds].sort());
    const active = await get(tenant, '/v1/lms/accounts/?status=active&page_size=100');
    expect(active.body.count).toBe(TOTAL - 2);
    expect(active.body.results.every((a: { status: string }) => a.status === 'active')).toBe(true);
    const closed = await get(tenant, '/v1/lms/accounts/?status=closed');
    expect(closed.body).toMatchObject({ count: 0, results: [] });
    const bad = await get(tenant, '/v1/lms/accounts/?status=sleeping');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(['status']);
    for (const id of frozenIds) expect((await patch(tenant, id, { status: 'active' })).status).toBe(200);
  });

  it('filters by external_id', async () => {
    const target = await get(tenant, `/v1/lms/accounts/${created[5]}/`);
    const externalId = target.body.external_id as string;
    const res = await get(tenant, `/v1/lms/accounts/?external_id=${encodeURIComponent(externalId)}`);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(1);
    expect(res.body.results.map((a: { id: string }) => a.id)).toEqual([created[5]]);
    const none = await get(tenant, `/v1/lms/accounts/?external_id=missing-${newId()}`);
    expect(none.body).toMatchObject({ count: 0, results: [] });
  });

  it('another company sees none of these rows', async () => {
    const other = await createTenant(ctx, 'acc-list-other');
    const res = await get(other, '/v1/lms/accounts/?page_size=100');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ count: 0, current_page: 1, page_size: 100, results: [] });
  });
});

describe('GET and PATCH /v1/lms/accounts/{id}/', () => {
  it('gets one account as created', async () => {
    const tenant = await createTenant(ctx, 'acc-get');
    const created = await post(tenant, { name: 'Fetch Me', sanctioned_limit: 42.42 });
    const res = await ctx.http().get(`/v1/lms/accounts/${created.body.id}/`).set('Authorization', tenant.bearer('viewer'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
  });

  it("a foreign company's account id is 404 exactly like a random uuid", async () => {
    const tenant = await createTenant(ctx, 'acc-404');
    const foreign = await createTenant(ctx, 'acc-404-foreign');
    const theirs = await post(foreign, { name: 'Theirs', sanctioned_limit: 10 });
    expect(theirs.status).toBe(201);
    const foreignRes = await get(tenant, `/v1/lms/accounts/${theirs.body.id}/`);
    const randomRes = await get(tenant, `/v1/lms/accounts/${newId()}/`);
    expect(foreignRes.status).toBe(404);
    expect(randomRes.status).toBe(404);
    expect(foreignRes.body).toEqual({ code: 'NOT_FOUND', detail: 'Account not found.' });
    expect(foreignRes.body).toEqual(randomRes.body);

    const foreignPatch = await patch(tenant, theirs.body.id, { name: 'Hijacked', status: 'frozen' });
    const randomPatch = await patch(tenant, newId(), { name: 'Hijacked', status: 'frozen' });
    expect(foreignPatch.status).toBe(404);
    expect(foreignPatch.body).toEqual(randomPatch.body);
    expect(foreignPatch.body.code).toBe('NOT_FOUND');
    const row = await ctx.db.prisma.account.findUnique({ where: { id: theirs.body.id } });
    expect(row).toMatchObject({ name: 'Theirs', status: 'active' });
  });

  it('a malformed id is 400 naming id', async () => {
    const tenant = await createTenant(ctx, 'acc-badid');
    const res = await get(tenant, '/v1/lms/accounts/not-a-uuid/');
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors)).toEqual(['id']);
  });

  it('patches the name and moves status active -> frozen -> active, with audit rows', async () => {
    const tenant = await createTenant(ctx, 'acc-patch');
    const created = await post(tenant, { name: 'Old Name', sanctioned_limit: 1000 });
    const id = created.body.id as string;

    const renamed = await patch(tenant, id, { name: 'New Name' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: 'New Name', status: 'active', sanctioned_limit: 1000, available_limit: 1000 });
    expect(renamed.body.updated_at).toBeGreaterThanOrEqual(created.body.updated_at);
    expect(renamed.body.created_at).toBe(created.body.created_at);

    const frozen = await patch(tenant, id, { status: 'frozen' });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ name: 'New Name', status: 'frozen' });
    expect((await ctx.db.prisma.account.findUnique({ where: { id } }))!.status).toBe('frozen');

    const active = await patch(tenant, id, { status: 'active' });
    expect(active.status).toBe(200);
    expect(active.body.status).toBe('active');
    const row = await ctx.db.prisma.account.findUnique({ where: { id } });
    expect(row).toMatchObject({ name: 'New Name', status: 'active', sanctionedLimitPaise: 100000n });

    const actions = (await ctx.db.prisma.auditEvent.findMany({
      where: { companyId: tenant.companyId, entityType: 'account', entityId: id }, orderBy: { id: 'asc' },
    })).map((e) => e.action);
    expect(actions).toEqual(['created', 'updated', 'status_frozen', 'status_active']);
  });

  it('PATCH status "closed" -> 400 naming status, and the account is unchanged', async () => {
    const tenant = await createTenant(ctx, 'acc-close');
    const created = await post(tenant, { name: 'Stay Open', sanctioned_limit: 1000 });
    const res = await patch(tenant, created.body.id, { status: 'closed' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors)).toEqual(['status']);
    expect((await ctx.db.prisma.account.findUnique({ where: { id: created.body.id } }))!.status).toBe('active');
  });

  it('PATCH rejects sanctioned_limit and unknown fields (not patchable)', async () => {
    const tenant = await createTenant(ctx, 'acc-patch-limit');
    const created = await post(tenant, { name: 'Fixed', sanctioned_limit: 1000 });
    const res = await patch(tenant, created.body.id, { sanctioned_limit: 5 });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual({ sanctioned_limit: ['unknown field'] });
    expect((await ctx.db.prisma.account.findUnique({ where: { id: created.body.id } }))!.sanctionedLimitPaise).toBe(100000n);
  });

  it("PATCH external_id to another account's value -> 409 DUPLICATE", async () => {
    const tenant = await createTenant(ctx, 'acc-patch-dup');
    const taken = `taken-${newId()}`;
    await post(tenant, { name: 'A', sanctioned_limit: 1, external_id: taken });
    const b = await post(tenant, { name: 'B', sanctioned_limit: 1 });
    const res = await patch(tenant, b.body.id, { external_id: taken });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('DUPLICATE');
    expect((await ctx.db.prisma.account.findUnique({ where: { id: b.body.id } }))!.externalId).toBeNull();
  });
});
