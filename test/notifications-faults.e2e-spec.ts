import type { NatsLink } from '#libs/platform/index.js';
import { TestSystem } from '#libs/testing/system.js';
import { eventually } from '#libs/testing/eventually.js';
import { consumerIdle, invitation, messageIdOf, openLink, signUps, statusCounts, writeOutbox } from './support/notifications.js';

/**
 * F3 and friends: mail survives restarts of any part. Each test queues mails, breaks something,
 * repairs it, and then counts what the test's SMTP server received, by recipient and Message-ID.
 */
const system = new TestSystem({
  env: { MAIL_RETRY_BASE_MS: '200', MAIL_RETRY_MAX_MS: '1000', MAIL_MAX_ATTEMPTS: '100', MAIL_ACK_WAIT_MS: '3000' },
});
let link: NatsLink;

/** Mails received by each address (one pass over the mails). */
function counts(): Map<string, number> {
  const byRecipient = new Map<string, number>();
  for (const mail of system.mail.mails) for (const to of mail.to) byRecipient.set(to, (byRecipient.get(to) ?? 0) + 1);
  return byRecipient;
}

function received(email: string, known = counts()): number {
  return known.get(email) ?? 0;
}

/** How many of `emails` got at least one mail. */
function reached(emails: string[]): number {
  const known = counts();
  return emails.filter((email) => known.has(email)).length;
}

/** Waits until every address got at least one mail, then until nothing is in flight any more. */
async function allArrived(emails: string[], timeoutMs = 60_000): Promise<void> {
  try {
    await eventually(`mail to all ${emails.length} recipients`, () => reached(emails) === emails.length, timeoutMs);
    await consumerIdle(link, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${system.dumpLogs()}`);
  }
}

/** Recipients whose mail was in the hands of SMTP (status `sending`) at this moment. */
async function inFlight(): Promise<Set<string>> {
  const rows = await system.database.query<{ recipient: string }>(`SELECT recipient FROM notifications.deliveries WHERE status = 'sending'`);
  return new Set(rows.map((row) => row.recipient));
}

async function sentCount(): Promise<number> {
  return (await statusCounts(system)).sent ?? 0;
}

beforeAll(async () => {
  await system.start();
  link = await openLink(system);
});
afterAll(async () => {
  await link?.close();
  await system.stop();
});

describe('F3: the notifications process dies while mails are queued', () => {
  it('killed outright (SIGKILL): after a restart every mail arrives; only a mail in the hands of SMTP at the kill may arrive twice, with the same Message-ID', async () => {
    await system.stopService('notifications');
    const before = await sentCount();
    const people = (await signUps(system, 150, 'kill')).map((person) => person.email);
    system.startService('notifications');
    await eventually('the first mails', () => reached(people) >= 30, 30_000, 10);
    await system.stopService('notifications', 'SIGKILL');
    const ambiguous = await inFlight();
    const deliveredAtKill = reached(people);
    expect(deliveredAtKill).toBeLessThan(people.length);

    system.startService('notifications');
    await allArrived(people);

    const known = counts();
    const twice = people.filter((email) => received(email, known) > 1);
    expect(twice.filter((email) => !ambiguous.has(email))).toEqual([]);
    expect(ambiguous.size).toBeLessThanOrEqual(4); // SMTP_POOL_SIZE: no more mails than that are ever "sending"
    for (const email of twice) expect(new Set(system.mail.to(email).map((mail) => mail.messageId)).size).toBe(1);
    expect(people.every((email) => received(email, known) <= 2)).toBe(true);
    expect(await sentCount()).toBe(before + people.length);
  });

  it('stopped (SIGTERM, as Kubernetes does): it finishes the mails in hand, and every mail arrives exactly once', async () => {
    await system.stopService('notifications');
    const people = (await signUps(system, 150, 'term')).map((person) => person.email);
    system.startService('notifications');
    await eventually('the first mails', () => reached(people) >= 30, 30_000, 10);
    expect(await system.stopService('notifications', 'SIGTERM')).toBe(0);
    expect(await inFlight()).toEqual(new Set());
    expect(reached(people)).toBeLessThan(people.length);

    system.startService('notifications');
    await allArrived(people);
    const known = counts();
    expect(people.filter((email) => received(email, known) !== 1)).toEqual([]);
  });
});

describe('the other parts fail for a while', () => {
  it('SMTP server down: mails wait, retrying with backoff, and arrive exactly once after it returns', async () => {
    await system.mail.stop();
    const people = (await signUps(system, 20, 'smtpdown')).map((person) => person.email);
    await eventually('attempts against the stopped SMTP server', async () => {
      const [row] = await system.database.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM notifications.deliveries WHERE recipient LIKE 'smtpdown-%' AND status = 'pending' AND attempts >= 2 AND last_error IS NOT NULL`,
      );
      return row.waiting === people.length;
    });
    expect(reached(people)).toBe(0);

    await system.mail.start();
    await allArrived(people);
    const known = counts();
    expect(people.filter((email) => received(email, known) !== 1)).toEqual([]);
  });

  it('NATS restarted: events written during the outage are relayed and mailed once it is back, and new ones too', async () => {
    await system.nats.stop();
    const backlog = Array.from({ length: 20 }, (_, n) => invitation(`natsdown-${n}@mail.test`));
    await writeOutbox(system, backlog);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await system.nats.start();

    await eventually('the backlog mails', () => backlog.every((event) => system.mail.mails.some((mail) => mail.messageId === messageIdOf(event.id))), 60_000);
    await system.waitUntil();
    const after = (await signUps(system, 3, 'natsback')).map((person) => person.email);
    await allArrived([...backlog.map((_, n) => `natsdown-${n}@mail.test`), ...after]);
    const byMessageId = system.mail.countsByMessageId();
    expect(backlog.filter((event) => byMessageId.get(messageIdOf(event.id)) !== 1)).toEqual([]);
    expect(after.filter((email) => received(email, counts()) !== 1)).toEqual([]);
  });

  it('identity killed with events in its outbox: its relay sends them once it is back', async () => {
    await system.stopService('identity', 'SIGKILL');
    const backlog = Array.from({ length: 20 }, (_, n) => invitation(`identitydown-${n}@mail.test`));
    await writeOutbox(system, backlog);
    system.startService('identity');
    await allArrived(backlog.map((_, n) => `identitydown-${n}@mail.test`));
    const byMessageId = system.mail.countsByMessageId();
    expect(backlog.filter((event) => byMessageId.get(messageIdOf(event.id)) !== 1)).toEqual([]);
    expect((await system.database.query('SELECT id FROM identity.outbox')).length).toBe(0);
  });
});
