import { jetstreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import request from 'supertest';
import { DurableConsumers, Events, EVENTS_STREAM, eventSubject, IDENTITY_EVENTS, type EventEnvelope, type EventType } from '#libs/contracts/index.js';
import { NatsLink, publishEvent } from '#libs/platform/index.js';
import type { TestSystem } from '#libs/testing/system.js';
import { consumerCaughtUp } from '#libs/testing/consumer-caught-up.js';

/** Creates `count` accounts through the API (a few at a time); each owner is sent an activation mail. */
export async function signUps(system: TestSystem, count: number, prefix: string): Promise<Array<{ accountId: string; email: string }>> {
  const created: Array<{ accountId: string; email: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const email = `${prefix}-${n}@mail.test`;
      const response = await request(system.url)
        .post('/v1/accounts')
        .send({ name: `${prefix} ${n}`, slug: `${prefix}-${n}`, owner: { firstName: 'Ada', lastName: 'Lovelace', email, phone: '+447700900123' } });
      if (response.status !== 201) throw new Error(`sign-up ${n}: ${response.status} ${JSON.stringify(response.body)}`);
      created.push({ accountId: (response.body as { id: string }).id, email });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return created;
}

/** A NATS connection of the test's own, to publish events as identity would. */
export function openLink(system: TestSystem): Promise<NatsLink> {
  return NatsLink.open({ url: system.nats.url, name: 'test', logger: pino({ level: 'silent' }) });
}

/** An event envelope as identity's outbox writer makes it. */
export function envelope<T extends EventType>(type: T, accountId: string | null, data: EventEnvelope<T>['data']): EventEnvelope {
  const event: EventEnvelope<T> = { id: randomUUID(), type, occurredAt: new Date().toISOString(), accountId, data };
  return event;
}

/** Publishes an event to JetStream (message id = event id); its sequence in the stream. */
export function publish(link: NatsLink, event: EventEnvelope): Promise<number> {
  return publishEvent(link, eventSubject(event.type), event);
}

/** Whether the events stream still holds the message at `seq` (read by its sequence). */
export async function inStream(link: NatsLink, seq: number): Promise<boolean> {
  const manager = await jetstreamManager(link.connection);
  return (await manager.streams.getMessage(EVENTS_STREAM, { seq })) !== null;
}

/** An invitation event for `email`. */
export function invitation(email: string, accountId: string = randomUUID(), locale = 'en'): EventEnvelope {
  return envelope(Events.UserInvited, accountId, {
    accountId,
    accountName: 'Acme',
    userId: randomUUID(),
    email,
    firstName: 'Ada',
    token: `token-${randomUUID()}`,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    locale,
  });
}

/** Writes events straight into identity's outbox, as a committed transaction of identity would. */
export async function writeOutbox(system: TestSystem, events: EventEnvelope[]): Promise<void> {
  for (const event of events) {
    await system.database.query('INSERT INTO identity.outbox (id, type, account_id, payload) VALUES ($1, $2, $3, $4)', [
      event.id,
      event.type,
      event.accountId,
      JSON.stringify(event),
    ]);
  }
}

/** The Message-ID notifications gives the mail of an event (MAIL_FROM of the test system is at portico.test). */
export function messageIdOf(eventId: string): string {
  return `<${eventId}@portico.test>`;
}

/** Rows of the delivery table by status. */
export async function statusCounts(system: TestSystem): Promise<Record<string, number>> {
  const rows = await system.database.query<{ status: string; count: number }>(
    'SELECT status, count(*)::int AS count FROM notifications.deliveries GROUP BY status',
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count]));
}

/** Resolves once the notifications consumer has been handed every identity event in the stream and answered each (see consumerCaughtUp). */
export function consumerIdle(link: NatsLink, timeoutMs = 30_000): Promise<void> {
  return consumerCaughtUp(link.connection, DurableConsumers.Mail, IDENTITY_EVENTS, timeoutMs);
}
