// Accounts: a borrower's credit line. Money columns are paise.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { newId } from '../../domain/ids.js';
import { onUniqueViolation } from '../../db/unique.js';
import { DomainError, notFound } from '../../errors.js';
import type { Account, Prisma } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import { openLine } from '../../domain/limits.js';
import { LineDetailsRepository, limitColumns } from '../line-details/repository.js';
import type { Actor } from '../users/service.js';

export const ACCOUNT_STATUSES = ['active', 'frozen', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export interface NewAccount {
  name: string;
  sanctioned_limit: bigint;
  lead_id?: string;
  program_id?: string;
  pan?: string;
  gstin?: string;
  external_id?: string;
}

export interface AccountPatch {
  name?: string;
  status?: 'active' | 'frozen';
  pan?: string | null;
  gstin?: string | null;
  external_id?: string | null;
}

export interface AccountFilter {
  status?: AccountStatus;
  lead_id?: string;
  program_id?: string;
  external_id?: string;
}

export class AccountsRepository extends TenantRepository {
  findById(id: string) {
    return this.client.account.findFirst({ where: this.scoped({ id }) });
  }

  findByExternalId(externalId: string) {
    return this.client.account.findFirst({ where: this.scoped({ externalId }) });
  }

  async list(page: PageRequest, filter: AccountFilter): Promise<Page<Account>> {
    const where = this.scoped<Prisma.AccountWhereInput>({
      status: filter.status, leadId: filter.lead_id, programId: filter.program_id, externalId: filter.external_id,
    });
    return this.paginate(page, () => this.client.account.count({ where }), (args) => this.client.account.findMany({ where, ...args }));
  }

  /**
   * Locks the account row for the rest of the transaction. Every change to an account's limits
   * or money takes this lock first, so concurrent changes on one account run one at a time.
   * Returns null when the account does not exist in this company.
   */
  async lockForUpdate(id: string): Promise<Account | null> {
    const rows = await this.client.$queryRaw<{ id: string }[]>`
      SELECT id FROM accounts WHERE company_id = ${this.companyId}::uuid AND id = ${id}::uuid FOR UPDATE`;
    return rows.length === 1 ? this.findById(id) : null;
  }

  create(data: Omit<Prisma.AccountUncheckedCreateInput, 'companyId'>) {
    return this.client.account.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.AccountUncheckedUpdateManyInput) {
    const { count } = await this.client.account.updateMany({ where: this.scoped({ id }), data });
    return count === 1 ? this.findById(id) : null;
  }
}

const duplicateExternalId = (externalId: string) =>
  new DomainError('DUPLICATE', `An account with external_id ${externalId} already exists.`, { external_id: ['already exists'] });

export class AccountsService {
  constructor(private readonly db: Database) {}

  repo(companyId: string) {
    return new AccountsRepository(this.db, companyId);
  }

  create(by: Actor & { userId?: string | null }, input: NewAccount): Promise<Account> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      if (input.external_id && (await repo.findByExternalId(input.external_id))) throw duplicateExternalId(input.external_id);
      const account = await onUniqueViolation(() => repo.create({
        id: newId(), name: input.name, status: 'active',
        sanctionedLimitPaise: input.sanctioned_limit, availableLimitPaise: input.sanctioned_limit,
        leadId: input.lead_id ?? null, programId: input.program_id ?? null, pan: input.pan ?? null, gstin: input.gstin ?? null,
        externalId: input.external_id ?? null, createdById: by.userId ?? null,
      }), () => duplicateExternalId(input.external_id ?? ''));
      // The sanctioned limit is the account's primary line; account figures are the sum of lines.
      await new LineDetailsRepository(this.db, by.companyId).create({
        id: newId(), accountId: account.id, type: 'primary', status: 'active', ...limitColumns(openLine(input.sanctioned_limit)),
      });
      await writeAudit(this.db, {
        companyId: by.companyId, entityType: 'account', entityId: account.id, action: 'created', actor: by.actor,
        data: { sanctioned_limit_paise: input.sanctioned_limit },
      });
      return account;
    });
  }

  async get(companyId: string, id: string): Promise<Account> {
    const account = await this.repo(companyId).findById(id);
    if (!account) throw notFound('Account');
    return account;
  }

  list(companyId: string, page: PageRequest, filter: AccountFilter) {
    return this.repo(companyId).list(page, filter);
  }

  update(by: Actor, id: string, patch: AccountPatch): Promise<Account> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const current = await repo.findById(id);
      if (!current) throw notFound('Account');
      if (current.status === 'closed') throw new DomainError('STATE_CONFLICT', 'A closed account cannot be changed.');
      if (patch.external_id) {
        const clash = await repo.findByExternalId(patch.external_id);
        if (clash && clash.id !== id) throw duplicateExternalId(patch.external_id);
      }
      const account = await onUniqueViolation(() => repo.update(id, {
        name: patch.name, status: patch.status, pan: patch.pan, gstin: patch.gstin, externalId: patch.external_id,
      }), () => duplicateExternalId(patch.external_id ?? ''));
      await writeAudit(this.db, {
        companyId: by.companyId, entityType: 'account', entityId: id, action: patch.status && patch.status !== current.status ? `status_${patch.status}` : 'updated',
        actor: by.actor, data: { fields: Object.keys(patch) },
      });
      return account!;
    });
  }
}
