import type { EntityManager } from 'typeorm';
import { webLink, type Actor, type PrincipalType } from '#libs/contracts/index.js';
import { ACCOUNT_NOT_FOUND, DomainError, ErrorCode } from '#libs/errors/index.js';
import { AccountEntity } from './account.entity.js';

/**
 * An SQL condition: whether the principal of type `type` whose id is `principalId` (an SQL
 * expression, a placeholder say) works in the account `accountId` (another) now: an active member,
 * or an active subuser or service account of it.
 */
export function worksInAccount(type: PrincipalType, accountId: string, principalId: string): string {
  if (type === 'user') return `EXISTS (SELECT 1 FROM memberships me WHERE me.account_id = ${accountId} AND me.user_id = ${principalId} AND me.active)`;
  const table = type === 'subuser' ? 'subusers' : 'service_accounts';
  return `EXISTS (SELECT 1 FROM ${table} me WHERE me.account_id = ${accountId} AND me.id = ${principalId} AND me.active)`;
}

const ROW_LOCKS = { none: '', share: ' FOR SHARE OF a', update: ' FOR UPDATE OF a' } as const;

/**
 * The account a request is about, provided the actor works in it now (an active member, an
 * active subuser or an active service account of it); otherwise NOT_FOUND, as for an account that does not exist. The
 * gateway checked the permission; this is the same boundary, enforced again below HTTP.
 * `share` locks the account's row until the transaction ends: a change judged on who owns the
 * account then cannot interleave with a hand-over (which locks it for update). `update` locks it
 * for a change of the account itself (two at once are then one after the other).
 */
export async function accountOfActor(
  manager: EntityManager,
  actor: Actor,
  accountId: string,
  lock: 'none' | 'share' | 'update' = 'none',
): Promise<AccountEntity> {
  // One round trip: the account, only if the actor works in it now.
  const membership = worksInAccount(actor.type, 'a.id', '$2');
  const rows: Array<{ id: string; name: string; slug: string; owner_user_id: string; locale: string; second_step_required: boolean; created_at: Date }> =
    await manager.query(
      `SELECT a.id, a.name, a.slug, a.owner_user_id, a.locale, a.second_step_required, a.created_at FROM accounts a WHERE a.id = $1 AND ${membership}${ROW_LOCKS[lock]}`,
      [accountId, actor.id],
    );
  if (rows.length === 0) throw new DomainError(ErrorCode.NotFound, ACCOUNT_NOT_FOUND);
  const [row] = rows;
  return Object.assign(new AccountEntity(), {
    id: row.id,
    name: row.name,
    slug: row.slug,
    ownerUserId: row.owner_user_id,
    locale: row.locale,
    requireSecondStep: row.second_step_required,
    createdAt: row.created_at,
  });
}

/** The account's subuser login page, under the web panel's base URL (its path kept, as in mails). */
export function subuserLoginUrl(publicWebUrl: string, slug: string): string {
  return webLink(publicWebUrl, `/login/${encodeURIComponent(slug)}`);
}
