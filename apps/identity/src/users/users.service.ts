import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CONFIG } from '#libs/platform/index.js';
import { conflictOnDuplicate } from '#libs/platform/storage.js';
import type {
  AcceptedView,
  AccountRequest,
  Actor,
  AuditAction,
  CreatedView,
  CreateUserRequest,
  ListUsersRequest,
  Page,
  UpdateUserRequest,
  UserRecord,
  UserRequest,
} from '#libs/contracts/index.js';
import { DEFAULT_PAGE_SIZE, principalOf } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { accountOfActor } from '../accounts/account-scope.js';
import { assertRoomInAccount } from '../accounts/account-quota.js';
import { AuditService, type AuditDetails } from '../audit/audit.service.js';
import { ActionTokensService, lockPrincipal } from '../credentials/action-tokens.service.js';
import { PasswordResetService } from '../credentials/password-reset.service.js';
import { loadProfile } from '../credentials/principal-profile.js';
import { oncePerKey } from '../database/request-keys.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { MembershipEntity } from './membership.entity.js';
import { MembershipInvitationEntity } from './membership-invitation.entity.js';
import { lockedInvitation, PERSON_AS_THE_ACCOUNT_SEES, retypeInvitation, type TypedPerson } from './invitations.js';
import { AccountSizes } from './account-sizes.js';
import { writeActivityChanged } from '../principals/activity-events.js';
import type { IdentityConfig } from '../identity.config.js';
import { awaitConsent, findOrAddPerson, queueInvitation, reassertSuspensions, selfAudit, type TypedAddress } from './people.js';
import { assertSearchable, searchTerm } from '../search/search-term.js';
import { FEW_ROLE_HOLDERS, nextUserCursor, userTableSql, type UserTableRequest } from './user-table.js';
import { hasFewHolders } from '../roles/role-filter.js';
import { UserEntity } from './user.entity.js';

interface UserRow {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  status: 'pending' | 'active';
  active: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
  sortKey: string;
  owner: boolean;
  mfaEnabled: boolean;
  mfaBlocked: boolean;
}

/** The people of an account (the user table): invite, add, edit, deactivate, remove. Every query names the account. */
@Injectable()
export class UsersService {
  private readonly nudgeRelay = () => this.relay.nudge();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly tokens: ActionTokensService,
    private readonly sessions: SessionsService,
    private readonly resets: PasswordResetService,
    private readonly broadcaster: GateBroadcaster,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly sizes: AccountSizes,
    @Inject(CONFIG) private readonly config: Pick<IdentityConfig, 'MAX_MEMBERS_PER_ACCOUNT'>,
  ) {}

  /** A page of the user table: search (name, e-mail, phone; case and accents ignored), filters (status, active, role), sort, cursor. */
  async list({ actor, accountId, query }: ListUsersRequest): Promise<Page<UserRecord>> {
    if (query.search !== undefined) await assertSearchable(this.dataSource.manager, searchTerm(query.search));
    const request: UserTableRequest = {
      accountId,
      actor,
      search: query.search,
      status: query.status,
      active: query.active,
      largeAccount: query.search === undefined ? undefined : await this.sizes.isLarge(accountId),
      roleIds: query.role,
      fewHolders: query.role && (await hasFewHolders(this.dataSource.manager, { accountId, principalType: 'user', roleIds: query.role }, FEW_ROLE_HOLDERS)),
      sort: query.sort ?? 'name',
      order: query.order ?? 'asc',
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    };
    const { sql, parameters } = userTableSql(request);
    const rows: UserRow[] = await this.dataSource.query(sql, parameters);
    // An empty page may also mean the actor does not work here: then it is a 404.
    if (rows.length === 0) await accountOfActor(this.dataSource.manager, actor, accountId);
    const page = rows.slice(0, request.limit);
    const more = rows.length > request.limit;
    return { items: page.map(toRecord), nextCursor: more ? nextUserCursor(request, page[page.length - 1]) : null };
  }

  /** One person of the account. */
  async get({ actor, accountId, userId }: UserRequest): Promise<UserRecord> {
    const account = await accountOfActor(this.dataSource.manager, actor, accountId);
    return this.record(this.dataSource.manager, account, userId);
  }

  /**
   * Invites a new person (activation mail) or someone Portico knew already: someone who has a login
   * (an invitation mail; their password stays theirs), or a person another account invited (an
   * activation mail of this account). The latter's membership waits for their consent
   * (InvitationsService): until then it is inactive, and the account sees only what it typed, with
   * status pending, as it sees a new person (B2: nothing tells them apart). Answers only the id.
   * Sent again with the same `requestKey` (the gateway, after a lost answer), it is done once and
   * answers the same id ({@link oncePerKey}).
   */
  async create({ actor, accountId, client, body, requestKey }: CreateUserRequest): Promise<CreatedView> {
    return this.transactions
      .run((unit) =>
        oncePerKey(
          unit.manager,
          requestKey,
          accountId,
          async () => {
            const account = await accountOfActor(unit.manager, actor, accountId);
            const { email, firstName, lastName, phone } = body;
            const { user, addedNow } = await findOrAddPerson(unit.manager, { email, firstName, lastName, phone, locale: account.locale }, true);
            if (await unit.manager.existsBy(MembershipEntity, { accountId, userId: user.id })) {
              throw new DomainError(ErrorCode.Conflict, 'This person is already a member of this account', { field: 'email' });
            }
            await this.assertRoomForMember(unit.manager, accountId);
            // Someone Portico knew already (a login, or a person another account invited) waits for their consent; a new person is invited.
            if (!addedNow) await this.askConsent(unit, account, user, { email, firstName, lastName, phone });
            else await this.addPending(unit, account, user);
            // The inactive memberships of someone who can sign in, this one too while it waits for their consent.
            await reassertSuspensions(unit, this.broadcaster, user.id);
            await this.recordOnPerson(unit, 'user.invited', { actor, accountId, userId: user.id, client }, { role: body.role });
            return { id: user.id };
          },
          ({ id }) => unit.manager.existsBy(MembershipEntity, { accountId, userId: id }),
        ),
      )
      .catch(alreadyMember);
  }

  /**
   * Edits a person in the account. Name and phone belong to the person: an admin may change them
   * only while this is the person's only account (otherwise they edit them in their profile).
   * Deactivating bars the person from this account at once (gateways hear of it; access, which
   * other services ask, once it has applied the event), voids the links this account sent them
   * (its activation link, an admin's reset link: the account no longer vouches for them), and ends
   * their sessions when they have no other active account.
   */
  async update({ actor, accountId, userId, client, body }: UpdateUserRequest): Promise<UserRecord> {
    return this.transactions.run(async (unit) => {
      const { account } = await this.target(unit.manager, actor, accountId, userId);
      const invitation = await lockedInvitation(unit.manager, { accountId, userId });
      if (invitation) {
        const typed = definedOnly({ firstName: body.firstName, lastName: body.lastName, phone: body.phone });
        await retypeInvitation(unit.manager, { accountId, userId }, definedOnly({ ...typed, active: body.active }));
        await this.recordUpdate(unit, { actor, accountId, userId, client, body }, Object.keys(typed));
        return this.record(unit.manager, account, userId);
      }
      // Read after the person's lock: an acceptance that committed meanwhile made it active, a removal took it away.
      const membership = await this.membershipStill(unit.manager, accountId, userId);
      const isOwner = account.ownerUserId === userId;
      const isSelf = actor.type === 'user' && actor.id === userId;
      const profile = definedOnly({ firstName: body.firstName, lastName: body.lastName, phone: body.phone });
      if (Object.keys(profile).length > 0) {
        if (isOwner && !isSelf) throw new DomainError(ErrorCode.Forbidden, "Only the owner edits the owner's name and phone");
        if (await this.worksElsewhere(unit.manager, userId, accountId)) {
          throw new DomainError(ErrorCode.Forbidden, 'This person also works in other accounts: only they can change their name and phone');
        }
        await unit.manager.update(UserEntity, { id: userId }, profile);
      }
      if (body.active !== undefined && body.active !== membership.active) {
        if (!body.active && isOwner) throw new DomainError(ErrorCode.Forbidden, 'The account owner cannot be deactivated');
        if (!body.active && isSelf) throw new DomainError(ErrorCode.Forbidden, 'You cannot deactivate yourself');
        await this.setActive(unit, accountId, userId, body.active);
      }
      await this.recordUpdate(unit, { actor, accountId, userId, client, body }, Object.keys(profile));
      return this.record(unit.manager, account, userId);
    });
  }

  /** Removes a person from the account; a pending person with no other account is forgotten entirely. */
  async remove({ actor, accountId, userId, client }: UserRequest): Promise<{ removed: true }> {
    await this.transactions.run(async (unit) => {
      const { account } = await this.target(unit.manager, actor, accountId, userId);
      this.assertNotOwnerOrSelf(account, actor, userId);
      await this.detach(unit, accountId, userId);
      await this.recordOnPerson(unit, 'user.removed', { actor, accountId, userId, client });
    });
    return { removed: true };
  }

  /**
   * The caller leaves an account: as a removal, but by themselves, and never the owner (409: they
   * hand it over first). Not a member (or not an active one): 404, as any account of others.
   */
  async leave({ actor, accountId, client }: AccountRequest): Promise<{ left: true }> {
    if (actor.type !== 'user') throw new DomainError(ErrorCode.Forbidden, 'A subuser belongs to its account; an admin of the account deletes it');
    await this.transactions.run(async (unit) => {
      const account = await accountOfActor(unit.manager, actor, accountId, 'share');
      if (account.ownerUserId === actor.id)
        throw new DomainError(ErrorCode.Conflict, 'You own this account: hand it over to another member before you leave it');
      await this.detach(unit, accountId, actor.id);
      await this.audit.record(unit.manager, selfAudit('user.left', { accountId, userId: actor.id }, client.ip));
    });
    return { left: true };
  }

  /**
   * Sends a pending person a new activation link; the previous link stops working (R4). Not while
   * the account keeps them inactive (409), as "Send email": an activation link would not work (see
   * mayActivate), and an invitation waiting for their consent would join them inactive.
   */
  async resendInvitation({ actor, accountId, userId, client }: UserRequest): Promise<AcceptedView> {
    await this.transactions.run(async (unit) => {
      const { account } = await this.target(unit.manager, actor, accountId, userId);
      await this.inviteAgain(unit, account, userId);
      await this.recordOnPerson(unit, 'user.invitation-resent', { actor, accountId, userId, client });
    });
    return { accepted: true };
  }

  /** Withdraws a pending invitation: the link stops working and the person leaves the account. */
  async revokeInvitation({ actor, accountId, userId, client }: UserRequest): Promise<{ removed: true }> {
    await this.transactions.run(async (unit) => {
      const { account } = await this.target(unit.manager, actor, accountId, userId);
      this.assertNotOwnerOrSelf(account, actor, userId);
      // Locked before it is found pending: an activation committing meanwhile makes this a 409, not the removal of someone just activated.
      await lockPrincipal(unit.manager, { type: 'user', id: userId }, 'FOR UPDATE');
      if (!(await lockedInvitation(unit.manager, { accountId, userId }))) await this.pendingUser(unit.manager, userId);
      await this.detach(unit, accountId, userId);
      await this.recordOnPerson(unit, 'user.invitation-revoked', { actor, accountId, userId, client });
    });
    return { removed: true };
  }

  /**
   * "Send email": the person gets a reset link; the admin never sees it and never sets a password
   * (R7). Someone who has not joined yet (status pending: no password, or an invitation not
   * accepted) gets their invitation again instead, alike whether or not they have a login (B2): a
   * first password is set through the invitation, and the account has no say over the password of
   * someone who has a login.
   */
  async sendPasswordReset(request: UserRequest): Promise<AcceptedView> {
    const { actor, accountId, userId, client } = request;
    const { account, membership } = await this.target(this.dataSource.manager, actor, accountId, userId);
    // Judged on identity's owner, not only on access's (which learns of a hand-over after its event): a new owner's mailbox is theirs alone.
    if (account.ownerUserId === userId && !(actor.type === 'user' && actor.id === userId)) {
      throw new DomainError(ErrorCode.Forbidden, "Only the owner asks for the owner's password reset");
    }
    const invitation = await this.dataSource.manager.findOneBy(MembershipInvitationEntity, { accountId, userId });
    if (!(invitation?.active ?? membership.active)) throw inactiveHere();
    const profile = await loadProfile(this.dataSource.manager, { type: 'user', id: userId });
    if (!profile) throw new DomainError(ErrorCode.NotFound, 'User not found');
    if (invitation || profile.status === 'pending') return this.resendInvitation(request);
    return this.resets.sendByAdmin(actor, accountId, profile, client.ip);
  }

  /**
   * An admin ends every session of a person (S4). The owner's sessions are the owner's alone. A
   * person's sessions are not tied to an account: while they are active in another account, ending
   * them would sign them out there too, so it is refused, as editing their name is; deactivating
   * them here bars them from this account at once.
   */
  async endSessions({ actor, accountId, userId, client }: UserRequest): Promise<{ ended: number }> {
    return this.transactions.run(async (unit) => {
      const { account } = await this.target(unit.manager, actor, accountId, userId);
      const isSelf = actor.type === 'user' && actor.id === userId;
      if (account.ownerUserId === userId && !isSelf) throw new DomainError(ErrorCode.Forbidden, "Only the owner ends the owner's sessions");
      // Locked as strongly as activeElsewhereLocked does below, before the invitation: no lock to upgrade later.
      await lockPrincipal(unit.manager, { type: 'user', id: userId }, 'FOR UPDATE');
      // Someone who has not accepted the invitation has no session in this account, and the account no say over their others.
      if (await lockedInvitation(unit.manager, { accountId, userId })) {
        return { ended: await this.sessions.recordEndedByAdmin(unit, actor, accountId, { type: 'user', id: userId }, client.ip, 0) };
      }
      if (!isSelf && (await this.activeElsewhereLocked(unit.manager, userId, accountId))) {
        throw new DomainError(
          ErrorCode.Forbidden,
          'This person also works in other accounts: ending their sessions would sign them out there too. Deactivate them in this account instead (it takes effect at once)',
        );
      }
      return { ended: await this.sessions.endAllByAdmin(unit, actor, accountId, { type: 'user', id: userId }, client.ip) };
    });
  }

  /** Refuses one more person to an account that has MAX_MEMBERS_PER_ACCOUNT already: every access replica keeps each member's bindings in memory. */
  private assertRoomForMember(manager: EntityManager, accountId: string): Promise<void> {
    return assertRoomInAccount(manager, accountId, {
      kind: 'members',
      limit: this.config.MAX_MEMBERS_PER_ACCOUNT,
      count: (locked) => locked.countBy(MembershipEntity, { accountId }),
      refusal: (held) => `This account has ${held} people, the most it may have; remove someone first`,
    });
  }

  private async target(manager: EntityManager, actor: Actor, accountId: string, userId: string) {
    // Judged on who owns the account: a hand-over to this person cannot slip in before the commit.
    const account = await accountOfActor(manager, actor, accountId, 'share');
    const membership = await manager.findOneBy(MembershipEntity, { accountId, userId });
    if (!membership) throw new DomainError(ErrorCode.NotFound, 'User not found');
    return { account, membership };
  }

  private assertNotOwnerOrSelf(account: AccountEntity, actor: Actor, userId: string): void {
    if (account.ownerUserId === userId) throw new DomainError(ErrorCode.Forbidden, 'The account owner cannot be removed');
    if (actor.type === 'user' && actor.id === userId) throw new DomainError(ErrorCode.Forbidden, 'You cannot remove yourself from the account');
  }

  private async pendingUser(manager: EntityManager, userId: string): Promise<UserEntity> {
    // Gone since its membership was read: a removal running at the same time deleted the pending person.
    const user = await manager.findOneBy(UserEntity, { id: userId });
    if (!user) throw new DomainError(ErrorCode.NotFound, 'User not found');
    if (user.status !== 'pending') throw new DomainError(ErrorCode.Conflict, 'This person has already activated their access');
    return user;
  }

  private async setActive(unit: UnitOfWork, accountId: string, userId: string, active: boolean): Promise<void> {
    await unit.manager.update(MembershipEntity, { accountId, userId }, { active });
    await writeActivityChanged(unit.manager, this.outbox, { accountId, principalType: 'user', principalId: userId }, active);
    unit.afterCommit(this.nudgeRelay);
    this.broadcaster.suspensionChanged(unit, { accountId, principalType: 'user', principalId: userId, suspended: !active });
    if (active) return reassertSuspensions(unit, this.broadcaster, userId);
    // The caller holds the person's row (the order of every flow on a person and their links); a reactivation brings none of them back.
    await this.tokens.voidAll(unit.manager, { type: 'user', id: userId }, { accountId });
    if (!(await unit.manager.existsBy(MembershipEntity, { userId, active: true }))) {
      await this.sessions.endAll(unit, { type: 'user', id: userId }, 'deactivated');
    }
  }

  /** Takes a person out of an account: its links for it die, and access to it ends at once (the caller holds the person's row or takes it here). */
  async detach(unit: UnitOfWork, accountId: string, userId: string): Promise<void> {
    // The person first, then their links (the order of every flow on a principal and its links, see consumeLocked); FOR UPDATE: a pending person may be deleted below.
    await lockPrincipal(unit.manager, { type: 'user', id: userId }, 'FOR UPDATE');
    const { affected } = await unit.manager.delete(MembershipEntity, { accountId, userId });
    // A removal running at the same time took the membership first (and may have deleted the person): answer as if this came after it.
    if (!affected) throw new DomainError(ErrorCode.NotFound, 'User not found');
    await this.tokens.voidAll(unit.manager, { type: 'user', id: userId }, { accountId });
    // Until access has dropped the bindings, gateways bar the person from the account.
    this.broadcaster.suspensionChanged(unit, { accountId, principalType: 'user', principalId: userId, suspended: true });
    const user = await unit.manager.findOneBy(UserEntity, { id: userId });
    if (!user) throw new DomainError(ErrorCode.NotFound, 'User not found');
    const elsewhere = await unit.manager.existsBy(MembershipEntity, { userId });
    if (user.status === 'pending' && !elsewhere) {
      // Its other links (a reset it asked for itself) go with it, by cascade: voided first, so that no waiting mail carries them.
      await this.tokens.voidAll(unit.manager, { type: 'user', id: userId });
      await unit.manager.delete(UserEntity, { id: userId });
      return;
    }
    // Access is told too, not only by the gateway dropping the bindings: whatever a request running meanwhile bound there
    // (a role change, roles given back after a failed step), the person is nobody in the account until added again.
    await writeActivityChanged(unit.manager, this.outbox, { accountId, principalType: 'user', principalId: userId }, false);
    unit.afterCommit(this.nudgeRelay);
    if (!(await unit.manager.existsBy(MembershipEntity, { userId, active: true }))) {
      await this.sessions.endAll(unit, { type: 'user', id: userId }, 'removed');
    }
  }

  /** Whether the person works in another account (invitations they have not accepted do not count: those accounts have no say yet). */
  private async worksElsewhere(manager: EntityManager, userId: string, accountId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM memberships m WHERE m.user_id = $1 AND m.account_id <> $2
          AND NOT EXISTS (SELECT 1 FROM membership_invitations i WHERE i.account_id = m.account_id AND i.user_id = m.user_id) LIMIT 1`,
      [userId, accountId],
    );
    return rows.length > 0;
  }

  /**
   * Whether the person is active in another account, holding that answer until the commit: the
   * person's row (a membership added elsewhere, even by sign-up's foreign key, waits for it) and
   * then, read afresh, their other memberships `FOR SHARE` (a reactivation waits, or is waited
   * for and seen). Sessions are never ended under someone just readmitted elsewhere.
   */
  private async activeElsewhereLocked(manager: EntityManager, userId: string, accountId: string): Promise<boolean> {
    await manager.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
    const others = await manager.query<Array<{ active: boolean }>>('SELECT active FROM memberships WHERE user_id = $1 AND account_id <> $2 FOR SHARE', [
      userId,
      accountId,
    ]);
    return others.some((membership) => membership.active);
  }

  /** Queues the invitation mail of `user` (see {@link queueInvitation}); a membership waiting for consent, as the account typed it (`typed`). */
  private async invite(unit: UnitOfWork, account: AccountEntity, user: UserEntity, typed?: TypedAddress): Promise<void> {
    await queueInvitation(unit.manager, { tokens: this.tokens, outbox: this.outbox }, account, user, typed);
    unit.afterCommit(this.nudgeRelay);
  }

  /** Adds someone Portico knew already, pending their consent: an inactive membership, waiting as {@link awaitConsent} says. */
  private async askConsent(unit: UnitOfWork, account: AccountEntity, user: UserEntity, typed: TypedPerson): Promise<void> {
    await unit.manager.insert(MembershipEntity, { accountId: account.id, userId: user.id, active: false });
    await awaitConsent(unit.manager, { tokens: this.tokens, outbox: this.outbox }, account, user, typed);
    unit.afterCommit(this.nudgeRelay);
  }

  /**
   * Adds a person new to Portico (inserted just now): an active membership and an activation link.
   * They have no past in access (no event, which would cost access an account change) and no
   * session anywhere.
   */
  private async addPending(unit: UnitOfWork, account: AccountEntity, user: UserEntity): Promise<void> {
    await unit.manager.insert(MembershipEntity, { accountId: account.id, userId: user.id, active: true });
    await this.invite(unit, account, user);
    this.broadcaster.suspensionChanged(unit, { accountId: account.id, principalType: 'user', principalId: user.id, suspended: false });
  }

  /**
   * Mails someone who has a login the account's invitation again (a new link; the older one stops
   * working), or a pending person a new activation link. An invitation whose address no longer
   * signs in to that login (they moved it since, which voided its links) is mailed nowhere: not to
   * the address they left, nor to their new one, which the account must not learn; they still
   * find it signed in (GET /v1/me/invitations).
   */
  private async inviteAgain(unit: UnitOfWork, account: AccountEntity, userId: string): Promise<void> {
    const waiting = await lockedInvitation(unit.manager, { accountId: account.id, userId });
    // Removed meanwhile (the person's lock waited for it): as if this came after the removal.
    const membership = await this.membershipStill(unit.manager, account.id, userId);
    if (!waiting) {
      const user = await this.pendingUser(unit.manager, userId);
      if (!membership.active) throw inactiveHere();
      return this.invite(unit, account, user);
    }
    // As "Send email": nothing is sent to someone the account keeps inactive (their link would join them inactive).
    if (!waiting.active) throw inactiveHere();
    const user = await unit.manager.findOneByOrFail(UserEntity, { id: userId });
    if (await this.stillSignsInAt(unit.manager, userId, waiting.email)) await this.invite(unit, account, user, waiting);
  }

  /** The membership as it is now (read after the person's lock), or NOT_FOUND when a removal took it meanwhile. */
  private async membershipStill(manager: EntityManager, accountId: string, userId: string): Promise<MembershipEntity> {
    const membership = await manager.findOneBy(MembershipEntity, { accountId, userId });
    if (!membership) throw new DomainError(ErrorCode.NotFound, 'User not found');
    return membership;
  }

  /** Whether the login `userId` still signs in with `email`, compared as its unique column folds addresses (PostgreSQL's `lower()`, whatever the locale). */
  private async stillSignsInAt(manager: EntityManager, userId: string, email: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>('SELECT 1 FROM users WHERE id = $1 AND email_lower = lower($2)', [userId, email]);
    return rows.length > 0;
  }

  /**
   * Records identity's part of an edit (name, phone, active). A new role is access's to record, once
   * it holds (`roles.changed`, from its event): an edit of the role alone records nothing here.
   */
  private async recordUpdate(unit: UnitOfWork, request: UpdateUserRequest, changed: string[]): Promise<void> {
    const { body } = request;
    if (changed.length === 0 && body.active === undefined) return;
    const details = { changed, ...(body.active !== undefined ? { active: body.active } : {}) };
    await this.recordOnPerson(unit, 'user.updated', request, details);
  }

  /** Records `action` by the request's actor on the person `userId` of the account. */
  private recordOnPerson(unit: UnitOfWork, action: AuditAction, { actor, accountId, userId, client }: UserRequest, details?: AuditDetails): Promise<void> {
    return this.audit.record(unit.manager, {
      accountIds: [accountId],
      action,
      actor: principalOf(actor),
      target: { type: 'user', id: userId },
      ip: client.ip,
      details,
    });
  }

  private async record(manager: EntityManager, account: AccountEntity, userId: string): Promise<UserRecord> {
    const rows: UserRow[] = await manager.query(
      `SELECT m.user_id AS id, ${PERSON_AS_THE_ACCOUNT_SEES},
              m.created_at AS "createdAt", m.last_login_at AS "lastLoginAt", '' AS "sortKey", a.owner_user_id = m.user_id AS owner
         FROM memberships m JOIN users u ON u.id = m.user_id JOIN accounts a ON a.id = m.account_id
         LEFT JOIN membership_invitations i ON i.account_id = m.account_id AND i.user_id = m.user_id
        WHERE m.account_id = $1 AND m.user_id = $2`,
      [account.id, userId],
    );
    if (rows.length === 0) throw new DomainError(ErrorCode.NotFound, 'User not found');
    return toRecord(rows[0]);
  }
}

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    firstName: row.firstName,
    lastName: row.lastName,
    email: row.email,
    phone: row.phone,
    owner: row.owner,
    lastLoginAt: row.lastLoginAt ? new Date(row.lastLoginAt).toISOString() : null,
    createdAt: new Date(row.createdAt).toISOString(),
    active: row.active,
    status: row.status,
    mfaEnabled: row.mfaEnabled,
    mfaBlocked: row.mfaBlocked,
  };
}

/** The refusal of what needs the person active in the account (a reset mail, a new activation link). */
function inactiveHere(): DomainError {
  return new DomainError(ErrorCode.Conflict, 'This person is inactive in this account', { field: 'active' });
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * One person added to one account twice at once: the second loses the race on the membership's key.
 * (The same new person added to two accounts at once is no conflict: see {@link findOrAddPerson}.)
 */
const alreadyMember = conflictOnDuplicate('This person is already a member of this account', 'email', /^memberships_pkey$/);
