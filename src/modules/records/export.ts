// Export record: a CSV of the filtered records with their settlements, one line per settlement
// (a record without settlements gets one line with the settlement columns empty). It is streamed:
// records are read in keyset pages of EXPORT_PAGE and written through csv-stringify as they come,
// so memory stays flat however many records match.
//
// The keyset is (created_at, id), oldest first. created_at has microseconds in the database (rows
// written by SQL's now()) but only milliseconds in a JS Date, so the cursor is never a Date read
// back from a row: Prisma's `cursor` compares every row with the cursor row's stored values in SQL.
// The cursor row itself (which a cursor includes when it still matches the filter) is dropped by
// id, so a record whose status changed meanwhile never costs a row of the next page.
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Database } from '../../db/database.js';
import { formatRupees } from '../../domain/money.js';
import type { CollectionBank, Record as LmsRecord, Settlement } from '../../generated/prisma/client.js';
import { columnToDate } from '../../http/wire.js';
import { RecordsRepository, type RecordFilter } from './repository.js';

const EXPORT_PAGE = 500;

export const EXPORT_COLUMNS = [
  'record_id', 'ref_id', 'type', 'status', 'account', 'account_external_id', 'amount', 'received_amount', 'tds_amount', 'remaining_amount',
  'utr', 'payment_mode', 'record_date', 'settled_at', 'value_date', 'collection_bank_account_no', 'back_date_found',
  'settlement_id', 'loan', 'demand', 'component', 'source', 'settlement_amount', 'settlement_date', 'reverses',
] as const;

const rupees = formatRupees;

export class RecordExporter {
  constructor(private readonly db: Database) {}

  /** A CSV stream of the records matching the filter (oldest first) and their settlements. */
  stream(companyId: string, filter: RecordFilter): Readable {
    const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS] });
    const source = Readable.from(this.lines(companyId, filter));
    source.on('error', (error) => csv.destroy(error));
    return source.pipe(csv);
  }

  private async *lines(companyId: string, filter: RecordFilter): AsyncGenerator<string[]> {
    const repo = new RecordsRepository(this.db, companyId);
    const where = await repo.withLoan(filter);
    let after: string | null = null;
    for (;;) {
      const read: LmsRecord[] = await this.db.prisma.record.findMany({
        where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: EXPORT_PAGE + 1, ...(after ? { cursor: { id: after } } : {}),
      });
      const page = read.filter((r) => r.id !== after).slice(0, EXPORT_PAGE);
      if (page.length === 0) return;
      const ids = page.map((r) => r.id);
      const settlements = await this.db.prisma.settlement.findMany({ where: { companyId, recordId: { in: ids } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      const accountIds = [...new Set(page.map((r) => r.accountId).filter((id): id is string => id !== null))];
      const accounts = new Map((await this.db.prisma.account.findMany({ where: { companyId, id: { in: accountIds } }, select: { id: true, externalId: true } })).map((a) => [a.id, a.externalId]));
      const bankIds = [...new Set(page.map((r) => r.collectionBankId).filter((id): id is string => id !== null))];
      const banks = new Map((await this.db.prisma.collectionBank.findMany({ where: { companyId, id: { in: bankIds } } })).map((b) => [b.id, b]));
      for (const record of page) {
        const own = settlements.filter((s) => s.recordId === record.id);
        const base = recordColumns(record, accounts.get(record.accountId ?? '') ?? null, banks.get(record.collectionBankId ?? ''));
        if (own.length === 0) yield [...base, '', '', '', '', '', '', '', ''];
        for (const s of own) yield [...base, ...settlementColumns(s)];
      }
      after = page.at(-1)!.id;
    }
  }
}

/**
 * Text a client chose (external ids): a leading = + - @ would run as a formula when the file is
 * opened in a spreadsheet, so it gets a leading quote. Amounts are ours and stay as they are.
 */
const cell = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

function recordColumns(r: LmsRecord, externalId: string | null, bank: CollectionBank | undefined): string[] {
  return [
    r.id, r.refId, r.type, r.status, r.accountId ?? '', cell(externalId ?? ''), rupees(r.amountPaise), rupees(r.receivedPaise), rupees(r.tdsPaise),
    rupees(r.remainingPaise), cell(r.utr ?? ''), r.paymentMode ?? '', r.recordDate.toISOString(), r.settledAt?.toISOString() ?? '',
    r.valueDate ? columnToDate(r.valueDate) : '', bank?.accountNo ?? '', String(r.backDateFound),
  ];
}

function settlementColumns(s: Settlement): string[] {
  return [s.id, s.loanId, s.demandId, s.component, s.source, rupees(s.amountPaise), columnToDate(s.valueDate), s.reversesId ?? ''];
}
