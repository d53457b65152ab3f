import { TenantRepository } from '../../db/tenant-repository.js';
import { Prisma as P } from '../../generated/prisma/client.js';
import { outstandingSums, totalOutstanding } from '../../db/demand-sql.js';
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

  /**
   * Demands with anything outstanding (set-based: the filter and the totals run in SQL), oldest
   * due first, with totals per component over all matching demands, not just the page.
   */
  async outstanding(page: PageRequest, filter: { account?: string; loan?: string; due_to?: Date }) {
    const where = P.sql`company_id = ${this.companyId}::uuid AND status <> 'cancelled' AND ${totalOutstanding} > 0
      AND loan_id IN (SELECT id FROM loans WHERE company_id = ${this.companyId}::uuid AND status <> 'pending_disbursement')
      ${filter.account ? P.sql`AND account_id = ${filter.account}::uuid` : P.empty}
      ${filter.loan ? P.sql`AND loan_id = ${filter.loan}::uuid` : P.empty}
      ${filter.due_to ? P.sql`AND due_date <= ${filter.due_to}::date` : P.empty}`;
    const [totals] = await this.client.$queryRaw<Record<string, bigint>[]>`
      SELECT count(*)::bigint AS count, ${outstandingSums()}
      FROM demands WHERE ${where}`;
    const ids = await this.client.$queryRaw<{ id: string }[]>`
      SELECT id FROM demands WHERE ${where} ORDER BY due_date, loan_id, installment_number NULLS LAST, id
      LIMIT ${page.page_size} OFFSET ${(page.page - 1) * page.page_size}`;
    const rows = await this.client.demand.findMany({ where: this.scoped({ id: { in: ids.map((r) => r.id) } }) });
    const order = new Map(ids.map((r, i) => [r.id, i]));
    rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return { page: { count: Number(totals!.count), current_page: page.page, page_size: page.page_size, results: rows }, totals: totals! };
  }

  payoutsOf(loanId: string): Promise<Payout[]> {
    return this.client.payout.findMany({ where: this.scoped({ loanId }), orderBy: { createdAt: 'asc' } });
  }
}
