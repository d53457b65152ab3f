// The two kinds of bearer token. API tokens are random strings shown once and stored only as a
// SHA-256 hash. Staff tokens are HS256 JWTs with Crego's claims (token_type, exp, iat, jti,
// user_id, company_id).
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { newId } from '../../domain/ids.js';

export const API_TOKEN_PREFIX = 'lms_';

export function generateApiToken(): { token: string; hash: string; prefix: string } {
  const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashApiToken(token), prefix: token.slice(0, API_TOKEN_PREFIX.length + 6) };
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export type JwtKind = 'access' | 'refresh';

export interface JwtClaims {
  token_type: JwtKind;
  user_id: string;
  company_id: string;
  jti: string;
  iat: number;
  exp: number;
}

export async function signJwt(secret: string, kind: JwtKind, userId: string, companyId: string, ttlSeconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ token_type: kind, user_id: userId, company_id: companyId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setJti(newId().replaceAll('-', ''))
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

/** Verifies signature, expiry and kind; returns null for any token that does not pass. */
export async function verifyJwt(secret: string, token: string, kind: JwtKind): Promise<JwtClaims | null> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
    if (payload.token_type !== kind || typeof payload.user_id !== 'string' || typeof payload.company_id !== 'string') return null;
    return payload as unknown as JwtClaims;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}
