import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, toWireTime } from '../../http/wire.js';

const CompanyOut = z.object({ id: z.string(), name: z.string(), created_at: epochSeconds, updated_at: epochSeconds }).meta({ id: 'Company' });

export const companyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/lms/company/', {
    schema: { tags: ['Companies'], summary: "The caller's company", security: [{ bearer: [] }], response: { 200: CompanyOut } },
  }, async (request) => {
    const company = await app.services.companies.get(authOf(request).companyId);
    return { id: company.id, name: company.name, created_at: toWireTime(company.createdAt), updated_at: toWireTime(company.updatedAt) };
  });
};
