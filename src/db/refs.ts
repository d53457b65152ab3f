// Human references (LOAN0000001, PAY0000001), unique per company, from a counter row updated in
// the caller's transaction: the row lock serialises concurrent takers and a rolled-back
// transaction gives its number back, so there are no gaps and no retry loops.
import type { Database } from './database.js';
import { refsOfBlock } from '../domain/refs.js';

export async function nextRef(db: Database, companyId: string, kind: string, prefix: string): Promise<string> {
  const rows = await db.client.$queryRaw<{ value: bigint }[]>`
    INSERT INTO ref_counters (company_id, kind, value) VALUES (${companyId}::uuid, ${kind}, 1)
    ON CONFLICT (company_id, kind) DO UPDATE SET value = ref_counters.value + 1
    RETURNING value`;
  return `${prefix}${rows[0]!.value.toString().padStart(7, '0')}`;
}

/** `count` consecutive references in one counter update (bulk creation), in order. */
export async function nextRefs(db: Database, companyId: string, kind: string, prefix: string, count: number): Promise<string[]> {
  if (count < 1) return [];
  const rows = await db.client.$queryRaw<{ value: bigint }[]>`
    INSERT INTO ref_counters (company_id, kind, value) VALUES (${companyId}::uuid, ${kind}, ${count})
    ON CONFLICT (company_id, kind) DO UPDATE SET value = ref_counters.value + ${count}
    RETURNING value`;
  return refsOfBlock(prefix, rows[0]!.value, count);
}
