import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type EventEnvelope } from '#libs/contracts/index.js';
import type { NatsLink } from './nats-connection.js';

const NANOS_PER_MS = 1_000_000;
/** How long the events stream keeps an event (its `max_age`): a consumer must be done with an event by then. */
export const EVENTS_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** Creates the events stream if missing (idempotent; every producer and consumer calls it at start). */
export async function ensureEventsStream(link: NatsLink): Promise<void> {
  const manager = await jetstreamManager(link.connection);
  const config = {
    name: EVENTS_STREAM,
    subjects: [`${EVENTS_SUBJECT_PREFIX}>`],
    max_age: EVENTS_RETENTION_MS * NANOS_PER_MS,
    duplicate_window: 2 * 60 * 1000 * NANOS_PER_MS,
  };
  try {
    await manager.streams.info(EVENTS_STREAM);
  } catch {
    await manager.streams.add(config).catch(async (error: unknown) => {
      // Another replica may have created it between our look and our add.
      await manager.streams.info(EVENTS_STREAM).catch(() => {
        throw error;
      });
    });
  }
}

/** Publishes one event with its id as the JetStream message id, so a re-publish is dropped as a duplicate. Resolves to its sequence in the stream. */
export async function publishEvent(link: NatsLink, subject: string, envelope: EventEnvelope): Promise<number> {
  const js = jetstream(link.connection);
  const stored = await js.publish(subject, JSON.stringify(envelope), { msgID: envelope.id, timeout: 5000 });
  return stored.seq;
}
