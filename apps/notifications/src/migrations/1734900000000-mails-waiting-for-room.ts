import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * Link mails over a rate limit wait for room instead of being suppressed: `rate_wait_until` is set
 * on a `pending` mail not counted yet against its limits, and says until when it may wait (see
 * docs/notifications.md, "Rate limits"). A nullable column without a default: PostgreSQL only
 * changes the catalogue. The ALTER waits for an exclusive lock on `deliveries`, which the
 * processors write all the time, and every query on the table would queue behind it: it gives up
 * after MIGRATION_LOCK_TIMEOUT_MS (5 s unless set) instead, and the Job retries. Going down, the
 * mails still waiting are suppressed, as the release before this one would have.
 */
export class MailsWaitingForRoom1734900000000 implements MigrationInterface {
  name = 'MailsWaitingForRoom1734900000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE deliveries ADD COLUMN rate_wait_until timestamptz');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(
      `UPDATE deliveries SET status = 'suppressed', next_attempt_at = NULL, updated_at = now() WHERE status = 'pending' AND rate_wait_until IS NOT NULL`,
    );
    await runner.query('ALTER TABLE deliveries DROP COLUMN rate_wait_until');
  }
}
