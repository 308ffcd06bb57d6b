import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ALTERs wait for an exclusive lock on `audit_events`, which every sign-in writes, and every
 * such write would queue behind them: they give up after 5 s instead (the Job retries). SET LOCAL:
 * the migration tool runs each migration in its own transaction, which ends the setting.
 */
const LOCK_TIMEOUT = `SET LOCAL lock_timeout = '5s'`;

/** An audit event's target may be a custom role or an application (access's changes, recorded from its events), not only a principal. */
export class AuditAccessTargets1733400000000 implements MigrationInterface {
  name = 'AuditAccessTargets1733400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(LOCK_TIMEOUT);
    // NOT VALID: every row there passed the narrower check, so the table is not scanned under this lock.
    await runner.query(`
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_target_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_target_type_check
        CHECK (target_type IN ('user', 'subuser', 'role', 'application')) NOT VALID;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(LOCK_TIMEOUT);
    // The rows about roles and applications stay, their target kept in details (roleId, applicationId).
    await runner.query(`
      UPDATE audit_events SET details = details || jsonb_build_object(target_type || 'Id', target_id), target_type = NULL, target_id = NULL
        WHERE target_type IN ('role', 'application');
      ALTER TABLE audit_events DROP CONSTRAINT audit_events_target_type_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_target_type_check CHECK (target_type IN ('user', 'subuser'));
    `);
  }
}
