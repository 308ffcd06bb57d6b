/**
 * What a link token is for (`sign-in`: the challenge between a sign-in's password and its second
 * step, never mailed; `invitation`: an account's invitation to someone who already has a login).
 */
export type LinkPurpose = 'activation' | 'reset' | 'email-change' | 'email-undo' | 'sign-in' | 'invitation';

/** The lifetimes configured for link tokens. */
export interface TokenLifetimes {
  ACTIVATION_TOKEN_TTL_HOURS: number;
  RESET_TOKEN_TTL_MINUTES: number;
  EMAIL_CHANGE_TOKEN_TTL_HOURS: number;
  EMAIL_UNDO_TOKEN_TTL_HOURS: number;
  MFA_CHALLENGE_TTL_MINUTES: number;
}

/** How long a new token of `purpose` lives. */
export function tokenLifetimeMs(purpose: LinkPurpose, lifetimes: TokenLifetimes): number {
  switch (purpose) {
    case 'activation':
    case 'invitation':
      return lifetimes.ACTIVATION_TOKEN_TTL_HOURS * 3600_000;
    case 'reset':
      return lifetimes.RESET_TOKEN_TTL_MINUTES * 60_000;
    case 'email-change':
      return lifetimes.EMAIL_CHANGE_TOKEN_TTL_HOURS * 3600_000;
    case 'email-undo':
      return lifetimes.EMAIL_UNDO_TOKEN_TTL_HOURS * 3600_000;
    case 'sign-in':
      return lifetimes.MFA_CHALLENGE_TTL_MINUTES * 60_000;
  }
}

/** Which unused links of a principal are voided: of one purpose, or of one account, or all (both: that purpose in that account). */
export interface LinkScope {
  purpose?: LinkPurpose;
  accountId?: string;
  /** Only the links made after the link of this id (compared in the database, to the microsecond). */
  madeAfterLink?: string;
}

/**
 * The older links a new link of `purpose` voids (R4). An activation link is its account's
 * invitation, and so is an invitation link (to someone who has a login): each voids only the older
 * links of its purpose in that account, so that one account inviting (or re-inviting) a person
 * never kills another account's invitation. A reset link sets
 * the one password of the login, whichever account asked: it voids every older reset link. An
 * e-mail change link moves the one login: it voids every older e-mail change link. An undo link
 * voids none (null): each address a login left keeps its own way back, whatever moves came after.
 * A sign-in challenge voids none either: two sign-ins at once (a laptop and a phone) each finish,
 * and someone who has the password cannot cancel the owner's sign-in by starting another. Only
 * the cap on live challenges (LIVE_CHALLENGES in auth.service.ts) ends the oldest: someone with the
 * password who starts ten sign-ins does cancel it, a nuisance to someone they already hold the
 * password of, which the second step exists to stop at this very point.
 */
export function supersededBy(purpose: LinkPurpose, accountId: string | null): LinkScope | null {
  if (purpose === 'email-undo' || purpose === 'sign-in') return null;
  return (purpose === 'activation' || purpose === 'invitation') && accountId !== null ? { purpose, accountId } : { purpose };
}

/**
 * Links that only using them or their expiry ends: an undo link is the way back of an address a
 * login left, so nothing done with the login afterwards (a new password, another move) voids it.
 */
export const UNVOIDABLE_PURPOSES: readonly LinkPurpose[] = ['email-undo'];

/** Why a stored token cannot be used now, or null when it can. */
export type TokenProblem = 'unknown' | 'used' | 'superseded' | 'expired';

/** The rule, pure: a token works once, until it expires, unless it was voided (a newer one replaced it, see {@link supersededBy}). */
export function tokenProblem(row: { usedAt: Date | null; voidedAt: Date | null; expiresAt: Date } | null, now: Date): TokenProblem | null {
  if (!row) return 'unknown';
  if (row.usedAt) return 'used';
  if (row.voidedAt) return 'superseded';
  if (row.expiresAt.getTime() <= now.getTime()) return 'expired';
  return null;
}

/** What the use of a password link needs to know of its principal (see PrincipalProfile). */
export interface LinkHolder {
  status: 'pending' | 'active';
  /** The accounts it works in now (a subuser: its own, while it is active). */
  activeAccountIds: readonly string[];
  /** The accounts whose invitation waits for the person's consent (their membership inactive until they answer). */
  waitingAccountIds: readonly string[];
}

/**
 * Whether a reset link may set the password now, judged when it is used. A link bound to no account
 * (the person asked for it) is the person's own: it works while they are active in any account, as
 * a reset is asked for only then. A link bound to an account (an admin's "Send email"; a subuser's,
 * bound to its own) is that account's word for the person: it works only while the account keeps
 * them active, however many other accounts they work in. Deactivating them there also voids it,
 * so a reactivation does not bring it back (a link the person asked for comes back with them).
 */
export function mayReset(holder: LinkHolder, accountId: string | null): boolean {
  return accountId === null ? holder.activeAccountIds.length > 0 : holder.activeAccountIds.includes(accountId);
}

/**
 * Whether an activation link may set a first password now, judged when it is used: only for a
 * principal that has none (pending), and, for a link bound to an account (every link issued now is),
 * only while that account keeps the membership active or waiting for the person's consent (activating
 * is their consent: they join it as the account set it, inactive if it said so, as accepting an
 * invitation does). An account that deactivated a person it invited no longer vouches for them: its
 * link dies with the deactivation, and a re-send waits for a reactivation.
 */
export function mayActivate(holder: LinkHolder, accountId: string | null): boolean {
  if (holder.status !== 'pending') return false;
  return accountId === null || holder.activeAccountIds.includes(accountId) || holder.waitingAccountIds.includes(accountId);
}
