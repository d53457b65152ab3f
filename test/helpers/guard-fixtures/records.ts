import { newId } from '../../../src/domain/ids.js';
import type { GuardFixture } from './types.js';

export const fixture: GuardFixture = {
  bodies: {
    'PUT /v1/lms/records/:id/mark_processed/': { utr: 'GUARD1', settled_at: 1715331600, collection_bank_id: newId() },
    'PUT /v1/lms/records/:id/match/': { account: newId() },
    'PUT /v1/lms/records/:id/reject/': { remarks: 'no' },
  },
  foreign: async (ctx, foreign, ids) => {
    const record = await ctx.app.services.records.create({ companyId: foreign.companyId, actor: 'test' }, { account: ids['/v1/lms/accounts'], received_amount: 100n });
    return { '/v1/lms/records': record.id };
  },
};
