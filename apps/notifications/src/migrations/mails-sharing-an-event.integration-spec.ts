import { DataSource } from 'typeorm';
import { dataSourceOptions } from '#libs/platform/index.js';
import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { TestDatabase } from '#libs/testing/database.js';
import { notificationsDatabase } from '../notifications.database.js';
import { MailsSharingAnEvent1733300000000 } from './1733300000000-mails-sharing-an-event.js';

const database = new TestDatabase();
const migration = new MailsSharingAnEvent1733300000000();
let dataSource: DataSource;

beforeAll(async () => {
  await database.create();
  dataSource = new DataSource(dataSourceOptions(notificationsDatabase({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: 2 })));
  await dataSource.initialize();
});
afterAll(async () => {
  await dataSource?.destroy();
  await database.drop();
});

describe('migration 1733300000000: mails sharing an event', () => {
  it('gives up on a busy deliveries table (lock_timeout, for the Job to retry) rather than queue every mail behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      // Under the 30 s statement timeout of this connection: waiting for the lock would fail with 57014 instead.
      await expect(migrateWhileTableBusy(dataSource, database.url, 'notifications.deliveries', migration, step)).resolves.toMatchObject({ code: '55P03' });
    }
  });

  it('runs on a quiet table, and its lock timeout ends with its transaction', async () => {
    expect(await lockTimeoutAfter(dataSource, migration, 'down')).toBe('0');
    expect(await lockTimeoutAfter(dataSource, migration, 'up')).toBe('0');
    const columns = await database.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'deliveries' AND column_name = 'source_event_id'`);
    expect(columns).toHaveLength(1);
  });
});
