import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Events, linkTokenHash, type EventEnvelope } from '#libs/contracts/index.js';
import { LockClass } from '#libs/platform/storage.js';
import { MailCatcher } from '#libs/testing/mail-catcher.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { MailRenderer } from '../mail/mail-renderer.js';
import { Mailer } from '../mail/mailer.js';
import { TemplateCatalog } from '../mail/template-catalog.js';
import { loadNotificationsConfig } from '../notifications.config.js';
import { deliverySettings } from '../notifications.module.js';
import { COUNTER_BUSY_RETRY_MS, DeliveryProcessor, type Outcome } from './delivery.processor.js';
import { PostgresDeliveryStore, recipientKey } from './delivery.store.js';
import { countedMails, moveRateClockOn } from './rate-clock-harness-spec.js';

// An admin re-sends an invitation over and over (each re-send voids the link before it), past the
// limit of mails per recipient, with a real SMTP server and PostgreSQL; JetStream's part (an event
// handed back with a delay comes back then) is played by the test, and the window's hour passes by
// moving the recorded times back.

const db = new NotificationsTestDatabase();
const catcher = new MailCatcher();
const ACCOUNT = randomUUID();
const LIMIT = 2;
let mailer: Mailer;
let processor: DeliveryProcessor;

beforeAll(async () => {
  await db.start(8);
  const port = await catcher.start(0);
  const config = loadNotificationsConfig({
    DATABASE_URL: db.database.url,
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    MAIL_RATE_PER_RECIPIENT: String(LIMIT),
    MAIL_RATE_WINDOW_MINUTES: '60',
    MAIL_RATE_MAX_WAIT_MINUTES: '240',
  });
  mailer = new Mailer(config);
  const renderer = new MailRenderer({ productName: 'Portico', publicWebUrl: 'http://panel.test' }, TemplateCatalog.builtIn());
  processor = new DeliveryProcessor(new PostgresDeliveryStore(db.dataSource), mailer, renderer, deliverySettings(config), pino({ level: 'silent' }));
});
afterAll(async () => {
  mailer?.onModuleDestroy();
  await catcher.stop();
  await db.stop();
});

function invitation(email: string, token: string): EventEnvelope {
  return {
    id: randomUUID(),
    type: Events.UserInvited,
    occurredAt: new Date().toISOString(),
    accountId: ACCOUNT,
    data: {
      accountId: ACCOUNT,
      accountName: 'Acme',
      userId: randomUUID(),
      email,
      firstName: 'Ada',
      token,
      expiresAt: '2099-01-01T10:00:00.000Z',
      locale: 'en',
    },
  };
}

function linksVoided(token: string): EventEnvelope {
  return {
    id: randomUUID(),
    type: Events.LinksVoided,
    occurredAt: new Date().toISOString(),
    accountId: ACCOUNT,
    data: { tokenHashes: [linkTokenHash(token)] },
  };
}

async function statuses(email: string): Promise<Record<string, string>> {
  const rows = await db.dataSource.query<Array<{ event_id: string; status: string }>>('SELECT event_id, status FROM deliveries WHERE recipient = $1', [email]);
  return Object.fromEntries(rows.map((row) => [row.event_id, row.status]));
}

describe('an invitation re-sent past the rate limit of its recipient', () => {
  it('sends no more than the limit in the window, cancels the waiting mails whose links were voided, and sends the newest once the window has room', async () => {
    const email = `ada-${randomUUID()}@example.com`;
    const tokens = ['link-1', 'link-2', 'link-3', 'link-4', 'link-5'];
    const invitations = tokens.map((token) => invitation(email, token));
    const outcomes: Outcome[] = [];
    for (const [n, event] of invitations.entries()) {
      // Identity voids the link before it as it makes the new one; the two events come in either order.
      outcomes.push(await processor.process(event));
      if (n > 0) await processor.process(linksVoided(tokens[n - 1]));
    }

    expect(catcher.to(email).map((mail) => mail.links.find((link) => link.includes('token=')))).toEqual([
      'http://panel.test/activate?token=link-1',
      'http://panel.test/activate?token=link-2',
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['done', 'done', 'retry', 'retry', 'retry']);
    // The voidings cancelled the older waiting mails at once, before their events came back.
    const byEventNow = await statuses(email);
    expect(invitations.map((event) => byEventNow[event.id])).toEqual(['sent', 'sent', 'cancelled', 'cancelled', 'pending']);
    const waiting = invitations.filter((_, n) => outcomes[n].kind === 'retry');
    for (const outcome of outcomes.slice(LIMIT)) expect((outcome as { delayMs: number }).delayMs).toBeGreaterThan(58 * 60_000);

    // An early redelivery (JetStream's after a crash) changes nothing but cancelling the mails whose links died.
    await Promise.all(waiting.map((event) => processor.process(event)));
    expect(catcher.to(email)).toHaveLength(LIMIT);
    expect(Object.values(await statuses(email)).sort()).toEqual(['cancelled', 'cancelled', 'pending', 'sent', 'sent']);

    await moveRateClockOn(db.dataSource, email, 61);
    const comebacks = await Promise.all(waiting.map((event) => processor.process(event)));
    expect(comebacks).toEqual([{ kind: 'done' }, { kind: 'done' }, { kind: 'done' }]);

    const mails = catcher.to(email);
    expect(mails).toHaveLength(LIMIT + 1);
    expect(mails[LIMIT].links).toContain('http://panel.test/activate?token=link-5');
    const byEvent = await statuses(email);
    expect(invitations.map((event) => byEvent[event.id])).toEqual(['sent', 'sent', 'cancelled', 'cancelled', 'sent']);
    expect(await countedMails(db.dataSource, email)).toBe(LIMIT + 1);
    // The overdue gauge measures the mail that waited from when it got room.
    const ended = await db.dataSource.query<Array<{ event_id: string; ended: boolean }>>(
      "SELECT event_id, wait_ended_at > created_at + interval '1 hour' AS ended FROM deliveries WHERE recipient = $1",
      [email],
    );
    const endedByEvent = Object.fromEntries(ended.map((row) => [row.event_id, row.ended]));
    expect(invitations.map((event) => endedByEvent[event.id] ?? null)).toEqual([null, null, null, null, true]);
  });

  it('does not queue a returning waiting mail on its counter while another transaction holds it: back in a moment, then sent', async () => {
    const email = `linus-${randomUUID()}@example.com`;
    const events = Array.from({ length: LIMIT + 1 }, (_, n) => invitation(email, `busy-${n}-${randomUUID()}`));
    for (const event of events) await processor.process(event);
    const waiting = events[LIMIT];
    await moveRateClockOn(db.dataSource, email, 61);

    const counting = db.dataSource.createQueryRunner();
    await counting.connect();
    try {
      await counting.startTransaction();
      await counting.query('SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))', [LockClass.MailRecipientCounter, recipientKey(email, 'standard')]);
      const busy = (await processor.process(waiting)) as { kind: string; delayMs: number };
      expect(busy.kind).toBe('retry');
      expect(busy.delayMs).toBeLessThanOrEqual(COUNTER_BUSY_RETRY_MS);
      expect((await statuses(email))[waiting.id]).toBe('pending');
    } finally {
      await counting.rollbackTransaction();
      await counting.release();
    }
    await expect(processor.process(waiting)).resolves.toEqual({ kind: 'done' });
    expect(catcher.to(email)).toHaveLength(LIMIT + 1);
  });

  it('lets waiting mails take room in the order they came, whatever the order they come back in', async () => {
    const email = `mary-${randomUUID()}@example.com`;
    const events = Array.from({ length: LIMIT + 4 }, (_, n) => invitation(email, `fifo-${n}-${randomUUID()}`));
    for (const event of events) await processor.process(event);
    const waiting = events.slice(LIMIT);
    // Their returns are set one after the other, in the order they came.
    const returns = await db.dataSource.query<Array<{ event_id: string }>>(
      'SELECT event_id FROM deliveries WHERE recipient = $1 AND rate_wait_until IS NOT NULL ORDER BY next_attempt_at',
      [email],
    );
    expect(returns.map((row) => row.event_id)).toEqual(waiting.map((event) => event.id));

    await moveRateClockOn(db.dataSource, email, 61);
    const backwards = [...waiting].reverse();
    const firstRound = [];
    for (const event of backwards) firstRound.push((await processor.process(event)).kind);
    expect(firstRound).toEqual(['retry', 'retry', 'retry', 'done']);
    // The younger ones come back (early, as a redelivery would), the oldest of them goes next.
    await db.dataSource.query('UPDATE deliveries SET next_attempt_at = now() WHERE recipient = $1 AND rate_wait_until IS NOT NULL', [email]);
    const secondRound = [];
    for (const event of backwards.slice(0, 3)) secondRound.push((await processor.process(event)).kind);
    expect(secondRound).toEqual(['retry', 'retry', 'done']);

    const tokens = (event: EventEnvelope) => (event.data as { token: string }).token;
    expect(catcher.to(email).map((mail) => mail.links.find((link) => link.includes('token=')))).toEqual(
      events.slice(0, LIMIT + 2).map((event) => `http://panel.test/activate?token=${tokens(event)}`),
    );
  });

  it('lets no more than the limit out of many waiting mails whose links all still work, when they come back at once', async () => {
    const email = `grace-${randomUUID()}@example.com`;
    const events = Array.from({ length: 8 }, (_, n) => invitation(email, `live-${n}-${randomUUID()}`));
    for (const event of events) await processor.process(event);
    expect(catcher.to(email)).toHaveLength(LIMIT);

    await moveRateClockOn(db.dataSource, email, 61);
    // They come back all at once, again and again (each told to come back later: a counter busy, an older mail first, no room).
    for (let round = 0; round < 20; round += 1) {
      await db.dataSource.query('UPDATE deliveries SET next_attempt_at = now() WHERE recipient = $1 AND rate_wait_until IS NOT NULL', [email]);
      await Promise.all(events.slice(LIMIT).map((event) => processor.process(event)));
    }
    expect(catcher.to(email)).toHaveLength(2 * LIMIT);
    expect(Object.values(await statuses(email)).filter((status) => status === 'pending')).toHaveLength(events.length - 2 * LIMIT);
  });
});
