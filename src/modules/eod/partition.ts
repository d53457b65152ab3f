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
  closeAccountDay, eodTermsOf, EodTermsError, isOpenLoan, statusAtEod,
  type AccrualRow, type AssetClass, type EodDemand, type EodLoan, type EodTerms,
} from '../../domain/eod.js';
import { applyHeldExcess, principalByLoan, type ExcessLine, type HeldRecord } from '../../domain/held-excess.js';
import { parseComponentOrderOrThrow, type SettlementOrder } from '../../domain/allocation.js';
import { totalOutstanding as totalOutstandingSql } from '../../db/demand-sql.js';
import { newId } from '../../domain/ids.js';
import { totalOutstanding, type Amounts } from '../../domain/replay.js';
import type { Component } from '../../domain/loan-params.js';
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
  /** False when a chunk of days was closed and more remain: the caller enqueues the partition again. */
  done: boolean;
  loans: number;
  steps: StepTiming[];
  failures: PartitionFailure[];
}

interface LoanRow {
  id: string;
  account_id: string;
  status: string;
  /** md5 of the terms snapshot: loans of one program share it, so each is read and parsed once. */
  terms_key: string;
  disbursement_date: string;
  maturity_date: string | null;
  last_eod_date: string | null;
  asset_class: AssetClass;
  dpd: number;
  peak_dpd: number;
  upfront_interest_paise: string;
  line_type: string;
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
  || a.oiExact !== b.oiExact || a.piExact !== b.piExact || a.piCharged !== b.piCharged || a.piTax !== b.piTax
  || a.paid.P !== b.paid.P || a.paid.NI !== b.paid.NI || a.paid.OI !== b.paid.OI || a.paid.PI !== b.paid.PI || a.paid.FEE !== b.paid.FEE;

/** Loans of one account, their demands by loan, and whatever bullet NI needs. */
interface AccountBook {
  accountId: string;
  loans: EodLoan[];
  demands: Map<string, EodDemand[]>;
  /** Terms EOD cannot honour (e.g. a penal accrual frequency not built): the account is left as it is. */
  error?: string;
  /** Records with excess available, oldest first (step 2); mutated as the days apply them. */
  held: HeldRecord[];
  /** Each loan's line (primary, ...): principal repaid from excess is released on it. */
  lineTypes: Map<string, string>;
  /** Outstanding of each loan's demands that were not read (future installments): a loan closes only when all is paid. */
  unread: Map<string, bigint>;
  /**
   * Per demand, settlement amounts valued after the first day being closed: money that had not
   * arrived yet on the earlier days. A catch-up closes each day on that day's balances.
   */
  later: Map<string, { date: BusinessDate; component: Component; amount: bigint }[]>;
}

/** A settlement line written by step 2, with where it stands. */
interface PostedExcess extends ExcessLine {
  accountId: string;
  valueDate: BusinessDate;
  dpd: number;
  peakDpd: number;
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
export async function closePartition(pool: pg.Pool, job: PartitionJob, chunkLoanDays = 5_000): Promise<PartitionResult> {
  const client = await pool.connect();
  const steps: StepTiming[] = [];
  let mark = performance.now();
  const step = (name: string, rows: number) => {
    const now = performance.now();
    steps.push({ name, ms: Math.round((now - mark) * 10) / 10, rows });
    mark = now;
  };
  try {
    // Counted outside the transaction, so that an attempt killed midway is still counted.
    await client.query(`UPDATE eod_run_partitions SET attempts = attempts + 1 WHERE run_id = $1 AND seq = $2 AND status = 'pending'`, [job.runId, job.seq]);
    await client.query('BEGIN');
    // The partition's reads are small and planned afresh each time: JIT compiling them costs far
    // more than running them (about 0.4 s a partition at a million loans).
    await client.query('SET LOCAL jit = off');
    const head = await client.query<{
      company_id: string; date: string; run_status: string; status: string; account_ids: string[]; loans: number; steps: StepTiming[]; failures: PartitionFailure[];
    }>(
      `SELECT r.company_id, to_char(r.business_date, 'YYYY-MM-DD') AS date, r.status AS run_status, p.status, p.account_ids, p.loans, p.steps, p.failures
         FROM eod_run_partitions p JOIN eod_runs r ON r.id = p.run_id
        WHERE p.run_id = $1 AND p.seq = $2 FOR UPDATE OF p`, [job.runId, job.seq]);
    const part = head.rows[0];
    if (!part || part.status !== 'pending' || part.run_status !== 'running') {
      await client.query('ROLLBACK');
      return { ran: false, done: true, loans: 0, steps: [], failures: [] };
    }
    const { company_id: companyId, date } = part;
    // Accounts that failed in an earlier chunk stay where they are; the others go on.
    const failed = new Set(part.failures.map((f) => f.account));
    const accountIds = part.account_ids.filter((id) => !failed.has(id));
    await client.query('SELECT id FROM accounts WHERE company_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE', [companyId, accountIds]);
    const { books, through } = await loadBooks(client, companyId, accountIds, date, chunkLoanDays);
    step('load', books.reduce((s, b) => s + b.loans.length, 0));

    const failures: PartitionFailure[] = [];
    const accruals: (AccrualRow & { accountId: string })[] = [];
    const loansOut: EodLoan[] = [];
    const demandsOut: EodDemand[] = [];
    const excessOut: PostedExcess[] = [];
    /** Principal repaid from excess per "account/line type": released on the line. */
    const released = new Map<string, bigint>();
    const closedLoans: { accountId: string; loanId: string }[] = [];
    let dayCount = 0;
    for (const book of books) {
      if (book.error) {
        failures.push({ account: book.accountId, error: book.error });
        continue;
      }
      try {
        const closed = closeAccountThrough(book, through);
        dayCount += closed.days;
        for (const row of closed.rows) accruals.push({ ...row, accountId: book.accountId });
        loansOut.push(...closed.loans);
        excessOut.push(...closed.excess);
        for (const [loanId, principal] of principalByLoan(closed.excess)) {
          const key = `${book.accountId}/${book.lineTypes.get(loanId)}`;
          released.set(key, (released.get(key) ?? 0n) + principal);
        }
        for (const loanId of closed.closed) closedLoans.push({ accountId: book.accountId, loanId });
        for (const [loanId, after] of closed.demands) {
          const before = book.demands.get(loanId)!;
          after.forEach((d, i) => { if (demandChanged(d, before[i]!)) demandsOut.push(d); });
        }
      } catch (error) {
        failures.push({ account: book.accountId, error: error instanceof Error ? error.message : String(error) });
      }
    }
    step('close_days', dayCount);

    await applyExcessWrites(client, companyId, job.runId, excessOut, released, closedLoans);
    step('held_excess', excessOut.length);
    await insertAccruals(client, companyId, job.runId, accruals);
    step('accruals', accruals.length);
    await updateDemands(client, companyId, demandsOut);
    step('demands', demandsOut.length);
    await updateLoans(client, companyId, loansOut);
    step('loans', loansOut.length);

    // A long catch-up is closed in chunks of days, each its own transaction: `through` is where
    // this one stopped; the partition is done when that is the run's date.
    const done = through === date;
    const allSteps = mergeSteps(part.steps, steps);
    await client.query(
      `UPDATE eod_run_partitions SET status = $3, steps = $4::jsonb, failures = failures || $5::jsonb, finished_at = CASE WHEN $3 = 'done' THEN now() END
        WHERE run_id = $1 AND seq = $2`,
      [job.runId, job.seq, done ? 'done' : 'pending', JSON.stringify(allSteps), JSON.stringify(failures)]);
    await client.query(
      `UPDATE eod_runs SET loans_done = loans_done + $2, partitions_done = partitions_done + $4,
              failures = CASE WHEN $3::jsonb = '[]'::jsonb THEN failures ELSE failures || $3::jsonb END, updated_at = now()
        WHERE id = $1`, [job.runId, done ? part.loans : 0, JSON.stringify(failures), done ? 1 : 0]);
    await client.query('COMMIT');
    return { ran: true, done, loans: done ? part.loans : 0, steps, failures };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Step timings of a partition's chunks added up by name, in first-seen order. */
function mergeSteps(before: readonly StepTiming[], now: readonly StepTiming[]): StepTiming[] {
  const out = before.map((s) => ({ ...s }));
  for (const s of now) {
    const same = out.find((o) => o.name === s.name);
    if (same) {
      same.ms = Math.round((Number(same.ms) + s.ms) * 10) / 10;
      same.rows = Number(same.rows) + s.rows;
    } else out.push({ ...s });
  }
  return out;
}

interface ClosedAccount {
  loans: EodLoan[];
  demands: Map<string, EodDemand[]>;
  rows: AccrualRow[];
  excess: PostedExcess[];
  /** Loans repaid in full by held excess: closed. */
  closed: Set<string>;
  days: number;
}

const cloneDemand = (d: EodDemand): EodDemand => ({ ...d, due: { ...d.due }, paid: { ...d.paid }, waived: { ...d.waived } });

/**
 * Closes every day an account's loans are behind, through `date`, one day at a time: step 2
 * (held excess) on the day's due demands, then the rest of the day (domain/eod.ts). The step 1
 * status of a demand is a function of its figures, so applying the excess first and then
 * deriving every status gives the order of section 6: a demand paid from excess on its due date
 * is paid, never overdue.
 */
function closeAccountThrough(book: AccountBook, date: BusinessDate): ClosedAccount {
  let loans = book.loans.map((l) => ({ ...l }));
  const demands = new Map(book.demands);
  const rows: AccrualRow[] = [];
  const excess: PostedExcess[] = [];
  const closed = new Set<string>();
  let days = 0;
  const nextDayOf = (l: EodLoan) => (l.lastEodDate ? addDays(l.lastEodDate, 1) : l.disbursementDate);
  const start = loans.filter((l) => isOpenLoan(l.status) && nextDayOf(l) <= date).map(nextDayOf).sort()[0];
  if (!start) return { loans: [], demands: new Map(), rows, excess, closed, days };
  const touched = new Set<string>();
  // Paid figures as they now stand (plus what held excess pays during these days): the day's own
  // balances are these less the money valued after the day.
  const paidNow = new Map<string, Amounts>();
  for (const list of book.demands.values()) for (const d of list) if (book.later.has(d.id)) paidNow.set(d.id, { ...d.paid });
  const asOf = (d: EodDemand, day: BusinessDate): EodDemand => {
    const now = paidNow.get(d.id);
    if (!now) return d;
    const paid = { ...now };
    for (const l of book.later.get(d.id)!) if (l.date > day) paid[l.component] -= l.amount;
    return { ...d, paid };
  };
  for (let day = start; day <= date; day = addDays(day, 1)) {
    const today = loans.filter((l) => isOpenLoan(l.status) && nextDayOf(l) <= day && l.disbursementDate <= day);
    if (today.length === 0) continue;
    if (paidNow.size > 0) for (const l of today) demands.set(l.id, (demands.get(l.id) ?? []).map((d) => asOf(d, day)));
    const paidFromExcess = applyExcessOn(book, today, demands, day);
    for (const line of paidFromExcess) {
      const now = paidNow.get(line.demandId);
      if (now) now[line.component] += line.amount;
    }
    excess.push(...paidFromExcess);
    const open = loans.filter((l) => isOpenLoan(l.status));
    const wasNpa = open.some((l) => l.assetClass === 'npa');
    const others = open.filter((l) => !today.includes(l));
    const result = closeAccountDay(today.map((loan) => ({ loan, demands: demands.get(loan.id) ?? [] })), day, wasNpa, others);
    const byId = new Map(result.loans.map((d) => [d.loan.id, d]));
    loans = loans.map((l) => byId.get(l.id)?.loan ?? l);
    for (const d of result.loans) {
      demands.set(d.loan.id, d.demands);
      rows.push(...d.rows);
      touched.add(d.loan.id);
      days += 1;
    }
    // A loan that excess repaid in full closes, as a repayment would close it (records/replay.ts).
    for (const loanId of new Set(paidFromExcess.map((l) => l.loanId))) {
      const left = (book.unread.get(loanId) ?? 0n) + (demands.get(loanId) ?? []).reduce((s, d) => s + (d.status === 'cancelled' ? 0n : totalOutstanding(d)), 0n);
      if (left !== 0n) continue;
      loans = loans.map((l) => (l.id === loanId ? { ...l, status: 'closed', dpd: 0, assetClass: 'standard' } : l));
      closed.add(loanId);
    }
  }
  // What is written is the demand as it stands now: today's paid figures, its status from them.
  if (paidNow.size > 0) {
    for (const [loanId, list] of demands) {
      if (!touched.has(loanId)) continue;
      demands.set(loanId, list.map((d) => {
        const now = paidNow.get(d.id);
        if (!now) return d;
        const current = { ...d, paid: { ...now } };
        return { ...current, status: statusAtEod(current, date, d.status) };
      }));
    }
  }
  return {
    loans: loans.filter((l) => touched.has(l.id)),
    demands: new Map([...demands].filter(([id]) => touched.has(id))),
    rows, excess, closed, days,
  };
}

/** Step 2 for one day: working copies of the demands it can pay, then the engine over them. */
function applyExcessOn(book: AccountBook, today: readonly EodLoan[], demands: Map<string, EodDemand[]>, day: BusinessDate): PostedExcess[] {
  if (!book.held.some((r) => r.available > 0n)) return [];
  const payable = today.filter((l) => (demands.get(l.id) ?? []).some((d) => d.status !== 'cancelled' && d.dueDate <= day && totalOutstanding(d) > 0n));
  if (payable.length === 0) return [];
  const work: EodDemand[] = [];
  for (const loan of payable) {
    const copies = (demands.get(loan.id) ?? []).map(cloneDemand);
    demands.set(loan.id, copies);
    work.push(...copies.filter((d) => d.status !== 'cancelled'));
  }
  const lines = applyHeldExcess(book.held, work, new Map(payable.map((l) => [l.id, l.disbursementDate])), day);
  const byId = new Map(work.map((d) => [d.id, d]));
  return lines.map((line) => {
    const d = byId.get(line.demandId)!;
    return { ...line, accountId: book.accountId, valueDate: day, dpd: d.dpd, peakDpd: d.peakDpd };
  });
}

interface HeldRow {
  id: string;
  account_id: string;
  available: string;
  unapplied_tds: string;
  settlement_order: string;
  component_order: string;
  loan_ids: string[];
  value_date: string | null;
}


/** EOD terms by md5 of a loan's terms snapshot, kept by the process across partitions (immutable). */
const TERMS_CACHE = new Map<string, EodTerms | EodTermsError>();

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
async function loadBooks(
  client: pg.PoolClient, companyId: string, accountIds: readonly string[], runDate: BusinessDate, chunkLoanDays: number,
): Promise<{ books: AccountBook[]; through: BusinessDate }> {
  const loanRows = (await client.query<LoanRow>(
    `SELECT id, account_id, status, md5(terms::text) AS terms_key, to_char(disbursement_date, 'YYYY-MM-DD') AS disbursement_date,
            to_char(maturity_date, 'YYYY-MM-DD') AS maturity_date, to_char(last_eod_date, 'YYYY-MM-DD') AS last_eod_date,
            asset_class, dpd, peak_dpd, upfront_interest_paise, line_type
       FROM loans
      WHERE company_id = $1 AND account_id = ANY($2::uuid[]) AND status IN ('active', 'overdue', 'npa')
        AND disbursement_date IS NOT NULL AND disbursement_date <= $3::date
      ORDER BY account_id, disbursement_date, id`, [companyId, accountIds, runDate])).rows;
  if (loanRows.length === 0) return { books: [], through: runDate };
  const behind = loanRows.filter((l) => l.last_eod_date === null || l.last_eod_date < runDate);
  const behindIds = behind.map((l) => l.id);
  const from = behind.map((l) => (l.last_eod_date ? addDays(l.last_eod_date, 1) : l.disbursement_date)).sort()[0] ?? runDate;
  // This chunk closes at most about chunkLoanDays loan-days: through `date`, the run's date or earlier.
  const span = Math.max(1, Math.floor(chunkLoanDays / Math.max(1, behind.length)));
  const chunkEnd = addDays(from, span - 1);
  const date = chunkEnd < runDate ? chunkEnd : runDate;
  // One client runs one statement at a time: these are awaited in turn.
  const none = behindIds.length === 0;
  const demandRows = none ? [] : (await client.query<DemandRow>(
    `SELECT ${DEMAND_COLUMNS} FROM demands d
      WHERE d.company_id = $1 AND d.loan_id = ANY($2::uuid[]) AND d.status <> 'cancelled'
        AND ((d.due_date <= $3::date AND d.status NOT IN ('paid', 'waived'))
             OR (d.due_date >= $4::date AND (d.period_start IS NULL OR d.period_start <= $3::date))
             OR EXISTS (SELECT 1 FROM settlements s WHERE s.company_id = d.company_id AND s.loan_id = d.loan_id AND s.demand_id = d.id AND s.value_date > $4::date))
      ORDER BY d.loan_id, d.due_date, d.installment_number NULLS LAST, d.id`, [companyId, behindIds, date, from])).rows;
  // Money valued after the first day closed: the earlier days are closed without it.
  const laterRows = none ? [] : (await client.query<{ demand_id: string; date: string; component: Component; amount: string }>(
    `SELECT demand_id, to_char(value_date, 'YYYY-MM-DD') AS date, component, SUM(amount_paise)::text AS amount FROM settlements
      WHERE company_id = $1 AND loan_id = ANY($2::uuid[]) AND value_date > $3::date
      GROUP BY demand_id, value_date, component HAVING SUM(amount_paise) <> 0`, [companyId, behindIds, from])).rows;
  const trancheRows = none ? [] : (await client.query<{ loan_id: string; date: string; amount: string }>(
    `SELECT loan_id, to_char(disbursement_date, 'YYYY-MM-DD') AS date, amount_paise AS amount FROM tranches
      WHERE company_id = $1 AND loan_id = ANY($2::uuid[]) AND status = 'disbursed' AND disbursement_date IS NOT NULL
      ORDER BY loan_id, number`, [companyId, behindIds])).rows;
  const prepaidRows = none ? [] : (await client.query<{ loan_id: string; date: string; amount: string }>(
    `SELECT loan_id, to_char(value_date, 'YYYY-MM-DD') AS date, SUM(amount_paise)::text AS amount FROM settlements
      WHERE company_id = $1 AND loan_id = ANY($2::uuid[]) AND component = 'P' AND source = 'prepay'
      GROUP BY loan_id, value_date HAVING SUM(amount_paise) <> 0 ORDER BY loan_id, value_date`, [companyId, behindIds])).rows;
  // Step 2: records with excess available, oldest first (value date, then creation).
  const heldRows = none ? [] : (await client.query<HeldRow>(
    `SELECT r.id, r.account_id, (r.remaining_paise - r.reserved_paise)::text AS available,
            GREATEST(0, r.tds_paise - COALESCE((SELECT SUM(t.amount_paise) FROM settlements t
              WHERE t.company_id = r.company_id AND t.record_id = r.id AND t.source IN ('tds', 'excess_tds')), 0))::text AS unapplied_tds,
            r.settlement_order, r.component_order, r.loan_ids, to_char(r.value_date, 'YYYY-MM-DD') AS value_date
       FROM records r
      WHERE r.company_id = $1 AND r.account_id = ANY($2::uuid[]) AND r.status = 'processed' AND r.remaining_paise > r.reserved_paise
      ORDER BY r.value_date, r.created_at, r.id`, [companyId, accountIds])).rows;
  const heldAccounts = new Set(heldRows.map((r) => r.account_id));
  const unreadRows = heldAccounts.size === 0 ? [] : (await client.query<{ loan_id: string; unread: string }>(
    `SELECT d.loan_id, SUM(${totalOutstandingSql.sql})::text AS unread FROM demands d
      WHERE d.company_id = $1 AND d.loan_id = ANY($2::uuid[]) AND d.status <> 'cancelled' AND NOT (d.id = ANY($3::uuid[]))
      GROUP BY d.loan_id`,
    [companyId, behind.filter((l) => heldAccounts.has(l.account_id)).map((l) => l.id), demandRows.map((d) => d.id)])).rows;
  const unread = new Map(unreadRows.map((r) => [r.loan_id, big(r.unread)]));
  const held = groupBy(heldRows, (r) => r.account_id, (r): HeldRecord => ({
    id: r.id, available: big(r.available), unappliedTds: big(r.unapplied_tds), settlementOrder: r.settlement_order as SettlementOrder,
    componentOrder: parseComponentOrderOrThrow(r.component_order), loanIds: r.loan_ids, ...(r.value_date ? { valueDate: r.value_date } : {}),
  }));
  const later = groupBy(laterRows, (r) => r.demand_id, (r) => ({ date: r.date, component: r.component, amount: big(r.amount) }));
  const tranches = groupBy(trancheRows, (r) => r.loan_id, (r): PrincipalTranche => ({ date: r.date, amount: big(r.amount) }));
  const prepaid = groupBy(prepaidRows, (r) => r.loan_id, (r): PrincipalRepayment => ({ valueDate: r.date, amount: big(r.amount) }));
  const demands = groupBy(demandRows, (r) => r.loan_id, demandOf);
  if (TERMS_CACHE.size > 10_000) TERMS_CACHE.clear();
  const missing = [...new Set(loanRows.map((r) => r.terms_key))].filter((k) => !TERMS_CACHE.has(k));
  if (missing.length > 0) {
    const firstOf = new Map<string, string>();
    for (const r of loanRows) if (missing.includes(r.terms_key) && !firstOf.has(r.terms_key)) firstOf.set(r.terms_key, r.id);
    const termsRows = (await client.query<{ key: string; terms: string }>(
      `SELECT md5(terms::text) AS key, terms::text AS terms FROM loans WHERE company_id = $1 AND id = ANY($2::uuid[])`,
      [companyId, [...firstOf.values()]])).rows;
    for (const t of termsRows) {
      try {
        TERMS_CACHE.set(t.key, eodTermsOf(paramsFromJson(JSON.parse(t.terms))));
      } catch (error) {
        if (!(error instanceof EodTermsError)) throw error;
        TERMS_CACHE.set(t.key, error);
      }
    }
  }
  const books = new Map<string, AccountBook>();
  for (const row of loanRows) {
    const terms = TERMS_CACHE.get(row.terms_key);
    if (!terms) throw new Error(`Loan ${row.id}: its terms could not be read`);
    const book: AccountBook = books.get(row.account_id) ?? {
      accountId: row.account_id, loans: [], demands: new Map(), held: held.get(row.account_id) ?? [], lineTypes: new Map(), unread, later,
    };
    book.lineTypes.set(row.id, row.line_type);
    books.set(row.account_id, book);
    if (terms instanceof EodTermsError) {
      if (row.last_eod_date === null || row.last_eod_date < runDate) book.error = `Loan ${row.id}: ${terms.field}: ${terms.message}`;
      continue;
    }
    book.loans.push({
      id: row.id, accountId: row.account_id, terms, disbursementDate: row.disbursement_date, maturityDate: row.maturity_date,
      status: row.status, assetClass: row.asset_class, dpd: row.dpd, peakDpd: row.peak_dpd, lastEodDate: row.last_eod_date,
      upfrontInterest: big(row.upfront_interest_paise), tranches: tranches.get(row.id) ?? [], prepaid: prepaid.get(row.id) ?? [],
    });
    book.demands.set(row.id, demands.get(row.id) ?? []);
  }
  return { books: [...books.values()], through: date };
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

/**
 * Step 2's writes: the settlement lines (source excess / excess_tds, valued on the day applied),
 * the records' remaining excess, principal released on each line and the account's available
 * limit recomputed from its lines (as records/replay.ts and line-details do), loans repaid in
 * full closed, and an audit row for each record applied and each loan closed.
 */
async function applyExcessWrites(
  client: pg.PoolClient, companyId: string, runId: string, lines: readonly PostedExcess[], released: ReadonlyMap<string, bigint>,
  closedLoans: readonly { accountId: string; loanId: string }[],
): Promise<void> {
  if (lines.length === 0) return;
  await client.query(
    `INSERT INTO settlements (id, company_id, account_id, record_id, loan_id, demand_id, component, source, amount_paise, value_date,
                              remaining_after_paise, demand_outstanding_paise, demand_due_paise, dpd, peak_dpd)
     SELECT u.id, $1, u.account_id, u.record_id, u.loan_id, u.demand_id, u.component, u.source, u.amount, u.value_date,
            u.remaining_after, u.outstanding_after, u.outstanding_after, u.dpd, u.peak_dpd
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::bigint[], $10::date[], $11::bigint[], $12::bigint[], $13::int[], $14::int[])
         AS u(id, account_id, record_id, loan_id, demand_id, component, source, amount, value_date, remaining_after, outstanding_after, dpd, peak_dpd)`,
    [
      companyId, lines.map(() => newId()), lines.map((l) => l.accountId), lines.map((l) => l.recordId), lines.map((l) => l.loanId), lines.map((l) => l.demandId),
      lines.map((l) => l.component), lines.map((l) => l.source), lines.map((l) => l.amount.toString()), lines.map((l) => l.valueDate),
      lines.map((l) => l.remainingAfter.toString()), lines.map((l) => l.outstandingAfter.toString()), lines.map((l) => l.dpd), lines.map((l) => l.peakDpd),
    ]);
  const byRecord = new Map<string, { accountId: string; amount: bigint; lines: number }>();
  for (const l of lines) {
    const r = byRecord.get(l.recordId) ?? { accountId: l.accountId, amount: 0n, lines: 0 };
    r.amount += l.amount;
    r.lines += 1;
    byRecord.set(l.recordId, r);
  }
  const records = [...byRecord];
  await client.query(
    `UPDATE records r SET remaining_paise = r.remaining_paise - u.applied, updated_at = now()
       FROM unnest($2::uuid[], $3::bigint[]) AS u(id, applied) WHERE r.company_id = $1 AND r.id = u.id`,
    [companyId, records.map(([id]) => id), records.map(([, r]) => r.amount.toString())]);
  const lineKeys = [...released].filter(([, amount]) => amount > 0n).map(([key, amount]) => ({ account: key.split('/')[0]!, type: key.slice(key.indexOf('/') + 1), amount }));
  if (lineKeys.length > 0) {
    await client.query(
      `UPDATE line_details l SET used_paise = l.used_paise - u.amount, available_paise = l.available_paise + u.amount, updated_at = now()
         FROM unnest($2::uuid[], $3::text[], $4::bigint[]) AS u(account_id, type, amount)
        WHERE l.company_id = $1 AND l.account_id = u.account_id AND l.type = u.type`,
      [companyId, lineKeys.map((k) => k.account), lineKeys.map((k) => k.type), lineKeys.map((k) => k.amount.toString())]);
    await client.query(
      `UPDATE accounts a SET sanctioned_limit_paise = s.approved, available_limit_paise = s.available, updated_at = now()
         FROM (SELECT account_id, SUM(approved_paise)::bigint AS approved, SUM(available_paise)::bigint AS available FROM line_details
                WHERE company_id = $1 AND account_id = ANY($2::uuid[]) AND status = 'active' GROUP BY account_id) s
        WHERE a.company_id = $1 AND a.id = s.account_id`,
      [companyId, [...new Set(lineKeys.map((k) => k.account))]]);
  }
  const audits = [
    ...records.map(([id, r]) => ({ type: 'record', id, action: 'excess_applied', data: { eod_run: runId, amount_paise: r.amount.toString(), lines: r.lines } })),
    ...closedLoans.map((c) => ({ type: 'loan', id: c.loanId, action: 'closed', data: { reason: 'repaid', by: 'held excess', eod_run: runId } })),
  ];
  await client.query(
    `INSERT INTO audit_events (company_id, entity_type, entity_id, action, actor, data)
     SELECT $1, u.entity_type, u.entity_id, u.action, 'system:eod', u.data FROM unnest($2::text[], $3::uuid[], $4::text[], $5::jsonb[]) AS u(entity_type, entity_id, action, data)`,
    [companyId, audits.map((a) => a.type), audits.map((a) => a.id), audits.map((a) => a.action), audits.map((a) => JSON.stringify(a.data))]);
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
            pi_charged_paise = u.pi_charged, pi_tax_paise = u.pi_tax,
            p_paid_paise = u.p_paid, ni_paid_paise = u.ni_paid, oi_paid_paise = u.oi_paid, pi_paid_paise = u.pi_paid, fee_paid_paise = u.fee_paid, updated_at = now()
       FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::bigint[], $7::bigint[], $8::numeric[], $9::bigint[], $10::numeric[], $11::bigint[], $12::bigint[],
                   $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[])
         AS u(id, status, dpd, peak_dpd, oi_due, pi_due, oi_exact, oi_accrued, pi_exact, pi_charged, pi_tax, p_paid, ni_paid, oi_paid, pi_paid, fee_paid)
      WHERE d.company_id = $1 AND d.id = u.id`,
    [
      companyId, demands.map((d) => d.id), demands.map((d) => d.status), demands.map((d) => d.dpd), demands.map((d) => d.peakDpd),
      demands.map((d) => d.due.OI.toString()), demands.map((d) => d.due.PI.toString()), demands.map((d) => d.oiExact.toString()),
      demands.map((d) => d.oiAccrued.toString()), demands.map((d) => d.piExact.toString()), demands.map((d) => d.piCharged.toString()),
      demands.map((d) => d.piTax.toString()),
      ...(['P', 'NI', 'OI', 'PI', 'FEE'] as const).map((c) => demands.map((d) => d.paid[c].toString())),
    ]);
}

async function updateLoans(client: pg.PoolClient, companyId: string, loans: readonly EodLoan[]): Promise<void> {
  if (loans.length === 0) return;
  await client.query(
    `UPDATE loans l SET status = u.status, dpd = u.dpd, peak_dpd = u.peak_dpd, asset_class = u.asset_class, last_eod_date = u.last_eod_date,
            closed_at = CASE WHEN u.status = 'closed' THEN now() ELSE l.closed_at END, updated_at = now()
       FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::text[], $7::date[]) AS u(id, status, dpd, peak_dpd, asset_class, last_eod_date)
      WHERE l.company_id = $1 AND l.id = u.id`,
    [companyId, loans.map((l) => l.id), loans.map((l) => l.status), loans.map((l) => l.dpd), loans.map((l) => l.peakDpd), loans.map((l) => l.assetClass), loans.map((l) => l.lastEodDate)]);
}
