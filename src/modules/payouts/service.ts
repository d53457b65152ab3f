// Payouts: money out. Lifecycle requested -> processing -> processed | failed; a failed payout
// is retried as a new attempt (never a second transfer: at most one attempt of a payout is not
// failed, which a partial unique index also enforces); requested or failed -> cancelled.
// Payouts know nothing about loans, topups or records: the module that owns a payout's purpose
// registers handlers for its outcomes, and they run in the same transaction as the transition.
import type { Database } from '../../db/database.js';
import { nextRef } from '../../db/refs.js';
import { newId } from '../../domain/ids.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError, notFound } from '../../errors.js';
import type { Payout, PayoutAttempt } from '../../generated/prisma/client.js';
import { dateToColumn, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import type { Actor } from '../users/service.js';
import { PayoutsRepository, type PayoutFilter } from './repository.js';

export const PAYOUT_TYPES = ['disbursement', 'tranche', 'refund'] as const;
export type PayoutType = (typeof PAYOUT_TYPES)[number];
export const PAYOUT_STATUSES = ['requested', 'processing', 'processed', 'failed', 'cancelled'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];
/** Statuses in which money may still move (or is moving): the payout is "in flight". */
export const LIVE_PAYOUT_STATUSES: readonly PayoutStatus[] = ['requested', 'processing'];

export interface CreditBank {
  account_no: string;
  ifsc: string;
  account_holder_name: string;
}

export interface NewPayout {
  type: PayoutType;
  accountId: string;
  amountPaise: bigint;
  loanId?: string | null;
  topupId?: string | null;
  trancheId?: string | null;
  /** Refund payouts: the record whose excess they pay back. */
  recordId?: string | null;
  creditBank?: CreditBank | null;
  payoutTo?: string;
  debitBankId?: string | null;
}

/** What the owner of a payout's purpose does when it moves. Each runs inside the transition's transaction. */
export interface PayoutHandlers {
  /** A payout was created for the purpose (e.g. Create Payout after a cancelled one). */
  created?(payout: Payout, by: Actor): Promise<void>;
  processed?(payout: Payout, by: Actor, bankDate: BusinessDate): Promise<void>;
  /** The payout failed: whatever it held (limit, reserved excess) is released. */
  failed?(payout: Payout, by: Actor): Promise<void>;
  /** Before a failed payout is tried again; may refuse with a DomainError (e.g. the limit is gone). */
  retrying?(payout: Payout, by: Actor): Promise<void>;
  /** The payout was cancelled from `from` (requested or failed). */
  cancelled?(payout: Payout, by: Actor, from: PayoutStatus): Promise<void>;
}

export interface Outcome {
  utr?: string | null;
  bankDate?: BusinessDate;
  failedRemark?: string | null;
}

export const bankReferenceOf = (payout: { refId: string }, attempt: number) => `${payout.refId}-${attempt}`;

export class PayoutsService {
  private readonly handlers = new Map<string, PayoutHandlers[]>();

  constructor(private readonly db: Database) {}

  repo(companyId: string) {
    return new PayoutsRepository(this.db, companyId);
  }

  /** Registers what happens when a payout of this type moves; handlers run in registration order. */
  onOutcome(type: PayoutType, handlers: PayoutHandlers): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), handlers]);
  }

  private async emit(payout: Payout, run: (h: PayoutHandlers) => Promise<void> | undefined): Promise<void> {
    for (const h of this.handlers.get(payout.type) ?? []) await run(h);
  }

  /** Creates a payout and its first attempt, in the caller's transaction (the owner holds the account lock). */
  async create(by: Actor, input: NewPayout): Promise<Payout> {
    const repo = this.repo(by.companyId);
    const refId = await nextRef(this.db, by.companyId, 'payout', 'PAY');
    const payout = await repo.create({
      id: newId(), accountId: input.accountId, loanId: input.loanId ?? null, topupId: input.topupId ?? null, trancheId: input.trancheId ?? null,
      recordId: input.recordId ?? null, refId, type: input.type, amountPaise: input.amountPaise, status: 'requested', attempt: 1, payoutTo: input.payoutTo ?? 'borrower',
      debitBankId: input.debitBankId ?? null, creditAccountNo: input.creditBank?.account_no ?? null, creditIfsc: input.creditBank?.ifsc ?? null,
      creditAccountName: input.creditBank?.account_holder_name ?? null, createdBy: by.actor,
    });
    await repo.createAttempt({ id: newId(), payoutId: payout.id, attempt: 1, bankReference: bankReferenceOf(payout, 1), status: 'requested', createdBy: by.actor });
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'payout', entityId: payout.id, action: 'created', actor: by.actor, data: { type: input.type, amount_paise: input.amountPaise } });
    await this.emit(payout, (h) => h.created?.(payout, by));
    return payout;
  }

  async get(companyId: string, id: string): Promise<Payout> {
    const payout = await this.repo(companyId).findById(id);
    if (!payout) throw notFound('Payout');
    return payout;
  }

  list(companyId: string, page: PageRequest, filter: PayoutFilter) {
    return this.repo(companyId).list(page, filter);
  }

  async attempts(companyId: string, id: string): Promise<PayoutAttempt[]> {
    await this.get(companyId, id);
    return this.repo(companyId).attemptsOf(id);
  }

  /** Runs fn with the payout's account and then the payout locked (always in that order: no deadlocks). */
  async locked<T>(by: Actor, id: string, fn: (payout: Payout, repo: PayoutsRepository) => Promise<T>): Promise<T> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const found = await repo.findById(id);
      if (!found) throw notFound('Payout');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      return fn((await repo.lockForUpdate(id))!, repo);
    });
  }

  /** Sent to the bank (exported or handed to a gateway): requested -> processing. */
  markProcessing(by: Actor, id: string): Promise<Payout> {
    return this.locked(by, id, async (payout, repo) => {
      if (payout.status === 'processing') return payout;
      if (payout.status !== 'requested') throw conflict(payout, 'marked processing', 'requested');
      return this.toProcessing(by, payout, repo);
    });
  }

  async toProcessing(by: Actor, payout: Payout, repo: PayoutsRepository): Promise<Payout> {
    const attempt = (await repo.currentAttempt(payout))!;
    await repo.updateAttempt(attempt.id, { status: 'processing' });
    const updated = await repo.update(payout.id, { status: 'processing' });
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'payout', entityId: payout.id, action: 'processing', actor: by.actor, data: { attempt: payout.attempt } });
    return updated;
  }

  /** The bank paid: the payout is final, and its owner's `processed` handler runs (a loan activates). */
  markProcessed(by: Actor, id: string, outcome: Outcome): Promise<Payout> {
    return this.locked(by, id, async (payout, repo) => {
      if (payout.status === 'processed' && payout.utr === (outcome.utr ?? payout.utr)) return payout;
      if (!LIVE_PAYOUT_STATUSES.includes(payout.status as PayoutStatus)) throw conflict(payout, 'marked processed', 'requested or processing');
      return this.applyProcessed(by, payout, repo, outcome);
    });
  }

  async applyProcessed(by: Actor, payout: Payout, repo: PayoutsRepository, outcome: Outcome): Promise<Payout> {
    const bankDate = outcome.bankDate ?? istDateOf(new Date());
    const now = new Date();
    const attempt = (await repo.currentAttempt(payout))!;
    await repo.updateAttempt(attempt.id, { status: 'processed', utr: outcome.utr ?? null, processedAt: now, bankDate: dateToColumn(bankDate) });
    const updated = await repo.update(payout.id, { status: 'processed', utr: outcome.utr ?? null, processedAt: now, bankDate: dateToColumn(bankDate), failedRemark: null });
    await this.emit(updated, (h) => h.processed?.(updated, by, bankDate));
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'payout', entityId: payout.id, action: 'processed', actor: by.actor, data: { attempt: payout.attempt, utr: outcome.utr ?? null, bank_date: bankDate } });
    return updated;
  }

  /** The bank refused: the attempt failed and the owner's `failed` handler releases what the payout held. */
  markFailed(by: Actor, id: string, outcome: Outcome): Promise<Payout> {
    return this.locked(by, id, async (payout, repo) => {
      if (payout.status === 'failed') return payout;
      if (!LIVE_PAYOUT_STATUSES.includes(payout.status as PayoutStatus)) throw conflict(payout, 'marked failed', 'requested or processing');
      return this.applyFailed(by, payout, repo, outcome);
    });
  }

  async applyFailed(by: Actor, payout: Payout, repo: PayoutsRepository, outcome: Outcome): Promise<Payout> {
    const remark = outcome.failedRemark ?? 'failed';
    const attempt = (await repo.currentAttempt(payout))!;
    await repo.updateAttempt(attempt.id, { status: 'failed', failedRemark: remark, utr: outcome.utr ?? null });
    const updated = await repo.update(payout.id, { status: 'failed', failedRemark: remark });
    await this.emit(updated, (h) => h.failed?.(updated, by));
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'payout', entityId: payout.id, action: 'failed', actor: by.actor, data: { attempt: payout.attempt, remark } });
    return updated;
  }

  /** Retry Failed Payout: a new attempt with its own bank reference; the payout must be exported again. */
  retry(by: Actor, id: string): Promise<Payout> {
    return this.locked(by, id, async (payout, repo) => {
      if (payout.status !== 'failed') throw conflict(payout, 'retried', 'failed');
      await this.emit(payout, (h) => h.retrying?.(payout, by));
      const attempt = payout.attempt + 1;
      await repo.createAttempt({ id: newId(), payoutId: payout.id, attempt, bankReference: bankReferenceOf(payout, attempt), status: 'requested', createdBy: by.actor });
      const updated = await repo.update(payout.id, { status: 'requested', attempt, failedRemark: null, utr: null, isDownloaded: false, exportedAt: null });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'payout', entityId: payout.id, action: 'retried', actor: by.actor, data: { attempt } });
      return updated;
    });
  }

  /** Cancels a payout that has not reached the bank (requested) or that failed; releases what it held. */
  cancel(by: Actor, id: string, remark?: string): Promise<Payout> {
    return this.locked(by, id, async (payout, repo) => {
      if (payout.status === 'cancelled') return payout;
      if (payout.status !== 'requested' && payout.status !== 'failed') throw conflict(payout, 'cancelled', 'requested or failed');
      const from = payout.status as PayoutStatus;
      const attempt = (await repo.currentAttempt(payout))!;
      if (from === 'requested') await repo.updateAttempt(attempt.id, { status: 'cancelled' });
      const updated = await repo.update(payout.id, { status: 'cancelled', failedRemark: remark ?? payout.failedRemark });
      await this.emit(updated, (h) => h.cancelled?.(updated, by, from));
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'payout', entityId: payout.id, action: 'cancelled', actor: by.actor, data: { from, remark: remark ?? null } });
      return updated;
    });
  }
}

function conflict(payout: Payout, action: string, allowed: string): DomainError {
  return new DomainError('STATE_CONFLICT', `Payout ${payout.refId} is ${payout.status}; only a payout that is ${allowed} can be ${action}.`, { status: [`is ${payout.status}`] });
}
