// India's GST e-invoice (schema INV-01, as the IRP returns it) read into a topup's invoice
// fields, and GSTIN validation with its mod-36 check character. Pure: no I/O.
import { MoneyFormatError, rupeesToPaise } from '../../domain/money.js';
import { businessDateToEpoch, type BusinessDate } from '../../domain/time.js';
import type { FieldErrors } from '../../errors.js';

const GSTIN_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/**
 * State code (01-38 for states and union territories, 97 other territory, 99 centre
 * jurisdiction), the holder's PAN (5 letters, 4 digits, 1 letter), the registration number
 * for that PAN in the state (1-9, A-Z), 'Z', and the check character.
 */
const GSTIN_PATTERN = /^(0[1-9]|[12][0-9]|3[0-8]|97|99)[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/;

/** The check character for the first 14 characters of a GSTIN (GSTN's Luhn mod-36 variant). */
export function gstinCheckChar(first14: string): string {
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    const value = GSTIN_CHARS.indexOf(first14[i]!);
    if (value < 0) throw new RangeError(`not a GSTIN character: ${first14[i]}`);
    // Odd positions (from 1) weigh 1, even positions 2; a product's base-36 digits are summed.
    const product = value * (i % 2 === 0 ? 1 : 2);
    sum += Math.floor(product / 36) + (product % 36);
  }
  return GSTIN_CHARS[(36 - (sum % 36)) % 36]!;
}

/** Why a GSTIN is not valid, or null when it is. */
export function gstinProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a GSTIN (15 characters)';
  if (value.length !== 15) return 'must be 15 characters';
  if (!GSTIN_PATTERN.test(value)) return 'must be a GSTIN: state code, PAN, entity number, Z, check character';
  if (gstinCheckChar(value.slice(0, 14)) !== value[14]) return 'has a wrong check character';
  return null;
}

export const isValidGstin = (value: unknown): value is string => gstinProblem(value) === null;

/** The invoice fields a topup keeps, read from an e-invoice. */
export interface ParsedInvoice {
  irn: string;
  sellerGstin: string;
  buyerGstin: string;
  number: string;
  date: BusinessDate;
  amount: bigint;
  /** The INV-01 document itself (unwrapped), stored on the topup. */
  document: Record<string, unknown>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON payload of a JWS (the IRP's SignedInvoice). The signature is not verified here. */
function jwsPayload(jws: string): unknown {
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts[1]) throw new SyntaxError('not a JWS (header.payload.signature)');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

/** The IRP's decoded signed-invoice payload carries the invoice as a JSON string in `data`. */
function fromData(data: unknown): unknown {
  return typeof data === 'string' ? JSON.parse(data) : data;
}

/**
 * Finds the INV-01 document in a body: the document itself, `{invoice: {...}}`, a decoded
 * signed-invoice payload `{data: "<json>" | {...}}`, or `{SignedInvoice: "<jws>"}`. Returns the
 * document and the field-path prefix errors are reported under.
 */
function unwrap(body: Json): { document: unknown; prefix: string } | { errors: FieldErrors } {
  const attempt = (key: string, read: () => unknown) => {
    try {
      return { document: read(), prefix: `${key}.` };
    } catch (error) {
      return { errors: { [key]: [`cannot be read as an e-invoice: ${error instanceof Error ? error.message : 'invalid'}`] } };
    }
  };
  if ('SignedInvoice' in body) {
    if (typeof body.SignedInvoice !== 'string') return { errors: { SignedInvoice: ['must be the signed invoice (a JWS string)'] } };
    return attempt('SignedInvoice', () => fromData((jwsPayload(body.SignedInvoice as string) as Json)?.data));
  }
  if ('invoice' in body) return { document: body.invoice, prefix: 'invoice.' };
  if ('data' in body && !('DocDtls' in body)) return attempt('data', () => fromData(body.data));
  return { document: body, prefix: '' };
}

/** DD/MM/YYYY (the e-invoice's date form) to a business date, or null. */
export function invoiceDateOf(text: unknown): BusinessDate | null {
  if (typeof text !== 'string') return null;
  const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (!match) return null;
  const date = `${match[3]}-${match[2]}-${match[1]}`;
  try {
    businessDateToEpoch(date);
    return date;
  } catch {
    return null;
  }
}

const DOC_NUMBER = /^[A-Za-z1-9][A-Za-z0-9/-]{0,15}$/;

/** Reads and checks the fields a topup needs; every bad or missing field is named. */
export function parseEInvoice(body: unknown): { invoice: ParsedInvoice } | { errors: FieldErrors } {
  if (!isObject(body)) return { errors: { body: ['must be an e-invoice JSON object'] } };
  const found = unwrap(body);
  if ('errors' in found) return found;
  const { document, prefix } = found;
  if (!isObject(document)) return { errors: { [prefix.slice(0, -1) || 'body']: ['must be an e-invoice JSON object'] } };
  const errors: FieldErrors = Object.create(null);
  const fail = (field: string, message: string) => (errors[`${prefix}${field}`] ??= []).push(message);
  const section = (name: string): Json => (isObject(document[name]) ? document[name] : {});
  const seller = section('SellerDtls');
  const buyer = section('BuyerDtls');
  const doc = section('DocDtls');
  const values = section('ValDtls');

  const irn = typeof document.Irn === 'string' ? document.Irn.toLowerCase() : null;
  if (irn === null) fail('Irn', 'is required');
  else if (!/^[0-9a-f]{64}$/.test(irn)) fail('Irn', 'must be 64 hexadecimal characters');
  for (const [name, party] of [['SellerDtls', seller], ['BuyerDtls', buyer]] as const) {
    if (party.Gstin === undefined) fail(`${name}.Gstin`, 'is required');
    else {
      const problem = gstinProblem(party.Gstin);
      if (problem) fail(`${name}.Gstin`, problem);
    }
  }
  if (doc.Typ !== undefined && doc.Typ !== 'INV') fail('DocDtls.Typ', 'must be INV: only invoices are financed (not credit or debit notes)');
  if (doc.No === undefined) fail('DocDtls.No', 'is required');
  else if (typeof doc.No !== 'string' || !DOC_NUMBER.test(doc.No)) fail('DocDtls.No', 'must be 1 to 16 letters, digits, / or -, not starting with 0, / or -');
  const date = invoiceDateOf(doc.Dt);
  if (doc.Dt === undefined) fail('DocDtls.Dt', 'is required');
  else if (date === null) fail('DocDtls.Dt', 'must be a date as DD/MM/YYYY');
  let amount: bigint | null = null;
  if (values.TotInvVal === undefined) fail('ValDtls.TotInvVal', 'is required');
  else if (typeof values.TotInvVal !== 'number' && typeof values.TotInvVal !== 'string') fail('ValDtls.TotInvVal', 'must be an amount in rupees');
  else {
    try {
      amount = rupeesToPaise(values.TotInvVal);
    } catch (error) {
      if (!(error instanceof MoneyFormatError)) throw error;
      fail('ValDtls.TotInvVal', error.message);
    }
  }
  if (Object.keys(errors).length > 0) return { errors };
  return {
    invoice: {
      irn: irn!, sellerGstin: seller.Gstin as string, buyerGstin: buyer.Gstin as string, number: doc.No as string, date: date!, amount: amount!, document,
    },
  };
}
