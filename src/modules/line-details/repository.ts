// Line details are read and written only here. Callers hold the account's lock (see
// AccountsRepository.lockForUpdate) around any change, so the account totals stay exact.
import { TenantRepository } from '../../db/tenant-repository.js';
import type { LineLimit } from '../../domain/limits.js';
import type { LineDetail, Prisma } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';

export interface LineDetailFilter {
  account?: string;
  type?: string;
  status?: string;
}

export const limitOf = (l: LineDetail): LineLimit => ({
  approved: l.approvedPaise, available: l.availablePaise, used: l.usedPaise, blocked: l.blockedPaise,
});

export const limitColumns = (l: LineLimit) => ({
  approvedPaise: l.approved, availablePaise: l.available, usedPaise: l.used, blockedPaise: l.blocked,
});

export class LineDetailsRepository extends TenantRepository {
  findById(id: string) {
    return this.client.lineDetail.findFirst({ where: this.scoped({ id }) });
  }

  findByType(accountId: string, type: string) {
    return this.client.lineDetail.findFirst({ where: this.scoped({ accountId, type }) });
  }

  activeForAccount(accountId: string) {
    return this.client.lineDetail.findMany({ where: this.scoped({ accountId, status: 'active' }) });
  }

  list(page: PageRequest, filter: LineDetailFilter): Promise<Page<LineDetail>> {
    const where = this.scoped<Prisma.LineDetailWhereInput>({ accountId: filter.account, type: filter.type, status: filter.status });
    return this.paginate(page, () => this.client.lineDetail.count({ where }), (args) => this.client.lineDetail.findMany({ where, ...args }));
  }

  create(data: Omit<Prisma.LineDetailUncheckedCreateInput, 'companyId'>) {
    return this.client.lineDetail.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.LineDetailUncheckedUpdateManyInput): Promise<LineDetail> {
    await this.client.lineDetail.updateMany({ where: this.scoped({ id }), data });
    return (await this.findById(id))!;
  }
}
