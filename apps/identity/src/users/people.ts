import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Events, type AuditAction } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { AccountEntity } from '../accounts/account.entity.js';
import type { AuditDetails, AuditEntry } from '../audit/audit.service.js';
import type { ActionTokensService, IssuedToken } from '../credentials/action-tokens.service.js';
import type { UnitOfWork } from '../database/unit-of-work.js';
import type { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { writeActivityChanged } from '../principals/activity-events.js';
import { openInvitation, type TypedPerson } from './invitations.js';
import { MembershipEntity } from './membership.entity.js';
import { UserEntity } from './user.entity.js';

/** A person as given when they are added: who they are, and the language of their mails if they are new. */
export interface NewPerson {
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
  locale: string;
}

/**
 * The person with this e-mail (compared as PostgreSQL lower-cases it, as its unique column does),
 * added as pending (no password yet) when there is none. Safe when two requests add the same new
 * e-mail at once: the second waits for the first and then finds its person, rather than failing on
 * the unique column. `lock`: lock the person's row until the transaction ends. `addedNow`: the
 * person was added by this call.
 */
export async function findOrAddPerson(manager: EntityManager, person: NewPerson, lock: boolean): Promise<{ user: UserEntity; addedNow: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const added = await manager.query<unknown[]>(
      `INSERT INTO users (id, email, first_name, last_name, phone, password_hash, status, locale)
       VALUES ($1, $2, $3, $4, $5, NULL, 'pending', $6)
       ON CONFLICT (email_lower) DO NOTHING RETURNING id`,
      [randomUUID(), person.email, person.firstName, person.lastName, person.phone, person.locale],
    );
    const query = manager.createQueryBuilder(UserEntity, 'u').where('u.email_lower = lower(:email)', { email: person.email });
    if (lock) query.setLock('pessimistic_write');
    const user = await query.getOne();
    if (user) return { user, addedNow: added.length > 0 };
    // Found by the insert, gone by the read: a pending person removed from their last account meanwhile. Added anew.
  }
  throw new DomainError(ErrorCode.Conflict, 'This person was changed meanwhile; try again', { field: 'email' });
}

/**
 * Gateways keep the inactive memberships only of people who can sign in (the others have no
 * session). When a person may sign in again (active again somewhere, or in a new account), their
 * inactive memberships are told again, after the commit.
 */
export async function reassertSuspensions(unit: UnitOfWork, broadcaster: GateBroadcaster, userId: string): Promise<void> {
  const inactive = await unit.manager.find(MembershipEntity, { where: { userId, active: false }, select: { accountId: true } });
  for (const membership of inactive) {
    broadcaster.suspensionChanged(unit, { accountId: membership.accountId, principalType: 'user', principalId: userId, suspended: true });
  }
}

/** Who gets a mail about `account`, as `UserInvited` and `UserAddedToAccount` both carry them. */
function mailedPerson(account: AccountEntity, user: UserEntity) {
  return { accountId: account.id, accountName: account.name, userId: user.id, email: user.email, firstName: user.firstName };
}

/** What an account typed of someone whose membership waits for their consent: the address and first name it mails them at. */
export interface TypedAddress {
  email: string;
  firstName: string;
}

/**
 * Queues `user`'s invitation mail for `account`: issues its link token, returned, and writes
 * `UserInvited`. A pending person gets an `activation` link (they set their password); someone who
 * already has a login, an `invitation` link (they accept, keeping their password). A membership
 * that waits for consent (`typed`) is mailed as the account typed it and in the account's language,
 * so that its delivery log tells nobody apart (B2), neither by another account's spelling of the
 * address nor by a language; someone who has a login is greeted by their own name (the mail is
 * theirs alone). Otherwise the person's own address and language (those of the account that
 * invited them first), as before.
 */
export async function queueInvitation(
  manager: EntityManager,
  deps: { tokens: ActionTokensService; outbox: OutboxWriter },
  account: AccountEntity,
  user: UserEntity,
  typed?: TypedAddress,
): Promise<IssuedToken> {
  const hasLogin = user.status === 'active';
  const link = await deps.tokens.issue(manager, { type: 'user', id: user.id }, account.id, hasLogin ? 'invitation' : 'activation');
  const addressed = typed
    ? { email: typed.email, locale: account.locale, ...(hasLogin ? { hasLogin } : { firstName: typed.firstName }) }
    : { locale: user.locale };
  await deps.outbox.add(manager, Events.UserInvited, account.id, {
    ...mailedPerson(account, user),
    token: link.token,
    expiresAt: link.expiresAt.toISOString(),
    ...addressed,
  });
  return link;
}

/**
 * Makes the membership of `user` in `account`, just inserted inactive, wait for their consent
 * (someone Portico knew already: a login, or a person another account invited): the invitation
 * holding what was typed, access told they are inactive there (it may hold them as active from an
 * earlier membership, or not know them at all), and the link mailed (an invitation link to someone
 * who has a login; this account's activation link to someone who has set no password yet, whose
 * activation through it is their consent). Answers the link.
 */
export async function awaitConsent(
  manager: EntityManager,
  deps: { tokens: ActionTokensService; outbox: OutboxWriter },
  account: AccountEntity,
  user: UserEntity,
  typed: TypedPerson,
): Promise<IssuedToken> {
  const key = { accountId: account.id, userId: user.id };
  await openInvitation(manager, key, typed);
  await writeActivityChanged(manager, deps.outbox, { accountId: account.id, principalType: 'user', principalId: user.id }, false);
  return queueInvitation(manager, deps, account, user, typed);
}

/** Queues word to `user`, who already has a login, that they work in `account` now (an account made for them): writes `UserAddedToAccount`. */
export function queueAddedToAccount(manager: EntityManager, outbox: OutboxWriter, account: AccountEntity, user: UserEntity): Promise<void> {
  return outbox.add(manager, Events.UserAddedToAccount, account.id, { ...mailedPerson(account, user), locale: user.locale });
}

/** The audit entry of `action` done by the person of `membership` on themselves, in its account. */
export function selfAudit(action: AuditAction, membership: { accountId: string; userId: string }, ip: string, details?: AuditDetails): AuditEntry {
  const self = { type: 'user', id: membership.userId } as const;
  return { accountIds: [membership.accountId], action, actor: self, target: self, ip, details };
}
