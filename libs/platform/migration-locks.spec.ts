import type { QueryRunner } from 'typeorm';
import { DEFAULT_MIGRATION_LOCK_TIMEOUT_MS, limitLockWait, setMigrationLockTimeout } from './migration-locks.js';

/** The statements a migration sent through a runner that only records them. */
async function statementsOf(migrationStep: (runner: QueryRunner) => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  await migrationStep({ query: (sql: string) => Promise.resolve(void sent.push(sql)) } as unknown as QueryRunner);
  return sent;
}

describe('the lock timeout of migrations', () => {
  afterEach(() => setMigrationLockTimeout(DEFAULT_MIGRATION_LOCK_TIMEOUT_MS));

  it('is 5 s unless set, for the rest of the migration transaction only (SET LOCAL)', async () => {
    expect(await statementsOf(limitLockWait)).toEqual(['SET LOCAL lock_timeout = 5000']);
  });

  it('is what was set last, in milliseconds, and setting it answers the value before', async () => {
    expect(setMigrationLockTimeout(250)).toBe(DEFAULT_MIGRATION_LOCK_TIMEOUT_MS);
    expect(await statementsOf(limitLockWait)).toEqual(['SET LOCAL lock_timeout = 250']);
    expect(setMigrationLockTimeout(60_000)).toBe(250);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses %s (not a whole number of milliseconds above 0) and keeps the value it had',
    async (value) => {
      expect(() => setMigrationLockTimeout(value)).toThrow(RangeError);
      expect(await statementsOf(limitLockWait)).toEqual(['SET LOCAL lock_timeout = 5000']);
    },
  );
});
