import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * `rate_wait_key`: the counter a mail waiting for room waits on (the rate-limit key that refused
 * it), so that waiting mails take room in the order they came (docs/notifications.md, "Rate
 * limits"). Null for every mail not waiting. A nullable column without a default: PostgreSQL only
 * changes the catalogue; the ALTER waits at most MIGRATION_LOCK_TIMEOUT_MS for its lock on
 * `deliveries` (the Job retries). The index by which they are found is the next migration's, built
 * CONCURRENTLY. Mails waiting when this runs have none: they go unordered, as before.
 */
export class MailsWaitingInOrder1735400000000 implements MigrationInterface {
  name = 'MailsWaitingInOrder1735400000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE deliveries ADD COLUMN rate_wait_key text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE deliveries DROP COLUMN rate_wait_key');
  }
}
