// OpenAPI 3.1 generated from the routes' zod schemas; served at /openapi.json with an
// interactive reference at /docs, and written to openapi/openapi.json by `npm run openapi`.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

async function swaggerPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'LMS API',
        version: '1.0.0',
        description: "Loan management system API, wire-compatible with Crego's LMS API (/v1/lms/...). Amounts are rupees with at most two decimals; timestamps are epoch seconds.",
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (lms_...) or a staff access JWT from POST /v1/auth/token/' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}

export default fp(swaggerPlugin, { name: 'swagger' });
