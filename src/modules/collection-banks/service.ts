// Collection banks: the lender's own bank accounts that receive repayments.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { newId } from '../../domain/ids.js';
import { onUniqueViolation } from '../../db/unique.js';
import { DomainError, notFound } from '../../errors.js';
import type { CollectionBank, Prisma } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import type { Actor } from '../users/service.js';

export interface CollectionBankInput {
  account_no: string;
  account_holder_name: string;
  ifsc: string;
  account_type: string;
  is_verified?: boolean;
  name_at_bank?: string | null;
  tags?: string[];
}

export interface CollectionBankFilter {
  ifsc?: string;
  account_no?: string;
  is_verified?: boolean;
}

class CollectionBanksRepository extends TenantRepository {
  findById(id: string) {
    return this.client.collectionBank.findFirst({ where: this.scoped({ id }) });
  }

  findByNumber(ifsc: string, accountNo: string) {
    return this.client.collectionBank.findFirst({ where: this.scoped({ ifsc, accountNo }) });
  }

  async list(page: PageRequest, filter: CollectionBankFilter): Promise<Page<CollectionBank>> {
    const where = this.scoped<Prisma.CollectionBankWhereInput>({ ifsc: filter.ifsc, accountNo: filter.account_no, isVerified: filter.is_verified });
    return this.paginate(page, () => this.client.collectionBank.count({ where }), (args) => this.client.collectionBank.findMany({ where, ...args }));
  }

  create(data: Omit<Prisma.CollectionBankUncheckedCreateInput, 'companyId'>) {
    return this.client.collectionBank.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.CollectionBankUncheckedUpdateManyInput) {
    const { count } = await this.client.collectionBank.updateMany({ where: this.scoped({ id }), data });
    return count === 1 ? this.findById(id) : null;
  }
}

const duplicate = () =>
  new DomainError('DUPLICATE', 'A collection bank with this IFSC and account number already exists.', { account_no: ['already exists for this IFSC'] });

export class CollectionBanksService {
  constructor(private readonly db: Database) {}

  private repo(companyId: string) {
    return new CollectionBanksRepository(this.db, companyId);
  }

  create(by: Actor, input: CollectionBankInput): Promise<CollectionBank> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      if (await repo.findByNumber(input.ifsc, input.account_no)) throw duplicate();
      const bank = await onUniqueViolation(() => repo.create({
        id: newId(), accountNo: input.account_no, accountHolderName: input.account_holder_name, ifsc: input.ifsc,
        accountType: input.account_type, isVerified: input.is_verified ?? false, nameAtBank: input.name_at_bank ?? null, tags: input.tags ?? [],
      }), duplicate);
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'collection_bank', entityId: bank.id, action: 'created', actor: by.actor, data: { ifsc: bank.ifsc } });
      return bank;
    });
  }

  async get(companyId: string, id: string): Promise<CollectionBank> {
    const bank = await this.repo(companyId).findById(id);
    if (!bank) throw notFound('Collection bank');
    return bank;
  }

  list(companyId: string, page: PageRequest, filter: CollectionBankFilter) {
    return this.repo(companyId).list(page, filter);
  }

  update(by: Actor, id: string, input: Partial<CollectionBankInput>): Promise<CollectionBank> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const current = await repo.findById(id);
      if (!current) throw notFound('Collection bank');
      const ifsc = input.ifsc ?? current.ifsc;
      const accountNo = input.account_no ?? current.accountNo;
      const clash = await repo.findByNumber(ifsc, accountNo);
      if (clash && clash.id !== id) throw duplicate();
      const bank = await onUniqueViolation(() => repo.update(id, {
        accountNo: input.account_no, accountHolderName: input.account_holder_name, ifsc: input.ifsc, accountType: input.account_type,
        isVerified: input.is_verified, nameAtBank: input.name_at_bank, tags: input.tags,
      }), duplicate);
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'collection_bank', entityId: id, action: 'updated', actor: by.actor, data: { fields: Object.keys(input) } });
      return bank!;
    });
  }
}
