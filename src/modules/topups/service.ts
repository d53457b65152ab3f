// Topups: drawdowns on a credit line, usually against one invoice. A topup is checked (account,
// params, limit, amount bounds, duplicate invoice, dates) under its account's lock and then
// fails its checks holding nothing, waits holding its limit (scheduled, or awaiting its group's
// approval), or is paid out (a pending loan and a disbursement payout). Payout outcomes move it
// on through the handlers registered here. State and limit move in one transaction; see
// engine.ts for the placement rules and docs/decisions.md for the choices behind them.
import type { Database } from '../../db/database.js';
import { nextRef } from '../../db/refs.js';
import { newId } from '../../domain/ids.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError, notFound, validationFailed, type FieldErrors } from '../../errors.js';
import type { Payout, Prisma, Topup } from '../../generated/prisma/client.js';
import { dateToColumn, type Page, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { LineDetailsRepository } from '../line-details/repository.js';
import type { LineDetailsService } from '../line-details/service.js';
import type { LoansService } from '../loans/service.js';
import type { CreditBank, PayoutsService } from '../payouts/service.js';
import type { Actor } from '../users/service.js';
import { EDITABLE_STATUSES, heldOf, TopupEngine, WAITING_STATUSES } from './engine.js';
import { TopupGroupsService, GROUP_MAX_TOPUPS } from './groups.js';
import { parseEInvoice } from './invoice.js';
import { dueScheduledTopups, type TopupFilter } from './repository.js';

/** Fields a topup is created or updated with (null clears an optional field on update). */
export interface TopupFields {
  amount?: bigint;
  invoice_number?: string | null;
  invoice_date?: BusinessDate | null;
  invoice_amount?: bigint | null;
  due_date?: BusinessDate | null;
  anchor_id?: string | null;
  disbursement_date?: BusinessDate | null;
  topup_group?: string | null;
  loan_data?: string | null;
  line_type?: string;
  credit_bank?: CreditBank | null;
  payout_to?: string;
  remarks?: string | null;
}

export interface NewTopup extends TopupFields {
  account: string;
  amount: bigint;
}

export interface LineAmountCheck {
  account: string;
  lineType: string;
  amount: bigint;
  available: bigint;
  fits: boolean;
  shortfall: bigint;
  lineStatus: string;
  accountStatus: string;
}

export interface ScheduledRun {
  asOf: BusinessDate;
  disbursed: string[];
  checksFailed: string[];
  skipped: number;
  errors: { topup: string; message: string }[];
}

const SCHEDULER_BATCH = 100;
const optionalDate = (d: BusinessDate | null | undefined) => (d === undefined ? undefined : d === null ? null : dateToColumn(d));

/** Column values for the fields present in `input` (absent fields are left as they are). */
function columnsOf(input: TopupFields): Prisma.TopupUncheckedUpdateManyInput {
  const bank = input.credit_bank;
  return {
    amountPaise: input.amount, invoiceNumber: input.invoice_number, invoiceDate: optionalDate(input.invoice_date),
    invoiceAmountPaise: input.invoice_amount, dueDate: optionalDate(input.due_date), anchorId: input.anchor_id,
    disbursementDate: optionalDate(input.disbursement_date), topupGroupId: input.topup_group, loanDataId: input.loan_data,
    lineType: input.line_type, payoutTo: input.payout_to, remarks: input.remarks,
    ...(bank === undefined ? {} : { creditAccountNo: bank?.account_no ?? null, creditIfsc: bank?.ifsc ?? null, creditAccountName: bank?.account_holder_name ?? null }),
  };
}

const notEditable = (t: Topup, action: string) =>
  new DomainError('STATE_CONFLICT', `Topup ${t.refId} is ${t.status}; only a topup before payout (${EDITABLE_STATUSES.join(', ')}) can be ${action}.`, { status: [`is ${t.status}`] });

export class TopupsService {
  private readonly engine: TopupEngine;
  /** Topup groups: a batch of topups approved (paid out) or cancelled together. */
  readonly groups: TopupGroupsService;

  // Limits move only through LoansService.blockLine/unblockLine (one owner of the line rules), so
  // the line-details service is not needed here beyond the constructor's shape.
  constructor(
    private readonly db: Database,
    _lineDetails: LineDetailsService,
    loans: LoansService,
    private readonly payouts: PayoutsService,
  ) {
    this.engine = new TopupEngine(db, loans);
    this.groups = new TopupGroupsService(db, this.engine);
    // Runs after the loans module's handlers (registered first), in the payout's transaction.
    payouts.onOutcome('disbursement', {
      // Create Payout after a cancelled payout: the topup is paying out again.
      created: async (payout, by) => { await this.assertStillUnfinanced(payout, by); await this.onPayout(payout, by, 'payout_initiated', ['failed'], 'payout_created'); },
      processed: (payout, by) => this.onPayout(payout, by, 'disbursed', ['payout_initiated', 'failed'], 'disbursed'),
      failed: (payout, by) => this.onPayout(payout, by, 'failed', ['payout_initiated'], 'payout_failed'),
      retrying: async (payout, by) => { await this.assertStillUnfinanced(payout, by); await this.onPayout(payout, by, 'payout_initiated', ['failed'], 'payout_retried'); },
      cancelled: (payout, by, from) => this.onPayout(payout, by, 'failed', ['payout_initiated', 'failed'], 'payout_cancelled', { from }),
    });
  }

  private repo(companyId: string) {
    return this.engine.repo(companyId);
  }

  /**
   * Paying a topup again (Retry Failed Payout, Reinitiate Payout, Create Payout after a cancel) is a
   * new drawdown on its invoice: refused if another live topup has financed that invoice meanwhile.
   */
  private async assertStillUnfinanced(payout: Payout, by: Actor): Promise<void> {
    if (!payout.topupId) return;
    const topup = await this.repo(by.companyId).findById(payout.topupId);
    if (!topup || !['failed'].includes(topup.status)) return;
    const duplicates = await this.repo(by.companyId).duplicatesOf(topup);
    if (duplicates.length > 0) throw new DomainError('STATE_CONFLICT', `The invoice is now financed by ${duplicates.join(', ')}.`, { invoice_number: ['financed by another topup'] });
  }

  private async onPayout(payout: Payout, by: Actor, to: string, from: string[], action: string, data: Record<string, unknown> = {}): Promise<void> {
    if (!payout.topupId) return;
    const topup = await this.repo(by.companyId).findById(payout.topupId);
    // Never move a topup backwards (a late event for an old payout of a topup that moved on).
    if (!topup || !from.includes(topup.status)) return;
    const updated = await this.repo(by.companyId).update(topup.id, { status: to, payoutId: payout.id, blockedPaise: 0n });
    await this.engine.audit(by, updated, action, { payout: payout.id, payout_status: payout.status, ...data });
  }

  /**
   * What a body can be refused for before any check runs: a past disbursement date (400), loan
   * data or a group that is not this account's or company's (404), a group that is closed or full
   * (409). The group is share-locked so it cannot be approved or cancelled while the topup joins.
   */
  private async checkInput(by: Actor, accountId: string, input: TopupFields, currentGroup: string | null): Promise<void> {
    const today = istDateOf(new Date());
    if (input.disbursement_date && input.disbursement_date < today) {
      throw validationFailed({ disbursement_date: [`must not be in the past (today is ${today})`] });
    }
    if (input.loan_data) {
      const data = await this.repo(by.companyId).findLoanData(input.loan_data);
      if (!data || data.accountId !== accountId) throw new DomainError('NOT_FOUND', 'Loan data not found for this account.', { loan_data: ['not found for this account'] });
    }
    if (input.topup_group && input.topup_group !== currentGroup) {
      const group = await this.engine.groups(by.companyId).lockShared(input.topup_group);
      if (!group) throw new DomainError('NOT_FOUND', 'Topup group not found.', { topup_group: ['not found'] });
      if (group.status !== 'open') throw new DomainError('STATE_CONFLICT', `Topup group ${group.refId} is ${group.status}; topups join only an open group.`, { topup_group: [`group is ${group.status}`] });
      if ((await this.repo(by.companyId).countLiveMembers(group.id)) >= GROUP_MAX_TOPUPS) {
        throw new DomainError('STATE_CONFLICT', `Topup group ${group.refId} already holds ${GROUP_MAX_TOPUPS} topups.`, { topup_group: ['group is full'] });
      }
    }
  }

  /** Create Topup: the topup is stored with its checks whatever they say (201 either way). */
  create(by: Actor, input: NewTopup): Promise<Topup> {
    return this.db.transaction(async () => {
      await this.engine.lockAccount(by.companyId, input.account);
      await this.checkInput(by, input.account, input, null);
      const topup = await this.repo(by.companyId).create({
        ...(columnsOf(input) as Omit<Prisma.TopupUncheckedCreateInput, 'companyId' | 'id' | 'refId' | 'status' | 'accountId' | 'amountPaise'>),
        id: newId(), refId: await nextRef(this.db, by.companyId, 'topup', 'TOP'), accountId: input.account, amountPaise: input.amount,
        status: 'draft', blockedPaise: 0n, checks: [], createdBy: by.actor,
      });
      await this.engine.audit(by, topup, 'created', { amount_paise: input.amount });
      return this.engine.settle(by, topup, null);
    });
  }

  /** Bulk Topup Create: all rows in one transaction (a bad row fails the request, naming it); accounts locked in id order. */
  bulkCreate(by: Actor, inputs: NewTopup[]): Promise<Topup[]> {
    return this.db.transaction(async () => {
      for (const accountId of [...new Set(inputs.map((i) => i.account))].sort()) {
        await this.engine.lockAccount(by.companyId, accountId).catch((error: unknown) => {
          throw prefixed(error, inputs.findIndex((i) => i.account === accountId));
        });
      }
      const created: Topup[] = [];
      for (const [index, input] of inputs.entries()) {
        created.push(await this.create(by, input).catch((error: unknown) => { throw prefixed(error, index); }));
      }
      return created;
    });
  }

  /**
   * A checker approved the topup's group with its amount, beneficiary and dates as they were: a
   * change would pay out something nobody approved. Unschedule it and create a new topup instead.
   */
  private async assertNotApprovedInGroup(by: Actor, topup: Topup, action: string): Promise<void> {
    if (!topup.topupGroupId) return;
    const group = await this.db.client.topupGroup.findFirst({ where: { companyId: by.companyId, id: topup.topupGroupId } });
    if (group?.status === 'approved') {
      throw new DomainError('STATE_CONFLICT', `Topup ${topup.refId} was approved with group ${group.refId}; it cannot be ${action} (unschedule it and create a new topup).`, { topup_group: ['group approved'] });
    }
  }

  /** Update Topup: only before payout; the topup is checked again and placed anew. */
  update(by: Actor, id: string, patch: TopupFields): Promise<Topup> {
    return this.db.transaction(async () => {
      const topup = await this.engine.lockTopup(by.companyId, id);
      if (!EDITABLE_STATUSES.includes(topup.status)) throw notEditable(topup, 'updated');
      await this.assertNotApprovedInGroup(by, topup, 'updated');
      await this.checkInput(by, topup.accountId, patch, topup.topupGroupId);
      const updated = await this.repo(by.companyId).update(id, columnsOf(patch));
      await this.engine.audit(by, updated, 'updated', { fields: Object.keys(patch) });
      return this.engine.settle(by, updated, heldOf(topup));
    });
  }

  /**
   * Re Run Checks: evaluates and stores the checks again. A topup that now passes moves on (waits
   * or is paid out); a waiting topup that now fails gives its limit back.
   */
  rerunChecks(by: Actor, id: string): Promise<Topup> {
    return this.db.transaction(async () => {
      const topup = await this.engine.lockTopup(by.companyId, id);
      if (!EDITABLE_STATUSES.includes(topup.status)) throw notEditable(topup, 're-checked');
      await this.engine.audit(by, topup, 'checks_rerun');
      return this.engine.settle(by, topup, heldOf(topup));
    });
  }

  /** Invoice Parse: fills the invoice fields from an e-invoice (INV-01) and checks the topup again. */
  invoiceParse(by: Actor, id: string, body: unknown): Promise<Topup> {
    return this.db.transaction(async () => {
      const topup = await this.engine.lockTopup(by.companyId, id);
      if (!EDITABLE_STATUSES.includes(topup.status)) throw notEditable(topup, 'given an invoice');
      await this.assertNotApprovedInGroup(by, topup, 'given an invoice');
      const parsed = parseEInvoice(body);
      if ('errors' in parsed) throw validationFailed(parsed.errors);
      const { invoice } = parsed;
      const updated = await this.repo(by.companyId).update(id, {
        irn: invoice.irn, sellerGstin: invoice.sellerGstin, buyerGstin: invoice.buyerGstin, invoiceNumber: invoice.number.toUpperCase(),
        invoiceDate: dateToColumn(invoice.date), invoiceAmountPaise: invoice.amount, invoice: invoice.document as object,
      });
      await this.engine.audit(by, updated, 'invoice_parsed', { irn: invoice.irn, invoice_number: invoice.number, invoice_amount_paise: invoice.amount });
      return this.engine.settle(by, updated, heldOf(topup));
    });
  }

  /** Unschedule: a waiting topup (scheduled, or awaiting its group) is withdrawn and its limit released. */
  unschedule(by: Actor, id: string): Promise<Topup> {
    return this.db.transaction(async () => {
      const topup = await this.engine.lockTopup(by.companyId, id);
      if (topup.status === 'unscheduled') return topup;
      if (!WAITING_STATUSES.includes(topup.status)) {
        throw new DomainError('STATE_CONFLICT', `Topup ${topup.refId} is ${topup.status}; only a scheduled topup (or one awaiting its group) can be unscheduled.`, { status: [`is ${topup.status}`] });
      }
      await this.engine.release(by, topup);
      const updated = await this.repo(by.companyId).update(id, { status: 'unscheduled', blockedPaise: 0n });
      await this.engine.audit(by, updated, 'unscheduled', { released_paise: topup.blockedPaise });
      return updated;
    });
  }

  /** Reinitiate Payout: retries the failed payout of a failed topup (the loans module blocks the limit again). */
  reinitiatePayout(by: Actor, id: string): Promise<Topup> {
    return this.db.transaction(async () => {
      const topup = await this.engine.lockTopup(by.companyId, id);
      const payout = topup.payoutId ? await this.payouts.get(by.companyId, topup.payoutId) : null;
      if (topup.status !== 'failed' || !payout) {
        throw new DomainError('STATE_CONFLICT', `Topup ${topup.refId} is ${topup.status}; only a topup whose payout failed can be paid out again.`, { status: [`is ${topup.status}`] });
      }
      if (payout.status !== 'failed') {
        throw new DomainError('STATE_CONFLICT', `Payout ${payout.refId} is ${payout.status}; only a failed payout can be retried${payout.status === 'cancelled' ? ' (create a new payout for the loan instead)' : ''}.`, { payout: [`is ${payout.status}`] });
      }
      // The retry's handlers check the account and that no other topup financed the invoice meanwhile.
      await this.payouts.retry(by, payout.id);
      const updated = (await this.repo(by.companyId).findById(id))!;
      await this.engine.audit(by, updated, 'payout_reinitiated', { payout: payout.id });
      return updated;
    });
  }

  /** Check Line Amount: whether `amount` fits the line now. Reads only; a later topup may find less. */
  async checkLineAmount(companyId: string, input: { account: string; amount: bigint; line_type?: string }): Promise<LineAmountCheck> {
    const account = await new AccountsRepository(this.db, companyId).findById(input.account);
    if (!account) throw new DomainError('NOT_FOUND', 'Account not found.', { account: ['not found'] });
    const lineType = input.line_type ?? 'primary';
    const line = await new LineDetailsRepository(this.db, companyId).findByType(account.id, lineType);
    if (!line) throw new DomainError('NOT_FOUND', `The account has no ${lineType} line.`, { line_type: ['no line of this type'] });
    const available = line.status === 'active' ? line.availablePaise : 0n;
    const shortfall = input.amount > available ? input.amount - available : 0n;
    return { account: account.id, lineType, amount: input.amount, available, fits: shortfall === 0n, shortfall, lineStatus: line.status, accountStatus: account.status };
  }

  async get(companyId: string, id: string): Promise<Topup> {
    const topup = await this.repo(companyId).findById(id);
    if (!topup) throw notFound('Topup');
    return topup;
  }

  list(companyId: string, page: PageRequest, filter: TopupFilter): Promise<Page<Topup>> {
    return this.repo(companyId).list(page, filter);
  }

  /**
   * Pays out every scheduled topup due on or before `asOf`, across companies. Each topup is its
   * own transaction under its account's lock, re-read there: a topup another run (or process)
   * already paid out is skipped, so running twice at once pays nothing twice. A topup whose checks
   * fail now gives its limit back (checks_failed); an unexpected error leaves it scheduled.
   */
  async disburseScheduled(asOf: BusinessDate): Promise<ScheduledRun> {
    const today = istDateOf(new Date());
    if (asOf > today) throw validationFailed({ date: [`must not be after today (${today}, IST)`] });
    const run: ScheduledRun = { asOf, disbursed: [], checksFailed: [], skipped: 0, errors: [] };
    let after: { date: Date; id: string } | undefined;
    for (;;) {
      const batch = await dueScheduledTopups(this.db, dateToColumn(asOf), SCHEDULER_BATCH, after);
      for (const row of batch) {
        try {
          const topup = await this.disburseOne({ companyId: row.companyId, actor: 'scheduler' }, row.id, asOf);
          if (!topup) run.skipped += 1;
          else if (topup.status === 'checks_failed') run.checksFailed.push(topup.refId);
          else run.disbursed.push(topup.refId);
        } catch (error) {
          run.errors.push({ topup: row.id, message: error instanceof Error ? error.message : String(error) });
        }
      }
      if (batch.length < SCHEDULER_BATCH) return run;
      const last = batch.at(-1)!;
      after = { date: last.disbursementDate!, id: last.id };
    }
  }

  private disburseOne(by: Actor, id: string, asOf: BusinessDate): Promise<Topup | null> {
    return this.db.transaction(async () => {
      const topup = await this.engine.lockTopup(by.companyId, id);
      if (topup.status !== 'scheduled' || !topup.disbursementDate || topup.disbursementDate > dateToColumn(asOf)) return null;
      await this.engine.audit(by, topup, 'scheduled_date_reached', { as_of: asOf });
      return this.engine.settle(by, topup, heldOf(topup));
    });
  }
}

/** A row's error in a bulk request, its fields named under `topups.<index>.`. */
function prefixed(error: unknown, index: number): unknown {
  if (!(error instanceof DomainError)) return error;
  const fields: FieldErrors = Object.create(null);
  for (const [field, messages] of Object.entries(error.fieldErrors ?? { topup: [error.message] })) fields[`topups.${index}.${field}`] = messages;
  return new DomainError(error.code, `topups.${index}: ${error.message}`, fields, error.details);
}
