import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventDataMap, EventEnvelope, EventType } from '#libs/contracts/index.js';
import { OutboxEntity } from './outbox.entity.js';

/** The database's clock now (not the transaction's start), as JavaScript writes an instant: ISO 8601 in UTC, milliseconds. */
const DATABASE_NOW_SQL = `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS now`;

/** Writes events into the outbox inside the caller's transaction. */
@Injectable()
export class OutboxWriter {
  /**
   * Adds one event; it is relayed only if the surrounding transaction commits. Its `occurredAt` is
   * the database's clock, one for every replica of every service: two changes of one thing made on
   * two pods one after the other are told in that order, whatever their own clocks say (the audit
   * trail lists access's changes by it).
   */
  async add<T extends EventType>(manager: EntityManager, type: T, accountId: string | null, data: EventDataMap[T]): Promise<void> {
    const [{ now }] = await manager.query<Array<{ now: string }>>(DATABASE_NOW_SQL);
    const envelope: EventEnvelope<T> = { id: randomUUID(), type, occurredAt: now, accountId, data };
    await manager.insert(OutboxEntity, { id: envelope.id, type, accountId, payload: envelope as EventEnvelope });
  }
}
