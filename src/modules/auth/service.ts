// Authentication: resolving a bearer token to an AuthContext, staff login and refresh.
import type { Database } from '../../db/database.js';
import { DomainError } from '../../errors.js';
import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from './passwords.js';
import { API_TOKEN_PREFIX, hashApiToken, signJwt, verifyJwt } from './tokens.js';
import { ROLES, type AuthContext, type Role } from './roles.js';

export interface AuthSettings {
  jwtSecret: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

const asRole = (role: string): Role => {
  if (!(ROLES as readonly string[]).includes(role)) throw new Error(`unknown role ${role}`);
  return role as Role;
};

export class AuthService {
  constructor(
    private readonly db: Database,
    private readonly settings: AuthSettings,
  ) {}

  /** Resolves a bearer token; null when it is unknown, revoked, expired or malformed. */
  async authenticate(token: string): Promise<AuthContext | null> {
    if (token.startsWith(API_TOKEN_PREFIX)) return this.authenticateApiToken(token);
    const claims = await verifyJwt(this.settings.jwtSecret, token, 'access');
    if (!claims) return null;
    const user = await this.db.prisma.user.findUnique({ where: { id: claims.user_id } });
    if (!user || !user.isActive || user.companyId !== claims.company_id) return null;
    return { companyId: user.companyId, role: asRole(user.role), userId: user.id, tokenKind: 'jwt', tokenId: claims.jti, actor: `user:${user.id}` };
  }

  private async authenticateApiToken(token: string): Promise<AuthContext | null> {
    const row = await this.db.prisma.apiToken.findUnique({ where: { tokenHash: hashApiToken(token) } });
    if (!row || row.revokedAt) return null;
    // Touch last_used_at at most once a minute so that reads do not become writes.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await this.db.prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
    }
    return { companyId: row.companyId, role: asRole(row.role), userId: row.createdById, tokenKind: 'api_token', tokenId: row.id, actor: `token:${row.id}` };
  }

  async login(username: string, password: string): Promise<{ access: string; refresh: string }> {
    const user = await this.db.prisma.user.findUnique({ where: { username } });
    // Verify against a dummy hash when there is no such user, so that the answer takes as long
    // for an unknown username as for a wrong password.
    const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await this.dummyHash()));
    const ok = user !== null && user.isActive && passwordOk;
    if (!ok || !user) throw new DomainError('INVALID_CREDENTIALS', 'No active account found with the given credentials.');
    await this.db.prisma.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    return this.issuePair(user.id, user.companyId);
  }

  private dummy: Promise<string> | null = null;
  private dummyHash(): Promise<string> {
    this.dummy ??= hashPassword(randomBytes(16).toString('hex'));
    return this.dummy;
  }

  async refresh(refreshToken: string): Promise<{ access: string }> {
    const claims = await verifyJwt(this.settings.jwtSecret, refreshToken, 'refresh');
    const user = claims ? await this.db.prisma.user.findUnique({ where: { id: claims.user_id } }) : null;
    if (!claims || !user || !user.isActive || user.companyId !== claims.company_id) throw new DomainError('UNAUTHENTICATED', 'Token is invalid or expired.');
    return { access: await signJwt(this.settings.jwtSecret, 'access', user.id, user.companyId, this.settings.accessTtlSeconds) };
  }

  private async issuePair(userId: string, companyId: string) {
    const [access, refresh] = await Promise.all([
      signJwt(this.settings.jwtSecret, 'access', userId, companyId, this.settings.accessTtlSeconds),
      signJwt(this.settings.jwtSecret, 'refresh', userId, companyId, this.settings.refreshTtlSeconds),
    ]);
    return { access, refresh };
  }
}
