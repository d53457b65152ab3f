import { z } from 'zod';
import { businessDateInput, optionalText, pageQuery, rupeesInput, uuid } from '../../http/wire.js';
import { CreditBankIn, PayoutToIn } from '../payouts/schemas.js';
import { TOPUP_STATUSES } from './engine.js';

export const BULK_MAX = 500;

const lineType = z.string().trim().min(2, 'must be at least 2 characters').max(40, 'must be at most 40 characters')
  .meta({ description: 'The line to draw on; default primary' });

/**
 * GST document numbers are upper case (the e-invoice schema allows no lower case), so an invoice
 * number is stored upper-cased and compared exactly: "inv-1" and "INV-1" are one invoice.
 */
const invoiceNumber = optionalText(50).transform((n) => n.toUpperCase())
  .meta({ description: 'Stored upper-cased; checked for duplicates per account and anchor' });

/** Fields Create and Update share; on Update null clears one. */
const fields = {
  invoice_number: invoiceNumber,
  invoice_date: businessDateInput,
  invoice_amount: rupeesInput().meta({ description: 'Rupees; the topup may not exceed it (less margin when the params keep one)' }),
  due_date: businessDateInput.meta({ description: 'Invoice due date: must fall within the disbursement date plus the tenure (bullet loans)' }),
  anchor_id: optionalText(64),
  disbursement_date: businessDateInput.meta({ description: 'A later date schedules the topup (its limit is held until then); today or absent pays out now' }),
  topup_group: uuid.meta({ description: 'An open topup group: the topup waits (holding its limit) until the group is approved' }),
  loan_data: uuid.meta({ description: "Loan data (per-loan terms) of the topup's account" }),
  credit_bank: CreditBankIn,
  remarks: optionalText(500),
};

export const TopupIn = z.strictObject({
  account: uuid,
  amount: rupeesInput(),
  invoice_number: fields.invoice_number.optional(),
  invoice_date: fields.invoice_date.optional(),
  invoice_amount: fields.invoice_amount.optional(),
  due_date: fields.due_date.optional(),
  anchor_id: fields.anchor_id.optional(),
  disbursement_date: fields.disbursement_date.optional(),
  topup_group: fields.topup_group.optional(),
  loan_data: fields.loan_data.optional(),
  line_type: lineType.optional(),
  credit_bank: fields.credit_bank.optional(),
  payout_to: PayoutToIn.optional(),
  remarks: fields.remarks.optional(),
}).meta({ id: 'TopupIn' });

export const TopupPatch = z.strictObject({
  amount: rupeesInput().optional(),
  invoice_number: fields.invoice_number.nullable().optional(),
  invoice_date: fields.invoice_date.nullable().optional(),
  invoice_amount: fields.invoice_amount.nullable().optional(),
  due_date: fields.due_date.nullable().optional(),
  anchor_id: fields.anchor_id.nullable().optional(),
  disbursement_date: fields.disbursement_date.nullable().optional(),
  topup_group: fields.topup_group.nullable().optional(),
  loan_data: fields.loan_data.nullable().optional(),
  line_type: lineType.optional(),
  credit_bank: fields.credit_bank.nullable().optional(),
  payout_to: PayoutToIn.optional(),
  remarks: fields.remarks.nullable().optional(),
}).meta({ id: 'TopupPatch' });

export const TopupQuery = z.strictObject({
  ...pageQuery,
  account: uuid.optional(),
  status: z.enum(TOPUP_STATUSES).optional(),
  topup_group: uuid.optional(),
  invoice_number: invoiceNumber.optional(),
  created_from: businessDateInput.optional().meta({ description: 'Created on or after this day (IST)' }),
  created_to: businessDateInput.optional().meta({ description: 'Created on or before this day (IST)' }),
  disbursement_date_from: businessDateInput.optional(),
  disbursement_date_to: businessDateInput.optional(),
});

export const CheckLineAmountIn = z.strictObject({ account: uuid, amount: rupeesInput(), line_type: lineType.optional() });

/**
 * An e-invoice in India's GST schema (INV-01) as the IRP returns it, or wrapped: `{invoice: {...}}`,
 * the decoded signed-invoice payload `{data: "<json>"}`, or `{SignedInvoice: "<jws>"}`. Its fields
 * are read and checked by the service, which names each bad one (e.g. `SellerDtls.Gstin`).
 */
export const InvoiceParseIn = z.looseObject({}).meta({
  id: 'EInvoiceIn',
  description: 'INV-01 e-invoice JSON: Irn, SellerDtls.Gstin, BuyerDtls.Gstin, DocDtls.No, DocDtls.Dt (DD/MM/YYYY), ValDtls.TotInvVal',
});
