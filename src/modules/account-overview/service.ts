// Account-level reads and actions that look across its loans: Refresh Limit, Get Summary and
// Close Loan Account. Every figure is computed from the demand, loan and payout rows that the
// money code writes, in set-based SQL.
import type { Database } from '../../db/database.js';
import { assetClassOf } from '../../domain/eod.js';
import { DEMAND_COMPONENTS, outstandingOf, outstandingSums, totalOutstanding } from '../../db/demand-sql.js';
import { Prisma } from '../../generated/prisma/client.js';
import { holdsInvariant, type LineLimit } from '../../domain/limits.js';
import { istDateOf } from '../../domain/time.js';
import { DomainError, notFound } from '../../errors.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository, limitColumns, limitOf } from '../line-details/repository.js';
import type { LineDetailsService } from '../line-details/service.js';
import type { Actor } from '../users/service.js';

/** Loan statuses whose principal is drawn on the line. */
const DRAWN = ['active', 'overdue', 'npa'];

export interface LineRefresh {
  line: string;
  type: string;
  stored: LineLimit;
  computed: LineLimit;
  drifted: boolean;
}

const COMPONENTS = DEMAND_COMPONENTS;
type ComponentSums = Record<(typeof COMPONENTS)[number], bigint>;

export interface AccountSummary {
  limits: { sanctioned: bigint; available: bigint; used: bigint; blocked: bigint };
  outstanding: ComponentSums & { total: bigint };
  overdue: ComponentSums & { total: bigint };
  dpd: number;
  peakDpd: number;
  assetClass: string;
  loansByStatus: Record<string, number>;
  /** Money received and not applied: the processed records' remaining amounts. */
  excess: { balance: bigint; reserved: bigint; available: bigint };
  asOf: string;
}

/** The account's excess: what processed records hold unapplied, and how much of it refunds in flight hold. */
async function excessOf(db: Database, companyId: string, accountId: string) {
  const sums = await db.client.record.aggregate({ where: { companyId, accountId, status: 'processed' }, _sum: { remainingPaise: true, reservedPaise: true } });
  const balance = sums._sum.remainingPaise ?? 0n;
  const reserved = sums._sum.reservedPaise ?? 0n;
  return { balance, reserved, available: balance - reserved };
}

export class AccountOverviewService {
  constructor(private readonly db: Database, private readonly lineDetails: LineDetailsService) {}

  /**
   * Per line: used = outstanding principal of drawn loans; blocked = what is in flight: the
   * principal of loans whose disbursement payout is live, tranches whose payout is live, and what
   * waiting topups (scheduled, or awaiting their group) hold themselves.
   */
  private async computedLines(companyId: string, accountId: string) {
    const rows = await this.db.client.$queryRaw<{ line_type: string; used: bigint | null; blocked: bigint | null }[]>`
      SELECT line_type, SUM(used)::bigint AS used, SUM(blocked)::bigint AS blocked FROM (
        SELECT l.line_type,
               CASE WHEN l.status = ANY(${DRAWN}) THEN COALESCE(d.p_out, l.principal_paise) ELSE 0 END AS used,
               CASE WHEN l.status = 'pending_disbursement' AND EXISTS (
                 SELECT 1 FROM payouts p WHERE p.company_id = l.company_id AND p.loan_id = l.id AND p.type = 'disbursement'
                   AND p.status IN ('requested', 'processing')) THEN l.principal_paise ELSE 0 END AS blocked
        FROM loans l
        LEFT JOIN (
          SELECT loan_id, SUM(${outstandingOf('p')}) AS p_out
          FROM demands WHERE company_id = ${companyId}::uuid AND account_id = ${accountId}::uuid AND status <> 'cancelled'
          GROUP BY loan_id
        ) d ON d.loan_id = l.id
        WHERE l.company_id = ${companyId}::uuid AND l.account_id = ${accountId}::uuid
        UNION ALL
        SELECT l.line_type, 0, p.amount_paise
        FROM payouts p JOIN loans l ON l.id = p.loan_id
        WHERE p.company_id = ${companyId}::uuid AND p.account_id = ${accountId}::uuid AND p.type = 'tranche' AND p.status IN ('requested', 'processing')
        UNION ALL
        SELECT t.line_type, 0, t.blocked_paise
        FROM topups t WHERE t.company_id = ${companyId}::uuid AND t.account_id = ${accountId}::uuid AND t.blocked_paise > 0
      ) parts
      GROUP BY line_type`;
    return new Map(rows.map((r) => [r.line_type, { used: r.used ?? 0n, blocked: r.blocked ?? 0n }]));
  }

  /** Refresh Limit: recompute every line from the rows, fix any drift, report stored and computed. */
  refreshLimit(by: Actor, accountId: string): Promise<{ lines: LineRefresh[]; drifted: boolean }> {
    return this.db.transaction(async () => {
      if (!(await new AccountsRepository(this.db, by.companyId).lockForUpdate(accountId))) throw notFound('Account');
      const computed = await this.computedLines(by.companyId, accountId);
      const lines = new LineDetailsRepository(this.db, by.companyId);
      const all = await this.db.client.lineDetail.findMany({ where: { companyId: by.companyId, accountId }, orderBy: { createdAt: 'asc' } });
      const report: LineRefresh[] = [];
      for (const line of all) {
        const stored = limitOf(line);
        const { used, blocked } = computed.get(line.type) ?? { used: 0n, blocked: 0n };
        const fixed: LineLimit = { approved: stored.approved, used, blocked, available: stored.approved - used - blocked };
        // A line drawn beyond its approved amount cannot be represented; that is a loud error.
        if (!holdsInvariant(fixed)) throw new DomainError('INVARIANT_VIOLATION', `Line ${line.id} is drawn beyond its approved amount.`);
        const drifted = fixed.used !== stored.used || fixed.blocked !== stored.blocked || fixed.available !== stored.available;
        if (drifted) await lines.update(line.id, limitColumns(fixed));
        report.push({ line: line.id, type: line.type, stored, computed: fixed, drifted });
      }
      await this.lineDetails.recomputeAccount(by.companyId, accountId);
      const drifted = report.some((r) => r.drifted);
      if (drifted) await writeAudit(this.db, { companyId: by.companyId, entityType: 'account', entityId: accountId, action: 'limit_refreshed', actor: by.actor, data: { report } });
      return { lines: report, drifted };
    });
  }

  async summary(companyId: string, accountId: string): Promise<AccountSummary> {
    const account = await new AccountsRepository(this.db, companyId).findById(accountId);
    if (!account) throw notFound('Account');
    const today = istDateOf(new Date());
    const [sums] = await this.db.client.$queryRaw<Record<string, bigint>[]>`
      SELECT ${outstandingSums()}, ${outstandingSums('_over', Prisma.sql`due_date < ${today}::date`)}
      FROM demands d JOIN loans l ON l.id = d.loan_id
      WHERE d.company_id = ${companyId}::uuid AND d.account_id = ${accountId}::uuid AND d.status <> 'cancelled' AND l.status <> 'pending_disbursement'`;
    const loans = await this.db.client.loan.groupBy({ by: ['status'], where: { companyId, accountId }, _count: { _all: true }, _max: { dpd: true, peakDpd: true } });
    const lines = await this.db.client.lineDetail.findMany({ where: { companyId, accountId, status: 'active' } });
    const total = (keys: readonly string[]) => keys.reduce((s, k) => s + (sums![k] ?? 0n), 0n);
    const pick = (suffix: string) => Object.fromEntries(COMPONENTS.map((c) => [c, sums![`${c}${suffix}`] ?? 0n])) as ComponentSums;
    const dpd = Math.max(0, ...loans.map((l) => l._max.dpd ?? 0));
    return {
      limits: {
        sanctioned: account.sanctionedLimitPaise, available: account.availableLimitPaise,
        used: lines.reduce((s, l) => s + l.usedPaise, 0n), blocked: lines.reduce((s, l) => s + l.blockedPaise, 0n),
      },
      outstanding: { ...pick(''), total: total(COMPONENTS) },
      overdue: { ...pick('_over'), total: total(COMPONENTS.map((c) => `${c}_over`)) },
      dpd, peakDpd: Math.max(0, ...loans.map((l) => l._max.peakDpd ?? 0)),
      // NPA is borrower-level (EOD sets it on every loan of the account), not a function of one loan's DPD.
      assetClass: loans.some((l) => l.status === 'npa' && l._count._all > 0) ? 'npa' : assetClassOf(dpd),
      loansByStatus: Object.fromEntries(loans.map((l) => [l.status, l._count._all])), excess: await excessOf(this.db, companyId, accountId), asOf: today,
    };
  }

  /** Close Loan Account: only with nothing outstanding and nothing in flight; 409 naming what blocks it. */
  close(by: Actor, accountId: string) {
    return this.db.transaction(async () => {
      const accounts = new AccountsRepository(this.db, by.companyId);
      const account = await accounts.lockForUpdate(accountId);
      if (!account) throw notFound('Account');
      if (account.status === 'closed') return account;
      const blockers: string[] = [];
      const [out] = await this.db.client.$queryRaw<{ outstanding: bigint }[]>`
        SELECT COALESCE(SUM(${totalOutstanding}), 0)::bigint AS outstanding
        FROM demands WHERE company_id = ${by.companyId}::uuid AND account_id = ${accountId}::uuid AND status <> 'cancelled'`;
      if (out!.outstanding > 0n) blockers.push(`outstanding dues of ${out!.outstanding} paise`);
      const pendingLoans = await this.db.client.loan.count({ where: { companyId: by.companyId, accountId, status: 'pending_disbursement' } });
      if (pendingLoans > 0) blockers.push(`${pendingLoans} loan(s) awaiting disbursement`);
      const inFlight = await this.db.client.payout.count({ where: { companyId: by.companyId, accountId, status: { in: ['requested', 'processing'] } } });
      if (inFlight > 0) blockers.push(`${inFlight} payout(s) in flight`);
      const excess = await excessOf(this.db, by.companyId, accountId);
      if (excess.balance > 0n) blockers.push(`excess balance of ${excess.balance} paise: refund or adjust it first`);
      const open = await this.db.client.record.count({ where: { companyId: by.companyId, accountId, status: { in: ['pending', 'approval_pending'] } } });
      if (open > 0) blockers.push(`${open} record(s) not yet processed`);
      if (blockers.length > 0) {
        throw new DomainError('STATE_CONFLICT', `The account cannot be closed: ${blockers.join('; ')}.`, { account: blockers });
      }
      const closed = await accounts.update(accountId, { status: 'closed' });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'account', entityId: accountId, action: 'closed', actor: by.actor });
      return closed!;
    });
  }
}
