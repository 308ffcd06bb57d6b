import type { EntityManager } from 'typeorm';
import { Events, type PrincipalActivityChange } from '#libs/contracts/index.js';
import type { OutboxWriter } from '#libs/outbox/index.js';

/** The database's clock at this moment (not the start of the transaction): ISO 8601 in UTC, with microseconds. */
const CLOCK_NOW_SQL = `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "changedAt"`;

/** The database's clock now (see {@link CLOCK_NOW_SQL}): in a transaction holding a principal's row, later than any change of it committed before. */
export async function databaseNow(manager: EntityManager): Promise<string> {
  const [{ changedAt }] = await manager.query<Array<{ changedAt: string }>>(CLOCK_NOW_SQL);
  return changedAt;
}

/** At most this many changes in one event (JetStream's default max payload is 1 MB; a change takes about 130 bytes). */
export const CHANGES_PER_EVENT = 500;

/** A member (`user`), subuser or service account, by id. */
export type ActivityPrincipal = Pick<PrincipalActivityChange, 'principalType' | 'principalId'>;

/** The principal whose activity in an account changed. */
export type ActivityTarget = ActivityPrincipal & { accountId: string };

/**
 * Writes `identity.principal.activity-changed` (access then refuses an inactive principal
 * everything in the account) in the caller's transaction. That transaction must hold the
 * principal's row already (its membership or subuser, written or locked): the time is read after,
 * so a later change of the same principal, which waits for the row, carries a later time.
 */
export async function writeActivityChanged(manager: EntityManager, outbox: OutboxWriter, target: ActivityTarget, active: boolean): Promise<void> {
  await writeActivityChanges(manager, outbox, target.accountId, [target], active);
}

/**
 * The same for several principals of one account, all at one time: one event per
 * {@link CHANGES_PER_EVENT} (access applies an event as one change of the account). The
 * transaction must hold every principal's row already.
 */
export async function writeActivityChanges(
  manager: EntityManager,
  outbox: OutboxWriter,
  accountId: string,
  principals: ActivityPrincipal[],
  active: boolean,
): Promise<void> {
  const changedAt = await databaseNow(manager);
  for (let start = 0; start < principals.length; start += CHANGES_PER_EVENT) {
    const changes = principals
      .slice(start, start + CHANGES_PER_EVENT)
      .map(({ principalType, principalId }) => ({ principalType, principalId, active, changedAt }));
    await outbox.add(manager, Events.PrincipalActivityChanged, accountId, { accountId, changes });
  }
}
