// Revert a processed record: PUT /v1/lms/records/{id}/revert/ (not in Crego's published list; it
// follows its conventions: a snake_case action on the record, answering the record). Reversing
// money is a checker's (or admin's) act, like approving it.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { businessDateInput, idParams } from '../../http/wire.js';
import { authOf } from '../../plugins/auth.js';
import { RecordOut, recordToWire } from './presenters.js';

const CHECKER_ROLES = ['admin', 'checker'] as const;

export const RevertIn = z.strictObject({
  reason: z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters')
    .meta({ description: 'Why the money is taken back (bounced cheque, wrong UTR, ...)' }),
  value_date: businessDateInput.optional()
    .meta({ description: "The reversal's booking date (default today, IST): not before the record's value date, not after today" }),
});

export const reversalRoutes: FastifyPluginAsyncZod = async (app) => {
  app.put('/v1/lms/records/:id/revert/', {
    schema: {
      tags: ['Records'], security: [{ bearer: [] }], params: idParams, body: RevertIn, response: { 200: RecordOut },
      summary: 'Revert a processed record: every settlement reversed by a linked negative row, excess zeroed, later records replayed to take the dues it paid',
    },
    config: { roles: CHECKER_ROLES },
  }, async (request) => {
    const by = authOf(request);
    const records = app.services.records;
    const reverted = await records.revert(by, request.params.id, request.body);
    return recordToWire(reverted, await records.wireContext(by.companyId, [reverted]));
  });
};
