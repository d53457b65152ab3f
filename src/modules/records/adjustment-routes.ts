import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export const adjustmentRoutes: FastifyPluginAsyncZod = async () => {};
