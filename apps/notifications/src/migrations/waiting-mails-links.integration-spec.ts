import { migrateOutsideTransaction } from '#libs/testing/migration-runner.js';
import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { WaitingMailsLinks1735600000000 } from './1735600000000-waiting-mails-links.js';
import { WaitingMailsByLink1735700000000 } from './1735700000000-waiting-mails-by-link.js';

const db = new NotificationsTestDatabase();
const column = new WaitingMailsLinks1735600000000();
const index = new WaitingMailsByLink1735700000000();
const waitingIndex = () => db.index('deliveries_waiting_by_link');

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migrations 1735600000000 and 1735700000000: the links of waiting mails', () => {
  it('gives up on a busy deliveries table (lock_timeout, for the Job to retry) rather than queue every mail behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'notifications.deliveries', column, step)).resolves.toMatchObject({
        code: '55P03',
      });
    }
  });

  it('finds the mails waiting that carry a link through a partial index of the mails waiting alone', async () => {
    expect(await waitingIndex()).toEqual({
      valid: true,
      definition: expect.stringMatching(
        /USING btree \(link_token_hash\) WHERE \(\(status = 'pending'::text\) AND \(rate_wait_until IS NOT NULL\)\)$/,
      ) as unknown,
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
