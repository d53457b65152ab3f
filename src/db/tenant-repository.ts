// Tenancy is enforced here and only here: a tenant repository is built for one company and every
// query it makes is filtered by that company, so a foreign id is indistinguishable from a
// missing one (both 404). Routes and services never write `companyId` filters themselves.
import type { Database, DbClient } from './database.js';
import { skipTake, type Page, type PageRequest } from '../http/wire.js';

export abstract class TenantRepository {
  constructor(
    protected readonly db: Database,
    readonly companyId: string,
  ) {}

  protected get client(): DbClient {
    return this.db.client;
  }

  /** Adds the company filter to a where clause. */
  protected scoped<W extends object>(where?: W): W & { companyId: string } {
    return { ...(where ?? ({} as W)), companyId: this.companyId };
  }

  /** One page of a list: the total count and the rows of the page, newest first. */
  protected async paginate<T>(
    page: PageRequest,
    count: () => Promise<number>,
    find: (args: { skip: number; take: number; orderBy: ({ createdAt: 'desc' } | { id: 'desc' })[] }) => Promise<T[]>,
  ): Promise<Page<T>> {
    const [total, results] = await Promise.all([count(), find({ ...skipTake(page), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })]);
    return { count: total, current_page: page.page, page_size: page.page_size, results };
  }
}
