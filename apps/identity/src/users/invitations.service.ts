import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  Events,
  type AccountRequest,
  type Actor,
  type InvitationAcceptedView,
  type InvitationDeclined,
  type InvitationView,
  type LinkTokenRequest,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { ActionTokensService, invalidLink, lockPrincipal } from '../credentials/action-tokens.service.js';
import { Transactions, type UnitOfWork } from '../database/unit-of-work.js';
import { writeActivityChanged } from '../principals/activity-events.js';
import { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { acceptInvitation, lockedInvitation, type MembershipKey } from './invitations.js';
import { reassertSuspensions, selfAudit } from './people.js';
import { UsersService } from './users.service.js';

/** How strongly an answer locks the person's row. */
type PersonLock = 'FOR UPDATE' | 'FOR NO KEY UPDATE';

/**
 * Someone Portico knew already answers an account's invitation (see UsersService.create): with the
 * mailed link, signed in, or, a person who has set no password yet, by activating through that
 * account's activation link. Accepting makes the membership what the account set; the owner open
 * sign-up named declining closes the account; anyone else declining takes
 * them out of the account, as a revocation does.
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly tokens: ActionTokensService,
    private readonly broadcaster: GateBroadcaster,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly users: UsersService,
  ) {}

  /** Accepts with the mailed link. INVALID_TOKEN for a link used, expired, superseded, or of an invitation revoked meanwhile. */
  async acceptByLink({ body, client }: LinkTokenRequest): Promise<InvitationAcceptedView> {
    return this.transactions.run(async (unit) => this.accept(unit, await this.useLink(unit, body.token, 'FOR NO KEY UPDATE'), client.ip, invalidLink));
  }

  /** Declines with the mailed link: answers whose membership went. */
  async declineByLink({ body, client }: LinkTokenRequest): Promise<InvitationDeclined> {
    return this.transactions.run(async (unit) => this.decline(unit, await this.useLink(unit, body.token, 'FOR UPDATE'), client.ip, invalidLink));
  }

  /** The invitations waiting for the caller's answer, oldest first (a subuser has none). */
  async listOwn(actor: Actor): Promise<InvitationView[]> {
    if (actor.type !== 'user') return [];
    const rows = await this.dataSource.query<Array<{ accountId: string; accountName: string; invitedAt: Date }>>(
      `SELECT i.account_id AS "accountId", a.name AS "accountName", i.created_at AS "invitedAt"
         FROM membership_invitations i JOIN accounts a ON a.id = i.account_id
        WHERE i.user_id = $1 ORDER BY i.created_at, i.account_id`,
      [actor.id],
    );
    return rows.map((row) => ({ ...row, invitedAt: new Date(row.invitedAt).toISOString() }));
  }

  /** The caller accepts, signed in: the account's invitation links die with it. NOT_FOUND when no invitation of that account waits for them. */
  async acceptOwn({ actor, accountId, client }: AccountRequest): Promise<InvitationAcceptedView> {
    return this.transactions.run(async (unit) =>
      this.accept(unit, await this.ownInvitation(unit, actor, accountId, 'FOR NO KEY UPDATE'), client.ip, noInvitation),
    );
  }

  /** The caller declines, signed in. */
  async declineOwn({ actor, accountId, client }: AccountRequest): Promise<InvitationDeclined> {
    return this.transactions.run(async (unit) => this.decline(unit, await this.ownInvitation(unit, actor, accountId, 'FOR UPDATE'), client.ip, noInvitation));
  }

  private async accept(unit: UnitOfWork, key: MembershipKey, ip: string, missing: () => DomainError): Promise<InvitationAcceptedView> {
    if (!(await this.joinIfWaiting(unit, key, ip))) throw missing();
    const account = await unit.manager.findOneByOrFail(AccountEntity, { id: key.accountId });
    return { accountId: account.id, accountName: account.name };
  }

  /**
   * Makes the waiting membership of `key` what its account set, told to access and gateways, and
   * audited; false when none waits. Also what a pending person's activation through that account's
   * link does (their consent to it). The caller holds the person's row.
   */
  async joinIfWaiting(unit: UnitOfWork, key: MembershipKey, ip: string): Promise<boolean> {
    const active = await acceptInvitation(unit.manager, key);
    if (active === null) return false;
    if (active) {
      const target = { accountId: key.accountId, principalType: 'user', principalId: key.userId } as const;
      await writeActivityChanged(unit.manager, this.outbox, target, true);
      unit.afterCommit(() => this.relay.nudge());
      this.broadcaster.suspensionChanged(unit, { ...target, suspended: false });
      // They may sign in from now on if they could not before: gateways hear again of their inactive memberships elsewhere.
      await reassertSuspensions(unit, this.broadcaster, key.userId);
    }
    await this.audit.record(unit.manager, selfAudit('user.joined', key, ip, { active }));
    return true;
  }

  private async decline(unit: UnitOfWork, key: MembershipKey, ip: string, missing: () => DomainError): Promise<InvitationDeclined> {
    if (!(await lockedInvitation(unit.manager, key))) throw missing();
    await this.audit.record(unit.manager, selfAudit('user.invitation-declined', key, ip));
    const account = await unit.manager.findOneByOrFail(AccountEntity, { id: key.accountId });
    if (account.ownerUserId === key.userId) return this.closeUnclaimed(unit, account, key);
    await this.users.detach(unit, key.accountId, key.userId);
    return key;
  }

  /**
   * The owner open sign-up named declines the account: it goes, with everything identity holds of it
   * (its only membership, its links), and access drops it on the event. Nobody could act in it before
   * (its owner never joined, nobody else was ever added), so nothing else of it exists; its slug is
   * free again. The person keeps their login, their sessions, and their other accounts.
   */
  private async closeUnclaimed(unit: UnitOfWork, account: AccountEntity, key: MembershipKey): Promise<InvitationDeclined> {
    const { manager } = unit;
    if (await hasOtherPeople(manager, key))
      throw new DomainError(ErrorCode.Conflict, 'This account has other people or service accounts in it: its owner cannot decline it');
    await this.tokens.voidAll(manager, { type: 'user', id: key.userId }, { accountId: account.id });
    // Memberships, the invitation and links go by cascade; these two tables name the account without a key to it and
    // mean nothing without it (audit_events, outbox and sessions name it too, and are kept: the trail, the events, the person's sessions).
    await manager.query('DELETE FROM activity_announced WHERE account_id = $1', [account.id]);
    await manager.query('DELETE FROM request_keys WHERE account_id = $1', [account.id]);
    await manager.query('DELETE FROM accounts WHERE id = $1', [account.id]);
    await this.outbox.add(manager, Events.AccountClosed, account.id, { accountId: account.id, slug: account.slug, reason: 'owner-declined' });
    unit.afterCommit(() => this.relay.nudge());
    return { ...key, accountClosed: true };
  }

  /**
   * Uses up an invitation link, its person locked first (as every link's use) in `mode`: FOR UPDATE
   * for a decline, which removes the membership as a removal does, so that no lock is upgraded
   * later. Answers the membership it is about.
   */
  private async useLink(unit: UnitOfWork, token: string, mode: PersonLock): Promise<MembershipKey> {
    await lockPrincipal(unit.manager, await this.tokens.peek(unit.manager, token, 'invitation'), mode);
    const link = await this.tokens.consumeLocked(unit.manager, token, 'invitation');
    return { accountId: link.accountId!, userId: link.owner.id };
  }

  /** The caller's membership of `accountId`, their row locked in `mode` (as {@link useLink}) and the account's invitation links to them voided (the order of every flow on a person and their links). */
  private async ownInvitation(unit: UnitOfWork, actor: Actor, accountId: string, mode: PersonLock): Promise<MembershipKey> {
    if (actor.type !== 'user') throw noInvitation();
    const person = { type: 'user', id: actor.id } as const;
    await lockPrincipal(unit.manager, person, mode);
    await this.tokens.voidAll(unit.manager, person, { purpose: 'invitation', accountId });
    return { accountId, userId: actor.id };
  }
}

/** Whether anyone but the owner of `key` is in its account, a service account too (never so while the owner has not joined; checked all the same before deleting it). */
async function hasOtherPeople(manager: EntityManager, key: MembershipKey): Promise<boolean> {
  const rows = await manager.query<unknown[]>(
    `SELECT 1 FROM memberships WHERE account_id = $1 AND user_id <> $2 UNION ALL SELECT 1 FROM subusers WHERE account_id = $1
     UNION ALL SELECT 1 FROM service_accounts WHERE account_id = $1 LIMIT 1`,
    [key.accountId, key.userId],
  );
  return rows.length > 0;
}

function noInvitation(): DomainError {
  return new DomainError(ErrorCode.NotFound, 'No invitation of this account is waiting for you');
}
