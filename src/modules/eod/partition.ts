// Closing business dates for one partition of a company's accounts: the set-based part of EOD.
//
// One transaction per partition, on a pg client of its own (not Prisma: every statement here
// moves arrays of thousands of rows, and the running OI/PI totals are NUMERIC beyond bigint):
//   1. lock the partition row (a second worker on the same partition waits here, then sees it
//      done) and the partition's accounts in id order (records, refunds and restructures on those
//      accounts wait for the account lock, exactly as they wait for each other);
//   2. read, in one statement each, the accounts' open loans, the demands EOD can touch, further
//      tranches and prepaid principal of bullet loans;
//   3. close every loan day by day in pure code (src/domain/eod.ts), from the day after its
//      last_eod_date (or its disbursement date) through the run's date;
//   4. write all accrual rows in one INSERT, changed demands in one UPDATE, loans in one UPDATE,
//      and the partition's progress, then commit.
// A loan whose last_eod_date is already the run's date is not closed again, and the accrual key
// (demand, date, component, version) is unique, so a partition that runs twice, or a worker that
// dies between statements, can never accrue twice: the rollback drops all of it.
import type pg from 'pg';
import { addDays } from '../../domain/dates.js';
import {
  closeAccountDay, eodTermsOf, EodTermsError, isOpenLoan,
  type AccrualRow, type AssetClass, type EodDemand, type EodLoan, type EodTerms,
} from '../../domain/eod.js';
import { newId } from '../../domain/ids.js';
import type { PrincipalRepayment, PrincipalTranche } from '../../domain/prepay.js';
import type { BusinessDate } from '../../domain/time.js';
import { paramsFromJson } from '../loan-params/schemas.js';

export interface StepTiming {
  name: string;
  ms: number;
  rows: number;
}

export interface PartitionFailure {
  account: string;
  loan?: string;
  error: string;
}

export interface PartitionResult {
  /** False when the partition was already done (another worker, or a retry after commit). */
  ran: boolean;
  loans: number;
  steps: StepTiming[];
  failures: PartitionFailure[];
}

interface LoanRow {
  id: string;
  account_id: string;
  status: string;
  terms: string;
  disbursement_date: string;
  maturity_date: string | null;
  last_eod_date: string | null;
  asset_class: AssetClass;
  dpd: number;
  peak_dpd: number;
  upfront_interest_paise: string;
}

interface DemandRow {
  id: string;
  loan_id: string;
  kind: string;
  installment_number: number | null;
  period_start: string | null;
  due_date: string;
  status: string;
  dpd: number;
  peak_dpd: number;
  p_due_paise: string; ni_due_paise: string; oi_due_paise: string; pi_due_paise: string; fee_due_paise: string;
  p_paid_paise: string; ni_paid_paise: string; oi_paid_paise: string; pi_paid_paise: string; fee_paid_paise: string;
  p_waived_paise: string; ni_waived_paise: string; oi_waived_paise: string; pi_waived_paise: string; fee_waived_paise: string;
  oi_accrued_exact: string; oi_accrued_paise: string; pi_accrued_exact: string; pi_charged_paise: string; pi_tax_paise: string;
}

const big = (v: string | number | bigint): bigint => BigInt(v);
const amounts = (p: bigint | string, ni: bigint | string, oi: bigint | string, pi: bigint | string, fee: bigint | string) => ({
  P: big(p), NI: big(ni), OI: big(oi), PI: big(pi), FEE: big(fee),
});

function demandOf(r: DemandRow): EodDemand {
  return {
    id: r.id, loanId: r.loan_id, kind: r.kind === 'fee' ? 'fee' : 'emi', installmentNumber: r.installment_number,
    periodStart: r.period_start, dueDate: r.due_date, status: r.status, dpd: r.dpd, peakDpd: r.peak_dpd,
    due: amounts(r.p_due_paise, r.ni_due_paise, r.oi_due_paise, r.pi_due_paise, r.fee_due_paise),
    paid: amounts(r.p_paid_paise, r.ni_paid_paise, r.oi_paid_paise, r.pi_paid_paise, r.fee_paid_paise),
    waived: amounts(r.p_waived_paise, r.ni_waived_paise, r.oi_waived_paise, r.pi_waived_paise, r.fee_waived_paise),
    oiExact: big(r.oi_accrued_exact), oiAccrued: big(r.oi_accrued_paise),
    piExact: big(r.pi_accrued_exact), piCharged: big(r.pi_charged_paise), piTax: big(r.pi_tax_paise),
  };
}

const demandChanged = (a: EodDemand, b: EodDemand): boolean =>
  a.status !== b.status || a.dpd !== b.dpd || a.peakDpd !== b.peakDpd || a.due.OI !== b.due.OI || a.due.PI !== b.due.PI
  || a.oiExact !== b.oiExact || a.piExact !== b.piExact || a.piCharged !== b.piCharged || a.piTax !== b.piTax;

/** Loans of one account, their demands by loan, and whatever bullet NI needs. */
interface AccountBook {
  accountId: string;
  loans: EodLoan[];
  demands: Map<string, EodDemand[]>;
  /** Terms EOD cannot honour (e.g. a penal accrual frequency not built): the account is left as it is. */
  error?: string;
}

export interface PartitionJob {
  runId: string;
  seq: number;
}

/**
 * Closes `job`'s partition through the run's date. Errors of one account's terms are kept as
 * failures (its loans stay where they were, to be caught up by a later run once fixed); any
 * other error rolls the whole partition back and is thrown, for the queue to retry.
 */
export async function closePartition(pool: pg.Pool, job: PartitionJob): Promise<PartitionResult> {
  const client = await pool.connect();
  const steps: StepTiming[] = [];
  let mark = performance.now();
  const step = (name: string, rows: number) => {
    const now = performance.now();
    steps.push({ name, ms: Math.round((now - mark) * 10) / 10, rows });
    mark = now;
  };
  try {
    await client.query('BEGIN');
    const head = await client.query<{ company_id: string; date: string; run_status: string; status: string; account_ids: string[]; loans: number }>(
      `SELECT r.company_id, to_char(r.business_date, 'YYYY-MM-DD') AS date, r.status AS run_status, p.status, p.account_ids, p.loans
         FROM eod_run_partitions p JOIN eod_runs r ON r.id = p.run_id
        WHERE p.run_id = $1 AND p.seq = $2 FOR UPDATE OF p`, [job.runId, job.seq]);
    const part = head.rows[0];
    if (!part || part.status !== 'pending' || part.run_status !== 'running') {
      await client.query('ROLLBACK');
      return { ran: false, loans: 0, steps: [], failures: [] };
    }
    const { company_id: companyId, date } = part;
    await client.query('UPDATE eod_run_partitions SET attempts = attempts + 1 WHERE run_id = $1 AND seq = $2', [job.runId, job.seq]);
    await client.query('SELECT id FROM accounts WHERE company_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE', [companyId, part.account_ids]);
    const books = await loadBooks(client, companyId, part.account_ids, date);
    step('load', books.reduce((s, b) => s + b.loans.length, 0));

    const failures: PartitionFailure[] = [];
    const accruals: (AccrualRow & { accountId: string })[] = [];
    const loansOut: EodLoan[] = [];
    const demandsOut: EodDemand[] = [];
    let dayCount = 0;
    for (const book of books) {
      if (book.error) {
        failures.push({ account: book.accountId, error: book.error });
        continue;
      }
      try {
        const closed = closeAccountThrough(book, date);
        dayCount += closed.days;
        for (const row of closed.rows) accruals.push({ ...row, accountId: book.accountId });
        loansOut.push(...closed.loans);
        for (const [loanId, after] of closed.demands) {
          const before = book.demands.get(loanId)!;
          after.forEach((d, i) => { if (demandChanged(d, before[i]!)) demandsOut.push(d); });
        }
      } catch (error) {
        failures.push({ account: book.accountId, error: error instanceof Error ? error.message : String(error) });
      }
    }
    step('close_days', dayCount);

    await insertAccruals(client, companyId, job.runId, accruals);
    step('accruals', accruals.length);
    await updateDemands(client, companyId, demandsOut);
    step('demands', demandsOut.length);
    await updateLoans(client, companyId, loansOut);
    step('loans', loansOut.length);

    await client.query(
      `UPDATE eod_run_partitions SET status = 'done', steps = $3::jsonb, failures = $4::jsonb, finished_at = now() WHERE run_id = $1 AND seq = $2`,
      [job.runId, job.seq, JSON.stringify(steps), JSON.stringify(failures)]);
    await client.query(
      `UPDATE eod_runs SET loans_done = loans_done + $2, partitions_done = partitions_done + 1,
              failures = CASE WHEN $3::jsonb = '[]'::jsonb THEN failures ELSE failures || $3::jsonb END, updated_at = now()
        WHERE id = $1`, [job.runId, part.loans, JSON.stringify(failures)]);
    await client.query('COMMIT');
    return { ran: true, loans: part.loans, steps, failures };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Closes every day an account's loans are behind, through `date`, one day at a time. */
function closeAccountThrough(book: AccountBook, date: BusinessDate): { loans: EodLoan[]; demands: Map<string, EodDemand[]>; rows: AccrualRow[]; days: number } {
  let loans = book.loans.map((l) => ({ ...l }));
  const demands = new Map(book.demands);
  const rows: AccrualRow[] = [];
  let days = 0;
  const nextDayOf = (l: EodLoan) => (l.lastEodDate ? addDays(l.lastEodDate, 1) : l.disbursementDate);
  const start = loans.filter((l) => isOpenLoan(l.status)).map(nextDayOf).sort()[0];
  if (!start) return { loans: [], demands: new Map(), rows, days };
  const touched = new Set<string>();
  for (let day = start; day <= date; day = addDays(day, 1)) {
    const today = loans.filter((l) => isOpenLoan(l.status) && nextDayOf(l) <= day && l.disbursementDate <= day);
    if (today.length === 0) continue;
    const wasNpa = loans.some((l) => isOpenLoan(l.status) && l.assetClass === 'npa');
    const closed = closeAccountDay(today.map((loan) => ({ loan, demands: demands.get(loan.id) ?? [] })), day, wasNpa);
    const byId = new Map(closed.loans.map((d) => [d.loan.id, d]));
    loans = loans.map((l) => byId.get(l.id)?.loan ?? l);
    for (const d of closed.loans) {
      demands.set(d.loan.id, d.demands);
      rows.push(...d.rows);
      touched.add(d.loan.id);
      days += 1;
    }
  }
  return {
    loans: loans.filter((l) => touched.has(l.id)),
    demands: new Map([...demands].filter(([id]) => touched.has(id))),
    rows, days,
  };
}

const DEMAND_COLUMNS = `d.id, d.loan_id, d.kind, d.installment_number, to_char(d.period_start, 'YYYY-MM-DD') AS period_start,
  to_char(d.due_date, 'YYYY-MM-DD') AS due_date, d.status, d.dpd, d.peak_dpd,
  d.p_due_paise, d.ni_due_paise, d.oi_due_paise, d.pi_due_paise, d.fee_due_paise,
  d.p_paid_paise, d.ni_paid_paise, d.oi_paid_paise, d.pi_paid_paise, d.fee_paid_paise,
  d.p_waived_paise, d.ni_waived_paise, d.oi_waived_paise, d.pi_waived_paise, d.fee_waived_paise,
  d.oi_accrued_exact::text AS oi_accrued_exact, d.oi_accrued_paise, d.pi_accrued_exact::text AS pi_accrued_exact, d.pi_charged_paise, d.pi_tax_paise`;

/**
 * The partition's open loans (disbursed by `date`) and the demands EOD can change: those due by
 * `date` with anything unpaid (status, OI, PI, DPD), and those whose interest period or due date
 * falls in the days being closed (NI rows, the day a demand falls due). Paid demands wholly in
 * the past never change and are not read.
 */
async function loadBooks(client: pg.PoolClient, companyId: string, accountIds: readonly string[], date: BusinessDate): Promise<AccountBook[]> {
  const loanRows = (await client.query<LoanRow>(
    `SELECT id, account_id, status, terms::text AS terms, to_char(disbursement_date, 'YYYY-MM-DD') AS disbursement_date,
            to_char(maturity_date, 'YYYY-MM-DD') AS maturity_date, to_char(last_eod_date, 'YYYY-MM-DD') AS last_eod_date,
            asset_class, dpd, peak_dpd, upfront_interest_paise
       FROM loans
      WHERE company_id = $1 AND account_id = ANY($2::uuid[]) AND status IN ('active', 'overdue', 'npa')
        AND disbursement_date IS NOT NULL AND disbursement_date <= $3::date
      ORDER BY account_id, disbursement_date, id`, [companyId, accountIds, date])).rows;
  if (loanRows.length === 0) return [];
  const behind = loanRows.filter((l) => l.last_eod_date === null || l.last_eod_date < date);
  const behindIds = behind.map((l) => l.id);
  const from = behind.map((l) => (l.last_eod_date ? addDays(l.last_eod_date, 1) : l.disbursement_date)).sort()[0] ?? date;
  const [demandRows, trancheRows, prepaidRows] = behindIds.length === 0 ? [[], [], []] : await Promise.all([
    client.query<DemandRow>(
      `SELECT ${DEMAND_COLUMNS} FROM demands d
        WHERE d.company_id = $1 AND d.loan_id = ANY($2::uuid[]) AND d.status <> 'cancelled'
          AND ((d.due_date <= $3::date AND d.status NOT IN ('paid', 'waived'))
               OR (d.due_date >= $4::date AND (d.period_start IS NULL OR d.period_start <= $3::date)))
        ORDER BY d.loan_id, d.due_date, d.installment_number NULLS LAST, d.id`, [companyId, behindIds, date, from]).then((r) => r.rows),
    client.query<{ loan_id: string; date: string; amount: string }>(
      `SELECT loan_id, to_char(disbursement_date, 'YYYY-MM-DD') AS date, amount_paise AS amount FROM tranches
        WHERE company_id = $1 AND loan_id = ANY($2::uuid[]) AND status = 'disbursed' AND disbursement_date IS NOT NULL
        ORDER BY loan_id, number`, [companyId, behindIds]).then((r) => r.rows),
    client.query<{ loan_id: string; date: string; amount: string }>(
      `SELECT loan_id, to_char(value_date, 'YYYY-MM-DD') AS date, SUM(amount_paise)::text AS amount FROM settlements
        WHERE company_id = $1 AND loan_id = ANY($2::uuid[]) AND component = 'P' AND source = 'prepay'
        GROUP BY loan_id, value_date HAVING SUM(amount_paise) <> 0 ORDER BY loan_id, value_date`, [companyId, behindIds]).then((r) => r.rows),
  ]);
  const tranches = groupBy(trancheRows, (r) => r.loan_id, (r): PrincipalTranche => ({ date: r.date, amount: big(r.amount) }));
  const prepaid = groupBy(prepaidRows, (r) => r.loan_id, (r): PrincipalRepayment => ({ valueDate: r.date, amount: big(r.amount) }));
  const demands = groupBy(demandRows, (r) => r.loan_id, demandOf);
  const termsCache = new Map<string, EodTerms | EodTermsError>();
  const books = new Map<string, AccountBook>();
  for (const row of loanRows) {
    let terms = termsCache.get(row.terms);
    if (!terms) {
      try {
        terms = eodTermsOf(paramsFromJson(JSON.parse(row.terms)));
      } catch (error) {
        if (!(error instanceof EodTermsError)) throw error;
        terms = error;
      }
      termsCache.set(row.terms, terms);
    }
    const book: AccountBook = books.get(row.account_id) ?? { accountId: row.account_id, loans: [], demands: new Map() };
    books.set(row.account_id, book);
    if (terms instanceof EodTermsError) {
      if (row.last_eod_date === null || row.last_eod_date < date) book.error = `Loan ${row.id}: ${terms.field}: ${terms.message}`;
      continue;
    }
    book.loans.push({
      id: row.id, accountId: row.account_id, terms, disbursementDate: row.disbursement_date, maturityDate: row.maturity_date,
      status: row.status, assetClass: row.asset_class, dpd: row.dpd, peakDpd: row.peak_dpd, lastEodDate: row.last_eod_date,
      upfrontInterest: big(row.upfront_interest_paise), tranches: tranches.get(row.id) ?? [], prepaid: prepaid.get(row.id) ?? [],
    });
    book.demands.set(row.id, demands.get(row.id) ?? []);
  }
  return [...books.values()];
}

function groupBy<R, T>(rows: readonly R[], key: (r: R) => string, map: (r: R) => T): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(map(r));
  }
  return out;
}

async function insertAccruals(client: pg.PoolClient, companyId: string, runId: string, rows: readonly (AccrualRow & { accountId: string })[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO accruals (id, company_id, account_id, loan_id, demand_id, accrual_date, component, amount_paise, tax_paise, in_suspense, exact_after, eod_run_id)
     SELECT u.id, $1, u.account_id, u.loan_id, u.demand_id, u.accrual_date, u.component, u.amount, u.tax, u.in_suspense, u.exact_after, $2
       FROM unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::date[], $8::text[], $9::bigint[], $10::bigint[], $11::boolean[], $12::numeric[])
         AS u(id, account_id, loan_id, demand_id, accrual_date, component, amount, tax, in_suspense, exact_after)`,
    [
      companyId, runId, rows.map(() => newId()), rows.map((r) => r.accountId), rows.map((r) => r.loanId), rows.map((r) => r.demandId),
      rows.map((r) => r.date), rows.map((r) => r.component), rows.map((r) => r.amount.toString()), rows.map((r) => r.tax.toString()),
      rows.map((r) => r.inSuspense), rows.map((r) => (r.exactAfter === null ? null : r.exactAfter.toString())),
    ]);
}

async function updateDemands(client: pg.PoolClient, companyId: string, demands: readonly EodDemand[]): Promise<void> {
  if (demands.length === 0) return;
  await client.query(
    `UPDATE demands d SET status = u.status, dpd = u.dpd, peak_dpd = u.peak_dpd, oi_due_paise = u.oi_due, pi_due_paise = u.pi_due,
            oi_accrued_exact = u.oi_exact, oi_accrued_paise = u.oi_accrued, pi_accrued_exact = u.pi_exact,
            pi_charged_paise = u.pi_charged, pi_tax_paise = u.pi_tax, updated_at = now()
       FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::bigint[], $7::bigint[], $8::numeric[], $9::bigint[], $10::numeric[], $11::bigint[], $12::bigint[])
         AS u(id, status, dpd, peak_dpd, oi_due, pi_due, oi_exact, oi_accrued, pi_exact, pi_charged, pi_tax)
      WHERE d.company_id = $1 AND d.id = u.id`,
    [
      companyId, demands.map((d) => d.id), demands.map((d) => d.status), demands.map((d) => d.dpd), demands.map((d) => d.peakDpd),
      demands.map((d) => d.due.OI.toString()), demands.map((d) => d.due.PI.toString()), demands.map((d) => d.oiExact.toString()),
      demands.map((d) => d.oiAccrued.toString()), demands.map((d) => d.piExact.toString()), demands.map((d) => d.piCharged.toString()),
      demands.map((d) => d.piTax.toString()),
    ]);
}

async function updateLoans(client: pg.PoolClient, companyId: string, loans: readonly EodLoan[]): Promise<void> {
  if (loans.length === 0) return;
  await client.query(
    `UPDATE loans l SET status = u.status, dpd = u.dpd, peak_dpd = u.peak_dpd, asset_class = u.asset_class, last_eod_date = u.last_eod_date, updated_at = now()
       FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::text[], $7::date[]) AS u(id, status, dpd, peak_dpd, asset_class, last_eod_date)
      WHERE l.company_id = $1 AND l.id = u.id`,
    [companyId, loans.map((l) => l.id), loans.map((l) => l.status), loans.map((l) => l.dpd), loans.map((l) => l.peakDpd), loans.map((l) => l.assetClass), loans.map((l) => l.lastEodDate)]);
}
