import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AcceptedView, ChangeEmailRequest, EmailChangedView, LinkTokenRequest } from '#libs/contracts/index.js';
import { Events } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { Clock, CONFIG } from '#libs/platform/index.js';
import { conflictOnDuplicate } from '#libs/platform/storage.js';
import type { IdentityConfig } from '../identity.config.js';
import { AuditService } from '../audit/audit.service.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { UserEntity } from '../users/user.entity.js';
import { codeRequired, MfaService } from '../mfa/mfa.service.js';
import { removeFactor } from '../mfa/totp-factors.js';
import { ActionTokensService, invalidLink } from './action-tokens.service.js';
import { PasswordsService } from './passwords.service.js';
import { PasswordResetService } from './password-reset.service.js';
import { loadProfile, lockUnchangedPassword, type PrincipalProfile } from './principal-profile.js';
import { ThrottleService } from './throttle.service.js';
import { emailChangeKey, emailChangeTargetKey, emailKey, tooManyAttempts } from './throttle-keys.js';

const ACCEPTED: AcceptedView = { accepted: true };

/**
 * A person moves their login to another e-mail address. Asking needs the current password (a
 * session alone is not enough) and mails a single-use link to the new address; nothing changes
 * until that link is used, so the login only ever moves to an address its owner reads. The answer
 * to the request is the same whether or not the new address already has a login (that address is
 * told instead). Using the link moves the login, voids every other link mailed to the old
 * address, and sends that address a notice with a link that moves the login back: the way back
 * of its owner when someone else moved it.
 */
@Injectable()
export class EmailChangeService {
  private readonly nudgeRelay = () => this.relay.nudge();

  constructor(
    private readonly transactions: Transactions,
    private readonly passwords: PasswordsService,
    private readonly mfa: MfaService,
    private readonly tokens: ActionTokensService,
    private readonly resets: PasswordResetService,
    private readonly sessions: SessionsService,
    private readonly throttle: ThrottleService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'EMAIL_UNDO_TOKEN_TTL_HOURS'>,
  ) {}

  /** `POST /v1/me/email`: checks the current password, then mails the new address (202, whatever it holds). */
  async request({ actor, body, client }: ChangeEmailRequest): Promise<AcceptedView> {
    if (actor.type !== 'user')
      throw new DomainError(ErrorCode.Forbidden, "A subuser signs in with its login; an admin of its account sets the subuser's e-mail");
    const profile = await this.passwords.checkCurrent(actor, body.currentPassword, client.ip, 'email.change-failed');
    if (emailKey(body.newEmail) === emailKey(profile.email!))
      throw new DomainError(ErrorCode.ValidationFailed, 'newEmail is already your login e-mail', { field: 'newEmail' });
    const verdict = await this.throttle.reserve([emailChangeKey(actor.id)]);
    if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterMs);
    // Counted per address too, silently (the answer stays 202): many people cannot flood one address.
    if (!(await this.throttle.reserve([emailChangeTargetKey(emailKey(body.newEmail))])).allowed) return ACCEPTED;
    // While the second step is on, a code too: the password and a session are not enough to move the login.
    const charged = await this.mfa.chargeCodeIfNeeded(profile.principal, body.code, client.ip, 'email.change-failed');
    const passed = await this.transactions.run(async (unit) => {
      await lockUnchangedPassword(unit.manager, profile);
      if (charged) {
        if ((await this.mfa.passCode(unit.manager, profile.principal, charged.typed)) === null) return false;
      } else if (await this.mfa.isOn(unit.manager, profile.principal, true)) {
        // Turned on since it was read: the code it now needs was not checked.
        throw codeRequired();
      }
      await this.mailNewAddress(unit, profile, body.newEmail, client.ip);
      return true;
    });
    if (charged) await this.mfa.settleCode(profile.principal, client.ip, passed, 'email.change-failed');
    return ACCEPTED;
  }

  /**
   * `POST /v1/auth/email-change/confirm`: the link moves the login to the address it was mailed to.
   * The person's row is locked before the link, as a request locks it before voiding the older
   * links, and as every other flow using a link does: such flows for one person queue, never
   * waiting for each other in a circle.
   */
  async confirm({ body, client }: LinkTokenRequest): Promise<EmailChangedView> {
    return this.transactions.run(async (unit) => {
      const { profile, newEmail } = await this.useLink(unit, body.token, 'email-change');
      await this.move(unit, profile, newEmail, client.ip);
      return { email: newEmail };
    });
  }

  /**
   * `POST /v1/auth/email-change/undo`: the link of the notice mailed to an address the login left
   * moves it back there ("it was not me"). Whoever moved it may know the password and hold
   * sessions: every session ends, the password is cleared (nobody signs in with it any more), every
   * other link is voided (the undo links of later moves too: they went to addresses the mover may
   * read; not those of earlier ones, the owner's), and a reset link goes to the address now
   * restored. Refused while EMAIL_UNDO_TOKEN_TTL_HOURS is 0.
   */
  async undo({ body, client }: LinkTokenRequest): Promise<EmailChangedView> {
    // Set to 0, the way back is off for the links already mailed too (whoever reads an old address gets nothing from them).
    if (this.config.EMAIL_UNDO_TOKEN_TTL_HOURS === 0) throw invalidLink();
    return this.transactions.run(async (unit) => {
      const { profile, newEmail: restored, linkId } = await this.useLink(unit, body.token, 'email-undo');
      await this.moveBack(unit, profile, restored, linkId, client.ip);
      return { email: restored };
    });
  }

  /**
   * Uses up a link of `purpose` and loads its person, whose row is locked first (as every flow that
   * uses a link does, see ActionTokensService.consumeLocked). INVALID_TOKEN for a link of nobody
   * active in any account.
   */
  private async useLink(
    unit: UnitOfWork,
    token: string,
    purpose: 'email-change' | 'email-undo',
  ): Promise<{ profile: PrincipalProfile; newEmail: string; linkId: string }> {
    const link = await this.tokens.consumeLocked(unit.manager, token, purpose);
    const profile = await loadProfile(unit.manager, link.owner);
    if (!profile || profile.principal.type !== 'user' || profile.activeAccountIds.length === 0 || !link.newEmail) throw invalidLink();
    return { profile, newEmail: link.newEmail, linkId: link.id };
  }

  /** What {@link undo} does with the person of the link `linkId`, in its transaction. */
  private async moveBack(unit: UnitOfWork, profile: PrincipalProfile, restored: string, linkId: string, ip: string): Promise<void> {
    const { principal } = profile;
    await unit.manager
      .update(UserEntity, { id: principal.id }, { email: restored, passwordHash: null })
      .catch(conflictOnDuplicate('This address signs in to another login now; ask an administrator of your account for help', 'email', /email/));
    // Every other link, and the undo links of later moves: those went to addresses the mover may read, and would take the login away
    // again. Not those of earlier moves: using a later one (the mover's) must not take the owner's way back away.
    await this.tokens.voidAll(unit.manager, principal);
    await this.tokens.voidAll(unit.manager, principal, { purpose: 'email-undo', madeAfterLink: linkId });
    await this.sessions.endAll(unit, principal, 'email-change-undone');
    // Whoever moved the login may have set up an authenticator of their own (before the move or after): the way back leaves the login as
    // its mailbox's reader can take it up, with no password and no second step; its owner sets both again.
    const secondFactorRemoved = await removeFactor(unit.manager, principal);
    await this.resets.issue(unit, (await loadProfile(unit.manager, principal))!, null, null, ip);
    await this.audit.record(unit.manager, {
      accountIds: profile.activeAccountIds,
      action: 'email.change-undone',
      target: principal,
      ip,
      details: { previousEmail: profile.email, email: restored, secondFactorRemoved },
    });
  }

  /**
   * Issues the link (voiding older ones) and queues its mail to `newEmail`; when that address
   * already has a login, voids the older links all the same and queues word of it instead.
   */
  private async mailNewAddress(unit: UnitOfWork, profile: PrincipalProfile, newEmail: string, ip: string): Promise<void> {
    const { principal } = profile;
    const holder = await loginHolding(unit.manager, newEmail);
    const inUse = holder !== null;
    let link: { token: string; expiresAt: string } | null = null;
    if (inUse) {
      await this.tokens.voidAll(unit.manager, principal, { purpose: 'email-change' });
    } else {
      const issued = await this.tokens.issue(unit.manager, principal, null, 'email-change', newEmail);
      link = { token: issued.token, expiresAt: issued.expiresAt.toISOString() };
    }
    await this.outbox.add(unit.manager, Events.EmailChangeRequested, null, {
      userId: principal.id,
      email: profile.email!,
      newEmail,
      name: profile.name,
      inUse,
      ...link,
      // The mail goes to the new address: in the language of the person it signs in, if any.
      locale: holder?.locale ?? profile.locale,
    });
    await this.audit.record(unit.manager, {
      accountIds: profile.activeAccountIds,
      action: 'email.change-requested',
      actor: principal,
      target: principal,
      ip,
      details: { newEmail },
    });
    unit.afterCommit(this.nudgeRelay);
  }

  /**
   * Moves the login (409 if the address was taken meanwhile), voids the links mailed to the old
   * address, and tells it, with the link that moves the login back.
   */
  private async move(unit: UnitOfWork, profile: PrincipalProfile, newEmail: string, ip: string): Promise<void> {
    const { principal } = profile;
    await unit.manager
      .update(UserEntity, { id: principal.id }, { email: newEmail })
      .catch(conflictOnDuplicate('This e-mail address already has a login', 'email', /email/));
    await this.tokens.voidAll(unit.manager, principal);
    // EMAIL_UNDO_TOKEN_TTL_HOURS=0: no way back by mail (the notice says to tell an administrator).
    const undo = this.config.EMAIL_UNDO_TOKEN_TTL_HOURS > 0 ? await this.tokens.issue(unit.manager, principal, null, 'email-undo', profile.email) : null;
    await this.outbox.add(unit.manager, Events.EmailChanged, null, {
      userId: principal.id,
      previousEmail: profile.email!,
      email: newEmail,
      name: profile.name,
      changedAt: this.clock.now().toISOString(),
      locale: profile.locale,
      ...(undo && { undoToken: undo.token, undoExpiresAt: undo.expiresAt.toISOString() }),
    });
    await this.audit.record(unit.manager, {
      accountIds: profile.activeAccountIds,
      action: 'email.changed',
      actor: principal,
      target: principal,
      ip,
      details: { previousEmail: profile.email, email: newEmail },
    });
    unit.afterCommit(this.nudgeRelay);
  }
}

/** The language of the login an address already signs in to (folded as the unique column folds it), or null when it signs in to none. */
async function loginHolding(manager: EntityManager, email: string): Promise<{ locale: string } | null> {
  const [row] = await manager.query<Array<{ locale: string }>>('SELECT locale FROM users WHERE email_lower = lower($1)', [email]);
  return row ?? null;
}
