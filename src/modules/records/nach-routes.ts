import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export const nachRoutes: FastifyPluginAsyncZod = async () => {};
