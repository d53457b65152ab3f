// End of day through the API: Run EOD, the run object, accrual rows, and what loans and demands
// show after it. The app here works the queue itself (EOD_WORKERS=2), as the server does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { EOD_WORKERS: '2', EOD_QUEUE_POLL_MS: '500', EOD_PARTITION_LOANS: '2' } });
  tenant = await createTenant(ctx, 'eod');
  bankId = (await ctx.app.services.collectionBanks.create({ companyId: tenant.companyId, actor: 'test' }, {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
const by = () => ({ companyId: tenant.companyId, actor: 'test' });
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const post = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().post(url).set('Authorization', t.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().put(url).set('Authorization', t.bearer(role)).send(body);
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);

async function emiLoan(date = '2024-01-01') {
  const account = await accountWithParams(ctx, tenant.companyId);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, date);
  return { account, loan };
}

async function runEod(date: string, t = tenant) {
  const res = await post('/v1/lms/emis/run_eod/', { date }, 'maker', t);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  let run = res.body;
  for (let i = 0; i < 600 && (run.status === 'queued' || run.status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    run = (await get(`/v1/lms/eod_runs/${run.id}/`, t)).body;
  }
  return run;
}

describe('Run EOD', () => {
  it('ages an unpaid EMI: overdue, DPD, asset class, OI and PI accrue; the run reports progress', async () => {
    const { loan } = await emiLoan();
    const run = await runEod('2024-02-10');
    expect(run).toMatchObject({ status: 'completed', failures: [] });
    expect(run.loans_done).toBe(run.loans_total);
    expect(run.steps.map((s: { name: string }) => s.name)).toEqual(['load', 'close_days', 'accruals', 'demands', 'loans']);
    const l = (await get(`/v1/lms/loans/${loan.id}/`)).body;
    expect(l).toMatchObject({ status: 'overdue', dpd: 10, peak_dpd: 10, asset_class: 'sma_0' });
    const emis = (await get(`/v1/lms/emis/?loan=${loan.id}&page_size=100`)).body.results;
    console.log(JSON.stringify(emis.slice(-2), null, 1));
    const acc = (await get(`/v1/lms/accruals/?loan=${loan.id}&page_size=100`)).body;
    console.log(acc.count, JSON.stringify(acc.results.slice(0, 4)));
  });
});
