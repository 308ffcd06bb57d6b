import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { EventEnvelope } from '#libs/contracts/index.js';
import { DurableSubscription } from './durable-subscription.js';
import type { NatsLink } from './nats-connection.js';
import { readEvent } from './event-envelope.js';

export { EVENTS_RETENTION_MS, ensureEventsStream, eventsStreamConfig, publishEvent, streamSettingChanges } from './events-stream.js';

const NANOS_PER_MS = 1_000_000;

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
 * The event types a consumer of this release did not know: it says so once per type and process,
 * not at each delivery that brings them back (they wait for a newer release, see {@link RetryEventLaterError}).
 */
export class UnknownEventTypes {
  private readonly seen = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly message: string,
  ) {}

  /** Warns the first time `type` is met, with `details`. */
  note(type: string, details: Record<string, unknown> = {}): void {
    if (this.seen.has(type)) return;
    this.seen.add(type);
    this.logger.warn({ type, ...details }, this.message);
  }
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
  private readonly subscription: DurableSubscription;

  constructor(private readonly options: DurableConsumerOptions) {
    const { link, durableName, filterSubject, logger } = options;
    const config = {
      durable_name: durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: filterSubject,
      ack_wait: (options.ackWaitMs ?? 30_000) * NANOS_PER_MS,
      max_deliver: options.maxDeliver ?? -1,
    };
    this.subscription = new DurableSubscription({ link, config, maxMessages: 64, logger, pump: (messages) => this.loop(messages) });
  }

  /** Creates (or updates) the durable consumer and starts handling messages; a first subscription that fails fails the start. */
  start(): Promise<void> {
    return this.subscription.start();
  }

  /** Stops taking messages and waits for the one being handled. */
  async stop(): Promise<void> {
    await this.subscription.stop();
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      if (this.subscription.halted) {
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

/** Exponential backoff with jitter, from 0.5 s up to 60 s. */
export function backoffMs(attempt: number): number {
  const base = Math.min(60_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
