import type { EntityManager } from 'typeorm';
import { Events, type AuditAction, type Principal, type SecondStepChange } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { Clock } from '#libs/platform/index.js';
import type { AuditDetails, AuditService } from '../audit/audit.service.js';
import { lockPrincipal } from '../credentials/action-tokens.service.js';
import { queueLoginNotice } from '../credentials/login-notice.js';
import { loadProfile } from '../credentials/principal-profile.js';
import { findFactor, turnFactorOff, type SessionLosingSecondStep } from './totp-factors.js';

/** What recording a change of a second step needs (identity's services, or a command's own). */
export interface SecondStepChangeDeps {
  audit: AuditService;
  outbox: OutboxWriter;
  clock: Clock;
  /** Tells the gateways, once the change commits, of open sessions that no longer count as having passed a second step (none: they read it in the gate state). */
  secondStepLost?: (sessions: SessionLosingSecondStep[]) => void;
}

/** A change of `target`'s second step: who made it (null: the operator), what, from where. */
export interface SecondStepChangeRecord {
  actor: Principal | null;
  target: Principal;
  change: SecondStepChange;
  ip: string | null;
  details?: AuditDetails;
}

/** How each change of a second step is audited. */
const AUDIT_ACTIONS: Record<SecondStepChange, AuditAction> = {
  enabled: 'mfa.enabled',
  disabled: 'mfa.disabled',
  'recovery-codes-renewed': 'mfa.recovery-codes-renewed',
  'reset-by-admin': 'mfa.reset',
  'reset-by-operator': 'mfa.reset',
};

/**
 * Audits a change of a second step in every account its login works in (a subuser's own account,
 * also while it is deactivated there: its admins reset it), and queues the notice to
 * the login's e-mail. Whether a notice was queued (a subuser may have no e-mail): the caller then
 * nudges the outbox relay after its commit.
 */
export async function recordSecondStepChange(deps: SecondStepChangeDeps, manager: EntityManager, record: SecondStepChangeRecord): Promise<boolean> {
  const { actor, target, change, ip, details } = record;
  const profile = (await loadProfile(manager, target))!;
  const accountIds = profile.accountId !== null ? [profile.accountId] : profile.activeAccountIds;
  await deps.audit.record(manager, { accountIds, action: AUDIT_ACTIONS[change], actor, target, ip, details });
  return queueLoginNotice(deps.outbox, manager, profile, Events.SecondStepChanged, { change, changedAt: deps.clock.now().toISOString() });
}

/**
 * Someone else turns `record.target`'s second step off (an admin of a subuser's account, or the
 * operator for anyone): audited `mfa.reset`, told to its e-mail, its sessions kept (they signed in
 * with both factors) but no longer counted as having passed a second step. In `manager`'s
 * transaction, the login's row locked first, as every change of it is. 404 when the login is gone,
 * 409 when its second step is off. Whether a notice was queued.
 */
export async function resetSecondStep(
  deps: SecondStepChangeDeps,
  manager: EntityManager,
  record: SecondStepChangeRecord & { change: 'reset-by-admin' | 'reset-by-operator' },
): Promise<boolean> {
  const { target } = record;
  const what = target.type === 'user' ? 'User' : 'Subuser';
  if (!(await lockPrincipal(manager, target, 'FOR NO KEY UPDATE'))) throw new DomainError(ErrorCode.NotFound, `${what} not found`);
  if (!(await findFactor(manager, target, true))?.confirmedAt)
    throw new DomainError(ErrorCode.Conflict, `Two-step sign-in is off for this ${what.toLowerCase()}`);
  const { sessions } = await turnFactorOff(manager, target);
  deps.secondStepLost?.(sessions);
  return recordSecondStepChange(deps, manager, record);
}
