// NACH: mandates, presentations (Bulk Nach Request) and the bank's status file (NACH
// presentation status). A presentation is a record of type `nach`, `pending` until the bank
// reports it: a success marks it processed and allocates it like any payment (restricted to the
// loans of the demands presented); a bounce fails it, with a bounce charge when one is configured.
// Both operations are idempotent by design: a repeated bulk request skips demands that a pending
// presentation already holds, and a replayed status file reports rows already applied as unchanged.
import type { Database } from '../../db/database.js';
import { nextRefs } from '../../db/refs.js';
import { totalOutstanding } from '../../db/demand-sql.js';
import { nextRef } from '../../db/refs.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { onUniqueViolation } from '../../db/unique.js';
import { newId } from '../../domain/ids.js';
import { DEFAULT_PARAMS } from '../../domain/loan-params.js';
import { loanKindOf } from '../../domain/loan-terms.js';
import {
  defaultNachUtr, presentationAmount, skipReason, statusAction, type MandateStatus, type ReportedOutcome, type SkipReason,
} from '../../domain/nach.js';
import { istDateOf, istDayStart, type BusinessDate } from '../../domain/time.js';
import { DomainError, notFound } from '../../errors.js';
import type { NachMandate, Prisma, Record as LmsRecord } from '../../generated/prisma/client.js';
import { columnToDate, type Page, type PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import type { FeesService } from '../fees/service.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import type { Actor } from '../users/service.js';
import { OPEN_LOAN_STATUSES } from './ledger.js';
import type { RecordsRepository } from './repository.js';
import type { RecordsService } from './service.js';

/** At most this many accounts per Bulk Nach Request (named, or presented in one call). */
export const NACH_MAX_ACCOUNTS = 5000;
/** At most this many rows per status file. */
export const NACH_MAX_STATUS_ROWS = 1000;
/** Skipped accounts listed in one response (the count is always complete). */
export const NACH_MAX_SKIPPED_LISTED = 5000;

export interface NewMandate {
  account: string;
  umrn: string;
  max_amount?: bigint;
  bank_account_no?: string;
  ifsc?: string;
}

export interface MandatePatch {
  status?: MandateStatus;
  /** null removes the cap. */
  max_amount?: bigint | null;
}

export interface MandateFilter {
  account?: string;
  status?: MandateStatus;
  umrn?: string;
}

export interface BulkNachInput {
  date: BusinessDate;
  accounts?: string[];
}

export interface BulkNachResult {
  batch: string | null;
  date: BusinessDate;
  records: LmsRecord[];
  skipped: { account: string; reason: SkipReason }[];
  skippedCount: number;
  /** Accounts that could be presented but were over this call's limit: call again for them. */
  remaining: number;
}

export interface StatusRow {
  record?: string;
  ref_id?: string;
  status: ReportedOutcome;
  utr?: string;
  settled_at?: Date;
  amount?: bigint;
  reason?: string;
}

export interface StatusFile {
  collection_bank_id: string;
  /** Paise; overrides the company setting `nach_bounce_charge_paise`. 0 charges nothing. */
  bounce_charge?: bigint;
  bounce_charge_gst_rate?: string;
  rows: StatusRow[];
}

export type RowOutcome = 'processed' | 'failed' | 'unchanged' | 'error';

export interface StatusRowResult {
  index: number;
  outcome: RowOutcome;
  record: LmsRecord | null;
  bounceFeeId: string | null;
  error: DomainError | null;
  /** What the row named, for rows whose record was not found. */
  named: { record: string | null; ref_id: string | null };
}

interface Candidate {
  accountId: string;
  mandate: { id: string; umrn: string; maxAmountPaise: bigint | null };
  demandIds: string[];
  loanIds: string[];
  outstanding: bigint;
  pending: number;
}

/** A presentation to insert: one row of the batch. */
interface PresentationRow {
  id: string;
  accountId: string;
  refId: string;
  amount: bigint;
  settlementOrder: string;
  componentOrder: string;
  excessHandling: string;
  umrn: string;
  loanIds: string[];
  demandIds: string[];
}

/** What an account owes by a date, split by whether a pending presentation already holds it. */
interface DueRow {
  account_id: string;
  demand_ids: string[];
  loan_ids: string[];
  outstanding: bigint;
  pending: number;
}

class NachRepository extends TenantRepository {
  findMandate(id: string) {
    return this.client.nachMandate.findFirst({ where: this.scoped({ id }) });
  }

  findMandateByUmrn(umrn: string) {
    return this.client.nachMandate.findFirst({ where: this.scoped({ umrn }) });
  }

  activeMandatesOf(accountId: string) {
    return this.client.nachMandate.findMany({ where: this.scoped({ accountId, status: 'active' }) });
  }

  listMandates(page: PageRequest, filter: MandateFilter): Promise<Page<NachMandate>> {
    const where = this.scoped<Prisma.NachMandateWhereInput>({ accountId: filter.account, status: filter.status, umrn: filter.umrn });
    return this.paginate(page, () => this.client.nachMandate.count({ where }), (args) => this.client.nachMandate.findMany({ where, ...args }));
  }

  createMandate(data: Omit<Prisma.NachMandateUncheckedCreateInput, 'companyId'>) {
    return this.client.nachMandate.create({ data: { ...data, companyId: this.companyId } });
  }

  async updateMandate(id: string, data: Prisma.NachMandateUncheckedUpdateManyInput) {
    await this.client.nachMandate.updateMany({ where: this.scoped({ id }), data });
    return (await this.findMandate(id))!;
  }

  /** The active mandates of these accounts (or of all), locked in account order so concurrent batches cannot deadlock. */
  lockActiveMandates(accountIds: string[] | undefined) {
    return this.client.$queryRaw<{ id: string; account_id: string; umrn: string; max_amount_paise: bigint | null; created_at: Date }[]>`
      SELECT id::text, account_id::text, umrn, max_amount_paise, created_at FROM nach_mandates
      WHERE company_id = ${this.companyId}::uuid AND status = 'active'
        AND (${accountIds === undefined} OR account_id = ANY(${accountIds ?? []}::uuid[]))
      ORDER BY account_id, id FOR UPDATE`;
  }

  /**
   * Per account: the demands due by `date` with anything outstanding on open loans, oldest first,
   * less those a pending presentation holds (counted apart as `pending`).
   */
  dueByAccount(accountIds: string[], date: BusinessDate) {
    return this.client.$queryRaw<DueRow[]>`
      WITH held AS (
        SELECT DISTINCT unnest(presented_demand_ids) AS demand_id FROM records
        WHERE company_id = ${this.companyId}::uuid AND account_id = ANY(${accountIds}::uuid[]) AND type = 'nach' AND status = 'pending'
      ), due AS (
        SELECT d.account_id, d.id, d.loan_id, d.due_date, d.installment_number, (${totalOutstanding})::bigint AS outstanding,
          d.id IN (SELECT demand_id FROM held) AS pending
        FROM demands d
        WHERE d.company_id = ${this.companyId}::uuid AND d.account_id = ANY(${accountIds}::uuid[]) AND d.status <> 'cancelled'
          AND d.due_date <= ${date}::date AND (${totalOutstanding}) > 0
          AND d.loan_id IN (SELECT id FROM loans WHERE company_id = ${this.companyId}::uuid AND account_id = ANY(${accountIds}::uuid[]) AND status = ANY(${OPEN_LOAN_STATUSES}))
      )
      SELECT account_id::text,
        COALESCE(array_agg(id::text ORDER BY due_date, installment_number NULLS LAST, id) FILTER (WHERE NOT pending), '{}') AS demand_ids,
        COALESCE(array_agg(DISTINCT loan_id::text) FILTER (WHERE NOT pending), '{}') AS loan_ids,
        COALESCE(SUM(outstanding) FILTER (WHERE NOT pending), 0)::bigint AS outstanding,
        (count(*) FILTER (WHERE pending))::int AS pending
      FROM due GROUP BY account_id`;
  }

  /** The loan of the oldest of these demands whose loan is still open (a bounce charge goes there), or null. */
  async oldestOpenLoanOf(demandIds: string[]): Promise<string | null> {
    const [oldest] = await this.client.$queryRaw<{ loan_id: string }[]>`
      SELECT d.loan_id::text FROM demands d JOIN loans l ON l.id = d.loan_id AND l.company_id = d.company_id
      WHERE d.company_id = ${this.companyId}::uuid AND d.id = ANY(${demandIds}::uuid[]) AND l.status = ANY(${OPEN_LOAN_STATUSES})
      ORDER BY d.due_date, d.installment_number NULLS LAST, d.id LIMIT 1`;
    return oldest?.loan_id ?? null;
  }

  /** `count` record refs from the records' counter in one statement (the counter and format nextRef uses). */

  /**
   * Inserts a batch of pending presentations and their audit rows in two statements: an ORM
   * insert costs about a millisecond per row, and a batch may hold thousands. Timestamps are
   * truncated to the millisecond, the precision of the rows Prisma writes (a JS Date), so a
   * presentation's created_at reads back exactly as stored.
   */
  async insertPresentations(batch: string, date: BusinessDate, actor: string | null, rows: PresentationRow[]): Promise<LmsRecord[]> {
    const json = JSON.stringify(rows, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
    await this.client.$executeRaw`
      INSERT INTO records (id, company_id, account_id, ref_id, type, status, payment_mode, received_paise, tds_paise, amount_paise,
        settlement_order, component_order, excess_handling, record_date, bank_date, loan_ids, umrn, nach_batch, presented_demand_ids,
        approval_required, uploaded_by, created_by, created_at, updated_at)
      SELECT x."id", ${this.companyId}::uuid, x."accountId", x."refId", 'nach', 'pending', 'nach', x."amount", 0, x."amount",
        x."settlementOrder", x."componentOrder", x."excessHandling", date_trunc('milliseconds', now()), ${date}::date,
        ARRAY(SELECT jsonb_array_elements_text(x."loanIds"))::uuid[], x."umrn", ${batch},
        ARRAY(SELECT jsonb_array_elements_text(x."demandIds"))::uuid[], false, ${actor}, ${actor},
        date_trunc('milliseconds', now()), date_trunc('milliseconds', now())
      FROM jsonb_to_recordset(${json}::jsonb) AS x("id" uuid, "accountId" uuid, "refId" text, "amount" bigint, "settlementOrder" text,
        "componentOrder" text, "excessHandling" text, "umrn" text, "loanIds" jsonb, "demandIds" jsonb)`;
    await this.client.$executeRaw`
      INSERT INTO audit_events (company_id, entity_type, entity_id, action, actor, data)
      SELECT company_id, 'record', id, 'nach_presented', ${actor},
        jsonb_build_object('batch', nach_batch, 'date', ${date}::text, 'umrn', umrn, 'amount_paise', amount_paise::text,
          'demands', to_jsonb(presented_demand_ids), 'status', status)
      FROM records WHERE company_id = ${this.companyId}::uuid AND nach_batch = ${batch}`;
    const records = await this.client.record.findMany({ where: this.scoped({ nachBatch: batch }) });
    const order = new Map(rows.map((r, i) => [r.id, i]));
    return records.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  }
}

const umrnTaken = (umrn: string) => new DomainError('DUPLICATE', `A mandate with UMRN ${umrn} already exists.`, { umrn: ['already exists'] });

export class NachService {
  constructor(private readonly db: Database, private readonly records: RecordsService, private readonly fees: FeesService) {}

  private repo(companyId: string) {
    return new NachRepository(this.db, companyId);
  }

  // ---- Mandates ----

  /** Registers a mandate; an account has at most one active mandate, so a presentation is never ambiguous. */
  createMandate(by: Actor, input: NewMandate): Promise<NachMandate> {
    return this.db.transaction(async () => {
      const account = await new AccountsRepository(this.db, by.companyId).lockForUpdate(input.account);
      if (!account) throw new DomainError('NOT_FOUND', 'Account not found.', { account: ['not found'] });
      if (account.status === 'closed') throw new DomainError('STATE_CONFLICT', 'The account is closed.', { account: ['account is closed'] });
      const repo = this.repo(by.companyId);
      await this.assertNoOtherActive(repo, account.id, null);
      if (await repo.findMandateByUmrn(input.umrn)) throw umrnTaken(input.umrn);
      const mandate = await onUniqueViolation(() => repo.createMandate({
        id: newId(), accountId: account.id, umrn: input.umrn, status: 'active', maxAmountPaise: input.max_amount ?? null,
        bankAccountNo: input.bank_account_no ?? null, ifsc: input.ifsc ?? null, createdBy: by.actor,
      }), () => umrnTaken(input.umrn));
      await writeAudit(this.db, {
        companyId: by.companyId, entityType: 'nach_mandate', entityId: mandate.id, action: 'created', actor: by.actor,
        data: { account: account.id, umrn: mandate.umrn, max_amount_paise: mandate.maxAmountPaise },
      });
      return mandate;
    });
  }

  private async assertNoOtherActive(repo: NachRepository, accountId: string, exceptId: string | null): Promise<void> {
    const other = (await repo.activeMandatesOf(accountId)).find((m) => m.id !== exceptId);
    if (other) {
      throw new DomainError('STATE_CONFLICT', `The account already has an active mandate (UMRN ${other.umrn}); cancel it first.`,
        { account: [`already has active mandate ${other.umrn}`] }, { mandate: other.id });
    }
  }

  async getMandate(companyId: string, id: string): Promise<NachMandate> {
    const mandate = await this.repo(companyId).findMandate(id);
    if (!mandate) throw notFound('NACH mandate');
    return mandate;
  }

  listMandates(companyId: string, page: PageRequest, filter: MandateFilter) {
    return this.repo(companyId).listMandates(page, filter);
  }

  /** Cancels or reactivates a mandate, or changes its cap. A patch that changes nothing writes nothing. */
  updateMandate(by: Actor, id: string, patch: MandatePatch): Promise<NachMandate> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const found = await repo.findMandate(id);
      if (!found) throw notFound('NACH mandate');
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      const current = (await repo.findMandate(id))!;
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      if (patch.status !== undefined && patch.status !== current.status) changes.status = { from: current.status, to: patch.status };
      if (patch.max_amount !== undefined && patch.max_amount !== current.maxAmountPaise) changes.max_amount_paise = { from: current.maxAmountPaise, to: patch.max_amount };
      if (Object.keys(changes).length === 0) return current;
      if (patch.status === 'active') await this.assertNoOtherActive(repo, current.accountId, current.id);
      const updated = await repo.updateMandate(id, { status: patch.status, maxAmountPaise: patch.max_amount });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'nach_mandate', entityId: id, action: 'updated', actor: by.actor, data: changes });
      return updated;
    });
  }

  // ---- Bulk Nach Request ----

  /**
   * Presents every account with an active mandate (or the named ones) for what it owes on
   * `date`: the demands due by then with anything outstanding on open loans, less those a pending
   * presentation already holds. All in one transaction and set-based (a handful of statements
   * whatever the number of accounts), holding the mandates' row locks so two batches never
   * present the same demand twice.
   */
  bulkRequest(by: Actor, input: BulkNachInput): Promise<BulkNachResult> {
    return this.db.transaction(async () => {
      if (input.accounts) await this.assertAccounts(by.companyId, input.accounts);
      const candidates = await this.candidates(by.companyId, input.date, input.accounts);
      const withMandate = new Set(candidates.map((c) => c.accountId));
      const skipped: BulkNachResult['skipped'] = (input.accounts ?? []).filter((id) => !withMandate.has(id)).map((account) => ({ account, reason: 'no_active_mandate' as const }));
      const presentable: Candidate[] = [];
      for (const c of candidates) {
        const reason = skipReason({ hasMandate: true, unpresented: c.demandIds.length, pending: c.pending });
        if (reason) skipped.push({ account: c.accountId, reason });
        else presentable.push(c);
      }
      const now = presentable.slice(0, NACH_MAX_ACCOUNTS);
      const records = now.length > 0 ? await this.present(by, input.date, now) : [];
      return {
        batch: records[0]?.nachBatch ?? null, date: input.date, records, skipped: skipped.slice(0, NACH_MAX_SKIPPED_LISTED),
        skippedCount: skipped.length, remaining: presentable.length - now.length,
      };
    });
  }

  /** Named accounts must all be this company's: a foreign id answers as a missing one (404 naming it). */
  private async assertAccounts(companyId: string, ids: string[]): Promise<void> {
    const found = await this.db.client.account.findMany({ where: { companyId, id: { in: ids } }, select: { id: true } });
    const known = new Set(found.map((a) => a.id));
    const errors: Record<string, string[]> = {};
    ids.forEach((id, index) => { if (!known.has(id)) errors[`accounts.${index}`] = ['not found']; });
    if (Object.keys(errors).length > 0) throw new DomainError('NOT_FOUND', `${Object.keys(errors).length} of the accounts were not found.`, errors);
  }

  /** The accounts with an active mandate (locked) and, for each, what is due and not yet presented. */
  private async candidates(companyId: string, date: BusinessDate, accountIds: string[] | undefined): Promise<Candidate[]> {
    const repo = this.repo(companyId);
    const mandates = new Map<string, Candidate['mandate'] & { createdAt: Date }>();
    for (const m of await repo.lockActiveMandates(accountIds)) {
      // One active mandate per account is enforced on write; should two exist, the newest presents.
      const seen = mandates.get(m.account_id);
      if (!seen || seen.createdAt < m.created_at) mandates.set(m.account_id, { id: m.id, umrn: m.umrn, maxAmountPaise: m.max_amount_paise, createdAt: m.created_at });
    }
    if (mandates.size === 0) return [];
    const ids = [...mandates.keys()].sort();
    const byAccount = new Map((await repo.dueByAccount(ids, date)).map((row) => [row.account_id, row]));
    return ids.map((accountId) => {
      const row = byAccount.get(accountId);
      const { createdAt: _, ...mandate } = mandates.get(accountId)!;
      return { accountId, mandate, demandIds: row?.demand_ids ?? [], loanIds: row?.loan_ids ?? [], outstanding: row?.outstanding ?? 0n, pending: row?.pending ?? 0 };
    });
  }

  /**
   * Writes one pending `nach` record per candidate, with settlement rules from the account's loan
   * params as Create Record takes them. Presentations need no checker: their amount is computed
   * from the dues, not typed in, and the bank's file confirms the money.
   */
  private async present(by: Actor, date: BusinessDate, candidates: Candidate[]): Promise<LmsRecord[]> {
    const repo = this.repo(by.companyId);
    const batch = await nextRef(this.db, by.companyId, 'nach_batch', 'NB');
    const refs = await nextRefs(this.db, by.companyId, 'record', 'REC', candidates.length);
    const rules = await this.settlementRules(by.companyId, candidates.map((c) => c.accountId));
    return repo.insertPresentations(batch, date, by.actor, candidates.map((c, i) => ({
      id: newId(), accountId: c.accountId, refId: refs[i]!, amount: presentationAmount(c.outstanding, c.mandate.maxAmountPaise),
      ...rules.get(c.accountId)!, umrn: c.mandate.umrn, loanIds: [...c.loanIds].sort(), demandIds: c.demandIds,
    })));
  }

  /** Settlement order, component order and excess handling per account, from its params (defaults without). */
  private async settlementRules(companyId: string, accountIds: string[]) {
    const accounts = await this.db.client.account.findMany({ where: { companyId, id: { in: accountIds } }, select: { id: true, leadId: true, programId: true } });
    const keys = [...new Map(accounts.filter((a) => a.leadId && a.programId).map((a) => [`${a.leadId}/${a.programId}`, { leadId: a.leadId!, programId: a.programId! }])).values()];
    const params = keys.length > 0 ? await this.db.client.loanParams.findMany({ where: { companyId, OR: keys } }) : [];
    const byKey = new Map(params.map((p) => [`${p.leadId}/${p.programId}`, p.params]));
    return new Map(accounts.map((a) => {
      const json = byKey.get(`${a.leadId}/${a.programId}`);
      const terms = json ? paramsFromJson(json) : DEFAULT_PARAMS;
      return [a.id, {
        settlementOrder: terms.settlement_order, componentOrder: terms.component_order,
        excessHandling: terms.excess_handling ?? (loanKindOf(terms) === 'bullet' ? 'prepay' : 'hold'),
      }];
    }));
  }

  // ---- NACH presentation status ----

  /**
   * Applies the bank's status file row by row, each row in its own transaction: a row that does
   * not apply (unknown record, contradicting an earlier outcome) is reported and the others go on.
   * Rows already applied report `unchanged`, so replaying a file changes nothing.
   */
  async applyStatusFile(by: Actor, file: StatusFile): Promise<StatusRowResult[]> {
    // Rows commit one by one; inside a caller's transaction a failed row could not be undone alone.
    if (this.db.inTransaction) throw new Error('applyStatusFile commits row by row and must not run inside a transaction');
    const bank = await this.db.client.collectionBank.findFirst({ where: { companyId: by.companyId, id: file.collection_bank_id }, select: { id: true } });
    if (!bank) throw new DomainError('NOT_FOUND', 'Collection bank not found.', { collection_bank_id: ['not found'] });
    const charge = await this.bounceCharge(by.companyId, file);
    const results: StatusRowResult[] = [];
    for (const [index, row] of file.rows.entries()) results.push(await this.applyRow(by, file.collection_bank_id, charge, index, row));
    return results;
  }

  /** The charge for a bounce: the file's, else the company's setting, else none (no fee is invented). */
  private async bounceCharge(companyId: string, file: StatusFile): Promise<{ amount: bigint; gstRate: string } | null> {
    const company = await this.db.client.company.findUnique({ where: { id: companyId }, select: { settings: true } });
    const settings = (company?.settings ?? {}) as { nach_bounce_charge_paise?: string | number; nach_bounce_charge_gst_rate?: string | number };
    const amount = file.bounce_charge ?? (settings.nach_bounce_charge_paise !== undefined ? BigInt(settings.nach_bounce_charge_paise) : 0n);
    const gstRate = file.bounce_charge_gst_rate ?? String(settings.nach_bounce_charge_gst_rate ?? '0');
    return amount > 0n ? { amount, gstRate } : null;
  }

  private async applyRow(by: Actor, bankId: string, charge: { amount: bigint; gstRate: string } | null, index: number, row: StatusRow): Promise<StatusRowResult> {
    const named = { record: row.record ?? null, ref_id: row.ref_id ?? null };
    const result = (outcome: RowOutcome, record: LmsRecord | null, extra: Partial<StatusRowResult> = {}): StatusRowResult =>
      ({ index, outcome, record, bounceFeeId: null, error: null, named, ...extra });
    try {
      const id = await this.findPresentation(by.companyId, index, row);
      return await this.records.locked(by, id, async (record, repo) => {
        if (row.amount !== undefined && row.amount !== record.amountPaise) {
          throw new DomainError('STATE_CONFLICT', `Record ${record.refId} was presented for ${record.amountPaise} paise, not ${row.amount}.`, { [`rows.${index}.amount`]: ['differs from the presented amount'] });
        }
        const action = statusAction(record.status, row.status, { record: record.utr, reported: row.utr });
        if (action.kind === 'conflict') throw new DomainError('STATE_CONFLICT', `Record ${record.refId} ${action.message}.`, { [`rows.${index}.status`]: [action.message] });
        if (action.kind === 'unchanged') return result('unchanged', record);
        if (action.kind === 'process') return result('processed', await this.succeed(by, bankId, index, row, record));
        const failed = await this.bounce(by, charge, row, record, repo);
        return result('failed', failed.record, { bounceFeeId: failed.feeId });
      });
    } catch (error) {
      if (error instanceof DomainError && error.status < 500) return result('error', null, { error });
      throw error;
    }
  }

  /** The presentation a row names, by id or ref_id (both must agree); anything else is a row-level 404. */
  private async findPresentation(companyId: string, index: number, row: StatusRow): Promise<string> {
    const found = await this.db.client.record.findFirst({
      where: { companyId, type: 'nach', ...(row.record ? { id: row.record } : {}), ...(row.ref_id ? { refId: row.ref_id } : {}) }, select: { id: true },
    });
    if (!found) {
      const field = row.record ? 'record' : 'ref_id';
      throw new DomainError('NOT_FOUND', 'NACH presentation not found.', { [`rows.${index}.${field}`]: [row.record && row.ref_id ? 'no presentation has this id and ref_id' : 'not found'] });
    }
    return found.id;
  }

  /** Success: Mark Processed with the bank's UTR (or NACH<ref_id>) and date (or the presentation date), allocated at once. */
  private async succeed(by: Actor, bankId: string, index: number, row: StatusRow, record: LmsRecord): Promise<LmsRecord> {
    let settledAt = row.settled_at;
    if (!settledAt) {
      const presented = record.bankDate ? columnToDate(record.bankDate) : istDateOf(record.recordDate);
      settledAt = istDayStart(presented);
      if (settledAt.getTime() > Date.now()) {
        throw new DomainError('VALIDATION_ERROR', `The presentation date ${presented} is in the future: give settled_at.`, { [`rows.${index}.settled_at`]: ['required: the presentation date is in the future'] });
      }
    }
    const processed = await this.records.markProcessed(by, record.id, { utr: row.utr ?? defaultNachUtr(record.refId), settled_at: settledAt, collection_bank_id: bankId }, 'nach_status_file');
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'record', entityId: record.id, action: 'nach_success', actor: by.actor, data: { utr: processed.utr } });
    return processed;
  }

  /** Bounce: the presentation fails with the bank's reason; a bounce charge goes on the loan of the oldest presented demand still open. */
  private async bounce(by: Actor, charge: { amount: bigint; gstRate: string } | null, row: StatusRow, record: LmsRecord, repo: RecordsRepository) {
    const failed = await repo.update(record.id, { status: 'failed', failureReason: row.reason ?? null });
    const bouncedOn = istDateOf(row.settled_at ?? new Date());
    let feeId: string | null = null;
    if (charge) {
      const loanId = await this.repo(by.companyId).oldestOpenLoanOf(record.presentedDemandIds);
      if (loanId) {
        const [fee] = await this.fees.createMany(by, [{
          loan: loanId, fee_type: 'bounce_charge', amount: charge.amount, gst_rate: charge.gstRate, due_date: bouncedOn,
          remarks: `NACH bounce of ${record.refId}${row.reason ? `: ${row.reason}` : ''}`.slice(0, 500),
        }]);
        feeId = fee!.id;
      }
    }
    await writeAudit(this.db, {
      companyId: by.companyId, entityType: 'record', entityId: record.id, action: 'nach_bounced', actor: by.actor,
      data: { reason: row.reason ?? null, bounced_on: bouncedOn, bounce_fee: feeId },
    });
    return { record: failed, feeId };
  }
}
