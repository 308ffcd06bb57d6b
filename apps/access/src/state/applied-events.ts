import type { EntityManager } from 'typeorm';

/** Whether the event is seen for the first time (recorded as applied in the same transaction). */
export async function firstTime(manager: EntityManager, eventId: string): Promise<boolean> {
  const fresh: unknown[] = await manager.query(`INSERT INTO applied_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id`, [eventId]);
  return fresh.length > 0;
}

/** Whether the event was applied already: a redelivery need not start a change of its account (its transaction still asks {@link firstTime}). */
export async function appliedBefore(manager: EntityManager, eventId: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(`SELECT 1 FROM applied_events WHERE event_id = $1`, [eventId]);
  return rows.length > 0;
}

/**
 * Whether identity closed the account (see OwnersService.applyClosure): an event about it applied
 * later changes nothing. Read in the change's transaction, under the account's lock, which the
 * closure takes too.
 */
export async function accountClosed(manager: EntityManager, accountId: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(`SELECT 1 FROM closed_accounts WHERE account_id = $1`, [accountId]);
  return rows.length > 0;
}

/** {@link firstTime}, and false too for an account identity closed: the event is recorded as applied, and changes nothing. */
export async function firstTimeInOpenAccount(manager: EntityManager, eventId: string, accountId: string): Promise<boolean> {
  return (await firstTime(manager, eventId)) && !(await accountClosed(manager, accountId));
}
