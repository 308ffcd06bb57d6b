import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * An account may require two-step sign-in of everyone who works in it (`accounts.second_step_required`);
 * a session remembers whether its sign-in passed a second step (`sessions.second_step_passed`), which
 * its access tokens then say (`amr`). Both default to false: constant defaults, so adding them rewrites
 * no table. Sessions opened before this migration count as password-only. Every sign-in and refresh
 * writes `sessions`: behind a long transaction the migration gives up after MIGRATION_LOCK_TIMEOUT_MS, 5
 * s unless set (the Job retries) rather than queue them all behind its lock.
 */
export class SecondStepPolicy1733900000000 implements MigrationInterface {
  name = 'SecondStepPolicy1733900000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE accounts ADD COLUMN second_step_required boolean NOT NULL DEFAULT false');
    await runner.query('ALTER TABLE sessions ADD COLUMN second_step_passed boolean NOT NULL DEFAULT false');
    // The gate state lists the accounts that require it, in id order, to every gateway.
    await runner.query('CREATE INDEX accounts_second_step_required ON accounts (id) WHERE second_step_required');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('DROP INDEX IF EXISTS accounts_second_step_required');
    await runner.query('ALTER TABLE sessions DROP COLUMN second_step_passed');
    await runner.query('ALTER TABLE accounts DROP COLUMN second_step_required');
  }
}
