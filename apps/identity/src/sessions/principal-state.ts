import type { EntityManager } from 'typeorm';
import type { Principal } from '#libs/contracts/index.js';
import { ServiceAccountEntity } from '../service-accounts/service-account.entity.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { MembershipEntity } from '../users/membership.entity.js';
import { UserEntity } from '../users/user.entity.js';

/** The accounts a principal is active in now (a subuser or a service account: its own account while active). */
export async function activeAccountsOf(manager: EntityManager, principal: Principal): Promise<string[]> {
  if (principal.type === 'service-account') {
    const account = await manager.findOne(ServiceAccountEntity, { where: { id: principal.id }, select: { accountId: true, active: true } });
    return account?.active ? [account.accountId] : [];
  }
  if (principal.type === 'subuser') {
    const subuser = await manager.findOne(SubuserEntity, { where: { id: principal.id }, select: { accountId: true, active: true, status: true } });
    return subuser && subuser.active && subuser.status === 'active' ? [subuser.accountId] : [];
  }
  const rows = await manager.find(MembershipEntity, { where: { userId: principal.id, active: true }, select: { accountId: true } });
  return rows.map((row) => row.accountId);
}

/** Whether a principal may hold a session at all: an active person with an active membership, or an active subuser. */
export async function maySignIn(manager: EntityManager, principal: Principal): Promise<boolean> {
  if (principal.type === 'user') {
    const user = await manager.findOne(UserEntity, { where: { id: principal.id }, select: { id: true, status: true } });
    if (!user || user.status !== 'active') return false;
  }
  return (await activeAccountsOf(manager, principal)).length > 0;
}
