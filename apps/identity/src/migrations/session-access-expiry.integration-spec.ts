import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { SessionAccessExpiry1734300000000 } from './1734300000000-session-access-expiry.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

const migration = new SessionAccessExpiry1734300000000();

describe('migration 1734300000000: a session keeps when its last access token expires', () => {
  it('goes down and up again: sessions already there keep none, and the lock timeout is not left behind', async () => {
    expect(await db.columnsOf('sessions')).toContain('access_expires_at');
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await db.columnsOf('sessions')).not.toContain('access_expires_at');
    const { userId } = await db.account();
    await db.dataSource.query(
      `INSERT INTO sessions (id, principal_type, principal_id, refresh_hash, ip, last_used_at, expires_at) VALUES (gen_random_uuid(), 'user', $1, 'h', '10.0.0.1', now(), now() + interval '1 day')`,
      [userId],
    );
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    expect(await db.dataSource.query('SELECT access_expires_at FROM sessions WHERE principal_id = $1', [userId])).toEqual([{ access_expires_at: null }]);
  });

  it('gives up on a busy sessions table (lock_timeout, for the Job to retry) rather than queue every sign-in behind its lock', async () => {
    await lockTimeoutAfter(db.dataSource, migration, 'down');
    await expect(migrateWhileTableBusy(db.dataSource, db.database.url, 'identity.sessions', migration, 'up')).resolves.toMatchObject({ code: '55P03' });
    await lockTimeoutAfter(db.dataSource, migration, 'up');
    expect(await db.columnsOf('sessions')).toContain('access_expires_at');
  });
});
