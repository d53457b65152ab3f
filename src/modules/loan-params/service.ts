// Loan params: the contract of a lead and program. Every change writes a new version row
// (who, when, which fields from what to what); the current version is in loan_params.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { onUniqueViolation } from '../../db/unique.js';
import { newId } from '../../domain/ids.js';
import { DEFAULT_PARAMS, normalizeParams, validateParams, withImpliedFields, type StoredParams } from '../../domain/loan-params.js';
import { DomainError, notFound, validationFailed } from '../../errors.js';
import type { LoanParams, LoanParamsVersion, Prisma } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository } from '../line-details/repository.js';
import type { LineDetailsService } from '../line-details/service.js';
import type { Actor } from '../users/service.js';
import { paramsFields, paramsFromJson, paramsToJson, type InitiateLoanParams } from './schemas.js';

class LoanParamsRepository extends TenantRepository {
  find(leadId: string, programId: string) {
    return this.client.loanParams.findFirst({ where: this.scoped({ leadId, programId }) });
  }

  async lock(leadId: string, programId: string): Promise<LoanParams | null> {
    await this.client.$queryRaw`
      SELECT id FROM loan_params WHERE company_id = ${this.companyId}::uuid AND lead_id = ${leadId}::uuid AND program_id = ${programId}::uuid FOR UPDATE`;
    return this.find(leadId, programId);
  }

  create(data: Omit<Prisma.LoanParamsUncheckedCreateInput, 'companyId'>) {
    return this.client.loanParams.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.LoanParamsUncheckedUpdateManyInput) {
    await this.client.loanParams.updateMany({ where: this.scoped({ id }), data });
  }

  addVersion(data: Omit<Prisma.LoanParamsVersionUncheckedCreateInput, 'companyId' | 'id'>) {
    return this.client.loanParamsVersion.create({ data: { ...data, id: newId(), companyId: this.companyId } });
  }

  versions(loanParamsId: string, page: PageRequest): Promise<Page<LoanParamsVersion>> {
    const where = this.scoped({ loanParamsId });
    return this.paginate(page, () => this.client.loanParamsVersion.count({ where }),
      (args) => this.client.loanParamsVersion.findMany({ where, skip: args.skip, take: args.take, orderBy: [{ version: 'desc' }] }));
  }
}

type Change = { field: string; from: unknown; to: unknown };

const jsonOf = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** The params fields present in a body: top-level fields, then loan_data's over them. */
function fieldsOf(body: InitiateLoanParams): Partial<StoredParams> {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(paramsFields)) {
    const value = (body as Record<string, unknown>)[key];
    if (value !== undefined) fields[key] = value;
  }
  return withImpliedFields({ ...(fields as Partial<StoredParams>), ...(body.loan_data as Partial<StoredParams> | undefined) });
}

function diff(before: StoredParams, after: StoredParams): Change[] {
  return (Object.keys(after) as (keyof StoredParams)[])
    .filter((key) => jsonOf(before[key]) !== jsonOf(after[key]))
    .map((field) => ({ field, from: before[field], to: after[field] }));
}

function validated(input: StoredParams): StoredParams {
  const params = normalizeParams(input);
  const errors = validateParams(params);
  if (Object.keys(errors).length > 0) throw validationFailed(errors);
  return params;
}

/** The current params bound to an account through its lead and program, or null. */
export function paramsOfAccount(db: Database, companyId: string, account: { leadId: string | null; programId: string | null }): Promise<LoanParams | null> {
  if (!account.leadId || !account.programId) return Promise.resolve(null);
  return new LoanParamsRepository(db, companyId).find(account.leadId, account.programId);
}

export class LoanParamsService {
  constructor(private readonly db: Database, private readonly lineDetails: LineDetailsService) {}

  private repo(companyId: string) {
    return new LoanParamsRepository(this.db, companyId);
  }

  /** POST: creates the params of a lead and program (409 if they exist: PATCH changes them). */
  initiate(by: Actor, body: InitiateLoanParams): Promise<LoanParams> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const exists = () => new DomainError('STATE_CONFLICT', 'Loan params for this lead and program exist; update them with PATCH.', { lead_id: ['loan params already exist'] });
      if (await repo.find(body.lead_id, body.program_id)) throw exists();
      const params = validated({ ...DEFAULT_PARAMS, ...fieldsOf(body) });
      const row = await onUniqueViolation(() => repo.create({
        id: newId(), leadId: body.lead_id, programId: body.program_id, version: 1, params: paramsToJson(params) as object,
        lineAmountPaise: body.line_detail?.approved_line_amount ?? null, createdById: by.actor, updatedById: by.actor,
      }), exists);
      await repo.addVersion({ loanParamsId: row.id, version: 1, params: paramsToJson(params) as object, changes: JSON.parse(jsonOf(diff(DEFAULT_PARAMS, params))), changedBy: by.actor });
      await this.afterChange(by, row, body.line_detail?.approved_line_amount);
      return row;
    });
  }

  /** PATCH: changes some fields; the merged whole must still satisfy every rule. */
  update(by: Actor, body: InitiateLoanParams): Promise<LoanParams> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const current = await repo.lock(body.lead_id, body.program_id);
      if (!current) throw notFound('Loan params for this lead and program');
      const before = paramsFromJson(current.params);
      const after = validated({ ...before, ...fieldsOf(body) });
      const changes = diff(before, after);
      const lineAmount = body.line_detail?.approved_line_amount;
      const lineChanged = lineAmount !== undefined && lineAmount !== current.lineAmountPaise;
      if (changes.length === 0 && !lineChanged) return current;
      if (lineChanged) changes.push({ field: 'approved_line_amount', from: current.lineAmountPaise, to: lineAmount });
      const version = current.version + 1;
      await repo.update(current.id, { version, params: paramsToJson(after) as object, lineAmountPaise: lineAmount, updatedById: by.actor });
      await repo.addVersion({ loanParamsId: current.id, version, params: paramsToJson(after) as object, changes: JSON.parse(jsonOf(changes)), changedBy: by.actor });
      const row = (await repo.find(body.lead_id, body.program_id))!;
      await this.afterChange(by, row, lineChanged ? lineAmount : undefined);
      return row;
    });
  }

  /**
   * Audits the change and, when the body set a line amount, makes it the approved amount of the
   * primary line of every account bound to this lead and program.
   */
  private async afterChange(by: Actor, row: LoanParams, lineAmount: bigint | undefined): Promise<void> {
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'loan_params', entityId: row.id, action: `version_${row.version}`, actor: by.actor });
    if (lineAmount === undefined) return;
    const accounts = await this.db.client.account.findMany({ where: { companyId: by.companyId, leadId: row.leadId, programId: row.programId, status: { not: 'closed' } }, orderBy: { id: 'asc' } });
    for (const account of accounts) {
      const primary = await new LineDetailsRepository(this.db, by.companyId).findByType(account.id, 'primary');
      if (primary) await this.lineDetails.update(by, primary.id, { approved_amount: lineAmount });
      else await this.lineDetails.create(by, { account: account.id, type: 'primary', approved_amount: lineAmount });
    }
  }

  /** The params bound to an account through its lead and program. */
  async forAccount(companyId: string, accountId: string): Promise<LoanParams> {
    const account = await new AccountsRepository(this.db, companyId).findById(accountId);
    if (!account) throw notFound('Account');
    const row = await paramsOfAccount(this.db, companyId, account);
    if (!row) throw new DomainError('NOT_FOUND', "No loan params for this account's lead and program.");
    return row;
  }

  async history(companyId: string, accountId: string, page: PageRequest): Promise<Page<LoanParamsVersion>> {
    const row = await this.forAccount(companyId, accountId);
    return this.repo(companyId).versions(row.id, page);
  }
}
