import { jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { pino } from 'pino';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX } from '#libs/contracts/index.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { NATS_PERMISSIONS, natsAuthorizationConfig, natsUserOf, type NatsService } from '../../tools/nats/permissions.js';
import { EVENTS_RETENTION_MS, ensureEventsStream, eventsStreamConfig } from './events-stream.js';
import { NatsLink } from './nats-connection.js';

const NANOS_PER_MS = 1_000_000;
const PASSWORD = 'events-stream-test';
/** Notifications' permissions as a release before this one had them: no update of the events stream. */
const WITHOUT_UPDATE = {
  ...NATS_PERMISSIONS.notifications,
  publish: NATS_PERMISSIONS.notifications.publish.filter((subject) => !subject.startsWith('$JS.API.STREAM.UPDATE.')),
};

/** The services' own users (tools/nats/permissions.ts), an operator allowed everything, and notifications as the release before had it. */
const nats = new TestNatsServer({
  config: natsAuthorizationConfig(
    () => JSON.stringify(PASSWORD),
    [
      { user: 'operator', password: JSON.stringify(PASSWORD), permissions: { publish: ['>'], subscribe: ['>'], allowResponses: false } },
      { user: 'no-update', password: JSON.stringify(PASSWORD), permissions: WITHOUT_UPDATE },
    ],
  ),
});
const lines: Array<{ level: number; msg: string; changes?: unknown }> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string; changes?: unknown }) });
const [INFO, ERROR] = [30, 50];
const links: NatsLink[] = [];
let operator: NatsLink;
let manager: JetStreamManager;

/** A link as `user`, with the inbox of process `name` (a service's user may read only its own), keeping `replicas` copies of the stream. */
async function linkAs(user: string, name: string, replicas = 1): Promise<NatsLink> {
  const link = await NatsLink.open({ url: nats.url, name, user, password: PASSWORD, logger, eventsStreamReplicas: replicas, waitMs: 0 });
  links.push(link);
  return link;
}

const asService = (service: NatsService, replicas = 1) => linkAs(natsUserOf(service), service, replicas);

/** The events stream as an earlier release, or a hand, made it: kept an hour, duplicates remembered 10 s. */
async function madeOtherwise(change: Partial<StreamConfig> = {}): Promise<void> {
  await manager.streams.add({ ...eventsStreamConfig(1), max_age: 3_600_000 * NANOS_PER_MS, duplicate_window: 10_000 * NANOS_PER_MS, ...change });
}

async function streamConfig(): Promise<StreamConfig> {
  return (await manager.streams.info(EVENTS_STREAM)).config;
}

beforeAll(async () => {
  await nats.start();
  operator = await linkAs('operator', 'events-stream-test');
  manager = await jetstreamManager(operator.connection);
});
afterAll(async () => {
  await Promise.all(links.map((link) => link.close()));
  await nats.destroy();
});
beforeEach(async () => {
  await manager.streams.delete(EVENTS_STREAM).catch(() => undefined);
  lines.length = 0;
});

describe('ensureEventsStream', () => {
  it('makes a missing stream with its subjects, replicas, retention and duplicate window', async () => {
    await ensureEventsStream(await asService('notifications'));
    expect(await streamConfig()).toMatchObject({
      subjects: [`${EVENTS_SUBJECT_PREFIX}>`],
      num_replicas: 1,
      max_age: EVENTS_RETENTION_MS * NANOS_PER_MS,
      duplicate_window: 120_000 * NANOS_PER_MS,
    });
    expect(lines).toEqual([]);
  });

  it.each(['identity', 'access', 'notifications'] as const)(
    'brings a stream made otherwise to its configuration, as %s under its own NATS user, keeping its events and saying once what changed',
    async (service) => {
      await madeOtherwise();
      await jetstream(operator.connection).publish(`${EVENTS_SUBJECT_PREFIX}identity.kept`, 'an event');
      const link = await asService(service);

      await ensureEventsStream(link);
      expect(await streamConfig()).toMatchObject({ num_replicas: 1, max_age: EVENTS_RETENTION_MS * NANOS_PER_MS, duplicate_window: 120_000 * NANOS_PER_MS });
      expect((await manager.streams.info(EVENTS_STREAM)).state.messages).toBe(1);
      expect(lines.map(({ level, msg, changes }) => ({ level, msg, changes }))).toEqual([
        {
          level: INFO,
          msg: 'Events stream updated to its configuration',
          changes: {
            max_age: { from: 3_600_000 * NANOS_PER_MS, to: EVENTS_RETENTION_MS * NANOS_PER_MS },
            duplicate_window: { from: 10_000 * NANOS_PER_MS, to: 120_000 * NANOS_PER_MS },
          },
        },
      ]);

      await ensureEventsStream(link);
      expect(lines).toHaveLength(1);
    },
  );

  it('asks NATS to keep an existing stream on NATS_STREAM_REPLICAS servers when it is kept on fewer', async () => {
    await madeOtherwise({ max_age: EVENTS_RETENTION_MS * NANOS_PER_MS, duplicate_window: 120_000 * NANOS_PER_MS });
    // What a single test server does with it depends on its version: the request is what is checked.
    const updates: Array<Partial<StreamConfig>> = [];
    const sniffer = operator.connection.subscribe(`$JS.API.STREAM.UPDATE.${EVENTS_STREAM}`, {
      callback: (_error, message) => void updates.push(message.json()),
    });
    await operator.connection.flush();
    try {
      await ensureEventsStream(await asService('notifications', 3));
      // The request reached this connection before the reply reached the service's; a round trip here lets it through before unsubscribing.
      await operator.connection.flush();
    } finally {
      sniffer.unsubscribe();
    }
    expect(updates).toEqual([expect.objectContaining({ name: EVENTS_STREAM, num_replicas: 3 })]);
    expect(lines).toEqual([expect.objectContaining({ changes: { num_replicas: { from: 1, to: 3 } } })]);
  });

  it('keeps the stream as it is, with an error in the log, when NATS refuses the update (a user not allowed to), and does not fail', async () => {
    await madeOtherwise();
    await expect(ensureEventsStream(await linkAs('no-update', 'notifications'))).resolves.toBeUndefined();
    expect(await streamConfig()).toMatchObject({ max_age: 3_600_000 * NANOS_PER_MS });
    // The link says so too ("NATS refused an operation"), as it does of every refusal.
    expect(lines.filter(({ msg }) => msg.startsWith('Events stream')).map(({ level, msg, changes }) => ({ level, msg, changes }))).toEqual([
      {
        level: ERROR,
        msg: 'Events stream could not be updated to its configuration; it is kept as it is',
        changes: expect.objectContaining({ max_age: { from: 3_600_000 * NANOS_PER_MS, to: EVENTS_RETENTION_MS * NANOS_PER_MS } }) as unknown,
      },
    ]);
  });

  it('fails to make the stream on more servers than NATS has (here one): a misconfiguration stops the start, it is not hidden', async () => {
    await expect(ensureEventsStream(await asService('notifications', 3))).rejects.toThrow(/replicas/);
    await expect(manager.streams.info(EVENTS_STREAM)).rejects.toThrow();
  });
});
