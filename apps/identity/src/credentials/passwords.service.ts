import { Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import type { Actor, AuditAction, ChangePasswordRequest } from '#libs/contracts/index.js';
import { Events, principalOf } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { AuditService } from '../audit/audit.service.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { queueLoginNotice } from './login-notice.js';
import type { SessionEndReason } from '../sessions/session.entity.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { dropUnconfirmedFactor, liftBlock } from '../mfa/totp-factors.js';
import { ActionTokensService, invalidLink } from './action-tokens.service.js';
import type { ActionTokenPurpose } from './action-token.entity.js';
import { PasswordHasher } from './password-hasher.js';
import { assertPasswordAcceptable } from './password-policy.js';
import { loadProfile, type PrincipalProfile } from './principal-profile.js';
import { ThrottleService } from './throttle.service.js';
import { passwordCheckKeys, secondFactorPrincipalKey, tooManyAttempts, type CheckedLogin } from './throttle-keys.js';

/** Setting and changing passwords: the policy, argon2id, ending sessions, the notice mail. */
@Injectable()
export class PasswordsService {
  private readonly nudgeRelay = () => this.relay.nudge();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly hasher: PasswordHasher,
    private readonly tokens: ActionTokensService,
    private readonly sessions: SessionsService,
    private readonly throttle: ThrottleService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /**
   * The argon2id hash of a new password. Called before the transaction that stores it, never in
   * one: argon2 may wait in its queue (ARGON2_QUEUE_LIMIT), and a transaction waiting there would
   * hold a database connection the sign-ins it waits behind need, and be ended by PostgreSQL after
   * a minute idle.
   */
  hash(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  /**
   * The hash of the password a link (activation, reset) is to set, once the link is found good,
   * its principal `eligible` for a link bound to that account (null: to none) and the password
   * acceptable for them: nobody makes identity hash for a bad link. The transaction that then uses
   * the link checks all of it again and decides.
   */
  async hashForLink(
    token: string,
    purpose: ActionTokenPurpose,
    password: string,
    eligible: (profile: PrincipalProfile, accountId: string | null) => boolean,
  ): Promise<string> {
    // Reads only: no transaction (its BEGIN and COMMIT would be two more round trips).
    const { manager } = this.dataSource;
    const link = await this.tokens.peekLink(manager, token, purpose);
    // Activating through an account's link accepts its waiting membership: its name counts, as in the transaction that uses the link.
    const profile = await loadProfile(manager, link.owner, purpose === 'activation' ? link.accountId : null);
    if (!profile || !eligible(profile, link.accountId)) throw invalidLink();
    this.assertAcceptable(profile, password);
    return this.hash(password);
  }

  /** Throws WEAK_PASSWORD unless `password` meets the policy for this principal. */
  assertAcceptable(profile: Pick<PrincipalProfile, 'email' | 'login' | 'accountNames'>, password: string): void {
    assertPasswordAcceptable(password, this.config.PASSWORD_MIN_LENGTH, { email: profile.email, login: profile.login, accountNames: profile.accountNames });
  }

  /**
   * Stores a new password (checked against the policy, hashed by {@link hash} before the transaction), voids outstanding links, ends the
   * principal's sessions (all, or all but `keepSessionId`), lifts a block of its second step and queues the "password changed" notice (B3).
   * With `replacing`, only if the stored hash is still that one (a change checked against it),
   * else CONFLICT and nothing is written.
   */
  async replace(
    unit: UnitOfWork,
    profile: PrincipalProfile,
    passwordHash: string,
    reason: SessionEndReason,
    keepSessionId?: string,
    replacing?: string | null,
  ): Promise<void> {
    const entity = profile.principal.type === 'user' ? UserEntity : SubuserEntity;
    const where = replacing === undefined ? { id: profile.principal.id } : { id: profile.principal.id, passwordHash: replacing ?? IsNull() };
    const { affected } = await unit.manager.update(entity, where, { passwordHash, status: 'active' });
    if (affected === 0) throw new DomainError(ErrorCode.Conflict, 'Your password was changed meanwhile; sign in again with the new one');
    await this.tokens.voidAll(unit.manager, profile.principal);
    await dropUnconfirmedFactor(unit.manager, profile.principal);
    // Whoever sets a new password ends a block of the second step: guessing codes with the old one is over.
    await liftBlock(unit.manager, profile.principal);
    // And its lockout, unless the change is made from a session (`keepSessionId`): whoever guesses codes
    // on the routes that ask for one with the password (turning it off, moving the e-mail) holds both,
    // and would otherwise start afresh with every change of the password.
    if (keepSessionId === undefined) await this.throttle.succeeded([secondFactorPrincipalKey(profile.principal.id)], unit.manager);
    await this.sessions.endAll(unit, profile.principal, reason, keepSessionId);
    // Read again now that the row is locked (by the UPDATE): an e-mail moved meanwhile gets the notice, not the address it left.
    const now = (await loadProfile(unit.manager, profile.principal)) ?? profile;
    if (await queueLoginNotice(this.outbox, unit.manager, now, Events.PasswordChanged, { changedAt: this.clock.now().toISOString() }))
      unit.afterCommit(this.nudgeRelay);
  }

  /**
   * The caller's profile once `password` is found to be their current one, checked and throttled
   * like a sign-in; a wrong one is audited as `failedAction` and refused with 400 naming
   * `currentPassword`. What a change of something the login guards (the password, the e-mail) asks first.
   */
  async checkCurrent(actor: Actor, password: string, ip: string, failedAction: AuditAction): Promise<PrincipalProfile> {
    const profile = await loadProfile(this.dataSource.manager, principalOf(actor));
    if (!profile) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in again');
    const keys = passwordCheckKeys(checkedLoginOf(profile), ip);
    const verdict = await this.throttle.reserve(keys);
    if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterMs);
    if (!(await this.hasher.verify(profile.passwordHash, password))) {
      const self = principalOf(actor);
      await this.audit.record(null, { accountIds: profile.activeAccountIds, action: failedAction, actor: self, target: self, ip });
      throw new DomainError(ErrorCode.ValidationFailed, 'currentPassword is not your current password', { field: 'currentPassword' });
    }
    await this.throttle.succeeded(keys);
    return profile;
  }

  /** The caller changes their password: the current one is required (P5) and checked like a sign-in. */
  async change({ actor, body, client }: ChangePasswordRequest): Promise<{ changed: true }> {
    const profile = await this.checkCurrent(actor, body.currentPassword, client.ip, 'password.change-failed');
    if (body.newPassword === body.currentPassword)
      throw new DomainError(ErrorCode.ValidationFailed, 'newPassword must differ from your current password', { field: 'newPassword' });
    this.assertAcceptable(profile, body.newPassword);
    const passwordHash = await this.hash(body.newPassword);
    await this.transactions.run(async (unit) => {
      // Only over the password just checked: a reset committed meanwhile is not undone.
      await this.replace(unit, profile, passwordHash, 'password-changed', actor.sessionId, profile.passwordHash);
      await this.audit.record(unit.manager, {
        accountIds: profile.activeAccountIds,
        action: 'password.changed',
        actor: principalOf(actor),
        target: principalOf(actor),
        ip: client.ip,
      });
    });
    return { changed: true };
  }
}

/** The login a profile signs in with, as the sign-in throttle counts it. */
function checkedLoginOf(profile: PrincipalProfile): CheckedLogin {
  const { type, id } = profile.principal;
  if (type === 'user' && profile.email !== null) return { type, id, email: profile.email };
  if (type === 'subuser' && profile.accountSlug !== null && profile.login !== null) return { type, id, accountSlug: profile.accountSlug, login: profile.login };
  throw new Error(`The profile of ${type} ${id} has no login to count its password checks on`);
}
