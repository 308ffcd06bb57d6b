import type { EntityManager } from 'typeorm';
import type { Actor } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { MembershipEntity } from '../users/membership.entity.js';
import { AccountEntity } from './account.entity.js';

/**
 * The account a request is about, provided the actor works in it now (an active member, or an
 * active subuser of it); otherwise NOT_FOUND, as for an account that does not exist. The
 * gateway checked the permission; this is the same boundary, enforced again below HTTP.
 */
export async function accountOfActor(manager: EntityManager, actor: Actor, accountId: string): Promise<AccountEntity> {
  const [account, belongs] = await Promise.all([manager.findOneBy(AccountEntity, { id: accountId }), actorBelongs(manager, actor, accountId)]);
  if (!account || !belongs) throw new DomainError(ErrorCode.NotFound, 'Account not found');
  return account;
}

/** Whether the actor works in the account now. */
export function actorBelongs(manager: EntityManager, actor: Actor, accountId: string): Promise<boolean> {
  if (actor.type === 'user') return manager.existsBy(MembershipEntity, { accountId, userId: actor.id, active: true });
  return manager.existsBy(SubuserEntity, { accountId, id: actor.id, active: true });
}

/** The account's subuser login page, under the web panel's base URL. */
export function subuserLoginUrl(publicWebUrl: string, slug: string): string {
  return new URL(`/login/${encodeURIComponent(slug)}`, publicWebUrl).toString();
}
