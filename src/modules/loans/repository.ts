import { TenantRepository } from '../../db/tenant-repository.js';
import type { Demand, Loan, Payout, Prisma } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';

export interface LoanFilter {
  account?: string;
  status?: string;
}

export interface DemandFilter {
  kind?: string;
  account?: string;
  loan?: string;
  status?: string;
  due_from?: Date;
  due_to?: Date;
}

export class LoansRepository extends TenantRepository {
  findById(id: string) {
    return this.client.loan.findFirst({ where: this.scoped({ id }) });
  }

  list(page: PageRequest, filter: LoanFilter): Promise<Page<Loan>> {
    const where = this.scoped<Prisma.LoanWhereInput>({ accountId: filter.account, status: filter.status });
    return this.paginate(page, () => this.client.loan.count({ where }), (args) => this.client.loan.findMany({ where, ...args }));
  }

  create(data: Omit<Prisma.LoanUncheckedCreateInput, 'companyId'>) {
    return this.client.loan.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.LoanUncheckedUpdateManyInput): Promise<Loan> {
    await this.client.loan.updateMany({ where: this.scoped({ id }), data });
    return (await this.findById(id))!;
  }

  createDemands(rows: Omit<Prisma.DemandCreateManyInput, 'companyId'>[]) {
    return this.client.demand.createMany({ data: rows.map((r) => ({ ...r, companyId: this.companyId })) });
  }

  demandsOf(loanId: string): Promise<Demand[]> {
    return this.client.demand.findMany({ where: this.scoped({ loanId }), orderBy: [{ dueDate: 'asc' }, { installmentNumber: 'asc' }] });
  }

  listDemands(page: PageRequest, filter: DemandFilter): Promise<Page<Demand>> {
    const where = this.scoped<Prisma.DemandWhereInput>({
      kind: filter.kind, accountId: filter.account, loanId: filter.loan, status: filter.status,
      dueDate: filter.due_from || filter.due_to ? { gte: filter.due_from, lte: filter.due_to } : undefined,
    });
    return this.paginate(page, () => this.client.demand.count({ where }),
      (args) => this.client.demand.findMany({ where, skip: args.skip, take: args.take, orderBy: [{ dueDate: 'asc' }, { loanId: 'asc' }, { installmentNumber: 'asc' }] }));
  }

  createPayout(data: Omit<Prisma.PayoutUncheckedCreateInput, 'companyId'>): Promise<Payout> {
    return this.client.payout.create({ data: { ...data, companyId: this.companyId } });
  }

  payoutsOf(loanId: string): Promise<Payout[]> {
    return this.client.payout.findMany({ where: this.scoped({ loanId }), orderBy: { createdAt: 'asc' } });
  }
}
