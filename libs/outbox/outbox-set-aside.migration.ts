import type { QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * The SQL of the migration giving a service's outbox what the relay counts against a row
 * (`attempts`, `last_error`) and the mark of rows set aside (`set_aside_at`): identity's
 * `OutboxSetAside1734900000000` and access's `OutboxSetAside1734800000000` run it on their own
 * schema. Applied migrations depend on it: a later change of the table is a new migration, not an
 * edit here. Columns with a constant default or none: adding them rewrites no table, and rows
 * already there start with no attempt; the index of the rows not set aside is built at once (the
 * outbox holds only events not yet published, a few rows). Every change that writes an event
 * writes `outbox`: behind a long transaction it gives up after MIGRATION_LOCK_TIMEOUT_MS, 5 s
 * unless set (the Job retries), rather than queue them all behind its lock.
 */
export const outboxSetAsideMigration = {
  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0, ADD COLUMN last_error text, ADD COLUMN set_aside_at timestamptz');
    // The relay's pass reads the rows not set aside, oldest first: rows set aside (the oldest) are not walked through at each pass.
    await runner.query('CREATE INDEX outbox_unpublished_by_age ON outbox (created_at, id) WHERE set_aside_at IS NULL');
  },

  /** Drops the columns, and with them the mark of rows set aside (a previous release publishes them again, and stalls on them as it did). */
  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('DROP INDEX outbox_unpublished_by_age');
    await runner.query('ALTER TABLE outbox DROP COLUMN attempts, DROP COLUMN last_error, DROP COLUMN set_aside_at');
  },
};
