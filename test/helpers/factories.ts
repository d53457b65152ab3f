// Builders for test data through the services (the API tests exercise the routes themselves).
import { newId } from '../../src/domain/ids.js';
import type { TestContext } from './app.js';

export const EMI_PARAMS = {
  roi_value: [{ days: -1, value: 12 }], emi_count: 12, emi_frequency: 'monthly', days_in_month: 30, days_in_year: 360,
  pf_value: 1, pf_value_type: 'percentage', pf_gst: 18,
};

/** An account with loan params bound through a fresh lead and program. */
export async function accountWithParams(ctx: TestContext, companyId: string, params: Record<string, unknown> = EMI_PARAMS, sanctionedPaise = 1_000_000_00n) {
  const lead = { lead_id: newId(), program_id: newId() };
  const by = { companyId, actor: 'test' };
  const account = await ctx.app.services.accounts.create(by, { name: 'Borrower', sanctioned_limit: sanctionedPaise, ...lead });
  const { InitiateLoanParamsIn } = await import('../../src/modules/loan-params/schemas.js');
  await ctx.app.services.loanParams.initiate(by, InitiateLoanParamsIn.parse({ ...lead, ...params }));
  return account;
}
