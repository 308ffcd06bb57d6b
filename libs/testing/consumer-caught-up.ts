import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '#libs/contracts/index.js';
import { eventually } from './eventually.js';

/**
 * Resolves once the durable consumer `durable` of the events stream has been handed every message
 * on `subjects` (its filter) that the stream holds, and has answered each: nothing awaits an ack
 * or a delayed redelivery. A timeout says what the consumer last reported.
 *
 * "Every message handed" is read from the stream itself, its last message on `subjects` against
 * the consumer's delivered position, not from `num_pending`: that is a running count nats-server
 * 2.9 keeps, and with messages deleted from the stream (notifications deletes the events that
 * carry a link token) it can stay above 0 after a restart of the server with nothing left to
 * deliver (seen once in CI, after the NATS-restart test of notifications-faults).
 */
export async function consumerCaughtUp(connection: NatsConnection, durable: string, subjects: string, timeoutMs = 30_000): Promise<void> {
  const manager = await jetstreamManager(connection);
  let last = 'nothing read yet';
  try {
    await eventually(
      `the ${durable} consumer to be idle`,
      async () => {
        const info = await manager.consumers.info(EVENTS_STREAM, durable);
        const lastSeq = (await manager.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects }))?.seq ?? 0;
        const { delivered, ack_floor, num_ack_pending, num_redelivered, num_pending } = info;
        last = JSON.stringify({ lastSeq, delivered, ack_floor, num_ack_pending, num_redelivered, num_pending });
        return delivered.stream_seq >= lastSeq && num_ack_pending === 0;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; it last said ${last}`);
  }
}
