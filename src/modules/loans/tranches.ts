// Request Tranche: a further disbursement of a multi-tranche loan within its sanctioned amount.
// The tranche blocks the line at once and pays out through a `tranche` payout; when that payout
// succeeds the loan's schedule is re-derived with interest on the tranche from its own date
// (src/domain/tranche.ts), the blocked limit becomes used, and the loan's principal grows.
import type { Database } from '../../db/database.js';
import { newId } from '../../domain/ids.js';
import { consumeBlocked } from '../../domain/limits.js';
import { loanKindOf, TermsError } from '../../domain/loan-terms.js';
import { planTranche } from '../../domain/tranche.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError, notFound } from '../../errors.js';
import type { Loan, Payout, Tranche } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository, limitColumns, limitOf } from '../line-details/repository.js';
import type { LineDetailsService } from '../line-details/service.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import type { CreditBank, PayoutsService } from '../payouts/service.js';
import type { Actor } from '../users/service.js';
import { isTouched } from './loan-state.js';
import { LoansRepository } from './repository.js';
import type { LoansService } from './service.js';

export class TranchesService {
  constructor(
    private readonly db: Database,
    private readonly lineDetails: LineDetailsService,
    private readonly loans: LoansService,
    private readonly payouts: PayoutsService,
  ) {
    payouts.onOutcome('tranche', {
      processed: (payout, by, bankDate) => this.disbursed(by, payout, bankDate),
      failed: (payout, by) => this.released(by, payout, 'failed'),
      retrying: async (payout, by) => {
        const tranche = await this.trancheOf(by, payout);
        // A retry is a new request to move money: the loan must still be able to take it.
        const loan = await this.assertCanTake(by, tranche.loanId, tranche.amountPaise, tranche.id);
        await this.loans.blockLine(by, payout.accountId, loan.lineType, tranche.amountPaise);
        await this.db.client.tranche.updateMany({ where: { companyId: by.companyId, id: tranche.id }, data: { status: 'requested' } });
      },
      cancelled: (payout, by, from) => (from === 'requested' ? this.released(by, payout, 'cancelled') : this.setStatus(by, payout, 'cancelled')),
    });
  }

  private async loanOf(by: Actor, loanId: string) {
    return (await new LoansRepository(this.db, by.companyId).findById(loanId))!;
  }

  private async trancheOf(by: Actor, payout: Payout): Promise<Tranche> {
    return (await this.db.client.tranche.findFirst({ where: { companyId: by.companyId, id: payout.trancheId! } }))!;
  }

  /** Request Tranche: checks the loan can take it, blocks the line and creates the payout. */
  request(by: Actor, loanId: string, amount: bigint, creditBank?: CreditBank): Promise<Payout> {
    return this.db.transaction(async () => {
      const repo = new LoansRepository(this.db, by.companyId);
      const found = await repo.findById(loanId);
      if (!found) throw notFound('Loan');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      const loan = await this.assertCanTake(by, loanId, amount, null);
      await this.loans.blockLine(by, loan.accountId, loan.lineType, amount);
      const number = (await this.db.client.tranche.count({ where: { companyId: by.companyId, loanId } })) + 2; // the first disbursement is tranche 1
      const tranche = await this.db.client.tranche.create({ data: { id: newId(), companyId: by.companyId, loanId, number, amountPaise: amount, status: 'requested', createdBy: by.actor } });
      const payout = await this.payouts.create(by, { type: 'tranche', accountId: loan.accountId, loanId, trancheId: tranche.id, amountPaise: amount, creditBank: creditBank ?? null });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loanId, action: 'tranche_requested', actor: by.actor, data: { tranche: tranche.id, number, amount_paise: amount, payout: payout.id } });
      return payout;
    });
  }

  /**
   * What a tranche of `amount` needs, checked under the account lock at request and at retry: an
   * active account and loan, a kind that takes tranches, room within the sanctioned amount (other
   * tranches in flight counted, `excluding` this one), and a schedule that can still absorb it
   * today (a bullet loan not yet matured or paid into; an EMI loan with installments left).
   */
  private async assertCanTake(by: Actor, loanId: string, amount: bigint, excluding: string | null): Promise<Loan> {
    const loan = await this.loanOf(by, loanId);
    const account = (await new AccountsRepository(this.db, by.companyId).findById(loan.accountId))!;
    if (account.status !== 'active') throw new DomainError('STATE_CONFLICT', `The account is ${account.status}; only an active account can draw.`, { loan_id: [`account is ${account.status}`] });
    if (loan.status !== 'active') throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} is ${loan.status}; only an active loan takes a tranche.`, { loan_id: [`loan is ${loan.status}`] });
    const terms = paramsFromJson(loan.terms);
    if (loanKindOf(terms) === 'flat') throw new DomainError('STATE_CONFLICT', 'A flat-rate loan takes no further tranches.', { loan_id: ['flat-rate loans are single-tranche'] });
    const inFlight = await this.db.client.tranche.aggregate({
      where: { companyId: by.companyId, loanId, status: 'requested', ...(excluding ? { id: { not: excluding } } : {}) }, _sum: { amountPaise: true },
    });
    const room = loan.sanctionedPaise - loan.principalPaise - (inFlight._sum.amountPaise ?? 0n);
    if (amount > room) {
      throw new DomainError('STATE_CONFLICT', `amount: the loan can disburse at most ${room} paise more within its sanctioned amount`, { amount: [`exceeds the undisbursed sanctioned amount (${room} paise)`] });
    }
    try {
      planTranche(terms, columnToDate(loan.disbursementDate!), await this.trancheDemands(by, loan.id), amount, istDateOf(new Date()));
    } catch (error) {
      if (error instanceof TermsError) throw new DomainError('STATE_CONFLICT', `The loan cannot take a tranche: ${error.message}`, { loan_id: [error.message] });
      throw error;
    }
    return loan;
  }

  private async trancheDemands(by: Actor, loanId: string) {
    const demands = (await new LoansRepository(this.db, by.companyId).demandsOf(loanId)).filter((d) => d.status !== 'cancelled');
    return demands.map((d) => ({
      id: d.id, kind: d.kind as 'emi' | 'fee', installmentNumber: d.installmentNumber, dueDate: columnToDate(d.dueDate), pDue: d.pDuePaise,
      touched: isTouched(d),
    }));
  }

  private async setStatus(by: Actor, payout: Payout, status: string): Promise<void> {
    await this.db.client.tranche.updateMany({ where: { companyId: by.companyId, id: payout.trancheId! }, data: { status } });
  }

  private async released(by: Actor, payout: Payout, status: 'failed' | 'cancelled'): Promise<void> {
    const tranche = await this.trancheOf(by, payout);
    await this.loans.unblockLine(by, payout.accountId, (await this.loanOf(by, tranche.loanId)).lineType, tranche.amountPaise);
    await this.setStatus(by, payout, status);
  }

  /** The tranche's payout succeeded on bankDate: re-derive the schedule and turn blocked into used. */
  private async disbursed(by: Actor, payout: Payout, bankDate: BusinessDate): Promise<void> {
    const tranche = await this.trancheOf(by, payout);
    const repo = new LoansRepository(this.db, by.companyId);
    const loan = await this.loanOf(by, tranche.loanId);
    let plan;
    try {
      plan = planTranche(paramsFromJson(loan.terms), columnToDate(loan.disbursementDate!), await this.trancheDemands(by, loan.id), tranche.amountPaise, bankDate);
    } catch (error) {
      // The bank has paid: the money is out whatever the schedule says, so this cannot be refused
      // here. A loan that cannot take it (matured meanwhile) is a state the operator must see.
      if (error instanceof TermsError) throw new DomainError('STATE_CONFLICT', `The tranche was paid but the loan cannot take it: ${error.message}`, { loan_id: [error.message] });
      throw error;
    }
    const version = loan.scheduleVersion + 1;
    if (plan.kind === 'emi') {
      await this.db.client.demand.updateMany({ where: { companyId: by.companyId, id: { in: plan.cancel } }, data: { status: 'cancelled' } });
      await repo.createDemands(plan.create.map((i) => ({
        id: newId(), accountId: loan.accountId, loanId: loan.id, kind: 'emi', installmentNumber: i.number, scheduleVersion: version,
        periodStart: dateToColumn(i.periodStart), dueDate: dateToColumn(i.dueDate), status: i.dueDate <= bankDate ? 'due' : 'upcoming',
        pDuePaise: i.principal, niDuePaise: i.interest,
      })));
    } else {
      await this.db.client.demand.updateMany({
        where: { companyId: by.companyId, id: plan.demandId },
        data: { pDuePaise: { increment: plan.addPrincipal }, niDuePaise: { increment: plan.addInterest } },
      });
    }
    const lines = new LineDetailsRepository(this.db, by.companyId);
    const line = (await lines.findByType(loan.accountId, loan.lineType))!;
    await lines.update(line.id, limitColumns(consumeBlocked(limitOf(line), tranche.amountPaise)));
    await this.lineDetails.recomputeAccount(by.companyId, loan.accountId);
    await repo.update(loan.id, {
      principalPaise: loan.principalPaise + tranche.amountPaise, disbursedPaise: loan.disbursedPaise + tranche.amountPaise,
      ...(plan.kind === 'emi' ? { scheduleVersion: version } : {}),
    });
    await this.db.client.tranche.updateMany({ where: { companyId: by.companyId, id: tranche.id }, data: { status: 'disbursed', disbursementDate: dateToColumn(bankDate) } });
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan', entityId: loan.id, action: 'tranche_disbursed', actor: by.actor, data: { tranche: tranche.id, bank_date: bankDate, amount_paise: tranche.amountPaise } });
  }

  list(companyId: string, loanId: string): Promise<Tranche[]> {
    return this.db.client.tranche.findMany({ where: { companyId, loanId }, orderBy: { number: 'asc' } });
  }
}
