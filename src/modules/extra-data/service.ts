// Extra data: free-form JSON that clients attach to their objects. Stored and returned as given,
// merged on update (RFC 7386: a null removes a key), bounded in size, never read by money code.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { newId } from '../../domain/ids.js';
import { DomainError, notFound } from '../../errors.js';
import type { ExtraData, Prisma } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { LoansRepository } from '../loans/repository.js';
import type { Actor } from '../users/service.js';

export const EXTRA_DATA_MAX_BYTES = 16 * 1024;

const owned = (find: (db: Database, companyId: string, id: string) => Promise<unknown>) =>
  (db: Database, companyId: string, id: string) => find(db, companyId, id).then(Boolean);

/** The objects extra data can attach to, each with how to check that the caller's company owns one. */
const ENTITIES = {
  account: { label: 'Account', exists: owned((db, companyId, id) => new AccountsRepository(db, companyId).findById(id)) },
  loan: { label: 'Loan', exists: owned((db, companyId, id) => new LoansRepository(db, companyId).findById(id)) },
  topup: { label: 'Topup', exists: owned((db, companyId, id) => db.client.topup.findFirst({ where: { companyId, id }, select: { id: true } })) },
  topup_group: { label: 'Topup group', exists: owned((db, companyId, id) => db.client.topupGroup.findFirst({ where: { companyId, id }, select: { id: true } })) },
  record: { label: 'Record', exists: owned((db, companyId, id) => db.client.record.findFirst({ where: { companyId, id }, select: { id: true } })) },
} as const;
export const EXTRA_DATA_ENTITY_TYPES = Object.keys(ENTITIES) as [keyof typeof ENTITIES, ...(keyof typeof ENTITIES)[]];
export type ExtraDataEntityType = keyof typeof ENTITIES;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: { [key: string]: Json } = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

class ExtraDataRepository extends TenantRepository {
  async lockOrCreate(entityType: string, entityId: string): Promise<ExtraData> {
    await this.client.extraData.createMany({ data: [{ id: newId(), companyId: this.companyId, entityType, entityId, data: {} }], skipDuplicates: true });
    await this.client.$queryRaw`
      SELECT id FROM extra_data WHERE company_id = ${this.companyId}::uuid AND entity_type = ${entityType} AND entity_id = ${entityId}::uuid FOR UPDATE`;
    return (await this.client.extraData.findFirst({ where: this.scoped({ entityType, entityId }) }))!;
  }

  async update(id: string, data: object, updatedBy: string | null): Promise<ExtraData> {
    await this.client.extraData.updateMany({ where: this.scoped({ id }), data: { data, updatedBy } });
    return (await this.client.extraData.findFirst({ where: this.scoped({ id }) }))!;
  }

  list(page: PageRequest, filter: { entity_type?: string; entity_id?: string }): Promise<Page<ExtraData>> {
    const where = this.scoped<Prisma.ExtraDataWhereInput>({ entityType: filter.entity_type, entityId: filter.entity_id });
    return this.paginate(page, () => this.client.extraData.count({ where }), (args) => this.client.extraData.findMany({ where, ...args }));
  }
}

export class ExtraDataService {
  constructor(private readonly db: Database) {}

  update(by: Actor, entityId: string, input: { entity_type: ExtraDataEntityType; data: Record<string, unknown> }): Promise<ExtraData> {
    return this.db.transaction(async () => {
      const entity = ENTITIES[input.entity_type];
      if (!(await entity.exists(this.db, by.companyId, entityId))) throw notFound(entity.label);
      const repo = new ExtraDataRepository(this.db, by.companyId);
      const current = await repo.lockOrCreate(input.entity_type, entityId);
      const merged = mergePatch(current.data as Json, input.data as Json) ?? {};
      const size = Buffer.byteLength(JSON.stringify(merged));
      if (size > EXTRA_DATA_MAX_BYTES) {
        throw new DomainError('VALIDATION_ERROR', `data: would be ${size} bytes; the limit is ${EXTRA_DATA_MAX_BYTES}`, { data: [`must be at most ${EXTRA_DATA_MAX_BYTES} bytes of JSON`] });
      }
      return repo.update(current.id, merged as object, by.actor);
    });
  }

  list(companyId: string, page: PageRequest, filter: { entity_type?: string; entity_id?: string }) {
    return new ExtraDataRepository(this.db, companyId).list(page, filter);
  }
}
