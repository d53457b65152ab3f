import type { GuardFixture } from './types.js';

export const fixture: GuardFixture = {
  bodies: {
    'PUT /v1/lms/payouts/:id/process/': { status: 'processing' },
    'PUT /v1/lms/payouts/unmatched/:id/resolve/': { resolution: 'checked with the bank' },
  },
  foreign: async (ctx, foreign, ids) => {
    const s = ctx.app.services;
    const [payout] = await s.loans.payoutsOf(foreign.companyId, ids['/v1/lms/loans']!);
    const { callback } = await s.payoutCallbacks.receive(foreign.companyId, { reference: 'NOPE-1', status: 'processed', utr: 'UTR1' }, { reference: 'NOPE-1' });
    return { '/v1/lms/payouts': payout!.id, '/v1/lms/payouts/unmatched': callback.id };
  },
};
