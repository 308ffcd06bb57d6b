import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { MailsWaitingInOrder1735400000000 } from './1735400000000-mails-waiting-in-order.js';
import { WaitingMailsByCounter1735500000000 } from './1735500000000-waiting-mails-by-counter.js';

const db = new NotificationsTestDatabase();
const column = new MailsWaitingInOrder1735400000000();
const index = new WaitingMailsByCounter1735500000000();
const waitingIndex = () => db.index('deliveries_waiting_by_counter');

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migrations 1735400000000 and 1735500000000: mails waiting in order', () => {
  it('gives up on a busy deliveries table (lock_timeout, for the Job to retry) rather than queue every mail behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'notifications.deliveries', column, step)).resolves.toMatchObject({
        code: '55P03',
      });
    }
  });

  it('finds the mails waiting on a counter, oldest first, through a partial index of the mails waiting alone', async () => {
    expect(await waitingIndex()).toEqual({
      valid: true,
      definition: expect.stringMatching(
        /USING btree \(rate_wait_key, created_at, id\) WHERE \(\(status = 'pending'::text\) AND \(rate_wait_until IS NOT NULL\)\)$/,
      ) as unknown,
    });
    const plan = await db.dataSource.query<Array<{ 'QUERY PLAN': string }>>(
      `EXPLAIN (FORMAT TEXT) SELECT max(next_attempt_at) FROM deliveries
        WHERE rate_wait_key = 'r:x' AND status = 'pending' AND rate_wait_until IS NOT NULL AND rate_wait_until > now() AND (created_at, id) < (now(), gen_random_uuid())`,
    );
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('deliveries_waiting_by_counter');
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
