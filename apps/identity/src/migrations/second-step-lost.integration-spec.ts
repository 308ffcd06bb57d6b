import { expectToGiveUpOnBusyTable, lockTimeoutAfter } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { SecondStepLost1735100000000 } from './1735100000000-second-step-lost.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

const migration = new SecondStepLost1735100000000();

describe('migration 1735100000000: sessions say when they lost their second step', () => {
  it('gives up on a busy sessions table (lock_timeout, for the Job to retry) rather than queue every sign-in behind its lock', async () => {
    await expectToGiveUpOnBusyTable(db.dataSource, db.database.url, 'identity.sessions', migration);
  });

  it('goes down, taking the column, and up again', async () => {
    expect(await db.columnsOf('sessions')).toContain('second_step_lost_at');
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await db.columnsOf('sessions')).not.toContain('second_step_lost_at');
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    expect(await db.columnsOf('sessions')).toContain('second_step_lost_at');
  });
});
