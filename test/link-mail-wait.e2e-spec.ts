import { randomUUID } from 'node:crypto';
import { Events, linkTokenHash, type EventEnvelope } from '#libs/contracts/index.js';
import type { NatsLink } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestSystem } from '#libs/testing/system.js';
import { envelope, invitation, messageIdOf, openLink, publish } from './support/notifications.js';

// Link mails over their recipient's rate limit wait for room through the real services: their events
// handed back to the real JetStream consumer with a delay, and taken up again once the window has
// room. The window is a minute (the shortest MAIL_RATE_WINDOW_MINUTES), so the room comes within it.

const LIMIT = 2;
const system = new TestSystem({
  env: {
    MAIL_RATE_PER_RECIPIENT: String(LIMIT),
    MAIL_RATE_WINDOW_MINUTES: '1',
    MAIL_RATE_MAX_WAIT_MINUTES: '10',
    MAIL_ACK_WAIT_MS: '5000',
  },
});
let link: NatsLink;

beforeAll(async () => {
  await system.start();
  link = await openLink(system);
});
afterAll(async () => {
  await link?.close();
  await system.stop();
});

async function delivery(eventId: string) {
  const [row] = await system.database.query<{ status: string; waiting: boolean; sent_at: Date | null; last_error: string | null }>(
    'SELECT status, rate_wait_until IS NOT NULL AS waiting, sent_at, last_error FROM notifications.deliveries WHERE event_id = $1',
    [eventId],
  );
  return row;
}

const tokenOf = (event: EventEnvelope) => (event.data as { token: string }).token;
const linkIn = (mail: { links: string[] }) => new URL(mail.links.find((candidate) => candidate.includes('token='))!).searchParams.get('token');

describe('a link mail over its recipient’s rate limit', () => {
  it('waits for room and goes once the window has it, no more than the limit in a window; a re-sent link cancels the older mail waiting', async () => {
    const email = `waiting-${randomUUID()}@mail.test`;
    const accountId = randomUUID();
    const first = [invitation(email, accountId), invitation(email, accountId)];
    for (const event of first) await publish(link, event);
    await system.mail.waitFor((mail) => mail.to.includes(email) && system.mail.to(email).length === LIMIT, 30_000);

    // Over the limit: recorded pending, waiting for room, its event handed back to JetStream.
    const older = invitation(email, accountId);
    await publish(link, older);
    await eventually('the third invitation to wait for room', async () => (await delivery(older.id))?.waiting === true);
    // Re-sent: identity makes a new link and voids the older one (the waiting mail's).
    const newer = invitation(email, accountId);
    await publish(link, newer);
    await publish(link, envelope(Events.LinksVoided, accountId, { tokenHashes: [linkTokenHash(tokenOf(older))] }));
    await eventually('the re-sent invitation to wait for room', async () => (await delivery(newer.id))?.waiting === true);

    const third = await system.mail.waitFor((mail) => mail.to.includes(email) && linkIn(mail) === tokenOf(newer), 150_000);
    expect(third.messageId).toBe(messageIdOf(newer.id));
    await eventually('the older invitation to be cancelled', async () => (await delivery(older.id))?.status === 'cancelled');
    expect((await delivery(older.id)).last_error).toBe('link voided before the mail could go out');
    const links = system.mail.to(email).map(linkIn);
    expect(links).toHaveLength(LIMIT + 1);
    expect(links.slice(0, LIMIT).sort()).toEqual(first.map(tokenOf).sort());
    expect(links[LIMIT]).toBe(tokenOf(newer));

    // The window is a minute: the mail that waited left a minute (less a bucket, a second) after the first of the limit.
    const sent = await Promise.all([...first, newer].map((event) => delivery(event.id)));
    expect(sent.map((row) => row.status)).toEqual(['sent', 'sent', 'sent']);
    const firstSent = Math.min(...sent.slice(0, LIMIT).map((row) => row.sent_at!.getTime()));
    expect(sent[LIMIT].sent_at!.getTime() - firstSent).toBeGreaterThanOrEqual(59_000);
  });
});
