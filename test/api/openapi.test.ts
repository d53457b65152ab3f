import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOpenApiDocument } from '../../src/openapi.js';
import { buildTestApp, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await buildTestApp(); });
afterAll(async () => { await ctx.close(); });

describe('OpenAPI contract', () => {
  it('openapi/openapi.json is what the code generates (run `npm run openapi` after changing a route)', async () => {
    const committed = readFileSync('openapi/openapi.json', 'utf8');
    expect(JSON.parse(await generateOpenApiDocument())).toEqual(JSON.parse(committed));
  });

  it('is OpenAPI 3.1, documents every public route and the bearer scheme', async () => {
    const doc = JSON.parse(readFileSync('openapi/openapi.json', 'utf8'));
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const route of ctx.app.routeTable.filter((r) => r.url.startsWith('/v1/'))) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path}`).toBeDefined();
    }
  });

  it('the running server serves the document at /openapi.json and a reference at /docs', async () => {
    const res = await ctx.http().get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.paths['/v1/lms/accounts/']).toBeDefined();
    const docs = await ctx.http().get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('<html');
  });
});
