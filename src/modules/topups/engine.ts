// What happens to a topup after its checks: it fails them and holds nothing, waits holding its
// limit (scheduled for a later date, or awaiting its group's approval), or is paid out now (a
// pending loan and its payout). Shared by the topup and topup-group use cases; every method runs
// inside the caller's transaction, which holds the topup's account lock.
import type { Database } from '../../db/database.js';
import { DEFAULT_PARAMS, normalizeParams, validateParams, type StoredParams } from '../../domain/loan-params.js';
import { allPassed, failedChecks, runTopupChecks, type TopupCheck } from '../../domain/topup-checks.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError } from '../../errors.js';
import type { Account, Topup } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository } from '../line-details/repository.js';
import { termsFromJson } from '../loan-data/service.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import { paramsOfAccount } from '../loan-params/service.js';
import type { LoansService } from '../loans/service.js';
import type { Actor } from '../users/service.js';
import { TopupGroupsRepository, TopupsRepository } from './repository.js';

export const TOPUP_STATUSES = ['draft', 'checks_failed', 'scheduled', 'approved', 'payout_initiated', 'disbursed', 'failed', 'unscheduled'] as const;
export type TopupStatus = (typeof TOPUP_STATUSES)[number];
/** Before any payout: the topup may still be edited, re-checked, or have its invoice parsed. */
export const EDITABLE_STATUSES: readonly string[] = ['draft', 'checks_failed', 'scheduled', 'approved'];
/** Waiting with the limit held: scheduled for a later date, or awaiting its group's approval. */
export const WAITING_STATUSES: readonly string[] = ['scheduled', 'approved'];

/** The limit a topup holds before an evaluation (so its own block counts as available to it). */
export interface Held {
  lineType: string;
  amount: bigint;
}

export const heldOf = (t: Topup): Held | null => (t.blockedPaise > 0n ? { lineType: t.lineType, amount: t.blockedPaise } : null);
const sameHold = (held: Held | null, t: Topup) => held !== null && held.lineType === t.lineType && held.amount === t.amountPaise;
const creditBankOf = (t: Topup) =>
  t.creditAccountNo ? { account_no: t.creditAccountNo, ifsc: t.creditIfsc ?? '', account_holder_name: t.creditAccountName ?? '' } : undefined;

export interface SettleOptions {
  /** Checks already evaluated under the same locks (a group approval checks all before paying any). */
  checks?: TopupCheck[];
  /** Pay out (or schedule) even though the topup sits in an open group: the group is being approved. */
  ignoreGroup?: boolean;
}

export class TopupEngine {
  constructor(private readonly db: Database, private readonly loans: LoansService) {}

  repo(companyId: string) {
    return new TopupsRepository(this.db, companyId);
  }

  groups(companyId: string) {
    return new TopupGroupsRepository(this.db, companyId);
  }

  /** Locks the account (404 naming `field` when it is not this company's). */
  async lockAccount(companyId: string, accountId: string, field = 'account'): Promise<Account> {
    const account = await new AccountsRepository(this.db, companyId).lockForUpdate(accountId);
    if (!account) throw new DomainError('NOT_FOUND', 'Account not found.', { [field]: ['not found'] });
    return account;
  }

  /** Finds a topup, locks its account, and reads it again under the lock. */
  async lockTopup(companyId: string, id: string): Promise<Topup> {
    const repo = this.repo(companyId);
    const found = await repo.findById(id);
    if (!found) throw new DomainError('NOT_FOUND', 'Topup not found.');
    await this.lockAccount(companyId, found.accountId);
    return (await repo.findById(id))!;
  }

  /** The account's params with the topup's loan data over them, or why no loan can be made. */
  private async termsOf(companyId: string, account: Account, topup: Topup): Promise<StoredParams | { problem: string }> {
    const row = await paramsOfAccount(this.db, companyId, account);
    if (!row) return { problem: 'the account has no loan params (its lead and program have none)' };
    let terms: StoredParams = paramsFromJson(row.params);
    if (topup.loanDataId) {
      const repo = this.repo(companyId);
      const data = await repo.findLoanData(topup.loanDataId);
      if (!data || data.accountId !== account.id) return { problem: "the loan data is not this account's" };
      if (data.loanId && data.loanId !== topup.loanId) return { problem: 'the loan data is already used by another loan' };
      const rival = await repo.loanDataTakenBy(data.id, topup.id);
      if (rival) return { problem: `the loan data is already taken by topup ${rival}` };
      terms = { ...terms, ...termsFromJson(data.terms) };
    }
    terms = normalizeParams({ ...DEFAULT_PARAMS, ...terms });
    const errors = validateParams(terms);
    const fields = Object.keys(errors);
    if (fields.length > 0) return { problem: `the loan params are incomplete: ${fields.map((f) => `${f} ${errors[f]!.join(', ')}`).join('; ')}` };
    return terms;
  }

  /** Runs every check on the topup as it is stored now. */
  async evaluate(companyId: string, topup: Topup, held: Held | null, today: BusinessDate = istDateOf(new Date())): Promise<TopupCheck[]> {
    const account = (await new AccountsRepository(this.db, companyId).findById(topup.accountId))!;
    const line = await new LineDetailsRepository(this.db, companyId).findByType(topup.accountId, topup.lineType);
    const ownHold = held && held.lineType === topup.lineType ? held.amount : 0n;
    const scheduled = topup.disbursementDate ? columnToDate(topup.disbursementDate) : null;
    const date = (d: Date | null) => (d ? columnToDate(d) : null);
    return runTopupChecks({
      amount: topup.amountPaise,
      accountStatus: account.status,
      line: line ? { type: line.type, active: line.status === 'active', available: line.availablePaise + ownHold } : null,
      terms: await this.termsOf(companyId, account, topup),
      duplicates: await this.repo(companyId).duplicatesOf(topup),
      invoiceNumber: topup.invoiceNumber, invoiceDate: date(topup.invoiceDate), invoiceAmount: topup.invoiceAmountPaise, dueDate: date(topup.dueDate),
      disbursementDate: scheduled && scheduled > today ? scheduled : today,
      today,
    });
  }

  /**
   * Checks the topup and acts on the result. `held` is the limit the topup held before this
   * change (its line and amount may since have been edited): it is released, kept, or handed to
   * the loan. Returns the topup as stored after.
   */
  async settle(by: Actor, topup: Topup, held: Held | null, options: SettleOptions = {}): Promise<Topup> {
    const today = istDateOf(new Date());
    const checks = options.checks ?? (await this.evaluate(by.companyId, topup, held, today));
    const checked = { checks: checks as object[], checkedAt: new Date() };
    if (!allPassed(checks)) {
      if (held) await this.loans.unblockLine(by, topup.accountId, held.lineType, held.amount);
      const failed = await this.repo(by.companyId).update(topup.id, { ...checked, status: 'checks_failed', blockedPaise: 0n });
      await this.audit(by, failed, 'checks_failed', { failed: failedChecks(checks).map((c) => c.name), released_paise: held?.amount ?? 0n });
      return failed;
    }
    const target = await this.targetOf(by.companyId, topup, today, options.ignoreGroup === true);
    if (target === 'disburse') return this.disburse(by, topup, held, checked, today);
    if (!sameHold(held, topup)) {
      if (held) await this.loans.unblockLine(by, topup.accountId, held.lineType, held.amount);
      await this.loans.blockLine(by, topup.accountId, topup.lineType, topup.amountPaise);
    }
    const waiting = await this.repo(by.companyId).update(topup.id, { ...checked, status: target, blockedPaise: topup.amountPaise });
    await this.audit(by, waiting, target === 'scheduled' ? 'scheduled' : 'awaiting_group_approval', { blocked_paise: topup.amountPaise });
    return waiting;
  }

  /**
   * Where a topup that passed its checks goes: it waits for its group while the group is open
   * (the group's share lock keeps it open until this transaction commits), waits for a later
   * date, or is paid out now.
   */
  private async targetOf(companyId: string, topup: Topup, today: BusinessDate, ignoreGroup: boolean): Promise<'approved' | 'scheduled' | 'disburse'> {
    if (topup.topupGroupId && !ignoreGroup) {
      const group = await this.groups(companyId).lockShared(topup.topupGroupId);
      if (group?.status === 'open') return 'approved';
    }
    if (topup.disbursementDate && columnToDate(topup.disbursementDate) > today) return 'scheduled';
    return 'disburse';
  }

  /** Pays out now: a pending loan (taking over the topup's block when it holds exactly this one) and its payout. */
  private async disburse(by: Actor, topup: Topup, held: Held | null, checked: { checks: object[]; checkedAt: Date }, today: BusinessDate): Promise<Topup> {
    const preBlocked = sameHold(held, topup);
    if (held && !preBlocked) await this.loans.unblockLine(by, topup.accountId, held.lineType, held.amount);
    const repo = this.repo(by.companyId);
    // The loan holds the block from here on; the topup's date becomes the day it was paid out.
    await repo.update(topup.id, { ...checked, blockedPaise: 0n, disbursementDate: dateToColumn(today) });
    const { loan, payout } = await this.loans.initiateDisbursement(by, topup.accountId, {
      amount: topup.amountPaise, loan_data: topup.loanDataId ?? undefined, line_type: topup.lineType,
      credit_bank: creditBankOf(topup), payout_to: topup.payoutTo,
    }, { topupId: topup.id, preBlocked });
    const initiated = await repo.update(topup.id, { status: 'payout_initiated', loanId: loan.id, payoutId: payout.id });
    await this.audit(by, initiated, 'payout_initiated', { loan: loan.id, payout: payout.id, pre_blocked: preBlocked });
    return initiated;
  }

  /** Gives back the limit a waiting topup holds. */
  async release(by: Actor, topup: Topup): Promise<void> {
    const held = heldOf(topup);
    if (held) await this.loans.unblockLine(by, topup.accountId, held.lineType, held.amount);
  }

  audit(by: Actor, topup: Topup, action: string, data: Record<string, unknown> = {}): Promise<void> {
    return writeAudit(this.db, { companyId: by.companyId, entityType: 'topup', entityId: topup.id, action, actor: by.actor, data: { status: topup.status, ...data } });
  }
}
