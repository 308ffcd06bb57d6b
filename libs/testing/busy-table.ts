import pg from 'pg';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { setMigrationLockTimeout } from '#libs/platform/migration-locks.js';

/** The migration lock timeout while a table is busy in these tests: the migration must give up, and need not take the 5 s it would by default. */
const BUSY_LOCK_TIMEOUT_MS = 300;

/**
 * Runs `step` of `migration` in a transaction of its own, as the migration tool does
 * (`transaction: 'each'`; outside any when the migration says `transaction = false`), while another connection's open transaction has read `table` (as a
 * busy service's would), with MIGRATION_LOCK_TIMEOUT_MS at {@link BUSY_LOCK_TIMEOUT_MS}: the error
 * it gives up with, or null if it went through.
 */
export async function migrateWhileTableBusy(
  dataSource: DataSource,
  databaseUrl: string,
  table: string,
  migration: MigrationInterface,
  step: 'up' | 'down' = 'up',
): Promise<unknown> {
  const busy = new pg.Client({ connectionString: databaseUrl });
  await busy.connect();
  const runner = dataSource.createQueryRunner();
  const inTransaction = (migration as { transaction?: boolean }).transaction !== false;
  try {
    await busy.query('BEGIN');
    await busy.query(`SELECT 1 FROM ${table} LIMIT 1`);
    if (inTransaction) await runner.startTransaction();
    const previous = setMigrationLockTimeout(BUSY_LOCK_TIMEOUT_MS);
    const failure = await migration[step](runner)
      .then(
        () => null,
        (error: unknown) => error,
      )
      .finally(() => setMigrationLockTimeout(previous));
    if (inTransaction) await runner.rollbackTransaction();
    return failure;
  } finally {
    await busy.query('ROLLBACK').catch(() => undefined);
    await busy.end();
    await runner.release();
  }
}

/** The lock timeout a connection of `dataSource` has after `step` of `migration` ran and committed in a transaction of its own. */
export async function lockTimeoutAfter(dataSource: DataSource, migration: MigrationInterface, step: 'up' | 'down'): Promise<string> {
  const runner: QueryRunner = dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    await migration[step](runner);
    await runner.commitTransaction();
    const [row] = (await runner.query('SHOW lock_timeout')) as Array<{ lock_timeout: string }>;
    return row.lock_timeout;
  } finally {
    await runner.release();
  }
}

/**
 * Expects `migration` to give up, down and then up, while `table` is busy (lock_timeout: the Job
 * retries rather than queue the service's work behind its lock), and to go through each step once
 * it is free: the database is left as it was.
 */
export async function expectToGiveUpOnBusyTable(dataSource: DataSource, databaseUrl: string, table: string, migration: MigrationInterface): Promise<void> {
  for (const step of ['down', 'up'] as const) {
    expect(await migrateWhileTableBusy(dataSource, databaseUrl, table, migration, step)).toMatchObject({ code: '55P03' });
    await lockTimeoutAfter(dataSource, migration, step);
  }
}
