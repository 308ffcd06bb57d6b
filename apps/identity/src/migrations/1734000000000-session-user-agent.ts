import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * A session keeps the User-Agent of the client that opened it, then of its last refresh that sent one
 * (`sessions.user_agent`), so that a person can tell their sessions apart. Nullable without a
 * default: adding it rewrites no table, and sessions opened before it have none. Every sign-in and
 * refresh writes `sessions`: behind a long transaction the migration gives up after
 * MIGRATION_LOCK_TIMEOUT_MS, 5 s unless set (the Job retries) rather than queue them all behind its
 * lock.
 */
export class SessionUserAgent1734000000000 implements MigrationInterface {
  name = 'SessionUserAgent1734000000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE sessions ADD COLUMN user_agent text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE sessions DROP COLUMN user_agent');
  }
}
