import type { GuardFixture } from './types.js';

export const fixture: GuardFixture = {
  bodies: {
    'POST /v1/lms/emis/run_eod/': { date: '2023-12-31' },
  },
  // A date before the foreign loan's disbursement: the run completes at once, enqueueing nothing.
  foreign: async (ctx, foreign) => {
    const view = await ctx.app.services.eod.start({ companyId: foreign.companyId, actor: 'test' }, { date: '2023-12-31' });
    return { '/v1/lms/eod_runs': view.run.id };
  },
};
