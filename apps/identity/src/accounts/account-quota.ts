import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/** What an account holds a bounded number of. */
export interface AccountQuota {
  /** Names the advisory lock, one per kind and account. */
  kind: 'members' | 'subusers' | 'service-accounts';
  /** The most one account may hold. */
  limit: number;
  /** How many the account holds now (read under the lock). */
  count: (manager: EntityManager) => Promise<number>;
  /** The refusal's message, given how many it holds. */
  refusal: (held: number) => string;
}

/**
 * Refuses one more to an account that holds `quota.limit` already (409 CONFLICT, with `details.limit`).
 * Adds of one kind to one account are counted one at a time (a transaction-scoped advisory lock on
 * the kind and the account), so many at once cannot pass the count together. Call it in the add's
 * transaction, before the insert.
 */
export async function assertRoomInAccount(manager: EntityManager, accountId: string, quota: AccountQuota): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`, [quota.kind, accountId]);
  const held = await quota.count(manager);
  if (held >= quota.limit) throw new DomainError(ErrorCode.Conflict, quota.refusal(held), { limit: quota.limit });
}
