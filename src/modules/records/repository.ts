import { TenantRepository } from '../../db/tenant-repository.js';
import type { Prisma, Record as LmsRecord, Settlement } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';

export interface RecordFilter {
  account?: string;
  status?: string;
  type?: string;
  utr?: string;
  loan?: string;
  payment_mode?: string;
  /** Record date (created) range, as instants. */
  date_from?: Date;
  date_to?: Date;
  /** Value date range (DATE column values). */
  value_date_from?: Date;
  value_date_to?: Date;
}

export interface SettlementFilter {
  account?: string;
  loan?: string;
  demand?: string;
  record?: string;
}

export class RecordsRepository extends TenantRepository {
  findById(id: string): Promise<LmsRecord | null> {
    return this.client.record.findFirst({ where: this.scoped({ id }) });
  }

  findByUtr(utr: string): Promise<LmsRecord | null> {
    return this.client.record.findFirst({ where: this.scoped({ utr }) });
  }

  /** Locks the record row for the rest of the transaction (after the account's lock). */
  async lockForUpdate(id: string): Promise<LmsRecord | null> {
    const rows = await this.client.$queryRaw<{ id: string }[]>`
      SELECT id FROM records WHERE company_id = ${this.companyId}::uuid AND id = ${id}::uuid FOR UPDATE`;
    return rows.length === 1 ? this.findById(id) : null;
  }

  create(data: Omit<Prisma.RecordUncheckedCreateInput, 'companyId'>): Promise<LmsRecord> {
    return this.client.record.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.RecordUncheckedUpdateManyInput): Promise<LmsRecord> {
    await this.client.record.updateMany({ where: this.scoped({ id }), data });
    return (await this.findById(id))!;
  }

  where(filter: RecordFilter): Prisma.RecordWhereInput {
    return this.scoped<Prisma.RecordWhereInput>({
      accountId: filter.account, status: filter.status, type: filter.type, utr: filter.utr, paymentMode: filter.payment_mode,
      recordDate: filter.date_from || filter.date_to ? { gte: filter.date_from, lt: filter.date_to } : undefined,
      valueDate: filter.value_date_from || filter.value_date_to ? { gte: filter.value_date_from, lte: filter.value_date_to } : undefined,
    });
  }

  async list(page: PageRequest, filter: RecordFilter): Promise<Page<LmsRecord>> {
    const where = await this.withLoan(filter);
    return this.paginate(page, () => this.client.record.count({ where }), (args) => this.client.record.findMany({ where, ...args }));
  }

  /** A loan filter matches records that name the loan or settled anything on it. */
  async withLoan(filter: RecordFilter): Promise<Prisma.RecordWhereInput> {
    if (!filter.loan) return this.where(filter);
    const settled = await this.client.settlement.findMany({ where: this.scoped({ loanId: filter.loan }), distinct: ['recordId'], select: { recordId: true } });
    return { ...this.where({ ...filter, loan: undefined }), OR: [{ loanIds: { has: filter.loan } }, { id: { in: settled.map((s) => s.recordId) } }] };
  }

  settlementsOf(recordId: string): Promise<Settlement[]> {
    return this.client.settlement.findMany({ where: this.scoped({ recordId }), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** The loans each record settled money on (net of reversals), for the record's `loans`. */
  async loansOf(recordIds: string[]): Promise<Map<string, string[]>> {
    if (recordIds.length === 0) return new Map();
    const rows = await this.client.settlement.groupBy({
      by: ['recordId', 'loanId'], where: this.scoped({ recordId: { in: recordIds } }), _sum: { amountPaise: true },
    });
    const result = new Map<string, string[]>();
    for (const row of rows) {
      if ((row._sum.amountPaise ?? 0n) === 0n) continue;
      result.set(row.recordId, [...(result.get(row.recordId) ?? []), row.loanId].sort());
    }
    return result;
  }

  listSettlements(page: PageRequest, filter: SettlementFilter): Promise<Page<Settlement>> {
    const where = this.scoped<Prisma.SettlementWhereInput>({ accountId: filter.account, loanId: filter.loan, demandId: filter.demand, recordId: filter.record });
    return this.paginate(page, () => this.client.settlement.count({ where }), (args) => this.client.settlement.findMany({ where, ...args }));
  }
}
