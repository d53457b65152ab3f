import { z } from 'zod';
import type { Demand, Loan, Payout } from '../../generated/prisma/client.js';
import {
  businessDateOutput, dateColumnToWire, epochSeconds, rupeesOutput, toWireRupees, toWireTime, toWireTimeOrNull,
} from '../../http/wire.js';

export const LoanOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, ref_id: z.string(), account: z.string(), status: z.string(), kind: z.string(),
  principal_amount: rupeesOutput, disbursed_amount: rupeesOutput, net_disbursal_amount: rupeesOutput, upfront_interest: rupeesOutput,
  requested_date: businessDateOutput, disbursement_date: businessDateOutput.nullable(), maturity_date: businessDateOutput.nullable(),
  dpd: z.number().int(), peak_dpd: z.number().int(), line_type: z.string(), loan_params: z.string().nullable(), params_version: z.number().int().nullable(),
  loan_data: z.string().nullable(), schedule_version: z.number().int(), company: z.string(),
}).meta({ id: 'Loan' });

export const loanToWire = (l: Loan): z.infer<typeof LoanOut> => ({
  id: l.id, created_at: toWireTime(l.createdAt), updated_at: toWireTime(l.updatedAt), ref_id: l.refId, account: l.accountId, status: l.status, kind: l.kind,
  principal_amount: toWireRupees(l.principalPaise), disbursed_amount: toWireRupees(l.disbursedPaise), net_disbursal_amount: toWireRupees(l.netDisbursalPaise),
  upfront_interest: toWireRupees(l.upfrontInterestPaise), requested_date: dateColumnToWire(l.requestedDate)!,
  disbursement_date: dateColumnToWire(l.disbursementDate), maturity_date: dateColumnToWire(l.maturityDate), dpd: l.dpd, peak_dpd: l.peakDpd,
  line_type: l.lineType, loan_params: l.loanParamsId, params_version: l.paramsVersion, loan_data: l.loanDataId, schedule_version: l.scheduleVersion, company: l.companyId,
});

const ComponentOut = z.object({ due: rupeesOutput, paid: rupeesOutput, waived: rupeesOutput, outstanding: rupeesOutput });

export const DemandOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, loan: z.string(), account: z.string(), kind: z.string(),
  installment_number: z.number().int().nullable(), due_date: businessDateOutput, status: z.string(), dpd: z.number().int(), peak_dpd: z.number().int(),
  due_amount: rupeesOutput, paid_amount: rupeesOutput, waived_amount: rupeesOutput, outstanding_amount: rupeesOutput,
  components: z.object({ P: ComponentOut, NI: ComponentOut, OI: ComponentOut, PI: ComponentOut, FEE: ComponentOut }),
}).meta({ id: 'Demand' });

export function demandComponents(d: Demand) {
  const c = (due: bigint, paid: bigint, waived: bigint) => ({ due, paid, waived, outstanding: due - paid - waived });
  return {
    P: c(d.pDuePaise, d.pPaidPaise, d.pWaivedPaise), NI: c(d.niDuePaise, d.niPaidPaise, d.niWaivedPaise), OI: c(d.oiDuePaise, d.oiPaidPaise, d.oiWaivedPaise),
    PI: c(d.piDuePaise, d.piPaidPaise, d.piWaivedPaise), FEE: c(d.feeDuePaise, d.feePaidPaise, d.feeWaivedPaise),
  };
}

export function demandToWire(d: Demand): z.infer<typeof DemandOut> {
  const parts = demandComponents(d);
  const total = (key: 'due' | 'paid' | 'waived' | 'outstanding') => Object.values(parts).reduce((s, p) => s + p[key], 0n);
  const wire = (p: { due: bigint; paid: bigint; waived: bigint; outstanding: bigint }) => ({
    due: toWireRupees(p.due), paid: toWireRupees(p.paid), waived: toWireRupees(p.waived), outstanding: toWireRupees(p.outstanding),
  });
  return {
    id: d.id, created_at: toWireTime(d.createdAt), updated_at: toWireTime(d.updatedAt), loan: d.loanId, account: d.accountId, kind: d.kind,
    installment_number: d.installmentNumber, due_date: dateColumnToWire(d.dueDate)!, status: d.status, dpd: d.dpd, peak_dpd: d.peakDpd,
    due_amount: toWireRupees(total('due')), paid_amount: toWireRupees(total('paid')), waived_amount: toWireRupees(total('waived')),
    outstanding_amount: toWireRupees(total('outstanding')),
    components: { P: wire(parts.P), NI: wire(parts.NI), OI: wire(parts.OI), PI: wire(parts.PI), FEE: wire(parts.FEE) },
  };
}

/** A payout in Crego's shape (reference: Request Tranche). Fields this server does not track yet are null. */
export const PayoutOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, type: z.string(), ref_id: z.string(), numeric_ref_id: z.number().int(),
  index: z.number().int(), amount: rupeesOutput, method: z.string().nullable(), status: z.string(), payout_service_id: z.string().nullable(),
  processed_at: epochSeconds.nullable(), bank_date: businessDateOutput.nullable(), date: epochSeconds, failed_remark: z.string().nullable(),
  utr: z.string().nullable(), debit_bank: z.string().nullable(), credit_bank: z.unknown().nullable(), payout_to: z.string().nullable(),
  is_downloaded: z.boolean(), is_imported: z.boolean(), sent_to_gl: z.boolean(), account: z.string(), loan: z.string().nullable(),
}).meta({ id: 'Payout' });

export const payoutToWire = (p: Payout): z.infer<typeof PayoutOut> => ({
  id: p.id, created_at: toWireTime(p.createdAt), updated_at: toWireTime(p.updatedAt), type: p.type, ref_id: p.refId,
  numeric_ref_id: Number(p.refId.replace(/\D/g, '')), index: Number(p.refId.replace(/\D/g, '')), amount: toWireRupees(p.amountPaise),
  method: p.method, status: p.status, payout_service_id: null, processed_at: toWireTimeOrNull(p.processedAt), bank_date: dateColumnToWire(p.bankDate),
  date: toWireTime(p.createdAt), failed_remark: p.failedRemark, utr: p.utr, debit_bank: null, credit_bank: null, payout_to: 'borrower',
  is_downloaded: p.isDownloaded, is_imported: false, sent_to_gl: false, account: p.accountId, loan: p.loanId,
});
