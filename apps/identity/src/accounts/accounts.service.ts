import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { Events, type AccountView, type Actor, type CreateAccountBody, type TransferOwnershipRequest } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { CONFIG, conflictOnDuplicate } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import { OutboxWriter } from '../outbox/outbox.writer.js';
import { AuditService } from '../audit/audit.service.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { Transactions } from '../database/unit-of-work.js';
import { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { MembershipEntity } from '../users/membership.entity.js';
import { findOrAddPerson, reassertSuspensions } from '../users/people.js';
import { UserEntity } from '../users/user.entity.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { AccountEntity } from './account.entity.js';
import { accountOfActor, subuserLoginUrl } from './account-scope.js';

/** Accounts (tenants) and their owners. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly broadcaster: GateBroadcaster,
    private readonly tokens: ActionTokensService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /**
   * Creates the account and its owner in one transaction; the owner is sent an activation mail (or
   * told they were added). An owner who already has a login may sign in again through it: the
   * gateways are told again of the accounts they are inactive in.
   */
  async create(body: CreateAccountBody): Promise<AccountView> {
    if (!this.config.SIGNUP_ENABLED) throw new DomainError(ErrorCode.SignupDisabled, 'Open sign-up is disabled on this installation');
    const account = await this.transactions
      .run(async (unit) => {
        const { manager } = unit;
        const owner = await findOrAddPerson(manager, { ...body.owner, locale: 'en' }, false);
        const created = await manager.save(AccountEntity, { id: randomUUID(), name: body.name, slug: body.slug, ownerUserId: owner.id, locale: 'en' });
        await manager.insert(MembershipEntity, { accountId: created.id, userId: owner.id, active: true });
        await reassertSuspensions(unit, this.broadcaster, owner.id);
        await this.outbox.add(manager, Events.AccountCreated, created.id, { accountId: created.id, slug: created.slug, ownerUserId: owner.id });
        await this.welcome(manager, created, owner);
        return created;
      })
      .catch(slugTaken);
    this.relay.nudge();
    return this.view(account);
  }

  /**
   * The owner hands the account to another member: a user who is active in it and has set a
   * password. Identity's own owner rules follow at once; access learns it from the event (the
   * new owner's rights, and the role the previous owner keeps).
   */
  async transferOwnership({ actor, accountId, client, body }: TransferOwnershipRequest): Promise<AccountView> {
    const account = await this.transactions.run(async ({ manager }) => {
      const current = await manager.findOne(AccountEntity, { where: { id: accountId }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw new DomainError(ErrorCode.NotFound, 'Account not found');
      if (actor.type !== 'user' || current.ownerUserId !== actor.id)
        throw new DomainError(ErrorCode.Forbidden, 'Only the owner of the account can hand it over');
      if (body.userId === current.ownerUserId) throw new DomainError(ErrorCode.Conflict, 'This person owns the account already', { field: 'userId' });
      await assertCanOwn(manager, accountId, body.userId);
      // The row is locked: its version is current, and no other hand-over can raise it meanwhile.
      const ownerVersion = current.ownerVersion + 1;
      await manager.update(AccountEntity, { id: accountId }, { ownerUserId: body.userId, ownerVersion });
      const transfer = { accountId, fromUserId: current.ownerUserId, toUserId: body.userId, previousOwnerRole: body.previousOwnerRole, ownerVersion };
      await this.outbox.add(manager, Events.OwnershipTransferred, accountId, transfer);
      await this.audit.record(manager, {
        accountIds: [accountId],
        action: 'account.ownership-transferred',
        actor,
        target: { type: 'user', id: body.userId },
        ip: client.ip,
        details: { previousOwner: current.ownerUserId, previousOwnerRole: body.previousOwnerRole },
      });
      return { ...current, ownerUserId: body.userId, ownerVersion };
    });
    this.relay.nudge();
    return this.view(account);
  }

  /** One account, for an actor who works in it; anyone else gets NOT_FOUND. Shows the subuser login page once it has subusers. */
  async get(actor: Actor, accountId: string): Promise<AccountView> {
    const account = await accountOfActor(this.dataSource.manager, actor, accountId);
    const hasSubusers = await this.dataSource.getRepository(SubuserEntity).existsBy({ accountId });
    return { ...this.view(account), ...(hasSubusers ? { subuserLoginUrl: subuserLoginUrl(this.config.PUBLIC_WEB_URL, account.slug) } : {}) };
  }

  private async welcome(manager: EntityManager, account: AccountEntity, owner: UserEntity): Promise<void> {
    await this.audit.record(manager, {
      accountIds: [account.id],
      action: 'account.created',
      target: { type: 'user', id: owner.id },
      details: { slug: account.slug },
    });
    if (owner.status === 'active') {
      await this.outbox.add(manager, Events.UserAddedToAccount, account.id, {
        accountId: account.id,
        accountName: account.name,
        userId: owner.id,
        email: owner.email,
        firstName: owner.firstName,
        locale: owner.locale,
      });
      return;
    }
    const { token, expiresAt } = await this.tokens.issue(manager, { type: 'user', id: owner.id }, account.id, 'activation');
    await this.outbox.add(manager, Events.UserInvited, account.id, {
      accountId: account.id,
      accountName: account.name,
      userId: owner.id,
      email: owner.email,
      firstName: owner.firstName,
      token,
      expiresAt: expiresAt.toISOString(),
      locale: owner.locale,
    });
  }

  private view(account: AccountEntity): AccountView {
    return { id: account.id, name: account.name, slug: account.slug, ownerId: account.ownerUserId, createdAt: account.createdAt.toISOString() };
  }
}

const slugTaken = conflictOnDuplicate('This slug is already taken', 'slug', /slug/);

/** Refuses a new owner who is not a user active in the account with a password set. */
async function assertCanOwn(manager: EntityManager, accountId: string, userId: string): Promise<void> {
  const membership = await manager.findOne(MembershipEntity, { where: { accountId, userId } });
  const person = membership && (await manager.findOne(UserEntity, { where: { id: userId } }));
  if (!membership || !person) throw new DomainError(ErrorCode.NotFound, 'No such member of this account', { field: 'userId' });
  if (!membership.active || person.status !== 'active') {
    throw new DomainError(ErrorCode.Conflict, 'The new owner must be an active member of the account who has set a password', { field: 'userId' });
  }
}
