import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authOf } from '../../plugins/auth.js';
import { epochSeconds, rupeesInput, rupeesOutput, toWireRupees, toWireTime } from '../../http/wire.js';
import type { Company } from '../../generated/prisma/client.js';
import { paramsFields } from '../loan-params/schemas.js';
import type { CompanySettings } from './service.js';

const SettingsOut = z.object({
  record_approval_threshold: rupeesOutput.nullable().meta({ description: "Records above this amount need a checker's approval; null: only adjustments do" }),
  nach_bounce_charge: rupeesOutput.nullable().meta({ description: 'Fee put on a loan when a NACH presentation bounces; null: none' }),
  nach_bounce_charge_gst_rate: z.number().nullable().meta({ description: 'GST on the bounce charge, percent (null: 0)' }),
  payout_callback_secret_set: z.boolean(),
});

const CompanyOut = z.object({ id: z.string(), name: z.string(), created_at: epochSeconds, updated_at: epochSeconds, settings: SettingsOut }).meta({ id: 'Company' });

const gstRate = paramsFields.pf_gst.refine((rate) => Number(rate) <= 100, 'must be a rate from 0 to 100');

function toWire(c: Company): z.infer<typeof CompanyOut> {
  const s = (c.settings ?? {}) as CompanySettings;
  const paise = (v?: string) => (v === undefined ? null : toWireRupees(BigInt(v)));
  return {
    id: c.id, name: c.name, created_at: toWireTime(c.createdAt), updated_at: toWireTime(c.updatedAt),
    settings: {
      record_approval_threshold: paise(s.record_approval_threshold_paise), nach_bounce_charge: paise(s.nach_bounce_charge_paise),
      nach_bounce_charge_gst_rate: s.nach_bounce_charge_gst_rate === undefined ? null : Number(s.nach_bounce_charge_gst_rate),
      payout_callback_secret_set: c.payoutCallbackSecret !== null,
    },
  };
}

export const companyRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/lms/company/', {
    schema: { tags: ['Companies'], summary: "The caller's company and its operating settings", security: [{ bearer: [] }], response: { 200: CompanyOut } },
  }, async (request) => toWire(await app.services.companies.get(authOf(request).companyId)));

  app.patch('/v1/lms/company/', {
    schema: {
      tags: ['Companies'], summary: "Change the company's operating settings (null removes one)", security: [{ bearer: [] }],
      body: z.strictObject({
        record_approval_threshold: rupeesInput().nullable().optional(),
        nach_bounce_charge: rupeesInput({ allowZero: true }).nullable().optional(),
        nach_bounce_charge_gst_rate: gstRate.nullable().optional(),
      }),
      response: { 200: CompanyOut },
    },
    config: { roles: ['admin'] },
  }, async (request) => {
    const b = request.body;
    const paise = (v: bigint | null | undefined) => (v === undefined ? undefined : v === null ? null : v.toString());
    return toWire(await app.services.companies.updateSettings(authOf(request), {
      record_approval_threshold_paise: paise(b.record_approval_threshold), nach_bounce_charge_paise: paise(b.nach_bounce_charge),
      nach_bounce_charge_gst_rate: b.nach_bounce_charge_gst_rate,
    }));
  });
};
