import type { MigrationInterface } from 'typeorm';
import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { MailsWaitingInOrder1735400000000 } from './1735400000000-mails-waiting-in-order.js';
import { WaitingMailsByCounter1735500000000 } from './1735500000000-waiting-mails-by-counter.js';
import { WaitingMailsLinks1735600000000 } from './1735600000000-waiting-mails-links.js';
import { WaitingMailsByLink1735700000000 } from './1735700000000-waiting-mails-by-link.js';

// Two columns of the mails waiting for room, each added by one migration and indexed (CONCURRENTLY) by the next.

const db = new NotificationsTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

describe.each([
  {
    what: 'migrations 1735400000000 and 1735500000000: the counter a mail waits on',
    column: new MailsWaitingInOrder1735400000000() as MigrationInterface,
    index: new WaitingMailsByCounter1735500000000() as MigrationInterface,
    indexName: 'deliveries_waiting_by_counter',
    indexed: 'rate_wait_key, created_at, id',
  },
  {
    what: 'migrations 1735600000000 and 1735700000000: the link a waiting mail carries',
    column: new WaitingMailsLinks1735600000000() as MigrationInterface,
    index: new WaitingMailsByLink1735700000000() as MigrationInterface,
    indexName: 'deliveries_waiting_by_link',
    indexed: 'link_token_hash',
  },
])('$what', ({ column, index, indexName, indexed }) => {
  const waitingIndex = () => db.index(indexName);

  it('gives up on a busy deliveries table (lock_timeout, for the Job to retry) rather than queue every mail behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'notifications.deliveries', column, step)).resolves.toMatchObject({
        code: '55P03',
      });
    }
  });

  it('indexes the mails waiting alone (a partial index)', async () => {
    expect(await waitingIndex()).toEqual({
      valid: true,
      definition: expect.stringContaining(`USING btree (${indexed}) WHERE ((status = 'pending'::text) AND (rate_wait_until IS NOT NULL))`) as unknown,
    });
  });

  it('go down (the index dropped outside a transaction, then the column) and up again', async () => {
    expect(index.transaction).toBe(false);
    await migrateOutsideTransaction(db.dataSource, index, 'down');
    expect(await waitingIndex()).toBeUndefined();
    expect(await lockTimeoutAfter(db.dataSource, column, 'down')).toBe('0');
    expect(await lockTimeoutAfter(db.dataSource, column, 'up')).toBe('0');
    await migrateOutsideTransaction(db.dataSource, index, 'up');
    expect(await waitingIndex()).toEqual(expect.objectContaining({ valid: true }));
  });
});
