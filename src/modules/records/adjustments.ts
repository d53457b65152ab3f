// Adjustments (cashback, holdback) and excess refunds (issue 5).
//
// An adjustment moves no money: it is a record of type cashback or holdback (payment mode
// `internal`, no UTR, no collection bank) that names one loan and is settled against that loan's
// dues like a payment once a checker approves it. How much a loan may be adjusted by comes from
// its params snapshot and from what it still owes (room()); adjustments awaiting approval count
// against that room, and the account row lock makes the check and the insert one step.
//
// An excess refund pays a record's excess (remaining_amount) back through a `refund` payout. The
// amount is reserved on the record at once, under the account and record locks, so the same
// excess can never be refunded twice or adjusted while the payout is in flight. The payout's
// outcome is applied here (payouts know nothing of records): success consumes the reservation
// (remaining and reserved fall, refunded rises), failure and cancellation release it, and a
// retry reserves it again. Conservation then reads: settlements + remaining + refunded = amount.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { paiseToRupees } from '../../domain/money.js';
import { businessDateToEpoch, istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError, ERROR_STATUS, notFound, type ErrorCode, type FieldErrors } from '../../errors.js';
import { Prisma, type Loan, type Payout, type Record as LmsRecord } from '../../generated/prisma/client.js';
import { columnToDate, type Page, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import { CreditBankIn } from '../payouts/schemas.js';
import type { CreditBank, PayoutsService } from '../payouts/service.js';
import type { Actor } from '../users/service.js';
import { adjustmentRoom, assertAdjustable, assertLoanOpen, type AdjustmentRoom, type AdjustmentType } from './adjustment-room.js';
import type { RecordsService } from './service.js';

export { ADJUSTMENT_TYPES, type AdjustmentRoom, type AdjustmentType } from './adjustment-room.js';
/** Records whose excess is money received from outside, and so may be paid back. */
export const REFUNDABLE_RECORD_TYPES = ['repayment', 'nach', 'refund_reversal'] as const;
export const BULK_ADJUSTMENTS_MAX = 500;

/**
 * TDS of record `r` that settled no interest (its TDS less its net `tds` and `excess_tds` lines, never below 0).
 * It stays in the record's excess, to be applied to interest later, but it is tax deducted by the
 * payer, not money received: it is never refunded.
 */
const unappliedTds = (alias: string) => Prisma.sql`GREATEST(0, ${Prisma.raw(alias)}.tds_paise - COALESCE((
  SELECT SUM(t.amount_paise) FROM settlements t WHERE t.company_id = ${Prisma.raw(alias)}.company_id AND t.record_id = ${Prisma.raw(alias)}.id AND t.source IN ('tds', 'excess_tds')), 0))`;
/** What a refund may take from record `r`: its available excess less its unapplied TDS, never below 0. */
const refundableSql = (alias: string) => Prisma.sql`GREATEST(0, ${Prisma.raw(alias)}.remaining_paise - ${Prisma.raw(alias)}.reserved_paise - ${unappliedTds(alias)})`;

export interface NewAdjustment {
  loan: string;
  type: AdjustmentType;
  amount: bigint;
  /** Value date; default today (IST). */
  date?: BusinessDate;
  remark?: string;
}

export interface RefundRequest {
  /** Default: all the excess available. */
  amount?: bigint;
  /** Default: the payer's account the record carries, when it carries a valid one. */
  credit_bank?: CreditBank;
  payout_to?: string;
  remark?: string;
}

export interface Refund {
  record: LmsRecord;
  payout: Payout;
}

export interface LoanExcess {
  loan: Loan;
  /** Available excess (remaining - reserved) of the records attributed to the loan. */
  excessPaise: bigint;
  /** The part of it that came from outside (refundable record types), less TDS that settled no interest. */
  refundablePaise: bigint;
  /** Available excess of all of the loan's account's records, each counted once. */
  accountExcessPaise: bigint;
  records: number;
}

const rupees = (paise: bigint) => `Rs ${paiseToRupees(paise)}`;
const min = (a: bigint, b: bigint) => (a < b ? a : b);

export class AdjustmentsService {
  constructor(private readonly db: Database, private readonly records: RecordsService, private readonly payouts: PayoutsService) {
    // The refund's purpose is ours, so its outcomes are too; they run in the payout's transaction,
    // which already holds the account row (locks: account, payout, then record).
    payouts.onOutcome('refund', {
      processed: (payout, by) => this.refundSucceeded(by, payout),
      failed: (payout, by) => this.releaseReservation(by, payout, 'failed'),
      retrying: (payout, by) => this.reserveForRetry(by, payout),
      // A failed payout released its reservation when it failed; only a requested one still holds it.
      cancelled: async (payout, by, from) => { if (from === 'requested') await this.releaseReservation(by, payout, 'cancelled'); },
    });
  }

  private repo(companyId: string) {
    return new ExcessRepository(this.db, companyId);
  }

  /** Initiate Adjustment on one loan: a cashback or holdback record awaiting a checker's approval. */
  initiate(by: Actor, input: NewAdjustment): Promise<LmsRecord> {
    return this.db.transaction(async () => {
      const loan = await this.repo(by.companyId).findLoan(input.loan);
      if (!loan) throw notFound('Loan');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(loan.accountId);
      return this.adjustLocked(by, input);
    });
  }

  /**
   * Adjustments on many loans, all or nothing. Every failing row is reported, keyed
   * `adjustments.<index>.<field>`; the answer takes the lowest status among them (400, 404, 409).
   * Rows are checked in order, each counting the rows before it against the same loan's room.
   */
  initiateMany(by: Actor, inputs: NewAdjustment[]): Promise<LmsRecord[]> {
    return this.db.transaction(async () => {
      const loans = await this.repo(by.companyId).findLoans(inputs.map((i) => i.loan));
      const errors: FieldErrors = Object.create(null);
      const codes = new Set<ErrorCode>();
      inputs.forEach((input, i) => {
        if (!loans.has(input.loan)) (errors[`adjustments.${i}.loan`] ??= []).push('not found');
      });
      if (Object.keys(errors).length > 0) codes.add('NOT_FOUND');
      // Accounts are locked in id order, so two bulk calls over the same accounts cannot deadlock.
      const accounts = new AccountsRepository(this.db, by.companyId);
      for (const accountId of [...new Set([...loans.values()].map((l) => l.accountId))].sort()) await accounts.lockForUpdate(accountId);
      const created: LmsRecord[] = [];
      for (const [i, input] of inputs.entries()) {
        if (!loans.has(input.loan)) continue;
        try {
          created.push(await this.adjustLocked(by, input));
        } catch (error) {
          if (!(error instanceof DomainError) || error.status >= 500) throw error;
          codes.add(error.code);
          for (const [field, messages] of Object.entries(error.fieldErrors ?? { row: [error.message] })) (errors[`adjustments.${i}.${field}`] ??= []).push(...messages);
        }
      }
      if (codes.size === 0) return created;
      const code = [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b])[0]!;
      const rows = new Set(Object.keys(errors).map((k) => k.split('.')[1])).size;
      throw new DomainError(code, `${rows} of ${inputs.length} adjustment(s) cannot be made; nothing was applied.`, errors);
    });
  }

  /**
   * Checks the loan, value date and room, then creates the record and asks for its approval with
   * the value date set, so that approval allocates it. The caller holds the account's lock; every
   * check comes before the first write, so a failing row of a bulk call writes nothing.
   */
  private async adjustLocked(by: Actor, input: NewAdjustment): Promise<LmsRecord> {
    const loan = (await this.repo(by.companyId).findLoan(input.loan))!;
    assertLoanOpen(loan, input.type);
    const settledAt = settledAtOf(loan, input.date);
    const room = await assertAdjustable(this.db, by.companyId, loan, input.type, input.amount);
    const record = await this.records.create(by, {
      account: loan.accountId, type: input.type, received_amount: input.amount, payment_mode: 'internal', loans: [loan.id],
      ...(input.type === 'cashback' ? { cashback_loan: loan.id } : { holdback_loan: loan.id }), settled_at: settledAt, remark: input.remark,
    });
    const waiting = await this.records.requestApproval(by, record.id, input.remark);
    await writeAudit(this.db, {
      companyId: by.companyId, entityType: 'loan', entityId: loan.id, action: 'adjustment_initiated', actor: by.actor,
      data: { record: record.id, type: input.type, amount_paise: input.amount, value_date: istDateOf(settledAt), room: { ...room } },
    });
    return waiting;
  }

  /** What an adjustment of `type` may still take on the loan (see adjustment-room.ts). */
  room(companyId: string, loan: Loan, type: AdjustmentType): Promise<AdjustmentRoom> {
    return adjustmentRoom(this.db, companyId, loan, type);
  }

  /** Initiate Excess Payment Refund from one record. */
  refundRecord(by: Actor, recordId: string, input: RefundRequest): Promise<Refund> {
    return this.records.locked(by, recordId, async (record) => {
      assertRefundable(record);
      const available = await this.repo(by.companyId).refundable(record.id);
      const amount = input.amount ?? available;
      if (available === 0n) {
        const tdsOnly = record.remainingPaise > record.reservedPaise;
        throw nothingToRefund(tdsOnly
          ? `Record ${record.refId}'s excess is TDS that settled no interest: it is not money received and can only be applied to interest.`
          : `Record ${record.refId} has no excess available to refund.`);
      }
      if (amount > available) {
        throw new DomainError('STATE_CONFLICT', `Record ${record.refId} has ${rupees(available)} of excess available to refund.`,
          { amount: [`exceeds the excess available (${rupees(available)})`] });
      }
      const loanId = record.loanIds.length === 1 ? record.loanIds[0]! : null;
      return this.reserveAndPay(by, record, amount, { ...input, credit_bank: creditBankFor(record, input) }, loanId);
    });
  }

  /**
   * Initiate Refund for a loan: the refundable excess attributed to the loan (see
   * ExcessRepository.attributedSql), oldest record first, one refund payout per record used.
   */
  refundLoan(by: Actor, loanId: string, input: RefundRequest): Promise<Refund[]> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const loan = await repo.findLoan(loanId);
      if (!loan) throw notFound('Loan');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(loan.accountId);
      const candidates = await repo.lockRefundable(loan);
      const total = candidates.reduce((s, c) => s + c.refundable, 0n);
      if (total === 0n) throw nothingToRefund(`Loan ${loan.refId} has no refundable excess.`);
      const amount = input.amount ?? total;
      if (amount > total) {
        throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} has ${rupees(total)} of refundable excess.`,
          { amount: [`exceeds the refundable excess of this loan (${rupees(total)})`] });
      }
      const refunds: Refund[] = [];
      let left = amount;
      for (const { record, refundable } of candidates) {
        if (left === 0n) break;
        const take = min(left, refundable);
        refunds.push(await this.reserveAndPay(by, record, take, { ...input, credit_bank: creditBankFor(record, input) }, loan.id));
        left -= take;
      }
      return refunds;
    });
  }

  /** Reserves `amount` of the locked record's excess and creates the refund payout that holds it. */
  private async reserveAndPay(by: Actor, record: LmsRecord, amount: bigint, input: RefundRequest & { credit_bank: CreditBank }, loanId: string | null): Promise<Refund> {
    if (!(await this.repo(by.companyId).reserve(record.id, amount))) throw new DomainError('STATE_CONFLICT', `Record ${record.refId}: the excess was taken meanwhile; retry.`, { amount: ['no longer available'] });
    const payout = await this.payouts.create(by, {
      type: 'refund', accountId: record.accountId!, amountPaise: amount, recordId: record.id, loanId, creditBank: input.credit_bank, payoutTo: input.payout_to ?? 'borrower',
    });
    await writeAudit(this.db, {
      companyId: by.companyId, entityType: 'record', entityId: record.id, action: 'excess_reserved', actor: by.actor,
      data: { payout: payout.id, amount_paise: amount, loan: loanId, remark: input.remark ?? null },
    });
    return { record: (await this.records.repo(by.companyId).findById(record.id))!, payout };
  }

  /** The refund reached the borrower: the reserved excess leaves the record for good. */
  private async refundSucceeded(by: Actor, payout: Payout): Promise<void> {
    const record = await this.lockedRecordOf(payout);
    const repo = this.repo(payout.companyId);
    if (!(await repo.consume(record.id, payout.amountPaise))) {
      throw new DomainError('INVARIANT_VIOLATION', `Record ${record.refId}: refund ${payout.refId} of ${payout.amountPaise} paise exceeds its reservation (${record.reservedPaise}).`);
    }
    await repo.assertConserved(record.id);
    await writeAudit(this.db, { companyId: payout.companyId, entityType: 'record', entityId: record.id, action: 'excess_refunded', actor: by.actor, data: { payout: payout.id, amount_paise: payout.amountPaise } });
  }

  /** The refund failed or was cancelled before reaching the bank: the excess is available again. */
  private async releaseReservation(by: Actor, payout: Payout, why: 'failed' | 'cancelled'): Promise<void> {
    const record = await this.lockedRecordOf(payout);
    if (!(await this.repo(payout.companyId).release(record.id, payout.amountPaise))) {
      throw new DomainError('INVARIANT_VIOLATION', `Record ${record.refId}: refund ${payout.refId} releases ${payout.amountPaise} paise but ${record.reservedPaise} are reserved.`);
    }
    await writeAudit(this.db, { companyId: payout.companyId, entityType: 'record', entityId: record.id, action: 'excess_released', actor: by.actor, data: { payout: payout.id, amount_paise: payout.amountPaise, reason: why } });
  }

  /** A failed refund is tried again only if its excess is still there to reserve. */
  private async reserveForRetry(by: Actor, payout: Payout): Promise<void> {
    const record = await this.lockedRecordOf(payout);
    const repo = this.repo(payout.companyId);
    if (!(await repo.reserve(record.id, payout.amountPaise))) {
      const refundable = await repo.refundable(record.id);
      throw new DomainError('STATE_CONFLICT', `Record ${record.refId} has ${rupees(refundable)} of excess available to refund; the refund of ${rupees(payout.amountPaise)} cannot be retried.`,
        { amount: [`exceeds the excess available on record ${record.refId} (${rupees(refundable)})`] });
    }
    await writeAudit(this.db, { companyId: payout.companyId, entityType: 'record', entityId: record.id, action: 'excess_reserved', actor: by.actor, data: { payout: payout.id, amount_paise: payout.amountPaise, retry: true } });
  }

  private async lockedRecordOf(payout: Payout): Promise<LmsRecord> {
    const record = payout.recordId ? await this.records.repo(payout.companyId).lockForUpdate(payout.recordId) : null;
    if (!record) throw new DomainError('INVARIANT_VIOLATION', `Refund payout ${payout.refId} has no record.`);
    return record;
  }

  /** List Loans with Excess Balance. */
  async loansWithExcess(companyId: string, page: PageRequest, filter: { account?: string }): Promise<Page<LoanExcess>> {
    return this.repo(companyId).loansWithExcess(page, filter);
  }
}

/** A record whose excess may be refunded at all: money received from outside, processed. */
function assertRefundable(record: LmsRecord): void {
  if (!(REFUNDABLE_RECORD_TYPES as readonly string[]).includes(record.type)) {
    throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is a ${record.type} record: its excess is not money received and can only be adjusted against dues.`, { type: [`${record.type} excess is not refundable`] });
  }
  if (record.status !== 'processed') {
    throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is ${record.status}; only a processed record has excess to refund.`, { status: [`is ${record.status}`] });
  }
}

const nothingToRefund = (message: string) => new DomainError('STATE_CONFLICT', message, { amount: ['no excess available to refund'] });

/** The beneficiary: as given, else the payer's account the record carries (refunds go back to source). */
function creditBankFor(record: LmsRecord, input: RefundRequest): CreditBank {
  if (input.credit_bank) return input.credit_bank;
  const payer = (record.payer ?? {}) as { name?: string; account_no?: string; ifsc?: string };
  const parsed = CreditBankIn.safeParse({ account_no: payer.account_no, ifsc: payer.ifsc, account_holder_name: payer.name });
  if (parsed.success) return parsed.data;
  throw new DomainError('VALIDATION_ERROR', `credit_bank: required, as record ${record.refId} carries no valid payer bank account to refund to.`,
    { credit_bank: [`required: record ${record.refId} carries no payer bank account to refund to`] });
}

/** The instant an adjustment is settled at: now for today, else the end of its (IST) value date. */
function settledAtOf(loan: Loan, date: BusinessDate | undefined): Date {
  const today = istDateOf(new Date());
  if (date === undefined || date === today) return new Date();
  if (date > today) throw new DomainError('VALIDATION_ERROR', 'date: must not be in the future.', { date: ['must not be in the future'] });
  const disbursed = loan.disbursementDate ? columnToDate(loan.disbursementDate) : null;
  if (disbursed && date < disbursed) {
    throw new DomainError('VALIDATION_ERROR', `date: must not be before the loan's disbursement date (${disbursed}).`, { date: [`must not be before the loan's disbursement date (${disbursed})`] });
  }
  return new Date(Math.floor(businessDateToEpoch(date)) * 1000);
}

/** The SQL of excess (records' remaining amounts): tenant-scoped like every repository. */
class ExcessRepository extends TenantRepository {
  findLoan(id: string): Promise<Loan | null> {
    return this.client.loan.findFirst({ where: this.scoped({ id }) });
  }

  async findLoans(ids: string[]): Promise<Map<string, Loan>> {
    const loans = await this.client.loan.findMany({ where: this.scoped({ id: { in: [...new Set(ids)] } }) });
    return new Map(loans.map((l) => [l.id, l]));
  }

  /** What a refund may take from the record now: available excess less unapplied TDS. */
  async refundable(recordId: string): Promise<bigint> {
    const [row] = await this.client.$queryRaw<{ refundable: bigint }[]>`
      SELECT ${refundableSql('r')}::bigint AS refundable FROM records r WHERE r.company_id = ${this.companyId}::uuid AND r.id = ${recordId}::uuid`;
    return row?.refundable ?? 0n;
  }

  /** Moves `amount` of refundable excess (never unapplied TDS) into the reservation; false when it is not there. */
  async reserve(recordId: string, amount: bigint): Promise<boolean> {
    return (await this.client.$executeRaw`
      UPDATE records r SET reserved_paise = r.reserved_paise + ${amount}, updated_at = now()
      WHERE r.company_id = ${this.companyId}::uuid AND r.id = ${recordId}::uuid AND ${refundableSql('r')} >= ${amount}`) === 1;
  }

  async release(recordId: string, amount: bigint): Promise<boolean> {
    return (await this.client.$executeRaw`
      UPDATE records SET reserved_paise = reserved_paise - ${amount}, updated_at = now()
      WHERE company_id = ${this.companyId}::uuid AND id = ${recordId}::uuid AND reserved_paise >= ${amount}`) === 1;
  }

  /** A refund paid: the reserved amount leaves the excess and counts as refunded. */
  async consume(recordId: string, amount: bigint): Promise<boolean> {
    return (await this.client.$executeRaw`
      UPDATE records SET remaining_paise = remaining_paise - ${amount}, reserved_paise = reserved_paise - ${amount},
        refunded_paise = refunded_paise + ${amount}, updated_at = now()
      WHERE company_id = ${this.companyId}::uuid AND id = ${recordId}::uuid AND reserved_paise >= ${amount}`) === 1;
  }

  /** Conservation from the database: settlements + remaining + refunded = amount. */
  async assertConserved(recordId: string): Promise<void> {
    const [row] = await this.client.$queryRaw<{ amount: bigint; accounted: bigint }[]>`
      SELECT r.amount_paise AS amount,
             (COALESCE((SELECT SUM(s.amount_paise) FROM settlements s WHERE s.company_id = r.company_id AND s.record_id = r.id), 0) + r.remaining_paise + r.refunded_paise)::bigint AS accounted
      FROM records r WHERE r.company_id = ${this.companyId}::uuid AND r.id = ${recordId}::uuid`;
    if (!row || row.amount !== row.accounted) {
      throw new DomainError('INVARIANT_VIOLATION', `Record ${recordId}: settlements + remaining + refunded = ${row?.accounted} paise, amount ${row?.amount}.`);
    }
  }

  /**
   * Records with available excess, attributed to loans (docs/decisions.md, Excess): a record's
   * excess belongs to the loans it names; a record that names none belongs to the loans it settled
   * on, or, when it settled nothing, to every disbursed loan of its account. So one record's excess
   * can show under several loans of an account: per-account totals come from account_excess.
   * Columns: loan_id, loan_created_at, record_id, account_id, type, available, refundable (available
   * less unapplied TDS), value_date, created_at.
   */
  private attributedSql(filter: { account?: string; loan?: string }): Prisma.Sql {
    const c = this.companyId;
    return Prisma.sql`
      avail AS (
        SELECT r.id, r.account_id, COALESCE(r.loan_ids, '{}') AS loan_ids, r.type, r.value_date, r.created_at, r.remaining_paise - r.reserved_paise AS available,
               ${refundableSql('r')} AS refundable
        FROM records r
        WHERE r.company_id = ${c}::uuid AND r.status = 'processed' AND r.remaining_paise > r.reserved_paise
          ${filter.account ? Prisma.sql`AND r.account_id = ${filter.account}::uuid` : Prisma.empty}
      ),
      settled AS (
        SELECT s.record_id, s.loan_id FROM settlements s JOIN avail a ON a.id = s.record_id
        WHERE s.company_id = ${c}::uuid GROUP BY s.record_id, s.loan_id HAVING SUM(s.amount_paise) <> 0
      ),
      attributed AS (
        SELECT l.id AS loan_id, l.created_at AS loan_created_at, a.id AS record_id, a.account_id, a.type, a.available, a.refundable, a.value_date, a.created_at
        FROM avail a JOIN loans l ON l.company_id = ${c}::uuid AND l.account_id = a.account_id
        WHERE (l.id = ANY(a.loan_ids) OR (cardinality(a.loan_ids) = 0 AND (
                 EXISTS (SELECT 1 FROM settled s WHERE s.record_id = a.id AND s.loan_id = l.id)
                 OR (l.status <> 'pending_disbursement' AND NOT EXISTS (SELECT 1 FROM settled s WHERE s.record_id = a.id)))))
          ${filter.loan ? Prisma.sql`AND l.id = ${filter.loan}::uuid` : Prisma.empty}
      )`;
  }

  /**
   * The loan's refundable records with something to refund, locked (account lock held), oldest
   * value date first, each with what a refund may take from it (read again under the lock).
   */
  async lockRefundable(loan: Loan): Promise<{ record: LmsRecord; refundable: bigint }[]> {
    const rows = await this.client.$queryRaw<{ record_id: string }[]>`
      WITH ${this.attributedSql({ account: loan.accountId, loan: loan.id })}
      SELECT record_id FROM attributed WHERE type = ANY(${[...REFUNDABLE_RECORD_TYPES]}) AND refundable > 0 ORDER BY record_id`;
    const ids = rows.map((r) => r.record_id);
    if (ids.length === 0) return [];
    await this.client.$queryRaw`SELECT id FROM records WHERE company_id = ${this.companyId}::uuid AND id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`;
    const amounts = new Map((await this.client.$queryRaw<{ id: string; refundable: bigint }[]>`
      SELECT r.id::text, ${refundableSql('r')}::bigint AS refundable FROM records r
      WHERE r.company_id = ${this.companyId}::uuid AND r.id = ANY(${ids}::uuid[]) AND r.status = 'processed'`).map((r) => [r.id, r.refundable]));
    const records = await this.client.record.findMany({ where: this.scoped({ id: { in: ids } }), orderBy: [{ valueDate: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }] });
    return records.map((record) => ({ record, refundable: amounts.get(record.id) ?? 0n })).filter((c) => c.refundable > 0n);
  }

  async loansWithExcess(page: PageRequest, filter: { account?: string }): Promise<Page<LoanExcess>> {
    const attributed = this.attributedSql(filter);
    const [counted] = await this.client.$queryRaw<{ count: number }[]>`WITH ${attributed} SELECT count(DISTINCT loan_id)::int AS count FROM attributed`;
    const rows = await this.client.$queryRaw<{ loan_id: string; excess: bigint; refundable: bigint; records: number }[]>`
      WITH ${attributed}
      SELECT loan_id, SUM(available)::bigint AS excess, COALESCE(SUM(refundable) FILTER (WHERE type = ANY(${[...REFUNDABLE_RECORD_TYPES]})), 0)::bigint AS refundable,
             count(*)::int AS records
      FROM attributed GROUP BY loan_id, loan_created_at ORDER BY loan_created_at DESC, loan_id DESC
      LIMIT ${page.page_size} OFFSET ${(page.page - 1) * page.page_size}`;
    const loans = await this.findLoans(rows.map((r) => r.loan_id));
    const accountIds = [...new Set([...loans.values()].map((l) => l.accountId))];
    const perAccount = accountIds.length === 0 ? [] : await this.client.$queryRaw<{ account_id: string; excess: bigint }[]>`
      SELECT account_id, SUM(remaining_paise - reserved_paise)::bigint AS excess FROM records
      WHERE company_id = ${this.companyId}::uuid AND account_id = ANY(${accountIds}::uuid[]) AND status = 'processed' AND remaining_paise > reserved_paise
      GROUP BY account_id`;
    const accountExcess = new Map(perAccount.map((a) => [a.account_id, a.excess]));
    return {
      count: counted!.count, current_page: page.page, page_size: page.page_size,
      results: rows.map((r) => {
        const loan = loans.get(r.loan_id)!;
        return { loan, excessPaise: r.excess, refundablePaise: r.refundable, accountExcessPaise: accountExcess.get(loan.accountId) ?? 0n, records: r.records };
      }),
    };
  }
}
