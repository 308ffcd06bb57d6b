import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type EventEnvelope } from '#libs/contracts/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { settlesWithin } from './clock.js';
import { DurableSubscription } from './durable-subscription.js';
import { DurableConsumer, ensureEventsStream, PermanentEventError, RetryEventLaterError, type EventHandler } from './jetstream.js';
import { NatsLink } from './nats-connection.js';

const nats = new TestNatsServer();
const lines: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
let link: NatsLink;
const started: DurableConsumer[] = [];

/** An event envelope of the test's subject. */
function event(): EventEnvelope {
  return { id: randomUUID(), type: 'platform-test.thing', occurredAt: new Date().toISOString(), accountId: null, data: {} } as unknown as EventEnvelope;
}

/** The subject of one test's events (its consumer's only). */
const subjectOf = (durableName: string) => `${EVENTS_SUBJECT_PREFIX}platform-test.${durableName}`;

/** Publishes `body` as it is (no envelope checked), under a message id of its own. */
async function publishRaw(durableName: string, body: string): Promise<void> {
  await jetstream(link.connection).publish(subjectOf(durableName), body, { msgID: randomUUID() });
}

/** A durable consumer of the test's subject, started, under a name of its own (each test its own). */
async function startConsumer(durableName: string, handle: EventHandler): Promise<DurableConsumer> {
  const consumer = new DurableConsumer({ link, durableName, filterSubject: subjectOf(durableName), logger, handle });
  started.push(consumer);
  await consumer.start();
  return consumer;
}

async function consumerInfo(durableName: string) {
  return (await jetstreamManager(link.connection)).consumers.info(EVENTS_STREAM, durableName);
}

const logged = (msg: string) => lines.filter((line) => line.msg === msg);

beforeAll(async () => {
  await nats.start();
  link = await NatsLink.open({ url: nats.url, name: 'durable-consumer-test', logger: pino({ level: 'silent' }) });
  await ensureEventsStream(link);
});
afterAll(async () => {
  await Promise.all(started.map((consumer) => consumer.stop()));
  await link?.close();
  await nats.destroy();
});
beforeEach(() => {
  lines.length = 0;
});

describe('a durable consumer', () => {
  it('drops what is not an event, and what its handler says can never be handled, and goes on with the next event', async () => {
    const refused = event();
    const good = event();
    for (const body of ['null', '[]', '42', '{', JSON.stringify({ ...event(), id: undefined }), JSON.stringify({ ...event(), type: 7 })])
      await publishRaw('drops', body);
    await publishRaw('drops', JSON.stringify(refused));
    await publishRaw('drops', JSON.stringify(good));
    const handled: string[] = [];
    await startConsumer('drops', ({ id }) => {
      handled.push(id);
      return id === refused.id ? Promise.reject(new PermanentEventError('the thing names nothing')) : Promise.resolve();
    });

    await eventually('the good event to be handled', () => handled.includes(good.id));
    await eventually('nothing left pending', async () => {
      const info = await consumerInfo('drops');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    expect(handled).toEqual([refused.id, good.id]);
    expect((await consumerInfo('drops')).num_redelivered).toBe(0);
    expect(logged('Unreadable event dropped: not an event envelope')).toHaveLength(6);
    expect(logged('Event can never be handled; dropped')).toEqual([expect.objectContaining({ level: 50, eventId: refused.id })]);
  });

  it('delivers again an event its handler failed on, or deferred', async () => {
    const failing = event();
    const deferred = event();
    await publishRaw('retries', JSON.stringify(failing));
    await publishRaw('retries', JSON.stringify(deferred));
    const deliveries: Array<[string, number]> = [];
    await startConsumer('retries', ({ id }, message) => {
      deliveries.push([id, message.info.deliveryCount]);
      if (message.info.deliveryCount > 1) return Promise.resolve();
      return Promise.reject(id === failing.id ? new Error('database away') : new RetryEventLaterError('not yet', 100));
    });

    await eventually('both events handled on their second delivery', () => deliveries.length === 4);
    expect(deliveries).toEqual(
      expect.arrayContaining([
        [failing.id, 2],
        [deferred.id, 2],
      ]),
    );
    expect(logged('Event handling failed; it will be delivered again')).toEqual([expect.objectContaining({ level: 40, eventId: failing.id })]);
    expect(logged('Event deferred')).toEqual([expect.objectContaining({ level: 20, eventId: deferred.id, retryInMs: 100 })]);
  });

  it('subscribes again when its subscription ends while its service runs, and handles the events published meanwhile', async () => {
    const handled: string[] = [];
    const consumer = await startConsumer('ends', ({ id }) => Promise.resolve(void handled.push(id)));
    // What a lost subscription does: the messages end without stop() having been called.
    await (consumer as unknown as { subscription: DurableSubscription }).subscription.current!.close();
    const meanwhile = event();
    await publishRaw('ends', JSON.stringify(meanwhile));

    await eventually('the event published meanwhile to be handled', () => handled.includes(meanwhile.id));
    expect(logged('Event consumer stopped receiving events; subscribing again')).toEqual([expect.objectContaining({ level: 40, durableName: 'ends' })]);
  });

  it('makes its durable consumer again when it is deleted on the server (by hand, or with a lost stream), and goes on', async () => {
    const handled: string[] = [];
    await startConsumer('deleted', ({ id }) => Promise.resolve(void handled.push(id)));
    const before = event();
    await publishRaw('deleted', JSON.stringify(before));
    await eventually('the first event to be handled', () => handled.includes(before.id));

    await (await jetstreamManager(link.connection)).consumers.delete(EVENTS_STREAM, 'deleted');
    const after = event();
    await publishRaw('deleted', JSON.stringify(after));

    await eventually('the event published after the deletion to be handled', () => handled.includes(after.id));
    expect((await consumerInfo('deleted')).config.durable_name).toBe('deleted');
    expect(logged('Event consumer failed; subscribing again')).toEqual([expect.objectContaining({ level: 40, durableName: 'deleted' })]);
  });

  it('says nothing when it is stopped', async () => {
    const stopped = await startConsumer('stops', () => Promise.resolve());
    await stopped.stop();
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([]);
  });
});

describe('a durable subscription', () => {
  it('that cannot subscribe says so and tries again after a pause, and stops at once during that pause (not when it ends)', async () => {
    // A filter outside the stream's subjects: JetStream refuses to make the consumer, every time.
    const config = { durable_name: 'never', filter_subject: 'elsewhere.thing', ack_policy: AckPolicy.Explicit };
    const subscription = new DurableSubscription({ link, config, maxMessages: 1, logger, pump: () => Promise.resolve() });
    subscription.startInBackground();
    await eventually('the failure to be logged', () => logged('Event consumer could not subscribe; trying again').length === 1);

    // Now in a pause of 2 s before the next try: a stop that waited for it to end would not settle within 1 s.
    expect(await settlesWithin(subscription.stop(), 1000)).toBe(true);
    expect(logged('Event consumer could not subscribe; trying again')).toHaveLength(1);
  });
});
