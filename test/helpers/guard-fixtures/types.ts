import type { TestContext, Tenant } from '../app.js';

export interface GuardFixture {
  /** A valid body for "METHOD /pattern/" where `{}` would fail validation before the id is looked up. */
  bodies?: Record<string, object>;
  /**
   * Creates rows owned by the foreign tenant and returns one id per resource prefix
   * (e.g. `{ '/v1/lms/payouts': id }`). `ids` holds what earlier fixtures created.
   */
  foreign?: (ctx: TestContext, foreign: Tenant, ids: Readonly<Record<string, string>>) => Promise<Record<string, string>>;
}
