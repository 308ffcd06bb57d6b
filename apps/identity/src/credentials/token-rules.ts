/** What a link token is for. */
export type LinkPurpose = 'activation' | 'reset';

/** The lifetimes configured for link tokens. */
export interface TokenLifetimes {
  ACTIVATION_TOKEN_TTL_HOURS: number;
  RESET_TOKEN_TTL_MINUTES: number;
}

/** How long a new token of `purpose` lives. */
export function tokenLifetimeMs(purpose: LinkPurpose, lifetimes: TokenLifetimes): number {
  return purpose === 'activation' ? lifetimes.ACTIVATION_TOKEN_TTL_HOURS * 3600_000 : lifetimes.RESET_TOKEN_TTL_MINUTES * 60_000;
}

/** Why a stored token cannot be used now, or null when it can. */
export type TokenProblem = 'unknown' | 'used' | 'superseded' | 'expired';

/** The rule, pure: a token works once, until it expires, unless a newer one for the same purpose replaced it. */
export function tokenProblem(row: { usedAt: Date | null; voidedAt: Date | null; expiresAt: Date } | null, now: Date): TokenProblem | null {
  if (!row) return 'unknown';
  if (row.usedAt) return 'used';
  if (row.voidedAt) return 'superseded';
  if (row.expiresAt.getTime() <= now.getTime()) return 'expired';
  return null;
}
