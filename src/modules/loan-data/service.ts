// Loan data: terms for one loan that override the account's loan params (same vocabulary).
// The merged result must satisfy every params rule. Once a loan is disbursed under it (loan_id
// set), it is part of that loan's contract and cannot change.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { newId } from '../../domain/ids.js';
import { DEFAULT_PARAMS, normalizeParams, validateParams, withImpliedFields, type StoredParams } from '../../domain/loan-params.js';
import { DomainError, notFound, validationFailed } from '../../errors.js';
import type { LoanData } from '../../generated/prisma/client.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import { paramsOfAccount } from '../loan-params/service.js';
import type { Actor } from '../users/service.js';

export type Terms = Partial<StoredParams>;

/** JSON form of terms: bigint amounts as numbers of paise. */
export function termsToJson(terms: Terms): Record<string, unknown> {
  return JSON.parse(JSON.stringify(terms, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
}

export function termsFromJson(json: unknown): Terms {
  const terms = { ...(json as Record<string, unknown>) };
  for (const key of ['penal_min_amount', 'penal_max_amount'] as const) {
    if (typeof terms[key] === 'number') terms[key] = BigInt(terms[key]);
  }
  return terms as Terms;
}

class LoanDataRepository extends TenantRepository {
  findById(id: string) {
    return this.client.loanData.findFirst({ where: this.scoped({ id }) });
  }

  async lock(id: string): Promise<LoanData | null> {
    await this.client.$queryRaw`SELECT id FROM loan_data WHERE company_id = ${this.companyId}::uuid AND id = ${id}::uuid FOR UPDATE`;
    return this.findById(id);
  }

  create(data: { id: string; accountId: string; terms: object; createdBy: string | null }) {
    return this.client.loanData.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, terms: object): Promise<LoanData> {
    await this.client.loanData.updateMany({ where: this.scoped({ id }), data: { terms } });
    return (await this.findById(id))!;
  }
}

export class LoanDataService {
  constructor(private readonly db: Database) {}

  /** The account's params (or the defaults) with the terms over them, checked as a whole. */
  private async checkAgainstAccount(companyId: string, accountId: string, terms: Terms): Promise<void> {
    const account = await new AccountsRepository(this.db, companyId).findById(accountId);
    if (!account) throw new DomainError('NOT_FOUND', 'Account not found.', { account: ['not found'] });
    const row = await paramsOfAccount(this.db, companyId, account);
    const base = row ? paramsFromJson(row.params) : DEFAULT_PARAMS;
    const errors = validateParams(normalizeParams({ ...base, ...terms }));
    if (Object.keys(errors).length > 0) throw validationFailed(errors);
  }

  create(by: Actor, accountId: string, input: Terms): Promise<LoanData> {
    const terms = withImpliedFields(input);
    return this.db.transaction(async () => {
      await this.checkAgainstAccount(by.companyId, accountId, terms);
      const row = await new LoanDataRepository(this.db, by.companyId).create({ id: newId(), accountId, terms: termsToJson(terms), createdBy: by.actor });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan_data', entityId: row.id, action: 'created', actor: by.actor, data: { fields: Object.keys(terms) } });
      return row;
    });
  }

  update(by: Actor, id: string, input: Terms): Promise<LoanData> {
    const terms = withImpliedFields(input);
    return this.db.transaction(async () => {
      const repo = new LoanDataRepository(this.db, by.companyId);
      const current = await repo.lock(id);
      if (!current) throw notFound('Loan data');
      if (current.loanId) throw new DomainError('STATE_CONFLICT', 'This loan data belongs to a disbursed loan and cannot change; use Restructure or Reset RPS.');
      // A topup waiting to pay out under these terms (scheduled, or approved in a group) was
      // checked, and maybe approved, on them: they cannot change under it.
      const waiting = await this.db.client.topup.findFirst({ where: { companyId: by.companyId, loanDataId: id, status: { in: ['scheduled', 'approved'] } }, select: { refId: true } });
      if (waiting) throw new DomainError('STATE_CONFLICT', `Topup ${waiting.refId} waits to pay out under this loan data; unschedule it first.`, { loan_data: [`used by topup ${waiting.refId}`] });
      const merged = { ...termsFromJson(current.terms), ...terms };
      await this.checkAgainstAccount(by.companyId, current.accountId, merged);
      const row = await repo.update(id, termsToJson(merged));
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan_data', entityId: id, action: 'updated', actor: by.actor, data: { fields: Object.keys(terms) } });
      return row;
    });
  }

  async get(companyId: string, id: string): Promise<LoanData> {
    const row = await new LoanDataRepository(this.db, companyId).findById(id);
    if (!row) throw notFound('Loan data');
    return row;
  }
}
