/// <reference types="vite/client" />
// Auth and tenancy on every route the app has, read from the app's own route table, so that a
// new route is covered without anyone remembering to add it here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';
import type { GuardFixture } from '../helpers/guard-fixtures/types.js';

// Modules add their own fixtures as files in test/helpers/guard-fixtures/ (see its README).
const moduleFixtures = Object.entries(import.meta.glob<{ fixture: GuardFixture }>('../helpers/guard-fixtures/*.ts', { eager: true }))
  .filter(([file]) => !file.endsWith('/types.ts'))
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([, module]) => module.fixture);

let ctx: TestContext;
let home: Tenant;
let foreign: Tenant;
/** One real id per resource, owned by the foreign tenant. */
const foreignIds: Record<string, string> = {};

/** A valid body for routes where `{}` would not pass validation. */
const SAMPLE_BODIES: Record<string, object> = {
  'POST /v1/lms/accounts/': { name: 'Guarded', sanctioned_limit: 1000 },
  'POST /v1/lms/users/': { username: 'guard-user', password: 'long-enough-password', role: 'viewer' },
  'POST /v1/lms/api_tokens/': { name: 'guard' },
  'POST /v1/lms/collection_banks/': { account_no: '1234567890', account_holder_name: 'Guard', ifsc: 'HDFC0001234' },
  'PATCH /v1/lms/extra_data/:id/': { entity_type: 'account', data: { k: 1 } },
  'POST /v1/lms/accounts/:id/initiate_disbursement/': { amount: 1 },
};

const path = (url: string, id: string) => url.replace(':id', id);
const resourceOf = (url: string) => url.split('/:id')[0]!;

beforeAll(async () => {
  ctx = await buildTestApp();
  home = await createTenant(ctx, 'guards-home');
  foreign = await createTenant(ctx, 'guards-foreign');
  const as = { companyId: foreign.companyId, actor: 'test' };
  const s = ctx.app.services;
  foreignIds['/v1/lms/accounts'] = (await s.accounts.create(as, { name: 'Foreign', sanctioned_limit: 100n })).id;
  foreignIds['/v1/lms/line_details'] = (await s.lineDetails.list(foreign.companyId, { page: 1, page_size: 1 }, { account: foreignIds['/v1/lms/accounts'] })).results[0]!.id;
  foreignIds['/v1/lms/loan_data'] = (await s.loanData.create(as, foreignIds['/v1/lms/accounts'], {})).id;
  foreignIds['/v1/lms/extra_data'] = foreignIds['/v1/lms/accounts'];
  const borrower = await accountWithParams(ctx, foreign.companyId);
  foreignIds['/v1/lms/loans'] = (await s.loans.initiateDisbursement(as, borrower.id, { amount: 100n })).loan.id;
  await s.loans.activate(as, foreignIds['/v1/lms/loans'], '2024-01-01');
  foreignIds['/v1/lms/fees'] = (await s.fees.createMany(as, [{ loan: foreignIds['/v1/lms/loans'], fee_type: 'other', amount: 100n, gst_rate: '18', due_date: '2024-01-05' }]))[0]!.id;
  foreignIds['/v1/lms/users'] = (await s.users.create(as, { username: `foreign-${newId()}`, password: 'long-enough-password', role: 'viewer' })).id;
  foreignIds['/v1/lms/api_tokens'] = (await s.apiTokens.create(as, { name: 'foreign', role: 'viewer' })).record.id;
  foreignIds['/v1/lms/collection_banks'] = (await s.collectionBanks.create(as, {
    account_no: '99887766', account_holder_name: 'Foreign', ifsc: 'ICIC0000001', account_type: 'current',
  })).id;
  for (const fixture of moduleFixtures) {
    Object.assign(SAMPLE_BODIES, fixture.bodies ?? {});
    if (fixture.foreign) Object.assign(foreignIds, await fixture.foreign(ctx, foreign, { ...foreignIds }));
  }
});
afterAll(async () => { await ctx.close(); });

function send(method: string, url: string, authorization?: string, pattern = url) {
  const agent = ctx.http();
  const m = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  let req = agent[m](url);
  if (authorization) req = req.set('Authorization', authorization);
  if (method !== 'GET' && method !== 'DELETE') req = req.send(SAMPLE_BODIES[`${method} ${pattern}`] ?? {});
  return req;
}

describe('every /v1 route', () => {
  const protectedRoutes = () => ctx.app.routeTable.filter((r) => r.url.startsWith('/v1/') && !r.public);

  it('has routes to check', () => {
    expect(protectedRoutes().length).toBeGreaterThan(10);
  });

  it('answers 401 without a token and with a bad one', async () => {
    for (const route of protectedRoutes()) {
      const url = path(route.url, newId());
      const none = await send(route.method, url);
      expect(none.status, `${route.method} ${route.url} without token`).toBe(401);
      expect(none.body.code).toBe('UNAUTHENTICATED');
      const bad = await send(route.method, url, 'Bearer lms_not-a-real-token');
      expect(bad.status, `${route.method} ${route.url} with a bad token`).toBe(401);
    }
  });

  it('answers 403 to a viewer on every writing route, and to non-admins on admin routes', async () => {
    for (const route of protectedRoutes()) {
      const url = path(route.url, newId());
      // Writing routes refuse viewers unless the route says viewers may call it (a calculator).
      if (route.method !== 'GET' && !route.roles?.includes('viewer')) {
        const res = await send(route.method, url, home.bearer('viewer'));
        expect(res.status, `${route.method} ${route.url} as viewer`).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      if (route.roles?.length === 1 && route.roles[0] === 'admin') {
        const res = await send(route.method, url, home.bearer('maker'));
        expect(res.status, `${route.method} ${route.url} as maker`).toBe(403);
      }
    }
  });

  it('answers a foreign id exactly as a missing id: 404', async () => {
    const withId = protectedRoutes().filter((r) => r.url.includes(':id'));
    expect(withId.length).toBeGreaterThan(5);
    for (const route of withId) {
      const foreignId = foreignIds[resourceOf(route.url)];
      expect(foreignId, `no foreign fixture for ${route.url}: add one above`).toBeDefined();
      const missing = await send(route.method, path(route.url, newId()), home.bearer('admin'), route.url);
      const foreignRes = await send(route.method, path(route.url, foreignId!), home.bearer('admin'), route.url);
      expect(missing.status, `${route.method} ${route.url} missing id`).toBe(404);
      expect(foreignRes.status, `${route.method} ${route.url} foreign id`).toBe(404);
      expect(foreignRes.body).toEqual({ ...missing.body });
    }
    // The foreign tenant still sees its own rows.
    const own = await ctx.http().get(`/v1/lms/accounts/${foreignIds['/v1/lms/accounts']}/`).set('Authorization', foreign.bearer('viewer'));
    expect(own.status).toBe(200);
  });

  it('lists never show another company\'s rows', async () => {
    const res = await ctx.http().get('/v1/lms/accounts/?page_size=100').set('Authorization', home.bearer('viewer'));
    expect(res.status).toBe(200);
    expect(res.body.results.map((a: { id: string }) => a.id)).not.toContain(foreignIds['/v1/lms/accounts']);
    expect(res.body.results.every((a: { company: string }) => a.company === home.companyId)).toBe(true);
  });
});
