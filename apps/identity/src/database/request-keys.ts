import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode } from '#libs/errors/index.js';

/**
 * Does `work` once per request key, in the caller's transaction: the create the gateway sends again
 * with the same key after a lost answer. Without a key, it just does the work.
 *
 * The key is claimed first (`request_keys`' primary key): a second claim of the same key waits
 * until the first's transaction ends. Committed, the second finds it and answers the stored result
 * without doing anything; rolled back, the second claims it and does the work. The result is stored
 * in the same transaction as the work, so a key is never found without it. A key of another
 * account is a conflict, never its result. Nor is a result that no longer `stillStands` (the person
 * added was removed meanwhile): a conflict too, so that the gateway binds nobody to it.
 */
export async function oncePerKey<T extends object>(
  manager: EntityManager,
  key: string | undefined,
  accountId: string,
  work: () => Promise<T>,
  stillStands: (earlier: T) => Promise<boolean>,
): Promise<T> {
  if (key === undefined) return work();
  const claimed = await manager.query<unknown[]>(`INSERT INTO request_keys (key, account_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key`, [
    key,
    accountId,
  ]);
  if (claimed.length === 0) return standingResult(await earlierResult<T>(manager, key, accountId), stillStands);
  const result = await work();
  await manager.query(`UPDATE request_keys SET result = $2 WHERE key = $1`, [key, JSON.stringify(result)]);
  return result;
}

/** What the committed request of this key answered; read with the account (a statement of its own, so it sees that commit). */
async function earlierResult<T>(manager: EntityManager, key: string, accountId: string): Promise<T> {
  const [earlier] = await manager.query<Array<{ result: T | null }>>(`SELECT result FROM request_keys WHERE key = $1 AND account_id = $2`, [key, accountId]);
  if (!earlier?.result) throw new DomainError(ErrorCode.Conflict, 'This request key belongs to another request', { field: 'requestKey' });
  return earlier.result;
}

/** The earlier result, if what it names is still there. */
async function standingResult<T>(earlier: T, stillStands: (earlier: T) => Promise<boolean>): Promise<T> {
  if (!(await stillStands(earlier))) throw new DomainError(ErrorCode.Conflict, 'What this request added was removed since', { field: 'requestKey' });
  return earlier;
}
