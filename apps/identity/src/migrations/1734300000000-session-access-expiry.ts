import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * A session keeps when the last access token issued for it expires (`sessions.access_expires_at`),
 * so that a session ended after ACCESS_TOKEN_TTL_SECONDS was shortened is refused until the tokens
 * issued with the longer lifetime expire, not only for today's lifetime. Nullable without a
 * default: adding it rewrites no table, and sessions whose tokens were issued before it (or by a
 * replica of the release before) are refused for today's lifetime, as before. Every sign-in and
 * refresh writes `sessions`: behind a long transaction the migration gives up after
 * MIGRATION_LOCK_TIMEOUT_MS, 5 s unless set (the Job retries) rather than queue them all behind
 * its lock.
 */
export class SessionAccessExpiry1734300000000 implements MigrationInterface {
  name = 'SessionAccessExpiry1734300000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE sessions ADD COLUMN access_expires_at timestamptz');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE sessions DROP COLUMN access_expires_at');
  }
}
