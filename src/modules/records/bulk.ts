// Bulk Create Records: up to 1,000 records in one request, all or nothing. Every row is checked
// against the database in a handful of set queries (accounts, external ids, params, UTRs, loans,
// collection banks) and every problem is reported by row (`records.<i>.<field>`); only a clean
// batch is written, in one transaction, with its references taken from the counter in one step.
// The accounts named are locked (in id order) first, so the account checks (not closed; the
// records it holds at most MAX_RUPEES, this batch's rows counted in order) hold until commit. The
// answer is a 400 when any row is malformed, else a 409 when rows only conflict with the state.
import type { Database } from '../../db/database.js';
import { nextRefs } from '../../db/refs.js';
import { newId } from '../../domain/ids.js';
import { DEFAULT_PARAMS, type StoredParams } from '../../domain/loan-params.js';
import { loanKindOf } from '../../domain/loan-terms.js';
import { istDateOf } from '../../domain/time.js';
import { DomainError, ERROR_STATUS, type ErrorCode, type FieldErrors } from '../../errors.js';
import type { Account, Prisma, Record as LmsRecord } from '../../generated/prisma/client.js';
import { dateToColumn } from '../../http/wire.js';
import { writeAudits } from '../audit/audit.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import type { Actor } from '../users/service.js';
import { heldRecordTotals, MAX_ACCOUNT_RECORDS_PAISE } from './account-room.js';
import type { NewRecord } from './service.js';

export const BULK_RECORDS_MAX = 1000;

interface Lookups {
  accounts: Map<string, Account>;
  byExternalId: Map<string, Account>;
  terms: Map<string, StoredParams>;
  usedUtrs: Map<string, string>;
  loans: Map<string, string>;
  banks: Set<string>;
  thresholdPaise: bigint | null;
  /** What each account's records hold already; the batch's rows are added as they are checked. */
  held: Map<string, bigint>;
}

export class BulkRecords {
  constructor(private readonly db: Database) {}

  createMany(by: Actor, rows: readonly NewRecord[]): Promise<LmsRecord[]> {
    return this.db.transaction(async () => {
      const lookups = await this.lookups(by.companyId, rows);
      const errors: FieldErrors = {};
      const codes = new Set<ErrorCode>();
      const seenUtrs = new Map<string, number>();
      rows.forEach((row, index) => this.check(row, index, lookups, seenUtrs, errors, codes));
      if (Object.keys(errors).length > 0) {
        const code = [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b])[0]!;
        throw new DomainError(code, `${Object.keys(errors).length} problem(s) in the batch; nothing was created.`, errors);
      }
      const refs = await nextRefs(this.db, by.companyId, 'record', 'REC', rows.length);
      const data = rows.map((row, i) => this.rowOf(by, row, refs[i]!, lookups));
      await this.db.client.record.createMany({ data });
      await writeAudits(this.db, data.map((r) => ({
        companyId: by.companyId, entityType: 'record', entityId: r.id, action: 'created', actor: by.actor, data: { amount_paise: r.amountPaise, status: r.status, bulk: true },
      })));
      const created = await this.db.client.record.findMany({ where: { companyId: by.companyId, id: { in: data.map((r) => r.id) } } });
      const order = new Map(data.map((r, i) => [r.id, i]));
      return created.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    });
  }

  private async lookups(companyId: string, rows: readonly NewRecord[]): Promise<Lookups> {
    const ids = unique(rows.map((r) => r.account));
    const externalIds = unique(rows.map((r) => r.account_external_id));
    const found = await this.db.client.account.findMany({ where: { companyId, OR: [{ id: { in: ids } }, { externalId: { in: externalIds } }] }, select: { id: true } });
    const lockIds = found.map((a) => a.id).sort();
    if (lockIds.length > 0) await this.db.client.$queryRaw`SELECT id FROM accounts WHERE company_id = ${companyId}::uuid AND id = ANY(${lockIds}::uuid[]) ORDER BY id FOR UPDATE`;
    // Read again under the locks: a status may have changed meanwhile.
    const accountRows = await this.db.client.account.findMany({ where: { companyId, id: { in: lockIds } } });
    const params = await this.db.client.loanParams.findMany({
      where: { companyId, OR: accountRows.filter((a) => a.leadId && a.programId).map((a) => ({ leadId: a.leadId!, programId: a.programId! })) },
    });
    const terms = new Map<string, StoredParams>();
    for (const a of accountRows) {
      const p = params.find((x) => x.leadId === a.leadId && x.programId === a.programId);
      terms.set(a.id, p ? paramsFromJson(p.params) : DEFAULT_PARAMS);
    }
    const utrs = unique(rows.map((r) => r.utr));
    const used = utrs.length > 0 ? await this.db.client.record.findMany({ where: { companyId, utr: { in: utrs } }, select: { utr: true, refId: true } }) : [];
    const loanIds = unique(rows.flatMap((r) => r.loans ?? []));
    const loans = loanIds.length > 0 ? await this.db.client.loan.findMany({ where: { companyId, id: { in: loanIds } }, select: { id: true, accountId: true } }) : [];
    const bankIds = unique(rows.map((r) => r.collection_bank_id));
    const banks = bankIds.length > 0 ? await this.db.client.collectionBank.findMany({ where: { companyId, id: { in: bankIds } }, select: { id: true } }) : [];
    const company = await this.db.client.company.findUnique({ where: { id: companyId }, select: { settings: true } });
    const threshold = (company?.settings as { record_approval_threshold_paise?: string } | null)?.record_approval_threshold_paise;
    return {
      accounts: new Map(accountRows.map((a) => [a.id, a])), byExternalId: new Map(accountRows.filter((a) => a.externalId).map((a) => [a.externalId!, a])),
      terms, usedUtrs: new Map(used.map((u) => [u.utr!, u.refId])), loans: new Map(loans.map((l) => [l.id, l.accountId])),
      banks: new Set(banks.map((b) => b.id)), thresholdPaise: threshold ? BigInt(threshold) : null,
      held: await heldRecordTotals(this.db, companyId, lockIds),
    };
  }

  private check(row: NewRecord, index: number, l: Lookups, seenUtrs: Map<string, number>, errors: FieldErrors, codes: Set<ErrorCode>): void {
    const add = (field: string, message: string, code: ErrorCode = 'VALIDATION_ERROR') => {
      (errors[`records.${index}.${field}`] ??= []).push(message);
      codes.add(code);
    };
    if (row.received_amount + (row.tds_amount ?? 0n) <= 0n) add('amount', 'must be more than 0 (received_amount + tds_amount)');
    if (row.account && !l.accounts.has(row.account)) add('account', 'not found');
    if (row.collection_bank_id && !l.banks.has(row.collection_bank_id)) add('collection_bank_id', 'not found');
    if (row.utr) {
      const taken = l.usedUtrs.get(row.utr);
      if (taken) add('utr', `already used by record ${taken}`);
      const earlier = seenUtrs.get(row.utr);
      if (earlier !== undefined) add('utr', `same as records.${earlier}.utr`);
      else seenUtrs.set(row.utr, index);
    }
    const account = this.accountOf(row, l);
    const accountId = account?.id;
    (row.loans ?? []).forEach((loanId, i) => {
      const owner = l.loans.get(loanId);
      if (!owner || (accountId && owner !== accountId)) add(`loans.${i}`, "not found on the record's account");
    });
    if (!account) return;
    if (account.status === 'closed') add('account', 'account is closed', 'STATE_CONFLICT');
    const held = (l.held.get(account.id) ?? 0n) + row.received_amount + (row.tds_amount ?? 0n);
    l.held.set(account.id, held);
    if (held > MAX_ACCOUNT_RECORDS_PAISE) add('amount', `the account's records would exceed ${MAX_ACCOUNT_RECORDS_PAISE / 100n} rupees in all`, 'STATE_CONFLICT');
  }

  private accountOf(row: NewRecord, l: Lookups): Account | undefined {
    return row.account ? l.accounts.get(row.account) : row.account_external_id ? l.byExternalId.get(row.account_external_id) : undefined;
  }

  private rowOf(by: Actor, row: NewRecord, refId: string, l: Lookups): Prisma.RecordCreateManyInput {
    const account = this.accountOf(row, l);
    const terms = (account && l.terms.get(account.id)) || DEFAULT_PARAMS;
    const tds = row.tds_amount ?? 0n;
    const amount = row.received_amount + tds;
    const type = row.type ?? 'repayment';
    return {
      id: newId(), companyId: by.companyId, accountId: account?.id ?? null, refId, type, status: account ? 'pending' : 'unmatched',
      paymentMode: row.payment_mode ?? null, receivedPaise: row.received_amount, tdsPaise: tds, amountPaise: amount,
      settlementOrder: row.settlement_order ?? terms.settlement_order, componentOrder: row.component_order ?? terms.component_order,
      excessHandling: row.excess_handling ?? terms.excess_handling ?? (loanKindOf(terms) === 'bullet' ? 'prepay' : 'hold'),
      utr: row.utr ?? null, recordDate: row.date ?? new Date(), settledAt: row.settled_at ?? null,
      valueDate: row.settled_at ? dateToColumn(istDateOf(row.settled_at)) : null, collectionBankId: row.collection_bank_id ?? null,
      remark: row.remark ?? null, payer: row.payer as object | undefined, loanIds: [...new Set(row.loans ?? [])],
      approvalRequired: type !== 'repayment' || (l.thresholdPaise !== null && amount > l.thresholdPaise),
      uploadedBy: by.actor, createdBy: by.actor,
    };
  }
}

function unique(values: readonly (string | undefined | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string'))];
}
