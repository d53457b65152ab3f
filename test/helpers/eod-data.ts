// A deterministic loan portfolio for EOD tests: the same accounts, loans and repayments can be
// built in several tenants (from one seed), and a tenant's EOD-visible state can be read in a
// form that does not depend on ids, so two tenants' states compare row for row.
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

/**
 * How the borrower repays before EOD runs, over the account's demands (all its loans) grouped by
 * due date: the first `onTime` groups paid exactly on their due dates, then the next group
 * `partly` paid (a fraction) on its due date, or paid in full `late` (days after its due date),
 * or paid on its due date with `extra` rupees over it (held as excess, or prepaid on a bullet
 * loan), or nothing; then nothing more. Only value dates up to the run's date are used.
 */
export interface PaymentSpec {
  onTime: number;
  then: { kind: 'partly'; fraction: number } | { kind: 'late'; days: number } | { kind: 'extra'; rupees: number } | null;
}

export interface AccountSpec {
  name: string;
  product: string;
  loans: LoanSpec[];
  payments: PaymentSpec;
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
    if (rnd() < 0.35) loans.push({ amountRupees: pick(amounts), date: addDays(first, 10 + Math.floor(rnd() * 30)) });
    // Products and what follows the on-time payments both cycle (so products meet several kinds of
    // payer); the number of on-time payments is random, none for about a fifth (NPA by summer).
    const onTime = rnd() < 0.2 ? 0 : 1 + Math.floor(rnd() * 6);
    const kind = (['partly', 'late', 'extra', null] as const)[i % 4];
    const then: PaymentSpec['then'] = kind === 'partly' ? { kind, fraction: Math.round((0.1 + rnd() * 0.8) * 100) / 100 }
      : kind === 'late' ? { kind, days: 3 + Math.floor(rnd() * 40) }
        : kind === 'extra' ? { kind, rupees: 500 * (1 + Math.floor(rnd() * 30)) }
          : null;
    specs.push({ name: `eod-${String(i).padStart(3, '0')}-${product}`, product, loans, payments: { onTime, then } });
  }
  return specs;
}

const settledOn = (date: string) => Math.floor(Date.parse(`${date}T06:30:00Z`) / 1000);

/**
 * Builds `specs` in `tenant`, in order (account ids sort in spec order), with repayments whose
 * value dates are on or before `through`.
 */
export async function buildPortfolio(ctx: TestContext, tenant: Tenant, specs: readonly AccountSpec[], through: string, concurrency = 3): Promise<void> {
  const by = { companyId: tenant.companyId, actor: 'test' };
  const bank = await ctx.app.services.collectionBanks.create(by, {
    account_no: '1576001500004547', account_holder_name: 'Lender Collections', ifsc: 'PUNB0457600', account_type: 'current',
  });
  const { InitiateLoanParamsIn } = await import('../../src/modules/loan-params/schemas.js');
  const pay = async (accountId: string, paise: bigint, date: string, over = false) => {
    const created = await ctx.http().post('/v1/lms/records/').set('Authorization', tenant.bearer('maker'))
      .send({ account: accountId, amount: Number(paise) / 100 });
    if (created.status !== 201) throw new Error(`Create Record: ${created.status} ${JSON.stringify(created.body)}`);
    const done = await ctx.http().put(`/v1/lms/records/${created.body.id}/mark_processed/`).set('Authorization', tenant.bearer('maker'))
      .send({ utr: `UTR${newId().replace(/-/g, '').slice(0, 20)}`, settled_at: settledOn(date), collection_bank_id: bank.id });
    if (done.status !== 200) throw new Error(`Mark Processed: ${done.status} ${JSON.stringify(done.body)}`);
    if (!over && done.body.remaining_amount !== 0) throw new Error(`a repayment of exactly what was due left ${done.body.remaining_amount} over`);
  };
  // Accounts one after another (their ids sort in spec order, which decides EOD's partitions),
  // then each account's loans and repayments, a few accounts at a time.
  const accounts: string[] = [];
  for (const spec of specs) {
    const lead = { lead_id: newId(), program_id: newId() };
    accounts.push((await ctx.app.services.accounts.create(by, { name: spec.name, sanctioned_limit: 1_000_000_00n, ...lead })).id);
    await ctx.app.services.loanParams.initiate(by, InitiateLoanParamsIn.parse({ ...lead, ...EOD_PRODUCTS[spec.product] }));
  }
  const fill = async (spec: AccountSpec, accountId: string) => {
    for (const l of spec.loans) {
      const { loan } = await ctx.app.services.loans.initiateDisbursement(by, accountId, { amount: BigInt(l.amountRupees) * 100n });
      await ctx.app.services.loans.activate(by, loan.id, l.date);
    }
    const { rows: dues } = await ctx.db.pool.query<{ due: string; total: string }>(
      `SELECT to_char(due_date, 'YYYY-MM-DD') AS due, sum(p_due_paise + ni_due_paise + fee_due_paise)::text AS total
         FROM demands WHERE company_id = $1 AND account_id = $2 AND status <> 'cancelled' AND due_date <= $3::date
        GROUP BY due_date ORDER BY due_date`, [tenant.companyId, accountId, through]);
    const { onTime, then } = spec.payments;
    for (const d of dues.slice(0, onTime)) await pay(accountId, BigInt(d.total), d.due);
    const next = dues[onTime];
    if (!next || !then) return;
    if (then.kind === 'partly') await pay(accountId, (BigInt(next.total) * BigInt(Math.round(then.fraction * 100))) / 100n, next.due);
    else if (then.kind === 'extra') await pay(accountId, BigInt(next.total) + BigInt(then.rupees) * 100n, next.due, true);
    else if (addDays(next.due, then.days) <= through) await pay(accountId, BigInt(next.total), addDays(next.due, then.days));
  };
  let cursor = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (cursor < specs.length) {
      const i = cursor++;
      await fill(specs[i]!, accounts[i]!);
    }
  }));
}

// ---- Reading a tenant's EOD state without ids ----------------------------------------------

/**
 * Stable keys: loans by account name and their order in the account; demands by loan key, kind,
 * number and due date; records by account name, value date, amount and their order.
 */
const KEYS = `
  WITH lk AS MATERIALIZED (
    SELECT l.id, a.name || '#' || row_number() OVER (PARTITION BY l.account_id ORDER BY l.id) AS lkey
      FROM loans l JOIN accounts a ON a.id = l.account_id WHERE l.company_id = $1),
  dk AS MATERIALIZED (
    SELECT d.id, lk.lkey || '/' || d.kind || '/' || coalesce(d.installment_number::text, '-') || '/' || d.due_date AS dkey
      FROM demands d JOIN lk ON lk.id = d.loan_id WHERE d.company_id = $1),
  rk AS MATERIALIZED (
    SELECT r.id, a.name || '@' || coalesce(r.value_date::text, '-') || '/' || r.amount_paise
                 || '#' || row_number() OVER (PARTITION BY r.account_id, r.value_date, r.amount_paise ORDER BY r.id) AS rkey
      FROM records r JOIN accounts a ON a.id = r.account_id WHERE r.company_id = $1)`;

/**
 * One text line per row, with every column EOD writes or reads (no ids, no timestamps): loans,
 * demands and accrual rows, and what step 2 (held excess) writes: settlement lines, the records'
 * remaining excess, line details and accounts' limits.
 */
const CANONICAL = {
  loans: `${KEYS} SELECT concat_ws('|', lk.lkey, l.status, l.kind, l.principal_paise, l.disbursement_date, l.maturity_date, l.dpd, l.peak_dpd,
                     l.asset_class, l.last_eod_date, l.closed_at IS NOT NULL) AS r
                FROM loans l JOIN lk ON lk.id = l.id`,
  demands: `${KEYS} SELECT concat_ws('|', dk.dkey, d.status, d.dpd, d.peak_dpd, d.p_due_paise, d.ni_due_paise, d.oi_due_paise, d.pi_due_paise, d.fee_due_paise,
                       d.p_paid_paise, d.ni_paid_paise, d.oi_paid_paise, d.pi_paid_paise, d.fee_paid_paise,
                       d.p_waived_paise, d.ni_waived_paise, d.oi_waived_paise, d.pi_waived_paise, d.fee_waived_paise,
                       d.oi_accrued_exact, d.oi_accrued_paise, d.pi_accrued_exact, d.pi_charged_paise, d.pi_tax_paise) AS r
                  FROM demands d JOIN dk ON dk.id = d.id`,
  accruals: `${KEYS} SELECT concat_ws('|', dk.dkey, a.accrual_date, a.component, a.amount_paise, a.tax_paise, a.in_suspense,
                        coalesce(a.exact_after::text, '-'), a.version, a.reverses_id IS NOT NULL) AS r
                   FROM accruals a JOIN dk ON dk.id = a.demand_id WHERE a.company_id = $1`,
  settlements: `${KEYS} SELECT concat_ws('|', rk.rkey, dk.dkey, s.component, s.source, s.amount_paise, s.value_date, s.remaining_after_paise,
                           s.demand_outstanding_paise, s.demand_due_paise, s.dpd, s.peak_dpd, s.reverses_id IS NOT NULL) AS r
                      FROM settlements s JOIN dk ON dk.id = s.demand_id JOIN rk ON rk.id = s.record_id WHERE s.company_id = $1`,
  records: `${KEYS} SELECT concat_ws('|', rk.rkey, r.status, r.type, r.remaining_paise, r.reserved_paise, r.refunded_paise, r.adjusted_paise) AS r
                  FROM records r JOIN rk ON rk.id = r.id`,
  limits: `SELECT concat_ws('|', a.name, a.status, a.sanctioned_limit_paise, a.available_limit_paise, ld.type, ld.status,
                            ld.approved_paise, ld.available_paise, ld.used_paise, ld.blocked_paise) AS r
             FROM accounts a LEFT JOIN line_details ld ON ld.account_id = a.id AND ld.company_id = a.company_id WHERE a.company_id = $1`,
} as const;

export type EodState = Record<keyof typeof CANONICAL, string[]>;

/** A tenant's EOD state (each kind of CANONICAL) as sorted text lines, comparable across tenants. */
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
