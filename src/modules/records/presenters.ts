import { z } from 'zod';
import type { CollectionBank, Record as LmsRecord, Settlement } from '../../generated/prisma/client.js';
import { businessDateOutput, dateColumnToWire, epochSeconds, rupeesOutput, toWireRupees, toWireTime, toWireTimeOrNull } from '../../http/wire.js';
import { CollectionBankOut, collectionBankToWire } from '../collection-banks/routes.js';

/** A record in Crego's shape (reference section 2, Mark Processed), plus this server's own fields after `loans`. */
export const RecordOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, type: z.string(), ref_id: z.string(), index: z.number().int(),
  numeric_ref_id: z.number().int(), received_amount: rupeesOutput, tds_amount: rupeesOutput, amount: rupeesOutput, remaining_amount: rupeesOutput,
  pg_service_id: z.string().nullable(), utr: z.string().nullable(), settlement_utr: z.string().nullable(), settlement_order: z.string(),
  component_order: z.string(), uploaded_by: z.string().nullable(), uploaded_by_id: z.string().nullable(), date: epochSeconds,
  settled_at: z.number().int().nullable().meta({ description: 'Epoch seconds (integer)' }), bank_date: businessDateOutput.nullable(),
  remark: z.string().nullable(), status: z.string(), payment_mode: z.string().nullable(), collection_bank: CollectionBankOut.nullable(),
  back_date_found: z.boolean(), back_date_marked_on: epochSeconds.nullable(), sent_to_gl: z.boolean(), account: z.string().nullable(),
  cashback_loan: z.string().nullable(), holdback_loan: z.string().nullable(), loans: z.array(z.string()),
  revert_date: epochSeconds.nullable(), revert_value_date: businessDateOutput.nullable(), revert_sent_to_gl: z.boolean(),
  value_date: businessDateOutput.nullable(), excess_handling: z.string().nullable(), reserved_amount: rupeesOutput, refunded_amount: rupeesOutput,
  adjusted_amount: rupeesOutput, payer: z.unknown().nullable(), failure_reason: z.string().nullable(), revert_reason: z.string().nullable(),
  umrn: z.string().nullable(), nach_batch: z.string().nullable(),
  approval: z.object({
    required: z.boolean(), requested_by: z.string().nullable(), requested_at: epochSeconds.nullable(), approved_by: z.string().nullable(),
    approved_at: epochSeconds.nullable(), rejected_by: z.string().nullable(), rejected_at: epochSeconds.nullable(), remarks: z.string().nullable(),
  }),
  company: z.string(),
}).meta({ id: 'Record' });

export interface RecordContext {
  banks: Map<string, CollectionBank>;
  loans: Map<string, string[]>;
}

const numericRef = (refId: string) => Number(refId.replace(/\D/g, ''));

export function recordToWire(r: LmsRecord, ctx: RecordContext): z.infer<typeof RecordOut> {
  const bank = r.collectionBankId ? ctx.banks.get(r.collectionBankId) : undefined;
  return {
    id: r.id, created_at: toWireTime(r.createdAt), updated_at: toWireTime(r.updatedAt), type: r.type, ref_id: r.refId, index: numericRef(r.refId),
    numeric_ref_id: numericRef(r.refId), received_amount: toWireRupees(r.receivedPaise), tds_amount: toWireRupees(r.tdsPaise), amount: toWireRupees(r.amountPaise),
    remaining_amount: toWireRupees(r.remainingPaise), pg_service_id: r.pgServiceId, utr: r.utr, settlement_utr: r.settlementUtr,
    settlement_order: r.settlementOrder, component_order: r.componentOrder, uploaded_by: r.uploadedBy, uploaded_by_id: r.uploadedById,
    date: toWireTime(r.recordDate), settled_at: r.settledAt ? Math.floor(r.settledAt.getTime() / 1000) : null, bank_date: dateColumnToWire(r.bankDate),
    remark: r.remark, status: r.status, payment_mode: r.paymentMode,
    collection_bank: bank ? collectionBankToWire(bank) : null,
    back_date_found: r.backDateFound, back_date_marked_on: toWireTimeOrNull(r.backDateMarkedOn), sent_to_gl: false, account: r.accountId,
    cashback_loan: r.cashbackLoanId, holdback_loan: r.holdbackLoanId, loans: ctx.loans.get(r.id) ?? [],
    revert_date: toWireTimeOrNull(r.revertedAt), revert_value_date: dateColumnToWire(r.revertValueDate), revert_sent_to_gl: false,
    value_date: dateColumnToWire(r.valueDate), excess_handling: r.excessHandling, reserved_amount: toWireRupees(r.reservedPaise),
    refunded_amount: toWireRupees(r.refundedPaise), adjusted_amount: toWireRupees(r.adjustedPaise), payer: r.payer ?? null,
    failure_reason: r.failureReason, revert_reason: r.revertReason, umrn: r.umrn, nach_batch: r.nachBatch,
    approval: {
      required: r.approvalRequired, requested_by: r.approvalRequestedBy, requested_at: toWireTimeOrNull(r.approvalRequestedAt), approved_by: r.approvedBy,
      approved_at: toWireTimeOrNull(r.approvedAt), rejected_by: r.rejectedBy, rejected_at: toWireTimeOrNull(r.rejectedAt), remarks: r.approvalRemarks,
    },
    company: r.companyId,
  };
}

/** A settlement in Crego's shape (reference: List Settlements), plus `loan`, `component`, `source`, `reverses`. */
export const SettlementOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, date: businessDateOutput, amount: rupeesOutput, outstanding_amount: rupeesOutput,
  remaining_amount: rupeesOutput, sent_to_gl: z.boolean(), due_amount: rupeesOutput, dpd: z.number().int(), peak_dpd: z.number().int(),
  to_be_deleted: z.boolean(), account: z.string(), demand: z.string(), record: z.union([z.string(), RecordOut]), loan: z.string(),
  component: z.string(), source: z.string(), reverses: z.string().nullable(),
}).meta({ id: 'Settlement' });

export function settlementToWire(s: Settlement, record?: z.infer<typeof RecordOut>): z.infer<typeof SettlementOut> {
  return {
    id: s.id, created_at: toWireTime(s.createdAt), updated_at: toWireTime(s.updatedAt), date: dateColumnToWire(s.valueDate)!, amount: toWireRupees(s.amountPaise),
    outstanding_amount: toWireRupees(s.demandOutstandingPaise), remaining_amount: toWireRupees(s.remainingAfterPaise), sent_to_gl: s.sentToGl,
    due_amount: toWireRupees(s.demandDuePaise), dpd: s.dpd, peak_dpd: s.peakDpd, to_be_deleted: s.toBeDeleted, account: s.accountId, demand: s.demandId,
    record: record ?? s.recordId, loan: s.loanId, component: s.component, source: s.source, reverses: s.reversesId,
  };
}
