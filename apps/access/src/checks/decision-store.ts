import { Injectable } from '@nestjs/common';
import type { CheckResult, Principal } from '#libs/contracts/index.js';

/**
 * The decision data, in memory: PostgreSQL is the source of truth, this is what checks read.
 * Loaded at start and updated by every change, so a check costs a few map lookups.
 */
@Injectable()
export class DecisionStore {
  private readonly ownerByAccount = new Map<string, string>();

  /** Replaces everything (at start). */
  load(owners: Array<{ accountId: string; userId: string }>): void {
    this.ownerByAccount.clear();
    for (const { accountId, userId } of owners) this.ownerByAccount.set(accountId, userId);
  }

  /** Records an account's owner. */
  setOwner(accountId: string, userId: string): void {
    this.ownerByAccount.set(accountId, userId);
  }

  /** Whether `principal` owns `accountId`. */
  isOwner(principal: Principal, accountId: string): boolean {
    return principal.type === 'user' && this.ownerByAccount.get(accountId) === principal.id;
  }

  /** The decision for one check. */
  decide(principal: Principal, accountId: string): CheckResult {
    if (this.isOwner(principal, accountId)) return { allowed: true, reason: 'owner' };
    return { allowed: false, reason: 'not-member' };
  }
}
