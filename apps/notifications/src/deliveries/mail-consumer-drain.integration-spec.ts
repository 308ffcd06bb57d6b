import { jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { EVENTS_STREAM, eventSubject, type EventEnvelope } from '#libs/contracts/index.js';
import { ensureEventsStream, NatsLink, publishEvent, startDrain } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import type { NotificationsConfig } from '../notifications.config.js';
import type { DeliveryProcessor, Outcome } from './delivery.processor.js';
import { passwordChangedEvent } from './events-harness-spec.js';
import { MAIL_CONSUMER, MailConsumer } from './mail-consumer.js';

// A file of its own: the drain clock is the process's, and once started it stays started.

const logger = pino({ level: 'silent' });
const nats = new TestNatsServer();
let link: NatsLink;

beforeAll(async () => {
  await nats.start();
  link = await NatsLink.open({ url: nats.url, name: 'mail-consumer-drain-test', logger });
  await ensureEventsStream(link);
});
afterAll(async () => {
  await link?.close();
  await nats.destroy();
});

describe('the mail consumer when a shutdown begins', () => {
  it('stops taking events at the signal, before its module is destroyed: a new event waits in the stream for another replica', async () => {
    const seen: string[] = [];
    const processor = { process: (taken: EventEnvelope): Promise<Outcome> => (seen.push(taken.id), Promise.resolve({ kind: 'done' })) };
    const config = { MAIL_CONCURRENCY: 2, MAIL_ACK_WAIT_MS: 6000, SHUTDOWN_GRACE_MS: 5000 } as NotificationsConfig;
    const consumer = new MailConsumer(processor as unknown as DeliveryProcessor, link, logger, config);
    consumer.onApplicationBootstrap();
    const manager = await jetstreamManager(link.connection);
    try {
      const first = passwordChangedEvent();
      await publishEvent(link, eventSubject(first.type), first);
      await eventually('the first event to be taken', () => seen.length === 1);

      startDrain(5000);
      const second = passwordChangedEvent();
      await publishEvent(link, eventSubject(second.type), second);
      await eventually('the second event to be in the stream', async () => (await manager.consumers.info(EVENTS_STREAM, MAIL_CONSUMER)).num_pending === 1);
      // Long enough for a consumer still pulling to take it: it asks for the next event as soon as it has read one.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(seen).toEqual([first.id]);
      expect((await manager.consumers.info(EVENTS_STREAM, MAIL_CONSUMER)).num_pending).toBe(1);
    } finally {
      await consumer.onModuleDestroy();
    }
  });
});
