import type { MfaStatusView } from '#libs/contracts/index.js';
import type { TotpFactor } from './totp-factors.js';

/**
 * `GET /v1/me/mfa` of a login whose factor is `factor` (null: none), with `recoveryCodesLeft`
 * unused recovery codes: off (and not blocked) unless the factor is confirmed; blocked, and since
 * when, while too many wrong codes block its second step (second-step-block.ts).
 */
export function mfaStatusOf(factor: Pick<TotpFactor, 'confirmedAt' | 'blockedAt'> | null, recoveryCodesLeft: number): MfaStatusView {
  if (!factor?.confirmedAt) return { enabled: false, enabledAt: null, recoveryCodesLeft: 0, blocked: false, blockedAt: null };
  return {
    enabled: true,
    enabledAt: factor.confirmedAt.toISOString(),
    recoveryCodesLeft,
    blocked: factor.blockedAt !== null,
    blockedAt: factor.blockedAt?.toISOString() ?? null,
  };
}
