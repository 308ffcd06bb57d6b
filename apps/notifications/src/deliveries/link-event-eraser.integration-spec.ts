import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Events, EVENTS_STREAM, eventSubject, type EventEnvelope } from '#libs/contracts/index.js';
import { ensureEventsStream, NatsLink } from '#libs/platform/index.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { LinkEventEraser } from './link-event-eraser.js';

/** Two users: one allowed everything, one allowed everything but deleting a stream's messages (as before this release's permissions). */
const nats = new TestNatsServer({
  config: `authorization {
  users: [
    { user: "all", password: "all" }
    { user: "no-delete", password: "no-delete", permissions: { publish: { deny: ["$JS.API.STREAM.MSG.DELETE.>"] } } }
  ]
}`,
});
const lines: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
const logged = (level: number) => lines.filter((line) => line.level === level).map((line) => line.msg);
const [DEBUG, WARN] = [20, 40];
const links: NatsLink[] = [];

async function linkAs(user: 'all' | 'no-delete'): Promise<NatsLink> {
  const link = await NatsLink.open({ url: nats.url, name: `eraser-test-${user}`, user, password: user, logger: pino({ level: 'silent' }) });
  links.push(link);
  return link;
}

/** Publishes `event` to the stream; its sequence there. */
async function published(link: NatsLink, event: EventEnvelope): Promise<number> {
  return (await jetstream(link.connection).publish(eventSubject(event.type), JSON.stringify(event), { msgID: event.id })).seq;
}

/** Whether the stream still holds the message at `seq`. */
async function inStream(link: NatsLink, seq: number): Promise<boolean> {
  return (await (await jetstreamManager(link.connection)).streams.getMessage(EVENTS_STREAM, { seq })) !== null;
}

const envelope = (type: EventEnvelope['type'], data: Record<string, unknown>) =>
  ({ id: randomUUID(), type, occurredAt: new Date().toISOString(), accountId: null, data }) as unknown as EventEnvelope;
const reset = () => envelope(Events.PasswordResetRequested, { email: 'ada@example.com', token: `plain-${randomUUID()}`, expiresAt: '2099-01-01T00:00:00Z' });
const notice = () => envelope(Events.PasswordChanged, { email: 'ada@example.com', changedAt: new Date().toISOString() });

let link: NatsLink;

beforeAll(async () => {
  await nats.start();
  link = await linkAs('all');
  await ensureEventsStream(link);
});
afterAll(async () => {
  await Promise.all(links.map((each) => each.close()));
  await nats.destroy();
});
beforeEach(() => {
  lines.length = 0;
});

describe('erasing a link event from the events stream', () => {
  it('deletes an event that carries a link token: read by its sequence, the stream no longer has it', async () => {
    const event = reset();
    const seq = await published(link, event);
    await new LinkEventEraser(link, logger).eraseIfCarryingToken(seq, event);
    expect(await inStream(link, seq)).toBe(false);
    expect(logged(WARN)).toEqual([]);
  });

  it('leaves an event without a link token in the stream', async () => {
    const event = notice();
    const seq = await published(link, event);
    await new LinkEventEraser(link, logger).eraseIfCarryingToken(seq, event);
    expect(await inStream(link, seq)).toBe(true);
  });

  // JetStream says so in two ways: `sequence <n> not found` (10043), or, below the stream's first message, a failed delete `no message found` (10057).
  it.each([
    ['between others', false],
    ['the first the stream held', true],
  ])(
    'takes a message already gone (another replica deleted it after a redelivery), %s, quietly: it throws nothing and logs at debug level only',
    async (_where, first) => {
      if (first) await (await jetstreamManager(link.connection)).streams.purge(EVENTS_STREAM);
      const event = reset();
      const seq = await published(link, event);
      await published(link, notice());
      const eraser = new LinkEventEraser(link, logger);
      await eraser.eraseIfCarryingToken(seq, event);
      await expect(eraser.eraseIfCarryingToken(seq, event)).resolves.toBeUndefined();
      expect(logged(DEBUG)).toEqual(['Link event already gone from the events stream']);
      expect(logged(WARN)).toEqual([]);
    },
  );

  it('warns, throwing nothing, when NATS refuses the delete (a user without the permission); the event stays for the stream to expire', async () => {
    const event = reset();
    const seq = await published(link, event);
    await expect(new LinkEventEraser(await linkAs('no-delete'), logger).eraseIfCarryingToken(seq, event)).resolves.toBeUndefined();
    expect(logged(WARN)).toEqual(['Could not delete a link event from the events stream; it stays until the stream expires it (7 days)']);
    expect(await inStream(link, seq)).toBe(true);
  });
});
