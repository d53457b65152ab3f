// How much a loan may still be adjusted by (cashback, holdback), and the check that an
// adjustment fits: used when one is initiated (AdjustmentsService) and again when a checker
// approves it (RecordsService.approve), since the loan may have been repaid, closed or adjusted
// by others in between. Kept apart from both services so neither imports the other. Callers hold
// the account's row lock, so the check and what follows it are one step.
import type { Database } from '../../db/database.js';
import { totalOutstanding } from '../../db/demand-sql.js';
import { RATE_SCALE, rateToScaled } from '../../domain/interest.js';
import { paiseToRupees, roundDiv } from '../../domain/money.js';
import { DomainError } from '../../errors.js';
import { Prisma, type Loan } from '../../generated/prisma/client.js';
import { paramsFromJson } from '../loan-params/schemas.js';
import { OPEN_LOAN_STATUSES } from './ledger.js';

export const ADJUSTMENT_TYPES = ['cashback', 'holdback'] as const;
export type AdjustmentType = (typeof ADJUSTMENT_TYPES)[number];
/** Statuses in which an adjustment still holds (or has used) room on its loan. */
const LIVE_ADJUSTMENT_STATUSES = ['pending', 'approval_pending', 'processed'];

/** What an adjustment of one type may still take on a loan, and the figures it comes from (paise). */
export interface AdjustmentRoom {
  available: bigint;
  /** holdback_rate% of the disbursed principal; null for cashback (the params carry no amount). */
  typeCap: bigint | null;
  /** Holdback already adjusted or awaiting approval on the loan. */
  typeUsed: bigint;
  outstanding: bigint;
  /** Adjustments on the loan not yet settled: awaiting approval, or approved and kept as excess. */
  inFlight: bigint;
}

const rupees = (paise: bigint) => `Rs ${paiseToRupees(paise)}`;
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * What an adjustment of `type` may still take on the loan (docs/decisions.md, Adjustments): the
 * type must be enabled in the loan's params snapshot; a holdback is capped at holdback_rate% of
 * the disbursed principal less holdback already adjusted or awaiting approval; and no adjustment
 * may exceed what the loan still owes less adjustments on it not yet settled. `excluding` leaves
 * one adjustment record out of those figures (the one being approved).
 */
export async function adjustmentRoom(db: Database, companyId: string, loan: Loan, type: AdjustmentType, excluding: string | null = null): Promise<AdjustmentRoom> {
  const terms = paramsFromJson(loan.terms);
  if (!(type === 'cashback' ? terms.cashback_is_enabled : terms.holdback_is_enabled)) {
    throw new DomainError('STATE_CONFLICT', `${type} is not enabled in the params of loan ${loan.refId}.`, { type: [`${type} is not enabled for this loan`] });
  }
  const outstanding = await loanOutstanding(db, companyId, loan.id);
  const use = await adjustmentUse(db, companyId, loan.id, excluding);
  // One rounding point: the cap rounds half up to the paisa, like every other percentage of principal.
  const typeCap = type === 'holdback' ? roundDiv(loan.disbursedPaise * rateToScaled(terms.holdback_rate), 100n * RATE_SCALE) : null;
  const byLoan = outstanding - use.inFlight;
  const byType = typeCap === null ? byLoan : typeCap - use.holdbackUsed;
  const available = min(byLoan, byType);
  return { available: available > 0n ? available : 0n, typeCap, typeUsed: type === 'holdback' ? use.holdbackUsed : 0n, outstanding, inFlight: use.inFlight };
}

/**
 * An adjustment of `amount` fits the loan now: the loan is open (active, overdue, NPA) and the
 * room holds it; 409 otherwise. At initiation a loan that is not open is named as `loan`; when a
 * checker approves (`approving`: the record being approved, left out of the room's figures) the
 * answer names `amount` as well, since it is the amount that no longer fits.
 */
export async function assertAdjustable(
  db: Database, companyId: string, loan: Loan, type: AdjustmentType, amount: bigint, approving: string | null = null,
): Promise<AdjustmentRoom> {
  assertLoanOpen(loan, type, approving);
  const room = await adjustmentRoom(db, companyId, loan, type, approving);
  if (amount > room.available) {
    throw new DomainError('STATE_CONFLICT', `${type} of ${rupees(amount)} exceeds what loan ${loan.refId} can be adjusted by: ${rupees(room.available)}.`,
      { amount: [`exceeds the ${type} available on this loan (${rupees(room.available)})`] });
  }
  return room;
}

/** The loan takes adjustments only while open (active, overdue, NPA); see assertAdjustable for the names. */
export function assertLoanOpen(loan: Loan, type: AdjustmentType, approving: string | null = null): void {
  if (OPEN_LOAN_STATUSES.includes(loan.status)) return;
  const message = approving
    ? `Loan ${loan.refId} is ${loan.status}; the ${type} can no longer be applied to it: reject it.`
    : `Loan ${loan.refId} is ${loan.status}; only an active, overdue or NPA loan can be adjusted.`;
  throw new DomainError('STATE_CONFLICT', message, {
    loan: [`is ${loan.status}`], ...(approving ? { amount: [`loan ${loan.refId} is ${loan.status}: nothing can be adjusted on it`] } : {}),
  });
}

/** Everything the loan still owes on its live demands, due or not. */
async function loanOutstanding(db: Database, companyId: string, loanId: string): Promise<bigint> {
  const [row] = await db.client.$queryRaw<{ total: bigint }[]>`
    SELECT COALESCE(SUM(${totalOutstanding}), 0)::bigint AS total FROM demands
    WHERE company_id = ${companyId}::uuid AND loan_id = ${loanId}::uuid AND status <> 'cancelled'`;
  return row!.total;
}

/** Holdback used on the loan, and adjustment credit given to it but not yet settled. */
async function adjustmentUse(db: Database, companyId: string, loanId: string, excluding: string | null): Promise<{ holdbackUsed: bigint; inFlight: bigint }> {
  const [row] = await db.client.$queryRaw<{ holdback_used: bigint; in_flight: bigint }[]>`
    SELECT COALESCE(SUM(amount_paise) FILTER (WHERE type = 'holdback' AND holdback_loan_id = ${loanId}::uuid), 0)::bigint AS holdback_used,
           COALESCE(SUM(CASE WHEN status = 'processed' THEN remaining_paise ELSE amount_paise END), 0)::bigint AS in_flight
    FROM records
    WHERE company_id = ${companyId}::uuid AND type IN ('cashback', 'holdback') AND status = ANY(${LIVE_ADJUSTMENT_STATUSES})
      AND (cashback_loan_id = ${loanId}::uuid OR holdback_loan_id = ${loanId}::uuid)
      ${excluding ? Prisma.sql`AND id <> ${excluding}::uuid` : Prisma.empty}`;
  return { holdbackUsed: row!.holdback_used, inFlight: row!.in_flight };
}
