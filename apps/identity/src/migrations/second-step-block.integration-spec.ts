import { randomUUID } from 'node:crypto';
import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { SecondStepBlock1735000000000 } from './1735000000000-second-step-block.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

const migration = new SecondStepBlock1735000000000();

describe('migration 1735000000000: a second step blocks after too many wrong codes', () => {
  it('gives up on a busy totp_factors table (lock_timeout, for the Job to retry) rather than queue every second step behind its lock', async () => {
    const busy = (step: 'up' | 'down') => migrateWhileTableBusy(db.dataSource, db.database.url, 'identity.totp_factors', migration, step);
    await expect(busy('down')).resolves.toMatchObject({ code: '55P03' });
    await lockTimeoutAfter(db.dataSource, migration, 'down');
    await expect(busy('up')).resolves.toMatchObject({ code: '55P03' });
    await lockTimeoutAfter(db.dataSource, migration, 'up');
  });

  it('goes down, taking both columns, and up again: an authenticator already there has no wrong code counted and is not blocked', async () => {
    expect(await db.columnsOf('totp_factors')).toEqual(expect.arrayContaining(['wrong_codes', 'wrong_codes_since', 'blocked_at']));
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await db.columnsOf('totp_factors')).not.toContain('wrong_codes');
    expect(await db.columnsOf('totp_factors')).not.toContain('blocked_at');
    const { userId } = await db.account();
    const factorId = randomUUID();
    await db.dataSource.query(`INSERT INTO totp_factors (id, user_id, secret, confirmed_at) VALUES ($1, $2, '\\x00', now())`, [factorId, userId]);
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    const [factor] = await db.dataSource.query<Array<{ wrong_codes: number; blocked_at: Date | null }>>(
      'SELECT wrong_codes, blocked_at FROM totp_factors WHERE id = $1',
      [factorId],
    );
    expect(factor).toEqual({ wrong_codes: 0, blocked_at: null });
  });
});
