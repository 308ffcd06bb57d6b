import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { linkTokenHash } from '#libs/contracts/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { notificationsDatabase } from '../notifications.database.js';
import { PostgresDeliveryStore, type NewDelivery, type RateLimits } from './delivery.store.js';

const database = new TestDatabase();
let dataSource: DataSource;
let store: PostgresDeliveryStore;
const limits: RateLimits = { budget: 'standard', perRecipient: 0, perAccount: 0, windowMinutes: 60 };

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

/** Until `count` sessions of this database wait for a lock, or `unless` says to stop looking. */
async function lockWaits(count: number, unless: () => boolean): Promise<void> {
  while (!unless()) {
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
    if (n >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('claim() of a mail waiting for a retry (its record step done before) waits for a voiding of its link under way, and cancels it (review: no test failed without the lock in claim)', async () => {
  const racing = { tokenHash: linkTokenHash(randomUUID()), expired: false };
  const mail: NewDelivery = {
    eventId: randomUUID(),
    sourceEventId: null,
    eventType: 'identity.user.invited',
    accountId: null,
    recipient: 'a@example.com',
    template: 'activation',
    locale: 'en',
    messageId: null,
  };
  await store.admitAndClaim(mail, limits, 60_000, racing);
  await store.markRetry({ eventId: mail.eventId, attempt: 1 }, '451 later', 0);
  const blocker = dataSource.createQueryRunner();
  await blocker.startTransaction();
  try {
    await blocker.query('INSERT INTO voided_links (token_hash) VALUES ($1)', [racing.tokenHash]);
    const voiding = store.voidLinks([racing.tokenHash]);
    await lockWaits(1, () => false);
    let done = false;
    const claim = store.claim(mail.eventId, 60_000, racing).finally(() => (done = true));
    await lockWaits(2, () => done);
    await blocker.rollbackTransaction();
    await voiding;
    expect(await claim).toMatchObject({ kind: 'cancelled' });
  } finally {
    if (blocker.isTransactionActive) await blocker.rollbackTransaction();
    await blocker.release();
  }
});
