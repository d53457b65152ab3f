// Long-lived API tokens for systems. The token text is returned once, at creation; only its
// SHA-256 hash is stored. Revocation is immediate and permanent.
import type { Database } from '../../db/database.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { newId } from '../../domain/ids.js';
import { notFound } from '../../errors.js';
import type { ApiToken } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import type { Role } from '../auth/roles.js';
import { generateApiToken } from '../auth/tokens.js';
import type { Actor } from '../users/service.js';

class ApiTokensRepository extends TenantRepository {
  findById(id: string) {
    return this.client.apiToken.findFirst({ where: this.scoped({ id }) });
  }

  async list(page: PageRequest, includeRevoked: boolean): Promise<Page<ApiToken>> {
    const where = this.scoped(includeRevoked ? {} : { revokedAt: null });
    return this.paginate(page, () => this.client.apiToken.count({ where }), (args) => this.client.apiToken.findMany({ where, ...args }));
  }

  create(data: { id: string; name: string; role: string; tokenHash: string; prefix: string; createdById: string | null }) {
    return this.client.apiToken.create({ data: { ...data, companyId: this.companyId } });
  }

  async revoke(id: string): Promise<void> {
    await this.client.apiToken.updateMany({ where: this.scoped({ id, revokedAt: null }), data: { revokedAt: new Date() } });
  }
}

export interface CreatedToken {
  record: ApiToken;
  token: string;
}

export class ApiTokensService {
  constructor(private readonly db: Database) {}

  private repo(companyId: string) {
    return new ApiTokensRepository(this.db, companyId);
  }

  async create(by: Actor & { userId?: string | null }, input: { name: string; role: Role }): Promise<CreatedToken> {
    const generated = generateApiToken();
    return this.db.transaction(async () => {
      const record = await this.repo(by.companyId).create({
        id: newId(), name: input.name, role: input.role, tokenHash: generated.hash, prefix: generated.prefix, createdById: by.userId ?? null,
      });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'api_token', entityId: record.id, action: 'created', actor: by.actor, data: { role: input.role, name: input.name } });
      return { record, token: generated.token };
    });
  }

  list(companyId: string, page: PageRequest, includeRevoked: boolean) {
    return this.repo(companyId).list(page, includeRevoked);
  }

  async get(companyId: string, id: string): Promise<ApiToken> {
    const token = await this.repo(companyId).findById(id);
    if (!token) throw notFound('API token');
    return token;
  }

  /** Revokes a token; revoking a revoked token changes nothing and answers the same. */
  async revoke(by: Actor, id: string): Promise<ApiToken> {
    return this.db.transaction(async () => {
      const repo = this.repo(by.companyId);
      const token = await repo.findById(id);
      if (!token) throw notFound('API token');
      if (token.revokedAt) return token;
      await repo.revoke(id);
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'api_token', entityId: id, action: 'revoked', actor: by.actor });
      return (await repo.findById(id))!;
    });
  }
}
