import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * A service account (identity's, of one account) holds roles through bindings as users and
 * subusers do: the principal type widens on `bindings` and `principal_activity`. NOT VALID: every
 * row passed the narrower check, so neither table is scanned under the lock, which the migration
 * waits for at most MIGRATION_LOCK_TIMEOUT_MS (the Job retries).
 */
export class ServiceAccountPrincipals1735300000000 implements MigrationInterface {
  name = 'ServiceAccountPrincipals1735300000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      ALTER TABLE bindings DROP CONSTRAINT bindings_principal_type_check;
      ALTER TABLE bindings ADD CONSTRAINT bindings_principal_type_check CHECK (principal_type IN ('user', 'subuser', 'service-account')) NOT VALID;
      ALTER TABLE principal_activity DROP CONSTRAINT principal_activity_principal_type_check;
      ALTER TABLE principal_activity ADD CONSTRAINT principal_activity_principal_type_check
        CHECK (principal_type IN ('user', 'subuser', 'service-account')) NOT VALID;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    // A service account's bindings cannot outlive the type: they go (identity's migration down drops the service accounts too).
    await runner.query(`
      DELETE FROM bindings WHERE principal_type = 'service-account';
      DELETE FROM principal_activity WHERE principal_type = 'service-account';
      ALTER TABLE bindings DROP CONSTRAINT bindings_principal_type_check;
      ALTER TABLE bindings ADD CONSTRAINT bindings_principal_type_check CHECK (principal_type IN ('user', 'subuser'));
      ALTER TABLE principal_activity DROP CONSTRAINT principal_activity_principal_type_check;
      ALTER TABLE principal_activity ADD CONSTRAINT principal_activity_principal_type_check CHECK (principal_type IN ('user', 'subuser'));
    `);
  }
}
