import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type EventEnvelope } from '#libs/contracts/index.js';
import type { NatsLink } from './nats-connection.js';
import { readEvent } from './event-envelope.js';

const NANOS_PER_MS = 1_000_000;
/** How long a consumer whose subscription ended waits before it subscribes again. */
const RESUBSCRIBE_PAUSE_MS = 1000;
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

/** Publishes one event with its id as the JetStream message id, so a re-publish is dropped as a duplicate. */
export async function publishEvent(link: NatsLink, subject: string, envelope: EventEnvelope): Promise<void> {
  const js = jetstream(link.connection);
  await js.publish(subject, JSON.stringify(envelope), { msgID: envelope.id, timeout: 5000 });
}

/**
 * What a durable consumer does with one event. Returning acknowledges it; throwing means "deliver
 * again later" (with backoff), except a {@link PermanentEventError} (drop it) or a
 * {@link RetryEventLaterError} (deliver again after the delay it names).
 */
export type EventHandler = (event: EventEnvelope, message: JsMsg) => Promise<void>;

/**
 * Thrown by an {@link EventHandler} for an event that can never be handled, however often it is
 * delivered (it breaks its contract): the consumer drops it (`term`) with an error log line.
 */
export class PermanentEventError extends Error {
  override readonly name = 'PermanentEventError';
}

/**
 * Thrown by an {@link EventHandler} for an event it cannot handle yet but must not lose (a type a
 * newer release of its producer publishes): the consumer delivers it again after `delayMs`,
 * logging only at debug level (the handler says once what it waits for).
 */
export class RetryEventLaterError extends Error {
  override readonly name = 'RetryEventLaterError';

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/** Options of {@link DurableConsumer}. */
export interface DurableConsumerOptions {
  link: NatsLink;
  durableName: string;
  /** One subject filter (NATS 2.9, as Debian ships it, takes one); the handler ignores types it does not need. */
  filterSubject: string;
  logger: Logger;
  handle: EventHandler;
  /** How long an unacknowledged message waits before redelivery (ms). */
  ackWaitMs?: number;
  maxDeliver?: number;
}

/** A durable, explicitly acknowledged JetStream consumer that survives restarts of its service, and losses of its subscription. */
export class DurableConsumer {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: DurableConsumerOptions) {}

  /** Creates (or updates) the durable consumer and starts handling messages; a first subscription that fails fails the start. */
  async start(): Promise<void> {
    const first = await this.subscribe();
    const loop = { name: this.options.durableName, logger: this.options.logger, isStopped: () => this.stopped };
    this.running = keepConsuming({ ...loop, subscribe: () => this.subscribe(), pump: (messages) => this.loop(messages) }, first);
  }

  /** Stops taking messages and waits for the one being handled. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.running;
  }

  private async subscribe(): Promise<ConsumerMessages> {
    const { link, durableName, filterSubject } = this.options;
    await ensureEventsStream(link);
    const manager = await jetstreamManager(link.connection);
    const config = {
      durable_name: durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: filterSubject,
      ack_wait: (this.options.ackWaitMs ?? 30_000) * NANOS_PER_MS,
      max_deliver: this.options.maxDeliver ?? -1,
    };
    await manager.consumers.add(EVENTS_STREAM, config).catch(() => manager.consumers.update(EVENTS_STREAM, durableName, config));
    const consumer = await jetstream(link.connection).consumers.get(EVENTS_STREAM, durableName);
    // A consumer deleted under it (or its stream lost) ends the reading instead of waiting in vain for it to reappear: keepConsuming makes it again.
    this.messages = await consumer.consume({ max_messages: 64, abort_on_missing_resource: true });
    // Stopped while subscribing: stop() found nothing to close.
    if (this.stopped) await this.messages.close().catch(() => undefined);
    return this.messages;
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      if (this.stopped) {
        message.nak();
        continue;
      }
      await this.handleOne(message).catch((error: unknown) => {
        // Answering the message failed (the connection is going): JetStream delivers it again after the ack wait.
        this.options.logger.error({ err: error, subject: message.subject, seq: message.seq }, 'Could not answer an event; it will be delivered again');
      });
    }
  }

  /** Hands one event to the handler and answers JetStream (`term()` takes no reason: NATS 2.9, Debian's, ignores `+TERM <reason>`). */
  private async handleOne(message: JsMsg): Promise<void> {
    const event = readEvent(message);
    if (!event) {
      this.options.logger.error({ subject: message.subject, seq: message.seq }, 'Unreadable event dropped: not an event envelope');
      message.term();
      return;
    }
    try {
      await this.options.handle(event, message);
      message.ack();
    } catch (error) {
      this.settleFailure(message, event, error);
    }
  }

  /** Drops, defers or retries an event its handler threw on, as the error asks. */
  private settleFailure(message: JsMsg, event: EventEnvelope, error: unknown): void {
    const context = { err: error, eventId: event?.id, type: event?.type, subject: message.subject, seq: message.seq };
    if (error instanceof PermanentEventError) {
      this.options.logger.error(context, 'Event can never be handled; dropped');
      message.term();
      return;
    }
    if (error instanceof RetryEventLaterError) {
      this.options.logger.debug({ ...context, retryInMs: error.delayMs }, 'Event deferred');
      message.nak(error.delayMs);
      return;
    }
    const delayMs = backoffMs(message.info.deliveryCount);
    this.options.logger.warn({ ...context, retryInMs: delayMs }, 'Event handling failed; it will be delivered again');
    message.nak(delayMs);
  }
}

/** What {@link keepConsuming} drives: one consumer's subscription and the loop that reads it. */
export interface ConsumerLoop {
  /** The durable consumer's name, for the log. */
  name: string;
  logger: Logger;
  isStopped(): boolean;
  /** Creates (or finds) the durable consumer and subscribes to it (again). */
  subscribe(): Promise<ConsumerMessages>;
  /** Reads the subscription until it ends. */
  pump(messages: ConsumerMessages): Promise<void>;
}

/**
 * Reads a consumer until its service stops it, starting with `first` if the caller subscribed
 * already. Should the subscription end or fail while the service runs (the consumer deleted, the
 * stream lost and made again, the connection replaced), it says so and subscribes again after a
 * pause, for as long as it takes: the durable consumer keeps its position, so nothing published
 * meanwhile is missed.
 */
export async function keepConsuming(loop: ConsumerLoop, first?: ConsumerMessages): Promise<void> {
  let messages = first;
  let failedSubscriptions = 0;
  for (let attempt = 0; !loop.isStopped(); attempt++) {
    // None before the first subscription; then 1 s, growing to 30 s while subscribing keeps failing (NATS away).
    if (attempt > 0 && !messages) await pause(Math.min(30_000, RESUBSCRIBE_PAUSE_MS * 2 ** failedSubscriptions));
    if (loop.isStopped()) return;
    try {
      messages ??= await loop.subscribe();
      failedSubscriptions = 0;
    } catch (error) {
      failedSubscriptions++;
      loop.logger.warn({ err: error, durableName: loop.name }, 'Event consumer could not subscribe; trying again');
      continue;
    }
    await pumpUntilEnd(loop, messages);
    messages = undefined;
  }
}

/** Reads one subscription until it ends, saying so if it ends while the service runs. */
async function pumpUntilEnd(loop: ConsumerLoop, messages: ConsumerMessages): Promise<void> {
  try {
    await loop.pump(messages);
    if (!loop.isStopped()) loop.logger.warn({ durableName: loop.name }, 'Event consumer stopped receiving events; subscribing again');
  } catch (error) {
    if (!loop.isStopped()) loop.logger.warn({ err: error, durableName: loop.name }, 'Event consumer failed; subscribing again');
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with jitter, from 0.5 s up to 60 s. */
export function backoffMs(attempt: number): number {
  const base = Math.min(60_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
