import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { businessDateToEpoch } from '../../domain/time.js';
import type { LineLimit } from '../../domain/limits.js';
import { businessDateOutput, idParams, rupeesOutput, toWireRupees } from '../../http/wire.js';
import { AccountOut, accountToWire } from '../accounts/routes.js';
import { WRITE_ROLES } from '../auth/roles.js';

const Limit = z.object({ approved: rupeesOutput, available: rupeesOutput, used: rupeesOutput, blocked: rupeesOutput });
const limitToWire = (l: LineLimit) => ({ approved: toWireRupees(l.approved), available: toWireRupees(l.available), used: toWireRupees(l.used), blocked: toWireRupees(l.blocked) });
const Components = z.object({ P: rupeesOutput, NI: rupeesOutput, OI: rupeesOutput, PI: rupeesOutput, FEE: rupeesOutput, total: rupeesOutput });
const componentsToWire = (c: { p: bigint; ni: bigint; oi: bigint; pi: bigint; fee: bigint; total: bigint }) => ({
  P: toWireRupees(c.p), NI: toWireRupees(c.ni), OI: toWireRupees(c.oi), PI: toWireRupees(c.pi), FEE: toWireRupees(c.fee), total: toWireRupees(c.total),
});

const tags = ['Accounts'];
const security = [{ bearer: [] }];

export const accountOverviewRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/lms/accounts/:id/refresh_limit/', {
    // A GET by Crego's path, but it may correct stored figures: viewers cannot call it.
    config: { roles: WRITE_ROLES },
    schema: {
      tags, security, params: idParams,
      summary: 'Refresh Limit: recompute each line from loans (used = outstanding principal, blocked = awaiting payout), fix drift, report both',
      response: { 200: z.object({ account: z.string(), drifted: z.boolean(), lines: z.array(z.object({ line: z.string(), type: z.string(), stored: Limit, computed: Limit, drifted: z.boolean() })), available_limit: rupeesOutput }) },
    },
  }, async (request) => {
    const auth = authOf(request);
    const result = await app.services.accountOverview.refreshLimit(auth, request.params.id);
    const account = await app.services.accounts.get(auth.companyId, request.params.id);
    return {
      account: account.id, drifted: result.drifted, available_limit: toWireRupees(account.availableLimitPaise),
      lines: result.lines.map((l) => ({ line: l.line, type: l.type, stored: limitToWire(l.stored), computed: limitToWire(l.computed), drifted: l.drifted })),
    };
  });

  app.get('/v1/lms/accounts/:id/summary/', {
    schema: {
      tags, security, params: idParams, summary: 'Get Summary: limits, outstanding and overdue by component, DPD, asset class, excess balance, loans by status',
      response: {
        200: z.object({
          account: z.string(), as_of: businessDateOutput,
          limits: z.object({ sanctioned: rupeesOutput, available: rupeesOutput, used: rupeesOutput, blocked: rupeesOutput }),
          outstanding: Components, overdue: Components, dpd: z.number().int(), peak_dpd: z.number().int(), asset_class: z.string(),
          loans_by_status: z.record(z.string(), z.number().int()),
          excess: z.object({ balance: rupeesOutput, reserved: rupeesOutput, available: rupeesOutput })
            .meta({ description: 'Money received and not applied (processed records\' remaining amounts); reserved: held by refunds in flight' }),
        }).meta({ id: 'AccountSummary' }),
      },
    },
  }, async (request) => {
    const s = await app.services.accountOverview.summary(authOf(request).companyId, request.params.id);
    return {
      account: request.params.id, as_of: businessDateToEpoch(s.asOf),
      limits: { sanctioned: toWireRupees(s.limits.sanctioned), available: toWireRupees(s.limits.available), used: toWireRupees(s.limits.used), blocked: toWireRupees(s.limits.blocked) },
      outstanding: componentsToWire(s.outstanding), overdue: componentsToWire(s.overdue), dpd: s.dpd, peak_dpd: s.peakDpd, asset_class: s.assetClass,
      loans_by_status: s.loansByStatus,
      excess: { balance: toWireRupees(s.excess.balance), reserved: toWireRupees(s.excess.reserved), available: toWireRupees(s.excess.available) },
    };
  });

  app.put('/v1/lms/accounts/:id/close/', {
    schema: {
      tags, security, params: idParams, summary: 'Close Loan Account: only with nothing outstanding and nothing in flight (409 names what blocks it)',
      response: { 200: AccountOut },
    },
  }, async (request) => accountToWire(await app.services.accountOverview.close(authOf(request), request.params.id)));
};
