// A deterministic loan portfolio for EOD tests: the same accounts, loans and repayments can be
// built in several tenants (from one seed), and a tenant's EOD-visible state can be read in a
// form that does not depend on ids, so two tenants' states compare row for row.
import { expect } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import type { Tenant, TestContext } from './app.js';
import { EMI_PARAMS } from './factories.js';

/** mulberry32: a small seeded PRNG, so a failing seed reproduces. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Loan products that exercise the EOD paths: plain OI, OI slabs by days past due, PI with lag, grace, min/max, tax, fixed PI, bullet slabs. */
export const EOD_PRODUCTS: Record<string, Record<string, unknown>> = {
  emi: EMI_PARAMS,
  emi_oi_slabs_penal_grace: {
    ...EMI_PARAMS,
    overdue_roi_same_as_roi: false, overdue_roi_slab_based: true,
    overdue_roi_value: [{ days: 15, value: 18 }, { days: 30, value: 24 }, { days: -1, value: 30 }],
    penal_roi_value: [{ days: -1, value: 24 }], penal_tax: 18, penal_lag_days_after_due: 3, penal_calculation_type: 'include_grace_period',
  },
  emi_365_penal_capped: {
    roi_value: [{ days: -1, value: 15 }], emi_count: 6, emi_frequency: 'monthly', days_in_year: 365, interest_starts: 'next_day',
    penal_roi_slab_based: true, penal_roi_value: [{ days: 30, value: 24 }, { days: -1, value: 36 }],
    penal_max_amount: 900, penal_min_amount: 50, penal_tax: 18,
  },
  emi_actual_fixed_penal: {
    roi_value: [{ days: -1, value: 18 }], emi_count: 10, emi_frequency: 'fortnightly', days_in_year: 'actual', days_in_month: 'actual',
    penal_roi_value_type: 'fixed', penal_roi_value: [{ days: -1, value: 5 }], penal_tax: 18, penal_lag_days_after_due: 2,
  },
  bullet_slabs: {
    days_in_year: 360, tenure_period: 'days', tenure_value: 60, roi_slab_based: true,
    roi_value: [{ days: '15', value: 18 }, { days: '30', value: 24 }, { days: -1, value: 36 }],
    penal_roi_slab_based: true, penal_roi_value: [{ days: 30, value: 12 }, { days: -1, value: 24 }], penal_tax: 18,
  },
};

export interface LoanSpec {
  amountRupees: number;
  date: string;
}

/** How the borrower repays before EOD runs. */
export type PaymentSpec =
  | { kind: 'partial'; amountRupees: number; daysAfterFirstDue: number }
  /** Pays the first `installments` demands of the account's first loan exactly, each on its due date. */
  | { kind: 'on_time'; installments: number };

export interface AccountSpec {
  name: string;
  product: string;
  loans: LoanSpec[];
  payments: PaymentSpec[];
}

const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** `count` accounts with one or two loans each, disbursed Jan-Mar 2024, a mix of products and payers. */
export function portfolioSpec(seed: number, count: number): AccountSpec[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const products = Object.keys(EOD_PRODUCTS);
  const amounts = [50_000, 75_000, 100_000, 150_000, 200_000];
  const specs: AccountSpec[] = [];
  for (let i = 0; i < count; i++) {
    const product = products[i % products.length]!;
    const first = addDays('2024-01-01', Math.floor(rnd() * 75));
    const loans: LoanSpec[] = [{ amountRupees: pick(amounts), date: first }];
    if (rnd() < 0.4) loans.push({ amountRupees: pick(amounts), date: addDays(first, 10 + Math.floor(rnd() * 30)) });
    const payments: PaymentSpec[] = [];
    const behaviour = rnd();
    if (behaviour < 0.3) {
      payments.push({ kind: 'on_time', installments: 1 + Math.floor(rnd() * 4) });
    } else if (behaviour < 0.7) {
      const n = 1 + Math.floor(rnd() * 2);
      for (let p = 0; p < n; p++) payments.push({ kind: 'partial', amountRupees: Math.round((300 + rnd() * 2500) * 100) / 100, daysAfterFirstDue: p * 25 + Math.floor(rnd() * 20) });
    } // else: pays nothing (ages into NPA)
    specs.push({ name: `crash-${String(i).padStart(3, '0')}-${product}`, product, loans, payments });
  }
  return specs;
}

const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);

/** Builds `specs` in `tenant` (in order, so account ids sort in spec order). */
export async function buildPortfolio(ctx: TestContext, tenant: Tenant, specs: readonly AccountSpec[]): Promise<void> {
  const by = { companyId: tenant.companyId, actor: 'test' };
  const bank = await ctx.app.services.collectionBanks.create(by, {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  });
  const { InitiateLoanParamsIn } = await import('../../src/modules/loan-params/schemas.js');
  const pay = async (accountId: string, amount: number, date: string) => {
    const created = await ctx.http().post('/v1/lms/records/').set('Authorization', tenant.bearer('maker')).send({ account: accountId, amount });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const done = await ctx.http().put(`/v1/lms/records/${created.body.id}/mark_processed/`).set('Authorization', tenant.bearer('maker'))
      .send({ utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn(date), collection_bank_id: bank.id });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
  };
  for (const spec of specs) {
    const lead = { lead_id: newId(), program_id: newId() };
    const account = await ctx.app.services.accounts.create(by, { name: spec.name, sanctioned_limit: 1_000_000_00n, ...lead });
    await ctx.app.services.loanParams.initiate(by, InitiateLoanParamsIn.parse({ ...lead, ...EOD_PRODUCTS[spec.product] }));
    const loanIds: string[] = [];
    for (const l of spec.loans) {
      const { loan } = await ctx.app.services.loans.initiateDisbursement(by, account.id, { amount: BigInt(l.amountRupees) * 100n });
      await ctx.app.services.loans.activate(by, loan.id, l.date);
      loanIds.push(loan.id);
    }
    const demands = (await ctx.db.pool.query<{ due: string; total: string }>(
      `SELECT to_char(due_date, 'YYYY-MM-DD') AS due, (p_due_paise + ni_due_paise + fee_due_paise)::text AS total
         FROM demands WHERE loan_id = $1 AND status <> 'cancelled' ORDER BY due_date, installment_number NULLS FIRST`, [loanIds[0]])).rows;
    for (const p of spec.payments) {
      if (p.kind === 'on_time') {
        for (const d of demands.slice(0, p.installments)) await pay(account.id, Number(d.total) / 100, d.due);
      } else {
        await pay(account.id, p.amountRupees, addDays(demands[0]!.due, p.daysAfterFirstDue));
      }
    }
  }
}

// ---- Reading a tenant's EOD state without ids ----------------------------------------------

/** Loans keyed by account name and their order in the account; demands by loan key, kind, number and due date. */
const KEYS = `
  WITH lk AS MATERIALIZED (
    SELECT l.id, a.name || '#' || row_number() OVER (PARTITION BY l.account_id ORDER BY l.id) AS lkey
      FROM loans l JOIN accounts a ON a.id = l.account_id WHERE l.company_id = $1),
  dk AS MATERIALIZED (
    SELECT d.id, lk.lkey || '/' || d.kind || '/' || coalesce(d.installment_number::text, '-') || '/' || d.due_date AS dkey
      FROM demands d JOIN lk ON lk.id = d.loan_id WHERE d.company_id = $1)`;

/** One text line per row with every column EOD writes or reads (no ids, no timestamps). */
const CANONICAL = {
  loans: `${KEYS} SELECT concat_ws('|', lk.lkey, l.status, l.kind, l.principal_paise, l.disbursement_date, l.maturity_date, l.dpd, l.peak_dpd,
                     l.asset_class, l.last_eod_date) AS r
                FROM loans l JOIN lk ON lk.id = l.id`,
  demands: `${KEYS} SELECT concat_ws('|', dk.dkey, d.status, d.dpd, d.peak_dpd, d.p_due_paise, d.ni_due_paise, d.oi_due_paise, d.pi_due_paise, d.fee_due_paise,
                       d.p_paid_paise, d.ni_paid_paise, d.oi_paid_paise, d.pi_paid_paise, d.fee_paid_paise,
                       d.p_waived_paise, d.ni_waived_paise, d.oi_waived_paise, d.pi_waived_paise, d.fee_waived_paise,
                       d.oi_accrued_exact, d.oi_accrued_paise, d.pi_accrued_exact, d.pi_charged_paise, d.pi_tax_paise) AS r
                  FROM demands d JOIN dk ON dk.id = d.id`,
  accruals: `${KEYS} SELECT concat_ws('|', dk.dkey, a.accrual_date, a.component, a.amount_paise, a.tax_paise, a.in_suspense,
                        coalesce(a.exact_after::text, '-'), a.version, a.reverses_id IS NOT NULL) AS r
                   FROM accruals a JOIN dk ON dk.id = a.demand_id WHERE a.company_id = $1`,
} as const;

export type EodState = Record<keyof typeof CANONICAL, string[]>;

/** A tenant's loans, demands and accrual rows as sorted text lines, comparable across tenants. */
export async function eodState(ctx: TestContext, companyId: string): Promise<EodState> {
  const out = {} as EodState;
  for (const kind of Object.keys(CANONICAL) as (keyof typeof CANONICAL)[]) {
    const { rows } = await ctx.db.pool.query<{ r: string }>(CANONICAL[kind], [companyId]);
    out[kind] = rows.map((x) => x.r).sort();
  }
  return out;
}

/** Lines in one list and not the other, counting repeats (a multiset difference both ways), at most `limit`. */
export function lineDifferences(first: readonly string[], second: readonly string[], limit = 20): string[] {
  const count = new Map<string, number>();
  for (const r of first) count.set(r, (count.get(r) ?? 0) + 1);
  for (const r of second) count.set(r, (count.get(r) ?? 0) - 1);
  const out: string[] = [];
  for (const [r, n] of count) {
    if (n > 0) out.push(`only in first (x${n}): ${r}`);
    if (n < 0) out.push(`only in second (x${-n}): ${r}`);
    if (out.length >= limit) break;
  }
  return out;
}
