// Idempotency-Key on POST/PUT/PATCH. The key is claimed in its own short transaction (so a
// duplicate arriving meanwhile sees it and gets 409), then the handler runs inside one database
// transaction that also stores the response: the effect and its replayable response commit
// together or not at all. A failed request (any error) releases the key, so nothing half-done
// is ever replayed. Keys are per company and replayed for IDEMPOTENCY_TTL_HOURS.
import fp from 'fastify-plugin';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Database } from '../db/database.js';
import { DomainError, validationFailed } from '../errors.js';
import { MAX_JSON_DEPTH } from '../http/wire.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set false for routes where a replay makes no sense (login). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotencyHash?: string;
  }
}

const METHODS = new Set(['POST', 'PUT', 'PATCH']);
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted, so that the same body in another key order hashes the same. */
function canonicalJson(value: unknown, depth = 1): string {
  // Runs before validation: a body nested deep enough to overflow the stack is the client's 400.
  if (value && typeof value === 'object' && depth > MAX_JSON_DEPTH) throw validationFailed({ body: [`must not be nested more than ${MAX_JSON_DEPTH} levels deep`] });
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, depth + 1)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key], depth + 1)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

interface StoredKey {
  request_hash: string;
  status: string;
  response_status: number | null;
  response_body: string | null;
}

export interface IdempotencyOptions {
  db: Database;
  ttlHours: number;
  lockSeconds: number;
}

async function idempotencyPlugin(app: FastifyInstance, options: IdempotencyOptions) {
  const { db } = options;

  // The hash is taken before validation, from the body as the client sent it.
  app.addHook('preValidation', async (request) => {
    if (!METHODS.has(request.method) || request.headers['idempotency-key'] === undefined) return;
    request.idempotencyHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
      .digest('hex');
  });

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.config?.idempotent === false || !methods.some((m) => METHODS.has(m))) return;
    const original = route.handler as RouteHandlerMethod;
    route.handler = async function idempotentHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const key = request.headers['idempotency-key'];
      if (key === undefined || !request.auth) return original.call(this, request, reply);
      if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
        throw new DomainError('VALIDATION_ERROR', 'Idempotency-Key: must be 1 to 255 printable characters', {
          'Idempotency-Key': ['must be 1 to 255 printable characters'],
        });
      }
      const companyId = request.auth.companyId;
      const hash = request.idempotencyHash!;
      const claimedAt = await claim(companyId, key, request, hash);
      if (!claimedAt) return replayOrReject(companyId, key, hash, reply);
      try {
        const body = await db.transaction(async () => {
          const payload = await original.call(this, request, reply);
          // A handler that sent the reply itself would escape the transaction: routes set the
          // status and return their payload instead.
          if (reply.sent || payload === reply) throw new Error(`${request.routeOptions.url} must return its payload, not send it`);
          const serialized = reply.serialize(payload);
          // Only the claim this request made may complete: if its lock lapsed and a retry took
          // the key over, this transaction rolls back rather than commit a second effect.
          const completed = await db.client.$executeRaw`
            UPDATE idempotency_keys SET status = 'completed', response_status = ${reply.statusCode}, response_body = ${serialized}
            WHERE company_id = ${companyId}::uuid AND key = ${key} AND status = 'in_progress' AND created_at = ${claimedAt}::timestamptz`;
          if (completed !== 1) throw new DomainError('IDEMPOTENCY_IN_PROGRESS', 'This request took longer than its Idempotency-Key lock and was superseded; retry.');
          return serialized;
        });
        return reply.type('application/json; charset=utf-8').send(body);
      } catch (error) {
        await db.prisma.$executeRaw`
          DELETE FROM idempotency_keys WHERE company_id = ${companyId}::uuid AND key = ${key} AND status = 'in_progress' AND created_at = ${claimedAt}::timestamptz`;
        throw error;
      }
    };
  });

  /** Takes the key; returns the claim's time when this request now owns it, else null. Expired or abandoned keys are retaken. */
  async function claim(companyId: string, key: string, request: FastifyRequest, hash: string): Promise<string | null> {
    // The claim's time as text keeps its microseconds (a JS Date would drop them).
    const rows = await db.prisma.$queryRaw<{ claimed_at: string }[]>`
      INSERT INTO idempotency_keys (company_id, key, method, path, request_hash, status, locked_until, expires_at)
      VALUES (${companyId}::uuid, ${key}, ${request.method}, ${request.url}, ${hash}, 'in_progress',
              now() + make_interval(secs => ${options.lockSeconds}), now() + make_interval(hours => ${options.ttlHours}))
      ON CONFLICT (company_id, key) DO UPDATE SET
        method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
        status = 'in_progress', response_status = NULL, response_body = NULL, created_at = now(),
        locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at
      WHERE idempotency_keys.expires_at < now()
         OR (idempotency_keys.status = 'in_progress' AND idempotency_keys.locked_until < now())
      RETURNING created_at::text AS claimed_at`;
    return rows[0]?.claimed_at ?? null;
  }

  async function replayOrReject(companyId: string, key: string, hash: string, reply: FastifyReply) {
    const rows = await db.prisma.$queryRaw<StoredKey[]>`
      SELECT request_hash, status, response_status, response_body FROM idempotency_keys
      WHERE company_id = ${companyId}::uuid AND key = ${key}`;
    const stored = rows[0];
    if (!stored) throw new DomainError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key just finished; retry.');
    if (stored.request_hash !== hash) {
      throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request.');
    }
    if (stored.status !== 'completed') {
      throw new DomainError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed.');
    }
    return reply
      .code(stored.response_status ?? 200)
      .header('idempotency-replayed', 'true')
      .type('application/json; charset=utf-8')
      .send(stored.response_body);
  }
}

export default fp(idempotencyPlugin, { name: 'idempotency', dependencies: ['auth'] });
