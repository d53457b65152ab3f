// Reading the accrual rows EOD writes (src/modules/eod/partition.ts writes them, set-based).
import type { Database } from '../../db/database.js';
import type { Accrual } from '../../generated/prisma/client.js';
import { dateToColumn, skipTake, type Page, type PageRequest } from '../../http/wire.js';
import type { BusinessDate } from '../../domain/time.js';

export const ACCRUAL_COMPONENTS = ['NI', 'OI', 'PI'] as const;
export type AccrualView = Accrual;

export interface AccrualFilter {
  loan?: string;
  demand?: string;
  account?: string;
  component?: (typeof ACCRUAL_COMPONENTS)[number];
  date_from?: BusinessDate;
  date_to?: BusinessDate;
}

export class AccrualsService {
  constructor(private readonly db: Database) {}

  /** Newest business date first, like every list; a tenant sees only its own rows. */
  async list(companyId: string, page: PageRequest, f: AccrualFilter): Promise<Page<AccrualView>> {
    const dates = {
      ...(f.date_from ? { gte: dateToColumn(f.date_from) } : {}),
      ...(f.date_to ? { lte: dateToColumn(f.date_to) } : {}),
    };
    const where = {
      companyId,
      ...(f.loan ? { loanId: f.loan } : {}), ...(f.demand ? { demandId: f.demand } : {}), ...(f.account ? { accountId: f.account } : {}),
      ...(f.component ? { component: f.component } : {}), ...(f.date_from || f.date_to ? { accrualDate: dates } : {}),
    };
    const [count, results] = await Promise.all([
      this.db.client.accrual.count({ where }),
      this.db.client.accrual.findMany({ where, orderBy: [{ accrualDate: 'desc' }, { createdAt: 'desc' }, { id: 'desc' }], ...skipTake(page) }),
    ]);
    return { count, current_page: page.page, page_size: page.page_size, results };
  }
}
