import type { EntityManager } from 'typeorm';
import type { PrincipalType } from '#libs/contracts/index.js';

/** The roles a list is filtered by, in one account, for one type of principal. */
export interface RoleFilterScope {
  accountId: string;
  principalType: PrincipalType;
  roleIds: string[];
}

/**
 * Whether the roles have at most `few` holders of the type in the account, counted in the role
 * projection's index (`role_holdings_by_role`) up to one more: what a role many hold costs to count
 * is bounded. A role of another account, or no role at all, has none here.
 */
export async function hasFewHolders(manager: EntityManager, { accountId, principalType, roleIds }: RoleFilterScope, few: number): Promise<boolean> {
  const [{ holders }] = await manager.query<Array<{ holders: number }>>(
    `SELECT count(*)::int AS holders FROM (
       SELECT 1 FROM role_holdings WHERE account_id = $1 AND principal_type = $2 AND role_id = ANY($3::text[]) LIMIT $4) AS counted`,
    [accountId, principalType, roleIds, few + 1],
  );
  return holders <= few;
}
