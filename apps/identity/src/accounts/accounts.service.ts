import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  Events,
  type AccountView,
  type Actor,
  type CreateAccountBody,
  type MailContact,
  type OwnershipTransferredData,
  type TransferOwnershipRequest,
  type UpdateAccountRequest,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { CONFIG } from '#libs/platform/index.js';
import type { IdentityConfig } from '../identity.config.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import { OutboxWriter, OutboxRelay } from '#libs/outbox/index.js';
import { AuditService } from '../audit/audit.service.js';
import { Transactions } from '../database/unit-of-work.js';
import { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { MembershipEntity } from '../users/membership.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { AccountEntity } from './account.entity.js';
import { createAccountWithOwner } from './account-creation.js';
import { accountOfActor, subuserLoginUrl } from './account-scope.js';

/** Accounts (tenants) and their owners. */
@Injectable()
export class AccountsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly broadcaster: GateBroadcaster,
    private readonly sessions: SessionsService,
    private readonly tokens: ActionTokensService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: IdentityConfig,
  ) {}

  /** Open sign-up (`POST /v1/accounts`), when this installation allows it: see {@link createAccountWithOwner}. */
  async create(body: CreateAccountBody, ip: string | null = null): Promise<AccountView> {
    if (!this.config.SIGNUP_ENABLED) throw new DomainError(ErrorCode.SignupDisabled, 'Open sign-up is disabled on this installation');
    const { transactions, tokens, outbox, audit, broadcaster } = this;
    const { account } = await createAccountWithOwner({ transactions, tokens, outbox, audit, broadcaster }, body, 'anyone', ip);
    this.relay.nudge();
    return this.view(account);
  }

  /**
   * The owner hands the account to another member: a user who is active in it and has set a
   * password. Identity's own owner rules follow at once; access learns it from the event (the
   * new owner's rights, and the role the previous owner keeps).
   */
  async transferOwnership({ actor, accountId, client, body, previousOwnerRoleName }: TransferOwnershipRequest): Promise<AccountView> {
    const account = await this.transactions.run(async ({ manager }) => {
      const current = await manager.findOne(AccountEntity, { where: { id: accountId }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw new DomainError(ErrorCode.NotFound, 'Account not found');
      if (actor.type !== 'user' || current.ownerUserId !== actor.id)
        throw new DomainError(ErrorCode.Forbidden, 'Only the owner of the account can hand it over');
      if (body.userId === current.ownerUserId) throw new DomainError(ErrorCode.Conflict, 'This person owns the account already', { field: 'userId' });
      const newOwner = await assertCanOwn(manager, accountId, body.userId);
      const previousOwner = await manager.findOneByOrFail(UserEntity, { id: current.ownerUserId });
      // The row is locked: its version is current, and no other hand-over can raise it meanwhile.
      const ownerVersion = current.ownerVersion + 1;
      await manager.update(AccountEntity, { id: accountId }, { ownerUserId: body.userId, ownerVersion });
      const transfer = { accountId, fromUserId: current.ownerUserId, toUserId: body.userId, previousOwnerRole: body.previousOwnerRole, ownerVersion };
      const mails = handOverMailData(current, previousOwnerRoleName, newOwner, previousOwner);
      await this.outbox.add(manager, Events.OwnershipTransferred, accountId, { ...transfer, ...mails });
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

  /**
   * Renames the account, changes the language of its mails, or its sign-in policy (the gateway
   * checked `account:write`). Only what differs is written and audited, with the old and new
   * values; the mails of people added from now on are in the new language, those already in keep
   * theirs. Requiring a second step needs a caller whose own session passed one (else they would
   * shut themselves out); every gateway hears of the change once it commits.
   */
  async update({ actor, accountId, client, body }: UpdateAccountRequest): Promise<AccountView> {
    const account = await this.transactions.run(async (unit) => {
      const { manager } = unit;
      // Locked: two changes at once are one after the other, each audited with what it replaced.
      const current = await accountOfActor(manager, actor, accountId, 'update');
      const changes = changedAccountFields(current, body);
      if (Object.keys(changes).length === 0) return current;
      if (changes.requireSecondStep === true) await this.sessions.assertPassedSecondStep(manager, actor);
      await manager.update(AccountEntity, { id: current.id }, changes);
      if (changes.requireSecondStep !== undefined)
        this.broadcaster.secondStepPolicyChanged(unit, { accountId: current.id, requireSecondStep: changes.requireSecondStep });
      await this.audit.record(manager, {
        accountIds: [accountId],
        action: 'account.updated',
        actor,
        ip: client.ip,
        details: {
          changed: Object.keys(changes),
          ...(changes.name !== undefined && { previousName: current.name }),
          ...(changes.locale !== undefined && { previousLocale: current.locale }),
          ...(changes.requireSecondStep !== undefined && { previousRequireSecondStep: current.requireSecondStep }),
          ...changes,
        },
      });
      return Object.assign(current, changes);
    });
    return this.get(actor, account.id);
  }

  /** One account, for an actor who works in it; anyone else gets NOT_FOUND. Shows the subuser login page once it has subusers. */
  async get(actor: Actor, accountId: string): Promise<AccountView> {
    const account = await accountOfActor(this.dataSource.manager, actor, accountId);
    const hasSubusers = await this.dataSource.getRepository(SubuserEntity).existsBy({ accountId });
    return { ...this.view(account), ...(hasSubusers ? { subuserLoginUrl: subuserLoginUrl(this.config.PUBLIC_WEB_URL, account.slug) } : {}) };
  }

  private view(account: AccountEntity): AccountView {
    const { id, name, slug, ownerUserId, locale, requireSecondStep, createdAt } = account;
    return { id, name, slug, ownerId: ownerUserId, locale, requireSecondStep, createdAt: createdAt.toISOString() };
  }
}

/** The fields of `body` that differ from the account's. */
function changedAccountFields(
  account: AccountEntity,
  body: UpdateAccountRequest['body'],
): Partial<Pick<AccountEntity, 'name' | 'locale' | 'requireSecondStep'>> {
  const changes: Partial<Pick<AccountEntity, 'name' | 'locale' | 'requireSecondStep'>> = {};
  if (body.name !== undefined && body.name !== account.name) changes.name = body.name;
  if (body.locale !== undefined && body.locale !== account.locale) changes.locale = body.locale;
  if (body.requireSecondStep !== undefined && body.requireSecondStep !== account.requireSecondStep) changes.requireSecondStep = body.requireSecondStep;
  return changes;
}

/** Refuses a new owner who is not a user active in the account with a password set; returns the new owner. */
async function assertCanOwn(manager: EntityManager, accountId: string, userId: string): Promise<UserEntity> {
  const membership = await manager.findOne(MembershipEntity, { where: { accountId, userId } });
  const person = membership && (await manager.findOne(UserEntity, { where: { id: userId } }));
  if (!membership || !person) throw new DomainError(ErrorCode.NotFound, 'No such member of this account', { field: 'userId' });
  if (!membership.active || person.status !== 'active') {
    throw new DomainError(ErrorCode.Conflict, 'The new owner must be an active member of the account who has set a password', { field: 'userId' });
  }
  return person;
}

/** What notifications needs to mail both people about a hand-over, as they are at the hand-over. */
function handOverMailData(
  account: AccountEntity,
  roleName: string | undefined,
  newOwner: UserEntity,
  previousOwner: UserEntity,
): Partial<OwnershipTransferredData> {
  const contact = (user: UserEntity): MailContact => ({ email: user.email, firstName: user.firstName, locale: user.locale });
  return {
    accountName: account.name,
    ...(roleName === undefined ? {} : { previousOwnerRoleName: roleName }),
    newOwner: contact(newOwner),
    previousOwner: contact(previousOwner),
  };
}
