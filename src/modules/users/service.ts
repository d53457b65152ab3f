import type { Database } from '../../db/database.js';
import { newId } from '../../domain/ids.js';
import { onUniqueViolation } from '../../db/unique.js';
import { DomainError, notFound } from '../../errors.js';
import type { User } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import { hashPassword } from '../auth/passwords.js';
import type { Role } from '../auth/roles.js';
import { UsersRepository } from './repository.js';

export interface Actor {
  companyId: string;
  actor: string | null;
}

export interface NewUser {
  username: string;
  password: string;
  role: Role;
}

export class UsersService {
  constructor(private readonly db: Database) {}

  private repo(companyId: string) {
    return new UsersRepository(this.db, companyId);
  }

  async create(by: Actor, input: NewUser): Promise<User> {
    const repo = this.repo(by.companyId);
    const passwordHash = await hashPassword(input.password);
    return this.db.transaction(async () => {
      const taken = () => new DomainError('DUPLICATE', `Username ${input.username} is taken.`, { username: ['is taken'] });
      if (await repo.findByUsername(input.username)) throw taken();
      const user = await onUniqueViolation(() => repo.create({ id: newId(), username: input.username, passwordHash, role: input.role }), taken);
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'user', entityId: user.id, action: 'created', actor: by.actor, data: { role: user.role } });
      return user;
    });
  }

  async get(companyId: string, id: string): Promise<User> {
    const user = await this.repo(companyId).findById(id);
    if (!user) throw notFound('User');
    return user;
  }

  list(companyId: string, page: PageRequest, filter: { role?: string; isActive?: boolean }): Promise<Page<User>> {
    return this.repo(companyId).list(page, filter);
  }

  async update(by: Actor, id: string, input: { role?: Role; is_active?: boolean; password?: string }): Promise<User> {
    const passwordHash = input.password ? await hashPassword(input.password) : undefined;
    return this.db.transaction(async () => {
      const user = await this.repo(by.companyId).update(id, { role: input.role, isActive: input.is_active, passwordHash });
      if (!user) throw notFound('User');
      await writeAudit(this.db, {
        companyId: by.companyId, entityType: 'user', entityId: id, action: 'updated', actor: by.actor,
        data: { role: input.role, is_active: input.is_active, password_changed: passwordHash !== undefined },
      });
      return user;
    });
  }
}
