import { jetstream, jetstreamManager, type StreamConfig, type StreamUpdateConfig } from '@nats-io/jetstream';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type EventEnvelope } from '#libs/contracts/index.js';
import type { NatsLink } from './nats-connection.js';

const NANOS_PER_MS = 1_000_000;
/** How long the events stream keeps an event (its `max_age`): a consumer must be done with an event by then. */
export const EVENTS_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** How long the stream remembers a message id (its `duplicate_window`): a re-publish of the outbox within it is dropped. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** The settings of the events stream Portico decides, and keeps an existing stream to. */
export type EventsStreamSettings = Pick<StreamConfig, 'num_replicas' | 'max_age' | 'duplicate_window'>;

/** One setting of an existing stream that differs from Portico's: what it was, what it becomes. */
export type StreamSettingChanges = Partial<Record<keyof EventsStreamSettings, { from: number; to: number }>>;

/** The events stream's configuration, kept on `replicas` NATS servers (NATS_STREAM_REPLICAS). */
export function eventsStreamConfig(replicas: number): Pick<StreamConfig, 'name' | 'subjects'> & EventsStreamSettings {
  return {
    name: EVENTS_STREAM,
    subjects: [`${EVENTS_SUBJECT_PREFIX}>`],
    num_replicas: replicas,
    max_age: EVENTS_RETENTION_MS * NANOS_PER_MS,
    duplicate_window: DUPLICATE_WINDOW_MS * NANOS_PER_MS,
  };
}

/** The settings of `existing` that differ from `wanted` (empty: none), each with its value and Portico's. */
export function streamSettingChanges(existing: EventsStreamSettings, wanted: EventsStreamSettings): StreamSettingChanges {
  const changes: StreamSettingChanges = {};
  for (const setting of ['num_replicas', 'max_age', 'duplicate_window'] as const) {
    if (existing[setting] !== wanted[setting]) changes[setting] = { from: existing[setting], to: wanted[setting] };
  }
  return changes;
}

/**
 * Creates the events stream if missing, on as many NATS servers as the link's
 * `eventsStreamReplicas` (NATS_STREAM_REPLICAS); an existing one whose replicas, retention or
 * duplicate window differ is updated to them, saying what changed. An update NATS refuses (more
 * replicas than the cluster has servers, a user not allowed to) is logged as an error and the
 * stream kept as it is: events still flow. Idempotent; every producer and consumer calls it at start.
 */
export async function ensureEventsStream(link: NatsLink): Promise<void> {
  const manager = await jetstreamManager(link.connection);
  const wanted = eventsStreamConfig(link.eventsStreamReplicas);
  let existing: StreamConfig;
  try {
    existing = (await manager.streams.info(EVENTS_STREAM)).config;
  } catch {
    await manager.streams.add(wanted).catch(async (error: unknown) => {
      // Another replica may have created it between our look and our add.
      await manager.streams.info(EVENTS_STREAM).catch(() => {
        throw error;
      });
    });
    return;
  }
  const changes = streamSettingChanges(existing, wanted);
  if (Object.keys(changes).length === 0) return;
  const update: Partial<StreamUpdateConfig> = Object.fromEntries(Object.entries(changes).map(([setting, change]) => [setting, change.to]));
  try {
    await manager.streams.update(EVENTS_STREAM, update);
    link.logger.info({ stream: EVENTS_STREAM, changes }, 'Events stream updated to its configuration');
  } catch (error) {
    link.logger.error({ err: error, stream: EVENTS_STREAM, changes }, 'Events stream could not be updated to its configuration; it is kept as it is');
  }
}

/** Publishes one event with its id as the JetStream message id, so a re-publish is dropped as a duplicate. Resolves to its sequence in the stream. */
export async function publishEvent(link: NatsLink, subject: string, envelope: EventEnvelope): Promise<number> {
  const js = jetstream(link.connection);
  const stored = await js.publish(subject, JSON.stringify(envelope), { msgID: envelope.id, timeout: 5000 });
  return stored.seq;
}
