// The checks a topup (a drawdown on a credit line) must pass before it may hold limit or be paid
// out. Pure: the service gathers the facts (under the account's lock) and stores the result.
// Every check always reports, passed or failed, with a reason an operator can act on.
import { addDays, daysBetween } from './dates.js';
import { loanKindOf, disbursalFor, TermsError } from './loan-terms.js';
import type { StoredParams } from './loan-params.js';
import { roundDiv, rupeesToPaise } from './money.js';
import type { BusinessDate } from './time.js';

export const TOPUP_CHECKS = [
  'account_active', 'loan_terms', 'available_limit', 'amount_bounds', 'duplicate_invoice', 'invoice_date', 'due_date',
] as const;
export type TopupCheckName = (typeof TOPUP_CHECKS)[number];

export interface TopupCheck {
  name: TopupCheckName;
  result: 'passed' | 'failed';
  reason: string;
}

/**
 * Loan params carry no invoice-age rule, so an invoice may be at most this many days old on the
 * day it is paid out (a common receivables-finance cut-off; decisions.md).
 */
export const INVOICE_MAX_AGE_DAYS = 180;

export interface TopupFacts {
  amount: bigint;
  accountStatus: string;
  /** The line the topup draws on; `available` already includes any limit this topup itself holds. */
  line: { type: string; active: boolean; available: bigint } | null;
  /** The account's params with the loan data's terms over them, or why there are none. */
  terms: StoredParams | { problem: string };
  /** Refs of live topups that carry the same invoice (number for this account and anchor, or IRN). */
  duplicates: readonly string[];
  invoiceNumber: string | null;
  invoiceDate: BusinessDate | null;
  invoiceAmount: bigint | null;
  dueDate: BusinessDate | null;
  /** The day the loan would start: the scheduled date, or today. */
  disbursementDate: BusinessDate;
  today: BusinessDate;
  maxInvoiceAgeDays?: number;
}

/** Rupees for a reason text: 75000.00 (no float ever touches the amount). */
export function rupeesText(paise: bigint): string {
  const sign = paise < 0n ? '-' : '';
  const abs = paise < 0n ? -paise : paise;
  return `Rs ${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

const passed = (name: TopupCheckName, reason: string): TopupCheck => ({ name, result: 'passed', reason });
const failed = (name: TopupCheckName, reason: string): TopupCheck => ({ name, result: 'failed', reason });
const hasTerms = (t: TopupFacts['terms']): t is StoredParams => !('problem' in t);

function accountActive(f: TopupFacts): TopupCheck {
  return f.accountStatus === 'active'
    ? passed('account_active', 'the account is active')
    : failed('account_active', `the account is ${f.accountStatus}; only an active account can draw`);
}

/** The params must make a loan of this amount on the disbursement date (a schedule, a positive payout). */
function loanTerms(f: TopupFacts): TopupCheck {
  if (!hasTerms(f.terms)) return failed('loan_terms', f.terms.problem);
  try {
    const disbursal = disbursalFor(f.terms, f.amount, f.disbursementDate);
    return passed('loan_terms', `a ${disbursal.kind} loan paying out ${rupeesText(disbursal.netDisbursal)}`);
  } catch (error) {
    if (error instanceof TermsError) return failed('loan_terms', `${error.field}: ${error.message}`);
    throw error;
  }
}

function availableLimit(f: TopupFacts): TopupCheck {
  if (!f.line) return failed('available_limit', 'the account has no line of this type');
  if (!f.line.active) return failed('available_limit', `the ${f.line.type} line is inactive`);
  if (f.amount > f.line.available) {
    return failed('available_limit', `amount ${rupeesText(f.amount)} exceeds the available limit ${rupeesText(f.line.available)} on the ${f.line.type} line (short by ${rupeesText(f.amount - f.line.available)})`);
  }
  return passed('available_limit', `amount ${rupeesText(f.amount)} fits the available limit ${rupeesText(f.line.available)} on the ${f.line.type} line`);
}

/**
 * The most the program lends against an invoice: the invoice amount less the margin the params
 * keep back (percentage of the invoice, or fixed rupees), when margin is enabled.
 */
export function fundableOf(invoiceAmount: bigint, terms: StoredParams | null): bigint {
  if (!terms?.margin_is_enabled || !terms.margin_value_type) return invoiceAmount;
  if (terms.margin_value_type === 'fixed') {
    const margin = rupeesToPaise(terms.margin_value);
    return margin >= invoiceAmount ? 0n : invoiceAmount - margin;
  }
  // Percentage margin: the fundable part rounds down, so the lender never funds past the margin.
  const [whole, fraction = ''] = terms.margin_value.split('.');
  const scale = 10n ** BigInt(fraction.length);
  const marginScaled = BigInt(`${whole}${fraction}`);
  const fundable = roundDiv(invoiceAmount * (100n * scale - marginScaled), 100n * scale, 'down');
  return fundable < 0n ? 0n : fundable;
}

function amountBounds(f: TopupFacts): TopupCheck {
  if (f.amount <= 0n) return failed('amount_bounds', 'amount must be greater than zero');
  if (f.invoiceAmount === null) return passed('amount_bounds', 'no invoice amount given: bounded by the limit only');
  const fundable = fundableOf(f.invoiceAmount, hasTerms(f.terms) ? f.terms : null);
  if (f.amount > fundable) {
    const what = fundable === f.invoiceAmount ? 'the invoice amount' : 'the fundable part of the invoice (invoice amount less margin)';
    return failed('amount_bounds', `amount ${rupeesText(f.amount)} exceeds ${what} ${rupeesText(fundable)}`);
  }
  return passed('amount_bounds', `amount ${rupeesText(f.amount)} is within ${rupeesText(fundable)} fundable on the invoice`);
}

function duplicateInvoice(f: TopupFacts): TopupCheck {
  if (f.duplicates.length > 0) return failed('duplicate_invoice', `the invoice is already financed by ${f.duplicates.join(', ')}`);
  if (f.invoiceNumber === null) return passed('duplicate_invoice', 'no invoice number given');
  return passed('duplicate_invoice', `no other live topup carries invoice ${f.invoiceNumber}`);
}

function invoiceDate(f: TopupFacts): TopupCheck {
  if (f.invoiceDate === null) return passed('invoice_date', 'no invoice date given');
  if (f.invoiceDate > f.today) return failed('invoice_date', `the invoice date ${f.invoiceDate} is in the future`);
  const maxAge = f.maxInvoiceAgeDays ?? INVOICE_MAX_AGE_DAYS;
  const age = daysBetween(f.invoiceDate, f.disbursementDate);
  if (age > maxAge) {
    return failed('invoice_date', `the invoice is ${age} days old on ${f.disbursementDate}; at most ${maxAge} days are allowed`);
  }
  return passed('invoice_date', `the invoice is ${Math.max(age, 0)} days old on ${f.disbursementDate} (at most ${maxAge})`);
}

/** A bullet (invoice) loan must not mature before the invoice is due: its proceeds repay the loan. */
function dueDate(f: TopupFacts): TopupCheck {
  if (f.dueDate === null) return passed('due_date', 'no due date given');
  if (!hasTerms(f.terms)) return failed('due_date', 'cannot check the due date without loan params');
  if (loanKindOf(f.terms) !== 'bullet') return passed('due_date', 'an instalment loan: the invoice due date does not bound its tenure');
  if (f.terms.tenure_period !== 'days' || f.terms.tenure_value < 1) return failed('due_date', 'the params name no tenure in days');
  const latest = addDays(f.disbursementDate, f.terms.tenure_value);
  if (f.dueDate > latest) {
    return failed('due_date', `the due date ${f.dueDate} is after ${latest}, the disbursement date plus the ${f.terms.tenure_value}-day tenure`);
  }
  return passed('due_date', `the due date ${f.dueDate} is within the ${f.terms.tenure_value}-day tenure (by ${latest})`);
}

/** Every check, in a fixed order. */
export function runTopupChecks(facts: TopupFacts): TopupCheck[] {
  return [accountActive(facts), loanTerms(facts), availableLimit(facts), amountBounds(facts), duplicateInvoice(facts), invoiceDate(facts), dueDate(facts)];
}

export const allPassed = (checks: readonly TopupCheck[]): boolean => checks.every((c) => c.result === 'passed');
export const failedChecks = (checks: readonly TopupCheck[]): TopupCheck[] => checks.filter((c) => c.result === 'failed');
