export const ROLES = ['admin', 'maker', 'checker', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may call a writing route unless the route names its own. Viewers only read. */
export const WRITE_ROLES: readonly Role[] = ['admin', 'maker', 'checker'];

/** Who is calling: resolved once per request by the auth plugin. */
export interface AuthContext {
  companyId: string;
  role: Role;
  /** The staff user behind a JWT, or the user who created an API token (null for CLI tokens). */
  userId: string | null;
  tokenKind: 'jwt' | 'api_token';
  tokenId: string;
  /** A short label for audit rows and logs: "user:<id>" or "token:<id>". */
  actor: string;
}
