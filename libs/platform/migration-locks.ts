import type { QueryRunner } from 'typeorm';

/** How long a migration waits for a lock on a table in use unless MIGRATION_LOCK_TIMEOUT_MS says otherwise. */
export const DEFAULT_MIGRATION_LOCK_TIMEOUT_MS = 5000;

let lockTimeoutMs = DEFAULT_MIGRATION_LOCK_TIMEOUT_MS;

/**
 * Sets how long the migrations run from now on in this process wait for a lock on a table in use
 * (the migration tool sets MIGRATION_LOCK_TIMEOUT_MS before it runs them). Answers the previous value.
 */
export function setMigrationLockTimeout(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1) throw new RangeError(`A migration lock timeout is a whole number of milliseconds above 0, not ${ms}`);
  const previous = lockTimeoutMs;
  lockTimeoutMs = ms;
  return previous;
}

/**
 * For the rest of the migration's transaction (`SET LOCAL`: the migration tool runs each migration
 * in a transaction of its own, whose end ends the setting), a lock the migration needs on a table
 * in use is waited for at most the migration lock timeout. Past it the statement fails
 * (`lock_not_available`, 55P03), the transaction rolls back and the Job retries, rather than every
 * write of the running release queueing behind the migration's lock while a long transaction holds the table.
 */
export async function limitLockWait(runner: QueryRunner): Promise<void> {
  await runner.query(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
}
