import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventDataMap, EventEnvelope, EventType } from '#libs/contracts/index.js';
import { OutboxEntity } from './outbox.entity.js';

/** Writes events into the outbox inside the caller's transaction. */
@Injectable()
export class OutboxWriter {
  /** Adds one event; it is relayed only if the surrounding transaction commits. */
  async add<T extends EventType>(manager: EntityManager, type: T, accountId: string | null, data: EventDataMap[T]): Promise<void> {
    const envelope: EventEnvelope<T> = { id: randomUUID(), type, occurredAt: new Date().toISOString(), accountId, data };
    await manager.insert(OutboxEntity, { id: envelope.id, type, accountId, payload: envelope as EventEnvelope });
  }
}
