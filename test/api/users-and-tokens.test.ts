import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import type { Role } from '../../src/modules/auth/roles.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await buildTestApp(); });
afterAll(async () => { await ctx.close(); });

const PASSWORD = 'correct-horse-battery';
const USER_KEYS = ['company', 'created_at', 'id', 'is_active', 'last_login_at', 'role', 'updated_at', 'username'];
const TOKEN_KEYS = ['company', 'created_at', 'created_by', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'role'];

const uniqueName = (label: string) => `${label}-${newId()}`;
const bearer = (token: string) => `Bearer ${token}`;

function createUser(tenant: Tenant, body: Record<string, unknown>, role: Role = 'admin') {
  return ctx.http().post('/v1/lms/users/').set('Authorization', tenant.bearer(role)).send(body);
}
function createToken(tenant: Tenant, body: Record<string, unknown>, authorization = tenant.bearer()) {
  return ctx.http().post('/v1/lms/api_tokens/').set('Authorization', authorization).send(body);
}
function login(username: string, password: string) {
  return ctx.http().post('/v1/auth/token/').send({ username, password });
}
function ping(authorization: string) {
  return ctx.http().get('/v1/auth/ping/').set('Authorization', authorization);
}
function revoke(tenant: Tenant, id: string) {
  return ctx.http().post(`/v1/lms/api_tokens/${id}/revoke/`).set('Authorization', tenant.bearer());
}

describe('staff users (admin only)', () => {
  it('admin creates a user: 201, no password material in the response, hash stored', async () => {
    const tenant = await createTenant(ctx, 'users-create');
    const username = uniqueName('alice');
    const res = await createUser(tenant, { username, password: PASSWORD, role: 'maker' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(USER_KEYS);
    expect(res.body).toMatchObject({ username, role: 'maker', is_active: true, last_login_at: null, company: tenant.companyId });
    expect(JSON.stringify(res.body)).not.toContain('password');
    expect(JSON.stringify(res.body)).not.toContain(PASSWORD);

    const row = await ctx.db.prisma.user.findUnique({ where: { id: res.body.id } });
    expect(row).toMatchObject({ username, role: 'maker', isActive: true, companyId: tenant.companyId });
    expect(row!.passwordHash).not.toBe(PASSWORD);
    expect(row!.passwordHash).not.toContain(PASSWORD);
    const audit = await ctx.db.prisma.auditEvent.findMany({ where: { companyId: tenant.companyId, entityType: 'user', entityId: res.body.id } });
    expect(audit.map((e) => e.action)).toEqual(['created']);
  });

  it.each(['maker', 'checker', 'viewer'] as const)('%s gets 403 on every user and api token route', async (role) => {
    const tenant = await createTenant(ctx, `users-403-${role}`);
    const userId = (await createUser(tenant, { username: uniqueName('target'), password: PASSWORD, role: 'viewer' })).body.id as string;
    const tokenId = (await createToken(tenant, { name: 'target' })).body.id as string;
    const auth = tenant.bearer(role);
    const http = ctx.http();
    const attempts = [
      http.post('/v1/lms/users/').set('Authorization', auth).send({ username: uniqueName('sneaky'), password: PASSWORD, role: 'admin' }),
      ctx.http().get('/v1/lms/users/').set('Authorization', auth),
      ctx.http().get(`/v1/lms/users/${userId}/`).set('Authorization', auth),
      ctx.http().patch(`/v1/lms/users/${userId}/`).set('Authorization', auth).send({ role: 'admin' }),
      ctx.http().post('/v1/lms/api_tokens/').set('Authorization', auth).send({ name: 'sneaky', role: 'admin' }),
      ctx.http().get('/v1/lms/api_tokens/').set('Authorization', auth),
      ctx.http().get(`/v1/lms/api_tokens/${tokenId}/`).set('Authorization', auth),
      ctx.http().post(`/v1/lms/api_tokens/${tokenId}/revoke/`).set('Authorization', auth),
    ];
    const labels = ['POST users', 'GET users', 'GET user', 'PATCH user', 'POST api_tokens', 'GET api_tokens', 'GET api_token', 'POST revoke'];
    for (const [i, res] of (await Promise.all(attempts)).entries()) {
      expect(res.status, labels[i]).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    // Nothing changed.
    expect(await ctx.db.prisma.user.count({ where: { companyId: tenant.companyId } })).toBe(1);
    expect((await ctx.db.prisma.user.findUnique({ where: { id: userId } }))!.role).toBe('viewer');
    expect(await ctx.db.prisma.apiToken.count({ where: { companyId: tenant.companyId } })).toBe(5);
    expect((await ctx.db.prisma.apiToken.findUnique({ where: { id: tokenId } }))!.revokedAt).toBeNull();
  });

  it('validation: short password, bad username, unknown role -> 400 naming the field', async () => {
    const tenant = await createTenant(ctx, 'users-validate');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ username: uniqueName('u'), password: 'short', role: 'maker' }, 'password'],
      [{ username: 'a b', password: PASSWORD, role: 'maker' }, 'username'],
      [{ username: uniqueName('u'), password: PASSWORD, role: 'superuser' }, 'role'],
      [{ username: uniqueName('u'), password: PASSWORD, role: 'maker', is_superuser: true }, 'is_superuser'],
    ];
    for (const [body, field] of cases) {
      const res = await createUser(tenant, body);
      expect(res.status, field).toBe(400);
      expect(Object.keys(res.body.errors), field).toEqual([field]);
    }
    expect(await ctx.db.prisma.user.count({ where: { companyId: tenant.companyId } })).toBe(0);
  });

  it('duplicate username -> 409, also across companies (usernames are global)', async () => {
    const tenant = await createTenant(ctx, 'users-dup');
    const other = await createTenant(ctx, 'users-dup-other');
    const username = uniqueName('dup');
    expect((await createUser(tenant, { username, password: PASSWORD, role: 'viewer' })).status).toBe(201);
    const again = await createUser(tenant, { username, password: PASSWORD, role: 'maker' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'DUPLICATE', errors: { username: ['is taken'] } });
    const elsewhere = await createUser(other, { username, password: PASSWORD, role: 'maker' });
    expect(elsewhere.status).toBe(409);
    expect(await ctx.db.prisma.user.count({ where: { username } })).toBe(1);
  });

  it('lists, filters, gets and patches users of this company only', async () => {
    const tenant = await createTenant(ctx, 'users-list');
    const other = await createTenant(ctx, 'users-list-other');
    const a = (await createUser(tenant, { username: uniqueName('a'), password: PASSWORD, role: 'maker' })).body;
    const b = (await createUser(tenant, { username: uniqueName('b'), password: PASSWORD, role: 'checker' })).body;
    const foreignUser = (await createUser(other, { username: uniqueName('f'), password: PASSWORD, role: 'maker' })).body;

    const list = await ctx.http().get('/v1/lms/users/').set('Authorization', tenant.bearer());
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 2, current_page: 1, page_size: 15 });
    expect(list.body.results.map((u: { id: string }) => u.id)).toEqual([b.id, a.id]);
    expect(JSON.stringify(list.body)).not.toContain('password');

    const makers = await ctx.http().get('/v1/lms/users/?role=maker').set('Authorization', tenant.bearer());
    expect(makers.body.results.map((u: { id: string }) => u.id)).toEqual([a.id]);

    const one = await ctx.http().get(`/v1/lms/users/${a.id}/`).set('Authorization', tenant.bearer());
    expect(one.status).toBe(200);
    expect(one.body).toEqual(a);

    const patched = await ctx.http().patch(`/v1/lms/users/${a.id}/`).set('Authorization', tenant.bearer()).send({ role: 'checker' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: a.id, role: 'checker', is_active: true, username: a.username });
    expect((await ctx.db.prisma.user.findUnique({ where: { id: a.id } }))!.role).toBe('checker');

    const inactive = await ctx.http().patch(`/v1/lms/users/${b.id}/`).set('Authorization', tenant.bearer()).send({ is_active: false });
    expect(inactive.body.is_active).toBe(false);
    const activeOnly = await ctx.http().get('/v1/lms/users/?is_active=true').set('Authorization', tenant.bearer());
    expect(activeOnly.body.results.map((u: { id: string }) => u.id)).toEqual([a.id]);

    const foreignGet = await ctx.http().get(`/v1/lms/users/${foreignUser.id}/`).set('Authorization', tenant.bearer());
    const randomGet = await ctx.http().get(`/v1/lms/users/${newId()}/`).set('Authorization', tenant.bearer());
    expect(foreignGet.status).toBe(404);
    expect(foreignGet.body).toEqual({ code: 'NOT_FOUND', detail: 'User not found.' });
    expect(foreignGet.body).toEqual(randomGet.body);
    const foreignPatch = await ctx.http().patch(`/v1/lms/users/${foreignUser.id}/`).set('Authorization', tenant.bearer()).send({ is_active: false });
    expect(foreignPatch.status).toBe(404);
    expect((await ctx.db.prisma.user.findUnique({ where: { id: foreignUser.id } }))!.isActive).toBe(true);
  });

  it('a created user logs in and uses the access JWT; login records last_login_at', async () => {
    const tenant = await createTenant(ctx, 'users-login');
    const username = uniqueName('login');
    const user = (await createUser(tenant, { username, password: PASSWORD, role: 'checker' })).body;

    const wrong = await login(username, 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');

    const res = await login(username, PASSWORD);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access', 'refresh']);
    const pong = await ping(bearer(res.body.access));
    expect(pong.status).toBe(200);
    expect(pong.body).toEqual({ detail: 'pong', company_id: tenant.companyId, user_id: user.id, role: 'checker', token_kind: 'jwt' });

    // The refresh token is not an access token.
    expect((await ping(bearer(res.body.refresh))).status).toBe(401);

    const row = await ctx.db.prisma.user.findUnique({ where: { id: user.id } });
    expect(row!.lastLoginAt).not.toBeNull();
    const fetched = await ctx.http().get(`/v1/lms/users/${user.id}/`).set('Authorization', tenant.bearer());
    expect(typeof fetched.body.last_login_at).toBe('number');

    // The JWT carries the user's role: a checker can write accounts but not manage users.
    const account = await ctx.http().post('/v1/lms/accounts/').set('Authorization', bearer(res.body.access)).send({ name: 'By JWT', sanctioned_limit: 10 });
    expect(account.status).toBe(201);
    expect(account.body.company).toBe(tenant.companyId);
    const users = await ctx.http().get('/v1/lms/users/').set('Authorization', bearer(res.body.access));
    expect(users.status).toBe(403);
  });

  it('a role change applies to an existing JWT at once', async () => {
    const tenant = await createTenant(ctx, 'users-role');
    const username = uniqueName('demote');
    const user = (await createUser(tenant, { username, password: PASSWORD, role: 'maker' })).body;
    const { access } = (await login(username, PASSWORD)).body;
    const post = () => ctx.http().post('/v1/lms/accounts/').set('Authorization', bearer(access)).send({ name: 'X', sanctioned_limit: 1 });
    expect((await post()).status).toBe(201);
    await ctx.http().patch(`/v1/lms/users/${user.id}/`).set('Authorization', tenant.bearer()).send({ role: 'viewer' });
    const denied = await post();
    expect(denied.status).toBe(403);
    expect((await ping(bearer(access))).body.role).toBe('viewer');
  });

  it('a deactivated user is 401 with its existing JWT and cannot log in or refresh', async () => {
    const tenant = await createTenant(ctx, 'users-deactivate');
    const username = uniqueName('leaver');
    const user = (await createUser(tenant, { username, password: PASSWORD, role: 'maker' })).body;
    const pair = (await login(username, PASSWORD)).body;
    expect((await ping(bearer(pair.access))).status).toBe(200);

    const off = await ctx.http().patch(`/v1/lms/users/${user.id}/`).set('Authorization', tenant.bearer()).send({ is_active: false });
    expect(off.status).toBe(200);
    expect(off.body.is_active).toBe(false);
    expect((await ctx.db.prisma.user.findUnique({ where: { id: user.id } }))!.isActive).toBe(false);

    const pong = await ping(bearer(pair.access));
    expect(pong.status).toBe(401);
    expect(pong.body.code).toBe('UNAUTHENTICATED');
    const accounts = await ctx.http().get('/v1/lms/accounts/').set('Authorization', bearer(pair.access));
    expect(accounts.status).toBe(401);

    const again = await login(username, PASSWORD);
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('INVALID_CREDENTIALS');
    expect(again.body).not.toHaveProperty('access');

    const refreshed = await ctx.http().post('/v1/auth/token/refresh/').send({ refresh: pair.refresh });
    expect(refreshed.status).toBe(401);

    // Reactivation restores access with the same JWT.
    await ctx.http().patch(`/v1/lms/users/${user.id}/`).set('Authorization', tenant.bearer()).send({ is_active: true });
    expect((await ping(bearer(pair.access))).status).toBe(200);
  });

  it('a password change takes effect for login', async () => {
    const tenant = await createTenant(ctx, 'users-password');
    const username = uniqueName('pw');
    const user = (await createUser(tenant, { username, password: PASSWORD, role: 'viewer' })).body;
    const newPassword = 'a-brand-new-password';
    const res = await ctx.http().patch(`/v1/lms/users/${user.id}/`).set('Authorization', tenant.bearer()).send({ password: newPassword });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain(newPassword);
    expect((await login(username, PASSWORD)).status).toBe(401);
    expect((await login(username, newPassword)).status).toBe(200);
  });
});

describe('API tokens (admin only)', () => {
  it('create returns the token once; list and get never contain it', async () => {
    const tenant = await createTenant(ctx, 'tokens-create');
    const res = await createToken(tenant, { name: 'integration', role: 'maker' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([...TOKEN_KEYS, 'token'].sort());
    expect(res.body).toMatchObject({ name: 'integration', role: 'maker', revoked_at: null, last_used_at: null, company: tenant.companyId });
    const token = res.body.token as string;
    expect(token).toMatch(/^lms_[A-Za-z0-9_-]{20,}$/);
    expect(token.startsWith(res.body.prefix)).toBe(true);
    expect(res.body.prefix.length).toBeLessThan(token.length);

    const row = await ctx.db.prisma.apiToken.findUnique({ where: { id: res.body.id } });
    expect(row!.tokenHash).not.toBe(token);
    expect(row!.tokenHash).not.toContain(token);

    const got = await ctx.http().get(`/v1/lms/api_tokens/${res.body.id}/`).set('Authorization', tenant.bearer());
    expect(got.status).toBe(200);
    expect(Object.keys(got.body).sort()).toEqual(TOKEN_KEYS);
    expect(JSON.stringify(got.body)).not.toContain(token);
    const { token: _omit, ...withoutToken } = res.body;
    expect(got.body).toEqual(withoutToken);

    const list = await ctx.http().get('/v1/lms/api_tokens/?page_size=100').set('Authorization', tenant.bearer());
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(5); // the four role tokens of createTenant plus this one
    expect(list.body.results[0].id).toBe(res.body.id);
    for (const item of list.body.results) expect(Object.keys(item).sort()).toEqual(TOKEN_KEYS);
    expect(JSON.stringify(list.body)).not.toContain(token);
    for (const t of Object.values(tenant.tokens)) expect(JSON.stringify(list.body)).not.toContain(t);
  });

  it('role defaults to maker; a bad role or name -> 400', async () => {
    const tenant = await createTenant(ctx, 'tokens-default');
    const res = await createToken(tenant, { name: 'defaulted' });
    expect(res.status).toBe(201);
    expect(res.body.role).toBe('maker');
    for (const [body, field] of [[{ name: 'x', role: 'root' }, 'role'], [{ name: '' }, 'name'], [{}, 'name']] as const) {
      const bad = await createToken(tenant, body);
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.errors)).toEqual([field]);
    }
  });

  it('the new token works on GET /v1/lms/accounts/ and records last_used_at', async () => {
    const tenant = await createTenant(ctx, 'tokens-use');
    const created = (await createToken(tenant, { name: 'reader', role: 'maker' })).body;
    const res = await ctx.http().get('/v1/lms/accounts/').set('Authorization', bearer(created.token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 0, results: [] });
    const pong = await ping(bearer(created.token));
    expect(pong.body).toMatchObject({ company_id: tenant.companyId, role: 'maker', token_kind: 'api_token' });
    expect((await ctx.db.prisma.apiToken.findUnique({ where: { id: created.id } }))!.lastUsedAt).not.toBeNull();
  });

  it('revoke makes the token 401 immediately; revoking twice is 200 and idempotent', async () => {
    const tenant = await createTenant(ctx, 'tokens-revoke');
    const created = (await createToken(tenant, { name: 'doomed', role: 'admin' })).body;
    expect((await ctx.http().get('/v1/lms/accounts/').set('Authorization', bearer(created.token))).status).toBe(200);

    const first = await revoke(tenant, created.id);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(TOKEN_KEYS);
    expect(typeof first.body.revoked_at).toBe('number');
    expect(first.body.id).toBe(created.id);

    const after = await ctx.http().get('/v1/lms/accounts/').set('Authorization', bearer(created.token));
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('UNAUTHENTICATED');

    const second = await revoke(tenant, created.id);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);

    const row = await ctx.db.prisma.apiToken.findUnique({ where: { id: created.id } });
    expect(row!.revokedAt).not.toBeNull();
    const audit = await ctx.db.prisma.auditEvent.findMany({
      where: { companyId: tenant.companyId, entityType: 'api_token', entityId: created.id }, orderBy: { id: 'asc' },
    });
    expect(audit.map((e) => e.action)).toEqual(['created', 'revoked']);

    // Revoked tokens are hidden from the list unless asked for.
    const list = await ctx.http().get('/v1/lms/api_tokens/?page_size=100').set('Authorization', tenant.bearer());
    expect(list.body.results.map((t: { id: string }) => t.id)).not.toContain(created.id);
    expect(list.body.count).toBe(4);
    const all = await ctx.http().get('/v1/lms/api_tokens/?page_size=100&include_revoked=true').set('Authorization', tenant.bearer());
    expect(all.body.count).toBe(5);
    expect(all.body.results.map((t: { id: string }) => t.id)).toContain(created.id);
  });

  it('a viewer token can GET accounts but POST is 403', async () => {
    const tenant = await createTenant(ctx, 'tokens-viewer');
    const created = (await createToken(tenant, { name: 'read-only', role: 'viewer' })).body;
    const list = await ctx.http().get('/v1/lms/accounts/').set('Authorization', bearer(created.token));
    expect(list.status).toBe(200);
    const post = await ctx.http().post('/v1/lms/accounts/').set('Authorization', bearer(created.token)).send({ name: 'Nope', sanctioned_limit: 10 });
    expect(post.status).toBe(403);
    expect(post.body.code).toBe('FORBIDDEN');
    expect(await ctx.db.prisma.account.count({ where: { companyId: tenant.companyId } })).toBe(0);
  });

  it('a token created by a logged-in admin records created_by', async () => {
    const tenant = await createTenant(ctx, 'tokens-created-by');
    const username = uniqueName('admin');
    const admin = (await createUser(tenant, { username, password: PASSWORD, role: 'admin' })).body;
    const { access } = (await login(username, PASSWORD)).body;
    const res = await createToken(tenant, { name: 'by-admin', role: 'viewer' }, bearer(access));
    expect(res.status).toBe(201);
    expect(res.body.created_by).toBe(admin.id);
    expect((await ctx.db.prisma.apiToken.findUnique({ where: { id: res.body.id } }))!.createdById).toBe(admin.id);
  });

  it("a foreign company's token is 404 like a random uuid, and cannot be revoked", async () => {
    const tenant = await createTenant(ctx, 'tokens-404');
    const foreign = await createTenant(ctx, 'tokens-404-foreign');
    const theirs = (await createToken(foreign, { name: 'theirs', role: 'viewer' })).body;
    const foreignGet = await ctx.http().get(`/v1/lms/api_tokens/${theirs.id}/`).set('Authorization', tenant.bearer());
    const randomGet = await ctx.http().get(`/v1/lms/api_tokens/${newId()}/`).set('Authorization', tenant.bearer());
    expect(foreignGet.status).toBe(404);
    expect(foreignGet.body).toEqual({ code: 'NOT_FOUND', detail: 'API token not found.' });
    expect(foreignGet.body).toEqual(randomGet.body);

    const foreignRevoke = await revoke(tenant, theirs.id);
    expect(foreignRevoke.status).toBe(404);
    expect(foreignRevoke.body).toEqual(randomGet.body);
    expect((await ctx.db.prisma.apiToken.findUnique({ where: { id: theirs.id } }))!.revokedAt).toBeNull();
    expect((await ping(bearer(theirs.token))).status).toBe(200);
  });
});
