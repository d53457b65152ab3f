import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import type { Role } from '../../src/modules/auth/roles.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await buildTestApp(); });
afterAll(async () => { await ctx.close(); });

/** Crego's collection_bank object, key for key. */
const CREGO_KEYS = [
  'id', 'created_at', 'updated_at', 'account_no', 'tags', 'account_holder_name', 'ifsc', 'account_type', 'is_verified',
  'name_at_bank', 'company',
];

const URL = '/v1/lms/collection_banks/';

function post(tenant: Tenant, body: unknown, role: Role = 'admin') {
  return ctx.http().post(URL).set('Authorization', tenant.bearer(role)).send(body as object);
}
function get(tenant: Tenant, url: string, role: Role = 'admin') {
  return ctx.http().get(url).set('Authorization', tenant.bearer(role));
}
function patch(tenant: Tenant, id: string, body: unknown) {
  return ctx.http().patch(`${URL}${id}/`).set('Authorization', tenant.bearer()).send(body as object);
}

const valid = (overrides: Record<string, unknown> = {}) => ({
  account_no: '123456789012', account_holder_name: 'Acme Lending Pvt Ltd', ifsc: 'HDFC0001234', ...overrides,
});

describe('POST /v1/lms/collection_banks/', () => {
  it("creates a bank with exactly Crego's collection_bank keys and defaults", async () => {
    const tenant = await createTenant(ctx, 'cb-create');
    const res = await post(tenant, valid());
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(CREGO_KEYS);
    expect(res.body).toMatchObject({
      account_no: '123456789012', account_holder_name: 'Acme Lending Pvt Ltd', ifsc: 'HDFC0001234', account_type: 'current',
      is_verified: false, name_at_bank: null, tags: [], company: tenant.companyId,
    });
    expect(typeof res.body.created_at).toBe('number');
    expect(typeof res.body.updated_at).toBe('number');
    const row = await ctx.db.prisma.collectionBank.findUnique({ where: { id: res.body.id } });
    expect(row).toMatchObject({
      companyId: tenant.companyId, accountNo: '123456789012', ifsc: 'HDFC0001234', accountType: 'current', isVerified: false, tags: [],
    });
    const audit = await ctx.db.prisma.auditEvent.findMany({ where: { companyId: tenant.companyId, entityType: 'collection_bank', entityId: res.body.id } });
    expect(audit.map((e) => e.action)).toEqual(['created']);
  });

  it('stores the optional fields and upper-cases a lowercase IFSC', async () => {
    const tenant = await createTenant(ctx, 'cb-optional');
    const res = await post(tenant, valid({
      ifsc: ' icic0abc123 ', account_type: 'escrow', is_verified: true, name_at_bank: 'ACME LENDING', tags: ['primary', 'nach'],
    }), 'maker');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ifsc: 'ICIC0ABC123', account_type: 'escrow', is_verified: true, name_at_bank: 'ACME LENDING', tags: ['primary', 'nach'] });
    const row = await ctx.db.prisma.collectionBank.findUnique({ where: { id: res.body.id } });
    expect(row).toMatchObject({ ifsc: 'ICIC0ABC123', accountType: 'escrow', isVerified: true, nameAtBank: 'ACME LENDING', tags: ['primary', 'nach'] });
  });

  describe('validation', () => {
    let tenant: Tenant;
    beforeAll(async () => { tenant = await createTenant(ctx, 'cb-validate'); });

    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['IFSC too short', valid({ ifsc: 'HDFC000123' }), 'ifsc'],
      ['IFSC fifth char not 0', valid({ ifsc: 'HDFC1001234' }), 'ifsc'],
      ['IFSC digits in bank code', valid({ ifsc: 'HD1C0001234' }), 'ifsc'],
      ['IFSC too long', valid({ ifsc: 'HDFC00012345' }), 'ifsc'],
      ['IFSC with a symbol', valid({ ifsc: 'HDFC0-01234' }), 'ifsc'],
      ['account_no with letters', valid({ account_no: '12345A7890' }), 'account_no'],
      ['account_no 5 digits', valid({ account_no: '12345' }), 'account_no'],
      ['account_no 21 digits', valid({ account_no: '1'.repeat(21) }), 'account_no'],
      ['account_no as a number', valid({ account_no: 1234567890 }), 'account_no'],
      ['account_no with spaces inside', valid({ account_no: '1234 567890' }), 'account_no'],
      ['missing account_holder_name', { account_no: '123456789', ifsc: 'HDFC0001234' }, 'account_holder_name'],
      ['unknown account_type', valid({ account_type: 'fixed_deposit' }), 'account_type'],
      ['unknown field', valid({ branch: 'Fort' }), 'branch'],
    ];

    it.each(cases)('%s -> 400 naming the field', async (_label, body, field) => {
      const res = await post(tenant, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
      expect(Object.keys(res.body.errors)).toEqual([field]);
    });

    it('accepts account numbers of exactly 6 and 20 digits', async () => {
      expect((await post(tenant, valid({ account_no: '123456' }))).status).toBe(201);
      expect((await post(tenant, valid({ account_no: '9'.repeat(20) }))).status).toBe(201);
      expect(await ctx.db.prisma.collectionBank.count({ where: { companyId: tenant.companyId } })).toBe(2);
    });
  });

  it('duplicate IFSC + account_no in one company -> 409; same number at another IFSC or company is fine', async () => {
    const tenant = await createTenant(ctx, 'cb-dup');
    const other = await createTenant(ctx, 'cb-dup-other');
    expect((await post(tenant, valid())).status).toBe(201);
    const dup = await post(tenant, valid({ ifsc: 'hdfc0001234', account_holder_name: 'Someone Else' }));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'DUPLICATE', errors: { account_no: ['already exists for this IFSC'] } });
    expect(await ctx.db.prisma.collectionBank.count({ where: { companyId: tenant.companyId } })).toBe(1);
    expect((await post(tenant, valid({ ifsc: 'SBIN0000001' }))).status).toBe(201);
    expect((await post(other, valid())).status).toBe(201);
  });

  it('viewer may not create (403)', async () => {
    const tenant = await createTenant(ctx, 'cb-viewer');
    const res = await post(tenant, valid(), 'viewer');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    expect(await ctx.db.prisma.collectionBank.count({ where: { companyId: tenant.companyId } })).toBe(0);
  });
});

describe('GET /v1/lms/collection_banks/', () => {
  let tenant: Tenant;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    tenant = await createTenant(ctx, 'cb-list');
    const rows: Array<[string, Record<string, unknown>]> = [
      ['a', valid({ ifsc: 'HDFC0001234', account_no: '1000001' })],
      ['b', valid({ ifsc: 'HDFC0001234', account_no: '1000002', is_verified: true })],
      ['c', valid({ ifsc: 'SBIN0000001', account_no: '1000001', is_verified: true })],
    ];
    for (const [key, body] of rows) {
      const res = await post(tenant, body);
      expect(res.status).toBe(201);
      ids[key] = res.body.id;
    }
    // Noise in another company must never show up.
    const other = await createTenant(ctx, 'cb-list-other');
    expect((await post(other, valid({ ifsc: 'HDFC0001234', account_no: '1000001' }))).status).toBe(201);
  });

  const idsOf = (body: { results: Array<{ id: string }> }) => body.results.map((r) => r.id);

  it('lists this company only, newest first', async () => {
    const res = await get(tenant, URL, 'viewer');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 3, current_page: 1, page_size: 15 });
    expect(idsOf(res.body)).toEqual([ids.c, ids.b, ids.a]);
    for (const item of res.body.results) expect(Object.keys(item).sort()).toEqual([...CREGO_KEYS].sort());
  });

  it('filters by ifsc (case-insensitive input), account_no and is_verified', async () => {
    const byIfsc = await get(tenant, `${URL}?ifsc=hdfc0001234`);
    expect(byIfsc.status).toBe(200);
    expect(byIfsc.body.count).toBe(2);
    expect(idsOf(byIfsc.body)).toEqual([ids.b, ids.a]);

    const byNumber = await get(tenant, `${URL}?account_no=1000001`);
    expect(byNumber.body.count).toBe(2);
    expect(idsOf(byNumber.body)).toEqual([ids.c, ids.a]);

    const both = await get(tenant, `${URL}?ifsc=SBIN0000001&account_no=1000001`);
    expect(idsOf(both.body)).toEqual([ids.c]);

    const verified = await get(tenant, `${URL}?is_verified=true`);
    expect(idsOf(verified.body)).toEqual([ids.c, ids.b]);
    const unverified = await get(tenant, `${URL}?is_verified=false`);
    expect(idsOf(unverified.body)).toEqual([ids.a]);
  });

  it('bad filters and pages -> 400 naming the parameter', async () => {
    for (const [query, field] of [['ifsc=XX', 'ifsc'], ['is_verified=yes', 'is_verified'], ['page_size=101', 'page_size'], ['page=0', 'page']]) {
      const res = await get(tenant, `${URL}?${query}`);
      expect(res.status, query).toBe(400);
      expect(Object.keys(res.body.errors), query).toEqual([field]);
    }
  });

  it('paginates', async () => {
    const first = await get(tenant, `${URL}?page_size=2`);
    const second = await get(tenant, `${URL}?page_size=2&page=2`);
    const beyond = await get(tenant, `${URL}?page_size=2&page=3`);
    expect(idsOf(first.body)).toEqual([ids.c, ids.b]);
    expect(idsOf(second.body)).toEqual([ids.a]);
    expect(beyond.status).toBe(200);
    expect(beyond.body).toEqual({ count: 3, current_page: 3, page_size: 2, results: [] });
  });
});

describe('GET and PATCH /v1/lms/collection_banks/{id}/', () => {
  it('gets one bank as created', async () => {
    const tenant = await createTenant(ctx, 'cb-get');
    const created = await post(tenant, valid({ tags: ['x'] }));
    const res = await get(tenant, `${URL}${created.body.id}/`, 'viewer');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
  });

  it('patches fields, normalises IFSC, and writes an audit row', async () => {
    const tenant = await createTenant(ctx, 'cb-patch');
    const created = await post(tenant, valid());
    const id = created.body.id as string;
    const res = await patch(tenant, id, { is_verified: true, name_at_bank: 'ACME', tags: ['a', 'b'], ifsc: 'utib0000999', account_type: 'savings' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id, is_verified: true, name_at_bank: 'ACME', tags: ['a', 'b'], ifsc: 'UTIB0000999', account_type: 'savings',
      account_no: '123456789012', account_holder_name: 'Acme Lending Pvt Ltd', created_at: created.body.created_at,
    });
    const row = await ctx.db.prisma.collectionBank.findUnique({ where: { id } });
    expect(row).toMatchObject({ isVerified: true, nameAtBank: 'ACME', tags: ['a', 'b'], ifsc: 'UTIB0000999', accountType: 'savings' });

    const cleared = await patch(tenant, id, { name_at_bank: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.name_at_bank).toBeNull();

    const actions = (await ctx.db.prisma.auditEvent.findMany({
      where: { companyId: tenant.companyId, entityType: 'collection_bank', entityId: id }, orderBy: { id: 'asc' },
    })).map((e) => e.action);
    expect(actions).toEqual(['created', 'updated', 'updated']);
  });

  it('patch validation -> 400 naming the field', async () => {
    const tenant = await createTenant(ctx, 'cb-patch-bad');
    const created = await post(tenant, valid());
    for (const [body, field] of [[{ ifsc: 'BAD' }, 'ifsc'], [{ account_no: 'abc' }, 'account_no'], [{ company: 'x' }, 'company']] as const) {
      const res = await patch(tenant, created.body.id, body);
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors)).toEqual([field]);
    }
    const row = await ctx.db.prisma.collectionBank.findUnique({ where: { id: created.body.id } });
    expect(row).toMatchObject({ ifsc: 'HDFC0001234', accountNo: '123456789012' });
  });

  it("patching onto another bank's IFSC + account_no -> 409", async () => {
    const tenant = await createTenant(ctx, 'cb-patch-dup');
    await post(tenant, valid({ account_no: '5550001' }));
    const b = await post(tenant, valid({ account_no: '5550002' }));
    const res = await patch(tenant, b.body.id, { account_no: '5550001' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('DUPLICATE');
    expect((await ctx.db.prisma.collectionBank.findUnique({ where: { id: b.body.id } }))!.accountNo).toBe('5550002');
    // Re-sending its own number is not a clash.
    const same = await patch(tenant, b.body.id, { account_no: '5550002', ifsc: 'HDFC0001234' });
    expect(same.status).toBe(200);
  });

  it("a foreign company's bank id is 404 exactly like a random uuid, for GET and PATCH", async () => {
    const tenant = await createTenant(ctx, 'cb-404');
    const foreign = await createTenant(ctx, 'cb-404-foreign');
    const theirs = await post(foreign, valid());
    const foreignGet = await get(tenant, `${URL}${theirs.body.id}/`);
    const randomGet = await get(tenant, `${URL}${newId()}/`);
    expect(foreignGet.status).toBe(404);
    expect(foreignGet.body).toEqual({ code: 'NOT_FOUND', detail: 'Collection bank not found.' });
    expect(foreignGet.body).toEqual(randomGet.body);

    const foreignPatch = await patch(tenant, theirs.body.id, { is_verified: true });
    const randomPatch = await patch(tenant, newId(), { is_verified: true });
    expect(foreignPatch.status).toBe(404);
    expect(foreignPatch.body).toEqual(randomPatch.body);
    expect((await ctx.db.prisma.collectionBank.findUnique({ where: { id: theirs.body.id } }))!.isVerified).toBe(false);
  });
});
