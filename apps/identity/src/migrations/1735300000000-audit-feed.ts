import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * The audit feed (`identity.audit.feed`): each audit row records the transaction that wrote it
 * (`written_in`, an xid8), so a reader can take rows in an order that a later commit never slips
 * behind (only rows of transactions older than every one still running: docs/identity.md,
 * "Following the trail"). The column is added and its default set in one ALTER TABLE: no rewrite
 * (rows already there keep NULL: the feed gives them first, by time), and every row inserted after
 * it, by any transaction, has one, as the ALTER waits for the transactions writing to the table.
 * Two partial indexes, built CONCURRENTLY under new names then swapped in (as the user table's
 * were): the feed's order, and the rows written before it by time. The ALTERs run in a transaction
 * of their own that waits for its lock at most MIGRATION_LOCK_TIMEOUT_MS (every sign-in writes
 * `audit_events` and would queue behind it): past it the Job retries.
 */
export class AuditFeed1735300000000 implements MigrationInterface {
  name = 'AuditFeed1735300000000';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    await alterWithLimitedLockWait(
      runner,
      `ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS written_in xid8, ALTER COLUMN written_in SET DEFAULT pg_current_xact_id()`,
    );
    await this.buildIndex(runner, 'audit_events_feed', '(account_id, written_in, id) WHERE written_in IS NOT NULL');
    await this.buildIndex(runner, 'audit_events_before_feed', '(account_id, occurred_at, id) WHERE written_in IS NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS audit_events_before_feed');
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS audit_events_feed');
    await alterWithLimitedLockWait(runner, 'ALTER TABLE audit_events DROP COLUMN IF EXISTS written_in');
  }

  private async buildIndex(runner: QueryRunner, name: string, definition: string): Promise<void> {
    await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}_next`);
    await runner.query(`CREATE INDEX CONCURRENTLY ${name}_next ON audit_events ${definition}`);
    await runner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
    await runner.query(`ALTER INDEX ${name}_next RENAME TO ${name}`);
  }
}

/** Runs `alter` in a transaction of its own whose lock wait is limited ({@link limitLockWait}: SET LOCAL, ended with it). */
async function alterWithLimitedLockWait(runner: QueryRunner, alter: string): Promise<void> {
  await runner.startTransaction();
  try {
    await limitLockWait(runner);
    await runner.query(alter);
    await runner.commitTransaction();
  } catch (error) {
    await runner.rollbackTransaction();
    throw error;
  }
}
