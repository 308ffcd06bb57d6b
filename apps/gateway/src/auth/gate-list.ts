import type { GateState, RevokedSession, SecondStepPolicyChangedEvent, SuspendedPrincipal, SuspensionChangedEvent } from '#libs/contracts/index.js';

/** What was heard from identity while a full state was being loaded (it wins over the loaded state). */
export interface HeardSince {
  sessions: RevokedSession[];
  secondStepLost: RevokedSession[];
  /** Sessions that passed a second step again; none is also in `secondStepLost` ({@link hearSecondStep}). */
  secondStepRegained: string[];
  suspensions: SuspensionChangedEvent[];
  policies: SecondStepPolicyChangedEvent[];
}

/**
 * Notes in `heard` what a broadcast said of sessions' second step: a later word on a session
 * replaces an earlier one, so that a load applying both lists, in whatever order, ends as the
 * broadcasts did.
 */
export function hearSecondStep(heard: HeardSince, lost: RevokedSession[], regained: string[]): void {
  const lostNow = new Set(lost.map((session) => session.id));
  const regainedNow = new Set(regained);
  heard.secondStepLost = heard.secondStepLost.filter((session) => !regainedNow.has(session.id)).concat(lost);
  heard.secondStepRegained = heard.secondStepRegained.filter((id) => !lostNow.has(id)).concat(regained);
}

/**
 * How long the time of the last suspension change heard of a principal is kept (see
 * {@link GateList.suspend}): a broadcast delayed longer than this is applied as it comes, and the
 * minute's reload of the whole state corrects it.
 */
export const SUSPENSION_TIMES_KEPT_MS = 10 * 60_000;

/** The last suspension change heard of a principal: its time by identity's clock, and when it was heard here. */
interface LastChange {
  changedAt: string;
  heardAt: number;
}

/**
 * What this gateway replica refuses, in memory: sessions that ended (until their last access
 * token would have expired anyway), principals suspended in an account, the accounts that
 * refuse sessions opened without a second step, and the open sessions whose login's second step
 * was turned off since (until their access tokens that say it was passed expire). Pure, for tests.
 */
export class GateList {
  private readonly revoked = new Map<string, number>();
  private readonly secondStepLost = new Map<string, number>();
  private readonly suspended = new Set<string>();
  private readonly secondStepAccounts = new Set<string>();
  private readonly lastSuspensionChanges = new Map<string, LastChange>();

  /**
   * Replaces everything with a full state from identity, keeping what was heard meanwhile (and the
   * times of the last changes heard: a change older than one of them, heard late, stays ignored).
   */
  load(state: GateState, heardSince: HeardSince): void {
    this.revoked.clear();
    this.secondStepLost.clear();
    this.suspended.clear();
    this.secondStepAccounts.clear();
    this.revoke(state.revokedSessions);
    this.loseSecondStep(state.secondStepLost ?? []);
    for (const principal of state.suspended) this.suspended.add(key(principal));
    for (const accountId of state.secondStepAccounts) this.secondStepAccounts.add(accountId);
    this.revoke(heardSince.sessions);
    this.loseSecondStep(heardSince.secondStepLost);
    this.regainSecondStep(heardSince.secondStepRegained);
    for (const change of heardSince.suspensions) this.suspend(change, change.suspended, change.changedAt);
    for (const change of heardSince.policies) this.setSecondStepRequired(change.accountId, change.requireSecondStep);
  }

  /** Sessions that ended. */
  revoke(sessions: RevokedSession[]): void {
    keepUntil(this.revoked, sessions);
  }

  /** Open sessions whose login's second step was turned off: their tokens no longer count as having passed one. */
  loseSecondStep(sessions: RevokedSession[]): void {
    keepUntil(this.secondStepLost, sessions);
  }

  /** Sessions that passed a second step again (turned their login's on again): their tokens count again. */
  regainSecondStep(sessionIds: string[]): void {
    for (const id of sessionIds) this.secondStepLost.delete(id);
  }

  /**
   * A principal suspended in (or readmitted to) an account, at `changedAt` (identity's clock; absent
   * from an identity of the release before: applied as it comes). A change older than the last one
   * heard of the principal is ignored: two identity replicas broadcast a deactivation and the
   * reactivation that followed it in either order. Answers whether it was applied.
   */
  suspend(principal: SuspendedPrincipal, suspended: boolean, changedAt?: string, now = Date.now()): boolean {
    const id = key(principal);
    if (changedAt !== undefined) {
      const last = this.lastSuspensionChanges.get(id);
      if (last && !isLaterOrSame(changedAt, last.changedAt)) return false;
      this.lastSuspensionChanges.set(id, { changedAt, heardAt: now });
    }
    if (suspended) this.suspended.add(id);
    else this.suspended.delete(id);
    return true;
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

  /** Whether tokens of this session no longer count as having passed a second step, whatever they say. */
  hasLostSecondStep(sessionId: string, now = Date.now()): boolean {
    const until = this.secondStepLost.get(sessionId);
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

  /** Forgets sessions whose tokens have all expired (ended, or that lost their second step), and the times of suspension changes heard long ago. */
  prune(now = Date.now()): void {
    for (const sessions of [this.revoked, this.secondStepLost]) for (const [id, until] of sessions) if (until <= now) sessions.delete(id);
    for (const [id, last] of this.lastSuspensionChanges) if (now - last.heardAt >= SUSPENSION_TIMES_KEPT_MS) this.lastSuspensionChanges.delete(id);
  }

  /** Sizes, for metrics and tests. */
  size(): { revoked: number; suspended: number; secondStepAccounts: number; secondStepLost: number } {
    return {
      revoked: this.revoked.size,
      suspended: this.suspended.size,
      secondStepAccounts: this.secondStepAccounts.size,
      secondStepLost: this.secondStepLost.size,
    };
  }
}

/** Whether `time` is the same as or later than `than` (both ISO 8601 instants; one that does not read as a time is taken as later, as if unversioned). */
function isLaterOrSame(time: string, than: string): boolean {
  const [first, second] = [Date.parse(time), Date.parse(than)];
  if (Number.isNaN(first) || Number.isNaN(second)) return true;
  // Microseconds decide between two times of the same millisecond (identity writes six digits, always).
  return first !== second ? first > second : time >= than;
}

/** Keeps each session of `sessions` in `map` until its `until` (the later, when it is there already; one that does not read as a time is ignored). */
function keepUntil(map: Map<string, number>, sessions: RevokedSession[]): void {
  for (const session of sessions) {
    const until = Date.parse(session.until);
    if (Number.isFinite(until)) map.set(session.id, Math.max(until, map.get(session.id) ?? 0));
  }
}

function key(principal: SuspendedPrincipal): string {
  return `${principal.accountId}:${principal.principalType}:${principal.principalId}`;
}
