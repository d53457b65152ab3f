import { newId } from '../../../src/domain/ids.js';
import type { GuardFixture } from './types.js';

export const fixture: GuardFixture = {
  bodies: {
    'POST /v1/lms/nach_mandates/': { account: newId(), umrn: 'GUARD000000000000001' },
    'PATCH /v1/lms/nach_mandates/:id/': { status: 'cancelled' },
    'PUT /v1/lms/records/nach_presentation_status/': { collection_bank_id: newId(), rows: [{ record: newId(), status: 'success' }] },
  },
  foreign: async (ctx, foreign, ids) => {
    const mandate = await ctx.app.services.nach.createMandate({ companyId: foreign.companyId, actor: 'test' }, {
      account: ids['/v1/lms/accounts']!, umrn: `FRGN${newId().replace(/-/g, '').slice(0, 16).toUpperCase()}`,
    });
    return { '/v1/lms/nach_mandates': mandate.id };
  },
};
