import { randomUUID } from 'node:crypto';
import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { NotificationsTestDatabase } from '../database-harness-spec.js';
import { MailsWaitingForRoom1734900000000 } from './1734900000000-mails-waiting-for-room.js';

const db = new NotificationsTestDatabase();
const migration = new MailsWaitingForRoom1734900000000();

beforeAll(() => db.start());
afterAll(() => db.stop());

describe('migration 1734900000000: mails waiting for room', () => {
  it('gives up on a busy deliveries table (lock_timeout, for the Job to retry) rather than queue every mail behind its lock', async () => {
    for (const step of ['down', 'up'] as const) {
      await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'notifications.deliveries', migration, step)).resolves.toMatchObject({
        code: '55P03',
      });
    }
  });

  it('adds the column; going down, suppresses the mails still waiting (the release before knows no waiting)', async () => {
    const [waiting, retrying] = [randomUUID(), randomUUID()];
    await db.dataSource.query(
      `INSERT INTO deliveries (id, event_id, event_type, recipient, template, locale, status, attempts, next_attempt_at, rate_wait_until)
       VALUES ($1, $1, 'identity.user.invited', 'a@example.test', 'activation', 'en', 'pending', 0, now() + interval '1 hour', now() + interval '2 hours'),
              ($2, $2, 'identity.user.invited', 'a@example.test', 'activation', 'en', 'pending', 1, now() + interval '1 minute', NULL)`,
      [waiting, retrying],
    );
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    const rows = await db.dataSource.query<Array<{ id: string; status: string }>>('SELECT id, status FROM deliveries WHERE id = ANY($1::uuid[])', [
      [waiting, retrying],
    ]);
    expect(Object.fromEntries(rows.map((row) => [row.id, row.status]))).toEqual({ [waiting]: 'suppressed', [retrying]: 'pending' });
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    const columns = await db.database.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'deliveries' AND column_name = 'rate_wait_until'`);
    expect(columns).toHaveLength(1);
  });
});
