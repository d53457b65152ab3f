// Topup groups: a maker collects topups in an open group (each passes its checks and holds its
// limit while it waits, status `approved`); a checker approves the group, which pays all of
// them out together in one transaction, or it is cancelled, which releases them all.
import type { Database } from '../../db/database.js';
import { nextRef } from '../../db/refs.js';
import { newId } from '../../domain/ids.js';
import { failedChecks } from '../../domain/topup-checks.js';
import { DomainError, notFound, type FieldErrors } from '../../errors.js';
import type { Topup, TopupGroup } from '../../generated/prisma/client.js';
import type { Page, PageRequest } from '../../http/wire.js';
import { writeAudit } from '../audit/audit.js';
import type { Role } from '../auth/roles.js';
import type { Actor } from '../users/service.js';
import { heldOf, type TopupEngine } from './engine.js';
import { EMPTY_TOTALS, type GroupTotals } from './repository.js';

export const GROUP_STATUSES = ['open', 'approved', 'cancelled'] as const;
/** A group is approved in one transaction; this bounds its length (checked when a topup joins). */
export const GROUP_MAX_TOPUPS = 100;
/** Approving pays money out: a checker's or an admin's act, never the maker's. */
export const APPROVER_ROLES: readonly Role[] = ['admin', 'checker'];
/** Members that are neither waiting nor finished: they block an approval until resolved. */
const UNRESOLVED = ['draft', 'checks_failed'];

export interface GroupActor extends Actor {
  role: Role;
}

export interface GroupPatch {
  name?: string;
  remarks?: string | null;
  status?: 'approved' | 'cancelled';
}

export interface GroupView {
  group: TopupGroup;
  totals: GroupTotals;
}

export class TopupGroupsService {
  constructor(private readonly db: Database, private readonly engine: TopupEngine) {}

  private repo(companyId: string) {
    return this.engine.groups(companyId);
  }

  private audit(by: Actor, group: TopupGroup, action: string, data: Record<string, unknown> = {}) {
    return writeAudit(this.db, { companyId: by.companyId, entityType: 'topup_group', entityId: group.id, action, actor: by.actor, data: { status: group.status, ...data } });
  }

  private async view(companyId: string, group: TopupGroup): Promise<GroupView> {
    return { group, totals: (await this.repo(companyId).totals([group.id])).get(group.id) ?? EMPTY_TOTALS };
  }

  create(by: Actor, input: { name: string; remarks?: string }): Promise<GroupView> {
    return this.db.transaction(async () => {
      const group = await this.repo(by.companyId).create({
        id: newId(), refId: await nextRef(this.db, by.companyId, 'topup_group', 'TGRP'), name: input.name, status: 'open',
        remarks: input.remarks ?? null, createdBy: by.actor,
      });
      await this.audit(by, group, 'created', { name: input.name });
      return { group, totals: EMPTY_TOTALS };
    });
  }

  async get(companyId: string, id: string): Promise<GroupView> {
    const group = await this.repo(companyId).findById(id);
    if (!group) throw notFound('Topup group');
    return this.view(companyId, group);
  }

  async list(companyId: string, page: PageRequest, filter: { status?: string }): Promise<Page<GroupView>> {
    const groups = await this.repo(companyId).list(page, filter);
    const totals = await this.repo(companyId).totals(groups.results.map((g) => g.id));
    return { ...groups, results: groups.results.map((group) => ({ group, totals: totals.get(group.id) ?? EMPTY_TOTALS })) };
  }

  /**
   * Update TopupGroup: rename, remarks, and `status` approved (pay out every waiting topup) or
   * cancelled (release them). Locks: every member's account in id order, then the group, the same
   * order a joining topup takes (account, then group), so the two cannot deadlock.
   */
  update(by: GroupActor, id: string, patch: GroupPatch): Promise<GroupView> {
    return this.db.transaction(async () => {
      const found = await this.repo(by.companyId).findById(id);
      if (!found) throw notFound('Topup group');
      if (patch.status === 'approved' && !APPROVER_ROLES.includes(by.role)) {
        throw new DomainError('FORBIDDEN', `Role ${by.role} may not approve a topup group: approval is a checker's or an admin's act.`);
      }
      const locked = patch.status ? await this.lockMemberAccounts(by.companyId, id) : new Set<string>();
      let group = (await this.repo(by.companyId).lockForUpdate(id))!;
      if (patch.status) {
        if (group.status !== 'open') {
          throw new DomainError('STATE_CONFLICT', `Topup group ${group.refId} is ${group.status}; only an open group can be ${patch.status}.`, { status: [`group is ${group.status}`] });
        }
        const members = await this.engine.repo(by.companyId).membersOf(id);
        // A topup that joined between the first read and the group lock has an account not locked yet.
        if (members.some((m) => !locked.has(m.accountId))) throw new DomainError('STATE_CONFLICT', 'Topups joined the group while it was being changed; retry.');
        group = patch.status === 'approved' ? await this.approve(by, group, members) : await this.cancel(by, group, members);
      }
      if (patch.name !== undefined || patch.remarks !== undefined) {
        group = await this.repo(by.companyId).update(id, { name: patch.name, remarks: patch.remarks });
        await this.audit(by, group, 'updated', { name: patch.name, remarks: patch.remarks });
      }
      return this.view(by.companyId, group);
    });
  }

  private async lockMemberAccounts(companyId: string, groupId: string): Promise<Set<string>> {
    const accounts = [...new Set((await this.engine.repo(companyId).membersOf(groupId)).map((m) => m.accountId))].sort();
    for (const accountId of accounts) await this.engine.lockAccount(companyId, accountId);
    return new Set(accounts);
  }

  /** Checks every waiting topup first and pays out none unless all pass: the group moves as one. */
  private async approve(by: GroupActor, group: TopupGroup, members: Topup[]): Promise<TopupGroup> {
    const unresolved = members.filter((m) => UNRESOLVED.includes(m.status));
    if (unresolved.length > 0) {
      throw new DomainError('STATE_CONFLICT', `Topups ${unresolved.map((m) => m.refId).join(', ')} have failing checks: fix them and re-run their checks, or move them out of the group, before approving.`, { status: ['group has topups with failing checks'] });
    }
    const waiting = members.filter((m) => m.status === 'approved');
    if (waiting.length === 0) throw new DomainError('STATE_CONFLICT', `Topup group ${group.refId} has no topups waiting for approval.`, { status: ['nothing to approve'] });
    if (group.createdBy === by.actor || waiting.some((m) => m.createdBy === by.actor)) {
      throw new DomainError('FORBIDDEN', 'Maker-checker: the group and its topups must be approved by someone other than who created them.');
    }
    const failures: FieldErrors = Object.create(null);
    const evaluated = [];
    for (const topup of waiting) {
      const checks = await this.engine.evaluate(by.companyId, topup, heldOf(topup));
      const failing = failedChecks(checks);
      if (failing.length > 0) failures[`topups.${topup.refId}`] = failing.map((c) => `${c.name}: ${c.reason}`);
      evaluated.push({ topup, checks });
    }
    if (Object.keys(failures).length > 0) {
      throw new DomainError('STATE_CONFLICT', `${Object.keys(failures).length} topup(s) fail their checks now; re-run their checks or unschedule them, then approve. Nothing was paid out.`, failures);
    }
    for (const { topup, checks } of evaluated) await this.engine.settle(by, topup, heldOf(topup), { checks, ignoreGroup: true });
    const approved = await this.repo(by.companyId).update(group.id, { status: 'approved', approvedBy: by.actor, approvedAt: new Date() });
    await this.audit(by, approved, 'approved', { topups: waiting.map((t) => t.id), amount_paise: waiting.reduce((s, t) => s + t.amountPaise, 0n) });
    return approved;
  }

  /** Withdraws every member that has not been paid out (unscheduled), releasing the limit the waiting ones hold. */
  private async cancel(by: Actor, group: TopupGroup, members: Topup[]): Promise<TopupGroup> {
    const pending = members.filter((m) => m.status === 'approved' || UNRESOLVED.includes(m.status));
    const topups = this.engine.repo(by.companyId);
    for (const topup of pending) {
      await this.engine.release(by, topup);
      const updated = await topups.update(topup.id, { status: 'unscheduled', blockedPaise: 0n });
      await this.engine.audit(by, updated, 'unscheduled', { reason: `group ${group.refId} cancelled`, released_paise: topup.blockedPaise });
    }
    const cancelled = await this.repo(by.companyId).update(group.id, { status: 'cancelled' });
    await this.audit(by, cancelled, 'cancelled', { unscheduled: pending.map((t) => t.id) });
    return cancelled;
  }
}
