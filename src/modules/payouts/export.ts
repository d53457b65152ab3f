// Export Payout for Bank: a bulk-transfer CSV of requested payouts. Exporting marks each payout
// `is_downloaded` and `processing` (it is now at the bank) in the same transaction that selects
// it under a row lock, so two exports never carry the same payout; a payout already exported is
// exported again only when asked (`include_downloaded`), with the same bank reference.
import { stringify } from 'csv-stringify/sync';
import type { Database } from '../../db/database.js';
import { formatRupees } from '../../domain/money.js';
import { istDateOf } from '../../domain/time.js';
import type { Payout } from '../../generated/prisma/client.js';
import { writeAudit } from '../audit/audit.js';
import type { Actor } from '../users/service.js';
import { bankReferenceOf, type PayoutsService } from './service.js';

export const EXPORT_MAX = 1000;
/** How many payouts left out for want of a beneficiary the response names (a header must stay small). */
const SKIPPED_SHOWN = 20;

export interface ExportRequest {
  ids?: string[];
  include_downloaded?: boolean;
  limit?: number;
}

export interface ExportResult {
  csv: string;
  exported: Payout[];
  /** Payouts selected but left out, with why (no beneficiary bank account yet). */
  skipped: { id: string; ref_id: string; reason: string }[];
}

const COLUMNS = ['payment_ref', 'bank_reference', 'value_date', 'amount', 'beneficiary_name', 'beneficiary_account_no', 'beneficiary_ifsc', 'payout_to', 'type', 'narration'];

export class PayoutExporter {
  constructor(private readonly db: Database, private readonly payouts: PayoutsService) {}

  export(by: Actor, request: ExportRequest): Promise<ExportResult> {
    return this.db.transaction(async () => {
      const repo = this.payouts.repo(by.companyId);
      const selected = await repo.lockExportable(request.ids, request.include_downloaded ?? false, request.limit ?? EXPORT_MAX);
      const exported: Payout[] = [];
      const skipped: ExportResult['skipped'] = [];
      const now = new Date();
      for (const p of await repo.withoutBeneficiary(request.ids, request.include_downloaded ?? false, SKIPPED_SHOWN)) {
        skipped.push({ id: p.id, ref_id: p.refId, reason: 'no beneficiary bank account (credit_bank)' });
      }
      for (const payout of selected) {
        const processing = payout.status === 'requested' ? await this.payouts.toProcessing(by, payout, repo) : payout;
        const attempt = (await repo.currentAttempt(processing))!;
        await repo.updateAttempt(attempt.id, { exportedAt: now });
        exported.push(await repo.update(payout.id, { isDownloaded: true, exportedAt: now }));
      }
      const today = istDateOf(now);
      const rows = exported.map((p) => [
        p.refId, bankReferenceOf(p, p.attempt), today, formatRupees(p.amountPaise), p.creditAccountName ?? '', p.creditAccountNo, p.creditIfsc,
        p.payoutTo, p.type, `${p.type} ${p.refId}`.slice(0, 30),
      ]);
      // Names come from users: a leading = + - @ would run as a formula in a spreadsheet.
      const csv = stringify(rows, { header: true, columns: COLUMNS, escape_formulas: true });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'company', entityId: by.companyId, action: 'payouts_exported', actor: by.actor, data: { count: exported.length, ids: exported.map((p) => p.id) } });
      return { csv, exported, skipped };
    });
  }
}
