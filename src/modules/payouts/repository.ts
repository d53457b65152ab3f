import { TenantRepository } from '../../db/tenant-repository.js';
import type { Payout, PayoutAttempt, PayoutCallback, Prisma } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';

export interface PayoutFilter {
  account?: string;
  loan?: string;
  topup?: string;
  status?: string;
  type?: string;
  is_downloaded?: boolean;
  created_from?: Date;
  created_to?: Date;
}

export class PayoutsRepository extends TenantRepository {
  findById(id: string) {
    return this.client.payout.findFirst({ where: this.scoped({ id }) });
  }

  /** Locks the payout row for the rest of the transaction (after the account's lock). */
  async lockForUpdate(id: string): Promise<Payout | null> {
    const rows = await this.client.$queryRaw<{ id: string }[]>`
      SELECT id FROM payouts WHERE company_id = ${this.companyId}::uuid AND id = ${id}::uuid FOR UPDATE`;
    return rows.length === 1 ? this.findById(id) : null;
  }

  list(page: PageRequest, filter: PayoutFilter): Promise<Page<Payout>> {
    const where = this.scoped<Prisma.PayoutWhereInput>({
      accountId: filter.account, loanId: filter.loan, topupId: filter.topup, status: filter.status, type: filter.type,
      isDownloaded: filter.is_downloaded,
      createdAt: filter.created_from || filter.created_to ? { gte: filter.created_from, lt: filter.created_to } : undefined,
    });
    return this.paginate(page, () => this.client.payout.count({ where }), (args) => this.client.payout.findMany({ where, ...args }));
  }

  create(data: Omit<Prisma.PayoutUncheckedCreateInput, 'companyId'>): Promise<Payout> {
    return this.client.payout.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.PayoutUncheckedUpdateManyInput): Promise<Payout> {
    await this.client.payout.updateMany({ where: this.scoped({ id }), data });
    return (await this.findById(id))!;
  }

  createAttempt(data: Omit<Prisma.PayoutAttemptUncheckedCreateInput, 'companyId'>): Promise<PayoutAttempt> {
    return this.client.payoutAttempt.create({ data: { ...data, companyId: this.companyId } });
  }

  currentAttempt(payout: Payout): Promise<PayoutAttempt | null> {
    return this.client.payoutAttempt.findFirst({ where: this.scoped({ payoutId: payout.id, attempt: payout.attempt }) });
  }

  attemptByReference(bankReference: string): Promise<PayoutAttempt | null> {
    return this.client.payoutAttempt.findFirst({ where: this.scoped({ bankReference }) });
  }

  attemptsOf(payoutId: string): Promise<PayoutAttempt[]> {
    return this.client.payoutAttempt.findMany({ where: this.scoped({ payoutId }), orderBy: { attempt: 'asc' } });
  }

  async updateAttempt(id: string, data: Prisma.PayoutAttemptUncheckedUpdateManyInput): Promise<void> {
    await this.client.payoutAttempt.updateMany({ where: this.scoped({ id }), data });
  }

  /** Payouts to export, oldest first, locked so two exports never take the same payout. */
  async lockExportable(ids: string[] | undefined, includeDownloaded: boolean, limit: number): Promise<Payout[]> {
    const statuses = includeDownloaded ? ['requested', 'processing'] : ['requested'];
    // Only payouts with a beneficiary can go to the bank: the rest never block the queue.
    const where = this.scoped<Prisma.PayoutWhereInput>({
      status: { in: statuses }, ...(ids ? { id: { in: ids } } : {}), ...(includeDownloaded ? {} : { isDownloaded: false }),
      creditAccountNo: { not: null }, creditIfsc: { not: null },
    });
    const candidates = await this.client.payout.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: limit, select: { id: true } });
    if (candidates.length === 0) return [];
    const list = candidates.map((c) => c.id);
    await this.client.$queryRaw`SELECT id FROM payouts WHERE company_id = ${this.companyId}::uuid AND id = ANY(${list}::uuid[]) ORDER BY id FOR UPDATE`;
    // Re-read under the lock: a concurrent export may have taken some of them meanwhile.
    return this.client.payout.findMany({ where: { ...where, id: { in: list } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** Exportable but for a missing beneficiary bank account (reported, not exported), oldest first. */
  withoutBeneficiary(ids: string[] | undefined, includeDownloaded: boolean, limit: number) {
    return this.client.payout.findMany({
      where: this.scoped<Prisma.PayoutWhereInput>({
        status: { in: includeDownloaded ? ['requested', 'processing'] : ['requested'] }, ...(ids ? { id: { in: ids } } : {}),
        ...(includeDownloaded ? {} : { isDownloaded: false }), OR: [{ creditAccountNo: null }, { creditIfsc: null }],
      }),
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: limit, select: { id: true, refId: true },
    });
  }

  createCallback(data: Omit<Prisma.PayoutCallbackUncheckedCreateInput, 'companyId'>): Promise<PayoutCallback> {
    return this.client.payoutCallback.create({ data: { ...data, companyId: this.companyId } });
  }

  findCallback(id: string) {
    return this.client.payoutCallback.findFirst({ where: this.scoped({ id }) });
  }

  async updateCallback(id: string, data: Prisma.PayoutCallbackUncheckedUpdateManyInput): Promise<PayoutCallback> {
    await this.client.payoutCallback.updateMany({ where: this.scoped({ id }), data });
    return (await this.findCallback(id))!;
  }

  unmatched(page: PageRequest, resolved: boolean | undefined): Promise<Page<PayoutCallback>> {
    const where = this.scoped<Prisma.PayoutCallbackWhereInput>({
      outcome: 'unmatched', ...(resolved === undefined ? {} : { resolvedAt: resolved ? { not: null } : null }),
    });
    return this.paginate(page, () => this.client.payoutCallback.count({ where }), (args) => this.client.payoutCallback.findMany({ where, ...args }));
  }
}
