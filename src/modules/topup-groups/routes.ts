import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export const topupGroupRoutes: FastifyPluginAsyncZod = async () => {};
