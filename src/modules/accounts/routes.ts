import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import {
  epochSeconds, idParams, mapPage, pageOf, pageQuery, rupeesInput, rupeesOutput, toWireRupees, toWireTime, uuid,
} from '../../http/wire.js';
import type { Account } from '../../generated/prisma/client.js';
import { ACCOUNT_STATUSES } from './service.js';

const PAN = /^[A-Z]{5}[0-9]{4}[A-Z]$/;
const GSTIN = /^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/;
const pan = z.string().trim().toUpperCase().regex(PAN, 'must be a PAN: 5 letters, 4 digits, 1 letter');
const gstin = z.string().trim().toUpperCase().regex(GSTIN, 'must be a 15-character GSTIN');
const name = z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters');
const externalId = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const AccountIn = z.strictObject({
  name,
  sanctioned_limit: rupeesInput(),
  lead_id: uuid.optional(),
  program_id: uuid.optional(),
  pan: pan.optional(),
  gstin: gstin.optional(),
  external_id: externalId.optional(),
});

const AccountPatchIn = z.strictObject({
  name: name.optional(),
  status: z.enum(['active', 'frozen'], { error: 'must be active or frozen (close an account with PUT accounts/{id}/close/)' }).optional(),
  pan: pan.nullable().optional(),
  gstin: gstin.nullable().optional(),
  external_id: externalId.nullable().optional(),
});

export const AccountOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, name: z.string(), status: z.enum(ACCOUNT_STATUSES),
  sanctioned_limit: rupeesOutput, available_limit: rupeesOutput, lead_id: z.string().nullable(), program_id: z.string().nullable(),
  pan: z.string().nullable(), gstin: z.string().nullable(), external_id: z.string().nullable(), company: z.string(),
}).meta({ id: 'Account' });

export const accountToWire = (a: Account): z.infer<typeof AccountOut> => ({
  id: a.id, created_at: toWireTime(a.createdAt), updated_at: toWireTime(a.updatedAt), name: a.name,
  status: a.status as (typeof ACCOUNT_STATUSES)[number],
  sanctioned_limit: toWireRupees(a.sanctionedLimitPaise), available_limit: toWireRupees(a.availableLimitPaise),
  lead_id: a.leadId, program_id: a.programId, pan: a.pan, gstin: a.gstin, external_id: a.externalId, company: a.companyId,
});

const tags = ['Accounts'];
const security = [{ bearer: [] }];

export const accountRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/accounts/', {
    schema: { tags, security, summary: 'Create Account', body: AccountIn, response: { 201: AccountOut } },
  }, async (request, reply) => {
    const account = await app.services.accounts.create(authOf(request), request.body);
    reply.code(201);
    return accountToWire(account);
  });

  app.get('/v1/lms/accounts/', {
    schema: {
      tags, security, summary: 'List accounts',
      querystring: z.strictObject({
        ...pageQuery, status: z.enum(ACCOUNT_STATUSES).optional(), lead_id: uuid.optional(), program_id: uuid.optional(), external_id: externalId.optional(),
      }),
      response: { 200: pageOf(AccountOut) },
    },
  }, async (request) => {
    const { page, page_size, ...filter } = request.query;
    return mapPage(await app.services.accounts.list(authOf(request).companyId, { page, page_size }, filter), accountToWire);
  });

  app.get('/v1/lms/accounts/:id/', {
    schema: { tags, security, summary: 'Get an account', params: idParams, response: { 200: AccountOut } },
  }, async (request) => accountToWire(await app.services.accounts.get(authOf(request).companyId, request.params.id)));

  app.patch('/v1/lms/accounts/:id/', {
    schema: { tags, security, summary: 'Update an account (name, identifiers, active/frozen)', params: idParams, body: AccountPatchIn, response: { 200: AccountOut } },
  }, async (request) => accountToWire(await app.services.accounts.update(authOf(request), request.params.id, request.body)));
};
