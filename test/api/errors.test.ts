import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { DomainError, ERROR_STATUS, type ErrorCode } from '../../src/errors.js';
import { newId } from '../../src/domain/ids.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';

const SECRET = 'secret internals';

async function testRoutes(app: FastifyInstance) {
  app.get('/v1/lms/__boom/', { config: { public: true } }, async () => {
    throw new Error(SECRET);
  });
  app.get('/v1/lms/__boom_typeerror/', { config: { public: true } }, async () => {
    const value = null as unknown as { x: { y: number } };
    return value.x.y; // TypeError from a bug in a handler
  });
  app.get('/v1/lms/__boom_5xx/', { config: { public: true } }, async () => {
    throw Object.assign(new Error(SECRET), { statusCode: 503, code: 'SOMETHING' });
  });
  app.get('/v1/lms/__domain/:code/', { config: { public: true } }, async (request) => {
    const { code } = request.params as { code: ErrorCode };
    throw new DomainError(code, `${code} happened`);
  });
  app.get('/v1/lms/__fields/', { config: { public: true } }, async () => {
    throw new DomainError('VALIDATION_ERROR', 'bad', { 'line_detail.amount': ['must be positive'] });
  });
  app.get('/v1/lms/__protected_boom/', async () => {
    throw new Error(SECRET);
  });
}

let ctx: TestContext;
let tenant: Tenant;
beforeAll(async () => {
  ctx = await buildTestApp({ register: testRoutes });
  tenant = await createTenant(ctx, 'errors');
});
afterAll(async () => { await ctx.close(); });

const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('unexpected errors', () => {
  it.each(['/v1/lms/__boom/', '/v1/lms/__boom_typeerror/', '/v1/lms/__boom_5xx/'])('%s is a 500 with the request id and no internals', async (url) => {
    const res = await ctx.http().get(url);
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ code: 'INTERNAL' });
    expect(typeof res.body.detail).toBe('string');
    const requestId = res.headers['x-request-id'];
    expect(requestId).toMatch(UUID_LIKE);
    expect(res.body.request_id).toBe(requestId);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'detail', 'request_id']);
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain('TypeError');
    expect(res.text).not.toContain('stack');
    expect(res.text).not.toMatch(/\.ts:\d+/);
  });

  it('a 500 on a protected route behaves the same', async () => {
    const res = await ctx.http().get('/v1/lms/__protected_boom/').set('Authorization', tenant.bearer('viewer'));
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('INTERNAL');
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
    expect(res.text).not.toContain(SECRET);
  });

  it('each request gets its own id', async () => {
    const [a, b] = await Promise.all([ctx.http().get('/v1/lms/__boom/'), ctx.http().get('/v1/lms/__boom/')]);
    expect(a.body.request_id).not.toBe(b.body.request_id);
  });
});

describe('DomainError', () => {
  it.each(Object.entries(ERROR_STATUS) as [ErrorCode, number][])('%s maps to HTTP %s', async (code, status) => {
    const res = await ctx.http().get(`/v1/lms/__domain/${code}/`);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.body.detail).toBe(`${code} happened`);
    if (status >= 500) {
      expect(res.body.request_id).toBe(res.headers['x-request-id']);
    } else {
      expect(res.body).not.toHaveProperty('request_id');
    }
  });

  it('carries field errors', async () => {
    const res = await ctx.http().get('/v1/lms/__fields/');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ detail: 'bad', code: 'VALIDATION_ERROR', errors: { 'line_detail.amount': ['must be positive'] } });
  });
});

function postAccount(body: string, contentType = 'application/json') {
  return ctx.http().post('/v1/lms/accounts/').set('Authorization', tenant.bearer()).set('Content-Type', contentType).send(body);
}

describe('request bodies', () => {
  it.each(['{"name": "x", ', '{name: "x"}', "{'name': 'x'}", 'not json', '{"a":1}}', '[', '"unterminated'])('malformed JSON %j is 400 INVALID_JSON', async (body) => {
    const res = await postAccount(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_JSON');
    expect(typeof res.body.detail).toBe('string');
  });

  it('an empty JSON body is 400 INVALID_JSON', async () => {
    const res = await postAccount('');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_JSON');
  });

  it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])('content-type %s is 415 UNSUPPORTED_MEDIA_TYPE', async (type) => {
    const res = await postAccount('{"name":"x","sanctioned_limit":1}', type);
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('application/json with a charset is accepted', async () => {
    const res = await postAccount(JSON.stringify({ name: `charset-${newId()}`, sanctioned_limit: 10 }), 'application/json; charset=utf-8');
    expect(res.status).toBe(201);
  });

  it('a body over BODY_LIMIT_BYTES is 413 PAYLOAD_TOO_LARGE', async () => {
    const small = await buildTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
    try {
      const smallTenant = await createTenant(small, 'errors-413');
      const post = (body: string) => small.http().post('/v1/lms/accounts/').set('Authorization', smallTenant.bearer()).set('Content-Type', 'application/json').send(body);
      const big = JSON.stringify({ name: 'x'.repeat(3000), sanctioned_limit: 1 });
      const res = await post(big);
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
      // just under the limit is parsed (and then validated)
      const underLimit = JSON.stringify({ name: `n-${newId()}`, sanctioned_limit: 1, pad: 'y'.repeat(1500) });
      expect(Buffer.byteLength(underLimit)).toBeLessThan(2048);
      const ok = await post(underLimit);
      expect(ok.status).toBe(400);
      expect(ok.body.code).toBe('VALIDATION_ERROR');
    } finally {
      await small.close();
    }
  });

  it('an unknown JSON field is 400 naming that field', async () => {
    const res = await postAccount(JSON.stringify({ name: `unknown-${newId()}`, sanctioned_limit: 10, colour: 'red' }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors)).toEqual(['colour']);
    expect(res.body.detail).toContain('colour');
  });

  it('several unknown fields are each named', async () => {
    const res = await postAccount(JSON.stringify({ name: 'x', sanctioned_limit: 10, colour: 'red', size: 3 }));
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual(['colour', 'size']);
  });

  it('several bad fields are all named', async () => {
    const res = await postAccount(JSON.stringify({ name: '', sanctioned_limit: 1.234, pan: 'nope', lead_id: 'not-a-uuid' }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.errors).sort()).toEqual(['lead_id', 'name', 'pan', 'sanctioned_limit']);
    for (const messages of Object.values(res.body.errors) as string[][]) {
      expect(messages.length).toBeGreaterThan(0);
      for (const message of messages) expect(typeof message).toBe('string');
    }
    for (const field of ['lead_id', 'name', 'pan', 'sanctioned_limit']) expect(res.body.detail).toContain(field);
  });

  it('missing required fields are named', async () => {
    const res = await postAccount('{}');
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual(['name', 'sanctioned_limit']);
  });

  it.each(['[]', 'null', '42', '"text"', 'true'])('a non-object body %s is 400, not 500', async (body) => {
    const res = await postAccount(body);
    expect(res.status).toBe(400);
    expect(['VALIDATION_ERROR', 'INVALID_JSON', 'BAD_REQUEST']).toContain(res.body.code);
  });

  it('invalid query parameters and path ids are 400', async () => {
    const auth = tenant.bearer();
    const badQuery = await ctx.http().get('/v1/lms/accounts/?status=sleeping').set('Authorization', auth);
    expect(badQuery.status).toBe(400);
    expect(Object.keys(badQuery.body.errors)).toEqual(['status']);
    const unknownQuery = await ctx.http().get('/v1/lms/accounts/?colour=red').set('Authorization', auth);
    expect(unknownQuery.status).toBe(400);
    expect(Object.keys(unknownQuery.body.errors)).toEqual(['colour']);
    const badId = await ctx.http().get('/v1/lms/accounts/not-a-uuid/').set('Authorization', auth);
    expect(badId.status).toBe(400);
    expect(badId.body.code).toBe('VALIDATION_ERROR');
  });

  it('a malformed percent-encoding in the URL is a 4xx', async () => {
    const res = await ctx.http().get('/v1/lms/accounts/%E0%A4%A/').set('Authorization', tenant.bearer());
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('never answers arbitrary JSON bodies with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ name: fc.jsonValue(), sanctioned_limit: fc.jsonValue() }, { requiredKeys: [] }),
          fc.record({
            name: fc.string(), sanctioned_limit: fc.oneof(fc.double(), fc.integer(), fc.string()),
            pan: fc.oneof(fc.string(), fc.constant(null)), gstin: fc.string(), lead_id: fc.oneof(fc.uuid(), fc.string()),
            external_id: fc.string(),
          }, { requiredKeys: [] }),
        ),
        async (body) => {
          const res = await postAccount(JSON.stringify(body) ?? 'null');
          if (res.status >= 500) throw new Error(`500 for ${JSON.stringify(body)}: ${res.text}`);
          expect([201, 400, 409]).toContain(res.status);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('routing', () => {
  it.each(['/v1/lms/nothing-here/', '/nope', '/v1/lms/accounts/x/y/z/'])('unknown route %s is 404 NOT_FOUND', async (url) => {
    const res = await ctx.http().get(url);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('an unknown method on a known path is a 4xx, not 500', async () => {
    const res = await ctx.http().delete('/v1/lms/accounts/').set('Authorization', tenant.bearer());
    expect([404, 405]).toContain(res.status);
    expect(['NOT_FOUND', 'METHOD_NOT_ALLOWED']).toContain(res.body.code);
  });

  it('the trailing slash is optional', async () => {
    const withSlash = await ctx.http().get('/v1/lms/accounts/').set('Authorization', tenant.bearer());
    const without = await ctx.http().get('/v1/lms/accounts').set('Authorization', tenant.bearer());
    expect(withSlash.status).toBe(200);
    expect(without.status).toBe(200);
    expect(without.body).toEqual(withSlash.body);
    const created = await ctx.http().post('/v1/lms/accounts').set('Authorization', tenant.bearer())
      .send({ name: `noslash-${newId()}`, sanctioned_limit: 5 });
    expect(created.status).toBe(201);
    const fetched = await ctx.http().get(`/v1/lms/accounts/${created.body.id}`).set('Authorization', tenant.bearer());
    expect(fetched.status).toBe(200);
    expect(fetched.body.id).toBe(created.body.id);
  });

  it('a route without a trailing slash still needs authentication', async () => {
    const res = await ctx.http().get('/v1/lms/accounts');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });
});

describe('request ids', () => {
  it('echoes a well-formed incoming x-request-id, also in 500 bodies', async () => {
    const id = `req-${newId()}`;
    const ok = await ctx.http().get('/v1/lms/accounts/').set('Authorization', tenant.bearer()).set('x-request-id', id);
    expect(ok.status).toBe(200);
    expect(ok.headers['x-request-id']).toBe(id);
    const boom = await ctx.http().get('/v1/lms/__boom/').set('x-request-id', id);
    expect(boom.headers['x-request-id']).toBe(id);
    expect(boom.body.request_id).toBe(id);
  });

  it.each(['has spaces in it', 'x'.repeat(129), 'semi;colon', '<script>'])('replaces an unsafe incoming id %j with a fresh one', async (id) => {
    const res = await ctx.http().get('/v1/lms/__boom/').set('x-request-id', id);
    expect(res.status).toBe(500);
    expect(res.headers['x-request-id']).toMatch(UUID_LIKE);
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
  });

  it('generates one when none is sent, on every kind of response', async () => {
    for (const res of [
      await ctx.http().get('/healthz'),
      await ctx.http().get('/v1/lms/accounts/'),
      await ctx.http().get('/v1/nothing/'),
    ]) {
      expect(res.headers['x-request-id']).toMatch(UUID_LIKE);
    }
  });
});

describe('field names that collide with Object.prototype', () => {
  it('names "toString" and "constructor" as unknown fields instead of failing', async () => {
    const ctx2 = await buildTestApp();
    try {
      const t = await createTenant(ctx2, 'proto');
      const res = await ctx2.http().post('/v1/lms/accounts/').set('Authorization', t.bearer('maker'))
        .send({ name: 'x', sanctioned_limit: 1, toString: null, constructor: 1, hasOwnProperty: 'y' });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors).sort()).toEqual(['constructor', 'hasOwnProperty', 'toString']);
      const params = await ctx2.http().post('/v1/lms/accounts/initiate_loan_params/').set('Authorization', t.bearer('maker'))
        .send({ lead_id: '00000000-0000-4000-8000-000000000001', program_id: '00000000-0000-4000-8000-000000000002', roi_value: [{ days: 'x', value: 1 }], toString: 1 });
      expect(params.status).toBe(400);
    } finally {
      await ctx2.close();
    }
  });
});
