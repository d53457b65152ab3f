// Fees: charges on a loan, each a demand with a FEE component (amount plus GST, rounded once
// each). A fee with nothing paid or waived can be deleted: its demand is cancelled, rows kept.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { newId } from '../../domain/ids.js';
import { rateToScaled, RATE_SCALE } from '../../domain/interest.js';
import { MAX_RUPEES, roundDiv } from '../../domain/money.js';
import { istDateOf } from '../../domain/time.js';
import { DomainError, notFound } from '../../errors.js';
import type { Fee, Prisma } from '../../generated/prisma/client.js';
import { dateToColumn, type Page, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { LoansRepository } from '../loans/repository.js';
import type { Actor } from '../users/service.js';

export const FEE_TYPES = ['processing_fee', 'bounce_charge', 'late_fee', 'documentation', 'stamp_duty', 'foreclosure_charge', 'other'] as const;

export interface NewFee {
  loan: string;
  fee_type: (typeof FEE_TYPES)[number];
  amount: bigint;
  gst_rate: string;
  due_date: string;
  remarks?: string;
}

export interface FeeFilter {
  account?: string;
  loan?: string;
  fee_type?: string;
  status?: string;
}

class FeesRepository extends TenantRepository {
  findById(id: string) {
    return this.client.fee.findFirst({ where: this.scoped({ id }) });
  }

  list(page: PageRequest, filter: FeeFilter): Promise<Page<Fee>> {
    const where = this.scoped<Prisma.FeeWhereInput>({ accountId: filter.account, loanId: filter.loan, feeType: filter.fee_type, status: filter.status });
    return this.paginate(page, () => this.client.fee.count({ where }), (args) => this.client.fee.findMany({ where, ...args }));
  }

  create(data: Omit<Prisma.FeeUncheckedCreateInput, 'companyId'>) {
    return this.client.fee.create({ data: { ...data, companyId: this.companyId } });
  }
}

export const gstOn = (amount: bigint, gstRate: string) => roundDiv(amount * rateToScaled(gstRate), 100n * RATE_SCALE);

export class FeesService {
  constructor(private readonly db: Database) {}

  private repo(companyId: string) {
    return new FeesRepository(this.db, companyId);
  }

  /**
   * Creates fees in one transaction. The loans' accounts are locked first, in a fixed order, so
   * two bulk calls over the same accounts cannot deadlock; every check runs under the locks.
   */
  createMany(by: Actor, inputs: NewFee[]): Promise<Fee[]> {
    return this.db.transaction(async () => {
      const loans = new LoansRepository(this.db, by.companyId);
      const field = (index: number) => (inputs.length > 1 ? `fees.${index}.loan` : 'loan');
      const found = await Promise.all(inputs.map((input) => loans.findById(input.loan)));
      found.forEach((loan, index) => {
        if (!loan) throw new DomainError('NOT_FOUND', 'Loan not found.', { [field(index)]: ['not found'] });
      });
      const accountIds = [...new Set(found.map((loan) => loan!.accountId))].sort();
      const accounts = new AccountsRepository(this.db, by.companyId);
      for (const accountId of accountIds) await accounts.lockForUpdate(accountId);
      const today = istDateOf(new Date());
      const fees: Fee[] = [];
      for (const [index, input] of inputs.entries()) {
        const loan = (await loans.findById(input.loan))!;
        if (loan.status === 'closed' || loan.status === 'written_off' || loan.status === 'pending_disbursement') {
          throw new DomainError('STATE_CONFLICT', `A fee cannot be charged on a ${loan.status} loan.`, { [field(index)]: [`loan is ${loan.status}`] });
        }
        const gst = gstOn(input.amount, input.gst_rate);
        await this.checkRoom(by.companyId, loan.accountId, input.amount + gst, index, inputs.length);
        const demandId = newId();
        await loans.createDemands([{
          id: demandId, accountId: loan.accountId, loanId: loan.id, kind: 'fee', scheduleVersion: loan.scheduleVersion,
          dueDate: dateToColumn(input.due_date), status: input.due_date <= today ? 'due' : 'upcoming', feeDuePaise: input.amount + gst,
        }]);
        const fee = await this.repo(by.companyId).create({
          id: newId(), accountId: loan.accountId, loanId: loan.id, demandId, feeType: input.fee_type, amountPaise: input.amount,
          gstRate: input.gst_rate, gstPaise: gst, dueDate: dateToColumn(input.due_date), status: 'active', remarks: input.remarks ?? null, createdBy: by.actor,
        });
        await writeAudit(this.db, { companyId: by.companyId, entityType: 'fee', entityId: fee.id, action: 'created', actor: by.actor, data: { amount_paise: input.amount, gst_paise: gst, loan: loan.id } });
        fees.push(fee);
      }
      return fees;
    });
  }

  /** An account's dues may total at most MAX_RUPEES, so every figure stays exact on the wire. */
  private async checkRoom(companyId: string, accountId: string, adding: bigint, index: number, count: number): Promise<void> {
    const [row] = await this.db.client.$queryRaw<{ total: bigint }[]>`
      SELECT COALESCE(SUM(p_due_paise + ni_due_paise + oi_due_paise + pi_due_paise + fee_due_paise), 0)::bigint AS total
      FROM demands WHERE company_id = ${companyId}::uuid AND account_id = ${accountId}::uuid AND status <> 'cancelled'`;
    if (row!.total + adding > BigInt(MAX_RUPEES) * 100n) {
      const key = count > 1 ? `fees.${index}.amount` : 'amount';
      throw new DomainError('STATE_CONFLICT', `amount: the account's dues would exceed ${MAX_RUPEES} rupees`, { [key]: ['too large for this account'] });
    }
  }

  async get(companyId: string, id: string): Promise<Fee> {
    const fee = await this.repo(companyId).findById(id);
    if (!fee) throw notFound('Fee');
    return fee;
  }

  list(companyId: string, page: PageRequest, filter: FeeFilter) {
    return this.repo(companyId).list(page, filter);
  }

  /** Deletes an unsettled fee (its demand is cancelled); a fee with anything paid or waived is a 409. */
  delete(by: Actor, id: string): Promise<Fee> {
    return this.db.transaction(async () => {
      const found = await this.repo(by.companyId).findById(id);
      if (!found) throw notFound('Fee');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      // Read again under the lock: a concurrent delete may have finished meanwhile.
      const fee = (await this.repo(by.companyId).findById(id))!;
      if (fee.status === 'deleted') return fee;
      const demand = await this.db.client.demand.findFirst({ where: { companyId: by.companyId, id: fee.demandId } });
      if (demand && demand.feePaidPaise + demand.feeWaivedPaise > 0n) {
        throw new DomainError('STATE_CONFLICT', 'This fee has payments or waivers against it and cannot be deleted.');
      }
      // A restructure may have moved the fee's amount into principal or an arrears demand.
      if (!demand || demand.status === 'cancelled') {
        throw new DomainError('STATE_CONFLICT', 'This fee\'s demand is no longer live (a restructure moved it); it cannot be deleted.');
      }
      await this.db.client.demand.updateMany({ where: { companyId: by.companyId, id: fee.demandId }, data: { status: 'cancelled' } });
      await this.db.client.fee.updateMany({ where: { companyId: by.companyId, id }, data: { status: 'deleted', deletedAt: new Date() } });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'fee', entityId: id, action: 'deleted', actor: by.actor });
      return (await this.repo(by.companyId).findById(id))!;
    });
  }
}
