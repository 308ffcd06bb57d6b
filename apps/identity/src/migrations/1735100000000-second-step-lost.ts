import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * When a session stopped counting as having passed a second step (`sessions.second_step_lost_at`,
 * null: never): its login's second step was turned off while it was open. Its access tokens issued
 * before still say `mfa` until they expire, so the gateways are told, and read the sessions that
 * lost it within an access token's lifetime in the gate state (a replica that missed the broadcast,
 * or one started later). No default: adding it rewrites no row; the partial index holds only
 * those rows. Every sign-in writes `sessions`: behind a long transaction the migration gives up
 * after MIGRATION_LOCK_TIMEOUT_MS (the Job retries) rather than queue sign-ins behind its lock.
 */
export class SecondStepLost1735100000000 implements MigrationInterface {
  name = 'SecondStepLost1735100000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('ALTER TABLE sessions ADD COLUMN second_step_lost_at timestamptz');
    await runner.query('CREATE INDEX sessions_second_step_lost ON sessions (second_step_lost_at) WHERE second_step_lost_at IS NOT NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query('DROP INDEX sessions_second_step_lost');
    await runner.query('ALTER TABLE sessions DROP COLUMN second_step_lost_at');
  }
}
