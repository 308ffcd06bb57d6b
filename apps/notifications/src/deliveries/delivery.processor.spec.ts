import { jest } from '@jest/globals';
import { pino } from 'pino';
import { Events, linkTokenHash, type DeliveryStatus, type EventEnvelope, type OwnershipTransferredData } from '#libs/contracts/index.js';
import { MailRenderer, type RenderedMail } from '../mail/mail-renderer.js';
import { MailSender } from '../mail/mailer.js';
import { TemplateCatalog } from '../mail/template-catalog.js';
import type { NotificationsConfig } from '../notifications.config.js';
import { deliverySettings } from '../notifications.module.js';
import type { DeliveryEntity } from './delivery.entity.js';
import { deliveryKey, type RateBudget } from './delivery-policy.js';
import { COUNTER_BUSY_RETRY_MS, DeliveryProcessor, UNKNOWN_EVENT_RETRY_MS, type DeliverySettings } from './delivery.processor.js';
import { mailMetrics } from './mail-metrics.js';
import {
  DeliveryStore,
  FINAL_STATUSES,
  MAY_HAVE_GONE,
  type CarriedLink,
  type Claim,
  type ClaimTicket,
  type NewDelivery,
  type PagedDelivery,
  type RateLimits,
  type WaitingCount,
} from './delivery.store.js';

/** The store's state machine in memory, with a clock the test moves. */
class MemoryStore extends DeliveryStore {
  readonly rows = new Map<string, DeliveryEntity>();
  now = 1_000_000;
  failMarkSent = 0;
  admitted: Array<{ delivery: NewDelivery; limits: RateLimits }> = [];
  /** The budgets whose limits are reached: a new mail counted in one is recorded suppressed, or waits for room when it may. */
  readonly spent = new Set<RateBudget>();
  /** How long after now the windows of a spent budget have room again. */
  roomInMs = 60_000;

  admit(delivery: NewDelivery, limits: RateLimits): Promise<void> {
    this.admitted.push({ delivery, limits });
    const row = this.rows.get(delivery.eventId);
    if (!row) this.rows.set(delivery.eventId, this.counted(this.row(delivery, 'pending', null), limits));
    else if (row.status === 'pending' && row.rateWaitUntil && row.nextAttemptAt!.getTime() <= this.now) this.counted(row, limits, row.rateWaitUntil);
    return Promise.resolve();
  }

  /** `row` counted against `limits`: within them, or over them, waiting for room until `waitUntil` or suppressed. */
  private counted(row: DeliveryEntity, limits: RateLimits, waitUntil = limits.waitUntil ?? null): DeliveryEntity {
    if (!this.spent.has(limits.budget)) return Object.assign(row, { rateWaitUntil: null, nextAttemptAt: null });
    const room = this.now + this.roomInMs;
    if (waitUntil && room < waitUntil.getTime())
      return Object.assign(row, { rateWaitUntil: waitUntil, nextAttemptAt: new Date(room), lastError: 'rate limit' });
    return Object.assign(row, { status: 'suppressed', rateWaitUntil: null, nextAttemptAt: null, lastError: 'rate limit' });
  }

  /** While true, a waiting mail whose time came finds its counter's lock held by another transaction. */
  counterBusy = false;

  async countWaiting(delivery: NewDelivery, limits: RateLimits, link: CarriedLink): Promise<WaitingCount> {
    const row = this.rows.get(delivery.eventId);
    if (!row) return { kind: 'new' };
    if (row.status !== 'pending' || !row.rateWaitUntil) return { kind: 'claimable' };
    if (row.nextAttemptAt!.getTime() <= this.now) {
      if (this.counterBusy) return { kind: 'wait', delayMs: 0, because: 'counter' };
      await this.admit(delivery, limits);
    }
    if (this.status(delivery.eventId) === 'suppressed') return { kind: 'final', status: 'suppressed', justRecorded: true };
    if (!row.rateWaitUntil && !this.deadLink(link)) return { kind: 'claimable' };
    // Never claims a mail waiting for room: cancels it if its link died, or says how long it waits.
    return (await this.claim(delivery.eventId, 0, link)) as WaitingCount;
  }

  admitUnsendable(delivery: NewDelivery, reason: string): Promise<boolean> {
    if (this.rows.has(delivery.eventId)) return Promise.resolve(false);
    this.rows.set(delivery.eventId, this.row(delivery, 'failed', reason));
    return Promise.resolve(true);
  }

  async admitAndClaim(delivery: NewDelivery, limits: RateLimits, leaseMs: number, link: CarriedLink | null = null): Promise<Claim> {
    const reason = this.deadLink(link);
    if (reason && !this.rows.has(delivery.eventId)) {
      this.rows.set(delivery.eventId, this.row(delivery, 'cancelled', reason));
      return { kind: 'cancelled', reason, reclaimed: false };
    }
    const before = this.rows.get(delivery.eventId)?.status;
    await this.admit(delivery, limits);
    const claim = await this.claim(delivery.eventId, leaseMs, link);
    return claim.kind === 'final' && claim.status === 'suppressed' && before !== 'suppressed' ? { ...claim, justRecorded: true } : claim;
  }

  claim(eventId: string, leaseMs: number, link: CarriedLink | null = null): Promise<Claim> {
    const row = this.rows.get(eventId);
    if (!row) return Promise.resolve({ kind: 'missing' });
    if (FINAL_STATUSES.includes(row.status)) return Promise.resolve({ kind: 'final', status: row.status });
    const reason = this.deadLink(link);
    if (reason && (row.status === 'pending' || row.leaseUntil!.getTime() <= this.now)) {
      const reclaimed = row.status === 'sending';
      const lastError = reclaimed ? `${reason}; ${MAY_HAVE_GONE}` : reason;
      Object.assign(row, { status: 'cancelled', lastError, nextAttemptAt: null, leaseUntil: null, rateWaitUntil: null });
      return Promise.resolve({ kind: 'cancelled', reason: lastError, reclaimed });
    }
    const due = row.status === 'pending' ? (row.nextAttemptAt?.getTime() ?? 0) : row.leaseUntil!.getTime();
    const because = row.status === 'sending' ? 'sending' : row.rateWaitUntil ? 'room' : 'retry';
    if (due > this.now || row.rateWaitUntil) return Promise.resolve({ kind: 'wait', delayMs: Math.max(0, due - this.now), because });
    const reclaimed = row.status === 'sending';
    Object.assign(row, { status: 'sending', attempts: row.attempts + 1, leaseUntil: new Date(this.now + leaseMs), nextAttemptAt: null });
    return Promise.resolve({ kind: 'claimed', delivery: { ...row }, reclaimed });
  }

  renewLease(ticket: ClaimTicket, leaseMs: number): Promise<boolean> {
    return Promise.resolve(this.update(ticket, { leaseUntil: new Date(this.now + leaseMs) }));
  }

  markSent(eventId: string): Promise<boolean> {
    if (this.failMarkSent > 0) {
      this.failMarkSent -= 1;
      return Promise.reject(new Error('database away'));
    }
    const row = this.rows.get(eventId)!;
    if (row.status === 'sent') return Promise.resolve(false);
    Object.assign(row, { status: 'sent', sentAt: new Date(this.now), leaseUntil: null, lastError: null });
    return Promise.resolve(true);
  }

  markRetry(ticket: ClaimTicket, error: string, retryInMs: number): Promise<boolean> {
    return Promise.resolve(this.update(ticket, { status: 'pending', lastError: error, nextAttemptAt: new Date(this.now + retryInMs), leaseUntil: null }));
  }

  markFinal(ticket: ClaimTicket, status: 'failed' | 'dead', error: string): Promise<boolean> {
    return Promise.resolve(this.update(ticket, { status, lastError: error, leaseUntil: null }));
  }

  /** Applies `change` if the claim is still held, as the real store does. */
  private update(ticket: ClaimTicket, change: Partial<DeliveryEntity>): boolean {
    const row = this.rows.get(ticket.eventId);
    if (!row || row.status !== 'sending' || row.attempts !== ticket.attempt) return false;
    Object.assign(row, change);
    return true;
  }

  readonly voided = new Set<string>();

  voidLinks(tokenHashes: string[]): Promise<void> {
    for (const hash of tokenHashes) this.voided.add(hash);
    return Promise.resolve();
  }

  /** Why `link` died, as the real store words it, or undefined while it works. */
  private deadLink(link: CarriedLink | null): string | undefined {
    if (!link) return undefined;
    if (link.expired) return 'link expired before the mail could go out';
    return this.voided.has(link.tokenHash) ? 'link voided before the mail could go out' : undefined;
  }

  pruneVoidedLinks(): Promise<number> {
    return Promise.resolve(0);
  }

  page(): Promise<PagedDelivery[]> {
    return Promise.resolve([]);
  }

  pruneRateBuckets(): Promise<number> {
    return Promise.resolve(0);
  }

  pruneDeliveryLog(): Promise<number> {
    return Promise.resolve(0);
  }

  abandonOrphans(): Promise<number> {
    return Promise.resolve(0);
  }

  status(eventId: string): DeliveryStatus | undefined {
    return this.rows.get(eventId)?.status;
  }

  private row(delivery: NewDelivery, status: DeliveryStatus, lastError: string | null): DeliveryEntity {
    const at = new Date(this.now);
    return {
      ...delivery,
      id: `d-${delivery.eventId}`,
      status,
      attempts: 0,
      lastError,
      createdAt: at,
      updatedAt: at,
      lastAttemptAt: null,
      nextAttemptAt: null,
      leaseUntil: null,
      sentAt: null,
      rateWaitUntil: null,
      waitEndedAt: null,
      rateWaitKey: null,
      linkTokenHash: null,
    };
  }
}

/**
 * `outcome` once it settled within a hundred turns of the event loop (the memory store answers at
 * once), or a rejection saying it did not: it waits for something the test holds.
 */
async function settledSoon<T>(outcome: Promise<T>): Promise<T> {
  let settled = false;
  void outcome.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let turn = 0; turn < 100 && !settled; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  if (!settled) throw new Error('still waiting (for a sending slot?)');
  return outcome;
}

/** How many mails this process counted done without an SMTP attempt, in `status`. */
async function unattempted(status: string): Promise<number> {
  const { values } = await mailMetrics.unattempted.get();
  return values.find((sample) => sample.labels.status === status)?.value ?? 0;
}

/** An SMTP server in memory: answers with the scripted errors, then accepts. */
class ScriptedSender extends MailSender {
  readonly sent: Array<{ mail: RenderedMail; messageId: string }> = [];
  readonly script: unknown[] = [];

  messageIdFor(eventId: string): string {
    return `<${eventId}@portico.test>`;
  }

  send(mail: RenderedMail, messageId: string, _signal: AbortSignal): Promise<void> {
    const next = this.script.shift();
    if (next) return Promise.reject(next as Error);
    this.sent.push({ mail, messageId });
    return Promise.resolve();
  }
}

const settings: DeliverySettings = {
  retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 },
  leaseMs: 30_000,
  sendDeadlineMs: 20_000,
  limits: { perRecipient: 10, noticesPerRecipient: 20, perAccount: 1000, windowMinutes: 60, maxWaitMinutes: 60 },
  smtpConcurrency: 2,
};
let sequence = 0;
const newRenderer = () => new MailRenderer({ productName: 'Portico', publicWebUrl: 'http://panel.test' }, TemplateCatalog.builtIn());

function invitation(email = 'ada@example.com', link: { token?: string; expiresAt?: string } = {}): EventEnvelope {
  sequence += 1;
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    type: Events.UserInvited,
    occurredAt: '2026-11-22T10:00:00.000Z',
    accountId: '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10',
    data: {
      accountId: '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10',
      accountName: 'Acme',
      userId: 'u',
      email,
      firstName: 'Ada',
      token: 'token-123',
      expiresAt: '2099-11-29T10:00:00.000Z',
      locale: 'fr',
      ...link,
    },
  };
}

/** A hand-over of Acme from Ada (English) to Grace (French), with `change` made to its data. */
function handOver(change: Partial<OwnershipTransferredData> = {}): EventEnvelope {
  sequence += 1;
  const accountId = '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10';
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    type: Events.OwnershipTransferred,
    occurredAt: '2026-11-22T10:00:00.000Z',
    accountId,
    data: {
      accountId,
      fromUserId: 'u1',
      toUserId: 'u2',
      previousOwnerRole: 'builtin:Admin',
      ownerVersion: 1,
      accountName: 'Acme',
      previousOwnerRoleName: 'Admin',
      newOwner: { email: 'grace@example.com', firstName: 'Grace', locale: 'fr' },
      previousOwner: { email: 'ada@example.com', firstName: 'Ada', locale: 'en' },
      ...change,
    },
  };
}

/** A request to move Ada's login to an address that already has one: a mail without a link, in the standard budget. */
function emailInUse(): EventEnvelope {
  sequence += 1;
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    type: Events.EmailChangeRequested,
    occurredAt: '2026-11-22T10:00:00.000Z',
    accountId: null,
    data: { userId: 'u', email: 'ada@example.com', newEmail: 'ada@work.example', name: 'Ada', inUse: true, locale: 'en' },
  };
}

function linksVoided(tokenHashes: unknown): EventEnvelope {
  sequence += 1;
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    type: Events.LinksVoided,
    occurredAt: '2026-11-22T10:00:00.000Z',
    accountId: null,
    data: { tokenHashes } as never,
  };
}

describe('DeliveryProcessor', () => {
  let store: MemoryStore;
  let sender: ScriptedSender;
  let processor: DeliveryProcessor;

  beforeEach(() => {
    store = new MemoryStore();
    sender = new ScriptedSender();
    processor = new DeliveryProcessor(store, sender, newRenderer(), settings, pino({ level: 'silent' }));
  });

  it('sends the mail of an event once, with the event id as Message-ID, and records it sent', async () => {
    const event = invitation();
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0].messageId).toBe(`<${event.id}@portico.test>`);
    expect(store.rows.get(event.id)).toMatchObject({ status: 'sent', attempts: 1, locale: 'fr', template: 'activation', recipient: 'ada@example.com' });
  });

  it('acknowledges a redelivered event whose mail was sent, without sending again', async () => {
    const event = invitation();
    await processor.process(event);
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(sender.sent).toHaveLength(1);
  });

  it('asks for the event back soon while another replica holds the mail', async () => {
    const event = invitation();
    await store.admit(
      {
        eventId: event.id,
        sourceEventId: null,
        eventType: event.type,
        accountId: null,
        recipient: 'x@y.z',
        template: 'activation',
        locale: 'en',
        messageId: null,
      },
      { budget: 'standard', perRecipient: 10, perAccount: 1000, windowMinutes: 60 },
    );
    await store.claim(event.id, 30_000);
    store.now += 10_000;
    await expect(processor.process(event)).resolves.toEqual({ kind: 'retry', delayMs: 1100 });
    expect(sender.sent).toHaveLength(0);
  });

  it.each([
    ['sent', undefined, 'done'],
    ['a retry', new Error('451 4.3.0 try later'), 'retry'],
  ])('says nothing of a lost claim when a renewal of the lease meets the outcome being recorded (%s, recorded slowly)', async (_outcome, refusal, kind) => {
    /** A store whose recordings end the claim at once but answer late: the lease's renewals run into the outcome. */
    class SlowRecords extends MemoryStore {
      private late<T>(answer: T): Promise<T> {
        return new Promise((resolve) => setTimeout(() => resolve(answer), 60));
      }
      override async markSent(eventId: string): Promise<boolean> {
        return this.late(await super.markSent(eventId));
      }
      override async markRetry(ticket: ClaimTicket, error: string, retryInMs: number): Promise<boolean> {
        return this.late(await super.markRetry(ticket, error, retryInMs));
      }
    }
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    if (refusal) sender.script.push(Object.assign(refusal, { responseCode: 451 }));
    const slow = new DeliveryProcessor(new SlowRecords(), sender, newRenderer(), { ...settings, leaseMs: 30 }, logger);
    await expect(slow.process(invitation())).resolves.toMatchObject({ kind });
    expect(warnings.filter((message) => message.includes('claim'))).toEqual([]);
  });

  it('sends again a mail whose sender stopped mid-send, once its lease ran out (no loss; the documented window)', async () => {
    const event = invitation();
    await store.admit(
      {
        eventId: event.id,
        sourceEventId: null,
        eventType: event.type,
        accountId: null,
        recipient: 'x@y.z',
        template: 'activation',
        locale: 'en',
        messageId: null,
      },
      { budget: 'standard', perRecipient: 10, perAccount: 1000, windowMinutes: 60 },
    );
    await store.claim(event.id, 30_000);
    store.now += 30_001;
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(sender.sent).toHaveLength(1);
    expect(store.rows.get(event.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('retries a temporary failure with backoff, not before its time, then sends', async () => {
    const event = invitation();
    sender.script.push(Object.assign(new Error('451 try later'), { responseCode: 451, code: 'EMESSAGE' }));
    const first = await processor.process(event);
    expect(first.kind).toBe('retry');
    const delay = (first as { delayMs: number }).delayMs;
    expect(delay).toBeGreaterThanOrEqual(500);
    expect(delay).toBeLessThanOrEqual(1000);
    expect(store.rows.get(event.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: '451 try later' });

    const early = await processor.process(event);
    expect(early.kind).toBe('retry');
    expect(sender.sent).toHaveLength(0);

    store.now += delay;
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(store.rows.get(event.id)).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
  });

  it('stops at a permanent refusal (5xx) and records it', async () => {
    const event = invitation();
    sender.script.push(Object.assign(new Error('550 no such user'), { responseCode: 550, code: 'EENVELOPE', command: 'RCPT TO' }));
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(store.rows.get(event.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: '550 no such user' });
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(sender.sent).toHaveLength(0);
  });

  it('makes a dead letter of a mail that failed temporarily MAX times', async () => {
    const event = invitation();
    for (let attempt = 0; attempt < 3; attempt += 1) sender.script.push(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }));
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const outcome = await processor.process(event);
      expect(outcome.kind).toBe(attempt < 3 ? 'retry' : 'done');
      store.now += 60_000;
    }
    expect(store.rows.get(event.id)).toMatchObject({ status: 'dead', attempts: 3, lastError: 'connect ECONNREFUSED' });
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(sender.sent).toHaveLength(0);
  });

  it('does not send a mail without a link over the rate limit (recorded suppressed); a password-changed notice, counted in the budget of notices, still goes', async () => {
    store.spent.add('standard');
    const event = emailInUse();
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(store.status(event.id)).toBe('suppressed');
    expect(store.admitted[0].limits).toEqual({ budget: 'standard', perRecipient: 10, perAccount: 1000, windowMinutes: 60, waitUntil: null });

    const changed: EventEnvelope = {
      ...invitation(),
      type: Events.PasswordChanged,
      data: {
        accountId: null,
        principalType: 'user',
        principalId: 'u',
        email: 'ada@example.com',
        name: 'Ada',
        changedAt: '2026-11-22T10:00:00Z',
        locale: 'en',
      },
    };
    await processor.process(changed);
    expect(store.status(changed.id)).toBe('sent');
    expect(store.admitted[1].limits).toEqual({ budget: 'notice', perRecipient: 20, perAccount: 1000, windowMinutes: 60, waitUntil: null });
  });

  describe('a mail carrying a link over its rate limit', () => {
    it('waits for room in the window instead of being suppressed, then goes once there is room', async () => {
      store.spent.add('standard');
      const event = invitation();
      const first = await processor.process(event);
      expect(first).toEqual({ kind: 'retry', delayMs: store.roomInMs + 100 });
      expect(store.rows.get(event.id)).toMatchObject({ status: 'pending', attempts: 0 });
      expect(sender.sent).toHaveLength(0);

      store.now += store.roomInMs;
      store.spent.delete('standard');
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(store.rows.get(event.id)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(sender.sent).toHaveLength(1);
    });

    it('is counted on its return without a sending slot: a return that finds no room, or its counter locked, waits for no SMTP connection', async () => {
      const held: Array<() => void> = [];
      let holding = true;
      sender.send = (mail, messageId) =>
        new Promise<void>((resolve) => {
          const accept = () => resolve(void sender.sent.push({ mail, messageId }));
          if (holding) held.push(accept);
          else accept();
        });
      store.spent.add('standard');
      const waiting = invitation('ada@example.com', { token: 'waiting-link' });
      const first = (await processor.process(waiting)) as { delayMs: number };
      store.spent.delete('standard');
      // Both SMTP connections taken by other mails, in the server's hands until the test lets them go.
      const others = ['b', 'c'].map((name) => processor.process(invitation(`${name}@example.com`)));
      while (held.length < 2) await new Promise((resolve) => setImmediate(resolve));
      store.spent.add('standard');
      store.now += first.delayMs;
      await expect(settledSoon(processor.process(waiting))).resolves.toEqual({ kind: 'retry', delayMs: expect.any(Number) });
      expect(store.rows.get(waiting.id)).toMatchObject({ status: 'pending', attempts: 0 });

      store.counterBusy = true;
      store.now = store.rows.get(waiting.id)!.nextAttemptAt!.getTime();
      const busy = (await settledSoon(processor.process(waiting))) as { kind: string; delayMs: number };
      expect(busy.kind).toBe('retry');
      expect(busy.delayMs).toBeGreaterThanOrEqual(COUNTER_BUSY_RETRY_MS / 2);
      expect(busy.delayMs).toBeLessThanOrEqual(COUNTER_BUSY_RETRY_MS);

      holding = false;
      held.forEach((accept) => accept());
      await Promise.all(others);
      store.counterBusy = false;
      store.spent.delete('standard');
      await expect(processor.process(waiting)).resolves.toEqual({ kind: 'done' });
      expect(sender.sent.map((sent) => sent.mail.to)).toEqual(['b@example.com', 'c@example.com', 'ada@example.com']);
    });

    it('may wait MAIL_RATE_MAX_WAIT_MINUTES at most, and never past its link expiry', async () => {
      store.spent.add('standard');
      await processor.process(invitation('ada@example.com', { expiresAt: '2099-01-01T00:00:00.000Z' }));
      const longest = store.admitted[0].limits.waitUntil!.getTime() - Date.now();
      expect(longest).toBeGreaterThan(59 * 60_000);
      expect(longest).toBeLessThanOrEqual(60 * 60_000);
      const soon = new Date(Date.now() + 30 * 60_000).toISOString();
      await processor.process(invitation('ada@example.com', { expiresAt: soon }));
      expect(store.admitted[1].limits.waitUntil).toEqual(new Date(soon));
    });

    it('is suppressed once the window has had no room for it until its wait ended', async () => {
      store.now = Date.now(); // the clock the processor reads to bound the wait
      store.spent.add('standard');
      const event = invitation();
      let outcome = await processor.process(event);
      for (let comebacks = 0; outcome.kind === 'retry' && comebacks < 1000; comebacks += 1) {
        store.now += outcome.delayMs;
        outcome = await processor.process(event);
      }
      expect(store.rows.get(event.id)).toMatchObject({ status: 'suppressed', attempts: 0 });
      expect(sender.sent).toHaveLength(0);
      expect(store.admitted.length).toBeGreaterThan(2);
    });

    it('is cancelled instead of sent when its link is voided while it waits', async () => {
      store.spent.add('standard');
      const event = invitation('ada@example.com', { token: 'older-link' });
      const first = await processor.process(event);
      await processor.process(linksVoided([linkTokenHash('older-link')]));
      store.now += (first as { delayMs: number }).delayMs;
      store.spent.delete('standard');
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(store.rows.get(event.id)).toMatchObject({ status: 'cancelled', lastError: 'link voided before the mail could go out' });
      expect(sender.sent).toHaveLength(0);
    });

    it('is suppressed at once, as before, when MAIL_RATE_MAX_WAIT_MINUTES is 0', async () => {
      processor = new DeliveryProcessor(
        store,
        sender,
        newRenderer(),
        { ...settings, limits: { ...settings.limits, maxWaitMinutes: 0 } },
        pino({ level: 'silent' }),
      );
      store.spent.add('standard');
      const event = invitation();
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(store.status(event.id)).toBe('suppressed');
    });
  });

  it.each([
    ['self', 'self-service'],
    ['admin', 'standard'],
  ] as const)('counts a password reset requested by %s in the %s budget', async (requestedBy, budget) => {
    const reset: EventEnvelope = {
      ...invitation(),
      type: Events.PasswordResetRequested,
      data: {
        accountId: null,
        accountSlug: null,
        principalType: 'user',
        principalId: 'u',
        email: 'ada@example.com',
        name: 'Ada',
        token: 'token',
        expiresAt: '2099-01-01T00:00:00Z',
        locale: 'en',
        requestedBy,
      },
    };
    await expect(processor.process(reset)).resolves.toEqual({ kind: 'done' });
    expect(store.admitted[0].limits).toMatchObject({ budget, perRecipient: 10, perAccount: 1000, windowMinutes: 60 });
  });

  it('records an event that cannot make a mail as failed, without retrying it', async () => {
    const event = invitation('not an address');
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(store.rows.get(event.id)).toMatchObject({ status: 'failed', attempts: 0, template: 'activation' });
    expect(store.rows.get(event.id)!.lastError).toMatch(/invalid event/);
  });

  it('counts the mails that end without an SMTP attempt (no usable address, over a rate limit), once each however often their event comes', async () => {
    const before = { failed: await unattempted('failed'), suppressed: await unattempted('suppressed') };
    const invalid = invitation('not an address');
    store.spent.add('standard');
    const overLimit = emailInUse();
    for (const event of [invalid, overLimit, invalid, overLimit]) await processor.process(event);
    expect(await unattempted('failed')).toBe(before.failed + 1);
    expect(await unattempted('suppressed')).toBe(before.suppressed + 1);
  });

  it('records an event whose token is not Unicode text (a lone surrogate) as failed, instead of throwing for a retry', async () => {
    const event = invitation('ada@example.com', { token: 'token-\uD800' });
    await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
    expect(store.rows.get(event.id)).toMatchObject({
      status: 'failed',
      attempts: 0,
      lastError: "invalid event: the event's token is not Unicode text (a lone surrogate)",
    });
    expect(sender.sent).toHaveLength(0);
  });

  it('claims (marks sending) only as many mails as SMTP takes at once', async () => {
    let inFlight = 0;
    let most = 0;
    let mostSending = 0;
    sender.send = async (mail, messageId) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      mostSending = Math.max(mostSending, [...store.rows.values()].filter((row) => row.status === 'sending').length);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      sender.sent.push({ mail, messageId });
    };
    await Promise.all(Array.from({ length: 10 }, (_, n) => processor.process(invitation(`p${n}@example.com`))));
    expect(sender.sent).toHaveLength(10);
    expect(most).toBe(2);
    expect(mostSending).toBe(2);
  });

  it('once stopping aborts, claims no mail still waiting for an SMTP connection: its event comes back at once, untouched', async () => {
    const held: Array<() => void> = [];
    let holding = true;
    sender.send = (mail, messageId) =>
      new Promise<void>((resolve) => {
        const accept = () => {
          sender.sent.push({ mail, messageId });
          resolve();
        };
        if (holding) held.push(accept);
        else accept();
      });
    const stopping = new AbortController();
    const events = ['a', 'b', 'c'].map((name) => invitation(`${name}@example.com`));
    const outcomes = events.map((event) => processor.process(event, stopping.signal));
    // Two SMTP connections: two mails in their hands, the third waiting for one.
    while (held.length < 2) await new Promise((resolve) => setImmediate(resolve));

    stopping.abort();
    holding = false;
    held.forEach((accept) => accept());
    await expect(Promise.all(outcomes)).resolves.toEqual([{ kind: 'done' }, { kind: 'done' }, { kind: 'retry', delayMs: 0 }]);
    expect(sender.sent.map((sent) => sent.mail.to)).toEqual(['a@example.com', 'b@example.com']);
    expect(store.rows.has(events[2].id)).toBe(false);
    // Redelivered to a replica that is not stopping, it goes.
    await expect(processor.process(events[2])).resolves.toEqual({ kind: 'done' });
    expect(sender.sent.map((sent) => sent.mail.to)).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
  });

  it('ignores events that make no mail', async () => {
    const created: EventEnvelope = { ...invitation(), type: Events.AccountCreated, data: { accountId: 'a', slug: 's', ownerUserId: 'u' } };
    await expect(processor.process(created)).resolves.toEqual({ kind: 'done' });
    expect(store.rows.size).toBe(0);
  });

  it.each([Events.AccountCreated, Events.AccountClosed, Events.PrincipalActivityChanged, Events.RoleCreated, Events.ApplicationDeleted])(
    'acknowledges at once an event of a type known to make no mail (%s)',
    async (type) => {
      await expect(processor.process({ ...invitation(), type })).resolves.toEqual({ kind: 'done' });
      expect(store.rows.size).toBe(0);
    },
  );

  it('keeps an event of a type it does not know for a newer release: back in a minute, untouched, said once per type', async () => {
    const lines: Array<{ level: number; type?: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; type?: string }) });
    processor = new DeliveryProcessor(store, sender, newRenderer(), settings, logger);
    const unknown = (type: string) => ({ ...invitation(), type }) as unknown as EventEnvelope;

    for (const event of [unknown('identity.mail.new'), unknown('identity.mail.new'), unknown('identity.other.new'), unknown('identity.mail.new')])
      await expect(processor.process(event)).resolves.toEqual({ kind: 'retry', delayMs: UNKNOWN_EVENT_RETRY_MS });
    expect(UNKNOWN_EVENT_RETRY_MS).toBe(60_000);
    expect(store.rows.size).toBe(0);
    expect(sender.sent).toHaveLength(0);
    expect(lines.map((line) => [line.level, line.type])).toEqual([
      [40, 'identity.mail.new'],
      [40, 'identity.other.new'],
    ]);
  });

  it('keeps recording sent a mail the server accepted, its lease renewed, for as long as the database is away (longer than the lease): one copy', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const event = invitation();
      let renewals = 0;
      const renewLease = store.renewLease.bind(store);
      store.renewLease = (ticket, leaseMs) => ((renewals += 1), renewLease(ticket, leaseMs));
      store.failMarkSent = Number.MAX_SAFE_INTEGER;
      let outcome: unknown = 'none yet';
      void processor.process(event).then(
        (value) => (outcome = value),
        (error: Error) => (outcome = error.message),
      );
      await jest.advanceTimersByTimeAsync(3 * settings.leaseMs);
      expect(outcome).toBe('none yet');
      expect(renewals).toBeGreaterThanOrEqual(8);

      // The event comes again meanwhile (a copy published twice): it waits for the same recording, sends nothing.
      const again = processor.process(event);
      store.failMarkSent = 0;
      await jest.advanceTimersByTimeAsync(5000);
      expect(outcome).toEqual({ kind: 'done' });
      await expect(again).resolves.toEqual({ kind: 'done' });
      expect(sender.sent).toHaveLength(1);
      expect(store.status(event.id)).toBe('sent');
      const renewedUntilRecorded = renewals;
      await jest.advanceTimersByTimeAsync(settings.leaseMs);
      expect(renewals).toBe(renewedUntilRecorded);
    } finally {
      jest.useRealTimers();
    }
  });

  it('lets a slow but healthy SMTP exchange (50 s, past 3/4 of the 60 s ack wait) end: one copy, recorded sent (the deadline is MAIL_SEND_DEADLINE_MS)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const config = { MAIL_ACK_WAIT_MS: 60_000, MAIL_SEND_DEADLINE_MS: 300_000, SMTP_TIMEOUT_MS: 30_000, SMTP_POOL_SIZE: 4, MAIL_MAX_ATTEMPTS: 12 };
      const slow = new DeliveryProcessor(
        store,
        sender,
        new MailRenderer({ productName: 'Portico', publicWebUrl: 'http://panel.test' }, TemplateCatalog.builtIn()),
        deliverySettings({ ...config, MAIL_RETRY_BASE_MS: 5000, MAIL_RETRY_MAX_MS: 1_800_000, MAIL_RATE_PER_RECIPIENT: 0 } as NotificationsConfig),
        pino({ level: 'silent' }),
      );
      let abortedBy: unknown;
      // A server scanning the content at the end of DATA: nearly SMTP_TIMEOUT_MS for that reply, after the others; 50 s in all.
      sender.send = (mail, messageId, signal) =>
        new Promise<void>((resolve, reject) => {
          signal.addEventListener('abort', () => reject((abortedBy = signal.reason) as Error), { once: true });
          setTimeout(() => {
            sender.sent.push({ mail, messageId });
            resolve();
          }, 50_000);
        });
      const event = invitation();
      const outcome = slow.process(event);
      await jest.advanceTimersByTimeAsync(50_000);

      await expect(outcome).resolves.toEqual({ kind: 'done' });
      expect(abortedBy).toBeUndefined();
      expect(sender.sent).toHaveLength(1);
      expect(store.rows.get(event.id)).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
    } finally {
      jest.useRealTimers();
    }
  });

  describe('mails whose link died before they went out', () => {
    it('cancels the mail of a link identity voided, and still sends the mail of the link that replaced it', async () => {
      const old = invitation('ada@example.com', { token: 'old-link' });
      const replacing = invitation('ada@example.com', { token: 'new-link' });
      await expect(processor.process(linksVoided([linkTokenHash('old-link')]))).resolves.toEqual({ kind: 'done' });
      await expect(processor.process(old)).resolves.toEqual({ kind: 'done' });
      await expect(processor.process(replacing)).resolves.toEqual({ kind: 'done' });
      expect(sender.sent.map((sent) => sent.mail.text)).toEqual([expect.stringContaining('new-link')]);
      expect(store.status(old.id)).toBe('cancelled');
      expect(store.status(replacing.id)).toBe('sent');
    });

    it('cancels a mail waiting for its retry when its link is voided meanwhile', async () => {
      const event = invitation('ada@example.com', { token: 'retried-link' });
      sender.script.push(Object.assign(new Error('451 try later'), { responseCode: 451, code: 'EMESSAGE' }));
      const first = await processor.process(event);
      expect(first.kind).toBe('retry');
      await processor.process(linksVoided([linkTokenHash('retried-link')]));
      store.now += (first as { delayMs: number }).delayMs;
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(sender.sent).toHaveLength(0);
      expect(store.rows.get(event.id)).toMatchObject({ status: 'cancelled', attempts: 1 });
    });

    it('cancels a mail whose link was voided while it waited for a free SMTP connection', async () => {
      let release!: () => void;
      const busyConnection = new Promise<void>((resolve) => (release = resolve));
      const texts: string[] = [];
      class OneSlowSend extends MailSender {
        messageIdFor(eventId: string): string {
          return `<${eventId}@portico.test>`;
        }
        async send(mail: RenderedMail): Promise<void> {
          if (texts.length === 0) await busyConnection;
          texts.push(mail.text);
        }
      }
      const renderer = new MailRenderer({ productName: 'Portico', publicWebUrl: 'http://panel.test' }, TemplateCatalog.builtIn());
      const oneConnection = new DeliveryProcessor(store, new OneSlowSend(), renderer, { ...settings, smtpConcurrency: 1 }, pino({ level: 'silent' }));
      const busy = oneConnection.process(invitation('other@example.com', { token: 'busy-link' }));
      const old = invitation('ada@example.com', { token: 'old-link' });
      const waiting = oneConnection.process(old);
      await new Promise((resolve) => setTimeout(resolve, 10));
      await oneConnection.process(linksVoided([linkTokenHash('old-link')]));
      release();
      await Promise.all([busy, waiting]);
      expect(store.status(old.id)).toBe('cancelled');
      expect(texts).toEqual([expect.stringContaining('busy-link')]);
    });

    it('cancels a mail whose link has expired, and not one whose link still works', async () => {
      const expired = invitation('ada@example.com', { expiresAt: new Date(Date.now() - 1000).toISOString() });
      const live = invitation('ada@example.com', { expiresAt: new Date(Date.now() + 60_000).toISOString() });
      await processor.process(expired);
      await processor.process(live);
      expect(store.status(expired.id)).toBe('cancelled');
      expect(store.status(live.id)).toBe('sent');
      expect(sender.sent).toHaveLength(1);
    });

    it.each([
      ['no list', undefined],
      ['a list of something else', [42]],
      ['a hash that is not SHA-256 hex', ['old-link']],
    ])('ignores a voided-links event with %s, remembering nothing', async (_case, hashes) => {
      await expect(processor.process(linksVoided(hashes))).resolves.toEqual({ kind: 'done' });
      expect(store.voided.size).toBe(0);
    });
  });

  describe('the two mails of a hand-over (one event)', () => {
    const received = (event: EventEnvelope) => store.rows.get(deliveryKey(event.id, 'ownership-received'));
    const handedOver = (event: EventEnvelope) => store.rows.get(deliveryKey(event.id, 'ownership-handed-over'));

    it('sends each person their mail once, each under its own key and Message-ID, both naming the event', async () => {
      const event = handOver();
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(sender.sent.map((sent) => [sent.mail.to, sent.mail.template]).sort()).toEqual([
        ['ada@example.com', 'ownership-handed-over'],
        ['grace@example.com', 'ownership-received'],
      ]);
      expect(new Set(sender.sent.map((sent) => sent.messageId)).size).toBe(2);
      expect(sender.sent.map((sent) => sent.messageId)).not.toContain(`<${event.id}@portico.test>`);
      expect(received(event)).toMatchObject({ status: 'sent', sourceEventId: event.id, eventType: Events.OwnershipTransferred, locale: 'fr' });
      expect(handedOver(event)).toMatchObject({ status: 'sent', sourceEventId: event.id, eventType: Events.OwnershipTransferred, locale: 'en' });
    });

    it('has the event back while one mail waits for its retry, and then sends only that one', async () => {
      const event = handOver();
      sender.script.push(Object.assign(new Error('451 try later'), { responseCode: 451, code: 'EMESSAGE' }));
      const first = await processor.process(event);
      expect(first.kind).toBe('retry');
      expect(sender.sent).toHaveLength(1);
      store.now += (first as { delayMs: number }).delayMs;
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(sender.sent.map((sent) => sent.mail.to).sort()).toEqual(['ada@example.com', 'grace@example.com']);
      expect([received(event)!.status, handedOver(event)!.status]).toEqual(['sent', 'sent']);
    });

    it("counts the previous owner's notice in the budget of notices, so a budget of other mails that is spent does not hold it back", async () => {
      store.spent.add('standard');
      const event = handOver();
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(received(event)!.status).toBe('suppressed');
      expect(handedOver(event)!.status).toBe('sent');
      expect(store.admitted.map(({ delivery, limits }) => [delivery.template, limits.budget]).sort()).toEqual([
        ['ownership-handed-over', 'notice'],
        ['ownership-received', 'standard'],
      ]);
    });

    it('records the mail an event cannot make as failed, and still sends the other', async () => {
      const event = handOver({ newOwner: { email: 'not an address', firstName: 'Grace', locale: 'fr' } });
      await expect(processor.process(event)).resolves.toEqual({ kind: 'done' });
      expect(received(event)).toMatchObject({ status: 'failed', recipient: 'not an address', locale: 'fr', sourceEventId: event.id });
      expect(sender.sent.map((sent) => sent.mail.to)).toEqual(['ada@example.com']);
    });

    it('skips, with a line in the log, the mails of an event written before them, and acknowledges it', async () => {
      const lines: string[] = [];
      const logged = new DeliveryProcessor(store, sender, newRenderer(), settings, pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }));
      const older = handOver({ newOwner: undefined, previousOwner: undefined, accountName: undefined, previousOwnerRoleName: undefined });
      await expect(logged.process(older)).resolves.toEqual({ kind: 'done' });
      expect(store.rows.size).toBe(0);
      expect(sender.sent).toHaveLength(0);
      expect(lines.map((line) => JSON.parse(line) as { msg: string; template: string; eventId: string })).toEqual([
        expect.objectContaining({ msg: 'Event predates this mail; not sent', template: 'ownership-received', eventId: older.id }),
        expect.objectContaining({ msg: 'Event predates this mail; not sent', template: 'ownership-handed-over', eventId: older.id }),
      ]);
    });
  });
});

describe('the delivery settings of a configuration', () => {
  const config = { SMTP_POOL_SIZE: 4, MAIL_MAX_ATTEMPTS: 12, MAIL_RETRY_BASE_MS: 5000, MAIL_RETRY_MAX_MS: 1_800_000 };

  it.each([
    [1000, 300_000],
    [3000, 300_000],
    [60_000, 300_000],
    [60_000, 40_000],
    [3_600_000, 600_000],
  ])('lease a mail for MAIL_ACK_WAIT_MS (%i) and give one SMTP send MAIL_SEND_DEADLINE_MS (%i), whatever the lease', (ackWaitMs, sendDeadlineMs) => {
    const settings = deliverySettings({ ...config, MAIL_ACK_WAIT_MS: ackWaitMs, MAIL_SEND_DEADLINE_MS: sendDeadlineMs } as NotificationsConfig);
    expect(settings).toMatchObject({ leaseMs: ackWaitMs, sendDeadlineMs });
  });
});
