import { z } from 'zod';
import { accountNo, holder, ifsc } from '../collection-banks/routes.js';

/** The beneficiary's bank account a payout credits (needed before the payout can be exported to the bank). */
export const CreditBankIn = z.strictObject({ account_no: accountNo, ifsc, account_holder_name: holder }).meta({ id: 'CreditBankIn' });

export const PayoutToIn = z.enum(['borrower', 'anchor', 'seller', 'other']).meta({ description: 'Whom the payout pays' });
