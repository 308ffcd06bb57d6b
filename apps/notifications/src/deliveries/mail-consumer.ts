import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { IDENTITY_EVENTS, DurableConsumers, type EventEnvelope } from '#libs/contracts/index.js';
import {
  backoffMs,
  CONFIG,
  drainTimeLeft,
  DurableSubscription,
  LOGGER,
  NATS_LINK,
  onDrainStart,
  readEvent,
  settlesWithin,
  Slots,
  type NatsLink,
} from '#libs/platform/index.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { DeliveryProcessor, type Outcome } from './delivery.processor.js';
import { LinkEventEraser } from './link-event-eraser.js';

/** The durable consumer's name (kept from the foundation, so its position in the stream is kept too). */
export const MAIL_CONSUMER = DurableConsumers.Mail;

const NANOS_PER_MS = 1_000_000;

/**
 * Reads identity's events from JetStream with a durable pull consumer and explicit acks, several
 * at once (MAIL_CONCURRENCY). Each event is acknowledged only once its mail reached a final
 * state; otherwise it is negatively acknowledged with the delay its retry schedule asks for, so
 * JetStream itself keeps the pending retries across restarts. From the moment an event is read
 * until it is answered (waiting for a free slot, then while its mail is being sent) the consumer
 * tells JetStream it is still working, so a slow SMTP server does not cause a redelivery to
 * another replica; and it pulls one event at a time, so none waits in a buffer unreported. On
 * shutdown it stops pulling and lets the mails in hand finish. An event done with that carries a
 * plain link token is then deleted from the stream ({@link LinkEventEraser}).
 */
@Injectable()
export class MailConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly subscription: DurableSubscription;
  /** The events being handled, by the task handling each: the event's id (or its sequence, unreadable). */
  private readonly inHand = new Map<Promise<void>, string>();
  private stopListening: (() => void) | undefined;
  private readonly slots: Slots;
  private readonly linkEvents: LinkEventEraser;
  /** Aborted when the consumer stops taking mail: the processor then claims no mail still waiting for an SMTP connection. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly processor: DeliveryProcessor,
    @Inject(NATS_LINK) link: NatsLink,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: NotificationsConfig,
  ) {
    this.slots = new Slots(config.MAIL_CONCURRENCY);
    this.linkEvents = new LinkEventEraser(link, logger);
    // One event requested at a time, the next only once the pump has read this one: an event
    // buffered in the client would get no working() and be redelivered after the ack wait.
    this.subscription = new DurableSubscription({ link, config: this.consumerConfig(), maxMessages: 1, logger, pump: (messages) => this.pump(messages) });
  }

  onApplicationBootstrap(): void {
    this.subscription.startInBackground();
    // Stops taking mail the moment a shutdown begins, not only once the requests in flight have drained.
    this.stopListening = onDrainStart(() => void this.stopPulling());
  }

  /**
   * Stops pulling, then waits for the mails in hand (their outcome recorded and acknowledged), at
   * most what is left of SHUTDOWN_GRACE_MS since the signal (shared with the requests in flight,
   * see drainTimeLeft). This includes a mail the SMTP server accepted whose `sent` the processor is
   * still trying to record (the database away). A mail still in hand after that is left to its
   * lease and may be sent again (see docs): an error names its event.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopListening?.();
    this.stopping.abort();
    await this.subscription.stop();
    await settlesWithin(Promise.allSettled([...this.inHand.keys()]), drainTimeLeft(this.config.SHUTDOWN_GRACE_MS));
    if (this.inHand.size > 0)
      this.logger.error(
        { events: [...this.inHand.values()] },
        'Stopped with mails in hand (with SMTP, or accepted by it and not recorded sent): they may be sent again once their lease ends',
      );
  }

  private async stopPulling(): Promise<void> {
    this.stopping.abort();
    await this.subscription.halt();
  }

  /**
   * The consumer's configuration: explicit acks, unlimited deliveries (the delivery record counts
   * attempts), and no limit of events in hand (`max_ack_pending` -1). JetStream counts an event
   * waiting for its retry (`nak` with a delay) as in hand until it comes back, so any limit would
   * stop every new mail, of every account, once that many wait (SMTP down), until retries came due.
   * The replica bounds its own work: it pulls one event at a time and handles MAIL_CONCURRENCY at
   * once. Applied to an existing consumer too when the subscription starts (created, else updated).
   */
  consumerConfig(): Partial<ConsumerConfig> & { durable_name: string } {
    return {
      durable_name: MAIL_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: IDENTITY_EVENTS,
      ack_wait: this.config.MAIL_ACK_WAIT_MS * NANOS_PER_MS,
      max_deliver: -1,
      max_ack_pending: -1,
    };
  }

  /**
   * Hands each event to a free slot, reporting it in progress from the moment it is read. An event
   * read once a shutdown began is handed back at once (nak, no delay) for another replica, also one
   * that was waiting for a slot when the shutdown began, and one in a slot whose mail was still
   * waiting for an SMTP connection (the processor sees `stopping`): no new SMTP send starts during the drain.
   */
  private async pump(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      if (this.subscription.halted) {
        message.nak();
        continue;
      }
      const progress = this.reportProgress(message);
      await this.slots.take();
      if (this.subscription.halted) this.handBack(message, progress);
      else this.handInSlot(message, progress);
    }
  }

  /** Handles the event in the slot just taken, which it gives back once answered. */
  private handInSlot(message: JsMsg, progress: NodeJS.Timeout): void {
    const event = readEvent(message);
    const task: Promise<void> = this.handle(message, event).finally(() => {
      clearInterval(progress);
      this.inHand.delete(task);
      this.slots.give();
    });
    this.inHand.set(task, event?.id ?? `seq ${message.seq}`);
  }

  /** Gives back the slot just taken and the event, untouched, to be delivered again at once. */
  private handBack(message: JsMsg, progress: NodeJS.Timeout): void {
    clearInterval(progress);
    this.slots.give();
    message.nak();
  }

  /** Tells JetStream every third of the ack wait, until the interval is cleared, that the event is still in hand. */
  private reportProgress(message: JsMsg): NodeJS.Timeout {
    return setInterval(() => message.working(), Math.max(500, this.config.MAIL_ACK_WAIT_MS / 3));
  }

  private async handle(message: JsMsg, event: EventEnvelope | null): Promise<void> {
    if (!event) {
      this.logger.error({ subject: message.subject, seq: message.seq }, 'Unreadable event dropped');
      message.term(); // without a reason: NATS 2.9 does not read `+TERM <reason>` as a termination
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await this.processor.process(event, this.stopping.signal);
    } catch (error) {
      const delayMs = backoffMs(message.info.deliveryCount);
      this.logger.warn({ err: error, eventId: event.id, type: event.type, retryInMs: delayMs }, 'Event handling failed; it will be delivered again');
      outcome = { kind: 'retry', delayMs };
    }
    if (outcome.kind === 'retry') {
      message.nak(outcome.delayMs);
      return;
    }
    message.ack();
    // After the ack, never instead of it: a delete that fails leaves the event to expire, and never brings it back.
    await this.linkEvents.eraseIfCarryingToken(message.seq, event);
  }
}
