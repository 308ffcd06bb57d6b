import { jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { Events, EVENTS_STREAM, eventSubject, type EventEnvelope, type UserInvitedData } from '#libs/contracts/index.js';
import { dataSourceOptions, ensureEventsStream, NatsLink, publishEvent } from '#libs/platform/index.js';
import { TestDatabase } from '#libs/testing/database.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { OutboxEntity } from './outbox.entity.js';
import { OutboxRelay } from './outbox.relay.js';
import { OutboxWriter } from './outbox.writer.js';

const logger = pino({ level: 'silent' });
const database = new TestDatabase();
const nats = new TestNatsServer();
let link: NatsLink;
let published: Map<string, number>;
let watcher: Subscription;

function invitation(n: number): UserInvitedData {
  return {
    accountId: '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10',
    accountName: 'Acme',
    userId: '3f1f7b0e-2a10-4a51-9b8e-7f0c3d3e8d5c',
    email: `u${n}@example.com`,
    firstName: 'Ada',
    token: `token-${n}`,
    expiresAt: '2026-11-29T10:00:00.000Z',
    locale: 'en',
  };
}

async function streamMessages(): Promise<number> {
  const manager = await jetstreamManager(link.connection);
  return (await manager.streams.info(EVENTS_STREAM)).state.messages;
}

beforeAll(async () => {
  await Promise.all([database.create(), nats.start()]);
  link = await NatsLink.open({ url: nats.url, name: 'relay-test', logger });
  await ensureEventsStream(link);
  // A plain subscription sees every publish, also those JetStream then drops as duplicates.
  watcher = link.connection.subscribe('events.>', {
    callback: (_error, message) => {
      const id = message.headers?.get('Nats-Msg-Id') ?? '';
      published.set(id, (published.get(id) ?? 0) + 1);
    },
  });
});
beforeEach(() => {
  published = new Map();
});
afterAll(async () => {
  watcher?.unsubscribe();
  await link?.close();
  await nats.destroy();
  await database.drop();
});

// Every service that publishes events has the same outbox table, made by its own migrations.
describe.each(['identity', 'access'])('the outbox of %s', (schema) => {
  const replicas: Array<{ dataSource: DataSource; relay: OutboxRelay }> = [];

  async function write(count: number): Promise<string[]> {
    const writer = new OutboxWriter();
    await replicas[0].dataSource.transaction(async (manager) => {
      for (let n = 0; n < count; n += 1) await writer.add(manager, Events.UserInvited, null, invitation(n));
    });
    const rows = await replicas[0].dataSource.getRepository(OutboxEntity).find({ order: { createdAt: 'ASC' } });
    return rows.map((row) => row.id);
  }

  async function outboxSize(): Promise<number> {
    return replicas[0].dataSource.getRepository(OutboxEntity).count();
  }

  /** Runs a relay's passes until the outbox is empty. */
  async function drain(relay: OutboxRelay): Promise<void> {
    while ((await relay.pass()).moved > 0 || (await outboxSize()) > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  beforeAll(async () => {
    for (let replica = 0; replica < 2; replica += 1) {
      const dataSource = new DataSource(
        dataSourceOptions({ url: database.url, schema, entities: [OutboxEntity], migrations: [], poolSize: 4, applicationName: 'portico-test' }),
      );
      await dataSource.initialize();
      replicas.push({ dataSource, relay: new OutboxRelay(dataSource, link, logger) });
    }
  });
  afterAll(async () => {
    await Promise.all(replicas.map(({ relay }) => relay.onModuleDestroy()));
    await Promise.all(replicas.map(({ dataSource }) => dataSource.destroy()));
  });

  describe('the relay', () => {
    it('publishes every row exactly once with two replicas working at the same time, then deletes it', async () => {
      const ids = await write(600);
      const before = await streamMessages();
      await Promise.all(replicas.map(({ relay }) => drain(relay)));
      await link.connection.flush();
      expect(await outboxSize()).toBe(0);
      expect(ids.filter((id) => published.get(id) !== 1)).toEqual([]);
      expect(published.size).toBe(600);
      expect((await streamMessages()) - before).toBe(600);
    });

    it('publishes with the outbox id as message id, so a row published again after a crash is stored once', async () => {
      const [id] = await write(1);
      const row = await replicas[0].dataSource.getRepository(OutboxEntity).findOneByOrFail({ id });
      // The relay published, then died before its transaction deleted the row.
      await publishEvent(link, eventSubject(row.type), row.payload);
      const before = await streamMessages();
      await drain(replicas[1].relay);
      await link.connection.flush();
      expect(published.get(id)).toBe(2);
      expect(await streamMessages()).toBe(before);
      expect(await outboxSize()).toBe(0);
    });

    it('keeps the rows while NATS is down and moves them once it is back', async () => {
      await nats.stop();
      await write(5);
      const pass = await replicas[0].relay.pass();
      expect(pass).toEqual({ moved: 0, failed: 5 });
      expect(await outboxSize()).toBe(5);
      await nats.start();
      const deadline = Date.now() + 20_000;
      while ((await outboxSize()) > 0 && Date.now() < deadline) {
        await replicas[0].relay.pass().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await outboxSize()).toBe(0);
    });

    it('runs by itself once started, and a nudge moves a fresh row without waiting for the poll', async () => {
      const { relay } = replicas[0];
      relay.onApplicationBootstrap();
      const [id] = await write(1);
      relay.nudge();
      const deadline = Date.now() + 5000;
      while (!published.has(id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(published.get(id)).toBe(1);
      await relay.onModuleDestroy();
    });

    it('makes the events stream again when it was lost (a NATS that lost its store), and moves the rows into it', async () => {
      const { relay } = replicas[1];
      relay.onApplicationBootstrap();
      try {
        await (await jetstreamManager(link.connection)).streams.delete(EVENTS_STREAM);
        const [id] = await write(1);
        relay.nudge();
        await eventually('the row to be moved', async () => (await outboxSize()) === 0);
        const stored = await (await jetstreamManager(link.connection)).streams.getMessage(EVENTS_STREAM, { last_by_subj: eventSubject(Events.UserInvited) });
        expect(stored!.json<EventEnvelope>().id).toBe(id);
      } finally {
        await relay.onModuleDestroy();
      }
    });
  });

  describe('an event in the stream', () => {
    it('carries the envelope the writer made', async () => {
      const [id] = await write(1);
      await drain(replicas[0].relay);
      const manager = await jetstreamManager(link.connection);
      const stored = await manager.streams.getMessage(EVENTS_STREAM, { last_by_subj: eventSubject(Events.UserInvited) });
      const envelope = stored!.json<EventEnvelope>();
      expect(envelope).toMatchObject({ id, type: Events.UserInvited, accountId: null, data: { email: 'u0@example.com', token: 'token-0' } });
    });
  });
});
