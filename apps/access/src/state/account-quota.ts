import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/**
 * Refuses to add one more `what` to an account that holds `limit` already (409, naming the limit):
 * every access replica keeps each account's roles and applications in memory, so one account may
 * not grow them without bound. Called inside AccessStateService.mutate, which holds the account's
 * lock: two additions at once cannot both pass the count.
 */
export async function assertRoomFor(
  manager: EntityManager,
  entity: EntityTarget<ObjectLiteral>,
  accountId: string,
  quota: { limit: number; what: string },
): Promise<void> {
  const held = await manager.getRepository(entity).countBy({ accountId });
  if (held >= quota.limit) {
    throw new DomainError(ErrorCode.Conflict, `This account has ${held} ${quota.what}, the most it may have; delete one first`, { limit: quota.limit });
  }
}
