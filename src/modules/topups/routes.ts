import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export const topupRoutes: FastifyPluginAsyncZod = async () => {};
