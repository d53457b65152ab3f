// Every state change of a tenant object writes an audit row in the same transaction as the
// change (the caller's transaction, through db.client).
import type { Database } from '../../db/database.js';

export interface AuditEntry {
  companyId: string;
  entityType: string;
  entityId: string;
  action: string;
  actor: string | null;
  data?: Record<string, unknown>;
}

/** JSON cannot hold bigint; audit data keeps paise as decimal strings. */
function jsonSafe(data: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(data, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)));
}

export async function writeAudit(db: Database, entry: AuditEntry): Promise<void> {
  await db.client.auditEvent.create({
    data: {
      companyId: entry.companyId,
      entityType: entry.entityType,
      entityId: entry.entityId,
      action: entry.action,
      actor: entry.actor,
      data: jsonSafe(entry.data ?? {}) as object,
    },
  });
}

/** Many audit rows in one insert (bulk operations). */
export async function writeAudits(db: Database, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.client.auditEvent.createMany({
    data: entries.map((e) => ({ companyId: e.companyId, entityType: e.entityType, entityId: e.entityId, action: e.action, actor: e.actor, data: jsonSafe(e.data ?? {}) as object })),
  });
}
