import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * `wait_ended_at`: when a mail that waited for room under a rate limit got it (was counted), so
 * that the overdue gauge measures such a mail from the end of its wait, not from when it was asked
 * for (a temporary failure right after a wait of an hour read as an hour overdue at once). Null
 * for every mail that never waited. A nullable column without a default: PostgreSQL only changes
 * the catalogue; the ALTER waits at most MIGRATION_LOCK_TIMEOUT_MS for its lock on `deliveries`
 * (the Job retries). Replicas of the previous release leave it null: their mails count from when
 * they were asked for, as before.
 */
export class MailsDueAfterTheirWait1735300000000 implements MigrationInterface {
  name = 'MailsDueAfterTheirWait1735300000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE deliveries ADD COLUMN wait_ended_at timestamptz');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE deliveries DROP COLUMN wait_ended_at');
  }
}
