// Payout callbacks: the bank's or gateway's result for one attempt, authenticated by an
// HMAC-SHA256 signature over the raw body with the company's callback secret (not by a user
// token). Every callback is kept as received. A callback applies at most once: a replay finds the
// attempt already in the reported state and changes nothing; one that matches no attempt, or
// contradicts a settled outcome, is kept as unmatched for an operator.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { newId } from '../../domain/ids.js';
import type { BusinessDate } from '../../domain/time.js';
import { DomainError, notFound } from '../../errors.js';
import type { Payout, PayoutCallback } from '../../generated/prisma/client.js';
import type { PageRequest } from '../../http/wire.js';
import { AccountsRepository } from '../accounts/service.js';
import { writeAudit } from '../audit/audit.js';
import type { Actor } from '../users/service.js';
import type { PayoutsRepository } from './repository.js';
import type { PayoutsService } from './service.js';

export const SIGNATURE_HEADER = 'x-lms-signature';
export const COMPANY_HEADER = 'x-lms-company';

export interface CallbackBody {
  reference: string;
  status: 'processed' | 'failed';
  utr?: string | null;
  bank_date?: BusinessDate;
  amount?: bigint;
  failed_remark?: string | null;
}

export type CallbackOutcome = 'applied' | 'replay' | 'unmatched';

/** `sha256=<hex>` of HMAC-SHA256(secret, body). */
export function signCallback(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class PayoutCallbacks {
  constructor(private readonly db: Database, private readonly payouts: PayoutsService) {}

  /** Generates a new secret for the company (the old one stops working at once) and returns it. */
  async rotateSecret(by: Actor): Promise<string> {
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    await this.db.client.company.update({ where: { id: by.companyId }, data: { payoutCallbackSecret: secret } });
    await writeAudit(this.db, { companyId: by.companyId, entityType: 'company', entityId: by.companyId, action: 'payout_callback_secret_rotated', actor: by.actor, data: {} });
    return secret;
  }

  /** The company a correctly signed callback belongs to; anything else is a 401 with no detail to probe. */
  async authenticate(companyHeader: unknown, signatureHeader: unknown, rawBody: Buffer): Promise<string> {
    const refuse = () => new DomainError('UNAUTHENTICATED', 'The callback signature is missing or does not match.');
    if (typeof companyHeader !== 'string' || typeof signatureHeader !== 'string') throw refuse();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(companyHeader)) throw refuse();
    const company = await this.db.client.company.findUnique({ where: { id: companyHeader }, select: { payoutCallbackSecret: true } });
    if (!company?.payoutCallbackSecret) throw refuse();
    if (!sameSignature(signCallback(company.payoutCallbackSecret, rawBody), signatureHeader.trim())) throw refuse();
    return companyHeader;
  }

  /** Applies a verified callback once and records it. */
  receive(companyId: string, body: CallbackBody, payload: unknown): Promise<{ callback: PayoutCallback; payout: Payout | null }> {
    const by: Actor = { companyId, actor: 'bank-callback' };
    return this.db.transaction(async () => {
      const repo = this.payouts.repo(companyId);
      const record = (outcome: CallbackOutcome, payoutId: string | null, detail: string | null) => repo.createCallback({
        id: newId(), reference: body.reference, status: body.status, utr: body.utr ?? null, payload: payload as object, outcome, payoutId, detail,
      });
      const found = await repo.attemptByReference(body.reference);
      if (!found) return { callback: await record('unmatched', null, 'no payout attempt has this reference'), payout: null };
      const unlocked = (await repo.findById(found.payoutId))!;
      await new AccountsRepository(this.db, companyId).lockForUpdate(unlocked.accountId);
      const payout = (await repo.lockForUpdate(found.payoutId))!;
      const attempt = (await repo.attemptsOf(payout.id)).find((a) => a.id === found.id)!;
      if (body.amount !== undefined && body.amount !== payout.amountPaise) {
        return { callback: await record('unmatched', payout.id, `amount ${body.amount} paise does not match the payout's ${payout.amountPaise}`), payout };
      }
      if (attempt.status === body.status && (body.status === 'failed' || (attempt.utr ?? null) === (body.utr ?? null))) {
        return { callback: await record('replay', payout.id, null), payout };
      }
      const live = (attempt.status === 'requested' || attempt.status === 'processing') && attempt.attempt === payout.attempt;
      if (!live) {
        return { callback: await record('unmatched', payout.id, `attempt ${attempt.attempt} is already ${attempt.status}; the callback says ${body.status}`), payout };
      }
      // The owner of the payout's purpose may refuse the outcome (a loan that cannot take it): the
      // callback is still kept, as unmatched with the reason, and nothing of the outcome applies.
      await this.db.client.$executeRaw`SAVEPOINT apply_callback`;
      try {
        const updated = await this.apply(by, payout, repo, body);
        await this.db.client.$executeRaw`RELEASE SAVEPOINT apply_callback`;
        return { callback: await record('applied', payout.id, null), payout: updated };
      } catch (error) {
        if (!(error instanceof DomainError) || error.code === 'INVARIANT_VIOLATION') throw error;
        await this.db.client.$executeRaw`ROLLBACK TO SAVEPOINT apply_callback`;
        return { callback: await record('unmatched', payout.id, `refused: ${error.message}`), payout: (await repo.findById(payout.id))! };
      }
    });
  }

  private apply(by: Actor, payout: Payout, repo: PayoutsRepository, body: CallbackBody): Promise<Payout> {
    if (body.status === 'processed') return this.payouts.applyProcessed(by, payout, repo, { utr: body.utr ?? null, bankDate: body.bank_date });
    return this.payouts.applyFailed(by, payout, repo, { failedRemark: body.failed_remark ?? 'failed at the bank', utr: body.utr ?? null });
  }

  unmatched(companyId: string, page: PageRequest, resolved?: boolean) {
    return this.payouts.repo(companyId).unmatched(page, resolved);
  }

  /** An operator closes an unmatched callback with what they did about it. */
  resolve(by: Actor, id: string, resolution: string): Promise<PayoutCallback> {
    return this.db.transaction(async () => {
      const repo = this.payouts.repo(by.companyId);
      const callback = await repo.findCallback(id);
      if (!callback || callback.outcome !== 'unmatched') throw notFound('Unmatched payout callback');
      if (callback.resolvedAt) throw new DomainError('STATE_CONFLICT', 'This callback is already resolved.', { id: ['already resolved'] });
      const updated = await repo.updateCallback(id, { resolvedAt: new Date(), resolvedBy: by.actor, resolution });
      await writeAudit(this.db, { companyId: by.companyId, entityType: 'payout_callback', entityId: id, action: 'resolved', actor: by.actor, data: { resolution } });
      return updated;
    });
  }
}
