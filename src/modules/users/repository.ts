import { TenantRepository } from '../../db/tenant-repository.js';
import type { Prisma, User } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';

export class UsersRepository extends TenantRepository {
  findById(id: string): Promise<User | null> {
    return this.client.user.findFirst({ where: this.scoped({ id }) });
  }

  findByUsername(username: string): Promise<User | null> {
    // Usernames are unique across companies (login takes only a username).
    return this.client.user.findUnique({ where: { username } });
  }

  async list(page: PageRequest, filter: { role?: string; isActive?: boolean }): Promise<Page<User>> {
    const where = this.scoped<Prisma.UserWhereInput>({ role: filter.role, isActive: filter.isActive });
    return this.paginate(page, () => this.client.user.count({ where }), (args) => this.client.user.findMany({ where, ...args }));
  }

  create(data: Omit<Prisma.UserUncheckedCreateInput, 'companyId'>): Promise<User> {
    return this.client.user.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.UserUncheckedUpdateManyInput): Promise<User | null> {
    const { count } = await this.client.user.updateMany({ where: this.scoped({ id }), data });
    return count === 1 ? this.findById(id) : null;
  }
}
