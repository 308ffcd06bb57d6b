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
