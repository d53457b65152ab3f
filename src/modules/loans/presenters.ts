import { z } from 'zod';
import type { Demand, Loan } from '../../generated/prisma/client.js';
import {
  businessDateOutput, dateColumnToWire, epochSeconds, rupeesOutput, toWireRupees, toWireTime,
} from '../../http/wire.js';

export const LoanOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, ref_id: z.string(), account: z.string(), status: z.string(), kind: z.string(),
  principal_amount: rupeesOutput, sanctioned_amount: rupeesOutput, topup: z.string().nullable(), disbursed_amount: rupeesOutput, net_disbursal_amount: rupeesOutput, upfront_interest: rupeesOutput,
  requested_date: businessDateOutput, disbursement_date: businessDateOutput.nullable(), maturity_date: businessDateOutput.nullable(),
  dpd: z.number().int(), peak_dpd: z.number().int(),
  asset_class: z.enum(['standard', 'sma_0', 'sma_1', 'sma_2', 'npa']).meta({ description: 'Set by EOD; NPA is borrower-level' }),
  last_eod_date: businessDateOutput.nullable().meta({ description: 'The last business date EOD closed for this loan' }), line_type: z.string(), loan_params: z.string().nullable(), params_version: z.number().int().nullable(),
  loan_data: z.string().nullable(), schedule_version: z.number().int(), company: z.string(),
}).meta({ id: 'Loan' });

export const loanToWire = (l: Loan): z.infer<typeof LoanOut> => ({
  id: l.id, created_at: toWireTime(l.createdAt), updated_at: toWireTime(l.updatedAt), ref_id: l.refId, account: l.accountId, status: l.status, kind: l.kind,
  principal_amount: toWireRupees(l.principalPaise), sanctioned_amount: toWireRupees(l.sanctionedPaise), topup: l.topupId, disbursed_amount: toWireRupees(l.disbursedPaise), net_disbursal_amount: toWireRupees(l.netDisbursalPaise),
  upfront_interest: toWireRupees(l.upfrontInterestPaise), requested_date: dateColumnToWire(l.requestedDate)!,
  disbursement_date: dateColumnToWire(l.disbursementDate), maturity_date: dateColumnToWire(l.maturityDate), dpd: l.dpd, peak_dpd: l.peakDpd,
  asset_class: l.assetClass as z.infer<typeof LoanOut>['asset_class'], last_eod_date: dateColumnToWire(l.lastEodDate),
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
