import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { MailsDueAfterTheirWait1735300000000 } from './1735300000000-mails-due-after-their-wait.js';

const db = new NotificationsTestDatabase();
const migration = new MailsDueAfterTheirWait1735300000000();
const column = () => db.database.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'deliveries' AND column_name = 'wait_ended_at'`);

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1735300000000: mails due after their wait', () => {
  it('gives up on a busy deliveries table (lock_timeout, for the Job to retry) rather than queue every mail behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'notifications.deliveries', migration, step)).resolves.toMatchObject({
        code: '55P03',
      });
    }
  });

  it('drops the column going down and adds it again going up', async () => {
    expect(await column()).toHaveLength(1);
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await column()).toHaveLength(0);
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    expect(await column()).toHaveLength(1);
  });
});
