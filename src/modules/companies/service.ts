// Companies (tenants) are created by operators through the CLI, never through the tenant API.
import type { Database } from '../../db/database.js';
import { newId } from '../../domain/ids.js';
import { DomainError, notFound } from '../../errors.js';
import { UUID_PATTERN } from '../../domain/ids.js';
import type { Company } from '../../generated/prisma/client.js';

export class CompaniesService {
  constructor(private readonly db: Database) {}

  async create(name: string): Promise<Company> {
    const trimmed = name.trim();
    if (!trimmed) throw new DomainError('VALIDATION_ERROR', 'name: must not be empty', { name: ['must not be empty'] });
    const existing = await this.db.prisma.company.findUnique({ where: { name: trimmed } });
    if (existing) throw new DomainError('DUPLICATE', `A company named ${trimmed} already exists.`, { name: ['already exists'] });
    return this.db.prisma.company.create({ data: { id: newId(), name: trimmed } });
  }

  list(): Promise<Company[]> {
    return this.db.prisma.company.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** Finds a company by id or exact name. */
  async find(idOrName: string): Promise<Company> {
    const company = UUID_PATTERN.test(idOrName)
      ? await this.db.prisma.company.findUnique({ where: { id: idOrName } })
      : await this.db.prisma.company.findUnique({ where: { name: idOrName } });
    if (!company) throw notFound(`Company ${idOrName}`);
    return company;
  }

  get(id: string): Promise<Company> {
    return this.find(id);
  }
}
