import type { EntityManager } from 'typeorm';
import type { Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { AccountEntity } from '../accounts/account.entity.js';
import { SubuserEntity } from '../subusers/subuser.entity.js';
import { MembershipEntity } from '../users/membership.entity.js';
import { MembershipInvitationEntity } from '../users/membership-invitation.entity.js';
import { UserEntity } from '../users/user.entity.js';

/** What the credential rules need to know of a user or subuser. */
export interface PrincipalProfile {
  /** A person or a subuser: a service account has no profile (no password, no e-mail). */
  principal: Principal & { type: 'user' | 'subuser' };
  /** Where its mail goes (a subuser may have none). */
  email: string | null;
  /** First name of a user, login of a subuser. */
  name: string;
  login: string | null;
  locale: string;
  passwordHash: string | null;
  status: 'pending' | 'active';
  /** The subuser's account; null for users (their sign-in is not bound to one account). */
  accountId: string | null;
  accountSlug: string | null;
  /**
   * Accounts it works in now (for audit), and the names of the accounts it belongs to, active or
   * not, for the password policy: not those whose invitation waits for the person's consent (as
   * `worksElsewhere` counts them), which have no say over a password until they are accepted.
   */
  activeAccountIds: string[];
  /** Accounts whose invitation waits for the person's consent (their membership there inactive until they answer); none for a subuser. */
  waitingAccountIds: string[];
  accountNames: string[];
}

/**
 * Loads a principal's profile, or null when it does not exist. `joining`: an account whose waiting
 * membership the person is accepting in the same act (activating through its link is their
 * consent), so its name counts for the password they set.
 */
export async function loadProfile(manager: EntityManager, principal: Principal, joining: string | null = null): Promise<PrincipalProfile | null> {
  return principal.type === 'user' ? loadUser(manager, principal.id, joining) : loadSubuser(manager, principal.id);
}

async function loadUser(manager: EntityManager, userId: string, joining: string | null): Promise<PrincipalProfile | null> {
  const user = await manager.findOneBy(UserEntity, { id: userId });
  if (!user) return null;
  const accounts: Array<{ id: string; name: string; active: boolean; waiting: boolean }> = await manager
    .createQueryBuilder(MembershipEntity, 'm')
    .innerJoin(AccountEntity, 'a', 'a.id = m.account_id')
    .leftJoin(MembershipInvitationEntity, 'i', 'i.account_id = m.account_id AND i.user_id = m.user_id')
    .select(['a.id AS id', 'a.name AS name', 'm.active AS active', 'i.user_id IS NOT NULL AS waiting'])
    .where('m.user_id = :userId', { userId })
    .getRawMany();
  return {
    principal: { type: 'user', id: user.id },
    email: user.email,
    name: user.firstName,
    login: null,
    locale: user.locale,
    passwordHash: user.passwordHash,
    status: user.status,
    accountId: null,
    accountSlug: null,
    activeAccountIds: accounts.filter((account) => account.active).map((account) => account.id),
    waitingAccountIds: accounts.filter((account) => account.waiting).map((account) => account.id),
    accountNames: accounts.filter((account) => !account.waiting || account.id === joining).map((account) => account.name),
  };
}

async function loadSubuser(manager: EntityManager, subuserId: string): Promise<PrincipalProfile | null> {
  const subuser = await manager.findOneBy(SubuserEntity, { id: subuserId });
  if (!subuser) return null;
  const account = await manager.findOneByOrFail(AccountEntity, { id: subuser.accountId });
  return {
    principal: { type: 'subuser', id: subuser.id },
    email: subuser.email,
    name: subuser.login,
    login: subuser.login,
    locale: subuser.locale,
    passwordHash: subuser.passwordHash,
    status: subuser.status,
    accountId: account.id,
    accountSlug: account.slug,
    activeAccountIds: subuser.active ? [account.id] : [],
    waitingAccountIds: [],
    accountNames: [account.name],
  };
}

/**
 * Locks the principal's row (FOR NO KEY UPDATE) and checks that the password just verified is
 * still theirs: a reset or change that committed meanwhile voided every link and ended every
 * session, and what the caller was about to write on the strength of the old password must not
 * survive it (409, nothing written). Held to the commit, the lock also keeps a reset from
 * committing between this check and the write.
 */
export async function lockUnchangedPassword(manager: EntityManager, profile: Pick<PrincipalProfile, 'principal' | 'passwordHash'>): Promise<void> {
  const table = profile.principal.type === 'user' ? 'users' : 'subusers';
  const [row] = await manager.query<Array<{ password_hash: string | null }>>(`SELECT password_hash FROM ${table} WHERE id = $1 FOR NO KEY UPDATE`, [
    profile.principal.id,
  ]);
  if (!row || row.password_hash !== profile.passwordHash)
    throw new DomainError(ErrorCode.Conflict, 'Your password was changed meanwhile; sign in again with the new one');
}
