// Restructure (POST emis/restructure/): reschedules a loan's outstanding principal from a date
// under a new tenure and rate, moving what was owed by that date as the caller chose (see
// src/domain/restructure.ts for the plan and its rules). One transaction holding the account's
// row lock: the old schedule is kept as history (cancelled, or trimmed to what was settled), the
// new demands carry schedule_version + 1, and a restructures row and an audit row record it.
import { outstandingOf } from '../../db/demand-sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import type { Database } from '../../db/database.js';
import { newId } from '../../domain/ids.js';
import { LimitError, use } from '../../domain/limits.js';
import type { StoredParams } from '../../domain/loan-params.js';
import { loanKindOf, TermsError } from '../../domain/loan-terms.js';
import {
  currentRate, planRestructure, RestructureError, sumComponents, type Components, type ExistingDemand, type NewDemand,
  type OverdueTreatment, type RestructurePlan,
} from '../../domain/restructure.js';
import type { Frequency } from '../../domain/schedule.js';
import { istDateOf, type BusinessDate } from '../../domain/time.js';
import { DomainError, invalidField } from '../../errors.js';
import type { Demand, Loan, Prisma, Restructure } from '../../generated/prisma/client.js';
import { columnToDate, dateToColumn } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import { LineDetailsRepository, limitColumns, limitOf } from '../line-details/repository.js';
import type { LineDetailsService } from '../line-details/service.js';
import { paramsFromJson, paramsToJson } from '../loan-params/schemas.js';
import { LoansRepository } from '../loans/repository.js';
import type { Actor } from '../users/service.js';

export interface RestructureRequest {
  loan: string;
  from_date?: BusinessDate;
  emi_count: number;
  rate?: string;
  emi_frequency?: Frequency;
  overdue_treatment: OverdueTreatment;
  remarks?: string;
}

export interface RestructureResult {
  loan: Loan;
  restructure: Restructure;
  /** The demands the restructure created: the new installments, then the separate demand if any. */
  demands: Demand[];
}

/** Kind of the separate demand holding arrears: not 'emi', so a later Reset RPS leaves it alone. */
export const ARREARS_KIND = 'arrears';
const OPEN_STATUSES = ['active', 'overdue', 'npa'];

/** The restructure's own rows; loans and demands are read through LoansRepository. */
class RestructuresRepository extends TenantRepository {
  latestFor(loanId: string) {
    return this.client.restructure.findFirst({ where: this.scoped({ loanId }), orderBy: [{ fromDate: 'desc' }, { createdAt: 'desc' }] });
  }

  create(data: Omit<Prisma.RestructureUncheckedCreateInput, 'companyId'>) {
    return this.client.restructure.create({ data: { ...data, companyId: this.companyId } });
  }

  cancelDemands(ids: string[]) {
    return this.client.demand.updateMany({ where: this.scoped({ id: { in: ids } }), data: { status: 'cancelled' } });
  }

  /** Sets a demand's dues to exactly what was paid or waived on it (paid and waived columns untouched). */
  trimDemand(id: string, due: Components, status: string) {
    return this.client.demand.updateMany({
      where: this.scoped({ id }),
      data: { pDuePaise: due.p, niDuePaise: due.ni, oiDuePaise: due.oi, piDuePaise: due.pi, feeDuePaise: due.fee, status },
    });
  }

  /** Principal outstanding on the loan's live demands, and everything ever paid or waived on any of its demands. */
  async moneyOf(loanId: string): Promise<{ principal: bigint; settled: bigint }> {
    const [row] = await this.client.$queryRaw<{ principal: bigint; settled: bigint }[]>`
      SELECT COALESCE(SUM(${outstandingOf('p')}) FILTER (WHERE status <> 'cancelled'), 0)::bigint AS principal,
             COALESCE(SUM(p_paid_paise + ni_paid_paise + oi_paid_paise + pi_paid_paise + fee_paid_paise
               + p_waived_paise + ni_waived_paise + oi_waived_paise + pi_waived_paise + fee_waived_paise), 0)::bigint AS settled
      FROM demands WHERE company_id = ${this.companyId}::uuid AND loan_id = ${loanId}::uuid`;
    return row!;
  }

  demandsById(ids: string[]) {
    return this.client.demand.findMany({ where: this.scoped({ id: { in: ids } }), orderBy: [{ dueDate: 'asc' }, { installmentNumber: 'asc' }] });
  }
}

const toExisting = (d: Demand): ExistingDemand => ({
  id: d.id, kind: d.kind, installmentNumber: d.installmentNumber, periodStart: d.periodStart ? columnToDate(d.periodStart) : null, dueDate: columnToDate(d.dueDate),
  due: { p: d.pDuePaise, ni: d.niDuePaise, oi: d.oiDuePaise, pi: d.piDuePaise, fee: d.feeDuePaise },
  paid: { p: d.pPaidPaise, ni: d.niPaidPaise, oi: d.oiPaidPaise, pi: d.piPaidPaise, fee: d.feePaidPaise },
  waived: { p: d.pWaivedPaise, ni: d.niWaivedPaise, oi: d.oiWaivedPaise, pi: d.piWaivedPaise, fee: d.feeWaivedPaise },
});

const dueColumns = (c: Components) => ({ pDuePaise: c.p, niDuePaise: c.ni, oiDuePaise: c.oi, piDuePaise: c.pi, feeDuePaise: c.fee });

/** The plan, with its refusals turned into client errors that name the request field. */
function planOrExplain(terms: StoredParams, demands: Demand[], request: Parameters<typeof planRestructure>[2]): RestructurePlan {
  try {
    return planRestructure(terms, demands.map(toExisting), request);
  } catch (error) {
    if (error instanceof RestructureError) {
      if (error.field === 'loan') throw new DomainError('STATE_CONFLICT', `loan: ${error.message}`, { loan: [error.message] });
      throw invalidField(error.field, error.message);
    }
    if (error instanceof TermsError) throw new DomainError('STATE_CONFLICT', `${error.field}: ${error.message}`, { [error.field]: [error.message] });
    throw error;
  }
}

export class RestructureService {
  constructor(private readonly db: Database, private readonly lineDetails: LineDetailsService) {}

  restructure(by: Actor, request: RestructureRequest): Promise<RestructureResult> {
    return this.db.transaction(async () => {
      const loans = new LoansRepository(this.db, by.companyId);
      const found = await loans.findById(request.loan);
      if (!found) throw new DomainError('NOT_FOUND', 'Loan not found.', { loan: ['not found'] });
      await new AccountsRepository(this.db, by.companyId).lockForUpdate(found.accountId);
      // Read again under the lock: a payment or another restructure may have landed meanwhile.
      const loan = (await loans.findById(request.loan))!;
      const terms = paramsFromJson(loan.terms);
      const fromDate = await this.checkedFromDate(by.companyId, loan, terms, request.from_date);
      const oldRate = this.rateOf(terms);
      const live = (await loans.demandsOf(loan.id)).filter((d) => d.status !== 'cancelled');
      const plan = planOrExplain(terms, live, {
        fromDate, emiCount: request.emi_count, rate: request.rate ?? oldRate,
        frequency: request.emi_frequency ?? terms.emi_frequency ?? 'monthly', treatment: request.overdue_treatment,
      });
      const version = loan.scheduleVersion + 1;
      const before = await new RestructuresRepository(this.db, by.companyId).moneyOf(loan.id);
      await this.retireOldSchedule(by.companyId, plan, live);
      const created = await this.createDemands(by.companyId, loan, plan, version, fromDate);
      if (plan.capitalised > 0n) await this.useLine(by.companyId, loan, plan.capitalised);
      const updated = await loans.update(loan.id, {
        terms: paramsToJson(plan.terms) as object, scheduleVersion: version, maturityDate: dateToColumn(plan.installments.at(-1)!.dueDate),
      });
      await this.recheck(by.companyId, loan.id, before, plan.capitalised);
      const restructure = await this.record(by, loan, terms, plan, { fromDate, version, oldRate, separateId: created.separateId, remarks: request.remarks });
      return { loan: updated, restructure, demands: created.demands };
    });
  }

  /**
   * The plan's promises re-checked from the rows just written: principal outstanding grew by
   * exactly what was capitalised, and the loan's paid and waived totals did not move (no paid or
   * waived column is ever written here). A failure is a bug: the transaction rolls back with a 500.
   */
  private async recheck(companyId: string, loanId: string, before: { principal: bigint; settled: bigint }, capitalised: bigint): Promise<void> {
    const after = await new RestructuresRepository(this.db, companyId).moneyOf(loanId);
    if (after.principal !== before.principal + capitalised || after.settled !== before.settled) {
      throw new DomainError('INVARIANT_VIOLATION', 'Restructure would not conserve principal or settled amounts.', undefined, {
        loan: loanId, before: { principal: String(before.principal), settled: String(before.settled) },
        after: { principal: String(after.principal), settled: String(after.settled) }, capitalised: String(capitalised),
      });
    }
  }

  /**
   * Only a disbursed, open EMI loan can be restructured (409 otherwise). The from date defaults to
   * today (IST) and may be neither after today (the plan needs what is owed by then, which is not
   * known for a future date) nor before the disbursement or the loan's last restructure (400).
   */
  private async checkedFromDate(companyId: string, loan: Loan, terms: StoredParams, requested: BusinessDate | undefined): Promise<BusinessDate> {
    if (!OPEN_STATUSES.includes(loan.status) || !loan.disbursementDate) {
      throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} is ${loan.status}; only a disbursed, open loan can be restructured.`, { loan: [`loan is ${loan.status}`] });
    }
    if (loanKindOf(terms) === 'bullet') {
      throw new DomainError('STATE_CONFLICT', `Loan ${loan.refId} is a bullet loan; only EMI loans can be restructured.`, { loan: ['bullet loans cannot be restructured'] });
    }
    const today = istDateOf(new Date());
    const fromDate = requested ?? today;
    const disbursed = columnToDate(loan.disbursementDate);
    if (fromDate > today) throw invalidField('from_date', `must not be after today (${today})`);
    if (fromDate < disbursed) throw invalidField('from_date', `must not be before the disbursement date (${disbursed})`);
    const last = await new RestructuresRepository(this.db, companyId).latestFor(loan.id);
    if (last && fromDate < columnToDate(last.fromDate)) {
      throw invalidField('from_date', `must not be before the from date of the loan's last restructure (${columnToDate(last.fromDate)})`);
    }
    return fromDate;
  }

  private rateOf(terms: StoredParams): string {
    try {
      return currentRate(terms);
    } catch (error) {
      if (error instanceof RestructureError) throw invalidField(error.field, error.message);
      throw error;
    }
  }

  /** Cancels the untouched demands and trims the settled-in-part ones to what was settled. */
  private async retireOldSchedule(companyId: string, plan: RestructurePlan, live: Demand[]): Promise<void> {
    const repo = new RestructuresRepository(this.db, companyId);
    if (plan.cancel.length > 0) await repo.cancelDemands(plan.cancel);
    for (const t of plan.trim) {
      // Nothing is left to pay on a trimmed demand: it is paid, or waived if nothing was paid.
      const demand = live.find((d) => d.id === t.id)!;
      const paid = demand.pPaidPaise + demand.niPaidPaise + demand.oiPaidPaise + demand.piPaidPaise + demand.feePaidPaise;
      await repo.trimDemand(t.id, t.due, paid > 0n ? 'paid' : 'waived');
    }
  }

  private async createDemands(companyId: string, loan: Loan, plan: RestructurePlan, version: number, fromDate: BusinessDate) {
    const today = istDateOf(new Date());
    const row = (d: NewDemand, kind: string) => ({
      id: newId(), accountId: loan.accountId, loanId: loan.id, kind, installmentNumber: d.number, scheduleVersion: version,
      periodStart: d.periodStart ? dateToColumn(d.periodStart) : null, dueDate: dateToColumn(d.dueDate),
      status: d.dueDate <= today ? 'due' : 'upcoming', ...dueColumns(d.due),
    });
    const rows = plan.installments.map((i) => row(i, 'emi'));
    const separate = plan.separate ? row({ ...plan.separate, dueDate: fromDate }, ARREARS_KIND) : null;
    await new LoansRepository(this.db, companyId).createDemands(separate ? [...rows, separate] : rows);
    const created = await new RestructuresRepository(this.db, companyId).demandsById([...rows.map((r) => r.id), ...(separate ? [separate.id] : [])]);
    // Installments in order, then the separate demand (due on the from date, so it would sort first).
    const demands = [...created.filter((d) => d.id !== separate?.id), ...created.filter((d) => d.id === separate?.id)];
    return { demands, separateId: separate?.id ?? null };
  }

  /** Capitalised arrears are principal now: the line's used amount grows with them (as Refresh Limit would compute). */
  private async useLine(companyId: string, loan: Loan, amount: bigint): Promise<void> {
    const lines = new LineDetailsRepository(this.db, companyId);
    const line = await lines.findByType(loan.accountId, loan.lineType);
    if (!line) throw new DomainError('STATE_CONFLICT', `The account has no ${loan.lineType} line to carry capitalised arrears.`, { overdue_treatment: ['no line for this loan'] });
    try {
      await lines.update(line.id, limitColumns(use(limitOf(line), amount)));
    } catch (error) {
      if (!(error instanceof LimitError)) throw error;
      const message = `capitalising ${amount} paise ${error.message}; choose separate_demand or first_emi, or raise the line`;
      throw new DomainError('STATE_CONFLICT', `overdue_treatment: ${message}`, { overdue_treatment: [message] });
    }
    await this.lineDetails.recomputeAccount(companyId, loan.accountId);
  }

  private async record(by: Actor, loan: Loan, oldTerms: StoredParams, plan: RestructurePlan,
    x: { fromDate: BusinessDate; version: number; oldRate: string; separateId: string | null; remarks?: string }): Promise<Restructure> {
    const restructure = await new RestructuresRepository(this.db, by.companyId).create({
      id: newId(), accountId: loan.accountId, loanId: loan.id, fromDate: dateToColumn(x.fromDate),
      fromScheduleVersion: loan.scheduleVersion, toScheduleVersion: x.version, overdueTreatment: plan.treatment,
      oldRate: x.oldRate, newRate: loanKindOf(plan.terms) === 'flat' ? plan.terms.flat_roi_value! : plan.terms.roi_value.at(-1)!.value,
      oldEmiCount: oldTerms.emi_count, newEmiCount: plan.terms.emi_count,
      oldEmiFrequency: oldTerms.emi_frequency ?? 'monthly', newEmiFrequency: plan.terms.emi_frequency ?? 'monthly',
      oldMaturityDate: loan.maturityDate, newMaturityDate: dateToColumn(plan.installments.at(-1)!.dueDate),
      principalPaise: plan.outstandingPrincipal, capitalisedPaise: plan.capitalised,
      niPaise: plan.arrears.ni, oiPaise: plan.arrears.oi, piPaise: plan.arrears.pi, feePaise: plan.arrears.fee,
      accruedInterestPaise: plan.accruedInterest, droppedInterestPaise: plan.droppedInterest, separateDemandId: x.separateId,
      oldTerms: paramsToJson(oldTerms) as object,
      demandChanges: { cancelled: plan.cancel, trimmed: plan.trim.map((t) => ({ id: t.id, before: jsonComponents(t.before) })) },
      remarks: x.remarks ?? null, createdBy: by.actor,
    });
    await writeAudit(this.db, {
      companyId: by.companyId, entityType: 'loan', entityId: loan.id, action: 'restructured', actor: by.actor,
      data: {
        restructure: restructure.id, from_date: x.fromDate, schedule_version: x.version, treatment: restructure.overdueTreatment,
        principal_paise: plan.outstandingPrincipal, capitalised_paise: plan.capitalised, arrears_paise: sumComponents(plan.arrears),
        cancelled: plan.cancel.length, trimmed: plan.trim.length, created: plan.installments.length + (x.separateId ? 1 : 0),
      },
    });
    return restructure;
  }
}

/** JSON cannot hold bigint; paise in the history JSON are decimal strings, as in audit rows. */
const jsonComponents = (c: Components) => ({ p: String(c.p), ni: String(c.ni), oi: String(c.oi), pi: String(c.pi), fee: String(c.fee) });
