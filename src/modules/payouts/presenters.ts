import { z } from 'zod';
import type { Payout, PayoutAttempt, PayoutCallback } from '../../generated/prisma/client.js';
import {
  businessDateOutput, dateColumnToWire, epochSeconds, rupeesOutput, toWireRupees, toWireTime, toWireTimeOrNull,
} from '../../http/wire.js';
import { bankReferenceOf } from './service.js';

const CreditBankOut = z.object({
  id: z.string().nullable(), created_at: epochSeconds.nullable(), updated_at: epochSeconds.nullable(), account_no: z.string(),
  account_holder_name: z.string(), ifsc: z.string(), account_type: z.string().nullable(), is_verified: z.boolean(), tags: z.array(z.string()),
  summary: z.string().nullable(), banking_id: z.string().nullable(), program_ids: z.array(z.string()),
});

/** A payout in Crego's shape (reference: Request Tranche), plus `attempt`, `bank_reference`, `loan`, `topup`. */
export const PayoutOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, type: z.string(), ref_id: z.string(), numeric_ref_id: z.number().int(),
  index: z.number().int(), amount: rupeesOutput, method: z.string().nullable(), status: z.string(), payout_service_id: z.string().nullable(),
  processed_at: epochSeconds.nullable(), bank_date: businessDateOutput.nullable(), date: epochSeconds, failed_remark: z.string().nullable(),
  utr: z.string().nullable(), debit_bank: z.string().nullable(), credit_bank: CreditBankOut.nullable(), payout_to: z.string().nullable(),
  is_downloaded: z.boolean(), is_imported: z.boolean(), sent_to_gl: z.boolean(), account: z.string(), loan: z.string().nullable(),
  topup: z.string().nullable(), tranche: z.string().nullable(), record: z.string().nullable(), attempt: z.number().int(), bank_reference: z.string(),
}).meta({ id: 'Payout' });

const numericRef = (refId: string) => Number(refId.replace(/\D/g, ''));

export const payoutToWire = (p: Payout): z.infer<typeof PayoutOut> => ({
  id: p.id, created_at: toWireTime(p.createdAt), updated_at: toWireTime(p.updatedAt), type: p.type, ref_id: p.refId,
  numeric_ref_id: numericRef(p.refId), index: numericRef(p.refId), amount: toWireRupees(p.amountPaise),
  method: p.method, status: p.status, payout_service_id: null, processed_at: toWireTimeOrNull(p.processedAt), bank_date: dateColumnToWire(p.bankDate),
  date: toWireTime(p.createdAt), failed_remark: p.failedRemark, utr: p.utr, debit_bank: p.debitBankId,
  credit_bank: p.creditAccountNo ? {
    // The beneficiary is stored on the payout, not as a bank-account object: no id or timestamps of its own.
    id: null, created_at: null, updated_at: null, account_no: p.creditAccountNo, account_holder_name: p.creditAccountName ?? '', ifsc: p.creditIfsc ?? '',
    account_type: null, is_verified: false, tags: [], summary: null, banking_id: null, program_ids: [],
  } : null,
  payout_to: p.payoutTo, is_downloaded: p.isDownloaded, is_imported: false, sent_to_gl: false, account: p.accountId, loan: p.loanId,
  topup: p.topupId, tranche: p.trancheId, record: p.recordId, attempt: p.attempt, bank_reference: bankReferenceOf(p, p.attempt),
});

export const PayoutAttemptOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, attempt: z.number().int(), bank_reference: z.string(), status: z.string(),
  utr: z.string().nullable(), failed_remark: z.string().nullable(), exported_at: epochSeconds.nullable(), processed_at: epochSeconds.nullable(),
  bank_date: businessDateOutput.nullable(),
}).meta({ id: 'PayoutAttempt' });

export const attemptToWire = (a: PayoutAttempt): z.infer<typeof PayoutAttemptOut> => ({
  id: a.id, created_at: toWireTime(a.createdAt), updated_at: toWireTime(a.updatedAt), attempt: a.attempt, bank_reference: a.bankReference,
  status: a.status, utr: a.utr, failed_remark: a.failedRemark, exported_at: toWireTimeOrNull(a.exportedAt), processed_at: toWireTimeOrNull(a.processedAt),
  bank_date: dateColumnToWire(a.bankDate),
});

export const PayoutCallbackOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, reference: z.string(), status: z.string(), utr: z.string().nullable(),
  outcome: z.string(), detail: z.string().nullable(), payout: z.string().nullable(), payload: z.unknown(),
  resolved_at: epochSeconds.nullable(), resolved_by: z.string().nullable(), resolution: z.string().nullable(),
}).meta({ id: 'PayoutCallback' });

export const callbackToWire = (c: PayoutCallback): z.infer<typeof PayoutCallbackOut> => ({
  id: c.id, created_at: toWireTime(c.createdAt), updated_at: toWireTime(c.updatedAt), reference: c.reference, status: c.status, utr: c.utr,
  outcome: c.outcome, detail: c.detail, payout: c.payoutId, payload: c.payload, resolved_at: toWireTimeOrNull(c.resolvedAt),
  resolved_by: c.resolvedBy, resolution: c.resolution,
});
