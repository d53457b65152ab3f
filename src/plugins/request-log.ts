// One log line per request: id, company, route, status, duration. Never headers or bodies, so
// tokens, passwords and bank account numbers cannot reach the log.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

async function requestLogPlugin(app: FastifyInstance) {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({
      company: request.auth?.companyId ?? null,
      method: request.method,
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 10) / 10,
    }, 'request');
  });
}

export default fp(requestLogPlugin, { name: 'request-log' });
