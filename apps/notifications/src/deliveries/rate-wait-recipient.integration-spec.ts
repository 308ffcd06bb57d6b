import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { linkTokenHash } from '#libs/contracts/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { notificationsDatabase } from '../notifications.database.js';
import { accountKey, PostgresDeliveryStore, recipientKey, type NewDelivery, type RateLimits } from './delivery.store.js';

const database = new TestDatabase();
let dataSource: DataSource;
let store: PostgresDeliveryStore;

function delivery(accountId: string, recipient: string): NewDelivery {
  return {
    eventId: randomUUID(),
    sourceEventId: null,
    eventType: 'identity.user.invited',
    accountId,
    recipient,
    template: 'activation',
    locale: 'en',
    messageId: '<x@t>',
  };
}
const link = (token: string) => ({ tokenHash: linkTokenHash(token), expired: false });
async function counter(key: string): Promise<number> {
  const [{ n }] = await dataSource.query<Array<{ n: number }>>('SELECT coalesce(sum(count),0)::int AS n FROM mail_rate_buckets WHERE key = $1', [key]);
  return n;
}
/** Moves the account's clock (its counter and its mails) back by `minutes`. */
async function moveAccountOn(accountId: string, minutes: number): Promise<void> {
  await dataSource.query(`UPDATE mail_rate_buckets SET bucket = bucket - make_interval(mins => $2) WHERE key = $1`, [
    accountKey(accountId, 'standard'),
    minutes,
  ]);
  await dataSource.query(
    `UPDATE deliveries SET created_at = created_at - make_interval(mins => $2), next_attempt_at = next_attempt_at - make_interval(mins => $2),
       rate_wait_until = rate_wait_until - make_interval(mins => $2) WHERE account_id = $1`,
    [accountId, minutes],
  );
}

beforeAll(async () => {
  await database.create();
  dataSource = new DataSource(dataSourceOptions(notificationsDatabase({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: 20 })));
  await dataSource.initialize();
  store = new PostgresDeliveryStore(dataSource);
});
afterAll(async () => {
  await dataSource?.destroy();
  await database.drop();
});

describe("a link mail held back by the account's limit", () => {
  it("waits without using its recipient's room, on recording nor at a return that waits again (review: it was charged each time), and is counted once it goes", async () => {
    const account = randomUUID();
    const limits: RateLimits = { budget: 'standard', perRecipient: 2, perAccount: 1, windowMinutes: 60, waitUntil: new Date(Date.now() + 23 * 3_600_000) };
    // The account's one mail of the window goes to someone else.
    expect(await store.admitAndClaim(delivery(account, 'other@example.com'), limits, 60_000, link(randomUUID()))).toMatchObject({ kind: 'claimed' });
    // Bob has had no mail at all; his invitation waits for the account's room.
    const bob = `bob-${randomUUID()}@example.com`;
    const invite = delivery(account, bob);
    const token = randomUUID();
    expect(await store.admitAndClaim(invite, limits, 60_000, link(token))).toMatchObject({ kind: 'wait', because: 'room' });
    const afterRecording = await counter(recipientKey(bob, 'standard'));
    // The account's window frees, but another mail of the account takes the room first; Bob's comes back and waits again.
    await moveAccountOn(account, 61);
    expect(await store.admitAndClaim(delivery(account, 'third@example.com'), limits, 60_000, link(randomUUID()))).toMatchObject({ kind: 'claimed' });
    const comeback = await store.admitAndClaim(invite, limits, 60_000, link(token));
    const afterComeback = await counter(recipientKey(bob, 'standard'));
    // Once more: the account frees, Bob's mail comes back first now.
    await moveAccountOn(account, 61);
    const last = await store.admitAndClaim(invite, limits, 60_000, link(token));
    const [row] = await dataSource.query<Array<{ status: string }>>('SELECT status FROM deliveries WHERE event_id = $1', [invite.eventId]);
    expect(comeback).toMatchObject({ kind: 'wait', because: 'room' });
    expect(last).toMatchObject({ kind: 'claimed' });
    expect({ afterRecording, afterComeback, status: row.status }).toEqual({ afterRecording: 0, afterComeback: 0, status: 'sending' });
    expect(await counter(recipientKey(bob, 'standard'))).toBe(1);
  });
});
