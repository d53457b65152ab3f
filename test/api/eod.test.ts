// End of day through the API: Run EOD, the run object, accrual rows, and what loans, demands and
// records show after it. The app here works the queue itself (EOD_WORKERS=2), as the server does.
//
// The loans: Rs 1,00,000 at 12% for 12 monthly EMIs on 30/360 (EMI 8,884.88), disbursed 1 Jan
// 2024, due on the 1st of each month from 1 Feb 2024. EMI 1 is NI 1,000.00 + P 7,884.88.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams, EMI_PARAMS } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
const banks = new Map<string, string>();
beforeAll(async () => {
  // Small partitions and chunks of days, so that every test here also goes through several of each.
  ctx = await buildTestApp({ env: { EOD_WORKERS: '2', EOD_QUEUE_POLL_MS: '500', EOD_PARTITION_LOANS: '2', EOD_CHUNK_LOAN_DAYS: '100' } });
  tenant = await createTenant(ctx, 'eod');
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
type Row = Record<string, unknown> & { amount: number; date: number; component: string; demand: string; in_suspense: boolean; tax_amount: number };
const by = (t = tenant) => ({ companyId: t.companyId, actor: 'test' });
const get = (url: string, t = tenant) => ctx.http().get(url).set('Authorization', t.bearer('viewer'));
const post = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().post(url).set('Authorization', t.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'maker', t = tenant) => ctx.http().put(url).set('Authorization', t.bearer(role)).send(body);
/** Noon IST of a day, as Crego's integer settled_at. */
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);
/** The wire's business date of a day (23:59:59.999999 IST). */
const wireDate = (date: string) => Date.parse(`${date}T18:29:59.999Z`) / 1000 + 0.000999;
const paise = (rupees: number) => Math.round(rupees * 100);
const sumPaise = (rows: { amount: number }[]) => rows.reduce((s, r) => s + paise(r.amount), 0);

const PENAL = { penal_roi_value: [{ days: -1, value: 24 }], penal_lag_days_after_due: 3, penal_tax: 18 };

async function emiLoan(t = tenant, params: Record<string, unknown> = { ...EMI_PARAMS, ...PENAL }, date = '2024-01-01') {
  const account = await accountWithParams(ctx, t.companyId, params);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(t), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(t), loan.id, date);
  return { account, loan };
}

async function bankOf(t: Tenant): Promise<string> {
  if (!banks.has(t.companyId)) {
    banks.set(t.companyId, (await ctx.app.services.collectionBanks.create(by(t), {
      account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
    })).id);
  }
  return banks.get(t.companyId)!;
}

async function repay(accountId: string, amount: number, date: string, t = tenant, extra: object = {}) {
  const created = await post('/v1/lms/records/', { account: accountId, amount, ...extra }, 'maker', t);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const res = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, {
    utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn(date), collection_bank_id: await bankOf(t),
  }, 'maker', t);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function runEod(date: string, t = tenant) {
  const res = await post('/v1/lms/emis/run_eod/', { date }, 'maker', t);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  let run = res.body;
  for (let i = 0; i < 1200 && (run.status === 'queued' || run.status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    run = (await get(`/v1/lms/eod_runs/${run.id}/`, t)).body;
  }
  expect(run.status, JSON.stringify(run)).toBe('completed');
  return run;
}

async function accrualsOf(loanId: string, t = tenant, query = ''): Promise<Row[]> {
  const rows: Row[] = [];
  for (let page = 1; ; page++) {
    const res = await get(`/v1/lms/accruals/?loan=${loanId}&page_size=100&page=${page}${query}`, t);
    expect(res.status).toBe(200);
    rows.push(...res.body.results);
    if (rows.length >= res.body.count) return rows;
  }
}

const demandsOf = async (loanId: string, t = tenant) => (await get(`/v1/lms/emis/?loan=${loanId}&page_size=100`, t)).body.results
  .sort((a: { due_date: number }, b: { due_date: number }) => a.due_date - b.due_date);
const loanOf = async (loanId: string, t = tenant) => (await get(`/v1/lms/loans/${loanId}/`, t)).body;
/** Everything owed on demands due by a day, in rupees (as the API shows it). */
const arrearsBy = async (loanId: string, date: string, t = tenant) => (await demandsOf(loanId, t))
  .filter((d: { due_date: number }) => d.due_date <= wireDate(date)).reduce((s: number, d: { outstanding_amount: number }) => s + paise(d.outstanding_amount), 0) / 100;

describe('Run EOD', () => {
  it('ages an unpaid EMI: overdue from its due date, DPD, SMA-0, OI and PI with GST accrue, NI day by day', async () => {
    const { loan } = await emiLoan();
    const run = await runEod('2024-02-10');
    expect(run).toMatchObject({ status: 'completed', failures: [], date: wireDate('2024-02-10') });
    expect(run.loans_total).toBeGreaterThanOrEqual(1);
    expect(run.loans_done).toBe(run.loans_total);
    expect(run.partitions_done).toBe(run.partitions_total);
    expect(run.steps.map((s: { name: string }) => s.name)).toEqual(['load', 'close_days', 'held_excess', 'accruals', 'demands', 'loans']);

    // Due 1 Feb, unpaid: DPD on 10 Feb = 10 - 1 + 1 = 10 (SMA-0).
    expect(await loanOf(loan.id)).toMatchObject({ status: 'overdue', dpd: 10, peak_dpd: 10, asset_class: 'sma_0', last_eod_date: wireDate('2024-02-10') });
    const [emi1, emi2, emi3] = await demandsOf(loan.id);
    expect(emi1).toMatchObject({ status: 'overdue', dpd: 10 });
    expect(emi2).toMatchObject({ status: 'upcoming', dpd: 0 });
    // OI: 7,884.88 x 12% / 360 = 2.628293 a day for days 1-9 past due (2-10 Feb): 23.6546 -> 23.65.
    expect(emi1.components.OI.due).toBe(23.65);
    // PI: 8,884.88 (P + NI) x 24% / 360 = 5.923253 a day, charged after 3 grace days: days 4-9 = 35.5395 -> 35.54;
    // GST 18% of 35.54 = 6.3972 -> 6.40; PI due 41.94.
    expect(emi1.components.PI.due).toBe(41.94);
    const rows = await accrualsOf(loan.id);
    const pi = rows.filter((r) => r.component === 'PI');
    expect(pi.map((r) => r.date).sort()).toEqual(['2024-02-05', '2024-02-06', '2024-02-07', '2024-02-08', '2024-02-09', '2024-02-10'].map(wireDate));
    expect(sumPaise(pi)).toBe(3554);
    expect(pi.reduce((s, r) => s + paise(r.tax_amount), 0)).toBe(640);
    expect(sumPaise(rows.filter((r) => r.component === 'OI'))).toBe(2365);
    // NI: EMI 1's 31 days (1-31 Jan) sum to its 1,000.00; EMI 2 (921.15 over 29 days) has 1-10 Feb: 921.15 x 10/29 = 317.64.
    const ni1 = rows.filter((r) => r.component === 'NI' && r.demand === emi1.id);
    expect(ni1).toHaveLength(31);
    expect(sumPaise(ni1)).toBe(1000_00);
    const ni2 = rows.filter((r) => r.component === 'NI' && r.demand === emi2.id);
    expect(ni2).toHaveLength(10);
    expect(sumPaise(ni2)).toBe(317_64);
    expect(rows.some((r) => r.demand === emi3.id)).toBe(false);
    expect(rows.every((r) => r.in_suspense === false && r.eod_run === run.id)).toBe(true);

    // Running the date again changes nothing and completes at once.
    const again = await runEod('2024-02-10');
    expect(again).toMatchObject({ loans_total: 0, loans_done: 0, partitions_total: 0 });
    expect(await accrualsOf(loan.id)).toHaveLength(rows.length);
    expect((await demandsOf(loan.id))[0].components.PI.due).toBe(41.94);

    // Filters: component and date range.
    const oi = await accrualsOf(loan.id, tenant, `&component=OI&date_from=2024-02-03&date_to=2024-02-04`);
    // Running total 262.83, 525.66, 788.49 paise: rows 263 (2 Feb), 263 (3 Feb), 262 (4 Feb); newest first.
    expect(oi.map((r) => paise(r.amount))).toEqual([262, 263]);
  });

  it('catching up several days in one run equals running them one at a time', async () => {
    const other = await createTenant(ctx, 'eod-daily');
    const { loan: once } = await emiLoan();
    const { loan: daily } = await emiLoan(other);
    // Tenant: one run from disbursement to 20 Feb (the first test's run also covered its loans); other: several runs.
    await runEod('2024-02-20');
    for (const date of ['2024-01-15', '2024-02-01', '2024-02-02', '2024-02-05', '2024-02-20']) await runEod(date, other);
    const shape = (rows: Row[], ids: string[]) => rows.map((r) => `${r.date} ${r.component} ${ids.indexOf(r.demand)} ${r.amount} ${r.tax_amount} ${r.in_suspense}`).sort();
    const idsOnce = (await demandsOf(once.id)).map((d: { id: string }) => d.id);
    const idsDaily = (await demandsOf(daily.id, other)).map((d: { id: string }) => d.id);
    expect(shape(await accrualsOf(daily.id, other), idsDaily)).toEqual(shape(await accrualsOf(once.id), idsOnce));
    const strip = (d: Record<string, unknown>) => ({ status: d.status, dpd: d.dpd, components: d.components });
    expect((await demandsOf(daily.id, other)).map(strip)).toEqual((await demandsOf(once.id)).map(strip));
    const view = (l: Record<string, unknown>) => ({ status: l.status, dpd: l.dpd, peak_dpd: l.peak_dpd, asset_class: l.asset_class, last_eod_date: l.last_eod_date });
    expect(view(await loanOf(daily.id, other))).toEqual(view(await loanOf(once.id)));
  });

  it('a catch-up closes each past day on that day\'s balances, not on money that came later', async () => {
    const t = await createTenant(ctx, 'eod-asof');
    const { account, loan } = await emiLoan(t);
    // EMI 1 (due 1 Feb) paid in full on 15 Feb, before any EOD: the allocation found no OI or PI.
    await repay(account.id, 8884.88, '2024-02-15', t);
    await runEod('2024-02-20', t);
    const [emi1] = await demandsOf(loan.id, t);
    // Unpaid 2-14 Feb: OI 13 days x 2.628293 = 34.1678 -> 34.17; PI on days 4-13 past due (5-14 Feb):
    // 10 x 5.923253 = 59.2325 -> 59.23, GST 10.6614 -> 10.66, PI due 69.89. Nothing accrues after 15 Feb
    // (P and NI paid), but OI and PI stay owed, so EMI 1 is still overdue: DPD 20 on 20 Feb.
    expect(emi1.components.OI.due).toBe(34.17);
    expect(emi1.components.PI.due).toBe(69.89);
    expect(emi1.components.P.outstanding).toBe(0);
    expect(emi1).toMatchObject({ status: 'overdue', dpd: 20 });
    expect(await loanOf(loan.id, t)).toMatchObject({ dpd: 20, peak_dpd: 20, asset_class: 'sma_0' });
    const late = (await accrualsOf(loan.id, t)).filter((r) => r.demand === emi1.id && r.component !== 'NI' && r.date > wireDate('2024-02-14'));
    expect(late).toEqual([]);
  });

  it('applies excess held on the account when a demand falls due: paid from excess, never overdue', async () => {
    const t = await createTenant(ctx, 'eod-excess');
    const { account, loan } = await emiLoan(t);
    // Paid ahead on 20 Jan: nothing is due yet, so the whole EMI is held as excess (EMI loans hold).
    const record = await repay(account.id, 8884.88, '2024-01-20', t);
    expect(record.remaining_amount).toBe(8884.88);
    await runEod('2024-02-05', t);
    const [emi1] = await demandsOf(loan.id, t);
    expect(emi1).toMatchObject({ status: 'paid', dpd: 0, outstanding_amount: 0 });
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'active', dpd: 0, asset_class: 'standard' });
    const after = (await get(`/v1/lms/records/${record.id}/`, t)).body;
    expect(after.remaining_amount).toBe(0);
    const lines = (await get(`/v1/lms/settlements/?record=${record.id}&page_size=100`, t)).body.results as { source: string; amount: number; component: string }[];
    expect(lines.every((l) => l.source === 'excess')).toBe(true);
    expect(sumPaise(lines)).toBe(888488);
    expect(lines.find((l) => l.component === 'P')!.amount).toBe(7884.88);
    // Nothing accrued on EMI 1 past its due date.
    expect((await accrualsOf(loan.id, t)).filter((r) => r.demand === emi1.id && r.component !== 'NI')).toEqual([]);
    // The principal repaid from excess is drawable again: 10,00,000 - 1,00,000 + 7,884.88.
    expect((await get(`/v1/lms/accounts/${account.id}/`, t)).body.available_limit).toBe(907884.88);
  });

  it('TDS that EOD applied from a record\'s excess is not applied again when the record is replayed', async () => {
    const t = await createTenant(ctx, 'eod-tds');
    const { account, loan } = await emiLoan(t, { ...EMI_PARAMS, ...PENAL }, '2023-12-01');
    const first = await repay(account.id, 8884.88, '2024-01-01', t);
    // 20,000 with 500 of TDS on 15 Jan: nothing is due, so all of it is held.
    const held = await repay(account.id, 20000, '2024-01-15', t, { tds_amount: 500 });
    expect(held.remaining_amount).toBe(20000);
    await runEod('2024-02-01', t);
    const lines = async () => (await get(`/v1/lms/settlements/?record=${held.id}&page_size=100`, t)).body.results as { source: string; amount: number; component: string }[];
    const tdsOf = (ls: { source: string; amount: number }[]) => ls.filter((l) => l.source === 'tds' || l.source === 'excess_tds').reduce((s, l) => s + paise(l.amount), 0);
    expect(tdsOf(await lines())).toBe(500_00);
    expect((await lines()).filter((l) => l.source === 'excess_tds').every((l) => l.component === 'NI' || l.component === 'OI')).toBe(true);
    // Reverting the first payment replays the held record: its TDS was used once and stays used once.
    const reverted = await put(`/v1/lms/records/${first.id}/revert/`, { reason: 'bounced' }, 'admin', t);
    expect(reverted.status, JSON.stringify(reverted.body)).toBe(200);
    expect(tdsOf(await lines())).toBeLessThanOrEqual(500_00);
    const demands = await demandsOf(loan.id, t);
    expect(demands.every((d: { components: Record<string, { outstanding: number }> }) => Object.values(d.components).every((c) => c.outstanding >= 0))).toBe(true);
  });

  it('NPA after 90 days past due, accruals in suspense, a partial payment upgrades nothing, clearing all arrears does', async () => {
    const t = await createTenant(ctx, 'eod-npa');
    const { account, loan } = await emiLoan(t);
    // Due 1 Feb: DPD 90 on 30 Apr (SMA-2), 91 on 1 May (NPA).
    await runEod('2024-04-30', t);
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'overdue', dpd: 90, asset_class: 'sma_2' });
    await runEod('2024-05-01', t);
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'npa', dpd: 91, peak_dpd: 91, asset_class: 'npa' });
    expect((await accrualsOf(loan.id, t, '&date_from=2024-05-01&date_to=2024-05-01')).every((r) => !r.in_suspense)).toBe(true);

    await repay(account.id, 5000, '2024-05-02', t);
    await runEod('2024-05-02', t);
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'npa', asset_class: 'npa', dpd: 92 });
    const suspended = await accrualsOf(loan.id, t, '&date_from=2024-05-02&date_to=2024-05-02');
    expect(suspended.length).toBeGreaterThan(0);
    expect(suspended.every((r) => r.in_suspense)).toBe(true);

    // Everything owed on demands due by 2 May, paid on 3 May: DPD 0, standard, active again.
    const arrears = await arrearsBy(loan.id, '2024-05-02', t);
    await repay(account.id, arrears, '2024-05-03', t);
    await runEod('2024-05-03', t);
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'active', dpd: 0, peak_dpd: 92, asset_class: 'standard' });
    // Accruals of 3 May were in suspense (NPA at the end of 2 May); 4 May's are income again.
    expect((await accrualsOf(loan.id, t, '&date_from=2024-05-03&date_to=2024-05-03')).every((r) => r.in_suspense)).toBe(true);
    await runEod('2024-05-04', t);
    const income = await accrualsOf(loan.id, t, '&date_from=2024-05-04&date_to=2024-05-04');
    expect(income.length).toBeGreaterThan(0);
    expect(income.every((r) => !r.in_suspense)).toBe(true);
  });

  it('a full life: EOD through maturity and 100 days past, partial repayment, NPA, full repayment closes the loan', async () => {
    const t = await createTenant(ctx, 'eod-life');
    const { account, loan } = await emiLoan(t, { ...EMI_PARAMS, ...PENAL, emi_count: 3 });
    // Maturity 1 Apr 2024; 100 days later is 10 Jul.
    await runEod('2024-03-20', t);
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'overdue', dpd: 49, asset_class: 'sma_1' });
    await repay(account.id, 5000, '2024-03-21', t);
    const run = await runEod('2024-07-10', t);
    expect(run.loans_done).toBe(1);
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'npa', asset_class: 'npa', dpd: 161, last_eod_date: wireDate('2024-07-10') });
    const rows = await accrualsOf(loan.id, t);
    // No NI after maturity; OI and PI keep accruing on what is unpaid.
    expect(rows.filter((r) => r.component === 'NI' && r.date > wireDate('2024-04-01'))).toEqual([]);
    expect(rows.some((r) => r.component === 'OI' && r.date === wireDate('2024-07-10'))).toBe(true);
    expect(rows.every((r) => r.amount >= 0 && r.tax_amount >= 0)).toBe(true);
    // Every demand's OI due is exactly the OI rows on it; PI due is charge plus GST.
    for (const d of await demandsOf(loan.id, t)) {
      const mine = rows.filter((r) => r.demand === d.id);
      expect(paise(d.components.OI.due)).toBe(sumPaise(mine.filter((r) => r.component === 'OI')));
      expect(paise(d.components.PI.due)).toBe(mine.filter((r) => r.component === 'PI').reduce((s, r) => s + paise(r.amount) + paise(r.tax_amount), 0));
    }
    const owed = await arrearsBy(loan.id, '2024-07-10', t);
    await repay(account.id, owed, '2024-07-11', t);
    expect(await loanOf(loan.id, t)).toMatchObject({ status: 'closed' });
    const last = await runEod('2024-07-11', t);
    expect(last.loans_total).toBe(0);
  });

  it('the scheduled-topup check runs on the queue, one tick per interval, each scheduling the next', async () => {
    const jobs = async () => Number((await ctx.db.pool.query(`SELECT count(*) FROM pgboss.job WHERE name = 'topups-scheduled' AND state = 'completed'`)).rows[0].count);
    const before = await jobs();
    const ticking = await buildTestApp({ env: { EOD_WORKERS: '1', SCHEDULER_INTERVAL_S: '1', EOD_QUEUE_POLL_MS: '500' } });
    try {
      for (let i = 0; i < 300 && (await jobs()) < before + 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await jobs()).toBeGreaterThanOrEqual(before + 2);
      // Never more than one tick waiting.
      const waiting = await ctx.db.pool.query(`SELECT count(*) FROM pgboss.job WHERE name = 'topups-scheduled' AND state IN ('created', 'retry')`);
      expect(Number(waiting.rows[0].count)).toBeLessThanOrEqual(1);
    } finally {
      await ticking.close();
    }
  });

  it('refuses: a date after today (400), a second live run (409 naming it), checkers and viewers (403), a foreign or missing run (404)', async () => {
    const t = await createTenant(ctx, 'eod-refusals');
    const tomorrow = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
    const future = await post('/v1/lms/emis/run_eod/', { date: tomorrow }, 'maker', t);
    expect(future.status).toBe(400);
    expect(future.body.errors).toHaveProperty('date');
    expect((await post('/v1/lms/emis/run_eod/', { date: 'yesterday' }, 'maker', t)).status).toBe(400);
    expect((await post('/v1/lms/emis/run_eod/', { date: '2024-01-01', extra: 1 }, 'maker', t)).status).toBe(400);
    expect((await post('/v1/lms/emis/run_eod/', { date: '2024-01-01' }, 'checker', t)).status).toBe(403);
    expect((await post('/v1/lms/emis/run_eod/', { date: '2024-01-01' }, 'viewer', t)).status).toBe(403);
    // A live run of this company (as a worker would hold it): the next start is a 409 naming it.
    const live = newId();
    await ctx.db.prisma.eodRun.create({ data: { id: live, companyId: t.companyId, businessDate: new Date('2024-01-01T00:00:00Z'), status: 'running' } });
    const conflict = await post('/v1/lms/emis/run_eod/', { date: '2024-01-02' }, 'admin', t);
    expect(conflict.status).toBe(409);
    expect(conflict.body.detail).toContain(live);
    await ctx.db.prisma.eodRun.update({ where: { id: live }, data: { status: 'failed' } });
    // Nothing to close: completes at once (an epoch date is accepted as elsewhere).
    const empty = await post('/v1/lms/emis/run_eod/', { date: settledOn('2024-01-02') }, 'admin', t);
    expect(empty.status).toBe(202);
    expect(empty.body).toMatchObject({ status: 'completed', loans_total: 0, date: wireDate('2024-01-02') });
    expect((await get(`/v1/lms/eod_runs/${empty.body.id}/`)).status).toBe(404);
    expect((await get(`/v1/lms/eod_runs/${newId()}/`, t)).status).toBe(404);
    const list = (await get('/v1/lms/eod_runs/?status=completed', t)).body;
    expect(list.results.map((r: { id: string }) => r.id)).toEqual([empty.body.id]);
  });
});
