import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, idParams, mapPage, pageOf, pageQuery, toWireTime } from '../../http/wire.js';
import type { CollectionBank } from '../../generated/prisma/client.js';

export const IFSC_PATTERN = /^[A-Z]{4}0[A-Z0-9]{6}$/;
export const BANK_ACCOUNT_TYPES = ['current', 'savings', 'cash_credit', 'overdraft', 'escrow', 'nodal'] as const;

export const ifsc = z.string().trim().toUpperCase().regex(IFSC_PATTERN, 'must be an IFSC: 4 letters, 0, then 6 letters or digits');
export const accountNo = z.string().trim().regex(/^\d{6,20}$/, 'must be 6 to 20 digits');
export const holder = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const tags = z.array(z.string().trim().min(1).max(50)).max(20, 'at most 20 tags');

const CollectionBankIn = z.strictObject({
  account_no: accountNo,
  account_holder_name: holder,
  ifsc,
  account_type: z.enum(BANK_ACCOUNT_TYPES).default('current'),
  is_verified: z.boolean().optional(),
  name_at_bank: z.string().trim().max(200).nullable().optional(),
  tags: tags.optional(),
});

const CollectionBankPatch = z.strictObject({
  account_no: accountNo.optional(),
  account_holder_name: holder.optional(),
  ifsc: ifsc.optional(),
  account_type: z.enum(BANK_ACCOUNT_TYPES).optional(),
  is_verified: z.boolean().optional(),
  name_at_bank: z.string().trim().max(200).nullable().optional(),
  tags: tags.optional(),
});

export const CollectionBankOut = z.object({
  id: z.string(), created_at: epochSeconds, updated_at: epochSeconds, account_no: z.string(), tags: z.array(z.string()),
  account_holder_name: z.string(), ifsc: z.string(), account_type: z.string(), is_verified: z.boolean(),
  name_at_bank: z.string().nullable(), company: z.string(),
}).meta({ id: 'CollectionBank' });

export const collectionBankToWire = (b: CollectionBank): z.infer<typeof CollectionBankOut> => ({
  id: b.id, created_at: toWireTime(b.createdAt), updated_at: toWireTime(b.updatedAt), account_no: b.accountNo, tags: b.tags,
  account_holder_name: b.accountHolderName, ifsc: b.ifsc, account_type: b.accountType, is_verified: b.isVerified,
  name_at_bank: b.nameAtBank, company: b.companyId,
});

const tagsMeta = ['Collection banks'];
const security = [{ bearer: [] }];

export const collectionBankRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/lms/collection_banks/', {
    schema: { tags: tagsMeta, security, summary: 'Create a collection bank', body: CollectionBankIn, response: { 201: CollectionBankOut } },
  }, async (request, reply) => {
    const bank = await app.services.collectionBanks.create(authOf(request), request.body);
    reply.code(201);
    return collectionBankToWire(bank);
  });

  app.get('/v1/lms/collection_banks/', {
    schema: {
      tags: tagsMeta, security, summary: 'List collection banks',
      querystring: z.strictObject({ ...pageQuery, ifsc: ifsc.optional(), account_no: accountNo.optional(), is_verified: z.enum(['true', 'false']).optional() }),
      response: { 200: pageOf(CollectionBankOut) },
    },
  }, async (request) => {
    const { page, page_size, is_verified, ...filter } = request.query;
    const result = await app.services.collectionBanks.list(authOf(request).companyId, { page, page_size }, {
      ...filter, is_verified: is_verified === undefined ? undefined : is_verified === 'true',
    });
    return mapPage(result, collectionBankToWire);
  });

  app.get('/v1/lms/collection_banks/:id/', {
    schema: { tags: tagsMeta, security, summary: 'Get a collection bank', params: idParams, response: { 200: CollectionBankOut } },
  }, async (request) => collectionBankToWire(await app.services.collectionBanks.get(authOf(request).companyId, request.params.id)));

  app.patch('/v1/lms/collection_banks/:id/', {
    schema: { tags: tagsMeta, security, summary: 'Update a collection bank', params: idParams, body: CollectionBankPatch, response: { 200: CollectionBankOut } },
  }, async (request) => collectionBankToWire(await app.services.collectionBanks.update(authOf(request), request.params.id, request.body)));
};
