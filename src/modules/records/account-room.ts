// What records an account may hold, and the account checks every way money comes in shares:
// - the records an account holds (pending, awaiting approval, processed) may total at most
//   MAX_RUPEES, as an account's dues (fees) and lines may: every sum of them (excess balance,
//   reserved, refundable) then stays exact on the wire;
// - a closed account takes no new records and processes none.
// Callers hold the account's row lock, so the check and the write after it are one step.
import type { Database } from '../../db/database.js';
import { MAX_RUPEES } from '../../domain/money.js';
import { DomainError } from '../../errors.js';
import type { Account } from '../../generated/prisma/client.js';

/** Record statuses whose amounts an account holds (money that is, or may become, applied or excess). */
const HELD_STATUSES = ['pending', 'approval_pending', 'processed'];
export const MAX_ACCOUNT_RECORDS_PAISE = BigInt(MAX_RUPEES) * 100n;

/** Sum of the amounts of the records each account holds. */
export async function heldRecordTotals(db: Database, companyId: string, accountIds: readonly string[]): Promise<Map<string, bigint>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db.client.$queryRaw<{ account_id: string; total: bigint }[]>`
    SELECT account_id::text, COALESCE(SUM(amount_paise), 0)::bigint AS total FROM records
    WHERE company_id = ${companyId}::uuid AND account_id = ANY(${[...new Set(accountIds)]}::uuid[]) AND status = ANY(${HELD_STATUSES})
    GROUP BY account_id`;
  return new Map(rows.map((r) => [r.account_id, r.total]));
}

/** The message a record that would take the account's records past the cap gets (409 naming `field`). */
export const tooMuchForAccount = (field = 'amount') => new DomainError('STATE_CONFLICT',
  `${field}: the account's records would exceed ${MAX_RUPEES} rupees in all`, { [field]: [`the account's records would exceed ${MAX_RUPEES} rupees in all`] });

/** 409 naming `amount` when adding `amount` would take the account's records past MAX_RUPEES. */
export async function assertRecordRoom(db: Database, companyId: string, accountId: string, amount: bigint): Promise<void> {
  const held = (await heldRecordTotals(db, companyId, [accountId])).get(accountId) ?? 0n;
  if (held + amount > MAX_ACCOUNT_RECORDS_PAISE) throw tooMuchForAccount();
}

/** A closed account takes no money in: 409 naming `account`. */
export function assertAccountOpenForRecords(account: Pick<Account, 'status'>, doing: string): void {
  if (account.status === 'closed') {
    throw new DomainError('STATE_CONFLICT', `The account is closed; it cannot ${doing}.`, { account: ['account is closed'] });
  }
}
