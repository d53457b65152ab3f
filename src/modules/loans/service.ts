// Loans: disbursement (a pending loan and its payout, the limit blocked), activation when the
// payout succeeds (schedule from the actual payout date, limit used), and reads.
import type { Database } from '../../db/database.js';
import { nextRef } from '../../db/refs.js';
import { newId } from '../../domain/ids.js';
import { block, consumeBlocked, LimitError, unblock } from '../../domain/limits.js';
import { DEFAULT_PARAMS, normalizeParams, validateParams, type StoredParams } from '../../domain/loan-params.js';
import { disbursalFor, scheduleFor, TermsError } from '../../domain/loan-terms.js';
import { foreclosureAmount, type DemandSnapshot, type Foreclosure } from '../../domain/foreclosure.js';
import { planReset } from '../../domain/reset.js';
import { accruedInterest } from '../../domain/replay.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError, notFound, validationFailed } from '../../errors.js';
import type { Demand, Loan, Payout } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository, limitColumns, limitOf } from '../line-details/repository.js';
import type { LineDetailsService } from '../line-details/service.js';
import { termsFromJson } from '../loan-data/service.js';
import { paramsFromJson, paramsToJson } from '../loan-params/schemas.js';
import { paramsOfAccount } from '../loan-params/service.js';
import type { Actor } from '../users/service.js';
import type { CreditBank, PayoutsService } from '../payouts/service.js';
import { LoansRepository, type DemandFilter, type LoanFilter } from './repository.js';
import { demandStateOf, isTouched, loanStateOf, prepaidPrincipalOf } from './loan-state.js';
import { disbursedTranchesOf } from './tranche-segments.js';

export interface DisbursementRequest {
  amount: bigint;
  loan_data?: string;
  line_type?: string;
  /** A multi-tranche loan: the most it may disburse over all tranches (default: amount). */
  sanctioned_amount?: bigint;
  credit_bank?: CreditBank;
  payout_to?: string;
}

/** How a topup draws: the loan records the topup, and a topup that already holds the block hands it over. */
export interface DisbursementOrigin {
  topupId?: string;
  /** The caller already blocked `amount` on the line (a scheduled topup): do not block again. */
  preBlocked?: boolean;
}

const columnDate = (d: BusinessDate) => dateToColumn(d);

export class LoansService {
  constructor(private readonly db: Database, private readonly lineDetails: LineDetailsService, private readonly payouts: PayoutsService) {
    payouts.onOutcome('disbursement', {
      processed: (payout, by, bankDate) => this.activate(by, payout.loanId!, bankDate).then(() => undefined),
      failed: (payout, by) => this.releaseBlock(by, payout.loanId!, 'payout failed'),
      retrying: (payout, by) => this.reblock(by, payout.loanId!),
      cancelled: (payout, by, from) => (from === 'requested' ? this.releaseBlock(by, payout.loanId!, 'payout cancelled') : Promise.resolve()),
    });
  }

  private repo(companyId: string) {
    return new LoansRepository(this.db, companyId);
  }

  /** The account's params with the loan data's terms over them, checked as a whole. */
  private async termsFor(companyId: string, account: { id: string; leadId: string | null; programId: string | null }, loanDataId?: string) {
    const params = await paramsOfAccount(this.db, companyId, account);
    if (!params) throw new DomainError('STATE_CONFLICT', "The account has no loan params (its lead and program have none): initiate them first.");
    let terms: StoredParams = paramsFromJson(params.params);
    if (loanDataId) {
      const data = await this.db.client.loanData.findFirst({ where: { companyId, id: loanDataId } });
      if (!data || data.accountId !== account.id) throw new DomainError('NOT_FOUND', 'Loan data not found for this account.', { loan_data: ['not found'] });
      if (data.loanId) throw new DomainError('STATE_CONFLICT', 'This loan data is already used by another loan.', { loan_data: ['already used'] });
      terms = { ...terms, ...termsFromJson(data.terms) };
    }
    terms = normalizeParams({ ...DEFAULT_PARAMS, ...terms });
    const errors = validateParams(terms);
    if (Object.keys(errors).length > 0) throw validationFailed(errors);
    return { terms, params };
  }

  /**
   * Initiate Disbursement: checks the limit and blocks it, creates the loan in
   * pending_disbursement and a payout for the net amount. The loan activates when that payout
   * succeeds (activate()).
   */
  initiateDisbursement(by: Actor, accountId: string, request: DisbursementRequest, origin: DisbursementOrigin = {}): Promise<{ loan: Loan; payout: Payout }> {
    return this.db.transaction(async () => {
      const account = await new AccountsRepository(this.db, by.companyId).lockForUpdate(accountId);
      if (!account) throw notFound('Account');
      if (account.status !== 'active') throw new DomainError('STATE_CONFLICT', `The account is ${account.status}; only an active account can draw.`);
      const { terms, params } = await this.termsFor(by.companyId, account, request.loan_data);
      const today = istDateOf(new Date());
      let disbursal;
      try {
        disbursal = disbursalFor(terms, request.amount, today);
      } catch (error) {
        if (error instanceof TermsError) throw new DomainError('STATE_CONFLICT', `${error.field}: ${error.message}`, { [error.field]: [error.message] });
        throw error;
      }
      const sanctioned = request.sanctioned_amount ?? request.amount;
      if (sanctioned < request.amount) throw new DomainError('VALIDATION_ERROR', 'sanctioned_amount: must be at least amount', { sanctioned_amount: ['must be at least amount'] });
      if (sanctioned > request.amount && disbursal.kind === 'flat') {
        throw new DomainError('STATE_CONFLICT', 'sanctioned_amount: a flat-rate loan cannot take further tranches', { sanctioned_amount: ['flat-rate loans are single-tranche'] });
      }
      const lineType = request.line_type ?? 'primary';
      if (!origin.preBlocked) await this.blockLine(by, accountId, lineType, request.amount);
      const repo = this.repo(by.companyId);
      const loan = await repo.create({
        id: newId(), accountId, refId: await nextRef(this.db, by.companyId, 'loan', 'LOAN'), status: 'pending_disbursement', kind: disbursal.kind,
        principalPaise: request.amount, sanctionedPaise: sanctioned, netDisbursalPaise: disbursal.netDisbursal, upfrontInterestPaise: disbursal.upfrontInterest,
        terms: paramsToJson(terms) as object, loanParamsId: params.id, paramsVersion: params.version, loanDataId: request.loan_data ?? null,
        lineType, requestedDate: columnDate(today), createdBy: by.actor, topupId: origin.topupId ?? null,
      });
      if (request.loan_data) await this.db.client.loanData.updateMany({ where: { companyId: by.companyId, id: request.loan_data }, data: { loanId: loan.id } });
      const payout = await this.payouts.create(by, {
        type: 'disbursement', accountId, loanId: loan.id, topupId: origin.topupId ?? null, amountPaise: disbursal.netDisbursal,
        creditBank: request.credit_bank ?? null, payoutTo: request.payout_to,
      });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loan.id, action: 'disbursement_initiated', actor: by.actor, data: { ...disbursal, payout: payout.id } });
      return { loan, payout };
    });
  }

  /**
   * Create Payout: a new disbursement payout for a pending loan whose earlier payouts were all
   * cancelled (a failed one is retried instead, so that one loan never has two live payouts).
   */
  createPayout(by: Actor, loanId: string, request: { credit_bank?: CreditBank; payout_to?: string }): Promise<Payout> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const found = await repo.findById(loanId);
      if (!found) throw notFound('Loan');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      const loan = (await repo.findById(loanId))!;
      if (loan.status !== 'pending_disbursement') throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} is ${loan.status}; only a loan awaiting disbursement gets a payout.`, { loan: [`loan is ${loan.status}`] });
      const open = (await repo.payoutsOf(loanId)).filter((p) => p.type === 'disbursement' && p.status !== 'cancelled');
      if (open.length > 0) {
        const p = open[0]!;
        throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} already has payout ${p.refId} (${p.status})${p.status === 'failed' ? ': retry it or cancel it first' : ''}.`, { loan: [`has payout ${p.refId}`] });
      }
      await this.assertCanDraw(by, loan.accountId);
      await this.blockLine(by, loan.accountId, loan.lineType, loan.principalPaise);
      return this.payouts.create(by, {
        type: 'disbursement', accountId: loan.accountId, loanId, topupId: loan.topupId, amountPaise: loan.netDisbursalPaise,
        creditBank: request.credit_bank ?? null, payoutTo: request.payout_to,
      });
    });
  }

  /** Blocks `amount` on the account's line of `lineType` (409 naming the amount when it does not fit). */
  async blockLine(by: Actor, accountId: string, lineType: string, amount: bigint): Promise<void> {
    const lines = new LineDetailsRepository(this.db, by.companyId);
    const line = await lines.findByType(accountId, lineType);
    if (!line || line.status !== 'active') throw new DomainError('STATE_CONFLICT', `The account has no active ${lineType} line.`, { line_type: ['no active line of this type'] });
    try {
      await lines.update(line.id, limitColumns(block(limitOf(line), amount)));
    } catch (error) {
      if (error instanceof LimitError) throw new DomainError('STATE_CONFLICT', `amount: ${error.message}`, { amount: [error.message] });
      throw error;
    }
    await this.lineDetails.recomputeAccount(by.companyId, accountId);
  }

  /** Gives blocked limit back to available (a payout failed or was cancelled, a topup unscheduled). */
  async unblockLine(by: Actor, accountId: string, lineType: string, amount: bigint): Promise<void> {
    const lines = new LineDetailsRepository(this.db, by.companyId);
    const line = (await lines.findByType(accountId, lineType))!;
    await lines.update(line.id, limitColumns(unblock(limitOf(line), amount)));
    await this.lineDetails.recomputeAccount(by.companyId, accountId);
  }

  private async releaseBlock(by: Actor, loanId: string, reason: string): Promise<void> {
    const loan = (await this.repo(by.companyId).findById(loanId))!;
    await this.unblockLine(by, loan.accountId, loan.lineType, loan.principalPaise);
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loanId, action: 'limit_released', actor: by.actor, data: { reason, amount_paise: loan.principalPaise } });
  }

  /** Money may leave only for an active account: a frozen or closed one draws nothing, retries included. */
  private async assertCanDraw(by: Actor, accountId: string): Promise<void> {
    const account = (await new AccountsRepository(this.db, by.companyId).findById(accountId))!;
    if (account.status !== 'active') throw new DomainError('STATE_CONFLICT', `The account is ${account.status}; only an active account can draw.`, { account: [`account is ${account.status}`] });
  }

  private async reblock(by: Actor, loanId: string): Promise<void> {
    const loan = (await this.repo(by.companyId).findById(loanId))!;
    if (loan.status !== 'pending_disbursement') throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} is ${loan.status}; its payout cannot be retried.`);
    await this.assertCanDraw(by, loan.accountId);
    await this.blockLine(by, loan.accountId, loan.lineType, loan.principalPaise);
  }

  /**
   * The disbursement payout succeeded on `payoutDate`: the schedule is generated from that date,
   * the blocked limit becomes used, and the loan is active. Activating an active loan again
   * changes nothing.
   */
  activate(by: Actor, loanId: string, payoutDate: BusinessDate): Promise<Loan> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const found = await repo.findById(loanId);
      if (!found) throw notFound('Loan');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      const loan = (await repo.findById(loanId))!;
      if (loan.status === 'active' && loan.disbursementDate) return loan;
      if (loan.status !== 'pending_disbursement') throw new DomainError('STATE_CONFLICT', `The loan is ${loan.status}; only a pending loan can be activated.`);
      const terms = paramsFromJson(loan.terms);
      let schedule;
      let disbursal;
      try {
        schedule = scheduleFor(terms, loan.principalPaise, payoutDate);
        disbursal = disbursalFor(terms, loan.principalPaise, payoutDate);
      } catch (error) {
        // The terms were checked at initiation; a payout date they cannot schedule from is a state to show, not a crash.
        if (error instanceof TermsError) throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} cannot be scheduled from ${payoutDate}: ${error.field}: ${error.message}`, { [error.field]: [error.message] });
        throw error;
      }
      const upfront = loan.upfrontInterestPaise > 0n;
      await repo.createDemands(schedule.installments.map((i) => ({
        id: newId(), accountId: loan.accountId, loanId, kind: 'emi', installmentNumber: i.number, scheduleVersion: 1,
        periodStart: columnDate(i.periodStart), dueDate: columnDate(i.dueDate), status: i.dueDate <= payoutDate ? 'due' : 'upcoming',
        pDuePaise: i.principal,
        // Upfront interest was taken out of the payout: the demand shows it due and paid.
        niDuePaise: upfront ? loan.upfrontInterestPaise : i.interest, niPaidPaise: upfront ? loan.upfrontInterestPaise : 0n,
      })));
      if (terms.pf_collection === 'fee_demand' && disbursal.fee + disbursal.feeGst > 0n) {
        await repo.createDemands([{
          id: newId(), accountId: loan.accountId, loanId, kind: 'fee', scheduleVersion: 1, dueDate: columnDate(payoutDate), status: 'due',
          feeDuePaise: disbursal.fee + disbursal.feeGst,
        }]);
      }
      const lines = new LineDetailsRepository(this.db, by.companyId);
      const line = (await lines.findByType(loan.accountId, loan.lineType))!;
      await lines.update(line.id, limitColumns(consumeBlocked(limitOf(line), loan.principalPaise)));
      await this.lineDetails.recomputeAccount(by.companyId, loan.accountId);
      const active = await repo.update(loanId, {
        status: 'active', disbursedPaise: loan.principalPaise, disbursementDate: columnDate(payoutDate),
        maturityDate: columnDate(schedule.installments.at(-1)!.dueDate), scheduleVersion: 1,
      });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loanId, action: 'activated', actor: by.actor, data: { payout_date: payoutDate, installments: schedule.installments.length } });
      return active;
    });
  }

  /**
   * Reset RPS: regenerates the schedules of the account's live loans (or one loan) under the
   * account's current params. Demands with anything paid or waived stay exactly as they are; the
   * untouched rest is cancelled (kept as history) and its principal rescheduled.
   */
  resetRps(by: Actor, accountId: string, loanId?: string): Promise<Loan[]> {
    return this.db.transaction(async () => {
      const account = await new AccountsRepository(this.db, by.companyId).lockForUpdate(accountId);
      if (!account) throw notFound('Account');
      const loans = await this.db.client.loan.findMany({
        where: { companyId: by.companyId, accountId, ...(loanId ? { id: loanId } : { status: { in: ['active', 'overdue', 'npa'] } }) },
        orderBy: { id: 'asc' },
      });
      if (loanId && loans.length === 0) throw new DomainError('NOT_FOUND', 'Loan not found on this account.', { loan: ['not found'] });
      const reset: Loan[] = [];
      const restructured = new Set((await this.db.client.restructure.findMany({
        where: { companyId: by.companyId, loanId: { in: loans.map((l) => l.id) } }, select: { loanId: true },
      })).map((r) => r.loanId));
      for (const loan of loans) {
        // A restructured loan's terms are its restructure's, not the account's params, and its first
        // new installment may carry arrears that a reset would drop: restructure it again instead.
        if (restructured.has(loan.id)) {
          throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} was restructured; restructure it again instead of resetting it.`, { loan: ['loan was restructured'] });
        }
        if (!['active', 'overdue', 'npa'].includes(loan.status) || !loan.disbursementDate) {
          throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} is ${loan.status}; only a disbursed, open loan can be reset.`, { loan: [`loan is ${loan.status}`] });
        }
        reset.push(await this.resetOne(by, account, loan));
      }
      return reset;
    });
  }

  private async resetOne(by: Actor, account: { id: string; leadId: string | null; programId: string | null }, loan: Loan): Promise<Loan> {
    const repo = this.repo(by.companyId);
    const { terms, params } = await this.termsFor(by.companyId, account);
    const merged = loan.loanDataId
      ? normalizeParams({ ...terms, ...termsFromJson((await this.db.client.loanData.findFirst({ where: { companyId: by.companyId, id: loan.loanDataId } }))!.terms) })
      : terms;
    const demands = (await repo.demandsOf(loan.id)).filter((d) => d.status !== 'cancelled');
    let plan;
    try {
      plan = planReset(merged, columnToDate(loan.disbursementDate!), demands.map((d) => ({
        id: d.id, kind: d.kind as 'emi' | 'fee', installmentNumber: d.installmentNumber, dueDate: columnToDate(d.dueDate), pDue: d.pDuePaise,
        touched: isTouched(d),
      })));
    } catch (error) {
      if (error instanceof TermsError) throw new DomainError('STATE_CONFLICT', `${error.field}: ${error.message}`, { [error.field]: [error.message] });
      throw error;
    }
    const version = loan.scheduleVersion + 1;
    await this.db.client.demand.updateMany({ where: { companyId: by.companyId, id: { in: plan.cancel } }, data: { status: 'cancelled' } });
    const today = istDateOf(new Date());
    await repo.createDemands(plan.create.map((i) => ({
      id: newId(), accountId: loan.accountId, loanId: loan.id, kind: 'emi', installmentNumber: i.number, scheduleVersion: version,
      periodStart: columnDate(i.periodStart), dueDate: columnDate(i.dueDate), status: i.dueDate <= today ? 'due' : 'upcoming',
      pDuePaise: i.principal, niDuePaise: i.interest,
    })));
    const last = plan.create.at(-1);
    const updated = await repo.update(loan.id, {
      terms: paramsToJson(merged) as object, loanParamsId: params.id, paramsVersion: params.version, scheduleVersion: version,
      ...(last ? { maturityDate: columnDate(last.dueDate) } : {}),
    });
    await writeAudit(this.db, {
      companyId: by.companyId, entityType: 'loan', entityId: loan.id, action: 'rps_reset', actor: by.actor,
      data: { schedule_version: version, cancelled: plan.cancel.length, created: plan.create.length, rescheduled_principal_paise: plan.reschedulePrincipal },
    });
    return updated;
  }

  async get(companyId: string, id: string): Promise<Loan> {
    const loan = await this.repo(companyId).findById(id);
    if (!loan) throw notFound('Loan');
    return loan;
  }

  list(companyId: string, page: PageRequest, filter: LoanFilter) {
    return this.repo(companyId).list(page, filter);
  }

  listDemands(companyId: string, page: PageRequest, filter: DemandFilter) {
    return this.repo(companyId).listDemands(page, filter);
  }

  async demandsOf(companyId: string, loanId: string) {
    await this.get(companyId, loanId);
    return this.repo(companyId).demandsOf(loanId);
  }

  /**
   * Loan summary as of a date: the loan, its live demands and what closing it that day takes. The
   * interest accrued in the running period is the same figure a prepayment that day would settle
   * (src/domain/replay.ts accruedInterest: tranche by tranche, net of principal prepaid and of
   * interest already paid or waived), so paying the quote closes the loan.
   */
  async summary(companyId: string, loanId: string, asOf: BusinessDate): Promise<{ loan: Loan; demands: Demand[]; foreclosure: Foreclosure | null }> {
    const loan = await this.get(companyId, loanId);
    const demands = (await this.repo(companyId).demandsOf(loanId)).filter((d) => d.status !== 'cancelled');
    if (!loan.disbursementDate) return { loan, demands, foreclosure: null };
    const states = demands.map(demandStateOf);
    const snapshots: DemandSnapshot[] = states.map((d) => ({
      kind: d.kind, periodStart: d.periodStart, dueDate: d.dueDate,
      p: d.due.P - d.paid.P - d.waived.P, ni: d.due.NI - d.paid.NI - d.waived.NI, oi: d.due.OI - d.paid.OI - d.waived.OI,
      pi: d.due.PI - d.paid.PI - d.waived.PI, fee: d.due.FEE - d.paid.FEE - d.waived.FEE,
      pDue: d.due.P, niDue: d.due.NI, niPaid: d.paid.NI, niWaived: d.waived.NI,
    }));
    const quote = foreclosureAmount(paramsFromJson(loan.terms), columnToDate(loan.disbursementDate), snapshots, asOf);
    const tranches = (await disbursedTranchesOf(this.db, companyId, [loanId])).get(loanId);
    const accrued = accruedInterest(loanStateOf(loan, tranches), states, await prepaidPrincipalOf(this.db, companyId, loanId), asOf)?.amount ?? 0n;
    return { loan, demands, foreclosure: { ...quote, accruedInterest: accrued, total: quote.total - quote.accruedInterest + accrued } };
  }

  async outstanding(companyId: string, page: PageRequest, filter: { account?: string; loan?: string; due_to?: Date }) {
    const { page: result, totals } = await this.repo(companyId).outstanding(page, filter);
    const parts = { P: totals.p ?? 0n, NI: totals.ni ?? 0n, OI: totals.oi ?? 0n, PI: totals.pi ?? 0n, FEE: totals.fee ?? 0n };
    return { page: result, totals: { ...parts, total: parts.P + parts.NI + parts.OI + parts.PI + parts.FEE } };
  }

  payoutsOf(companyId: string, loanId: string) {
    return this.repo(companyId).payoutsOf(loanId);
  }
}
