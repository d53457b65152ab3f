// NACH auto-debit: the pure rules behind mandates, presentations and the bank's status file.
// A presentation asks the bank to debit a borrower's account under a mandate (identified by its
// UMRN) for what the account owes on the presentation date; the bank's status file then reports
// each presentation as a success (money received: the record is processed and allocated) or a
// bounce (the record fails and a bounce charge may follow).
import type { BusinessDate } from './time.js';

/** A Unique Mandate Reference Number as NPCI issues it: 20 uppercase letters and digits. */
export const UMRN_PATTERN = /^[A-Z0-9]{20}$/;

export const MANDATE_STATUSES = ['active', 'cancelled'] as const;
export type MandateStatus = (typeof MANDATE_STATUSES)[number];

export type ReportedOutcome = 'success' | 'bounce';

/** What one row of a status file does to its presentation. */
export type StatusAction =
  | { kind: 'process' }
  | { kind: 'fail' }
  | { kind: 'unchanged' }
  | { kind: 'conflict'; message: string };

/**
 * Decides a status-file row from the presentation's current status. Rows that report what has
 * already happened change nothing (a replayed file is harmless); rows that contradict it are
 * conflicts for an operator, never applied over the earlier outcome.
 */
export function statusAction(recordStatus: string, reported: ReportedOutcome, utr: { record: string | null; reported?: string }): StatusAction {
  if (recordStatus === 'pending') return reported === 'success' ? { kind: 'process' } : { kind: 'fail' };
  if (recordStatus === 'processed' && reported === 'success') {
    if (utr.reported !== undefined && utr.reported !== utr.record) {
      return { kind: 'conflict', message: `already processed with UTR ${utr.record ?? '(none)'}, not ${utr.reported}` };
    }
    return { kind: 'unchanged' };
  }
  if (recordStatus === 'failed' && reported === 'bounce') return { kind: 'unchanged' };
  if (recordStatus === 'processed') return { kind: 'conflict', message: 'already processed (a success was reported earlier); a bounce now needs a reversal, not a status row' };
  if (recordStatus === 'failed') return { kind: 'conflict', message: 'already failed (a bounce was reported earlier); present it again instead' };
  return { kind: 'conflict', message: `is ${recordStatus}; only a pending presentation takes a status` };
}

/** The amount to present: what is outstanding, capped at the mandate's maximum when it has one. */
export function presentationAmount(outstanding: bigint, maxAmount: bigint | null): bigint {
  if (outstanding < 0n) throw new RangeError('outstanding must not be negative');
  return maxAmount !== null && maxAmount < outstanding ? maxAmount : outstanding;
}

export type SkipReason = 'no_active_mandate' | 'nothing_due' | 'already_presented';

/**
 * Why an account is not presented, or null when it is. `unpresented` counts the demands due with
 * something outstanding that no pending presentation holds; `pending` those that one does.
 */
export function skipReason(account: { hasMandate: boolean; unpresented: number; pending: number }): SkipReason | null {
  if (!account.hasMandate) return 'no_active_mandate';
  if (account.unpresented > 0) return null;
  return account.pending > 0 ? 'already_presented' : 'nothing_due';
}

/** The UTR a success row gets when the bank's file carries none: unique, because ref ids are. */
export const defaultNachUtr = (refId: string): string => `NACH${refId}`;

