// Bearer authentication and role checks for every /v1 route, in one onRequest hook, so that a
// route cannot forget them. Routes opt out with `config: { public: true }` and name the roles
// they allow with `config: { roles: [...] }`; writing routes default to WRITE_ROLES.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../errors.js';
import type { AuthService } from '../modules/auth/service.js';
import { WRITE_ROLES, type AuthContext, type Role } from '../modules/auth/roles.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No bearer token needed (login, health, callbacks with their own signature). */
    public?: boolean;
    /** Roles allowed; default: any role for GET/HEAD, WRITE_ROLES otherwise. */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The caller of a protected route; throws if used on a public route by mistake. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new DomainError('UNAUTHENTICATED', 'Authentication credentials were not provided.');
  return request.auth;
}

async function authPlugin(app: FastifyInstance, options: { authService: AuthService }) {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions;
    // Unknown routes fall through to the 404 handler; public routes carry their own checks.
    if (!route.url || route.config.public || !route.url.startsWith('/v1/')) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new DomainError('UNAUTHENTICATED', 'Authentication credentials were not provided.');
    const auth = await options.authService.authenticate(match[1]!);
    if (!auth) throw new DomainError('UNAUTHENTICATED', 'Given token not valid for any token type.');
    request.auth = auth;
    const allowed = route.config.roles ?? (READ_METHODS.has(request.method) ? null : WRITE_ROLES);
    if (allowed && !allowed.includes(auth.role)) {
      throw new DomainError('FORBIDDEN', `Role ${auth.role} may not perform this action.`);
    }
  });
}

export default fp(authPlugin, { name: 'auth', dependencies: ['errors'] });
