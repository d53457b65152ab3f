import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, normalizeParams, type StoredParams } from '../../src/domain/loan-params.js';
import { allPassed, fundableOf, INVOICE_MAX_AGE_DAYS, runTopupChecks, rupeesText, type TopupFacts } from '../../src/domain/topup-checks.js';

const BULLET: StoredParams = normalizeParams({
  ...DEFAULT_PARAMS, days_in_year: 360, tenure_period: 'days', tenure_value: 60, roi_slab_based: true, roi_value: [{ days: -1, value: '18' }],
});
const EMI: StoredParams = normalizeParams({ ...DEFAULT_PARAMS, emi_count: 6, roi_value: [{ days: -1, value: '12' }] });

const facts = (over: Partial<TopupFacts> = {}): TopupFacts => ({
  amount: 50_000_00n, accountStatus: 'active', line: { type: 'primary', active: true, available: 100_000_00n }, terms: BULLET, duplicates: [],
  invoiceNumber: 'INV-1', invoiceDate: '2024-03-01', invoiceAmount: 60_000_00n, dueDate: '2024-04-15',
  disbursementDate: '2024-03-10', today: '2024-03-10', ...over,
});
const check = (over: Partial<TopupFacts>, name: string) => runTopupChecks(facts(over)).find((c) => c.name === name)!;

describe('runTopupChecks', () => {
  it('passes a clean topup, reporting every check in a fixed order', () => {
    const checks = runTopupChecks(facts());
    expect(checks.map((c) => c.name)).toEqual(['account_active', 'loan_terms', 'available_limit', 'amount_bounds', 'duplicate_invoice', 'invoice_date', 'due_date']);
    expect(allPassed(checks)).toBe(true);
    expect(checks.find((c) => c.name === 'loan_terms')!.reason).toBe('a bullet loan paying out Rs 50000.00');
  });

  it('account must be active', () => {
    expect(check({ accountStatus: 'frozen' }, 'account_active')).toMatchObject({ result: 'failed', reason: expect.stringContaining('frozen') });
  });

  it('loan terms: params must exist and make a loan of the amount', () => {
    expect(check({ terms: { problem: 'no params' } }, 'loan_terms')).toEqual({ name: 'loan_terms', result: 'failed', reason: 'no params' });
    const feeEatsAll = normalizeParams({ ...BULLET, pf_is_enabled: true, pf_value_type: 'fixed', pf_value: '1000' });
    expect(check({ terms: feeEatsAll, amount: 500_00n, invoiceAmount: null }, 'loan_terms')).toMatchObject({ result: 'failed', reason: expect.stringContaining('amount:') });
  });

  it('available limit: the amount must fit the line; its own held block counts as available', () => {
    expect(check({ amount: 100_000_00n, invoiceAmount: null }, 'available_limit').result).toBe('passed');
    expect(check({ amount: 100_000_01n, invoiceAmount: null }, 'available_limit')).toMatchObject({
      result: 'failed', reason: 'amount Rs 100000.01 exceeds the available limit Rs 100000.00 on the primary line (short by Rs 0.01)',
    });
    expect(check({ line: null }, 'available_limit').result).toBe('failed');
    expect(check({ line: { type: 'primary', active: false, available: 100_000_00n } }, 'available_limit').reason).toMatch(/inactive/);
  });

  it('amount bounds: at most the invoice amount, less the margin the params keep', () => {
    expect(check({ amount: 60_000_00n }, 'amount_bounds').result).toBe('passed');
    expect(check({ amount: 60_000_01n }, 'amount_bounds')).toMatchObject({ result: 'failed', reason: expect.stringContaining('the invoice amount Rs 60000.00') });
    expect(check({ invoiceAmount: null }, 'amount_bounds').result).toBe('passed');
    const margin = normalizeParams({ ...BULLET, margin_is_enabled: true, margin_value_type: 'percentage', margin_value: '12.5' });
    expect(fundableOf(60_000_00n, margin)).toBe(52_500_00n);
    expect(check({ terms: margin, amount: 52_500_01n }, 'amount_bounds').reason).toMatch(/fundable part/);
    expect(fundableOf(33_33n, margin)).toBe(29_16n); // 2916.375 paise rounds down
    expect(fundableOf(60_000_00n, normalizeParams({ ...BULLET, margin_is_enabled: true, margin_value_type: 'fixed', margin_value: '5000.50' }))).toBe(54_999_50n);
  });

  it('duplicate invoice: names the topups already financing it', () => {
    expect(check({ duplicates: ['TOP0000003'] }, 'duplicate_invoice')).toMatchObject({ result: 'failed', reason: 'the invoice is already financed by TOP0000003' });
    expect(check({ invoiceNumber: null }, 'duplicate_invoice')).toMatchObject({ result: 'passed', reason: 'no invoice number given' });
  });

  it(`invoice date: not in the future, at most ${INVOICE_MAX_AGE_DAYS} days old on the disbursement date`, () => {
    expect(check({ invoiceDate: '2024-03-11' }, 'invoice_date')).toMatchObject({ result: 'failed', reason: expect.stringContaining('future') });
    expect(check({ invoiceDate: '2023-09-12' }, 'invoice_date').result).toBe('passed'); // 180 days
    expect(check({ invoiceDate: '2023-09-11' }, 'invoice_date')).toMatchObject({ result: 'failed', reason: expect.stringContaining('181 days old') });
    // A scheduled topup is judged on its date: the invoice ages until then.
    expect(check({ invoiceDate: '2023-09-12', disbursementDate: '2024-03-20' }, 'invoice_date').result).toBe('failed');
    expect(check({ invoiceDate: '2024-01-01', maxInvoiceAgeDays: 30 }, 'invoice_date').result).toBe('failed');
  });

  it('due date: within the disbursement date plus the tenure (bullet loans only)', () => {
    expect(check({ dueDate: '2024-05-09' }, 'due_date').result).toBe('passed'); // 10 Mar + 60 days
    expect(check({ dueDate: '2024-05-10' }, 'due_date')).toMatchObject({ result: 'failed', reason: expect.stringContaining('2024-05-09') });
    expect(check({ dueDate: '2024-12-31', terms: EMI }, 'due_date').result).toBe('passed');
    expect(check({ dueDate: null }, 'due_date').result).toBe('passed');
    expect(check({ terms: { problem: 'none' } }, 'due_date').result).toBe('failed');
  });

  it('formats rupees from paise without floats', () => {
    expect(rupeesText(1n)).toBe('Rs 0.01');
    expect(rupeesText(12_345_678_901_234_56n)).toBe('Rs 12345678901234.56');
  });
});
