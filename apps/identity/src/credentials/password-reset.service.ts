import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AcceptedView, Actor, PasswordResetConfirmRequest, PasswordResetRequest, SubuserPasswordResetRequest } from '#libs/contracts/index.js';
import { Events, principalOf, type Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { InFlightTracker, LOGGER } from '#libs/platform/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { ActionTokensService, invalidLink, lockPrincipal } from './action-tokens.service.js';
import { PasswordsService } from './passwords.service.js';
import { loadProfile, type PrincipalProfile } from './principal-profile.js';
import { ThrottleService } from './throttle.service.js';
import { emailKey, resetAddressKey, resetTargetKey, tooManyAttempts } from './throttle-keys.js';
import { mayReset } from './token-rules.js';

const ACCEPTED: AcceptedView = { accepted: true };

/**
 * Password reset by mail. A self-service request answers 202 at once, the same for known and
 * unknown logins, and does the lookup and the mail in the background (so the answer's timing does
 * not tell either). A request changes nothing until its token is used (R5).
 */
@Injectable()
export class PasswordResetService {
  private readonly nudgeRelay = () => this.relay.nudge();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly tokens: ActionTokensService,
    private readonly throttle: ThrottleService,
    private readonly passwords: PasswordsService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly inFlight: InFlightTracker,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `POST /v1/auth/password-reset`: a reset mail to a person, if the e-mail is theirs. */
  async request({ body, client }: PasswordResetRequest): Promise<AcceptedView> {
    await this.chargeAddress(client.ip);
    this.inBackground(() => this.sendToPerson(body.email, client.ip));
    return ACCEPTED;
  }

  /** `POST /v1/auth/subuser-password-reset`: a reset mail to a subuser's e-mail, if it has one. */
  async requestForSubuser({ body, client }: SubuserPasswordResetRequest): Promise<AcceptedView> {
    await this.chargeAddress(client.ip);
    this.inBackground(() => this.sendToSubuser(body.account.toLowerCase(), body.login.toLowerCase(), client.ip));
    return ACCEPTED;
  }

  /**
   * An admin has the reset mail sent ("Send email"); throttled per target with a 429 they can see
   * (R7: they never see the token). Judged again under the person's lock, as a deactivation takes
   * it: one that committed since the caller's check voided the account's links before this one
   * existed, so the link is not issued (409 naming `active`) rather than left for a reactivation.
   */
  async sendByAdmin(actor: Actor, accountId: string, target: PrincipalProfile, ip: string): Promise<AcceptedView> {
    if (!target.email) throw new DomainError(ErrorCode.Conflict, 'This subuser has no e-mail address to send a reset link to', { field: 'email' });
    const verdict = await this.throttle.reserve([resetTargetKey(targetKey(target))]);
    if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterMs);
    await this.transactions.run(async (unit) => {
      await lockPrincipal(unit.manager, target.principal, 'FOR NO KEY UPDATE');
      const now = await loadProfile(unit.manager, target.principal);
      // Deleted since the caller read it (a subuser's deletion at the same time): gone, not inactive.
      if (!now) throw new DomainError(ErrorCode.NotFound, target.principal.type === 'subuser' ? 'Subuser not found' : 'User not found');
      if (!mayReset(now, accountId)) throw new DomainError(ErrorCode.Conflict, 'This person is inactive in this account', { field: 'active' });
      await this.issue(unit, now, accountId, principalOf(actor), ip);
    });
    return ACCEPTED;
  }

  /**
   * `POST /v1/auth/password-reset/confirm`: the token sets the password, every session ends, a notice goes out; no automatic sign-in (R6).
   * Only as {@link mayReset} says (INVALID_TOKEN, as any bad link, otherwise): a link the person asked for, bound to no
   * account, while they are active in any account (it outlives their removal or deactivation, which void only that
   * account's links); a link an account sent, while that account keeps them active.
   */
  async confirm({ body, client }: PasswordResetConfirmRequest): Promise<{ reset: true }> {
    const passwordHash = await this.passwords.hashForLink(body.token, 'reset', body.password, mayReset);
    await this.transactions.run(async (unit) => {
      const token = await this.tokens.consumeLocked(unit.manager, body.token, 'reset');
      const profile = await loadProfile(unit.manager, token.owner);
      if (!profile || !mayReset(profile, token.accountId)) throw invalidLink();
      this.passwords.assertAcceptable(profile, body.password);
      await this.passwords.replace(unit, profile, passwordHash, 'password-reset');
      await this.audit.record(unit.manager, { accountIds: profile.activeAccountIds, action: 'password.reset', target: profile.principal, ip: client.ip });
      // A first password set by a reset link (someone invited who asked for one rather than use the invitation) activates them too.
      if (profile.status === 'pending') await this.recordActivation(unit, profile.principal, profile.activeAccountIds, client.ip);
    });
    return { reset: true };
  }

  private recordActivation(unit: UnitOfWork, principal: Principal, accountIds: string[], ip: string): Promise<void> {
    const action = principal.type === 'user' ? 'user.activated' : 'subuser.activated';
    return this.audit.record(unit.manager, { accountIds, action, actor: principal, target: principal, ip, details: { by: 'password-reset' } });
  }

  private async chargeAddress(ip: string): Promise<void> {
    const verdict = await this.throttle.reserve([resetAddressKey(ip)]);
    if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterMs);
  }

  /**
   * The person is found as the unique column folds the e-mail (PostgreSQL's `lower()`); the request is counted by its {@link emailKey}.
   * Their row is locked, and found by that e-mail again, before anything of them is read (see {@link issueLocked}).
   */
  private async sendToPerson(email: string, ip: string): Promise<void> {
    if (!(await this.throttle.reserve([resetTargetKey(emailKey(email))])).allowed) return;
    const [user] = await this.dataSource.query<Array<{ id: string }>>('SELECT id FROM users WHERE email_lower = lower($1)', [email]);
    if (!user) return;
    const lockedIfStillTheirs = 'SELECT 1 FROM users WHERE id = $1 AND email_lower = lower($2) FOR NO KEY UPDATE';
    await this.issueLocked({ type: 'user', id: user.id }, lockedIfStillTheirs, [email], null, ip);
  }

  private async sendToSubuser(slug: string, login: string, ip: string): Promise<void> {
    const account = await this.dataSource.getRepository(AccountEntity).findOne({ where: { slug }, select: { id: true } });
    const subuser = account
      ? await this.dataSource.getRepository(SubuserEntity).findOne({ where: { accountId: account.id, login }, select: { id: true } })
      : null;
    if (!subuser || !(await this.throttle.reserve([resetTargetKey(`subuser:${subuser.id}`)])).allowed) return;
    const lockedIfStillTheirs = 'SELECT 1 FROM subusers WHERE id = $1 AND account_id = $2 AND login = $3 FOR NO KEY UPDATE';
    await this.issueLocked({ type: 'subuser', id: subuser.id }, lockedIfStillTheirs, [account!.id, login], account!.id, ip);
  }

  /**
   * Issues a self-service reset once `lock` (the principal's row, `FOR NO KEY UPDATE`, as every
   * change of it takes it) finds it still named as asked. A change under way (an e-mail moved by
   * the person, an admin or an undo link; a deactivation) is waited for, and what it committed is
   * read: the link goes to the address the login has now, or nowhere, and is never issued after
   * that change voided the links. Two requests at once issue one after the other, the second voiding the first's link.
   */
  private async issueLocked(principal: Principal, lock: string, lockParameters: unknown[], accountId: string | null, ip: string): Promise<void> {
    await this.transactions.run(async (unit) => {
      const locked = await unit.manager.query<unknown[]>(lock, [principal.id, ...lockParameters]);
      if (locked.length === 0) return;
      const profile = await loadProfile(unit.manager, principal);
      if (profile?.email && mayReset(profile, accountId)) await this.issue(unit, profile, accountId, null, ip);
    });
  }

  /** Issues the reset token (voiding older ones) and queues the mail, in `unit` (the actor null: asked by the person, or for them by identity itself). */
  async issue(unit: UnitOfWork, profile: PrincipalProfile, accountId: string | null, actor: { type: Actor['type']; id: string } | null, ip: string) {
    const account = accountId ? await unit.manager.findOneByOrFail(AccountEntity, { id: accountId }) : null;
    const { token, expiresAt } = await this.tokens.issue(unit.manager, profile.principal, accountId, 'reset');
    await this.outbox.add(unit.manager, Events.PasswordResetRequested, accountId, {
      accountId,
      accountSlug: profile.accountSlug ?? account?.slug ?? null,
      principalType: profile.principal.type,
      principalId: profile.principal.id,
      email: profile.email!,
      name: profile.name,
      token,
      expiresAt: expiresAt.toISOString(),
      locale: profile.locale,
      requestedBy: actor ? 'admin' : 'self',
    });
    await this.audit.record(unit.manager, {
      accountIds: accountId ? [accountId] : profile.activeAccountIds,
      action: 'password.reset-requested',
      actor,
      target: profile.principal,
      ip,
      details: { requestedBy: actor ? 'admin' : 'self' },
    });
    unit.afterCommit(this.nudgeRelay);
  }

  private inBackground(work: () => Promise<void>): void {
    this.inFlight.enter();
    work()
      .catch((error: unknown) => this.logger.error({ err: error }, 'A password reset request could not be handled'))
      .finally(() => this.inFlight.leave());
  }
}

function targetKey(profile: PrincipalProfile): string {
  return profile.principal.type === 'user' ? profile.email! : `subuser:${profile.principal.id}`;
}
