// Review fixes on the money-in side, through the API against the real database: the records
// export's cursor, TDS that settled no interest, multi-tranche bullet prepayments, records dated
// before a disbursement, a second EMI prepayment in one period, the cap on what an account's
// records may hold, approval re-checking an adjustment, zero and closed-account records, and NACH
// presentations processed only through the bank's status file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import { newId } from '../../src/domain/ids.js';
import { istDateOf } from '../../src/domain/time.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams, EMI_PARAMS } from '../helpers/factories.js';

let ctx: TestContext;
let tenant: Tenant;
let bankId: string;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'review-records');
  bankId = (await ctx.app.services.collectionBanks.create(by(), {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  })).id;
});
afterAll(async () => { await ctx.close(); });

type Role = 'admin' | 'maker' | 'checker' | 'viewer';
function by() { return { companyId: tenant.companyId, actor: 'test' }; }
const get = (url: string) => ctx.http().get(url).set('Authorization', tenant.bearer('viewer'));
const post = (url: string, body: object, role: Role = 'maker') => ctx.http().post(url).set('Authorization', tenant.bearer(role)).send(body);
const put = (url: string, body: object, role: Role = 'maker') => ctx.http().put(url).set('Authorization', tenant.bearer(role)).send(body);
/** Noon IST of a day, as Crego's integer settled_at. */
const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);
const utr = () => `U${newId().replace(/-/g, '').slice(0, 20)}`;
const BANK = { account_no: '50100012345678', ifsc: 'HDFC0001234', account_holder_name: 'Borrower Traders' };
const BULLET = {
  days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_slab_based: true,
  roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
};
let umrnCounter = 0;
const umrn = () => `RVW${String(Date.now()).slice(-8)}${String(++umrnCounter).padStart(9, '0')}`;

/** A 1,00,000 loan on the account's params, disbursed on `on`. */
async function loanOn(params: Record<string, unknown> = EMI_PARAMS, on = '2024-01-01') {
  const account = await accountWithParams(ctx, tenant.companyId, params);
  const { loan } = await ctx.app.services.loans.initiateDisbursement(by(), account.id, { amount: 100000_00n });
  await ctx.app.services.loans.activate(by(), loan.id, on);
  return { account, loan };
}

async function processed(accountId: string, body: object, settledAt: number) {
  const created = await post('/v1/lms/records/', { account: accountId, ...body });
  expect(created.status).toBe(201);
  const res = await put(`/v1/lms/records/${created.body.id}/mark_processed/`, { utr: utr(), settled_at: settledAt, collection_bank_id: bankId });
  expect(res.status).toBe(200);
  return res.body as { id: string; remaining_amount: number; status: string };
}

async function lines(recordId: string) {
  const res = await get(`/v1/lms/settlements/?record=${recordId}&page_size=100`);
  return (res.body.results as { component: string; source: string; amount: number }[]).map((s) => [s.component, s.source, s.amount]).sort();
}

async function exportLines(accountId: string): Promise<string[]> {
  const stream = ctx.app.services.recordExports.stream(tenant.companyId, { account: accountId });
  let text = '';
  for await (const chunk of stream) {
    text += chunk.toString();
    if (text.split('\n').length > 50) {
      stream.destroy();
      throw new Error('the export does not end');
    }
  }
  return text.trim().split('\n');
}

describe('Export record: the keyset cursor compares stored created_at values (review 1)', () => {
  it('ends, oldest first, when the newest record is a NACH presentation (created by SQL)', async () => {
    const { account } = await loanOn();
    const first = await post('/v1/lms/records/', { account: account.id, amount: 100 });
    expect(first.status).toBe(201);
    expect((await post('/v1/lms/nach_mandates/', { account: account.id, umrn: umrn() })).status).toBe(201);
    const batch = await post('/v1/lms/records/bulk_nach_request/', { accounts: [account.id] });
    expect(batch.status).toBe(201);
    const nach = batch.body.results[0].id as string;
    const out = await exportLines(account.id);
    expect(out).toHaveLength(3);
    expect(out[1]!.startsWith(first.body.id)).toBe(true);
    expect(out[2]!.startsWith(nach)).toBe(true);
  });

  it('ends with every record once when created_at carries microseconds a JS Date cannot hold', async () => {
    const { account } = await loanOn();
    const ids: string[] = [];
    for (const amount of [100, 200, 300]) ids.push((await post('/v1/lms/records/', { account: account.id, amount })).body.id);
    // Rows written by SQL's now() (earlier presentations, other writers) carry microseconds.
    await ctx.db.client.$executeRaw`UPDATE records SET created_at = created_at + interval '321 microseconds' WHERE id = ANY(${ids}::uuid[])`;
    const out = await exportLines(account.id);
    expect(out.slice(1).map((line) => line.slice(0, 36))).toEqual(ids);
  });
});

describe('TDS that settled no interest is not refundable (review 2)', () => {
  it('a TDS-only record with nothing due: refund 409 naming amount; loans/excess refundable leaves it out', async () => {
    const { account, loan } = await loanOn();
    const tdsOnly = await processed(account.id, { received_amount: 0, tds_amount: 500 }, settledOn('2024-01-05'));
    expect(tdsOnly.remaining_amount).toBe(500);
    const refused = await post(`/v1/lms/records/${tdsOnly.id}/initiate_excess_refund/`, { credit_bank: BANK });
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toHaveProperty('amount');
    // Cash and TDS together: only the cash part may go back.
    const mixed = await processed(account.id, { received_amount: 1000, tds_amount: 500 }, settledOn('2024-01-06'));
    expect(mixed.remaining_amount).toBe(1500);
    const excess = (await get(`/v1/lms/loans/excess/?account=${account.id}`)).body.results;
    expect(excess).toHaveLength(1);
    expect(excess[0]).toMatchObject({ id: loan.id, excess_amount: 2000, refundable_amount: 1000, account_excess_amount: 2000 });
    const tooMuch = await post(`/v1/lms/records/${mixed.id}/initiate_excess_refund/`, { credit_bank: BANK, amount: 1000.01 });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.errors).toHaveProperty('amount');
    const byLoan = await post(`/v1/lms/loans/${loan.id}/refunds/`, { credit_bank: BANK });
    expect(byLoan.status).toBe(201);
    expect(byLoan.body.results.map((r: { id: string; payout: { amount: number } }) => [r.id, r.payout.amount])).toEqual([[mixed.id, 1000]]);
    expect((await post(`/v1/lms/loans/${loan.id}/refunds/`, { credit_bank: BANK })).status).toBe(409);
  });
});

describe('Multi-tranche bullet prepayment accrues each tranche from its own date (review 3)', () => {
  it("the reviewer's loan: NI taken is what accrued to the day; the maturity NI does not rise", async () => {
    // Disbursed 24 days ago (day 1), a second 1,00,000 tranche on day 21, prepaid 1,00,000 today (day 25).
    const today = istDateOf(new Date());
    const day1 = addDays(today, -24);
    const account = await accountWithParams(ctx, tenant.companyId, BULLET);
    const created = await post(`/v1/lms/accounts/${account.id}/initiate_disbursement/`, { amount: 100000, sanctioned_amount: 200000 });
    expect(created.status).toBe(201);
    expect((await put(`/v1/lms/payouts/${created.body.payout.id}/process/`, { status: 'processed', utr: `B${newId().slice(0, 8)}`, bank_date: day1 }, 'checker')).status).toBe(200);
    const tranche = await post('/v1/lms/payouts/add_tranche/', { loan_id: created.body.id, amount: 100000 });
    expect(tranche.status).toBe(200);
    expect((await put(`/v1/lms/payouts/${tranche.body.id}/process/`, { status: 'processed', utr: `C${newId().slice(0, 8)}`, bank_date: addDays(day1, 20) }, 'checker')).status).toBe(200);
    const [before] = (await get(`/v1/lms/emis/?loan=${created.body.id}`)).body.results;
    // 2,750 on the first tranche (40 days) + 1,083.33 on the second (its own 20 days).
    expect(before.components.NI.due).toBe(3833.33);
    const rec = await processed(account.id, { amount: 100000 }, Math.floor(Date.now() / 1000) - 60);
    // Accrued to day 25: 1,416.67 on the first tranche + 250 on the second (5 days at 18%).
    expect(await lines(rec.id)).toEqual([['NI', 'prepay', 1666.67], ['P', 'prepay', 98333.33]]);
    const [after] = (await get(`/v1/lms/emis/?loan=${created.body.id}`)).body.results;
    expect(after.components.NI.due).toBeLessThanOrEqual(3833.33);
    // The oldest tranche is repaid first: 1,438.89 on it, 1,083.33 on the second.
    expect(after.components.NI.due).toBe(2522.22);
    expect(after.components.NI.paid).toBe(1666.67);
  });
});

describe('A record dated before a loan was disbursed does not settle it (review 4)', () => {
  it('stays excess; the loan and its interest are untouched', async () => {
    const { account, loan } = await loanOn(BULLET, '2024-01-10');
    const rec = await processed(account.id, { amount: 100000 }, settledOn('2024-01-05'));
    expect(await lines(rec.id)).toEqual([]);
    expect(rec.remaining_amount).toBe(100000);
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('active');
    const [maturity] = (await get(`/v1/lms/emis/?loan=${loan.id}`)).body.results;
    expect(maturity.components.NI.due).toBe(2750);
  });
});

describe('EMI prepayment: the running period owes only interest not yet paid (review 5)', () => {
  it('a second prepayment in the period takes 333.33 of interest, not 633.33', async () => {
    const { account } = await loanOn();
    const a = await processed(account.id, { amount: 5000, excess_handling: 'prepay' }, settledOn('2024-01-11'));
    const b = await processed(account.id, { amount: 5000, excess_handling: 'prepay' }, settledOn('2024-01-21'));
    const c = await processed(account.id, { amount: 1, excess_handling: 'prepay' }, settledOn('2024-01-21'));
    const ni = async (id: string) => (await lines(id)).filter(([component]) => component === 'NI').map(([, , amount]) => amount);
    expect(await ni(a.id)).toEqual([366.67]);
    expect(await ni(b.id)).toEqual([333.33]);
    expect(await ni(c.id)).toEqual([]);
  });
});

describe("An account's records may hold at most Rs 10^13 (review 6)", () => {
  it('Create Record, Bulk Create and Match refuse what would pass it (409 naming amount); the summary stays exact', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, EMI_PARAMS, 1_000_00n);
    const full = await processed(account.id, { amount: 10_000_000_000_000 }, settledOn('2024-01-05'));
    expect(full.remaining_amount).toBe(10_000_000_000_000);
    const more = await post('/v1/lms/records/', { account: account.id, amount: 1 });
    expect(more.status).toBe(409);
    expect(more.body.errors).toHaveProperty('amount');
    const summary = await get(`/v1/lms/accounts/${account.id}/summary/`);
    expect(summary.status).toBe(200);
    expect(summary.body.excess).toMatchObject({ balance: 10_000_000_000_000 });
    expect((await get(`/v1/lms/loans/excess/?account=${account.id}`)).status).toBe(200);

    const other = await accountWithParams(ctx, tenant.companyId, EMI_PARAMS, 1_000_00n);
    const bulk = await post('/v1/lms/records/bulk_create/', { records: [{ account: other.id, amount: 6_000_000_000_000 }, { account: other.id, amount: 6_000_000_000_000 }] });
    expect(bulk.status).toBe(409);
    expect(Object.keys(bulk.body.errors)).toEqual(['records.1.amount']);
    expect(await ctx.db.client.record.count({ where: { accountId: other.id } })).toBe(0);

    const unmatched = await post('/v1/lms/records/', { amount: 5 });
    expect(unmatched.body.status).toBe('unmatched');
    const match = await put(`/v1/lms/records/${unmatched.body.id}/match/`, { account: account.id });
    expect(match.status).toBe(409);
    expect(match.body.errors).toHaveProperty('amount');
  });
});

describe('Approving a cashback re-checks it (review 7)', () => {
  const CASHBACK = { days_in_year: 360, tenure_period: 'days', tenure_value: 40, roi_value: [{ days: -1, value: 18 }], cashback_is_enabled: true };

  it('a cashback whose loan was repaid and closed meanwhile: approval is a 409 naming amount, and it can be rejected', async () => {
    const { account, loan } = await loanOn(CASHBACK);
    const adj = await post(`/v1/lms/loans/${loan.id}/adjustments/`, { amount: 1000, type: 'cashback', date: '2024-01-25' });
    expect(adj.status).toBe(201);
    await processed(account.id, { amount: 200000 }, settledOn('2024-01-20'));
    expect((await get(`/v1/lms/loans/${loan.id}/`)).body.status).toBe('closed');
    const approve = await put(`/v1/lms/records/${adj.body.id}/approve/`, {}, 'checker');
    expect(approve.status).toBe(409);
    expect(approve.body.errors).toHaveProperty('amount');
    expect((await get(`/v1/lms/records/${adj.body.id}/`)).body).toMatchObject({ status: 'approval_pending', remaining_amount: 0 });
    expect((await put(`/v1/lms/records/${adj.body.id}/reject/`, { remarks: 'loan repaid' }, 'checker')).status).toBe(200);
  });

  it('a cashback larger than what the loan still owes by approval time is refused; one that fits is approved', async () => {
    const { account, loan } = await loanOn(CASHBACK);
    const big = await post(`/v1/lms/loans/${loan.id}/adjustments/`, { amount: 5000, type: 'cashback', date: '2024-01-25' });
    expect(big.status).toBe(201);
    // Prepaid on day 20: 1,000 of interest and 98,500 of principal; 1,500 + 15 of interest still owed.
    const rec = await processed(account.id, { amount: 99500 }, settledOn('2024-01-20'));
    expect(await lines(rec.id)).toEqual([['NI', 'prepay', 1000], ['P', 'prepay', 98500]]);
    const approve = await put(`/v1/lms/records/${big.body.id}/approve/`, {}, 'checker');
    expect(approve.status).toBe(409);
    expect(approve.body.errors.amount[0]).toContain('Rs 1515');
    expect((await put(`/v1/lms/records/${big.body.id}/reject/`, { remarks: 'too large now' }, 'checker')).status).toBe(200);
    const small = await post(`/v1/lms/loans/${loan.id}/adjustments/`, { amount: 1, type: 'cashback', date: '2024-01-25' });
    expect(small.status).toBe(201);
    expect((await put(`/v1/lms/records/${small.body.id}/approve/`, {}, 'checker')).body).toMatchObject({ status: 'processed', remaining_amount: 0 });
  });
});

describe('Zero records, closed accounts, NACH by hand (review suspicions)', () => {
  it('a record of nothing is a 400 naming amount', async () => {
    const { account } = await loanOn();
    for (const body of [{ received_amount: 0 }, { received_amount: 0, tds_amount: 0 }]) {
      const res = await post('/v1/lms/records/', { account: account.id, ...body });
      expect(res.status).toBe(400);
      expect(res.body.errors).toHaveProperty('amount');
    }
    const bulk = await post('/v1/lms/records/bulk_create/', { records: [{ account: account.id, amount: 1 }, { account: account.id, received_amount: 0 }] });
    expect(bulk.status).toBe(400);
    expect(bulk.body.errors).toHaveProperty(['records.1.amount']);
    await expect(ctx.app.services.records.create(by(), { account: account.id, received_amount: 0n })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', fieldErrors: { amount: expect.any(Array) } });
  });

  it('a closed account takes no new records and processes none (409 naming account)', async () => {
    const account = await accountWithParams(ctx, tenant.companyId);
    const pending = await post('/v1/lms/records/', { account: account.id, amount: 100 });
    expect(pending.status).toBe(201);
    const unmatched = await post('/v1/lms/records/', { amount: 100 });
    expect((await ctx.http().put(`/v1/lms/accounts/${account.id}/close/`).set('Authorization', tenant.bearer('admin')).send({})).status).toBe(409); // a pending record blocks closing
    // Closed with the record still pending (an account closed before this rule existed).
    await ctx.db.client.account.update({ where: { id: account.id }, data: { status: 'closed' } });
    const create = await post('/v1/lms/records/', { account: account.id, amount: 100 });
    expect(create.status).toBe(409);
    expect(create.body.errors).toHaveProperty('account');
    const bulk = await post('/v1/lms/records/bulk_create/', { records: [{ account: account.id, amount: 100 }] });
    expect(bulk.status).toBe(409);
    expect(bulk.body.errors).toHaveProperty(['records.0.account']);
    const mark = await put(`/v1/lms/records/${pending.body.id}/mark_processed/`, { utr: utr(), settled_at: settledOn('2024-01-05'), collection_bank_id: bankId });
    expect(mark.status).toBe(409);
    expect(mark.body.errors).toHaveProperty('account');
    const match = await put(`/v1/lms/records/${unmatched.body.id}/match/`, { account: account.id });
    expect(match.status).toBe(409);
    expect(match.body.errors).toHaveProperty('account');
  });

  it('a NACH presentation cannot be marked processed by hand (409 naming status); the status file processes it', async () => {
    const { account } = await loanOn();
    expect((await post('/v1/lms/nach_mandates/', { account: account.id, umrn: umrn() })).status).toBe(201);
    const batch = await post('/v1/lms/records/bulk_nach_request/', { accounts: [account.id], date: '2024-02-01' });
    expect(batch.status).toBe(201);
    const nach = batch.body.results[0] as { id: string; amount: number };
    const byHand = await put(`/v1/lms/records/${nach.id}/mark_processed/`, { utr: utr(), settled_at: settledOn('2024-02-05'), collection_bank_id: bankId });
    expect(byHand.status).toBe(409);
    expect(byHand.body.errors).toHaveProperty('status');
    // Nor can it be taken out of the bank's flow through approval.
    expect((await put(`/v1/lms/records/${nach.id}/request_approval/`, {})).status).toBe(409);
    expect((await get(`/v1/lms/records/${nach.id}/`)).body.status).toBe('pending');
    const file = await put('/v1/lms/records/nach_presentation_status/', { collection_bank_id: bankId, rows: [{ record: nach.id, status: 'success', settled_at: settledOn('2024-02-05') }] });
    expect(file.status).toBe(200);
    expect(file.body.results[0]).toMatchObject({ outcome: 'processed', status: 'processed' });
  });
});

describe('second review', () => {
  it('the records export quotes a client-chosen external id that looks like a formula', async () => {
    const account = await ctx.app.services.accounts.create(by(), { name: 'Formula', sanctioned_limit: 100n, external_id: '=HYPERLINK("http://x")' });
    await ctx.app.services.records.create(by(), { account: account.id, received_amount: 100n });
    const text = (await ctx.http().put('/v1/lms/records/export/').set('Authorization', tenant.bearer('maker')).send({ account: account.id })).text;
    expect(text).toContain(`'=HYPERLINK`);
    expect(text).not.toMatch(/,"?=HYPERLINK/);
  });

  it('loan data cannot change under a topup waiting to pay out on it', async () => {
    const account = await accountWithParams(ctx, tenant.companyId, BULLET);
    const data = await post('/v1/lms/loan_data/', { account: account.id, tenure_value: 30 });
    expect(data.status).toBe(201);
    const topup = await post('/v1/lms/topups/', { account: account.id, amount: 1000, loan_data: data.body.id, disbursement_date: addDays(istDateOf(new Date()), 3), credit_bank: BANK });
    expect(topup.body.status).toBe('scheduled');
    const change = await ctx.http().patch(`/v1/lms/loan_data/${data.body.id}/`).set('Authorization', tenant.bearer('maker')).send({ tenure_value: 90 });
    expect(change.status).toBe(409);
    expect(change.body.errors).toHaveProperty('loan_data');
  });
});
