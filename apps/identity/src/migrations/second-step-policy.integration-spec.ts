import { lockTimeoutAfter, migrateWhileTableBusy } from '#libs/testing/busy-table.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';
import { SecondStepPolicy1733900000000 } from './1733900000000-second-step-policy.js';

const db = new IdentityTestDatabase();

beforeAll(() => db.start());
afterAll(() => db.stop());

const migration = new SecondStepPolicy1733900000000();

async function requirementOf(accountId: string): Promise<boolean> {
  const [{ required }] = await db.dataSource.query<Array<{ required: boolean }>>('SELECT second_step_required AS required FROM accounts WHERE id = $1', [
    accountId,
  ]);
  return required;
}

describe('migration 1733900000000: an account may require two-step sign-in', () => {
  it('gives up on a busy sessions table (lock_timeout, for the Job to retry) rather than queue every sign-in behind its lock', async () => {
    const busy = (step: 'up' | 'down') => migrateWhileTableBusy(db.dataSource, db.database.url, 'identity.sessions', migration, step);
    await expect(busy('down')).resolves.toMatchObject({ code: '55P03' });
    await lockTimeoutAfter(db.dataSource, migration, 'down');
    await expect(busy('up')).resolves.toMatchObject({ code: '55P03' });
    await lockTimeoutAfter(db.dataSource, migration, 'up');
  });

  it('goes down, taking both columns and the index, and up again: accounts already there require nothing', async () => {
    expect(await db.columnsOf('sessions')).toContain('second_step_passed');
    expect(await db.hasIndex('accounts_second_step_required')).toBe(true);
    expect(await lockTimeoutAfter(db.dataSource, migration, 'down')).toBe('0');
    expect(await db.columnsOf('accounts')).not.toContain('second_step_required');
    expect(await db.columnsOf('sessions')).not.toContain('second_step_passed');
    expect(await db.hasIndex('accounts_second_step_required')).toBe(false);
    const { accountId } = await db.account();
    expect(await lockTimeoutAfter(db.dataSource, migration, 'up')).toBe('0');
    expect(await requirementOf(accountId)).toBe(false);
    expect(await db.columnsOf('sessions')).toContain('second_step_passed');
  });
});
