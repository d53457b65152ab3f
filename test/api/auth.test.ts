import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { newId } from '../../src/domain/ids.js';
import type { Role } from '../../src/modules/auth/roles.js';
import { buildTestApp, createTenant, TEST_JWT_SECRET, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp();
  tenant = await createTenant(ctx, 'auth');
});
afterAll(async () => { await ctx.close(); });

const PASSWORD = 'correct horse battery staple';

async function createUser(role: Role = 'maker', password = PASSWORD) {
  const username = `user-${newId()}`;
  const user = await ctx.app.services.users.create({ companyId: tenant.companyId, actor: 'test' }, { username, password, role });
  return { id: user.id, username, password };
}

function login(username: string, password: string) {
  return ctx.http().post('/v1/auth/token/').send({ username, password });
}

async function loginPair(username: string, password = PASSWORD): Promise<{ access: string; refresh: string }> {
  const res = await login(username, password);
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}

function ping(authorization?: string) {
  const req = ctx.http().get('/v1/auth/ping/');
  return authorization === undefined ? req : req.set('Authorization', authorization);
}

async function signToken(claims: Record<string, unknown>, options: { secret?: string; exp?: number; iat?: number; alg?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setJti(newId().replaceAll('-', ''))
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 3600)
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectUnauthenticated(res: { status: number; body: { code?: string } }) {
  expect(res.status).toBe(401);
  expect(res.body.code).toBe('UNAUTHENTICATED');
}

describe('bearer authentication', () => {
  it('no Authorization header is 401 UNAUTHENTICATED', async () => {
    expectUnauthenticated(await ping());
    expectUnauthenticated(await ctx.http().get('/v1/lms/accounts/'));
    expectUnauthenticated(await ctx.http().post('/v1/lms/accounts/').send({ name: 'x', sanctioned_limit: 1 }));
  });

  it.each(['', 'Token x', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a b', 'bearer-lms_x'])('malformed header %j is 401', async (header) => {
    expectUnauthenticated(await ping(header));
  });

  it('accepts the scheme in any case', async () => {
    const res = await ping(`bearer ${tenant.tokens.viewer}`);
    expect(res.status).toBe(200);
  });

  it('an unknown lms_ token is 401', async () => {
    expectUnauthenticated(await ping(`Bearer lms_${'A'.repeat(43)}`));
    expectUnauthenticated(await ping('Bearer lms_'));
    // a real token with one character changed
    const token = tenant.tokens.admin;
    const altered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expectUnauthenticated(await ping(`Bearer ${altered}`));
  });

  it('a revoked API token is 401', async () => {
    const created = await ctx.app.services.apiTokens.create({ companyId: tenant.companyId, actor: 'test' }, { name: 'to-revoke', role: 'admin' });
    expect((await ping(`Bearer ${created.token}`)).status).toBe(200);
    await ctx.app.services.apiTokens.revoke({ companyId: tenant.companyId, actor: 'test' }, created.record.id);
    expectUnauthenticated(await ping(`Bearer ${created.token}`));
  });

  it.each([
    'garbage',
    'a.b.c',
    'eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ',
    'eyJhbGciOiJIUzI1NiJ9.%%%.abc',
    `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ token_type: 'access' })}.`,
  ])('a garbage JWT %j is 401', async (token) => {
    expectUnauthenticated(await ping(`Bearer ${token}`));
  });

  it('a JWT signed with another secret is 401', async () => {
    const user = await createUser();
    const claims = { token_type: 'access', user_id: user.id, company_id: tenant.companyId };
    // control: the same claims with the right secret pass
    expect((await ping(`Bearer ${await signToken(claims)}`)).status).toBe(200);
    expectUnauthenticated(await ping(`Bearer ${await signToken(claims, { secret: `${TEST_JWT_SECRET}-other` })}`));
  });

  it('an unsigned (alg none) JWT with valid claims is 401', async () => {
    const user = await createUser();
    const now = Math.floor(Date.now() / 1000);
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ token_type: 'access', user_id: user.id, company_id: tenant.companyId, jti: 'x', iat: now, exp: now + 3600 })}.`;
    expectUnauthenticated(await ping(`Bearer ${token}`));
  });

  it('an expired JWT is 401', async () => {
    const user = await createUser();
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken({ token_type: 'access', user_id: user.id, company_id: tenant.companyId }, { iat: now - 7200, exp: now - 3600 });
    expectUnauthenticated(await ping(`Bearer ${token}`));
  });

  it('a JWT whose claims do not match the user is 401', async () => {
    const user = await createUser();
    const other = await createTenant(ctx, 'auth-other');
    expectUnauthenticated(await ping(`Bearer ${await signToken({ token_type: 'access', user_id: user.id, company_id: other.companyId })}`));
    expectUnauthenticated(await ping(`Bearer ${await signToken({ token_type: 'access', user_id: newId(), company_id: tenant.companyId })}`));
    expectUnauthenticated(await ping(`Bearer ${await signToken({ token_type: 'access', company_id: tenant.companyId })}`));
    expectUnauthenticated(await ping(`Bearer ${await signToken({ user_id: user.id, company_id: tenant.companyId })}`));
  });

  it('a refresh token used as an access token is 401', async () => {
    const user = await createUser();
    const { access, refresh } = await loginPair(user.username);
    expect((await ping(`Bearer ${access}`)).status).toBe(200);
    expectUnauthenticated(await ping(`Bearer ${refresh}`));
    expectUnauthenticated(await ctx.http().get('/v1/lms/accounts/').set('Authorization', `Bearer ${refresh}`));
  });

  it('a deactivated user loses access and cannot log in or refresh', async () => {
    const user = await createUser('admin');
    const { access, refresh } = await loginPair(user.username);
    expect((await ping(`Bearer ${access}`)).status).toBe(200);
    await ctx.app.services.users.update({ companyId: tenant.companyId, actor: 'test' }, user.id, { is_active: false });
    expectUnauthenticated(await ping(`Bearer ${access}`));
    const relogin = await login(user.username, user.password);
    expect(relogin.status).toBe(401);
    expect(relogin.body.code).toBe('INVALID_CREDENTIALS');
    expectUnauthenticated(await ctx.http().post('/v1/auth/token/refresh/').send({ refresh }));
  });
});

describe('login and refresh', () => {
  it('POST /v1/auth/token/ returns an access and a refresh JWT, without needing a token', async () => {
    const user = await createUser('checker');
    const res = await login(user.username, user.password);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access', 'refresh']);
    const jwt = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
    expect(res.body.access).toMatch(jwt);
    expect(res.body.refresh).toMatch(jwt);
    expect(res.body.access).not.toBe(res.body.refresh);
    const payload = JSON.parse(Buffer.from(res.body.access.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({ token_type: 'access', user_id: user.id, company_id: tenant.companyId });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp as number - (payload.iat as number)).toBe(86400);
    const refreshPayload = JSON.parse(Buffer.from(res.body.refresh.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(refreshPayload.token_type).toBe('refresh');

    const me = await ping(`Bearer ${res.body.access}`);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ detail: 'pong', company_id: tenant.companyId, user_id: user.id, role: 'checker', token_kind: 'jwt' });
  });

  it('login ignores a bogus Authorization header (the route is public)', async () => {
    const user = await createUser();
    const res = await ctx.http().post('/v1/auth/token/').set('Authorization', 'Bearer garbage').send({ username: user.username, password: user.password });
    expect(res.status).toBe(200);
  });

  it('a wrong password is 401 INVALID_CREDENTIALS', async () => {
    const user = await createUser();
    const res = await login(user.username, `${user.password}!`);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_CREDENTIALS');
    expect(res.body).not.toHaveProperty('access');
  });

  it('an unknown username is the same 401 INVALID_CREDENTIALS', async () => {
    const wrongPassword = await login((await createUser()).username, 'nope');
    const unknown = await login(`nobody-${newId()}`, 'nope');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrongPassword.body);
  });

  it('login validates its body', async () => {
    const missing = await ctx.http().post('/v1/auth/token/').send({ username: 'x' });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body.errors)).toEqual(['password']);
    const extra = await ctx.http().post('/v1/auth/token/').send({ username: 'x', password: 'y', otp: '1' });
    expect(extra.status).toBe(400);
    expect(Object.keys(extra.body.errors)).toEqual(['otp']);
  });

  it('POST /v1/auth/token/refresh/ returns a new working access token', async () => {
    const user = await createUser('maker');
    const { refresh } = await loginPair(user.username);
    const res = await ctx.http().post('/v1/auth/token/refresh/').send({ refresh });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['access']);
    const me = await ping(`Bearer ${res.body.access}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: user.id, role: 'maker', token_kind: 'jwt', company_id: tenant.companyId });
  });

  it('an access token used as a refresh token is 401', async () => {
    const user = await createUser();
    const { access } = await loginPair(user.username);
    expectUnauthenticated(await ctx.http().post('/v1/auth/token/refresh/').send({ refresh: access }));
  });

  it.each(['garbage', 'a.b.c'])('a garbage refresh token %j is 401', async (refresh) => {
    expectUnauthenticated(await ctx.http().post('/v1/auth/token/refresh/').send({ refresh }));
  });

  it('an expired refresh token is 401', async () => {
    const user = await createUser();
    const now = Math.floor(Date.now() / 1000);
    const refresh = await signToken({ token_type: 'refresh', user_id: user.id, company_id: tenant.companyId }, { iat: now - 7200, exp: now - 60 });
    expectUnauthenticated(await ctx.http().post('/v1/auth/token/refresh/').send({ refresh }));
  });
});

describe('GET /v1/auth/ping/', () => {
  it.each(['admin', 'maker', 'checker', 'viewer'] as const)('reports company and role for a %s API token', async (role) => {
    const res = await ping(tenant.bearer(role));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ detail: 'pong', company_id: tenant.companyId, user_id: null, role, token_kind: 'api_token' });
  });
});

describe('roles', () => {
  it('a viewer may read but not write (403 FORBIDDEN)', async () => {
    const created = await ctx.http().post('/v1/lms/accounts/').set('Authorization', tenant.bearer('maker'))
      .send({ name: `roles-${newId()}`, sanctioned_limit: 100 });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const post = await ctx.http().post('/v1/lms/accounts/').set('Authorization', tenant.bearer('viewer'))
      .send({ name: `viewer-${newId()}`, sanctioned_limit: 100 });
    expect(post.status).toBe(403);
    expect(post.body.code).toBe('FORBIDDEN');

    const patch = await ctx.http().patch(`/v1/lms/accounts/${id}/`).set('Authorization', tenant.bearer('viewer')).send({ name: 'renamed' });
    expect(patch.status).toBe(403);
    expect(patch.body.code).toBe('FORBIDDEN');

    const list = await ctx.http().get('/v1/lms/accounts/').set('Authorization', tenant.bearer('viewer'));
    expect(list.status).toBe(200);
    const one = await ctx.http().get(`/v1/lms/accounts/${id}/`).set('Authorization', tenant.bearer('viewer'));
    expect(one.status).toBe(200);
    expect(one.body.name).toBe(created.body.name); // the forbidden PATCH changed nothing
  });

  it('a viewer is refused before the body is validated', async () => {
    const res = await ctx.http().post('/v1/lms/accounts/').set('Authorization', tenant.bearer('viewer')).send({ nonsense: true });
    expect(res.status).toBe(403);
  });

  it('a viewer staff user (JWT) is also read-only', async () => {
    const user = await createUser('viewer');
    const { access } = await loginPair(user.username);
    const post = await ctx.http().post('/v1/lms/accounts/').set('Authorization', `Bearer ${access}`).send({ name: `jwt-viewer-${newId()}`, sanctioned_limit: 1 });
    expect(post.status).toBe(403);
    expect(post.body.code).toBe('FORBIDDEN');
    expect((await ctx.http().get('/v1/lms/accounts/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
  });

  it('admin-only routes refuse maker tokens', async () => {
    const res = await ctx.http().get('/v1/lms/users/').set('Authorization', tenant.bearer('maker'));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    expect((await ctx.http().get('/v1/lms/users/').set('Authorization', tenant.bearer('admin'))).status).toBe(200);
  });
});
