import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Events, EVENTS_STREAM, eventSubject, IDENTITY_EVENTS, type EventEnvelope } from '#libs/contracts/index.js';
import { ensureEventsStream, NatsLink, publishEvent } from '#libs/platform/index.js';
import { consumerCaughtUp } from '#libs/testing/consumer-caught-up.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { MailRenderer } from '../mail/mail-renderer.js';
import type { MailSender } from '../mail/mailer.js';
import { TemplateCatalog } from '../mail/template-catalog.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { DeliveryProcessor, type DeliverySettings, type Outcome } from './delivery.processor.js';
import type { DeliveryStore } from './delivery.store.js';
import { MAIL_CONSUMER, MailConsumer } from './mail-consumer.js';

/** A processor whose every mail takes longer than the ack wait (a slow SMTP server); it counts the events it is given. */
class SlowProcessor {
  readonly seen: string[] = [];
  done = 0;

  constructor(private readonly takesMs: number) {}

  async process(event: EventEnvelope): Promise<Outcome> {
    this.seen.push(event.id);
    await new Promise((resolve) => setTimeout(resolve, this.takesMs));
    this.done += 1;
    return { kind: 'done' };
  }
}

/** A processor that holds the first event it is given until the test lets it go (a mail in the hands of SMTP); it handles the others at once. */
class HoldingProcessor {
  readonly seen: string[] = [];
  private letGo: () => void = () => undefined;
  private readonly held = new Promise<void>((resolve) => (this.letGo = resolve));

  async process(event: EventEnvelope): Promise<Outcome> {
    this.seen.push(event.id);
    if (this.seen.length === 1) await this.held;
    return { kind: 'done' };
  }

  release(): void {
    this.letGo();
  }
}

/** A processor whose first answers for an event ask for a retry (SMTP refused for now), then done; it counts the events it is given. */
class RetryingProcessor {
  readonly seen: string[] = [];

  constructor(private readonly retries: number) {}

  process(event: EventEnvelope): Promise<Outcome> {
    this.seen.push(event.id);
    return Promise.resolve(this.seen.length <= this.retries ? { kind: 'retry', delayMs: 300 } : { kind: 'done' });
  }
}

const logger = pino({ level: 'silent' });
/** The ack wait of the test: long enough for a loaded machine's stalls, short enough for a quick test. */
const ACK_WAIT_MS = 6000;
const nats = new TestNatsServer();
let link: NatsLink;

function invitation(): EventEnvelope {
  const accountId = randomUUID();
  return {
    id: randomUUID(),
    type: Events.UserInvited,
    occurredAt: new Date().toISOString(),
    accountId,
    data: {
      accountId,
      accountName: 'Acme',
      userId: randomUUID(),
      email: 'ada@example.com',
      firstName: 'Ada',
      token: 't',
      expiresAt: '2099-01-01T00:00:00Z',
      locale: 'en',
    },
  };
}

/** What the server says of the mail consumer. */
async function consumerInfo(): Promise<ConsumerInfo> {
  return (await jetstreamManager(link.connection)).consumers.info(EVENTS_STREAM, MAIL_CONSUMER);
}

/** Resolves once the consumer has been handed every identity event in the stream and answered each. */
function consumerIdle(): Promise<void> {
  return consumerCaughtUp(link.connection, MAIL_CONSUMER, IDENTITY_EVENTS);
}

beforeAll(async () => {
  await nats.start();
  link = await NatsLink.open({ url: nats.url, name: 'mail-consumer-test', logger });
  await ensureEventsStream(link);
});
afterAll(async () => {
  await link?.close();
  await nats.destroy();
});

describe('the mail consumer', () => {
  it('keeps a link event in the stream while its mail waits for a retry, and deletes it once the mail is done', async () => {
    const processor = new RetryingProcessor(2);
    const config = { MAIL_CONCURRENCY: 2, MAIL_ACK_WAIT_MS: ACK_WAIT_MS, SHUTDOWN_GRACE_MS: 5000 } as NotificationsConfig;
    const consumer = new MailConsumer(processor as unknown as DeliveryProcessor, link, logger, config);
    const stream = (await jetstreamManager(link.connection)).streams;
    consumer.onApplicationBootstrap();
    try {
      const event = invitation();
      const seq = await publishEvent(link, eventSubject(event.type), event);

      await eventually('a retry to be asked for', () => processor.seen.length >= 1);
      expect(await stream.getMessage(EVENTS_STREAM, { seq })).not.toBeNull();
      await eventually('the second retry', () => processor.seen.length >= 2);
      expect(await stream.getMessage(EVENTS_STREAM, { seq })).not.toBeNull();

      await eventually('the event to leave the stream once done', async () => (await stream.getMessage(EVENTS_STREAM, { seq })) === null);
      expect(processor.seen).toEqual([event.id, event.id, event.id]);
    } finally {
      await consumer.onModuleDestroy();
    }
  });

  it('keeps every event it has taken from being redelivered while it waits for a free slot, however slow SMTP is', async () => {
    // Every mail takes longer than the ack wait, and half the events wait a whole mail's time for a
    // slot (two rounds of two): each is redelivered unless reported in progress from the moment it
    // is read, and not left in the client's buffer. working() every 2 s within a 6 s ack wait
    // outlasts a stall of up to 4 s of this process.
    const processor = new SlowProcessor(ACK_WAIT_MS + 1000);
    const config = { MAIL_CONCURRENCY: 2, MAIL_ACK_WAIT_MS: ACK_WAIT_MS, SHUTDOWN_GRACE_MS: 5000 } as NotificationsConfig;
    const consumer = new MailConsumer(processor as unknown as DeliveryProcessor, link, logger, config);
    consumer.onApplicationBootstrap();
    try {
      const events = Array.from({ length: 4 }, () => invitation());
      for (const event of events) await publishEvent(link, eventSubject(event.type), event);

      await eventually('every event to be handled', () => processor.done >= events.length, 60_000);
      await consumerIdle();
      expect(processor.seen).toHaveLength(events.length);
      expect(new Set(processor.seen)).toEqual(new Set(events.map((event) => event.id)));
    } finally {
      await consumer.onModuleDestroy();
    }
  });

  it('starts no mail once a shutdown began: an event that was waiting for a slot is handed back untouched, and another replica takes it', async () => {
    const processor = new HoldingProcessor();
    const config = { MAIL_CONCURRENCY: 1, MAIL_ACK_WAIT_MS: ACK_WAIT_MS, SHUTDOWN_GRACE_MS: 60_000 } as NotificationsConfig;
    const consumer = new MailConsumer(processor as unknown as DeliveryProcessor, link, logger, config);
    consumer.onApplicationBootstrap();
    const [inHand, waiting] = [invitation(), invitation()];
    let stopped: Promise<void> | undefined;
    try {
      await publishEvent(link, eventSubject(inHand.type), inHand);
      await eventually('the first event to be in the only slot', () => processor.seen.includes(inHand.id));
      await publishEvent(link, eventSubject(waiting.type), waiting);
      // Both delivered on the connection the consumer reads: the second is in its hands, waiting for the slot.
      await eventually('the second event to wait for the slot', async () => (await consumerInfo()).num_ack_pending === 2);

      stopped = consumer.onModuleDestroy();
      processor.release();
      await stopped;
    } finally {
      processor.release();
      await (stopped ?? consumer.onModuleDestroy());
    }
    expect(processor.seen).toEqual([inHand.id]);

    const replica = new SlowProcessor(0);
    const next = new MailConsumer(replica as unknown as DeliveryProcessor, link, logger, config);
    next.onApplicationBootstrap();
    try {
      await eventually('another replica to take the event handed back', () => replica.seen.includes(waiting.id));
      await consumerIdle();
      expect(replica.seen).toEqual([waiting.id]);
    } finally {
      await next.onModuleDestroy();
    }
  });

  it('waits on shutdown for a mail in hand (with SMTP, or its sent being recorded) within the grace, then names its event in an error', async () => {
    const processor = new HoldingProcessor();
    const lines: Array<Record<string, unknown>> = [];
    const watched = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const config = { MAIL_CONCURRENCY: 1, MAIL_ACK_WAIT_MS: ACK_WAIT_MS, SHUTDOWN_GRACE_MS: 300 } as NotificationsConfig;
    const consumer = new MailConsumer(processor as unknown as DeliveryProcessor, link, watched, config);
    consumer.onApplicationBootstrap();
    const held = invitation();
    try {
      await publishEvent(link, eventSubject(held.type), held);
      await eventually('the event to be in hand', () => processor.seen.includes(held.id));
      await consumer.onModuleDestroy();
      expect(lines).toContainEqual(expect.objectContaining({ level: 50, events: [held.id] }));
    } finally {
      processor.release();
      await consumerIdle();
    }
  });

  it('makes its durable consumer again when it is deleted on the server (by hand, or with a lost stream), and mails what comes after', async () => {
    const processor = new SlowProcessor(0);
    const config = { MAIL_CONCURRENCY: 2, MAIL_ACK_WAIT_MS: ACK_WAIT_MS, SHUTDOWN_GRACE_MS: 5000 } as NotificationsConfig;
    const consumer = new MailConsumer(processor as unknown as DeliveryProcessor, link, logger, config);
    consumer.onApplicationBootstrap();
    try {
      const before = invitation();
      await publishEvent(link, eventSubject(before.type), before);
      await eventually('the first event to be handled', () => processor.seen.includes(before.id));

      await (await jetstreamManager(link.connection)).consumers.delete(EVENTS_STREAM, MAIL_CONSUMER);
      const after = invitation();
      await publishEvent(link, eventSubject(after.type), after);

      await eventually('the event published after the deletion to be handled', () => processor.seen.includes(after.id), 30_000);
    } finally {
      await consumer.onModuleDestroy();
    }
  });
});

describe('the mail consumer with many mails waiting for their retry (SMTP down)', () => {
  /** The mail consumer as earlier releases made it: at most 1000 events in hand (delivered, not yet acknowledged). */
  const OLD_CONSUMER = {
    durable_name: MAIL_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: IDENTITY_EVENTS,
    ack_wait: ACK_WAIT_MS * 1_000_000,
    max_deliver: -1,
    max_ack_pending: 1000,
  };

  /** A processor for which every event but `fresh` waits for a retry far away (their SMTP attempt failed); `fresh` is done. */
  class FailingProcessor {
    readonly seen = new Set<string>();

    constructor(private readonly fresh: string) {}

    process(event: EventEnvelope): Promise<Outcome> {
      this.seen.add(event.id);
      return Promise.resolve(event.id === this.fresh ? { kind: 'done' } : { kind: 'retry', delayMs: 3_600_000 });
    }
  }

  it('updates a durable consumer made by an earlier release to no limit of events in hand, and still mails a new event while 1000 wait for their retry', async () => {
    const manager = await jetstreamManager(link.connection);
    await manager.consumers.delete(EVENTS_STREAM, MAIL_CONSUMER).catch(() => undefined);
    await manager.streams.purge(EVENTS_STREAM);
    await manager.consumers.add(EVENTS_STREAM, OLD_CONSUMER);
    const waiting = Array.from({ length: 1000 }, () => invitation());
    const fresh = invitation();
    const processor = new FailingProcessor(fresh.id);
    const config = { MAIL_CONCURRENCY: 2, MAIL_ACK_WAIT_MS: ACK_WAIT_MS, SHUTDOWN_GRACE_MS: 5000 } as NotificationsConfig;
    const consumer = new MailConsumer(processor as unknown as DeliveryProcessor, link, logger, config);
    consumer.onApplicationBootstrap();
    try {
      for (const event of waiting) await publishEvent(link, eventSubject(event.type), event);
      await eventually('every failing mail to have had its attempt', () => processor.seen.size === waiting.length, 60_000);
      expect((await consumerInfo()).config.max_ack_pending).toBe(-1);

      await publishEvent(link, eventSubject(fresh.type), fresh);
      await eventually('the new event to be handled, past the 1000 in hand', () => processor.seen.has(fresh.id));
      await eventually('the new event to be acknowledged', async () => (await consumerInfo()).num_ack_pending === waiting.length);
    } finally {
      await consumer.onModuleDestroy();
      await manager.streams.purge(EVENTS_STREAM);
    }
  });
});

describe('the mail consumer with events a real processor makes no mail of', () => {
  /** The processor of the service (its renderer, its answers), counting the events it is given; it has no database nor SMTP to use. */
  class CountingProcessor extends DeliveryProcessor {
    readonly seen: string[] = [];

    override process(event: EventEnvelope): Promise<Outcome> {
      this.seen.push(event.id);
      return super.process(event);
    }
  }

  const untouchable = <T extends object>(what: string): T =>
    new Proxy({} as T, {
      get: (_target, name) => () => {
        throw new Error(`the ${what} was used (${String(name)})`);
      },
    });

  function processor(): CountingProcessor {
    const settings: DeliverySettings = {
      retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 },
      leaseMs: ACK_WAIT_MS,
      sendDeadlineMs: 20_000,
      limits: { perRecipient: 0, noticesPerRecipient: 0, perAccount: 0, windowMinutes: 60, maxWaitMinutes: 60 },
      smtpConcurrency: 1,
    };
    const renderer = new MailRenderer({ productName: 'Portico', publicWebUrl: 'http://panel.test' }, TemplateCatalog.builtIn());
    return new CountingProcessor(untouchable<DeliveryStore>('store'), untouchable<MailSender>('SMTP sender'), renderer, settings, logger);
  }

  const accountCreated = (): EventEnvelope => {
    const accountId = randomUUID();
    return {
      id: randomUUID(),
      type: Events.AccountCreated,
      occurredAt: new Date().toISOString(),
      accountId,
      data: { accountId, slug: 'acme', ownerUserId: randomUUID() },
    };
  };

  it('acknowledges at once an event known to make no mail, and keeps one of a type it does not know, not delivered again before its minute', async () => {
    const counting = processor();
    const config = { MAIL_CONCURRENCY: 2, MAIL_ACK_WAIT_MS: ACK_WAIT_MS, SHUTDOWN_GRACE_MS: 5000 } as NotificationsConfig;
    const consumer = new MailConsumer(counting, link, logger, config);
    const manager = await jetstreamManager(link.connection);
    consumer.onApplicationBootstrap();
    try {
      const known = accountCreated();
      await publishEvent(link, eventSubject(known.type), known);
      await eventually('the event known to make no mail to be handled', () => counting.seen.includes(known.id));
      await consumerIdle();

      // A type a newer identity publishes, on a subject the consumer reads.
      const unknown = { ...accountCreated(), type: 'identity.account.something-new' } as unknown as EventEnvelope;
      const seq = await publishEvent(link, 'events.identity.account.something-new', unknown);
      await eventually('the unknown event to be handled once', () => counting.seen.includes(unknown.id));
      // The consumer's backoff would have it back within a second or two (0.5, 1, 2 s...): its nak delay keeps it away a minute.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(counting.seen.filter((id) => id === unknown.id)).toHaveLength(1);
      const info = await consumerInfo();
      expect(info.num_ack_pending).toBe(1);
      expect(info.num_redelivered).toBe(0);
      expect(await manager.streams.getMessage(EVENTS_STREAM, { seq })).not.toBeNull();
    } finally {
      await consumer.onModuleDestroy();
      // Its redelivery in a minute is for nobody here.
      await manager.streams.purge(EVENTS_STREAM);
    }
  });
});
