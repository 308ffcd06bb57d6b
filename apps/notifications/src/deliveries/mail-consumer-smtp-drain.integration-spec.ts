import { jetstream } from '@nats-io/jetstream';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { EVENTS_STREAM, eventSubject, type EventEnvelope } from '#libs/contracts/index.js';
import { ensureEventsStream, NatsLink, publishEvent, startDrain } from '#libs/platform/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { MailRenderer } from '../mail/mail-renderer.js';
import { Mailer } from '../mail/mailer.js';
import { TemplateCatalog } from '../mail/template-catalog.js';
import { loadNotificationsConfig, type NotificationsConfig } from '../notifications.config.js';
import { notificationsDatabase } from '../notifications.database.js';
import { deliverySettings } from '../notifications.module.js';
import { DeliveryProcessor } from './delivery.processor.js';
import { PostgresDeliveryStore } from './delivery.store.js';
import { passwordChangedEvent } from './events-harness-spec.js';
import { MAIL_CONSUMER, MailConsumer } from './mail-consumer.js';

// A file of its own: the drain clock is the process's, and once started it stays started.

/** An SMTP server that takes each mail's data and answers it only once the test lets it (a slow server); it counts what it began and accepted. */
class SlowSmtpServer {
  /** Recipients of the mails whose data it has begun to read. */
  readonly begun: string[] = [];
  /** Recipients of the mails it accepted (answered 250 to their data). */
  readonly accepted: string[] = [];
  private letGo: () => void = () => undefined;
  private readonly released = new Promise<void>((resolve) => (this.letGo = resolve));
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    onData: (stream, session, callback) => {
      const to = session.envelope.rcptTo.map((recipient) => recipient.address).join(',');
      this.begun.push(to);
      stream.resume();
      stream.on('end', () => {
        void this.released.then(() => {
          this.accepted.push(to);
          callback();
        });
      });
    },
  });

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.server.address() as AddressInfo).port;
  }

  /** From now on every mail's data is answered, those waiting included. */
  release(): void {
    this.letGo();
  }

  stop(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const logger = pino({ level: 'silent' });
const nats = new TestNatsServer();
const database = new TestDatabase();
const smtp = new SlowSmtpServer();
let link: NatsLink;
let dataSource: DataSource;
let config: NotificationsConfig;

/** Status of each mail recorded, by recipient. */
async function recorded(): Promise<Record<string, string>> {
  const rows = await dataSource.query<Array<{ recipient: string; status: string }>>('SELECT recipient, status FROM deliveries');
  return Object.fromEntries(rows.map((row) => [row.recipient, row.status]));
}

beforeAll(async () => {
  await Promise.all([nats.start(), database.create()]);
  const port = await smtp.start();
  // One SMTP connection for four mails at once: three of them wait inside the processor for it.
  config = loadNotificationsConfig({
    DATABASE_URL: database.url,
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    SMTP_POOL_SIZE: '1',
    MAIL_CONCURRENCY: '4',
    MAIL_ACK_WAIT_MS: '6000',
    SHUTDOWN_GRACE_MS: '30000',
    MAIL_RATE_PER_RECIPIENT: '0',
    MAIL_RATE_NOTICES_PER_RECIPIENT: '0',
    MAIL_RATE_PER_ACCOUNT: '0',
  });
  link = await NatsLink.open({ url: nats.url, name: 'mail-consumer-smtp-drain-test', logger });
  await ensureEventsStream(link);
  dataSource = new DataSource(dataSourceOptions(notificationsDatabase(config)));
  await dataSource.initialize();
});
afterAll(async () => {
  await link?.close();
  await dataSource?.destroy();
  await smtp.stop();
  await Promise.all([nats.destroy(), database.drop()]);
});

describe('the mail consumer and its processor when a shutdown begins', () => {
  it('claim and send no mail that was still waiting for an SMTP connection at the signal: its event is handed back untouched for another replica', async () => {
    const mailer = new Mailer(config);
    const renderer = new MailRenderer({ productName: config.PRODUCT_NAME, publicWebUrl: config.PUBLIC_WEB_URL }, TemplateCatalog.builtIn());
    const processor = new DeliveryProcessor(new PostgresDeliveryStore(dataSource), mailer, renderer, deliverySettings(config), logger);
    const consumer = new MailConsumer(processor, link, logger, config);
    const [sending, ...waiting] = ['first@example.com', 'second@example.com', 'third@example.com'].map((email) => passwordChangedEvent(email));
    consumer.onApplicationBootstrap();
    let stopped: Promise<void> | undefined;
    try {
      await publishEvent(link, eventSubject(sending.type), sending);
      await eventually('the first mail to be with SMTP', () => smtp.begun.length === 1);
      for (const event of waiting) await publishEvent(link, eventSubject(event.type), event);
      // Both in a consumer slot (of four), waiting in the processor for the one SMTP connection: read, not claimed.
      await eventually('the other two events to be taken and wait for the SMTP connection', async () => {
        const info = await jetstream(link.connection)
          .consumers.get(EVENTS_STREAM, MAIL_CONSUMER)
          .then((consumer) => consumer.info());
        return info.num_ack_pending === 3 && info.num_pending === 0;
      });
      expect(await recorded()).toEqual({ 'first@example.com': 'sending' });

      startDrain(config.SHUTDOWN_GRACE_MS);
      stopped = consumer.onModuleDestroy();
      smtp.release();
      await stopped;
    } finally {
      smtp.release();
      await (stopped ?? consumer.onModuleDestroy());
      mailer.onModuleDestroy();
    }

    // The mail in SMTP's hands at the signal finished; the two waiting were neither claimed nor sent.
    expect(smtp.accepted).toEqual(['first@example.com']);
    expect(smtp.begun).toEqual(['first@example.com']);
    expect(await recorded()).toEqual({ 'first@example.com': 'sent' });

    // Handed back, not acknowledged: another replica reading the consumer gets them (at once, or
    // after the ack wait if the server first gave one to the stopped reader's pull still open there).
    const reader = await jetstream(link.connection).consumers.get(EVENTS_STREAM, MAIL_CONSUMER);
    const handedBack = new Set<string>();
    await eventually(
      'another replica to get both events handed back',
      async () => {
        for await (const message of await reader.fetch({ max_messages: 10, expires: 1000 })) {
          handedBack.add(message.json<EventEnvelope>().id);
          message.ack();
        }
        return handedBack.size >= waiting.length;
      },
      20_000,
    );
    expect(handedBack).toEqual(new Set(waiting.map((event) => event.id)));
  });
});
