// A credit limit (a line detail) as a value: approved = available + used + blocked, always, and
// nothing negative. Every change goes through one of these functions, which refuse a change
// that would break the invariant instead of clamping it.

export interface LineLimit {
  approved: bigint;
  available: bigint;
  used: bigint;
  blocked: bigint;
}

export type LimitErrorReason =
  | 'NEGATIVE_AMOUNT'
  | 'INSUFFICIENT_AVAILABLE'
  | 'INSUFFICIENT_BLOCKED'
  | 'INSUFFICIENT_USED'
  | 'APPROVED_BELOW_COMMITTED';

export class LimitError extends Error {
  override name = 'LimitError';
  constructor(readonly reason: LimitErrorReason, message: string) {
    super(message);
  }
}

export function holdsInvariant(l: LineLimit): boolean {
  return l.approved === l.available + l.used + l.blocked && l.approved >= 0n && l.available >= 0n && l.used >= 0n && l.blocked >= 0n;
}

function checked(l: LineLimit): LineLimit {
  if (!holdsInvariant(l)) throw new Error(`limit invariant broken: ${JSON.stringify(l, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return l;
}

function positive(amount: bigint): void {
  if (amount < 0n) throw new LimitError('NEGATIVE_AMOUNT', 'amount must not be negative');
}

export function openLine(approved: bigint): LineLimit {
  positive(approved);
  return checked({ approved, available: approved, used: 0n, blocked: 0n });
}

/** Changes the approved amount; it may not fall below what is used or blocked. */
export function setApproved(l: LineLimit, approved: bigint): LineLimit {
  positive(approved);
  const committed = l.used + l.blocked;
  if (approved < committed) {
    throw new LimitError('APPROVED_BELOW_COMMITTED', `approved amount cannot be below the used and blocked amount (${committed} paise)`);
  }
  return checked({ ...l, approved, available: approved - committed });
}

/** Reserves part of the available limit (a topup or disbursement in flight). */
export function block(l: LineLimit, amount: bigint): LineLimit {
  positive(amount);
  if (amount > l.available) throw new LimitError('INSUFFICIENT_AVAILABLE', `amount exceeds the available limit (${l.available} paise)`);
  return checked({ ...l, available: l.available - amount, blocked: l.blocked + amount });
}

/** Returns a reservation to the available limit (the topup failed or was unscheduled). */
export function unblock(l: LineLimit, amount: bigint): LineLimit {
  positive(amount);
  if (amount > l.blocked) throw new LimitError('INSUFFICIENT_BLOCKED', `amount exceeds the blocked amount (${l.blocked} paise)`);
  return checked({ ...l, available: l.available + amount, blocked: l.blocked - amount });
}

/** Turns a reservation into use (the disbursement succeeded). */
export function consumeBlocked(l: LineLimit, amount: bigint): LineLimit {
  positive(amount);
  if (amount > l.blocked) throw new LimitError('INSUFFICIENT_BLOCKED', `amount exceeds the blocked amount (${l.blocked} paise)`);
  return checked({ ...l, blocked: l.blocked - amount, used: l.used + amount });
}

/** Uses available limit directly. */
export function use(l: LineLimit, amount: bigint): LineLimit {
  positive(amount);
  if (amount > l.available) throw new LimitError('INSUFFICIENT_AVAILABLE', `amount exceeds the available limit (${l.available} paise)`);
  return checked({ ...l, available: l.available - amount, used: l.used + amount });
}

/** Gives used limit back (principal repaid). */
export function release(l: LineLimit, amount: bigint): LineLimit {
  positive(amount);
  if (amount > l.used) throw new LimitError('INSUFFICIENT_USED', `amount exceeds the used amount (${l.used} paise)`);
  return checked({ ...l, used: l.used - amount, available: l.available + amount });
}

/** The account-level figure: the sum of its active lines. */
export function sumLines(lines: readonly LineLimit[]): LineLimit {
  return checked(lines.reduce<LineLimit>(
    (acc, l) => ({ approved: acc.approved + l.approved, available: acc.available + l.available, used: acc.used + l.used, blocked: acc.blocked + l.blocked }),
    { approved: 0n, available: 0n, used: 0n, blocked: 0n },
  ));
}
