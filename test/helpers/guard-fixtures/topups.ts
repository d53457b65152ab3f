import type { GuardFixture } from './types.js';

export const fixture: GuardFixture = {
  bodies: {
    'POST /v1/lms/topups/': { account: '00000000-0000-4000-8000-000000000000', amount: 1 },
    'PUT /v1/lms/topups/check_line_amount/': { account: '00000000-0000-4000-8000-000000000000', amount: 1 },
    'POST /v1/lms/topup_groups/': { name: 'Guarded' },
  },
  foreign: async (ctx, foreign, ids) => {
    const as = { companyId: foreign.companyId, actor: 'test' };
    const s = ctx.app.services;
    // A topup on an account without params: stored as checks_failed, which is enough to be found.
    const topup = await s.topups.create(as, { account: ids['/v1/lms/accounts']!, amount: 100n });
    const group = await s.topups.groups.create(as, { name: 'Foreign group' });
    return { '/v1/lms/topups': topup.id, '/v1/lms/topup_groups': group.group.id };
  },
};
