import type { EntityManager } from 'typeorm';
import { Events, type Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { Clock } from '#libs/platform/index.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ActionTokensService } from '../credentials/action-tokens.service.js';
import { queueLoginNotice } from '../credentials/login-notice.js';
import { loadProfile } from '../credentials/principal-profile.js';
import { blockFactor, countWrongCode, type TotpFactor } from './totp-factors.js';

/**
 * The second step blocked after too many wrong codes: the throttle only slows guessing (its longest
 * lockout is an hour), so a login whose password is known would, over months, give way to someone
 * guessing its codes. After MFA_BLOCK_AFTER_WRONG_CODES wrong codes at sign-in within
 * WRONG_CODE_WINDOW_DAYS (an authenticator's or a recovery code's alike; right codes between them
 * do not start the count afresh, or a guesser would never be stopped), no sign-in of the login gets past its second step,
 * not even with the right code, until its password is reset or changed (whoever guessed had the old
 * one) or its second step is reset (an admin of a subuser's account, or the operator).
 */

/** What blocking needs (identity's services). */
export interface SecondStepBlockDeps {
  tokens: ActionTokensService;
  audit: AuditService;
  outbox: OutboxWriter;
  clock: Clock;
}

/** What a wrong code did: counted only, or blocked the second step (`told`: a notice was queued, to nudge the outbox relay for after the commit). */
export type WrongCodeOutcome = { blocked: false } | { blocked: true; told: boolean };

/**
 * A wrong code typed at sign-in for `factor` (locked by the caller, in its transaction): counted,
 * and when it makes `limit` within the window, the second step is blocked, every live sign-in challenge of
 * the login voided, the block audited (`mfa.blocked`) in every account the login works in, and
 * (once per block: a blocked second step takes no more codes) `identity.second-step.blocked`
 * queued for the notice to the login's e-mail, when it has one.
 */
export async function countWrongSignInCode(
  deps: SecondStepBlockDeps,
  manager: EntityManager,
  principal: Principal,
  factor: TotpFactor,
  limit: number,
  ip: string,
): Promise<WrongCodeOutcome> {
  const wrongCodes = await countWrongCode(manager, factor.id, deps.clock.now());
  if (wrongCodes < limit) return { blocked: false };
  const blockedAt = deps.clock.now();
  await blockFactor(manager, factor.id, blockedAt);
  await deps.tokens.voidAll(manager, principal, { purpose: 'sign-in' });
  const profile = (await loadProfile(manager, principal))!;
  await deps.audit.record(manager, {
    accountIds: profile.activeAccountIds,
    action: 'mfa.blocked',
    actor: null,
    target: principal,
    ip,
    details: { wrongCodes },
  });
  const told = await queueLoginNotice(deps.outbox, manager, profile, Events.SecondStepBlocked, { wrongCodes, blockedAt: blockedAt.toISOString() });
  return { blocked: true, told };
}

/** The answer to every sign-in of a login whose second step is blocked (423 SECOND_STEP_BLOCKED). */
export function secondStepBlocked(): DomainError {
  return new DomainError(
    ErrorCode.SecondStepBlocked,
    'Two-step sign-in is blocked for this login after too many wrong codes: reset the password (a subuser: or ask an administrator of its account to reset its second step) to sign in again',
  );
}
