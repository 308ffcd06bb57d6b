import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * A second step that blocks after too many wrong codes: each authenticator counts the wrong codes
 * typed at sign-in (`wrong_codes`) since the one that started its window (`wrong_codes_since`, null:
 * none yet) and says since when its second step is blocked (`blocked_at`, null: it is not). Constant
 * defaults: adding them rewrites no row. Every second step locks `totp_factors`: behind a long
 * transaction the migration gives up after MIGRATION_LOCK_TIMEOUT_MS, 5 s unless set (the Job
 * retries) rather than queue sign-ins behind its lock. The previous release never reads the columns:
 * during a rolling upgrade its replicas neither count nor honour a block (docs/deploy.md).
 */
export class SecondStepBlock1735000000000 implements MigrationInterface {
  name = 'SecondStepBlock1735000000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(
      'ALTER TABLE totp_factors ADD COLUMN wrong_codes integer NOT NULL DEFAULT 0, ADD COLUMN wrong_codes_since timestamptz, ADD COLUMN blocked_at timestamptz',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE totp_factors DROP COLUMN blocked_at, DROP COLUMN wrong_codes_since, DROP COLUMN wrong_codes');
  }
}
