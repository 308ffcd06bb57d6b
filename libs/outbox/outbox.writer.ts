import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventDataMap, EventEnvelope, EventType } from '#libs/contracts/index.js';
import { OutboxEntity } from './outbox.entity.js';

/** The database's clock now (not the transaction's start), as JavaScript writes an instant: ISO 8601 in UTC, milliseconds. */
const DATABASE_NOW = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Writes events into the outbox inside the caller's transaction. */
@Injectable()
export class OutboxWriter {
  /**
   * Adds one event; it is relayed only if the surrounding transaction commits. Its `occurredAt` is
   * the database's clock, one for every replica of every service: two changes of one thing made on
   * two pods one after the other are told in that order, whatever their own clocks say (the audit
   * trail lists access's changes by it). Set in the INSERT itself: no round trip of its own.
   */
  async add<T extends EventType>(manager: EntityManager, type: T, accountId: string | null, data: EventDataMap[T]): Promise<void> {
    const envelope: Omit<EventEnvelope<T>, 'occurredAt'> = { id: randomUUID(), type, accountId, data };
    await manager.query(
      `INSERT INTO ${manager.connection.getMetadata(OutboxEntity).tablePath} (id, type, account_id, payload)
       VALUES ($1, $2, $3, jsonb_set($4::jsonb, '{occurredAt}', to_jsonb(${DATABASE_NOW})))`,
      [envelope.id, type, accountId, JSON.stringify(envelope)],
    );
  }
}
