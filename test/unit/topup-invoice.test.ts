import { describe, expect, it } from 'vitest';
import { gstinCheckChar, gstinProblem, invoiceDateOf, isValidGstin, parseEInvoice } from '../../src/modules/topups/invoice.js';

const CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const withCheck = (first14: string) => `${first14}${gstinCheckChar(first14)}`;
const SELLER = withCheck('29AABCT1332L1Z');
const BUYER = withCheck('07AAACB2894G1Z');
const IRN = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef';

const sampleInvoice = (over: Record<string, unknown> = {}) => ({
  Version: '1.1', Irn: IRN,
  TranDtls: { TaxSch: 'GST', SupTyp: 'B2B' },
  DocDtls: { Typ: 'INV', No: 'INV/2024/001', Dt: '05/01/2024' },
  SellerDtls: { Gstin: SELLER, LglNm: 'Seller Pvt Ltd', Addr1: 'Bengaluru', Loc: 'Bengaluru', Pin: 560001, Stcd: '29' },
  BuyerDtls: { Gstin: BUYER, LglNm: 'Buyer Ltd', Pos: '07', Addr1: 'Delhi', Loc: 'Delhi', Pin: 110001, Stcd: '07' },
  ItemList: [{ SlNo: '1', IsServc: 'N', HsnCd: '8471', Qty: 1, UnitPrice: 100000, TotAmt: 100000, AssAmt: 100000, GstRt: 18, IgstAmt: 18000, TotItemVal: 118000 }],
  ValDtls: { AssVal: 100000, IgstVal: 18000, TotInvVal: 118000 },
  ...over,
});

describe('GSTIN', () => {
  it('accepts the published example 27AAPFU0939F1ZV and computes its check character', () => {
    expect(gstinCheckChar('27AAPFU0939F1Z')).toBe('V');
    expect(gstinProblem('27AAPFU0939F1ZV')).toBeNull();
    expect(isValidGstin('27AAPFU0939F1ZW')).toBe(false);
  });

  it('detects every single-character substitution in the first 14 characters', () => {
    for (const gstin of ['27AAPFU0939F1ZV', SELLER, BUYER]) {
      for (let i = 0; i < 14; i++) {
        for (const c of CHARS) {
          if (c === gstin[i]) continue;
          const changed = `${gstin.slice(0, i)}${c}${gstin.slice(i + 1, 14)}`;
          expect(gstinCheckChar(changed), `${changed} keeps check ${gstin[14]}`).not.toBe(gstin[14]);
        }
      }
    }
  });

  it('checks the format: state code 01-38, 97 or 99; PAN; entity number; Z', () => {
    expect(gstinProblem(withCheck('38AAPFU0939F1Z'))).toBeNull();
    expect(gstinProblem(withCheck('97AAPFU0939F1Z'))).toBeNull();
    expect(gstinProblem(withCheck('99AAPFU0939F1Z'))).toBeNull();
    for (const bad of ['00AAPFU0939F1Z', '39AAPFU0939F1Z', '98AAPFU0939F1Z', '27AAPF10939F1Z', '27AAPFUA939F1Z', '27AAPFU09391Z1', '27AAPFU0939F0Z', '27AAPFU0939F1Y']) {
      expect(gstinProblem(withCheck(bad)), bad).toMatch(/must be a GSTIN/);
    }
    expect(gstinProblem('27AAPFU0939F1Z')).toBe('must be 15 characters');
    expect(gstinProblem('27aapfu0939f1zv')).toMatch(/must be a GSTIN/);
    expect(gstinProblem(27)).toMatch(/must be a GSTIN/);
  });
});

describe('parseEInvoice', () => {
  it('reads the fields a topup needs from INV-01', () => {
    const parsed = parseEInvoice(sampleInvoice());
    expect(parsed).toEqual({
      invoice: { irn: IRN, sellerGstin: SELLER, buyerGstin: BUYER, number: 'INV/2024/001', date: '2024-01-05', amount: 11800000n, document: sampleInvoice() },
    });
  });

  it('accepts the invoice wrapped, as a decoded signed-invoice payload, or as the JWS itself', () => {
    const doc = sampleInvoice();
    const jws = ['{"alg":"RS256"}', JSON.stringify({ data: JSON.stringify(doc), iss: 'NIC' }), 'signature']
      .map((part) => Buffer.from(part).toString('base64url')).join('.');
    for (const body of [{ invoice: doc }, { data: JSON.stringify(doc) }, { data: doc }, { SignedInvoice: jws }]) {
      const parsed = parseEInvoice(body);
      expect('invoice' in parsed && parsed.invoice.number, JSON.stringify(Object.keys(body))).toBe('INV/2024/001');
    }
  });

  it('names every missing or bad field, under the wrapper it came in', () => {
    const result = parseEInvoice({ Irn: 'xyz', SellerDtls: { Gstin: '27AAPFU0939F1ZW' }, BuyerDtls: {}, DocDtls: { Typ: 'CRN', No: '0ABC', Dt: '31/02/2024' }, ValDtls: { TotInvVal: 1.234 } });
    expect(result).toEqual({
      errors: {
        Irn: ['must be 64 hexadecimal characters'], 'SellerDtls.Gstin': ['has a wrong check character'], 'BuyerDtls.Gstin': ['is required'],
        'DocDtls.Typ': [expect.stringContaining('must be INV')], 'DocDtls.No': [expect.stringContaining('1 to 16')],
        'DocDtls.Dt': ['must be a date as DD/MM/YYYY'], 'ValDtls.TotInvVal': [expect.stringContaining('two decimals')],
      },
    });
    const wrapped = parseEInvoice({ invoice: { Irn: IRN } });
    expect(Object.keys((wrapped as { errors: object }).errors).sort()).toEqual([
      'invoice.BuyerDtls.Gstin', 'invoice.DocDtls.Dt', 'invoice.DocDtls.No', 'invoice.SellerDtls.Gstin', 'invoice.ValDtls.TotInvVal',
    ]);
    expect(parseEInvoice({ data: '{not json' })).toEqual({ errors: { data: [expect.stringContaining('cannot be read')] } });
    expect(parseEInvoice({ SignedInvoice: 'a.b' })).toEqual({ errors: { SignedInvoice: [expect.stringContaining('not a JWS')] } });
    expect(parseEInvoice({ invoice: [1] })).toEqual({ errors: { invoice: ['must be an e-invoice JSON object'] } });
    expect(parseEInvoice([])).toEqual({ errors: { body: ['must be an e-invoice JSON object'] } });
  });

  it('reads DD/MM/YYYY dates strictly', () => {
    expect(invoiceDateOf('29/02/2024')).toBe('2024-02-29');
    expect(invoiceDateOf('29/02/2023')).toBeNull();
    expect(invoiceDateOf('2024-02-01')).toBeNull();
    expect(invoiceDateOf('1/2/2024')).toBeNull();
  });
});
