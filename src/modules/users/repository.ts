import { TenantRepository } from '../../db/tenant-repository.js';
import type { Prisma, User } from '../../generated/prisma/client.js';
import { skipTake, type Page, type PageRequest } from '../../http/wire.js';

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
    const [count, results] = await Promise.all([
      this.client.user.count({ where }),
      this.client.user.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], ...skipTake(page) }),
    ]);
    return { count, current_page: page.page, page_size: page.page_size, results };
  }

  create(data: Omit<Prisma.UserUncheckedCreateInput, 'companyId'>): Promise<User> {
    return this.client.user.create({ data: { ...data, companyId: this.companyId } });
  }

  async update(id: string, data: Prisma.UserUncheckedUpdateManyInput): Promise<User | null> {
    const { count } = await this.client.user.updateMany({ where: this.scoped({ id }), data });
    return count === 1 ? this.findById(id) : null;
  }
}
