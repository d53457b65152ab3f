// Line details: the limits of an account. Account sanctioned and available limits are the sums
// of the account's active lines, rewritten in the same transaction as any line change, under the
// account's row lock.
import type { Database } from '../../db/database.js';
import { onUniqueViolation } from '../../db/unique.js';
import { newId } from '../../domain/ids.js';
import { LimitError, openLine, setApproved, sumLines } from '../../domain/limits.js';
import { MAX_RUPEES } from '../../domain/money.js';
import { DomainError, notFound, type FieldErrors } from '../../errors.js';
import type { LineDetail } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import type { Actor } from '../users/service.js';
import { LineDetailsRepository, limitColumns, limitOf, type LineDetailFilter } from './repository.js';

export interface NewLineDetail {
  account: string;
  type: string;
  approved_amount: bigint;
  valid_from?: string;
  valid_till?: string;
  remarks?: string;
}

export interface LineDetailPatch {
  approved_amount?: bigint;
  status?: 'active' | 'inactive';
  valid_from?: string | null;
  valid_till?: string | null;
  remarks?: string | null;
}

const duplicateType = (type: string) =>
  new DomainError('DUPLICATE', `The account already has a ${type} line.`, { type: ['already exists for this account'] });

function limitConflict(error: unknown, field: string): never {
  if (error instanceof LimitError) throw new DomainError('STATE_CONFLICT', `${field}: ${error.message}`, { [field]: [error.message] });
  throw error;
}

export class LineDetailsService {
  constructor(private readonly db: Database) {}

  private repos(companyId: string) {
    return { lines: new LineDetailsRepository(this.db, companyId), accounts: new AccountsRepository(this.db, companyId) };
  }

  /** Locks the account and checks it can take limit changes. */
  private async lockAccount(companyId: string, accountId: string, field = 'account') {
    const account = await this.repos(companyId).accounts.lockForUpdate(accountId);
    if (!account) throw new DomainError('NOT_FOUND', 'Account not found.', { [field]: ['not found'] });
    if (account.status === 'closed') throw new DomainError('STATE_CONFLICT', 'The account is closed.');
    return account;
  }

  /** Rewrites the account's limits as the sum of its active lines. Caller holds the lock. */
  async recomputeAccount(companyId: string, accountId: string): Promise<void> {
    const { lines, accounts } = this.repos(companyId);
    const total = sumLines((await lines.activeForAccount(accountId)).map(limitOf));
    if (total.approved > BigInt(MAX_RUPEES) * 100n) {
      throw new DomainError('STATE_CONFLICT', `approved_amount: the account's lines would exceed ${MAX_RUPEES} rupees in all`, { approved_amount: ['account total too large'] });
    }
    await accounts.update(accountId, { sanctionedLimitPaise: total.approved, availableLimitPaise: total.available });
  }

  create(by: Actor, input: NewLineDetail): Promise<LineDetail> {
    return this.db.transaction(async () => {
      await this.lockAccount(by.companyId, input.account);
      const line = await this.insert(by, input);
      await this.recomputeAccount(by.companyId, input.account);
      return line;
    });
  }

  private async insert(by: Actor, input: NewLineDetail): Promise<LineDetail> {
    const { lines } = this.repos(by.companyId);
    if (input.valid_from && input.valid_till && input.valid_till < input.valid_from) {
      throw new DomainError('VALIDATION_ERROR', 'valid_till: must not be before valid_from', { valid_till: ['must not be before valid_from'] });
    }
    if (await lines.findByType(input.account, input.type)) throw duplicateType(input.type);
    const line = await onUniqueViolation(() => lines.create({
      id: newId(), accountId: input.account, type: input.type, status: 'active', ...limitColumns(openLine(input.approved_amount)),
      validFrom: input.valid_from ? dateToColumn(input.valid_from) : null, validTill: input.valid_till ? dateToColumn(input.valid_till) : null,
      remarks: input.remarks ?? null,
    }), () => duplicateType(input.type));
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'line_detail', entityId: line.id, action: 'created', actor: by.actor, data: { approved_paise: input.approved_amount, type: input.type } });
    return line;
  }

  update(by: Actor, id: string, patch: LineDetailPatch): Promise<LineDetail> {
    return this.db.transaction(async () => {
      const current = await this.repos(by.companyId).lines.findById(id);
      if (!current) throw notFound('Line detail');
      await this.lockAccount(by.companyId, current.accountId);
      const line = await this.applyPatch(by, id, patch);
      await this.recomputeAccount(by.companyId, current.accountId);
      return line;
    });
  }

  private async applyPatch(by: Actor, id: string, patch: LineDetailPatch): Promise<LineDetail> {
    const { lines } = this.repos(by.companyId);
    // Re-read under the account lock: the figures may have moved since the first read.
    const current = (await lines.findById(id))!;
    let limit = limitOf(current);
    if (patch.approved_amount !== undefined) {
      try {
        limit = setApproved(limit, patch.approved_amount);
      } catch (error) {
        limitConflict(error, 'approved_amount');
      }
    }
    const from = patch.valid_from === undefined ? (current.validFrom && columnToDate(current.validFrom)) : patch.valid_from;
    const till = patch.valid_till === undefined ? (current.validTill && columnToDate(current.validTill)) : patch.valid_till;
    if (from && till && till < from) {
      throw new DomainError('VALIDATION_ERROR', 'valid_till: must not be before valid_from', { valid_till: ['must not be before valid_from'] });
    }
    if (patch.status === 'inactive' && limit.used + limit.blocked > 0n) {
      throw new DomainError('STATE_CONFLICT', 'status: a line with used or blocked amounts cannot be made inactive', { status: ['line has used or blocked amounts'] });
    }
    const line = await lines.update(id, {
      ...limitColumns(limit), status: patch.status,
      validFrom: patch.valid_from === undefined ? undefined : patch.valid_from && dateToColumn(patch.valid_from),
      validTill: patch.valid_till === undefined ? undefined : patch.valid_till && dateToColumn(patch.valid_till),
      remarks: patch.remarks,
    });
    await writeAudit(this.db, {
      companyId: by.companyId, entityType: 'line_detail', entityId: id, action: 'updated', actor: by.actor,
      data: { before: limitOf(current), after: limit, status: patch.status },
    });
    return line;
  }

  /**
   * Creates or updates many lines (by account and type) in one transaction: all or nothing.
   * Rows that cannot apply are reported together, keyed by their index.
   */
  bulkInternal(by: Actor, rows: NewLineDetail[]): Promise<LineDetail[]> {
    return this.db.transaction(async () => {
      const { lines } = this.repos(by.companyId);
      const errors: FieldErrors = Object.create(null);
      const results: LineDetail[] = [];
      const seen = new Map<string, number>();
      rows.forEach((r, i) => {
        const key = `${r.account}/${r.type}`;
        if (seen.has(key)) (errors[`line_details.${i}.type`] ??= []).push(`repeats row ${seen.get(key)} (same account and type)`);
        else seen.set(key, i);
      });
      const accounts = [...new Set(rows.map((r) => r.account))].sort();
      // Lock in a fixed order so that two bulk calls over the same accounts cannot deadlock.
      for (const accountId of accounts) {
        try {
          await this.lockAccount(by.companyId, accountId);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          rows.forEach((r, i) => { if (r.account === accountId) (errors[`line_details.${i}.account`] ??= []).push(error.message); });
        }
      }
      for (const [i, row] of rows.entries()) {
        if (Object.keys(errors).some((k) => k.startsWith(`line_details.${i}.`))) continue;
        try {
          const existing = await lines.findByType(row.account, row.type);
          results.push(existing
            ? await this.applyPatch(by, existing.id, { approved_amount: row.approved_amount, valid_from: row.valid_from, valid_till: row.valid_till, remarks: row.remarks })
            : await this.insert(by, row));
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          for (const [field, messages] of Object.entries(error.fieldErrors ?? { row: [error.message] })) {
            (errors[`line_details.${i}.${field}`] ??= []).push(...messages);
          }
        }
      }
      if (Object.keys(errors).length > 0) {
        throw new DomainError('VALIDATION_ERROR', `${Object.keys(errors).length} row error(s); nothing was applied.`, errors);
      }
      for (const accountId of accounts) await this.recomputeAccount(by.companyId, accountId);
      return results;
    });
  }

  async get(companyId: string, id: string): Promise<LineDetail> {
    const line = await this.repos(companyId).lines.findById(id);
    if (!line) throw notFound('Line detail');
    return line;
  }

  async getByType(companyId: string, accountId: string, type: string): Promise<LineDetail> {
    const line = await this.repos(companyId).lines.findByType(accountId, type);
    if (!line) throw notFound(`Line detail of type ${type}`);
    return line;
  }

  list(companyId: string, page: PageRequest, filter: LineDetailFilter) {
    return this.repos(companyId).lines.list(page, filter);
  }
}
