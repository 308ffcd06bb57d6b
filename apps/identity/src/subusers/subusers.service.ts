import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock, CONFIG, decodeCursor, encodeCursor } from '#libs/platform/index.js';
import { conflictOnDuplicate } from '#libs/platform/storage.js';
import type {
  AcceptedView,
  Actor,
  CreatedSubuserView,
  CreateSubuserRequest,
  ListSubusersRequest,
  Page,
  SessionView,
  SubuserRecord,
  SubuserRequest,
  UpdateSubuserRequest,
} from '#libs/contracts/index.js';
import { DEFAULT_PAGE_SIZE, Events, principalOf } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { accountOfActor, subuserLoginUrl } from '../accounts/account-scope.js';
import { assertRoomInAccount } from '../accounts/account-quota.js';
import type { IdentityConfig } from '../identity.config.js';
import { AuditService } from '../audit/audit.service.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { PasswordResetService } from '../credentials/password-reset.service.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { loadProfile } from '../credentials/principal-profile.js';
import { oncePerKey } from '../database/request-keys.js';
import { assertSearchable, collapsedTerm, containing } from '../search/search-term.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { writeActivityChanged } from '../principals/activity-events.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { MfaService } from '../mfa/mfa.service.js';
import { blockedSubusers } from '../mfa/totp-factors.js';
import { SubuserEntity } from './subuser.entity.js';

/** Logins that belong to one account: created with a password or an activation mail, signed in on the account's own page. */
@Injectable()
export class SubusersService {
  private readonly nudgeRelay = () => this.relay.nudge();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly hasher: PasswordHasher,
    private readonly passwords: PasswordsService,
    private readonly tokens: ActionTokensService,
    private readonly sessions: SessionsService,
    private readonly resets: PasswordResetService,
    private readonly mfa: MfaService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'PUBLIC_WEB_URL' | 'MAX_SUBUSERS_PER_ACCOUNT'>,
  ) {}

  /** A page of the account's subusers, by login. */
  async list({ actor, accountId, query }: ListSubusersRequest): Promise<Page<SubuserRecord>> {
    await accountOfActor(this.dataSource.manager, actor, accountId);
    const term = query.search === undefined ? undefined : collapsedTerm(query.search);
    if (term !== undefined) await assertSearchable(this.dataSource.manager, term);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, ['login'], ['text']);
    const builder = this.dataSource
      .getRepository(SubuserEntity)
      .createQueryBuilder('s')
      .where('s.account_id = :accountId', { accountId })
      .orderBy('s.login', 'ASC')
      .limit(limit + 1);
    if (after) builder.andWhere('s.login > :after', { after: after[0] });
    if (term !== undefined) builder.andWhere(`${SUBUSER_SEARCH_TEXT} LIKE ${containing(':term')}`, { term });
    if (query.status !== undefined) builder.andWhere('s.status = :status', { status: query.status });
    if (query.active !== undefined) builder.andWhere('s.active = :active', { active: query.active });
    // At most MAX_SUBUSERS_PER_ACCOUNT: the planner starts from a role's few holders or walks the logins, either bounded.
    if (query.role !== undefined) builder.andWhere(SUBUSER_HOLDS_ANY_ROLE, { roles: query.role });
    const rows = await builder.getMany();
    const page = rows.slice(0, limit);
    const blocked = await blockedSubusers(
      this.dataSource.manager,
      page.map((subuser) => subuser.id),
    );
    return {
      items: page.map((subuser) => toRecord(subuser, blocked)),
      nextCursor: rows.length > limit ? encodeCursor(['login', page[page.length - 1].login]) : null,
    };
  }

  /** One subuser of the account. */
  async get({ actor, accountId, subuserId }: SubuserRequest): Promise<SubuserRecord> {
    const { subuser } = await this.target(this.dataSource.manager, actor, accountId, subuserId);
    return toRecord(subuser, await blockedSubusers(this.dataSource.manager, [subuser.id]));
  }

  /**
   * Creates a subuser: with a password (the policy applies) it can sign in at once; otherwise its
   * e-mail gets an activation link. Answers with the account's subuser login page, where it signs in.
   * Sent again with the same `requestKey` (the gateway, after a lost answer), it is done once and
   * answers the same subuser ({@link oncePerKey}).
   */
  async create({ actor, accountId, client, body, requestKey }: CreateSubuserRequest): Promise<CreatedSubuserView> {
    const login = body.login.toLowerCase();
    const email = body.email ?? null;
    if (body.password === undefined && email === null) {
      throw new DomainError(ErrorCode.ValidationFailed, 'Give either password, or email for an activation mail', { field: 'password' });
    }
    const account = await accountOfActor(this.dataSource.manager, actor, accountId);
    let passwordHash: string | null = null;
    if (body.password !== undefined) {
      this.passwords.assertAcceptable({ email, login, accountNames: [account.name] }, body.password);
      passwordHash = await this.hasher.hash(body.password);
    }
    return this.transactions
      .run((unit) =>
        oncePerKey(
          unit.manager,
          requestKey,
          accountId,
          async () => {
            await this.assertRoomForSubuser(unit.manager, accountId);
            const subuser = await unit.manager.save(SubuserEntity, {
              id: randomUUID(),
              accountId,
              login,
              email,
              description: body.description ?? '',
              passwordHash,
              status: passwordHash ? 'active' : 'pending',
              active: true,
              locale: account.locale,
              lastLoginAt: null,
            });
            if (!passwordHash) await this.invite(unit, account, subuser);
            await this.audit.record(unit.manager, {
              accountIds: [accountId],
              action: 'subuser.created',
              actor: principalOf(actor),
              target: { type: 'subuser', id: subuser.id },
              ip: client.ip,
              details: { login, roles: body.roles, ...(body.applicationIds ? { applicationIds: body.applicationIds } : {}) },
            });
            return { id: subuser.id, subuserLoginUrl: subuserLoginUrl(this.config.PUBLIC_WEB_URL, account.slug) };
          },
          ({ id }) => unit.manager.existsBy(SubuserEntity, { id, accountId }),
        ),
      )
      .catch(loginTaken);
  }

  /**
   * Edits a subuser. A new password or deactivation ends its sessions at once; access refuses an
   * inactive subuser everything once it has applied the event. A new e-mail, or
   * deactivation, voids its outstanding activation and reset links (mailed to the old address, or
   * meant for a login that may no longer sign in).
   */
  async update(request: UpdateSubuserRequest): Promise<SubuserRecord> {
    const { actor, accountId, subuserId, client, body } = request;
    assertNoCredentialSelfEdit(actor, subuserId, body);
    const passwordHash = body.password === undefined ? undefined : await this.newPasswordHash(request, body.password);
    return this.transactions.run(async (unit) => {
      // Locked when its activity, e-mail or password may change: the flip, the links voided and the notice to the address it had are judged on
      // the row a concurrent edit left, and a deletion at the same time comes wholly before (404) or after, never between the read and the write.
      const locking = body.active !== undefined || body.email !== undefined || body.password !== undefined;
      const { account, subuser } = await this.target(unit.manager, actor, accountId, subuserId, locking ? 'lock' : undefined);
      const isSelf = actor.type === 'subuser' && actor.id === subuserId;
      const changes: Partial<SubuserEntity> = {};
      if (body.description !== undefined) changes.description = body.description;
      if (body.email !== undefined) changes.email = body.email;
      if (body.active !== undefined) {
        if (!body.active && isSelf) throw new DomainError(ErrorCode.Forbidden, 'You cannot deactivate yourself');
        changes.active = body.active;
      }
      if (Object.keys(changes).length > 0) await unit.manager.update(SubuserEntity, { id: subuserId, accountId }, changes);
      if (body.password !== undefined && passwordHash !== undefined) {
        // Checked again here: the e-mail may change in the same edit.
        const profile = (await loadProfile(unit.manager, { type: 'subuser', id: subuserId }))!;
        this.passwords.assertAcceptable(profile, body.password);
        await this.passwords.replace(unit, profile, passwordHash, 'password-changed');
      }
      const emailChanged = body.email !== undefined && body.email !== subuser.email;
      const deactivated = body.active === false && subuser.active;
      if (body.active !== undefined && body.active !== subuser.active) {
        await writeActivityChanged(unit.manager, this.outbox, { accountId, principalType: 'subuser', principalId: subuserId }, body.active);
        unit.afterCommit(this.nudgeRelay);
      }
      if (emailChanged || deactivated) await this.tokens.voidAll(unit.manager, { type: 'subuser', id: subuserId });
      if (emailChanged && subuser.email !== null) await this.tellAddressLeft(unit, account, subuser, body.email ?? null);
      if (deactivated) await this.sessions.endAll(unit, { type: 'subuser', id: subuserId }, 'deactivated');
      // Identity's part of the edit: new roles or applications are access's to record, once they hold (`roles.changed`, from its event).
      const changed = [...Object.keys(changes), ...(body.password !== undefined ? ['password'] : [])];
      if (changed.length > 0) {
        await this.audit.record(unit.manager, {
          accountIds: [accountId],
          action: 'subuser.updated',
          actor: principalOf(actor),
          target: { type: 'subuser', id: subuserId },
          ip: client.ip,
          details: { changed },
        });
      }
      // Gone since it was read: a deletion running at the same time came first.
      const updated = await unit.manager.findOneBy(SubuserEntity, { id: subuserId, accountId });
      if (!updated) throw new DomainError(ErrorCode.NotFound, 'Subuser not found');
      return toRecord(updated, await blockedSubusers(unit.manager, [updated.id]));
    });
  }

  /**
   * Deletes a subuser; its sessions end at once and its links die with it. The row goes first: a
   * sign-in opening a session holds it until it commits, so the sessions ended next include that one.
   */
  async remove({ actor, accountId, subuserId, client }: SubuserRequest): Promise<{ removed: true }> {
    await this.transactions.run(async (unit) => {
      // Locked before its links are voided: the order of every flow on a principal and its links (see ActionTokensService.consumeLocked).
      const { subuser } = await this.target(unit.manager, actor, accountId, subuserId, 'lock');
      if (actor.type === 'subuser' && actor.id === subuserId) throw new DomainError(ErrorCode.Forbidden, 'You cannot delete yourself');
      // Its links go with it (the rows by cascade): voided first, so that a mail still waiting to carry one is not sent.
      await this.tokens.voidAll(unit.manager, { type: 'subuser', id: subuserId });
      await unit.manager.delete(SubuserEntity, { id: subuserId, accountId });
      await this.sessions.endAll(unit, { type: 'subuser', id: subuserId }, 'removed');
      await this.audit.record(unit.manager, {
        accountIds: [accountId],
        action: 'subuser.deleted',
        actor: principalOf(actor),
        target: { type: 'subuser', id: subuserId },
        ip: client.ip,
        details: { login: subuser.login },
      });
    });
    return { removed: true };
  }

  /** "Send email": a reset link to the subuser's e-mail. */
  async sendPasswordReset({ actor, accountId, subuserId, client }: SubuserRequest): Promise<AcceptedView> {
    const { subuser } = await this.target(this.dataSource.manager, actor, accountId, subuserId);
    if (!subuser.active) throw new DomainError(ErrorCode.Conflict, 'This subuser is inactive', { field: 'active' });
    const profile = await loadProfile(this.dataSource.manager, { type: 'subuser', id: subuserId });
    // Deleted since it was read.
    if (!profile) throw new DomainError(ErrorCode.NotFound, 'Subuser not found');
    return this.resets.sendByAdmin(actor, accountId, profile, client.ip);
  }

  /** Sends a pending subuser a new activation link to its e-mail; the previous link stops working (R4). */
  async resendInvitation({ actor, accountId, subuserId, client }: SubuserRequest): Promise<AcceptedView> {
    await this.transactions.run(async (unit) => {
      // Locked: an activation, a new password or e-mail, a deactivation or another re-send waits for this one, or this for it.
      const { account, subuser } = await this.target(unit.manager, actor, accountId, subuserId, 'lock');
      if (subuser.status !== 'pending') throw new DomainError(ErrorCode.Conflict, 'This subuser has already activated its access');
      if (!subuser.active) throw new DomainError(ErrorCode.Conflict, 'This subuser is inactive', { field: 'active' });
      if (subuser.email === null) throw new DomainError(ErrorCode.Conflict, 'This subuser has no e-mail to send a link to', { field: 'email' });
      await this.invite(unit, account, subuser);
      await this.audit.record(unit.manager, {
        accountIds: [accountId],
        action: 'subuser.invitation-resent',
        actor: principalOf(actor),
        target: { type: 'subuser', id: subuserId },
        ip: client.ip,
      });
    });
    return { accepted: true };
  }

  /**
   * An admin of the subuser's account lists its open sessions, newest first (which client, from
   * where, last used); `current` marks the caller's own, should the subuser be listing itself.
   */
  async listSessions({ actor, accountId, subuserId }: SubuserRequest): Promise<SessionView[]> {
    await this.target(this.dataSource.manager, actor, accountId, subuserId);
    return this.sessions.listOpen({ type: 'subuser', id: subuserId }, actor.sessionId);
  }

  /** An admin ends every session of a subuser. */
  async endSessions({ actor, accountId, subuserId, client }: SubuserRequest): Promise<{ ended: number }> {
    return this.transactions.run(async (unit) => {
      await this.target(unit.manager, actor, accountId, subuserId);
      return { ended: await this.sessions.endAllByAdmin(unit, actor, accountId, { type: 'subuser', id: subuserId }, client.ip) };
    });
  }

  /**
   * An admin turns a subuser's second step off, for a subuser whose authenticator is lost: the
   * subuser belongs to this one account, whose admins set its password already (a person's login
   * serves every account they are in, so no account's admin may do this to a person). 409 when it
   * is off; audited `mfa.reset`; the subuser's e-mail, if any, is told.
   */
  async resetSecondStep({ actor, accountId, subuserId, client }: SubuserRequest): Promise<{ reset: true }> {
    // Its own second step a subuser turns off itself, with both factors (POST /v1/me/mfa/disable).
    if (actor.type === 'subuser' && actor.id === subuserId)
      throw new DomainError(ErrorCode.Forbidden, 'Turn your own two-step sign-in off with your password and a code (POST /v1/me/mfa/disable)');
    await this.transactions.run(async (unit) => {
      await this.target(unit.manager, actor, accountId, subuserId);
      await this.mfa.resetForSubuser(unit, actor, subuserId, client.ip);
    });
    return { reset: true };
  }

  /** Refuses one more subuser to an account that has MAX_SUBUSERS_PER_ACCOUNT already: every access replica keeps each subuser's bindings in memory. */
  private assertRoomForSubuser(manager: EntityManager, accountId: string): Promise<void> {
    return assertRoomInAccount(manager, accountId, {
      kind: 'subusers',
      limit: this.config.MAX_SUBUSERS_PER_ACCOUNT,
      count: (locked) => locked.countBy(SubuserEntity, { accountId }),
      refusal: (held) => `This account has ${held} subusers, the most it may have; delete one first`,
    });
  }

  /**
   * The hash of a subuser's new password, made before the edit's transaction (see
   * PasswordsService.hash), once the subuser is found in the account and the password is
   * acceptable for it: nobody makes identity hash for a subuser it would not edit.
   */
  private async newPasswordHash({ actor, accountId, subuserId }: UpdateSubuserRequest, password: string): Promise<string> {
    await this.target(this.dataSource.manager, actor, accountId, subuserId);
    const profile = await loadProfile(this.dataSource.manager, { type: 'subuser', id: subuserId });
    if (!profile) throw new DomainError(ErrorCode.NotFound, 'Subuser not found');
    this.passwords.assertAcceptable(profile, password);
    return this.passwords.hash(password);
  }

  private async target(manager: EntityManager, actor: Actor, accountId: string, subuserId: string, lock?: 'lock') {
    const account = await accountOfActor(manager, actor, accountId);
    const subuser = await manager.findOne(SubuserEntity, {
      where: { id: subuserId, accountId },
      ...(lock && { lock: { mode: 'pessimistic_write' as const } }),
    });
    if (!subuser) throw new DomainError(ErrorCode.NotFound, 'Subuser not found');
    return { account, subuser };
  }

  /** The security notice to the address a subuser had until an admin changed it (or took it away): queued in `unit`. */
  private async tellAddressLeft(unit: UnitOfWork, account: AccountEntity, subuser: SubuserEntity, email: string | null): Promise<void> {
    await this.outbox.add(unit.manager, Events.SubuserEmailChanged, account.id, {
      accountId: account.id,
      accountName: account.name,
      subuserId: subuser.id,
      login: subuser.login,
      previousEmail: subuser.email!,
      email,
      changedAt: this.clock.now().toISOString(),
      locale: subuser.locale,
    });
    unit.afterCommit(this.nudgeRelay);
  }

  private async invite(unit: UnitOfWork, account: AccountEntity, subuser: SubuserEntity): Promise<void> {
    const { token, expiresAt } = await this.tokens.issue(unit.manager, { type: 'subuser', id: subuser.id }, account.id, 'activation');
    await this.outbox.add(unit.manager, Events.SubuserInvited, account.id, {
      accountId: account.id,
      accountName: account.name,
      accountSlug: account.slug,
      subuserId: subuser.id,
      login: subuser.login,
      email: subuser.email!,
      token,
      expiresAt: expiresAt.toISOString(),
      locale: subuser.locale,
    });
    unit.afterCommit(this.nudgeRelay);
  }
}

/** Holding any of the roles `:roles` (ids), as identity's role projection says (its key: one index probe a subuser). */
const SUBUSER_HOLDS_ANY_ROLE = `s.id IN (SELECT h.principal_id FROM role_holdings h
  WHERE h.account_id = s.account_id AND h.principal_type = 'subuser' AND h.role_id IN (:...roles))`;

/**
 * What a search of the subusers looks in: login, e-mail and description, folded as the term is. The
 * very expression of the index `subusers_search` (migration 1735200000000), which finds a term few
 * subusers match; a common one is found walking the account's subusers in login order.
 */
export const SUBUSER_SEARCH_TEXT = `identity.fold(s.login || ' ' || COALESCE(s.email, '') || ' ' || s.description)`;

/** A subuser as identity shows it; `blocked`: the subusers whose second step is blocked ({@link blockedSubusers}). */
function toRecord(subuser: SubuserEntity, blocked: ReadonlySet<string>): SubuserRecord {
  return {
    id: subuser.id,
    login: subuser.login,
    email: subuser.email,
    description: subuser.description,
    active: subuser.active,
    status: subuser.status,
    mfaEnabled: subuser.secondStep,
    mfaBlocked: blocked.has(subuser.id),
    lastLoginAt: subuser.lastLoginAt?.toISOString() ?? null,
    createdAt: subuser.createdAt.toISOString(),
  };
}

const loginTaken = conflictOnDuplicate('This login is already taken in this account', 'login');

/**
 * A subuser managing subusers may not set its own password or e-mail through the admin route: a
 * session alone would then move its credentials, where /v1/me/password asks for the current
 * password (P5), and the e-mail is where its security notices go. Another admin of the account may.
 */
function assertNoCredentialSelfEdit(actor: Actor, subuserId: string, body: UpdateSubuserRequest['body']): void {
  if (actor.type !== 'subuser' || actor.id !== subuserId) return;
  if (body.password !== undefined) {
    throw new DomainError(ErrorCode.Forbidden, 'Change your own password through POST /v1/me/password: it asks for the current one', { field: 'password' });
  }
  if (body.email !== undefined) {
    throw new DomainError(ErrorCode.Forbidden, 'Your own e-mail is changed by another admin of the account', { field: 'email' });
  }
}
