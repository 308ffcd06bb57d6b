import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { Events, linkTokenHash, type EventEnvelope } from '#libs/contracts/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { eventually } from '#libs/testing/eventually.js';
import { MailRenderer, type RenderedMail } from '../mail/mail-renderer.js';
import { MailSender } from '../mail/mailer.js';
import { TemplateCatalog } from '../mail/template-catalog.js';
import { loadNotificationsConfig } from '../notifications.config.js';
import { notificationsDatabase } from '../notifications.database.js';
import { deliverySettings } from '../notifications.module.js';
import { toView } from './delivery-log.service.js';
import { deliveryKey } from './delivery-policy.js';
import { DeliveryProcessor, type DeliverySettings } from './delivery.processor.js';
import { PostgresDeliveryStore } from './delivery.store.js';

/** One SMTP exchange the test answers when it likes: accept, refuse, or never (until the sender gives up). */
interface Exchange {
  mail: RenderedMail;
  signal: AbortSignal;
  accept: () => void;
  refuse: (error: Error) => void;
}

/** An SMTP server shared by the replicas of a test, as slow as the test makes it. */
class SlowSmtp extends MailSender {
  readonly exchanges: Exchange[] = [];

  messageIdFor(eventId: string): string {
    return `<${eventId}@portico.test>`;
  }

  send(mail: RenderedMail, _messageId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(Object.assign(new Error('Message sending aborted'), { code: 'EABORT' })), { once: true });
      this.exchanges.push({ mail, signal, accept: resolve, refuse: reject });
    });
  }

  /** Resolves with the `n`-th exchange (from 0) once it has begun. */
  async exchange(n: number): Promise<Exchange> {
    await eventually(`SMTP exchange ${n + 1} to begin`, () => this.exchanges.length > n, 10_000, 5);
    return this.exchanges[n];
  }
}

const database = new TestDatabase();
let dataSource: DataSource;
let store: PostgresDeliveryStore;
let smtp: SlowSmtp;
const logger = pino({ level: 'silent' });
const renderer = new MailRenderer({ productName: 'Portico', publicWebUrl: 'http://panel.test' }, TemplateCatalog.builtIn());
const ACCOUNT = randomUUID();
/** The lease (ack wait) of the test of its renewal: long enough for a loaded machine's stalls, short enough for a quick test. */
const LEASE_MS = 6000;

/** A replica's processor on the shared database and SMTP server. */
function replica(settings: Partial<DeliverySettings> = {}): DeliveryProcessor {
  return new DeliveryProcessor(
    store,
    smtp,
    renderer,
    {
      retry: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 10_000 },
      leaseMs: 60_000,
      sendDeadlineMs: 45_000,
      limits: { perRecipient: 0, noticesPerRecipient: 0, perAccount: 0, windowMinutes: 60, maxWaitMinutes: 60 },
      smtpConcurrency: 4,
      ...settings,
    },
    logger,
  );
}

function invitation(data: Record<string, unknown> = {}): EventEnvelope {
  return {
    id: randomUUID(),
    type: Events.UserInvited,
    occurredAt: new Date().toISOString(),
    accountId: ACCOUNT,
    data: {
      accountId: ACCOUNT,
      accountName: 'Acme',
      userId: randomUUID(),
      email: 'ada@example.com',
      firstName: 'Ada',
      token: 'token-1',
      expiresAt: '2099-01-01T10:00:00.000Z',
      locale: 'en',
      ...data,
    },
  };
}

async function row(eventId: string): Promise<{ status: string; attempts: number; last_error: string | null; recipient: string; locale: string }> {
  const [found] = await dataSource.query<Array<{ status: string; attempts: number; last_error: string | null; recipient: string; locale: string }>>(
    'SELECT status, attempts, last_error, recipient, locale FROM deliveries WHERE event_id = $1',
    [eventId],
  );
  return found;
}

/** Waits until the database clock is past the lease the mail of `eventId` has now. */
async function waitPastLease(eventId: string): Promise<void> {
  const [{ leaseUntil }] = await dataSource.query<Array<{ leaseUntil: Date }>>('SELECT lease_until AS "leaseUntil" FROM deliveries WHERE event_id = $1', [
    eventId,
  ]);
  await eventually(
    'the lease given at the claim to run out',
    async () => {
      const [{ past }] = await dataSource.query<Array<{ past: boolean }>>('SELECT clock_timestamp() > $1::timestamptz AS past', [leaseUntil]);
      return past;
    },
    LEASE_MS + 10_000,
    20,
  );
}

beforeAll(async () => {
  await database.create();
  dataSource = new DataSource(dataSourceOptions(notificationsDatabase({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: 10 })));
  await dataSource.initialize();
  store = new PostgresDeliveryStore(dataSource);
});
beforeEach(() => {
  smtp = new SlowSmtp();
});
afterAll(async () => {
  await dataSource?.destroy();
  await database.drop();
});

describe('a mail whose SMTP exchange outlasts the lease', () => {
  it('keeps its lease while it is being sent, so a redelivery of its event meanwhile does not send it again', async () => {
    // The settings of a configuration with a short ack wait (the lease): the send, a healthy slow
    // one, goes on past the lease and past three quarters of it, as MAIL_SEND_DEADLINE_MS allows
    // (20 s here, so that a second send, should there be one, ends in time for the test to say so).
    // Renewed every 2 s, the lease outlives a stall of up to 4 s of this process.
    const settings = deliverySettings({
      ...loadNotificationsConfig({ MAIL_SEND_DEADLINE_MS: '20000', SMTP_TIMEOUT_MS: '5000' }),
      MAIL_ACK_WAIT_MS: LEASE_MS,
      MAIL_RATE_PER_RECIPIENT: 0,
      MAIL_RATE_PER_ACCOUNT: 0,
    });
    const first = replica(settings);
    const second = replica(settings);
    const event = invitation();

    const sending = first.process(event);
    const exchange = await smtp.exchange(0);
    await waitPastLease(event.id);
    await expect(second.process(event)).resolves.toMatchObject({ kind: 'retry' });
    expect(smtp.exchanges).toHaveLength(1);

    exchange.accept();
    await expect(sending).resolves.toEqual({ kind: 'done' });
    expect(await row(event.id)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(smtp.exchanges).toHaveLength(1);
  });

  it('stops being sent as soon as a lease renewal finds its claim gone (another attempt took the mail)', async () => {
    const processor = replica({ leaseMs: 600 });
    const event = invitation();

    const sending = processor.process(event);
    const exchange = await smtp.exchange(0);
    // What another replica's claim does to the row (attempt 2, its own lease).
    await dataSource.query(`UPDATE deliveries SET attempts = attempts + 1, lease_until = now() + interval '1 minute' WHERE event_id = $1`, [event.id]);

    await expect(sending).resolves.toMatchObject({ kind: 'retry' });
    expect(exchange.signal.reason).toMatchObject({ message: 'the claim on this mail was taken over by another attempt' });
    expect(await row(event.id)).toMatchObject({ status: 'sending', attempts: 2, last_error: null });
  });

  it('is abandoned at its send deadline (a server that never finishes) and retried later', async () => {
    const processor = replica({ sendDeadlineMs: 300 });
    const event = invitation();

    const outcome = await processor.process(event);
    expect(outcome.kind).toBe('retry');
    expect(smtp.exchanges[0].signal.aborted).toBe(true);
    expect(await row(event.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: 'send abandoned: the SMTP exchange did not end within 300 ms (MAIL_SEND_DEADLINE_MS)',
    });
  });
});

describe('an attempt that lost its claim (stalled past its lease while another replica took the mail)', () => {
  /** Starts `stalled` on the event, lets its lease lapse, and has `taker` claim and send the mail; returns the stalled exchange. */
  async function takeOver(stalled: DeliveryProcessor, taker: DeliveryProcessor, event: EventEnvelope) {
    const stalledOutcome = stalled.process(event);
    const stalledExchange = await smtp.exchange(0);
    await dataSource.query(`UPDATE deliveries SET lease_until = now() - interval '1 second' WHERE event_id = $1`, [event.id]);
    const takerOutcome = taker.process(event);
    const takerExchange = await smtp.exchange(1);
    return { stalledOutcome, stalledExchange, takerOutcome, takerExchange };
  }

  it.each([
    ['refused for good (550)', Object.assign(new Error('Message failed: 550 5.6.0 content refused'), { responseCode: 550, code: 'EMESSAGE', command: 'DATA' })],
    ['refused for now (451)', Object.assign(new Error('Message failed: 451 4.3.0 try later'), { responseCode: 451, code: 'EMESSAGE', command: 'DATA' })],
  ])('does not overwrite the sent mail when its own exchange ends %s', async (_label, refusal) => {
    const [stalled, taker] = [replica(), replica()];
    const event = invitation();
    const { stalledOutcome, stalledExchange, takerOutcome, takerExchange } = await takeOver(stalled, taker, event);

    takerExchange.accept();
    await expect(takerOutcome).resolves.toEqual({ kind: 'done' });
    stalledExchange.refuse(refusal);
    await expect(stalledOutcome).resolves.toMatchObject({ kind: 'retry' });

    expect(await row(event.id)).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    await expect(taker.process(event)).resolves.toEqual({ kind: 'done' });
  });

  it('still records sent when its own exchange ends accepted after the later attempt failed for now: the mail went out, no third copy', async () => {
    const [stalled, taker] = [replica(), replica()];
    const event = invitation();
    const { stalledOutcome, stalledExchange, takerOutcome, takerExchange } = await takeOver(stalled, taker, event);

    takerExchange.refuse(Object.assign(new Error('Message failed: 451 4.3.0 try later'), { responseCode: 451, code: 'EMESSAGE', command: 'DATA' }));
    await expect(takerOutcome).resolves.toMatchObject({ kind: 'retry' });
    stalledExchange.accept();
    await expect(stalledOutcome).resolves.toEqual({ kind: 'done' });

    expect(await row(event.id)).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    await expect(taker.process(event)).resolves.toEqual({ kind: 'done' });
    expect(smtp.exchanges).toHaveLength(2);
  });
});

describe('an event that makes two mails (a hand-over), on PostgreSQL', () => {
  const accountId = randomUUID();
  const handOver = (): EventEnvelope => ({
    id: randomUUID(),
    type: Events.OwnershipTransferred,
    occurredAt: new Date().toISOString(),
    accountId,
    data: {
      accountId,
      fromUserId: randomUUID(),
      toUserId: randomUUID(),
      previousOwnerRole: 'builtin:Admin',
      ownerVersion: 1,
      accountName: 'Acme',
      previousOwnerRoleName: 'Admin',
      newOwner: { email: 'grace@example.com', firstName: 'Grace', locale: 'fr' },
      previousOwner: { email: 'ada@example.com', firstName: 'Ada', locale: 'en' },
    },
  });

  it('records and sends each mail once, however often and by however many replicas the event is handled', async () => {
    const event = handOver();
    const [first, second] = [replica(), replica()];
    const handled = Promise.all([first.process(event), second.process(event), first.process(event)]);
    (await smtp.exchange(0)).accept();
    (await smtp.exchange(1)).accept();
    await handled;
    // JetStream's redeliveries, to either replica, once the first handling is over.
    await expect(second.process(event)).resolves.toEqual({ kind: 'done' });
    await expect(replica().process(event)).resolves.toEqual({ kind: 'done' });
    expect(smtp.exchanges.map((exchange) => exchange.mail.to).sort()).toEqual(['ada@example.com', 'grace@example.com']);

    const rows = await dataSource.query<Array<{ key: string; template: string; recipient: string; status: string; message_id: string }>>(
      `SELECT event_id AS key, template, recipient, status, message_id FROM deliveries WHERE source_event_id = $1 ORDER BY template`,
      [event.id],
    );
    expect(rows).toEqual([
      {
        key: deliveryKey(event.id, 'ownership-handed-over'),
        template: 'ownership-handed-over',
        recipient: 'ada@example.com',
        status: 'sent',
        message_id: `<${deliveryKey(event.id, 'ownership-handed-over')}@portico.test>`,
      },
      {
        key: deliveryKey(event.id, 'ownership-received'),
        template: 'ownership-received',
        recipient: 'grace@example.com',
        status: 'sent',
        message_id: `<${deliveryKey(event.id, 'ownership-received')}@portico.test>`,
      },
    ]);
  });

  it('shows both in the delivery log under the event that asked for them', async () => {
    const event = handOver();
    const handled = replica().process(event);
    (await smtp.exchange(0)).accept();
    (await smtp.exchange(1)).accept();
    await handled;
    const log = (await store.page({ accountId, limit: 10 })).map((line) => toView(line, true)).filter((line) => line.eventId === event.id);
    expect(log.map((line) => [line.event, line.template, line.recipient, line.status]).sort()).toEqual([
      [Events.OwnershipTransferred, 'ownership-handed-over', 'ada@example.com', 'sent'],
      [Events.OwnershipTransferred, 'ownership-received', 'grace@example.com', 'sent'],
    ]);
  });
});

describe('an event carrying a NUL character', () => {
  it.each([
    ['in the address', { email: 'ada\u0000@example.com' }, /address/],
    ['in the expiry', { expiresAt: '2099-01-01T10:00:00.000Z\u0000' }, /expiresAt/],
    ['in the token', { token: 'token\u0000' }, /token/],
    ['in the locale of an event without a usable address', { email: 'not an address', locale: 'fr\u0000' }, /address/],
  ])('%s is recorded failed (unsendable), once, without the NUL', async (_label, data, reason) => {
    const processor = replica();
    const event = invitation(data);
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    const recorded = await row(event.id);
    expect(recorded).toMatchObject({ status: 'failed', attempts: 0 });
    expect(recorded.last_error).toMatch(/^invalid event: /);
    expect(recorded.last_error).toMatch(reason);
    expect(JSON.stringify(recorded)).not.toContain('\\u0000');
    expect(smtp.exchanges).toHaveLength(0);
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
  });
});

describe('a mail whose link identity voided, on PostgreSQL', () => {
  const voided = (...tokens: string[]): EventEnvelope => ({
    id: randomUUID(),
    type: Events.LinksVoided,
    occurredAt: new Date().toISOString(),
    accountId: null,
    data: { tokenHashes: tokens.map(linkTokenHash) },
  });

  it('is recorded cancelled, never sent, when the voiding came first; the replacing link goes out', async () => {
    const processor = replica();
    const old = invitation({ token: `old-${randomUUID()}` });
    const replacing = invitation({ token: `new-${randomUUID()}` });
    await expect(processor.process(voided((old.data as { token: string }).token))).resolves.toEqual({ kind: 'done' });
    await expect(processor.process(old)).resolves.toEqual({ kind: 'done' });
    expect(await row(old.id)).toMatchObject({ status: 'cancelled', attempts: 0, last_error: 'link voided before the mail could go out' });
    const sending = processor.process(replacing);
    (await smtp.exchange(0)).accept();
    await expect(sending).resolves.toEqual({ kind: 'done' });
    expect(smtp.exchanges).toHaveLength(1);
    expect(smtp.exchanges[0].mail.text).toContain((replacing.data as { token: string }).token);
    // A redelivery of the cancelled mail's event changes nothing.
    await expect(processor.process(old)).resolves.toEqual({ kind: 'done' });
    expect(await row(old.id)).toMatchObject({ status: 'cancelled' });
  });

  it('is cancelled when its event comes back for a retry after the voiding; a mail already sent stays sent', async () => {
    const processor = replica();
    const retried = invitation({ token: `retried-${randomUUID()}` });
    const sent = invitation({ token: `sent-${randomUUID()}` });
    const first = processor.process(retried);
    (await smtp.exchange(0)).refuse(Object.assign(new Error('Message failed: 451 4.3.0 try later'), { responseCode: 451, code: 'EMESSAGE', command: 'DATA' }));
    await expect(first).resolves.toMatchObject({ kind: 'retry' });
    const second = processor.process(sent);
    (await smtp.exchange(1)).accept();
    await expect(second).resolves.toEqual({ kind: 'done' });

    await processor.process(voided((retried.data as { token: string }).token, (sent.data as { token: string }).token));
    await expect(processor.process(retried)).resolves.toEqual({ kind: 'done' });
    await expect(processor.process(sent)).resolves.toEqual({ kind: 'done' });
    expect(await row(retried.id)).toMatchObject({ status: 'cancelled', attempts: 1, last_error: 'link voided before the mail could go out' });
    expect(await row(sent.id)).toMatchObject({ status: 'sent' });
    expect(smtp.exchanges).toHaveLength(2);
  });

  it('is cancelled when its link expired before it could go out', async () => {
    const processor = replica();
    const event = invitation({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(await row(event.id)).toMatchObject({ status: 'cancelled', attempts: 0, last_error: 'link expired before the mail could go out' });
    expect(smtp.exchanges).toHaveLength(0);
  });

  it('remembers a voided link for 8 days, as long as the events stream may still bring an event carrying it', async () => {
    const [fresh, stale] = [randomUUID(), randomUUID()];
    await store.voidLinks([linkTokenHash(fresh), linkTokenHash(stale)]);
    await dataSource.query(`UPDATE voided_links SET voided_at = now() - interval '8 days 1 minute' WHERE token_hash = $1`, [linkTokenHash(stale)]);
    await store.pruneVoidedLinks();
    const kept = await dataSource.query<Array<{ token_hash: string }>>('SELECT token_hash FROM voided_links WHERE token_hash = ANY($1)', [
      [linkTokenHash(fresh), linkTokenHash(stale)],
    ]);
    expect(kept.map((r) => r.token_hash)).toEqual([linkTokenHash(fresh)]);
  });
});
