/// <reference types="vite/client" />
// "Never a 500 for anything a client can send", on every route the app has: hostile bodies,
// query strings, path ids and content types, read from the app's own route table and OpenAPI
// document, so that a new route (and a new field) is covered without anyone adding it here.
// Bad input must be a 400 naming the field, a missing or foreign id a 404, a state conflict a 409.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import { signCallback } from '../../src/modules/payouts/callbacks.js';
import { buildTestApp, createTenant, type Tenant, type TestContext } from '../helpers/app.js';
import { accountWithParams } from '../helpers/factories.js';
import type { GuardFixture } from '../helpers/guard-fixtures/types.js';

// The same per-module fixtures as route-guards.test.ts, called for the home tenant so that the ids are ours.
const moduleFixtures = Object.entries(import.meta.glob<{ fixture: GuardFixture }>('../helpers/guard-fixtures/*.ts', { eager: true }))
  .filter(([file]) => !file.endsWith('/types.ts'))
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([, module]) => module.fixture);

let ctx: TestContext;
let home: Tenant;
let callbackSecret: string;
/** One real id per resource prefix ('/v1/lms/accounts', ...), owned by the home tenant. */
const ids: Record<string, string> = {};

/** A valid body for routes where `{}` would not pass validation (as in route-guards.test.ts). */
const SAMPLE_BODIES: Record<string, object> = {
  'POST /v1/lms/accounts/': { name: 'Hostile', sanctioned_limit: 1000 },
  'POST /v1/lms/users/': { username: 'hostile-user', password: 'long-enough-password', role: 'viewer' },
  'POST /v1/lms/api_tokens/': { name: 'hostile' },
  'POST /v1/lms/collection_banks/': { account_no: '1234567890', account_holder_name: 'Hostile', ifsc: 'HDFC0001234' },
  'PATCH /v1/lms/extra_data/:id/': { entity_type: 'account', data: { k: 1 } },
  'POST /v1/lms/accounts/:id/initiate_disbursement/': { amount: 1 },
  'POST /v1/auth/token/': { username: 'nobody', password: 'not-the-password' },
  'POST /v1/lms/payouts/callback/': { reference: 'HOSTILE-1', status: 'processed', utr: 'UTR1' },
  // Not needed by route-guards (no id), but without them every variant would stop at validation.
  'POST /v1/lms/emis/calculate/': { amount: 100000, rate: 12, tenure: 12, disbursement_date: '2024-01-01' },
  'POST /v1/lms/records/': { account: newId(), amount: 5 },
  'POST /v1/lms/records/bulk_create/': { records: [{ account: newId(), amount: 5 }] },
};

/** Body fields that name a resource: a sample body gets the home tenant's real id there. */
const ID_FIELDS: Record<string, string> = {
  account: '/v1/lms/accounts', loan: '/v1/lms/loans', loan_id: '/v1/lms/loans', record: '/v1/lms/records',
  collection_bank_id: '/v1/lms/collection_banks', topup_group: '/v1/lms/topup_groups', loan_data: '/v1/lms/loan_data',
  lead_id: 'lead', program_id: 'program',
};

const LONG = 'x'.repeat(10_000);
const NUL_TEXT = 'nul\u0000 ünïcödé 😀 \u202e right-to-left';
const LONE_SURROGATE = 'half a pair \ud800';
/** A nested object `{"a":{"a":...}}`, as JSON text: deeper than anything legitimate. */
const DEEP_DEPTH = 5_000;
const DEEP_JSON = `${'{"a":'.repeat(DEEP_DEPTH)}1${'}'.repeat(DEEP_DEPTH)}`;
const DEEP = Symbol('deep');

const resourceOf = (url: string) => url.split('/:')[0]!;

// ---------------------------------------------------------------- the routes' JSON schemas

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
}
interface Operation {
  parameters?: { in: string; name: string; schema: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema: JsonSchema }> };
}
let doc: { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, JsonSchema> } };

function resolve(schema: JsonSchema | undefined): JsonSchema {
  let s = schema ?? {};
  for (let i = 0; s.$ref && i < 10; i++) s = doc.components?.schemas?.[s.$ref.split('/').pop()!] ?? {};
  if (s.allOf?.length === 1) return resolve(s.allOf[0]);
  return s;
}

function operationOf(method: string, url: string): Operation | undefined {
  return doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
}

const bodySchemaOf = (method: string, url: string) => {
  const schema = operationOf(method, url)?.requestBody?.content?.['application/json']?.schema;
  return schema ? resolve(schema) : undefined;
};

/** Every property a body schema may have (an object, or a union of objects). */
function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return Object.assign({}, ...variants.map((v) => propertiesOf(resolve(v))));
  return schema.properties ?? {};
}

type Kind = 'string' | 'uuid' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null' | 'enum';

/** What a schema accepts, coarsely; an empty set means anything (no type). */
function kindsOf(schema: JsonSchema): Set<Kind> {
  const s = resolve(schema);
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return new Set(variants.flatMap((v) => [...kindsOf(v)]));
  if (s.enum || s.const !== undefined) return new Set(['enum']);
  const types = [s.type ?? []].flat() as string[];
  return new Set(types.map((t) => (t === 'string' && s.format === 'uuid' ? 'uuid' : t) as Kind));
}

/** A plausible valid value, so that one hostile field at a time gets past the others. */
function sampleValue(schema: JsonSchema, name: string): unknown {
  const s = resolve(schema);
  const variant = (s.anyOf ?? s.oneOf)?.map(resolve).find((v) => v.type !== 'null');
  if (variant) return sampleValue(variant, name);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const type = [s.type ?? 'string'].flat().find((t) => t !== 'null');
  switch (type) {
    case 'integer': case 'number': return Math.max(s.minimum ?? 1, 1);
    case 'boolean': return false;
    case 'array': return Array.from({ length: Math.max(s.minItems ?? 1, 1) }, () => sampleValue(s.items ?? {}, name));
    case 'object': return Object.fromEntries((s.required ?? []).map((key) => [key, sampleValue(s.properties?.[key] ?? {}, key)]));
    default: {
      if (s.format === 'uuid') return ids[ID_FIELDS[name] ?? ''] ?? newId();
      const candidates = [
        /date|_from$|_till$|_to$/.test(name) ? '2024-01-10' : null, name.includes('ifsc') ? 'HDFC0001234' : null,
        name.includes('account_no') ? '50100012345678' : null, name === 'pan' ? 'ABCDE1234F' : null,
        `HOSTILE${newId().replace(/-/g, '').slice(0, 12).toUpperCase()}`, 'x'.repeat(Math.max(s.minLength ?? 1, 1)), 'primary',
      ].filter((c): c is string => c !== null);
      return candidates.find((c) => !s.pattern || new RegExp(s.pattern).test(c)) ?? candidates[0];
    }
  }
}

/** The home tenant's real ids in place of the placeholders in a fixture's sample body. */
function withHomeIds(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => withHomeIds(v, key));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withHomeIds(v, k)]));
  if (typeof value === 'string' && ID_FIELDS[key] && ids[ID_FIELDS[key]!]) return ids[ID_FIELDS[key]!];
  return value;
}

function baseBody(method: string, url: string): unknown {
  const sample = SAMPLE_BODIES[`${method} ${url}`];
  if (sample) return withHomeIds(sample);
  const schema = bodySchemaOf(method, url);
  return schema && schema.type === 'object' ? sampleValue(schema, '') : {};
}

/** An id of a real row of another resource type than the route's. */
function otherResourceId(url: string): string {
  return resourceOf(url) === '/v1/lms/fees' ? ids['/v1/lms/accounts']! : ids['/v1/lms/fees']!;
}

/** `invalid`: no schema of that kind accepts it; `unstorable`: refused once the rest of the body is valid. */
interface Hostile { label: string; value: unknown; invalid: boolean; unstorable?: boolean }

/** Hostile values for one field. */
function hostileValues(schema: JsonSchema, url: string): Hostile[] {
  const kinds = kindsOf(schema);
  const accepts = (...k: Kind[]) => kinds.size === 0 || k.some((x) => kinds.has(x));
  const out: Hostile[] = [];
  const add = (label: string, value: unknown, invalid: boolean, unstorable = false) => out.push({ label, value, invalid, unstorable });
  if (accepts('string', 'uuid', 'enum')) add('a number', 123, !accepts('number', 'integer', 'enum'));
  if (accepts('string')) { add('10k chars', LONG, false); add('a NUL', NUL_TEXT, false, true); add('a lone surrogate', LONE_SURROGATE, false, true); }
  if (accepts('uuid')) {
    add('not a uuid', 'not-a-uuid', !accepts('string', 'enum'));
    add('a random uuid', randomUUID(), false);
    add('another resource\'s id', otherResourceId(url), false);
  }
  if (accepts('enum')) add('not in the enum', 'not-in-enum', !accepts('string', 'uuid'));
  if (accepts('number', 'integer')) {
    add('a string', 'x', !accepts('string', 'uuid', 'enum'));
    add('1e308', 1e308, false);
    add('-1', -1, false);
    add('0.001', 0.001, false);
  }
  if (accepts('number', 'integer') && accepts('string')) { add('"1e999"', '1e999', false); add('"NaN"', 'NaN', false); add('"-0.001"', '-0.001', false); }
  if (accepts('boolean')) add('a string', 'x', !accepts('string', 'uuid', 'enum'));
  if (accepts('array')) {
    add('an object', {}, !accepts('object'));
    add('junk items', [null, 'x', 1, {}], false);
    add('a thousand items', Array.from({ length: 1000 }, () => sampleValue(resolve(schema).items ?? {}, '')), false);
  }
  if (accepts('object')) { add('a string', 'x', !accepts('string', 'uuid', 'enum')); add('deeply nested', DEEP, false); }
  if (kinds.size === 0) add('deeply nested', DEEP, false);
  return out;
}

/** JSON text for a value; DEEP stands for the deeply nested object. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v === DEEP ? '__DEEP__' : v)).replaceAll('"__DEEP__"', DEEP_JSON);
}

// ---------------------------------------------------------------- sending, and what counts as a failure

interface Sent { status: number; body: Record<string, unknown>; error?: unknown }
const problems: string[] = [];
let lastLoggedError: unknown;

async function send(method: string, url: string, options: { payload?: string; contentType?: string; headers?: Record<string, string>; auth?: boolean } = {}): Promise<Sent> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth !== false) headers.authorization = home.bearer('admin');
  if (options.contentType) headers['content-type'] = options.contentType;
  // The callback route takes no token: it is signed with the company's secret instead.
  if (url === '/v1/lms/payouts/callback/' && options.auth !== false) {
    headers['x-lms-company'] ??= home.companyId;
    headers['x-lms-signature'] ??= signCallback(callbackSecret, options.payload ?? '');
  }
  lastLoggedError = undefined;
  const res = await ctx.app.inject({ method: method as 'GET', url, headers, payload: options.payload });
  let body: Record<string, unknown> = {};
  try { body = res.json(); } catch { /* CSV exports and the like */ }
  // The secret-rotation route is among those sent bodies: keep signing callbacks with the new secret.
  if (url === '/v1/lms/company/payout_callback_secret/' && typeof body.secret === 'string') callbackSecret = body.secret;
  return { status: res.statusCode, body, error: lastLoggedError };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 400)}`;
  return String(error).slice(0, 400);
}

/** Records (rather than throws) a failure, so that one run lists every route that needs a fix. */
function check(res: Sent, what: string, want: { status?: number; fields?: string[] | 'any' } = {}) {
  if (res.status >= 500) {
    problems.push(`${what} -> ${res.status} ${describeError(res.error ?? res.body.detail)}`);
    return;
  }
  if (want.status !== undefined && res.status !== want.status) {
    problems.push(`${what} -> ${res.status} (expected ${want.status}) ${JSON.stringify(res.body).slice(0, 200)}`);
    return;
  }
  if (want.fields) {
    const fields = want.fields;
    const named = Object.keys((res.body.errors as Record<string, unknown> | undefined) ?? {});
    const ok = res.status === 400 && named.length > 0
      && (fields === 'any' || named.some((n) => fields.some((f) => n === f || n.startsWith(`${f}.`) || n.startsWith(`${f}[`))));
    if (!ok) problems.push(`${what} -> ${res.status}, expected a 400 naming ${fields === 'any' ? 'a field' : fields.join('|')}; got ${JSON.stringify(res.body).slice(0, 200)}`);
  }
}

function flushProblems() {
  const found = problems.splice(0);
  expect(found, `\n${found.join('\n')}\n`).toEqual([]);
}

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  ctx = await buildTestApp();
  // The app is built without a logger (Fastify's null logger, shared by every request): keep the
  // error the error handler logs with a 500, so that a failure names its cause.
  ctx.app.log.error = ((obj: unknown) => { lastLoggedError = (obj as { err?: unknown })?.err ?? obj; }) as typeof ctx.app.log.error;
  doc = ctx.app.swagger() as typeof doc;
  home = await createTenant(ctx, 'no-500');
  const as = { companyId: home.companyId, actor: 'test' };
  const s = ctx.app.services;
  callbackSecret = await s.payoutCallbacks.rotateSecret(as);
  // The account is a borrower with loan params, so that drawing, topups and loan params get past their checks.
  const borrower = await accountWithParams(ctx, home.companyId);
  ids['/v1/lms/accounts'] = borrower.id;
  ids.lead = borrower.leadId!;
  ids.program = borrower.programId!;
  ids['/v1/lms/line_details'] = (await s.lineDetails.list(home.companyId, { page: 1, page_size: 1 }, { account: ids['/v1/lms/accounts'] })).results[0]!.id;
  ids['/v1/lms/loan_data'] = (await s.loanData.create(as, ids['/v1/lms/accounts'], {})).id;
  ids['/v1/lms/extra_data'] = ids['/v1/lms/accounts'];
  const { loan, payout } = await s.loans.initiateDisbursement(as, borrower.id, { amount: 100n });
  ids['/v1/lms/loans'] = loan.id;
  // Activated as the API does it, by its payout succeeding (so that no route meets a state the API cannot make).
  await s.payouts.markProcessing(as, payout.id);
  await s.payouts.markProcessed(as, payout.id, { utr: 'UTR1', bankDate: '2024-01-01' });
  ids['/v1/lms/fees'] = (await s.fees.createMany(as, [{ loan: ids['/v1/lms/loans'], fee_type: 'other', amount: 100n, gst_rate: '18', due_date: '2024-01-05' }]))[0]!.id;
  ids['/v1/lms/users'] = (await s.users.create(as, { username: `home-${newId()}`, password: 'long-enough-password', role: 'viewer' })).id;
  ids['/v1/lms/api_tokens'] = (await s.apiTokens.create(as, { name: 'home', role: 'viewer' })).record.id;
  ids['/v1/lms/collection_banks'] = (await s.collectionBanks.create(as, {
    account_no: '99887766', account_holder_name: 'Home', ifsc: 'ICIC0000001', account_type: 'current',
  })).id;
  for (const fixture of moduleFixtures) {
    Object.assign(SAMPLE_BODIES, fixture.bodies ?? {});
    if (fixture.foreign) Object.assign(ids, await fixture.foreign(ctx, home, { ...ids }));
  }
});
afterAll(async () => { await ctx?.close(); });

/** Every /v1 route, the public login and payout callback included. */
const routes = () => ctx.app.routeTable.filter((r) => r.url.startsWith('/v1/'));
const hasBody = (method: string) => method !== 'GET' && method !== 'DELETE';
/** The URL with the route's own row (or a plausible value) in place of each path parameter. */
const ownUrl = (url: string) => url.replace(':id', ids[resourceOf(url)] ?? newId()).replace(':type', 'primary');

// ---------------------------------------------------------------- the checks

describe('no input a client can send gets a 500', () => {
  it('has routes and their schemas', () => {
    expect(routes().length).toBeGreaterThan(50);
    expect(routes().filter((r) => hasBody(r.method) && bodySchemaOf(r.method, r.url)).length).toBeGreaterThan(30);
    expect(routes().some((r) => r.url === '/v1/lms/payouts/callback/' && r.public)).toBe(true);
  });

  it('hostile bodies: wrong shapes, wrong types per field, extremes, unknown fields', async () => {
    for (const route of routes().filter((r) => hasBody(r.method))) {
      const url = ownUrl(route.url);
      const schema = bodySchemaOf(route.method, route.url);
      const properties = schema ? propertiesOf(schema) : {};
      const fields = Object.keys(properties);
      const base = baseBody(route.method, route.url);
      const at = (label: string) => `${route.method} ${route.url} body ${label}`;
      const post = (value: unknown, headers?: Record<string, string>) =>
        send(route.method, url, { payload: typeof value === 'string' && value.startsWith('{') ? value : toJson(value), contentType: 'application/json', headers });

      // Whole bodies of the wrong shape: a 400 naming something, whenever the route reads a body.
      const expectInvalid = schema ? { fields: 'any' as const } : {};
      for (const [label, value] of [['[]', []], ['"text"', 'text'], ['null', null], ['a number', 42]] as const) {
        check(await post(value), at(label), expectInvalid);
      }
      check(await post({}), at('{}'));
      check(await post(DEEP_JSON), at('deeply nested'));
      check(await post(DEEP_JSON, { 'idempotency-key': `no-500-${newId()}` }), at('deeply nested with an Idempotency-Key'));
      if (base && typeof base === 'object' && !Array.isArray(base)) {
        const known = toJson(base).slice(1);
        check(await post(`{"zz_unknown_field":1,"constructor":"x","__proto__":{"x":1}${known === '}' ? '' : ','}${known}`), at('with unknown fields'));
      }
      if (fields.length === 0) continue;

      // Every field of the route's own schema at once: of a wrong type, then at its extremes.
      // (A body whose every field accepts any JSON type it can be sent, e.g. a date as text or
      // epoch seconds, has no wrong type to send.)
      const wrong = Object.fromEntries(fields.map((f) => [f, hostileValues(properties[f]!, route.url).find((h) => h.invalid)?.value ?? 123]));
      const typed = fields.filter((f) => hostileValues(properties[f]!, route.url).some((h) => h.invalid));
      if (typed.length > 0) check(await post(wrong), at('every field of a wrong type'), { fields });
      const extreme = Object.fromEntries(fields.map((f) => [f, hostileValues(properties[f]!, route.url).find((h) => !h.invalid)?.value ?? LONG]));
      check(await post(extreme), at('every field at an extreme'));

      // One field at a time on an otherwise plausible body, so that the value reaches the service.
      const baseRes = await post(base);
      check(baseRes, at('plausible'));
      for (const field of fields) {
        for (const hostile of hostileValues(properties[field]!, route.url)) {
          const body = { ...(base as object), [field]: hostile.value };
          const named = hostile.invalid || (hostile.unstorable && baseRes.status !== 400);
          check(await post(body), at(`${field} = ${hostile.label}`), named ? { fields: [field] } : {});
        }
      }
    }
    flushProblems();
  }, 180_000);

  it('hostile query strings: junk in every documented parameter, pages out of range', async () => {
    for (const route of routes()) {
      const params = (operationOf(route.method, route.url)?.parameters ?? []).filter((p) => p.in === 'query');
      if (params.length === 0) continue;
      const url = ownUrl(route.url);
      const get = (query: string) => send(route.method, `${url}?${query}`, hasBody(route.method) ? { payload: toJson(baseBody(route.method, route.url)), contentType: 'application/json' } : {});
      const at = (query: string) => `${route.method} ${route.url}?${query.slice(0, 60)}`;
      for (const param of params) {
        // Junk with a NUL is refused whatever the parameter's type: a 400 naming it.
        for (const junk of ['junk%00%C3%A9', '-1', '1e309', encodeURIComponent(LONG.slice(0, 2000)), '%F0%9F%98%80', '%ED%A0%80']) {
          const q = `${param.name}=${junk}`;
          check(await get(q), at(q), junk.startsWith('junk') ? { fields: [param.name] } : {});
        }
        check(await get(`${param.name}=1&${param.name}=2`), at(`${param.name} twice`));
        check(await get(`${param.name}[a]=1`), at(`${param.name}[a]`));
      }
      const names = params.map((p) => p.name);
      if (names.includes('page')) {
        for (const page of ['0', '-1', 'abc']) check(await get(`page=${page}`), at(`page=${page}`), { fields: ['page'] });
        for (const page of ['1e9', '9007199254740991', '1.5']) check(await get(`page=${page}`), at(`page=${page}`));
      }
      if (names.includes('page_size')) {
        for (const size of ['0', '101', 'abc', '-1']) check(await get(`page_size=${size}`), at(`page_size=${size}`), { fields: ['page_size'] });
      }
      check(await get('zz_unknown=1'), at('zz_unknown=1'));
    }
    flushProblems();
  }, 120_000);

  it('hostile path ids: not a uuid is a 400 naming it, a missing id and another resource\'s id are 404s', async () => {
    const withParam = routes().filter((r) => r.url.includes('/:'));
    expect(withParam.length).toBeGreaterThan(5);
    for (const route of withParam) {
      const param = /:(\w+)/.exec(route.url)![1]!;
      const payload = hasBody(route.method) ? toJson(baseBody(route.method, route.url)) : undefined;
      const call = (value: string) => send(route.method, route.url.replace(`:${param}`, value), payload === undefined ? {} : { payload, contentType: 'application/json' });
      const at = (label: string) => `${route.method} ${route.url} with ${label}`;
      for (const [label, value] of [
        ['a non-uuid', 'not-a-uuid'], ['a NUL', '%00'], ['unicode', '%F0%9F%98%80'], ['a quote', "'%20OR%201=1--"],
        ['a nearly-uuid', '00000000-0000-0000-0000-00000000000g'], ['a long id', 'x'.repeat(90)],
      ] as const) {
        check(await call(value), at(label), { fields: [param] });
      }
      if (param !== 'id') continue;
      // A route-guards fixture body is what gets a missing id as far as the lookup.
      const lookup = { status: SAMPLE_BODIES[`${route.method} ${route.url}`] || !hasBody(route.method) || !bodySchemaOf(route.method, route.url)?.required?.length ? 404 : undefined };
      check(await call(randomUUID()), at('a random uuid'), lookup);
      check(await call(otherResourceId(route.url)), at('another resource\'s id'), lookup);
    }
    flushProblems();
  }, 120_000);

  it('hostile content: text/plain, malformed JSON, an empty JSON body, other charsets', async () => {
    for (const route of routes().filter((r) => hasBody(r.method))) {
      const url = ownUrl(route.url);
      const at = (label: string) => `${route.method} ${route.url} ${label}`;
      check(await send(route.method, url, { payload: 'hello', contentType: 'text/plain' }), at('text/plain'));
      check(await send(route.method, url, { payload: '{"a":', contentType: 'application/json' }), at('malformed JSON'));
      check(await send(route.method, url, { payload: '', contentType: 'application/json' }), at('empty JSON body'));
      check(await send(route.method, url, { payload: '{}', contentType: 'application/json; charset=utf-16' }), at('charset=utf-16'));
      check(await send(route.method, url, { payload: '\uFEFF{}', contentType: 'application/json' }), at('JSON with a BOM'));
      check(await send(route.method, url, { payload: 'a=1', contentType: 'application/x-www-form-urlencoded' }), at('a form'));
      check(await send(route.method, url, { payload: '{"a":1}', contentType: 'application/json', headers: { 'idempotency-key': '\u00e9'.repeat(300) } }), at('a bad Idempotency-Key'));
    }
    flushProblems();
  }, 120_000);

  it('the payout callback: hostile company and signature headers are 401s', async () => {
    const url = '/v1/lms/payouts/callback/';
    const payload = toJson(SAMPLE_BODIES[`POST ${url}`]);
    const signature = signCallback(callbackSecret, payload);
    for (const [label, company, sig] of [
      ['no headers', undefined, undefined],
      ['a company of 36 hyphens', '-'.repeat(36), signature],
      ['a non-uuid company', 'not-a-company', signature],
      ['an unknown company', randomUUID(), signature],
      ['a junk signature', home.companyId, 'sha256=zz'],
      ['a long signature', home.companyId, `sha256=${'a'.repeat(5000)}`],
      ['a unicode signature', home.companyId, `sha256=${createHash('sha256').digest('hex').slice(0, 63)}é`],
    ] as const) {
      const headers: Record<string, string> = {};
      if (company !== undefined) headers['x-lms-company'] = company;
      if (sig !== undefined) headers['x-lms-signature'] = sig;
      check(await send('POST', url, { payload, contentType: 'application/json', headers, auth: false }), `POST ${url} with ${label}`, { status: 401 });
    }
    flushProblems();
  });
});
