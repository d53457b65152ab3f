import { z } from 'zod';
import type { Topup } from '../../generated/prisma/client.js';
import { TOPUP_CHECKS, type TopupCheck } from '../../domain/topup-checks.js';
import { businessDateOutput, dateColumnToWire, epochSeconds, rupeesOutput, toWireRupees, toWireTime, toWireTimeOrNull } from '../../http/wire.js';
import type { GroupView } from './groups.js';
import type { LineAmountCheck } from './service.js';

const CheckOut = z.object({
  name: z.enum(TOPUP_CHECKS), result: z.enum(['passed', 'failed']), reason: z.string(),
}).meta({ id: 'TopupCheck' });

export const TopupOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, ref_id: z.string(), account: z.string(), topup_group: z.string().nullable(),
  status: z.string(), amount: rupeesOutput, blocked_amount: rupeesOutput.meta({ description: 'Limit this topup itself holds while it waits (0 once its loan holds it)' }),
  line_type: z.string(), loan_data: z.string().nullable(), anchor_id: z.string().nullable(),
  invoice_number: z.string().nullable(), invoice_date: businessDateOutput.nullable(), invoice_amount: rupeesOutput.nullable(),
  due_date: businessDateOutput.nullable(), disbursement_date: businessDateOutput.nullable().meta({ description: 'The scheduled date; the day it was paid out once paid' }),
  irn: z.string().nullable(), seller_gstin: z.string().nullable(), buyer_gstin: z.string().nullable(),
  invoice: z.record(z.string(), z.unknown()).nullable().meta({ description: 'The parsed e-invoice (INV-01), as sent' }),
  checks: z.array(CheckOut), checks_passed: z.boolean(), checked_at: epochSeconds.nullable(),
  loan: z.string().nullable(), payout: z.string().nullable(),
  credit_bank: z.object({ account_no: z.string(), ifsc: z.string(), account_holder_name: z.string() }).nullable(),
  payout_to: z.string(), remarks: z.string().nullable(), created_by: z.string().nullable(), company: z.string(),
}).meta({ id: 'Topup' });

export function topupToWire(t: Topup): z.infer<typeof TopupOut> {
  const checks = (t.checks ?? []) as unknown as TopupCheck[];
  return {
    id: t.id, created_at: toWireTime(t.createdAt), updated_at: toWireTime(t.updatedAt), ref_id: t.refId, account: t.accountId, topup_group: t.topupGroupId,
    status: t.status, amount: toWireRupees(t.amountPaise), blocked_amount: toWireRupees(t.blockedPaise), line_type: t.lineType, loan_data: t.loanDataId,
    anchor_id: t.anchorId, invoice_number: t.invoiceNumber, invoice_date: dateColumnToWire(t.invoiceDate),
    invoice_amount: t.invoiceAmountPaise === null ? null : toWireRupees(t.invoiceAmountPaise), due_date: dateColumnToWire(t.dueDate),
    disbursement_date: dateColumnToWire(t.disbursementDate), irn: t.irn, seller_gstin: t.sellerGstin, buyer_gstin: t.buyerGstin,
    invoice: (t.invoice ?? null) as Record<string, unknown> | null, checks, checks_passed: checks.length > 0 && checks.every((c) => c.result === 'passed'),
    checked_at: toWireTimeOrNull(t.checkedAt), loan: t.loanId, payout: t.payoutId,
    credit_bank: t.creditAccountNo ? { account_no: t.creditAccountNo, ifsc: t.creditIfsc ?? '', account_holder_name: t.creditAccountName ?? '' } : null,
    payout_to: t.payoutTo, remarks: t.remarks, created_by: t.createdBy, company: t.companyId,
  };
}

export const LineAmountOut = z.object({
  account: z.string(), line_type: z.string(), amount: rupeesOutput, available_amount: rupeesOutput, fits: z.boolean(), shortfall: rupeesOutput,
  line_status: z.string(), account_status: z.string(),
}).meta({ id: 'LineAmountCheck' });

export const lineAmountToWire = (c: LineAmountCheck): z.infer<typeof LineAmountOut> => ({
  account: c.account, line_type: c.lineType, amount: toWireRupees(c.amount), available_amount: toWireRupees(c.available), fits: c.fits,
  shortfall: toWireRupees(c.shortfall), line_status: c.lineStatus, account_status: c.accountStatus,
});

export const TopupGroupOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, ref_id: z.string(), name: z.string(), status: z.string(),
  remarks: z.string().nullable(), approved_by: z.string().nullable(), approved_at: epochSeconds.nullable(), created_by: z.string().nullable(), company: z.string(),
  topups_count: z.number().int(), total_amount: rupeesOutput,
  waiting_count: z.number().int().meta({ description: 'Topups holding their limit until the group is approved' }), waiting_amount: rupeesOutput,
  status_counts: z.record(z.string(), z.number().int()),
}).meta({ id: 'TopupGroup' });

export const groupToWire = ({ group: g, totals }: GroupView): z.infer<typeof TopupGroupOut> => ({
  id: g.id, created_at: toWireTime(g.createdAt), updated_at: toWireTime(g.updatedAt), ref_id: g.refId, name: g.name, status: g.status,
  remarks: g.remarks, approved_by: g.approvedBy, approved_at: toWireTimeOrNull(g.approvedAt), created_by: g.createdBy, company: g.companyId,
  topups_count: totals.count, total_amount: toWireRupees(totals.amount), waiting_count: totals.waitingCount, waiting_amount: toWireRupees(totals.waitingAmount),
  status_counts: totals.byStatus,
});
