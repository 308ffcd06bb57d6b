import type { GateState, RevokedSession, SecondStepPolicyChangedEvent, SuspendedPrincipal, SuspensionChangedEvent } from '#libs/contracts/index.js';

/** What was heard from identity while a full state was being loaded (it wins over the loaded state). */
export interface HeardSince {
  sessions: RevokedSession[];
  suspensions: SuspensionChangedEvent[];
  policies: SecondStepPolicyChangedEvent[];
}

/**
 * What this gateway replica refuses, in memory: sessions that ended (until their last access
 * token would have expired anyway), principals suspended in an account, and the accounts that
 * refuse sessions opened without a second step. Pure, for tests.
 */
export class GateList {
  private readonly revoked = new Map<string, number>();
  private readonly suspended = new Set<string>();
  private readonly secondStepAccounts = new Set<string>();

  /** Replaces everything with a full state from identity, keeping what was heard meanwhile. */
  load(state: GateState, heardSince: HeardSince): void {
    this.revoked.clear();
    this.suspended.clear();
    this.secondStepAccounts.clear();
    this.revoke(state.revokedSessions);
    for (const principal of state.suspended) this.suspended.add(key(principal));
    for (const accountId of state.secondStepAccounts) this.secondStepAccounts.add(accountId);
    this.revoke(heardSince.sessions);
    for (const change of heardSince.suspensions) this.suspend(change, change.suspended);
    for (const change of heardSince.policies) this.setSecondStepRequired(change.accountId, change.requireSecondStep);
  }

  /** Sessions that ended. */
  revoke(sessions: RevokedSession[]): void {
    for (const session of sessions) {
      const until = Date.parse(session.until);
      if (Number.isFinite(until)) this.revoked.set(session.id, Math.max(until, this.revoked.get(session.id) ?? 0));
    }
  }

  /** A principal suspended in (or readmitted to) an account. */
  suspend(principal: SuspendedPrincipal, suspended: boolean): void {
    if (suspended) this.suspended.add(key(principal));
    else this.suspended.delete(key(principal));
  }

  /** An account that began (or stopped) requiring a second step. */
  setSecondStepRequired(accountId: string, required: boolean): void {
    if (required) this.secondStepAccounts.add(accountId);
    else this.secondStepAccounts.delete(accountId);
  }

  /** Whether access tokens of this session must be refused now. */
  isRevoked(sessionId: string, now = Date.now()): boolean {
    const until = this.revoked.get(sessionId);
    return until !== undefined && until > now;
  }

  /** Whether the principal is barred from the account. */
  isSuspended(principal: SuspendedPrincipal): boolean {
    return this.suspended.has(key(principal));
  }

  /** Whether the account refuses sessions opened without a second step. */
  requiresSecondStep(accountId: string): boolean {
    return this.secondStepAccounts.has(accountId);
  }

  /** Forgets sessions whose tokens have all expired. */
  prune(now = Date.now()): void {
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
  }

  /** Sizes, for metrics and tests. */
  size(): { revoked: number; suspended: number; secondStepAccounts: number } {
    return { revoked: this.revoked.size, suspended: this.suspended.size, secondStepAccounts: this.secondStepAccounts.size };
  }
}

function key(principal: SuspendedPrincipal): string {
  return `${principal.accountId}:${principal.principalType}:${principal.principalId}`;
}
