import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { loadMigrations, pendingMigrations } from '../../db/migrate.js';

const Health = z.object({ status: z.enum(['ok', 'unavailable']), database: z.enum(['ok', 'unreachable']).optional(), pending_migrations: z.array(z.string()).optional() });

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const onDisk = loadMigrations().map((m) => m.name);
  app.get('/healthz', {
    config: { public: true },
    schema: { tags: ['Health'], summary: 'The process is up', response: { 200: Health } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    config: { public: true },
    schema: { tags: ['Health'], summary: 'The database is reachable and migrated', response: { 200: Health, 503: Health } },
  }, async (_request, reply) => {
    const query = (sql: string) => app.deps.db.pool.query<{ migration_name: string }>(sql);
    try {
      await query('SELECT 1');
    } catch {
      return reply.code(503).send({ status: 'unavailable' as const, database: 'unreachable' as const });
    }
    const pending = await pendingMigrations(query, onDisk);
    if (pending.length > 0) return reply.code(503).send({ status: 'unavailable' as const, database: 'ok' as const, pending_migrations: pending });
    return { status: 'ok' as const, database: 'ok' as const, pending_migrations: [] };
  });
};
