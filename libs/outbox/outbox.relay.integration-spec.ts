import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { pino } from 'pino';
import { DataSource, IsNull, Not } from 'typeorm';
import {
  Events,
  EVENTS_STREAM,
  EVENTS_SUBJECT_PREFIX,
  eventSubject,
  type EventDataMap,
  type EventEnvelope,
  type UserInvitedData,
} from '#libs/contracts/index.js';
import { ensureEventsStream, NatsLink, publishEvent } from '#libs/platform/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { processMetrics } from '#libs/platform/metrics.js';
import { OutboxEntity } from './outbox.entity.js';
import { readOutboxOnScrape } from './outbox-metrics.js';
import { OUTBOX_BATCH, OutboxRelay } from './outbox.relay.js';
import { classifyPublishFailure, OUTBOX_MAX_ATTEMPTS } from './publish-failure.js';
import { OutboxWriter } from './outbox.writer.js';

const logger = pino({ level: 'silent' });
const database = new TestDatabase();
const nats = new TestNatsServer();
let link: NatsLink;
let published: Map<string, number>;
let watcher: Subscription;

function invitation(n: number, firstName: string): UserInvitedData {
  return {
    accountId: '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10',
    accountName: 'Acme',
    userId: '3f1f7b0e-2a10-4a51-9b8e-7f0c3d3e8d5c',
    email: `u${n}@example.com`,
    firstName,
    token: `token-${n}`,
    expiresAt: '2026-11-29T10:00:00.000Z',
    locale: 'en',
  };
}

/** What the relay recorded on an outbox row. */
async function outboxRow(dataSource: DataSource, id: string): Promise<Pick<OutboxEntity, 'attempts' | 'lastError' | 'setAsideAt'>> {
  const { attempts, lastError, setAsideAt } = await dataSource.getRepository(OutboxEntity).findOneByOrFail({ id });
  return { attempts, lastError, setAsideAt };
}

/** Writes one event to the outbox in a transaction of its own; answers its row's id. */
async function writeOne<T extends typeof Events.UserInvited | typeof Events.LinksVoided>(
  dataSource: DataSource,
  type: T,
  data: EventDataMap[T],
): Promise<string> {
  await dataSource.transaction((manager) => new OutboxWriter().add(manager, type, null, data));
  const [row] = await dataSource.getRepository(OutboxEntity).find({ where: { type }, order: { createdAt: 'DESC' }, take: 1 });
  return row.id;
}

/** A relay of identity's outbox (emptied first) over `natsLink`, logging errors into `logged`. */
async function relayOfEmptyOutbox(natsLink: NatsLink, logged: Array<Record<string, unknown>>): Promise<{ dataSource: DataSource; relay: OutboxRelay }> {
  const dataSource = new DataSource(
    dataSourceOptions({ url: database.url, schema: 'identity', entities: [OutboxEntity], migrations: [], poolSize: 2, applicationName: 'portico-test' }),
  );
  await dataSource.initialize();
  await dataSource.getRepository(OutboxEntity).clear();
  const relay = new OutboxRelay(
    dataSource,
    natsLink,
    pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) }),
  );
  return { dataSource, relay };
}

/**
 * Runs passes that each publish one fresh invitation beside the `failing` row, until the row has
 * been counted {@link OUTBOX_MAX_ATTEMPTS} times: nothing set aside or logged before the last,
 * its `last_error` matching `error`; then set aside, logged once at error level, and never taken again.
 */
async function countedUntilSetAside(
  dataSource: DataSource,
  relay: OutboxRelay,
  logged: Array<Record<string, unknown>>,
  failing: string,
  error: RegExp,
): Promise<void> {
  for (let attempt = 1; attempt < OUTBOX_MAX_ATTEMPTS; attempt += 1) {
    await writeOne(dataSource, Events.UserInvited, invitation(attempt, 'Ada'));
    expect(await relay.pass()).toEqual({ moved: 1, failed: 1, setAside: 0 });
  }
  expect(await outboxRow(dataSource, failing)).toMatchObject({ attempts: OUTBOX_MAX_ATTEMPTS - 1, lastError: expect.stringMatching(error), setAsideAt: null });
  expect(logged).toEqual([]);
  await writeOne(dataSource, Events.UserInvited, invitation(0, 'Ada'));
  expect(await relay.pass()).toEqual({ moved: 1, failed: 0, setAside: 1 });
  expect(await outboxRow(dataSource, failing)).toMatchObject({ attempts: OUTBOX_MAX_ATTEMPTS, setAsideAt: expect.any(Date) });
  expect(logged).toEqual([expect.objectContaining({ level: 50, outboxId: failing, type: Events.LinksVoided, attempts: OUTBOX_MAX_ATTEMPTS })]);
  expect(await relay.pass()).toEqual({ moved: 0, failed: 0, setAside: 0 });
}

async function streamMessages(): Promise<number> {
  const manager = await jetstreamManager(link.connection);
  return (await manager.streams.info(EVENTS_STREAM)).state.messages;
}

beforeAll(async () => {
  await Promise.all([database.create(), nats.start()]);
  link = await NatsLink.open({ url: nats.url, name: 'relay-test', logger });
  await ensureEventsStream(link);
  watcher = watchPublishes();
});

/** A plain subscription that sees every publish, also those JetStream then drops as duplicates (counted in `published`). */
function watchPublishes(): Subscription {
  return link.connection.subscribe('events.>', {
    callback: (_error, message) => {
      const id = message.headers?.get('Nats-Msg-Id') ?? '';
      published.set(id, (published.get(id) ?? 0) + 1);
    },
  });
}
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

  /** Writes `count` invitations in one transaction; answers their ids. */
  async function write(count: number, firstName = 'Ada'): Promise<string[]> {
    const writer = new OutboxWriter();
    const repository = replicas[0].dataSource.getRepository(OutboxEntity);
    const before = new Set((await repository.find()).map((row) => row.id));
    await replicas[0].dataSource.transaction(async (manager) => {
      for (let n = 0; n < count; n += 1) await writer.add(manager, Events.UserInvited, null, invitation(n, firstName));
    });
    const rows = await repository.find({ order: { createdAt: 'ASC' } });
    return rows.map((row) => row.id).filter((id) => !before.has(id));
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
      expect(pass).toEqual({ moved: 0, failed: 5, setAside: 0 });
      expect(await outboxSize()).toBe(5);
      // An outage is nobody's row's fault: nothing counted, nothing set aside, every row keeps its place.
      const kept = await replicas[0].dataSource.getRepository(OutboxEntity).find();
      expect(kept.map(({ attempts, lastError, setAsideAt }) => ({ attempts, lastError, setAsideAt }))).toEqual(
        Array(5).fill({ attempts: 0, lastError: null, setAsideAt: null }),
      );
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

  describe('a row the stream refuses for good', () => {
    let logged: Array<Record<string, unknown>>;
    let relay: OutboxRelay;

    async function streamTakesAtMost(bytes: number): Promise<void> {
      await (await jetstreamManager(link.connection)).streams.update(EVENTS_STREAM, { max_msg_size: bytes });
    }

    async function setAside(): Promise<OutboxEntity[]> {
      return replicas[0].dataSource.getRepository(OutboxEntity).find({ where: { setAsideAt: Not(IsNull()) }, order: { createdAt: 'ASC', id: 'ASC' } });
    }

    beforeEach(async () => {
      logged = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
      relay = new OutboxRelay(replicas[0].dataSource, link, logger);
      await streamTakesAtMost(4096);
    });
    afterEach(async () => {
      await streamTakesAtMost(-1);
      await replicas[0].dataSource.getRepository(OutboxEntity).clear();
    });

    it('is set aside with its error, logged once at error level, and the rows after it are published', async () => {
      // A whole batch of rows over the stream's max_msg_size, then one it takes.
      const tooLarge = await write(OUTBOX_BATCH, 'x'.repeat(5000));
      const [fitting] = await write(1);
      for (let n = 0; n < 3; n += 1) await relay.pass();
      await link.connection.flush();
      expect(published.get(fitting)).toBe(1);
      expect(published.has(tooLarge[0])).toBe(true);
      const kept = await setAside();
      expect(kept.map((row) => row.id).sort()).toEqual([...tooLarge].sort());
      expect(kept.every((row) => row.attempts === 1 && /10054: message size exceeds maximum allowed/.test(row.lastError ?? ''))).toBe(true);
      const errors = logged.filter((line) => line.level === 50);
      expect(errors.map((line) => line.outboxId).sort()).toEqual([...tooLarge].sort());
      expect(errors.every((line) => line.type === Events.UserInvited)).toBe(true);
      // Set aside, it is no longer taken: nothing more to publish, nothing logged again.
      expect(await relay.pass()).toEqual({ moved: 0, failed: 0, setAside: 0 });
      expect(logged.filter((line) => line.level === 50)).toHaveLength(OUTBOX_BATCH);
    });

    it('is published once re-driven (its mark cleared) after the stream was made to take it', async () => {
      const [tooLarge] = await write(1, 'x'.repeat(5000));
      expect(await relay.pass()).toEqual({ moved: 0, failed: 0, setAside: 1 });
      await streamTakesAtMost(-1);
      await replicas[0].dataSource.query(`UPDATE outbox SET set_aside_at = NULL WHERE set_aside_at IS NOT NULL`);
      expect(await relay.pass()).toEqual({ moved: 1, failed: 0, setAside: 0 });
      const stored = await (await jetstreamManager(link.connection)).streams.getMessage(EVENTS_STREAM, { last_by_subj: eventSubject(Events.UserInvited) });
      expect(stored!.json<EventEnvelope>().id).toBe(tooLarge);
      expect(await outboxSize()).toBe(0);
    });
  });

  describe('the metrics', () => {
    /** A metric's value as a scrape reads it (the series with `labels`). */
    async function scraped(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
      const { values } = await processMetrics.getSingleMetric(name)!.get();
      return values.find((sample) => Object.entries(labels).every(([label, value]) => sample.labels[label] === value))?.value;
    }

    afterEach(async () => {
      await (await jetstreamManager(link.connection)).streams.update(EVENTS_STREAM, { max_msg_size: -1 });
      await replicas[0].dataSource.getRepository(OutboxEntity).clear();
    });

    it('count what the relay published and set aside, and read what waits and what is set aside at each scrape', async () => {
      const stopReading = readOutboxOnScrape(replicas[0].dataSource);
      try {
        const publishedBefore = (await scraped('portico_outbox_published_total')) ?? 0;
        const setAsideBefore = (await scraped('portico_outbox_set_aside_total')) ?? 0;
        await (await jetstreamManager(link.connection)).streams.update(EVENTS_STREAM, { max_msg_size: 4096 });
        await write(1, 'x'.repeat(5000));
        await write(2);
        expect(await scraped('portico_outbox_events', { state: 'waiting' })).toBe(3);
        expect(await scraped('portico_outbox_events', { state: 'set_aside' })).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await scraped('portico_outbox_oldest_waiting_seconds')).toBeGreaterThan(0.01);
        expect(await replicas[0].relay.pass()).toEqual({ moved: 2, failed: 0, setAside: 1 });
        expect((await scraped('portico_outbox_published_total'))! - publishedBefore).toBe(2);
        expect((await scraped('portico_outbox_set_aside_total'))! - setAsideBefore).toBe(1);
        expect(await scraped('portico_outbox_events', { state: 'waiting' })).toBe(0);
        expect(await scraped('portico_outbox_events', { state: 'set_aside' })).toBe(1);
        expect(await scraped('portico_outbox_oldest_waiting_seconds')).toBe(0);
      } finally {
        stopReading();
      }
    });

    it('count a publish that failed (NATS away) as one to try again, nothing set aside', async () => {
      const failedBefore = (await scraped('portico_outbox_publish_failures_total')) ?? 0;
      await nats.stop();
      try {
        await write(2);
        expect(await replicas[0].relay.pass()).toEqual({ moved: 0, failed: 2, setAside: 0 });
        expect((await scraped('portico_outbox_publish_failures_total'))! - failedBefore).toBe(2);
      } finally {
        await nats.start();
      }
      await eventually('the rows to be relayed once NATS is back', async () => {
        await replicas[0].relay.pass().catch(() => undefined);
        return (await outboxSize()) === 0;
      });
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

describe('a row refused for a reason the relay cannot tell apart (a subject its NATS user may not publish to)', () => {
  const denied = eventSubject(Events.LinksVoided);
  const guarded = new TestNatsServer({
    config: `authorization { users: [ { user: relay, password: relay, permissions: { publish: { deny: ["${denied}"] } } } ] }\n`,
  });
  const logged: Array<Record<string, unknown>> = [];
  let guardedLink: NatsLink;
  let dataSource: DataSource;
  let relay: OutboxRelay;

  beforeAll(async () => {
    await guarded.start();
    guardedLink = await NatsLink.open({ url: guarded.url, name: 'relay-test', user: 'relay', password: 'relay', logger });
    await ensureEventsStream(guardedLink);
    ({ dataSource, relay } = await relayOfEmptyOutbox(guardedLink, logged));
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await guardedLink?.close();
    await guarded.destroy();
  });

  it(`is counted only in passes where other rows got through, and set aside at the ${OUTBOX_MAX_ATTEMPTS}th`, async () => {
    const refused = await writeOne(dataSource, Events.LinksVoided, { tokenHashes: ['a'.repeat(64)] });
    // Alone, its refusal may be the stream's or the server's: not counted.
    expect(await relay.pass()).toEqual({ moved: 0, failed: 1, setAside: 0 });
    expect(await outboxRow(dataSource, refused)).toEqual({ attempts: 0, lastError: null, setAsideAt: null });
    await countedUntilSetAside(dataSource, relay, logged, refused, /Permissions Violation/i);
  });

  it('takes a publish while the stream is gone (no responders: no other subscriber here) for an outage, never counted', async () => {
    await (await jetstreamManager(guardedLink.connection)).streams.delete(EVENTS_STREAM);
    try {
      const envelope: EventEnvelope = {
        id: randomUUID(),
        type: Events.UserInvited,
        occurredAt: new Date().toISOString(),
        accountId: null,
        data: invitation(0, 'Ada'),
      };
      const failure = await publishEvent(guardedLink, eventSubject(Events.UserInvited), envelope).then(() => 'stored', classifyPublishFailure);
      expect(failure).toBe('transient');
    } finally {
      await ensureEventsStream(guardedLink);
    }
  });
});

describe('a row whose subject the stream does not capture (its subjects narrowed by hand)', () => {
  const logged: Array<Record<string, unknown>> = [];
  let dataSource: DataSource;
  let relay: OutboxRelay;

  async function streamCaptures(subjects: string[]): Promise<void> {
    await (await jetstreamManager(link.connection)).streams.update(EVENTS_STREAM, { subjects });
  }

  beforeAll(async () => {
    ({ dataSource, relay } = await relayOfEmptyOutbox(link, logged));
    await streamCaptures([eventSubject(Events.UserInvited)]);
    // With a plain subscriber on the subject, a publish nobody stores waits for an answer until its timeout instead of
    // hearing at once that nobody takes it: the services have none.
    watcher.unsubscribe();
  });
  afterAll(async () => {
    watcher = watchPublishes();
    await streamCaptures([`${EVENTS_SUBJECT_PREFIX}>`]);
    await dataSource?.getRepository(OutboxEntity).clear();
    await dataSource?.destroy();
  });

  it(`is retried while nothing else gets through (JetStream may be away), then counted while other rows do, and set aside at the ${OUTBOX_MAX_ATTEMPTS}th`, async () => {
    const uncaptured = await writeOne(dataSource, Events.LinksVoided, { tokenHashes: ['b'.repeat(64)] });
    expect(await relay.pass()).toEqual({ moved: 0, failed: 1, setAside: 0 });
    expect(await relay.pass()).toEqual({ moved: 0, failed: 1, setAside: 0 });
    expect(await outboxRow(dataSource, uncaptured)).toEqual({ attempts: 0, lastError: null, setAsideAt: null });
    await countedUntilSetAside(dataSource, relay, logged, uncaptured, /^NoResponders: no stream took the event's subject/);
  });

  it('does not hold later events behind a whole batch of such rows: they are published in the same pass, and the batch counted', async () => {
    const burst: string[] = [];
    for (let i = 0; i < OUTBOX_BATCH; i += 1) burst.push(await writeOne(dataSource, Events.LinksVoided, { tokenHashes: [String(i).padStart(64, 'c')] }));
    const later = await writeOne(dataSource, Events.UserInvited, invitation(7, 'Grace'));
    expect(await relay.pass()).toEqual({ moved: 1, failed: OUTBOX_BATCH, setAside: 0 });
    await expect(dataSource.getRepository(OutboxEntity).existsBy({ id: later })).resolves.toBe(false);
    expect(await outboxRow(dataSource, burst[0])).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^NoResponders/) });
    // With nothing else waiting, nothing tells the burst's failures apart from the stream's: not counted.
    expect(await relay.pass()).toEqual({ moved: 0, failed: OUTBOX_BATCH, setAside: 0 });
    expect(await outboxRow(dataSource, burst[0])).toMatchObject({ attempts: 1 });
    await dataSource.getRepository(OutboxEntity).delete(burst);
  });
});
