// Records: money in. A record is created `pending` (or `unmatched` when its account cannot be
// resolved), marked processed with UTR, settled_at and collection bank, and then allocated in the
// same transaction under the account's lock. Records above the company's approval threshold, and
// manual adjustments, wait in `approval_pending` for a checker who is not their maker.
import type { Database } from '../../db/database.js';
import { nextRef } from '../../db/refs.js';
import { onUniqueViolation } from '../../db/unique.js';
import { parseComponentOrderOrThrow, type ExcessHandling, type SettlementOrder } from '../../domain/allocation.js';
import { newId } from '../../domain/ids.js';
import { DEFAULT_PARAMS, type StoredParams } from '../../domain/loan-params.js';
import { loanKindOf } from '../../domain/loan-terms.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError, invalidField, notFound } from '../../errors.js';
import type { Record as LmsRecord } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import { paramsOfAccount } from '../loan-params/service.js';
import type { Actor } from '../users/service.js';
import { assertAccountOpenForRecords, assertRecordRoom } from './account-room.js';
import { assertAdjustable } from './adjustment-room.js';
import type { Ledger } from './ledger.js';
import { Replayer } from './replay.js';
import { RecordsRepository, type RecordFilter, type SettlementFilter } from './repository.js';

export const RECORD_TYPES = ['repayment', 'nach', 'cashback', 'holdback', 'adjustment', 'refund_reversal'] as const;
export const RECORD_STATUSES = ['pending', 'approval_pending', 'processed', 'rejected', 'reverted', 'failed', 'unmatched'] as const;
export const PAYMENT_MODES = ['neft', 'rtgs', 'imps', 'upi', 'nach', 'cheque', 'cash', 'internal'] as const;
/** Types that move no money from outside: they always need a checker. */
const MANUAL_TYPES = new Set(['adjustment', 'cashback', 'holdback']);

export interface NewRecord {
  account?: string;
  account_external_id?: string;
  type?: (typeof RECORD_TYPES)[number];
  received_amount: bigint;
  tds_amount?: bigint;
  payment_mode?: string;
  utr?: string;
  date?: Date;
  /** A bank-statement entry may arrive with its settlement details; it is still processed explicitly (or on match). */
  settled_at?: Date;
  collection_bank_id?: string;
  settlement_order?: SettlementOrder;
  component_order?: string;
  excess_handling?: ExcessHandling;
  loans?: string[];
  remark?: string;
  payer?: object;
  cashback_loan?: string;
  holdback_loan?: string;
}

export interface ProcessInput {
  utr?: string;
  settled_at: Date;
  collection_bank_id?: string;
}

/** Who is marking a record processed: by hand (Mark Processed, a match) or the bank's NACH status file. */
export type ProcessVia = 'manual' | 'nach_status_file';

export class RecordsService {
  private replayerInstance?: Replayer;

  constructor(private readonly db: Database, readonly ledger: Ledger) {}

  /** Every allocation, back-dated arrival and reversal replays through this (created on first use). */
  private get replayer(): Replayer {
    return (this.replayerInstance ??= new Replayer(this.db, this.ledger));
  }

  repo(companyId: string) {
    return new RecordsRepository(this.db, companyId);
  }

  /**
   * Creates a record; an account that cannot be resolved by external id leaves it unmatched. A
   * record of nothing is a 400; a closed account, or one whose records would pass MAX_RUPEES, a 409
   * (checked under the account's lock).
   */
  create(by: Actor, input: NewRecord): Promise<LmsRecord> {
    return this.db.transaction(async () => {
      if (input.received_amount + (input.tds_amount ?? 0n) <= 0n) throw invalidField('amount', 'must be more than 0 (received_amount + tds_amount)');
      const accounts = new AccountsRepository(this.db, by.companyId);
      let account = null;
      if (input.account) {
        account = await accounts.lockForUpdate(input.account);
        if (!account) throw new DomainError('NOT_FOUND', 'Account not found.', { account: ['not found'] });
      } else if (input.account_external_id) {
        const found = await accounts.findByExternalId(input.account_external_id);
        account = found ? await accounts.lockForUpdate(found.id) : null;
      }
      if (account) {
        assertAccountOpenForRecords(account, 'take new records');
        await assertRecordRoom(this.db, by.companyId, account.id, input.received_amount + (input.tds_amount ?? 0n));
      }
      const params = account ? await paramsOfAccount(this.db, by.companyId, account) : null;
      const terms: StoredParams = params ? paramsFromJson(params.params) : DEFAULT_PARAMS;
      const componentOrder = input.component_order ?? terms.component_order;
      parseComponentOrderOrThrow(componentOrder);
      if (input.utr) await this.assertUtrFree(by.companyId, input.utr, null);
      if (input.collection_bank_id) await this.assertBank(by.companyId, input.collection_bank_id);
      await this.assertLoansOf(by.companyId, account?.id ?? null, input.loans ?? []);
      const tds = input.tds_amount ?? 0n;
      const amount = input.received_amount + tds;
      const type = input.type ?? 'repayment';
      const record = await onUniqueViolation(async () => this.repo(by.companyId).create({
        id: newId(), accountId: account?.id ?? null, refId: await nextRef(this.db, by.companyId, 'record', 'REC'), type,
        status: account ? 'pending' : 'unmatched', paymentMode: input.payment_mode ?? null, receivedPaise: input.received_amount, tdsPaise: tds,
        amountPaise: amount, settlementOrder: input.settlement_order ?? terms.settlement_order, componentOrder,
        excessHandling: input.excess_handling ?? terms.excess_handling ?? (loanKindOf(terms) === 'bullet' ? 'prepay' : 'hold'),
        utr: input.utr ?? null, recordDate: input.date ?? new Date(), settledAt: input.settled_at ?? null,
        valueDate: input.settled_at ? dateToColumn(istDateOf(input.settled_at)) : null, collectionBankId: input.collection_bank_id ?? null, remark: input.remark ?? null, payer: input.payer as object | undefined,
        loanIds: [...new Set(input.loans ?? [])], cashbackLoanId: input.cashback_loan ?? null, holdbackLoanId: input.holdback_loan ?? null,
        approvalRequired: MANUAL_TYPES.has(type) || (await this.overThreshold(by.companyId, amount)),
        uploadedBy: by.actor, uploadedById: null, createdBy: by.actor,
      }), () => utrTaken(input.utr!));
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'record', entityId: record.id, action: 'created', actor: by.actor, data: { amount_paise: amount, status: record.status } });
      return record;
    });
  }

  private async overThreshold(companyId: string, amount: bigint): Promise<boolean> {
    const company = await this.db.client.company.findUnique({ where: { id: companyId }, select: { settings: true } });
    const threshold = (company?.settings as { record_approval_threshold_paise?: string } | null)?.record_approval_threshold_paise;
    return threshold !== undefined && threshold !== null && amount > BigInt(threshold);
  }

  async assertUtrFree(companyId: string, utr: string, recordId: string | null): Promise<void> {
    const other = await this.repo(companyId).findByUtr(utr);
    if (other && other.id !== recordId) throw utrTaken(utr, other);
  }

  private async assertBank(companyId: string, id: string): Promise<void> {
    const bank = await this.db.client.collectionBank.findFirst({ where: { companyId, id } });
    if (!bank) throw new DomainError('NOT_FOUND', 'Collection bank not found.', { collection_bank_id: ['not found'] });
  }

  private async assertLoansOf(companyId: string, accountId: string | null, loanIds: string[]): Promise<void> {
    if (loanIds.length === 0) return;
    const found = await this.db.client.loan.findMany({ where: { companyId, id: { in: loanIds }, ...(accountId ? { accountId } : {}) }, select: { id: true } });
    const missing = loanIds.filter((id) => !found.some((l) => l.id === id));
    if (missing.length > 0) throw new DomainError('NOT_FOUND', "Loans not found on the record's account.", { loans: missing.map((id) => `${id} not found`) });
  }

  async get(companyId: string, id: string): Promise<LmsRecord> {
    const record = await this.repo(companyId).findById(id);
    if (!record) throw notFound('Record');
    return record;
  }

  getMany(companyId: string, ids: string[]): Promise<LmsRecord[]> {
    return this.db.client.record.findMany({ where: { companyId, id: { in: ids } } });
  }

  /** What the wire shape needs beyond the rows: collection banks and the loans each record settled. */
  async wireContext(companyId: string, records: LmsRecord[]) {
    const bankIds = [...new Set(records.map((r) => r.collectionBankId).filter((id): id is string => id !== null))];
    const banks = bankIds.length > 0 ? await this.db.client.collectionBank.findMany({ where: { companyId, id: { in: bankIds } } }) : [];
    return { banks: new Map(banks.map((b) => [b.id, b])), loans: await this.repo(companyId).loansOf(records.map((r) => r.id)) };
  }

  list(companyId: string, page: PageRequest, filter: RecordFilter) {
    return this.repo(companyId).list(page, filter);
  }

  loansOf(companyId: string, recordIds: string[]) {
    return this.repo(companyId).loansOf(recordIds);
  }

  listSettlements(companyId: string, page: PageRequest, filter: SettlementFilter) {
    return this.repo(companyId).listSettlements(page, filter);
  }

  /** Runs fn with the record's account locked, then the record (always in that order). */
  async locked<T>(by: Actor, id: string, fn: (record: LmsRecord, repo: RecordsRepository) => Promise<T>): Promise<T> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const found = await repo.findById(id);
      if (!found) throw notFound('Record');
      if (found.accountId) await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      const record = (await repo.lockForUpdate(id))!;
      if (record.accountId !== found.accountId) throw new DomainError('STATE_CONFLICT', 'The record was matched to an account meanwhile; retry.');
      return fn(record, repo);
    });
  }

  /**
   * Mark Processed: pending -> processed, allocating in the same transaction. A record that
   * needs approval and has none goes to approval_pending with the details kept, and allocates
   * when a checker approves it. A NACH presentation is processed only by the bank's status file
   * (`via`): its amount was computed, not typed, so only the bank may confirm it.
   */
  markProcessed(by: Actor, id: string, input: ProcessInput, via: ProcessVia = 'manual'): Promise<LmsRecord> {
    return this.locked(by, id, async (record, repo) => {
      if (record.status === 'unmatched') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is unmatched: match it to an account first.`, { status: ['unmatched'] });
      if (record.status !== 'pending') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is ${record.status}; only a pending record can be marked processed.`, { status: [record.status] });
      if (record.type === 'nach' && via !== 'nach_status_file') {
        throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is a NACH presentation: it is processed (or failed) by the bank's status file (PUT records/nach_presentation_status/), not by hand.`,
          { status: ['a NACH presentation is processed only through the NACH presentation status file'] });
      }
      await this.assertAccountOpen(by.companyId, record, 'process records');
      const utr = input.utr ?? record.utr;
      if (utr) await this.assertUtrFree(by.companyId, utr, record.id);
      if (input.collection_bank_id) await this.assertBank(by.companyId, input.collection_bank_id);
      const details = {
        utr: utr ?? null, settledAt: input.settled_at, valueDate: dateToColumn(istDateOf(input.settled_at)),
        collectionBankId: input.collection_bank_id ?? record.collectionBankId,
      };
      const withDetails = await onUniqueViolation(() => repo.update(record.id, details), () => utrTaken(utr!));
      if (record.approvalRequired && !record.approvedAt) {
        const waiting = await repo.update(record.id, { status: 'approval_pending', approvalRequestedBy: by.actor, approvalRequestedAt: new Date() });
        await writeAudit(this.db, { companyId: by.companyId, entityType: 'record', entityId: id, action: 'approval_requested', actor: by.actor, data: { on: 'mark_processed' } });
        return waiting;
      }
      return this.allocateLocked(by, withDetails, repo);
    });
  }

  /**
   * Allocates a locked record whose value date is set; the caller holds the account and record
   * locks. The record takes its place in the account's (value date, creation) order: processed
   * records after it are replayed (re-split where its money changes what they find), and one
   * dated before a live settlement on its loans is marked back-dated.
   */
  async allocateLocked(by: Actor, record: LmsRecord, repo: RecordsRepository): Promise<LmsRecord> {
    if (!record.accountId || !record.valueDate) throw new Error(`record ${record.id} cannot allocate without an account and a value date`);
    await this.assertAccountOpen(by.companyId, record, 'process records');
    const valueDate: BusinessDate = columnToDate(record.valueDate);
    const latest = await this.replayer.latestSettledDate(by.companyId, record);
    const backDated = latest !== null && latest > valueDate;
    const outcome = await this.replayer.run(by, { kind: 'allocate', record });
    const processed = await repo.update(record.id, {
      status: 'processed', remainingPaise: outcome.excess, processedBy: by.actor, processedAt: new Date(),
      ...(backDated ? { backDateFound: true, backDateMarkedOn: new Date() } : {}),
    });
    await writeAudit(this.db, {
      companyId: by.companyId, entityType: 'record', entityId: record.id, action: 'processed', actor: by.actor,
      data: { value_date: valueDate, lines: outcome.lines, excess_paise: outcome.excess, back_dated: backDated, resplit: outcome.resplit, reversed: outcome.reversed },
    });
    return processed;
  }

  /**
   * Revert a processed record (a bounced cheque, a wrong UTR): every settlement it holds is
   * reversed by a linked negative row, its excess is zeroed, and the account's later records are
   * replayed so they take the dues it had paid. `value_date` (default today, IST) is the booking
   * date of the reversal; the reversal rows carry their originals' value dates, since economically
   * the money never arrived.
   */
  revert(by: Actor, id: string, input: { reason: string; value_date?: BusinessDate }): Promise<LmsRecord> {
    return this.locked(by, id, async (record, repo) => {
      const today = istDateOf(new Date());
      this.assertRevertible(record);
      const revertDate = input.value_date ?? today;
      const valueDate = columnToDate(record.valueDate!);
      if (revertDate < valueDate) throw invalidField('value_date', `must not be before the record's value date (${valueDate})`);
      if (revertDate > today) throw invalidField('value_date', `must not be after today (${today})`);
      const account = await new AccountsRepository(this.db, by.companyId).findById(record.accountId!);
      if (account?.status === 'closed') throw new DomainError('STATE_CONFLICT', `The account of record ${record.refId} is closed; reverting would reopen its dues.`, { account: ['closed'] });
      const outcome = await this.replayer.run(by, { kind: 'revert', record });
      const reverted = await repo.update(id, {
        status: 'reverted', remainingPaise: 0n, revertedAt: new Date(), revertValueDate: dateToColumn(revertDate), revertReason: input.reason,
      });
      await writeAudit(this.db, {
        companyId: by.companyId, entityType: 'record', entityId: id, action: 'reverted', actor: by.actor,
        data: { reason: input.reason, value_date: revertDate, reversed: outcome.ownReversed, excess_paise: record.remainingPaise, resplit: outcome.resplit, rows_reversed_in_replay: outcome.reversed - outcome.ownReversed },
      });
      return reverted;
    });
  }

  /** The record's account (locked by the caller) must not be closed: 409 naming `account`. */
  private async assertAccountOpen(companyId: string, record: LmsRecord, doing: string): Promise<void> {
    if (!record.accountId) return;
    const account = await new AccountsRepository(this.db, companyId).findById(record.accountId);
    if (account) assertAccountOpenForRecords(account, doing);
  }

  private assertRevertible(record: LmsRecord): void {
    if (record.status !== 'processed') {
      throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is ${record.status}; only a processed record can be reverted.`, { status: [record.status] });
    }
    if (record.reservedPaise > 0n) {
      throw new DomainError('STATE_CONFLICT', `Record ${record.refId} has ${record.reservedPaise} paise of excess reserved for a refund in flight; cancel the refund first.`, { reserved_amount: ['refund in flight'] });
    }
    if (record.refundedPaise > 0n) {
      // Money already paid back out of a payment that never arrived: recovering it is an operator's call.
      throw new DomainError('STATE_CONFLICT', `Record ${record.refId} had ${record.refundedPaise} paise of excess refunded; recover the refund before reverting.`, { refunded_amount: ['excess refunded'] });
    }
  }

  /**
   * Replays a processed record and every processed record of its account after it, as they are.
   * With the account in the state the (value date, creation) order implies this changes nothing;
   * it exists for operations (and tests) to re-derive the splits after a correction.
   */
  replayFrom(by: Actor, id: string): Promise<{ reversed: number; created: number; resplit: string[] }> {
    return this.locked(by, id, async (record) => {
      if (record.status !== 'processed') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is ${record.status}; a replay starts at a processed record.`, { status: [record.status] });
      const outcome = await this.replayer.run(by, { kind: 'replay', record });
      return { reversed: outcome.reversed, created: outcome.created, resplit: outcome.resplit };
    });
  }

  /** Request Approval: a pending record waits for a checker before it can allocate. */
  requestApproval(by: Actor, id: string, remarks?: string): Promise<LmsRecord> {
    return this.locked(by, id, async (record, repo) => {
      assertNotNach(record, 'sent for approval');
      if (record.status !== 'pending') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is ${record.status}; only a pending record can ask for approval.`, { status: [record.status] });
      const waiting = await repo.update(id, { status: 'approval_pending', approvalRequired: true, approvedAt: null, approvedBy: null, approvalRequestedBy: by.actor, approvalRequestedAt: new Date(), approvalRemarks: remarks ?? null });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'record', entityId: id, action: 'approval_requested', actor: by.actor, data: { remarks: remarks ?? null } });
      return waiting;
    });
  }

  /**
   * A checker approves: a record that carries its settlement details allocates now; one that
   * does not returns to pending, approved, and allocates when marked processed. Neither the
   * record's maker nor whoever asked for the approval may approve it.
   */
  approve(by: Actor, id: string, remarks?: string): Promise<LmsRecord> {
    return this.locked(by, id, async (record, repo) => {
      this.assertChecker(by, record, 'approve');
      await this.assertStillAdjustable(by.companyId, record);
      const approved = await repo.update(id, { approvedBy: by.actor, approvedAt: new Date(), approvalRemarks: remarks ?? record.approvalRemarks, status: 'pending' });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'record', entityId: id, action: 'approved', actor: by.actor, data: { remarks: remarks ?? null } });
      return approved.settledAt ? this.allocateLocked(by, approved, repo) : approved;
    });
  }

  /**
   * A cashback or holdback is checked again when approved (the account lock is held): its loan may
   * have been repaid, closed or adjusted by others since it was initiated. 409 naming `amount`.
   */
  private async assertStillAdjustable(companyId: string, record: LmsRecord): Promise<void> {
    if (record.type !== 'cashback' && record.type !== 'holdback') return;
    const loanId = (record.type === 'cashback' ? record.cashbackLoanId : record.holdbackLoanId) ?? (record.loanIds.length === 1 ? record.loanIds[0]! : null);
    const loan = loanId ? await this.db.client.loan.findFirst({ where: { companyId, id: loanId } }) : null;
    if (!loan) throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is a ${record.type} that names no loan; it cannot be approved.`, { amount: ['names no loan to adjust'] });
    await assertAdjustable(this.db, companyId, loan, record.type, record.amountPaise, record.id);
  }

  reject(by: Actor, id: string, remarks: string): Promise<LmsRecord> {
    return this.locked(by, id, async (record, repo) => {
      assertNotNach(record, 'rejected');
      this.assertChecker(by, record, 'reject');
      const rejected = await repo.update(id, { status: 'rejected', rejectedBy: by.actor, rejectedAt: new Date(), approvalRemarks: remarks });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'record', entityId: id, action: 'rejected', actor: by.actor, data: { remarks } });
      return rejected;
    });
  }

  private assertChecker(by: Actor, record: LmsRecord, action: string): void {
    if (record.status !== 'approval_pending') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is ${record.status}; only a record awaiting approval can be ${action}d.`, { status: [record.status] });
    if (by.actor !== null && (by.actor === record.createdBy || by.actor === record.approvalRequestedBy)) {
      throw new DomainError('FORBIDDEN', `The maker of record ${record.refId} cannot ${action} it: another checker must.`);
    }
  }

  /** An operator matches an unmatched record to an account; it then allocates if it carries its processing details. */
  match(by: Actor, id: string, accountId: string): Promise<LmsRecord> {
    return this.db.transaction(async () => {
      const account = await new AccountsRepository(this.db, by.companyId).lockForUpdate(accountId);
      if (!account) throw new DomainError('NOT_FOUND', 'Account not found.', { account: ['not found'] });
      const repo = this.repo(by.companyId);
      const record = await repo.lockForUpdate(id);
      if (!record) throw notFound('Record');
      if (record.status !== 'unmatched') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is ${record.status}; only an unmatched record can be matched.`, { status: [record.status] });
      assertAccountOpenForRecords(account, 'take new records');
      await this.assertLoansOf(by.companyId, accountId, record.loanIds);
      await assertRecordRoom(this.db, by.companyId, accountId, record.amountPaise);
      const matched = await repo.update(id, { accountId, status: 'pending' });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'record', entityId: id, action: 'matched', actor: by.actor, data: { account: accountId } });
      if (!matched.settledAt) return matched;
      return this.markProcessed(by, id, { settled_at: matched.settledAt, utr: matched.utr ?? undefined, collection_bank_id: matched.collectionBankId ?? undefined });
    });
  }
}

/** A NACH presentation's outcome comes only from the bank's status file. */
function assertNotNach(record: LmsRecord, action: string): void {
  if (record.type === 'nach') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} is a NACH presentation; only the bank's status file settles it, it cannot be ${action}.`, { status: ['nach presentation'] });
}

function utrTaken(utr: string, other?: LmsRecord): DomainError {
  return new DomainError('DUPLICATE', other ? `UTR ${utr} is already used by record ${other.refId} (${other.id}).` : `UTR ${utr} is already used by another record.`,
    { utr: [other ? `already used by record ${other.refId}` : 'already used'] }, other ? { record: other.id, ref_id: other.refId } : undefined);
}
