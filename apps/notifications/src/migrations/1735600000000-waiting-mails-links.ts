import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * `link_token_hash`: the name of the link a mail waiting for room carries (`linkTokenHash`), so that
 * the voiding of that link cancels the mail at once rather than when its event comes back
 * (docs/notifications.md, "Rate limits"). Null for every mail not waiting. A nullable column
 * without a default: PostgreSQL only changes the catalogue; the ALTER waits at most
 * MIGRATION_LOCK_TIMEOUT_MS for its lock on `deliveries` (the Job retries). Its index is the next
 * migration's, built CONCURRENTLY. Mails waiting when this runs have none: they are cancelled when
 * their event comes back, as before.
 */
export class WaitingMailsLinks1735600000000 implements MigrationInterface {
  name = 'WaitingMailsLinks1735600000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE deliveries ADD COLUMN link_token_hash text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE deliveries DROP COLUMN link_token_hash');
  }
}
