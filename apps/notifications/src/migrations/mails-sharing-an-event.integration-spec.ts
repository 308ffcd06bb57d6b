import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { MailsSharingAnEvent1733300000000 } from './1733300000000-mails-sharing-an-event.js';

const db = new NotificationsTestDatabase();
const migration = new MailsSharingAnEvent1733300000000();

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1733300000000: mails sharing an event', () => {
  it('gives up on a busy deliveries table (lock_timeout, for the Job to retry) rather than queue every mail behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      // Under the 30 s statement timeout of this connection: waiting for the lock would fail with 57014 instead.
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'notifications.deliveries', migration, step)).resolves.toMatchObject({
        code: '55P03',
      });
    }
  });

  it('runs on a quiet table, and its lock timeout ends with its transaction', async () => {
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    const columns = await db.database.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'deliveries' AND column_name = 'source_event_id'`);
    expect(columns).toHaveLength(1);
  });
});
