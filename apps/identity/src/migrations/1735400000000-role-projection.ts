import type { MigrationInterface, QueryRunner } from 'typeorm';
import { limitLockWait } from '#libs/platform/migration-locks.js';

/**
 * Identity's projection of who holds which role in which account (access's bindings, applications
 * aside), for the user table's and the subusers' `role` filter: `role_holdings`, one row a role
 * held, found by role (`role_holdings_by_role`) or by principal (its key); `role_holding_versions`,
 * the access version of the last change applied to each principal (an older event arriving later
 * changes nothing); `role_projection_backfill`, whether the roles bound before this release were
 * copied from access yet (RoleProjectionBackfill). Rows go with their account (cascade); a
 * principal's stay while access keeps them (the lists show only the principals in the account).
 * New tables: their indexes build at once. Their keys to `accounts` keep its writers out for a
 * moment (never its readers): behind a long write the migration gives up after
 * MIGRATION_LOCK_TIMEOUT_MS (the Job retries).
 */
export class RoleProjection1735400000000 implements MigrationInterface {
  name = 'RoleProjection1735400000000';

  async up(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      CREATE TABLE role_holdings (
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        principal_type text NOT NULL CHECK (principal_type IN ('user', 'subuser', 'service-account')),
        principal_id uuid NOT NULL,
        role_id text NOT NULL,
        PRIMARY KEY (account_id, principal_type, principal_id, role_id)
      );
      CREATE INDEX role_holdings_by_role ON role_holdings (account_id, principal_type, role_id, principal_id);
      CREATE TABLE role_holding_versions (
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        principal_type text NOT NULL CHECK (principal_type IN ('user', 'subuser', 'service-account')),
        principal_id uuid NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (account_id, principal_type, principal_id)
      );
      CREATE TABLE role_projection_backfill (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        filled_at timestamptz,
        lease_until timestamptz
      );
      INSERT INTO role_projection_backfill DEFAULT VALUES;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await limitLockWait(runner);
    await runner.query(`
      DROP TABLE role_projection_backfill;
      DROP TABLE role_holding_versions;
      DROP TABLE role_holdings;
    `);
  }
}
