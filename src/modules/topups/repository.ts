// Topups and topup groups are read and written only here. Callers hold the topup's account lock
// around any change (see AccountsRepository.lockForUpdate), so checks see settled figures.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import type { Prisma, Topup, TopupGroup } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';

export interface TopupFilter {
  account?: string;
  status?: string;
  topup_group?: string;
  invoice_number?: string;
  created_from?: Date;
  created_before?: Date;
  disbursement_from?: Date;
  disbursement_to?: Date;
}

/** Statuses of a topup whose invoice is no longer financed by it (they never count as duplicates). */
export const DEAD_STATUSES = ['failed', 'unscheduled', 'checks_failed'];

export class TopupsRepository extends TenantRepository {
  findById(id: string) {
    return this.client.topup.findFirst({ where: this.scoped({ id }) });
  }

  create(data: Omit<Prisma.TopupUncheckedCreateInput, 'companyId'>): Promise<Topup> {
    return this.client.topup.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.TopupUncheckedUpdateManyInput): Promise<Topup> {
    await this.client.topup.updateMany({ where: this.scoped({ id }), data });
    return (await this.findById(id))!;
  }

  list(page: PageRequest, filter: TopupFilter): Promise<Page<Topup>> {
    const where = this.scoped<Prisma.TopupWhereInput>({
      accountId: filter.account, status: filter.status, topupGroupId: filter.topup_group,
      invoiceNumber: filter.invoice_number,
      createdAt: filter.created_from || filter.created_before ? { gte: filter.created_from, lt: filter.created_before } : undefined,
      disbursementDate: filter.disbursement_from || filter.disbursement_to ? { gte: filter.disbursement_from, lte: filter.disbursement_to } : undefined,
    });
    return this.paginate(page, () => this.client.topup.count({ where }), (args) => this.client.topup.findMany({ where, ...args }));
  }

  /**
   * Refs of live topups (other than `excludeId`) financing the same invoice: the same number for
   * the same account and anchor (numbers are stored upper-cased), or the same IRN anywhere in the
   * company.
   */
  async duplicatesOf(t: { id: string; accountId: string; anchorId: string | null; invoiceNumber: string | null; irn: string | null }): Promise<string[]> {
    const same: Prisma.TopupWhereInput[] = [];
    if (t.invoiceNumber) same.push({ accountId: t.accountId, anchorId: t.anchorId, invoiceNumber: t.invoiceNumber });
    if (t.irn) same.push({ irn: t.irn });
    if (same.length === 0) return [];
    // The IRN is unique across the company's accounts, but only this topup's account is locked:
    // a transaction-scoped advisory lock on the IRN makes two accounts' checks take turns.
    if (t.irn) await this.client.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`${this.companyId}:irn:${t.irn}`}))::text`;
    const rows = await this.client.topup.findMany({
      where: this.scoped({ id: { not: t.id }, status: { notIn: DEAD_STATUSES }, OR: same }), select: { refId: true }, orderBy: { refId: 'asc' }, take: 10,
    });
    return rows.map((r) => r.refId);
  }

  /** Loan data (per-loan terms) the topup draws under. */
  findLoanData(id: string) {
    return this.client.loanData.findFirst({ where: this.scoped({ id }) });
  }

  /** The ref of another live topup that draws under this loan data, if any. */
  async loanDataTakenBy(loanDataId: string, excludeId: string): Promise<string | null> {
    const rival = await this.client.topup.findFirst({
      where: this.scoped({ loanDataId, id: { not: excludeId }, status: { notIn: [...DEAD_STATUSES, 'disbursed'] } }), select: { refId: true },
    });
    return rival?.refId ?? null;
  }

  membersOf(groupId: string): Promise<Topup[]> {
    return this.client.topup.findMany({ where: this.scoped({ topupGroupId: groupId }), orderBy: { refId: 'asc' } });
  }

  countLiveMembers(groupId: string): Promise<number> {
    return this.client.topup.count({ where: this.scoped({ topupGroupId: groupId, status: { in: ['draft', 'checks_failed', 'approved'] } }) });
  }
}

export interface GroupTotals {
  count: number;
  amount: bigint;
  waitingCount: number;
  waitingAmount: bigint;
  byStatus: Record<string, number>;
}

export const EMPTY_TOTALS: GroupTotals = { count: 0, amount: 0n, waitingCount: 0, waitingAmount: 0n, byStatus: {} };

export class TopupGroupsRepository extends TenantRepository {
  findById(id: string) {
    return this.client.topupGroup.findFirst({ where: this.scoped({ id }) });
  }

  /** Locks the group row (after its members' accounts): approvals and cancellations run one at a time. */
  async lockForUpdate(id: string): Promise<TopupGroup | null> {
    const rows = await this.client.$queryRaw<{ id: string }[]>`
      SELECT id FROM topup_groups WHERE company_id = ${this.companyId}::uuid AND id = ${id}::uuid FOR UPDATE`;
    return rows.length === 1 ? this.findById(id) : null;
  }

  /**
   * Share-locks the group: a topup joining it (or waiting in it) keeps it from being approved or
   * cancelled until the joining transaction commits. Lock order is always account, then group.
   */
  async lockShared(id: string): Promise<TopupGroup | null> {
    const rows = await this.client.$queryRaw<{ id: string }[]>`
      SELECT id FROM topup_groups WHERE company_id = ${this.companyId}::uuid AND id = ${id}::uuid FOR SHARE`;
    return rows.length === 1 ? this.findById(id) : null;
  }

  create(data: Omit<Prisma.TopupGroupUncheckedCreateInput, 'companyId'>): Promise<TopupGroup> {
    return this.client.topupGroup.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.TopupGroupUncheckedUpdateManyInput): Promise<TopupGroup> {
    await this.client.topupGroup.updateMany({ where: this.scoped({ id }), data });
    return (await this.findById(id))!;
  }

  list(page: PageRequest, filter: { status?: string }): Promise<Page<TopupGroup>> {
    const where = this.scoped<Prisma.TopupGroupWhereInput>({ status: filter.status });
    return this.paginate(page, () => this.client.topupGroup.count({ where }), (args) => this.client.topupGroup.findMany({ where, ...args }));
  }

  /** Member counts and amounts per group, in one grouped query over the given groups. */
  async totals(groupIds: string[]): Promise<Map<string, GroupTotals>> {
    const result = new Map<string, GroupTotals>();
    if (groupIds.length === 0) return result;
    const rows = await this.client.topup.groupBy({
      by: ['topupGroupId', 'status'], where: this.scoped({ topupGroupId: { in: groupIds } }), _count: { _all: true }, _sum: { amountPaise: true },
    });
    for (const row of rows) {
      const t = result.get(row.topupGroupId!) ?? { ...EMPTY_TOTALS, byStatus: {} };
      const amount = row._sum.amountPaise ?? 0n;
      t.count += row._count._all;
      t.amount += amount;
      t.byStatus[row.status] = row._count._all;
      if (row.status === 'approved') {
        t.waitingCount += row._count._all;
        t.waitingAmount += amount;
      }
      result.set(row.topupGroupId!, t);
    }
    return result;
  }
}

/**
 * The scheduler's scan, across companies (it runs for every tenant): scheduled topups due on or
 * before `asOf`, oldest date first, after `afterId` for paging. Rows are locked per topup later.
 */
export function dueScheduledTopups(db: Database, asOf: Date, limit: number, after?: { date: Date; id: string }) {
  return db.client.topup.findMany({
    where: {
      status: 'scheduled', disbursementDate: { lte: asOf },
      ...(after ? { OR: [{ disbursementDate: { gt: after.date } }, { disbursementDate: after.date, id: { gt: after.id } }] } : {}),
    },
    select: { id: true, companyId: true, disbursementDate: true },
    orderBy: [{ disbursementDate: 'asc' }, { id: 'asc' }],
    take: limit,
  });
}
