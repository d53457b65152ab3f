// Companies (tenants) are created by operators through the CLI, never through the tenant API.
import type { Database } from '../../db/database.js';
import { newId } from '../../domain/ids.js';
import { DomainError, notFound } from '../../errors.js';
import { UUID_PATTERN } from '../../domain/ids.js';
import type { Company } from '../../generated/prisma/client.js';
import { writeAudit } from '../audit/audit.js';

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

  /** Changes the company's operating settings; a null removes one (its default applies again). */
  async updateSettings(by: { companyId: string; actor: string | null }, patch: Partial<Record<keyof CompanySettings, string | null>>): Promise<Company> {
    return this.db.transaction(async () => {
      const rows = await this.db.client.$queryRaw<{ settings: CompanySettings }[]>`SELECT settings FROM companies WHERE id = ${by.companyId}::uuid FOR UPDATE`;
      const current: Record<string, unknown> = { ...(rows[0]?.settings ?? {}) };
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        if (value === null) delete current[key];
        else current[key] = value;
      }
      const company = await this.db.client.company.update({ where: { id: by.companyId }, data: { settings: current as object } });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'company', entityId: by.companyId, action: 'settings_updated', actor: by.actor, data: { patch } });
      return company;
    });
  }
}

/** Operating settings kept in `companies.settings` (amounts in paise as decimal strings, rates as decimal strings). */
export interface CompanySettings {
  /** Records above this amount need a checker's approval before they allocate. */
  record_approval_threshold_paise?: string;
  /** The NACH bounce charge put on a loan when a presentation bounces (none when unset). */
  nach_bounce_charge_paise?: string;
  /** GST on that charge, percent (default 0). */
  nach_bounce_charge_gst_rate?: string;
}
