import { jetstream, jetstreamManager, type ConsumerConfig, type ConsumerMessages } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { EVENTS_STREAM } from '#libs/contracts/index.js';
import { WakeablePause } from './clock.js';
import { ensureEventsStream } from './events-stream.js';
import type { NatsLink } from './nats-connection.js';

/** Pause after a lost subscription, doubled after each one that fails again, up to {@link MAX_PAUSE_MS}. */
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 30_000;
/** A subscription that lasted this long was a good one: the next loss starts the pauses over. */
const HEALTHY_AFTER_MS = 60_000;

/** Options of a {@link DurableSubscription}. */
export interface DurableSubscriptionOptions {
  link: NatsLink;
  /** The durable consumer, created if missing and updated to this configuration otherwise. */
  config: Partial<ConsumerConfig> & { durable_name: string };
  /** How many messages the client asks for at once. */
  maxMessages: number;
  logger: Logger;
  /** Reads one subscription until it ends (the service's own handling of each message). */
  pump(messages: ConsumerMessages): Promise<void>;
}

/**
 * One durable JetStream consumer read until its service stops it. Should the subscription end or
 * fail while the service runs (the consumer deleted, the stream lost and made again, the
 * connection replaced), it says so and subscribes again after a pause (1 s, doubling up to 30 s
 * while it keeps failing), for as long as it takes. A consumer deleted under it ends the reading
 * (`abort_on_missing_resource`) instead of waiting in vain for it to reappear: the subscription
 * makes it again, reading from the consumer's position, or from the stream's start if the
 * consumer had to be made anew. Stopping is prompt: a pause is cut short, a subscription under
 * way is closed as soon as it exists.
 */
export class DurableSubscription {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly pausing = new WakeablePause();

  constructor(private readonly options: DurableSubscriptionOptions) {}

  /** Subscribes, failing if that fails (a service does not start without its consumer), then keeps reading. */
  async start(): Promise<void> {
    const first = await this.subscribe();
    this.running = this.keepReading(first);
  }

  /** Starts reading in the background; a first subscription that fails is retried like any other. */
  startInBackground(): void {
    this.running = this.keepReading(undefined);
  }

  /** Stops taking messages now (the subscription closed, a pause cut short), without waiting for the loop. */
  async halt(): Promise<void> {
    this.stopped = true;
    this.pausing.wake();
    await this.messages?.close().catch(() => undefined);
  }

  /** Stops taking messages and waits until the loop has ended (the message being pumped included). */
  async stop(): Promise<void> {
    await this.halt();
    await this.running;
  }

  /** True once halted or stopped: a message still in the pump is handed back (nak) rather than handled. */
  get halted(): boolean {
    return this.stopped;
  }

  /** The subscription being read, if any (for tests that cut it). */
  get current(): ConsumerMessages | undefined {
    return this.messages;
  }

  private async keepReading(first: ConsumerMessages | undefined): Promise<void> {
    let messages = first;
    let failures = 0;
    for (let attempt = 0; !this.stopped; attempt++) {
      if (!messages) {
        if (attempt > 0) await this.pause(Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** failures));
        messages = await this.subscribe().catch((error: unknown) => this.subscribeFailed(error));
        if (!messages) {
          failures++;
          continue;
        }
      }
      const began = Date.now();
      await this.readUntilEnd(messages);
      const healthy = messages.getReceived() > 0 || Date.now() - began >= HEALTHY_AFTER_MS;
      failures = healthy ? 0 : failures + 1;
      messages = undefined;
    }
  }

  /** Creates or updates the durable consumer and subscribes; undefined once stopped. */
  private async subscribe(): Promise<ConsumerMessages | undefined> {
    const { link, config, maxMessages } = this.options;
    await ensureEventsStream(link);
    if (this.stopped) return undefined;
    const manager = await jetstreamManager(link.connection);
    await manager.consumers.add(EVENTS_STREAM, config).catch(() => manager.consumers.update(EVENTS_STREAM, config.durable_name, config));
    if (this.stopped) return undefined;
    const consumer = await jetstream(link.connection).consumers.get(EVENTS_STREAM, config.durable_name);
    this.messages = await consumer.consume({ max_messages: maxMessages, abort_on_missing_resource: true });
    // Stopped meanwhile: halt() found nothing to close.
    if (this.stopped) await this.messages.close().catch(() => undefined);
    return this.stopped ? undefined : this.messages;
  }

  private subscribeFailed(error: unknown): undefined {
    if (!this.stopped)
      this.options.logger.warn({ err: error, durableName: this.options.config.durable_name }, 'Event consumer could not subscribe; trying again');
    return undefined;
  }

  /** Pumps one subscription until it ends, saying so if it ends while the service runs; always closes it. */
  private async readUntilEnd(messages: ConsumerMessages): Promise<void> {
    const durableName = this.options.config.durable_name;
    try {
      await this.options.pump(messages);
      if (!this.stopped) this.options.logger.warn({ durableName }, 'Event consumer stopped receiving events; subscribing again');
    } catch (error) {
      if (!this.stopped) this.options.logger.warn({ err: error, durableName }, 'Event consumer failed; subscribing again');
    } finally {
      await messages.close().catch(() => undefined);
    }
  }

  /** Waits `ms`, or less if halted meanwhile. */
  private pause(ms: number): Promise<void> {
    return this.stopped ? Promise.resolve() : this.pausing.wait(ms);
  }
}
