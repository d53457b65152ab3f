// Bulk Create Records (all or nothing, every bad row named) and Export record (a streamed CSV).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'records-bulk');
  bankId = (await ctx.app.services.collectionBanks.create({ companyId: tenant.companyId, actor: 'test' }, {
    account_no: '1576001500004547', account_holder_name: 'Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
});
afterAll(async () => { await ctx.close(); });

const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const bulk = (records: object[], key?: string) => {
  const req = ctx.http().post('/v1/lms/records/bulk_create/').set('Authorization', tenant.bearer('maker'));
  return (key ? req.set('Idempotency-Key', key) : req).send({ records });
};
const exportCsv = (body: object, role: 'viewer' | 'maker' = 'maker') => ctx.http().put('/v1/lms/records/export/').set('Authorization', tenant.bearer(role)).send(body);

describe('Bulk Create Records', () => {
  it('creates every row in order, or nothing, naming every bad row', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const withExternal = await ctx.app.services.accounts.create(by(), { name: 'VA holder', sanctioned_limit: 100n, external_id: `VA-${newId()}` });
    const taken = await ctx.app.services.records.create(by(), { account: account.id, received_amount: 100n, utr: `TAKEN${Date.now()}` });
    const bad = await bulk([
      { account: account.id, amount: 10 },
      { account: newId(), amount: 10 },
      { account: account.id, amount: 10, utr: taken.utr },
      { account: account.id, amount: 10, utr: 'DUPINBATCH' },
      { account: account.id, amount: 10, utr: 'DUPINBATCH', collection_bank_id: newId(), loans: [newId()] },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual({
      'records.1.account': ['not found'],
      'records.2.utr': [`already used by record ${taken.refId}`],
      'records.4.utr': ['same as records.3.utr'],
      'records.4.collection_bank_id': ['not found'],
      'records.4.loans.0': ["not found on the record's account"],
    });
    expect(await ctx.db.prisma.record.count({ where: { accountId: account.id } })).toBe(1);
    const invalid = await bulk([{ account: account.id }, { account: account.id, amount: 1.001 }]);
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.body.errors)).toEqual(expect.arrayContaining(['records.0.amount', 'records.1.amount']));

    const key = `bulk-rec-${newId()}`;
    const ok = await bulk([
      { account: account.id, amount: 10, utr: `B1${Date.now()}` },
      { account_external_id: withExternal.externalId, amount: 20, tds_amount: 2 },
      { account_external_id: 'NOBODY', amount: 30 },
    ], key);
    expect(ok.status).toBe(201);
    expect(ok.body.count).toBe(3);
    expect(ok.body.results.map((r: { status: string; account: string | null }) => [r.status, r.account])).toEqual([
      ['pending', account.id], ['pending', withExternal.id], ['unmatched', null],
    ]);
    const refs = ok.body.results.map((r: { ref_id: string }) => Number(r.ref_id.slice(3)));
    expect(refs[1] - refs[0]).toBe(1);
    expect(refs[2] - refs[1]).toBe(1);
    expect(ok.body.results[1]).toMatchObject({ amount: 20, tds_amount: 2, received_amount: 18 });
    const replay = await bulk([
      { account: account.id, amount: 10, utr: 'ignored' },
    ], key);
    expect(replay.status).toBe(422);
    expect((await bulk([])).status).toBe(400);
    expect((await ctx.http().post('/v1/lms/records/bulk_create/').set('Authorization', tenant.bearer('viewer')).send({ records: [] })).status).toBe(403);
  });

  it('takes 1,000 rows in one request, and refuses 1,001', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const rows = Array.from({ length: 1000 }, (_, i) => ({ account: account.id, amount: 1 + i, utr: `MASS${i}X${account.id.slice(0, 8)}` }));
    const res = await bulk(rows);
    expect(res.status).toBe(201);
    expect(res.body.count).toBe(1000);
    expect(await ctx.db.prisma.record.count({ where: { accountId: account.id } })).toBe(1000);
    const over = await bulk([...rows, rows[0]!]);
    expect(over.status).toBe(400);
    expect(over.body.errors).toHaveProperty('records');
  });
});

describe('Export record', () => {
  it('streams the filtered records with one line per settlement', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
    await ctx.app.services.loans.activate(by(), loan.id, '2024-01-01');
    const paid = await ctx.app.services.records.create(by(), { account: account.id, received_amount: 8884_88n });
    await ctx.app.services.records.markProcessed(by(), paid.id, { utr: `EXP${Date.now()}`, settled_at: new Date('2024-02-05T06:30:00Z'), collection_bank_id: bankId });
    const pending = await ctx.app.services.records.create(by(), { account: account.id, received_amount: 5_00n });
    const res = await exportCsv({ account: account.id });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('record_id,ref_id,type,status,account,account_external_id,amount,received_amount,tds_amount,remaining_amount,utr,payment_mode,record_date,settled_at,value_date,collection_bank_account_no,back_date_found,settlement_id,loan,demand,component,source,settlement_amount,settlement_date,reverses');
    expect(lines).toHaveLength(4); // two settlement lines for the processed record, one for the pending
    expect(lines[1]).toContain(`${paid.id},${paid.refId},repayment,processed,${account.id},,8884.88,8884.88,0.00,0.00,`);
    expect(lines[1]).toContain(',2024-02-05,1576001500004547,false,');
    expect(lines[1]).toContain(`,${loan.id},`);
    expect(lines.slice(1, 3).map((l) => l.split(',').slice(20, 24).join(','))).toEqual(['NI,cash,1000.00,2024-02-05', 'P,cash,7884.88,2024-02-05']);
    expect(lines[3]).toMatch(new RegExp(`^${pending.id},.*,pending,.*,,,,,,,,$`));
    expect((await exportCsv({ account: account.id, status: 'pending' })).text.trim().split('\n')).toHaveLength(2);
    expect((await exportCsv({ loan: loan.id })).text.trim().split('\n')).toHaveLength(3);
    expect((await exportCsv({ status: 'nope' })).status).toBe(400);
    expect((await exportCsv({}, 'viewer')).status).toBe(403);
    const other = await createTenant(ctx, 'records-export-other');
    const foreign = await ctx.http().put('/v1/lms/records/export/').set('Authorization', other.bearer('maker')).send({ account: account.id });
    expect(foreign.text.trim().split('\n')).toHaveLength(1);
  });

  it('pages through more records than one read without holding them all', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const rows = Array.from({ length: 1200 }, (_, i) => ({ account: account.id, received_amount: BigInt(100 + i) }));
    await ctx.app.services.recordBulk.createMany(by(), rows.slice(0, 1000));
    await ctx.app.services.recordBulk.createMany(by(), rows.slice(1000));
    const res = await exportCsv({ account: account.id });
    const lines = res.text.trim().split('\n').slice(1);
    expect(lines).toHaveLength(1200);
    expect(new Set(lines.map((l) => l.split(',')[0])).size).toBe(1200);
  });
});
