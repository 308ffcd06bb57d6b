import type { EntityManager } from 'typeorm';
import type { Principal, PrincipalDescription } from '#libs/contracts/index.js';
import { PERSON_AS_THE_ACCOUNT_SEES } from '../users/invitations.js';

/**
 * The principals of `principals` that belong to the account, named as its lists name them: a
 * person as the user table shows them (what the account typed, until they accept an invitation:
 * B2), a subuser by its login, a service account by its name (no e-mail). Others (another account's, removed, unknown) are left out.
 */
export async function describePrincipals(manager: EntityManager, accountId: string, principals: Principal[]): Promise<PrincipalDescription[]> {
  const idsOf = (type: Principal['type']) => [...new Set(principals.filter((principal) => principal.type === type).map((principal) => principal.id))];
  const [people, subusers, programs] = await Promise.all([
    describePeople(manager, accountId, idsOf('user')),
    describeSubusers(manager, accountId, idsOf('subuser')),
    describeServiceAccounts(manager, accountId, idsOf('service-account')),
  ]);
  return [...people, ...subusers, ...programs];
}

async function describePeople(manager: EntityManager, accountId: string, ids: string[]): Promise<PrincipalDescription[]> {
  if (ids.length === 0) return [];
  const rows = await manager.query<Array<{ id: string; firstName: string; lastName: string; email: string }>>(
    `SELECT m.user_id AS id, ${PERSON_AS_THE_ACCOUNT_SEES}
       FROM memberships m JOIN users u ON u.id = m.user_id
       LEFT JOIN membership_invitations i ON i.account_id = m.account_id AND i.user_id = m.user_id
      WHERE m.account_id = $1 AND m.user_id = ANY($2::uuid[])`,
    [accountId, ids],
  );
  return rows.map((row) => ({ principal: { type: 'user', id: row.id }, name: `${row.firstName} ${row.lastName}`, email: row.email }));
}

async function describeSubusers(manager: EntityManager, accountId: string, ids: string[]): Promise<PrincipalDescription[]> {
  if (ids.length === 0) return [];
  const rows = await manager.query<Array<{ id: string; login: string; email: string | null }>>(
    'SELECT id, login, email FROM subusers WHERE account_id = $1 AND id = ANY($2::uuid[])',
    [accountId, ids],
  );
  return rows.map((row) => ({ principal: { type: 'subuser', id: row.id }, name: row.login, email: row.email }));
}

async function describeServiceAccounts(manager: EntityManager, accountId: string, ids: string[]): Promise<PrincipalDescription[]> {
  if (ids.length === 0) return [];
  const rows = await manager.query<Array<{ id: string; name: string }>>(
    'SELECT id, name FROM service_accounts WHERE account_id = $1 AND id = ANY($2::uuid[])',
    [accountId, ids],
  );
  return rows.map((row) => ({ principal: { type: 'service-account', id: row.id }, name: row.name, email: null }));
}
