import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * An audit event's target may be a custom role or an application (access's changes, recorded from
 * its events), not only a principal. The ALTERs wait for an exclusive lock on `audit_events`, which
 * every sign-in writes, and every such write would queue behind them: they give up after
 * MIGRATION_LOCK_TIMEOUT_MS (5 s unless set) instead, and the Job retries.
 */
export class AuditAccessTargets1733400000000 implements MigrationInterface {
  name = 'AuditAccessTargets1733400000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    // NOT VALID: every row there passed the narrower check, so the table is not scanned under this lock.
    await runner.query(`
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_target_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_target_type_check
        CHECK (target_type IN ('user', 'subuser', 'role', 'application')) NOT VALID;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    // The rows about roles and applications stay, their target kept in details (roleId, applicationId).
    await runner.query(`
      UPDATE audit_events SET details = details || jsonb_build_object(target_type || 'Id', target_id), target_type = NULL, target_id = NULL
        WHERE target_type IN ('role', 'application');
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_target_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_target_type_check CHECK (target_type IN ('user', 'subuser'));
    `);
  }
}
